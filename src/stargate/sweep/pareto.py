"""Non-dominated designs: the Pareto front of a sweep over chosen objectives.

A design dominates another when it is no worse on every objective and better on at least one.
After sorting the candidates lexicographically by the objectives, any design that dominates
another comes before it, so one pass that keeps each design not dominated by the front so far
finds the front exactly (Kung, Luccio & Preparata 1975, in its simplest form).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["pareto_front", "pareto_mask"]


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


def pareto_front(results: Path, objectives: list[str]) -> list[dict[str, Any]]:
    """The non-dominated rows of a sweep's results (feasible and meeting its constraints), sorted by
    the first objective; an objective prefixed with ``-`` is maximised."""
    from stargate.errors import InputError
    from stargate.sweep.store import connect

    con = connect(results)
    cols = [c[0] for c in con.execute("DESCRIBE results").fetchall()]
    for o in objectives:
        if o.lstrip("-") not in cols:
            raise InputError("objectives", o, f"columns of the results ({', '.join(c for c in cols if c != 'reason')})")
    cur = con.execute("SELECT * FROM results WHERE meets_constraints")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    values = np.array([[(-1 if o.startswith("-") else 1) * float(r[o.lstrip("-")]) for o in objectives] for r in rows])
    front = [r for r, k in zip(rows, pareto_mask(values.reshape(len(rows), len(objectives))), strict=True) if k]
    return sorted(front, key=lambda r: float(r[objectives[0].lstrip("-")]))
