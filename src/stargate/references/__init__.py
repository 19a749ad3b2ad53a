"""Reference clusters: published figures about real clusters, reproduced and compared."""
