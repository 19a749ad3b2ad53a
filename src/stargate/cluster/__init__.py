"""Cluster design: systems, racks, cooling and power for a number of accelerators."""
