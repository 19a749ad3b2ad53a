"""Scaling laws and training data."""
