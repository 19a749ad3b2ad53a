"""Uncertainty: the bands of uncertain inputs, their sampling, propagation and sensitivity.

Every uncertain input is an :class:`~stargate.uncertainty.bands.Uncertain`: a point value and its
P10–P90 band, from the catalog (a sourced low/high, or the band of the number's confidence class), from
a model's cross-validated prediction interval, or from a range the user typed (``--budget 90e9..110e9``).
A :class:`~stargate.uncertainty.propagate.Model` maps arrays of input values to arrays of headline
figures through the same vectorized chain as the point answer; :func:`~stargate.uncertainty.propagate.propagate`
draws a seeded Latin hypercube and reports P10 / P50 / P90; :mod:`~stargate.uncertainty.sensitivity`
ranks the inputs by one-at-a-time swings (tornado) and Sobol indices.
"""

from stargate.uncertainty.bands import CLASSES, Uncertain
from stargate.uncertainty.propagate import Model, Ranges, propagate

__all__ = ["CLASSES", "Model", "Ranges", "Uncertain", "propagate"]
