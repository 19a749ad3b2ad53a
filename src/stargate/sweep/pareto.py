"""Non-dominated designs: the Pareto front of a sweep over chosen objectives.

A design dominates another when it is no worse on every objective and better on at least one.
After sorting the candidates lexicographically by the objectives, any design that dominates
another comes before it, so a design is on the front exactly when no design *before it* is no
worse on every objective (exact duplicates keep their first occurrence only). That test is done
for all designs at once, with numpy:

- one objective: the first minimum;
- two: a running minimum of the second objective along the sort;
- three: for each design, the smallest third objective among earlier designs whose second is
  no larger — an offline 2-D dominance query, answered by divide and conquer over the sorted
  order (log2 n levels, each one vectorized sort and segmented running minimum): O(n log² n);
- four or more: blocks of designs compared with the front found so far, O(n x front).

Above 4,096 designs and with three objectives or more, designs that one of 32 well-placed designs
already beats are dropped first (safe: whatever beats a dropped design, its pivot beats too).
On 30,000 designs that are all on the front, three objectives take about 70 ms and four about
1.2 s; the row-at-a-time loop this replaced took 10 s (``benchmarks/bench_sweep_pareto.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stargate.errors import InputError

__all__ = ["MAX_OBJECTIVES", "pareto_front", "pareto_mask", "parse_objectives"]

MAX_OBJECTIVES = 16
"""Most objectives a front may have."""
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _dense_rank(x: np.ndarray) -> np.ndarray:
    """Ranks 0..k-1 of ``x``, equal values sharing one."""
    return np.unique(x, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _dominated_3(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """For points in sorted order with integer ranks ``r1``, ``r2``: whether an earlier point has
    both ranks no larger. Divide and conquer, bottom-up: at each level every right half-block
    asks its left half-block."""
    n = len(r1)
    out = np.zeros(n, dtype=bool)
    pos = np.arange(n, dtype=np.int64)
    big = np.int64(n + 1)  # above every rank: "no earlier point"
    s = 1
    while s < n:
        group, side = pos // (2 * s), (pos // s) % 2
        # Within each group: by r1, and on equal r1 the left point first (r1[j] <= r1[i] counts).
        order = np.argsort(group * (2 * big + 2) + r1 * 2 + side, kind="stable")
        vals = np.where(side[order] == 0, r2[order], big)
        # Segmented running minimum: later groups are shifted below every earlier one.
        shift = (group[-1] - group[order]) * (big + 1)
        best = np.minimum.accumulate(vals + shift) - shift
        right = side[order] == 1
        out[order[right]] |= best[right] <= r2[order[right]]
        s *= 2
    return out


def _no_larger(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[j, i]``: row ``a[j]`` is no larger than row ``b[i]`` on every objective but the first
    (rows come sorted by the first, so it holds there for every earlier row)."""
    m = a[:, None, 1] <= b[None, :, 1]
    for c in range(2, a.shape[1]):
        m &= a[:, None, c] <= b[None, :, c]
    return m


def _dominated_blocks(v: np.ndarray, block: int = 256) -> np.ndarray:
    """For rows of ``v`` in lexicographic order: whether an earlier row is no larger everywhere."""
    n = len(v)
    out = np.zeros(n, dtype=bool)
    front = np.empty((0, v.shape[1]))
    for start in range(0, n, block):
        b = v[start:start + block]
        dom = _no_larger(front, b).any(axis=0) if len(front) else np.zeros(len(b), dtype=bool)
        # Earlier rows of the block count too; a dominated one is harmless (its dominator is no larger).
        dom |= (_no_larger(b, b) & np.tri(len(b), k=-1, dtype=bool).T).any(axis=0)
        out[start:start + len(b)] = dom
        front = np.vstack([front, b[~dom]])
    return out


def _prefilter(v: np.ndarray, pivots: int = 32) -> np.ndarray:
    """For rows of ``v`` in lexicographic order: the rows to keep after removing those that one of
    ``pivots`` well-placed earlier rows (smallest scaled sum) is no larger than everywhere.

    Removing them first is safe (whatever dominates a removed row, its pivot dominates too), and it
    leaves the exact pass little to do when the front is small."""
    span = np.ptp(v, axis=0)
    score = ((v - v.min(axis=0)) / np.where(span > 0, span, 1.0)).sum(axis=1)
    alive = np.arange(len(v))
    for p in np.argpartition(score, pivots)[:pivots]:
        alive = alive[~(np.all(v[p] <= v[alive], axis=1) & (alive > p))]
    return alive


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n x k), every objective minimised.

    Exact duplicates keep their first occurrence only.

    Examples
    --------
    >>> pareto_mask(np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0]])).tolist()
    [True, True, False, True]
    """
    values = np.asarray(values, dtype=float)
    n, k = values.shape if values.ndim == 2 else (len(values), 1)
    values = values.reshape(n, k)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    order = np.lexsort(values.T[::-1])
    if k >= 3 and n > 4096:
        order = order[_prefilter(values[order])]
        n = len(order)
    v = values[order]
    if k == 1:
        dominated = np.arange(n) > 0
    elif k == 2:
        dominated = np.zeros(n, dtype=bool)
        dominated[1:] = np.minimum.accumulate(v[:-1, 1]) <= v[1:, 1]
    elif k == 3:
        dominated = _dominated_3(_dense_rank(v[:, 1]), _dense_rank(v[:, 2]))
    else:
        dominated = _dominated_blocks(v)
    keep[order[~dominated]] = True
    return keep


def parse_objectives(text: str) -> list[str]:
    """Objective names from ``a,b,-c`` text: none empty, none repeated, at most :data:`MAX_OBJECTIVES`."""
    allowed = "comma-separated result columns, '-' in front to maximise, e.g. capex_usd,time_to_train_s,-mfu"
    names = [o.strip() for o in text.split(",")]
    if not text.strip() or any(not o or o == "-" for o in names) or len(names) > MAX_OBJECTIVES:
        raise InputError("objectives", text, f"at most {MAX_OBJECTIVES} {allowed}")
    return names


def _check_objectives(objectives: list[str], types: dict[str, str]) -> list[str]:
    numeric = [c for c, t in types.items() if t.split("(")[0] in _NUMERIC]
    if not objectives or len(objectives) > MAX_OBJECTIVES:
        raise InputError("objectives", ",".join(map(str, objectives)), f"1 to {MAX_OBJECTIVES} numeric result columns")
    columns = []
    for o in objectives:
        name = o[1:] if isinstance(o, str) and o.startswith("-") else o
        if name not in types:
            raise InputError("objectives", o, f"columns of the results ({', '.join(numeric)})")
        if name not in numeric:
            raise InputError("objectives", o, f"a numeric column ({name} is {types[name]}): {', '.join(numeric)}")
        if name in columns:
            raise InputError("objectives", o, "each column once")
        columns.append(name)
    return columns


def pareto_front(results: Path, objectives: list[str]) -> list[dict[str, Any]]:
    """The non-dominated rows of a sweep's results (feasible and meeting its constraints), sorted by
    the first objective; an objective prefixed with ``-`` is maximised. Rows where an objective is
    null or not finite are left out."""
    from stargate.sweep.store import connect

    con = connect(results)
    try:
        types = {r[0]: str(r[1]) for r in con.execute("DESCRIBE results").fetchall()}
        columns = _check_objectives(list(objectives), types)
        rel = con.sql("SELECT * FROM results WHERE meets_constraints")
        table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()
    finally:
        con.close()
    signs = np.array([-1.0 if str(o).startswith("-") else 1.0 for o in objectives])
    raw = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(float) for c in columns]) \
        if table.num_rows else np.empty((0, len(columns)))
    ok = np.isfinite(raw).all(axis=1)
    mask = np.zeros(len(raw), dtype=bool)
    mask[np.flatnonzero(ok)] = pareto_mask(raw[ok] * signs)
    idx = np.flatnonzero(mask)
    idx = idx[np.argsort(raw[idx, 0], kind="stable")]
    columns_of_front = table.take(idx).to_pydict()  # column-wise, then zipped: twice as fast as to_pylist
    names = list(columns_of_front)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns_of_front.values(), strict=True)]
