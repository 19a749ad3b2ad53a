"""Non-dominated designs: the Pareto front of a sweep over chosen objectives.

A design dominates another when it is no worse on every objective and better on at least one.
After sorting the candidates lexicographically by the objectives, any design that dominates
another comes before it, so one pass that keeps each design not dominated by the front so far
finds the front exactly (Kung, Luccio & Preparata 1975, in its simplest form).
"""

from __future__ import annotations

import numpy as np

__all__ = ["pareto_mask"]


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n x k), every objective minimised.

    Exact duplicates keep their first occurrence only.

    Examples
    --------
    >>> pareto_mask(np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0]])).tolist()
    [True, True, False, True]
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    order = np.lexsort(values.T[::-1])
    front = np.empty((0, values.shape[1]))
    for i in order:
        v = values[i]
        if len(front) and np.any(np.all(front <= v, axis=1)):
            continue  # dominated by, or equal to, a design already on the front
        front = np.vstack([front, v])
        keep[i] = True
    return keep
