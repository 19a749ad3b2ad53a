"""Stargate: a planner and simulator for AI supercomputers.

The core (catalog, cluster, economics, ...) is pure: typed, frozen inputs in, typed results
with named, additive breakdowns out, no I/O. The shells (CLI, reports) are thin.
"""

__version__ = "0.1.0"
