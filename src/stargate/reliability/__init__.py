"""Reliability: failures, checkpoints, goodput."""
