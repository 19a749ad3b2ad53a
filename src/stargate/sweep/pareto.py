"""Non-dominated designs: the Pareto fronts of a sweep over chosen objectives, one per group.

A design dominates another when it is no worse on every objective and better on at least one.
Comparing a 8B-parameter model's designs with a 405B one's on time to train is meaningless (the
small model always wins), so designs are compared only within a group: by default the model and
the token budget, when the sweep varies them (``--group-by`` changes it; ``none`` compares all).

The non-dominated test is moocore's ``is_nondominated`` (compiled: the O(n log n) dimension sweep
for up to three objectives, Kung-Luccio-Preparata's O(n log^(k-2) n) beyond); exact duplicates keep
their first occurrence only. Only the columns needed are read (the objectives, the group columns,
``design_id``), filtered by DuckDB with bound parameters (:mod:`stargate.sweep.filters`); whole rows
are read for the designs on a front only. On the 1,010,880-point example the fronts by model and
token budget take about 1 s (``benchmarks/bench_sweep_pareto.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stargate.errors import InputError, clip
from stargate.sweep.filters import column_kind, parse_group_by, parse_where, where_sql

__all__ = ["DEFAULT_GROUP_BY", "MAX_GROUPS", "MAX_OBJECTIVES", "Front", "front_of", "grouped_pareto_mask",
           "open_front", "pareto_front", "pareto_mask", "parse_objectives"]

MAX_OBJECTIVES = 16
"""Most objectives a front may have."""
MAX_GROUPS = 10_000
"""Most groups (fronts) one grouping may make."""
DEFAULT_GROUP_BY = ("model", "training_tokens")
"""Columns grouped by when no grouping is given: those of them that take more than one value."""
MAX_DISTINCT_CHECKED = 10_000
"""Most distinct values of a text column a ``--where`` value is checked against."""

Tick = Callable[[str, int, int], None]
"""A progress callback: ``tick(what, done, total)``."""


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n x k), every objective minimised.

    Exact duplicates keep their first occurrence only.

    Examples
    --------
    >>> pareto_mask(np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0], [2.0, 2.0]])).tolist()
    [True, True, False, True, False]
    """
    import moocore

    values = np.asarray(values, dtype=float)
    values = values.reshape(len(values), -1) if values.ndim != 2 else values
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(moocore.is_nondominated(values, keep_weakly=False), dtype=bool)


def grouped_pareto_mask(values: np.ndarray, groups: np.ndarray, tick: Tick | None = None) -> np.ndarray:
    """Boolean mask of the rows of ``values`` that no row of the same group dominates.

    Parameters
    ----------
    values : ndarray
        n x k objective values, every objective minimised.
    groups : ndarray
        n integer group codes.
    tick : callable, optional
        Called as ``tick("fronts", done, total)`` as groups are done.

    Examples
    --------
    >>> v = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [0.5, 9.0]])
    >>> grouped_pareto_mask(v, np.array([0, 1, 1, 0])).tolist()  # [2, 2] is beaten by [1, 1], of another group
    [True, True, False, True]
    """
    keep = np.zeros(len(values), dtype=bool)
    if len(values) == 0:
        return keep
    order = np.argsort(groups, kind="stable")  # stable: the first of duplicates stays first
    segments = np.split(order, np.flatnonzero(np.diff(groups[order])) + 1)
    every = max(1, len(segments) // 100)
    for i, seg in enumerate(segments):
        keep[seg] = pareto_mask(values[seg]) if len(seg) > 1 else True
        if tick is not None and (i % every == 0 or i == len(segments) - 1):
            tick("fronts", i + 1, len(segments))
    return keep


def parse_objectives(text: str) -> list[str]:
    """Objective names from ``a,b,-c`` text: none empty, none repeated, at most :data:`MAX_OBJECTIVES`."""
    allowed = "comma-separated result columns, '-' in front to maximise, e.g. capex_usd,time_to_train_s,-mfu"
    names = [o.strip() for o in text.split(",")]
    if not text.strip() or any(not o or o == "-" for o in names) or len(names) > MAX_OBJECTIVES:
        raise InputError("objectives", text, f"at most {MAX_OBJECTIVES} {allowed}")
    return names


def _check_objectives(objectives: list[str], types: dict[str, str]) -> list[str]:
    numeric = [c for c, t in types.items() if column_kind(t) == "number"]
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


@dataclass(frozen=True)
class Front:
    """The Pareto fronts of a sweep, one per group."""

    rows: list[dict[str, Any]]
    """The designs on the fronts, whole result rows plus ``group``; by group, then by the first objective."""
    objectives: list[str]
    """The objectives as given (``-`` in front: maximised)."""
    group_by: list[str]
    """The columns grouped by (empty: one front)."""
    groups: int
    """Number of groups among the designs considered."""
    considered: int
    """Designs considered: meeting the constraints and the filter, every objective finite."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Designs considered in each group, by its label."""


def _arrow(rel: Any) -> Any:
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _label(value: Any) -> str:
    """A group value as text: numbers in ``%g``, null as ``null``.

    Examples
    --------
    >>> _label(1.5e13), _label(4096.0), _label(None), _label(True), _label("gb200")
    ('1.5e+13', '4096', 'null', 'true', 'gb200')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _group_codes(table: Any, columns: list[str]) -> np.ndarray:
    """Dense group codes of the rows of ``table``, numbered in the sorted order of their values (nulls last)."""
    import pyarrow.compute as pc

    code = np.zeros(table.num_rows, dtype=np.int64)
    for col in columns:
        enc = pc.dictionary_encode(table.column(col).combine_chunks())
        k = len(enc.dictionary)
        rank = np.full(k + 1, k, dtype=np.int64)
        rank[np.asarray(pc.sort_indices(enc.dictionary))] = np.arange(k)
        idx = enc.indices.fill_null(k).to_numpy(zero_copy_only=False).astype(np.int64)
        code = np.unique(code * (k + 1) + rank[idx], return_inverse=True)[1].reshape(-1)
    return code


def _check_text_values(con: Any, relation: str, conditions: list[Any], types: dict[str, str]) -> None:
    """A text condition's values must be values of its column: a typo is an error, not an empty front."""
    for c in conditions:
        if column_kind(types[c.column]) != "text":
            continue
        known = {r[0] for r in con.sql(f"SELECT DISTINCT {_quote(c.column)} FROM {relation} "
                                       f"LIMIT {MAX_DISTINCT_CHECKED + 1}").fetchall()}
        if len(known) > MAX_DISTINCT_CHECKED:
            continue
        for v in c.values:
            if v not in known:
                listed = ", ".join(sorted(str(k) for k in known if k is not None))
                raise InputError("where", c.text, f"values of {c.column} in this sweep: {clip(listed, 300)}")


def _read(con: Any, relation: str, columns: list[str], conditions: list[Any]) -> Any:
    sql, params = where_sql(conditions)
    select = ", ".join(_quote(c) for c in columns)
    query = f"SELECT {select} FROM {relation} WHERE meets_constraints" + (f" AND {sql}" if sql else "")
    return _arrow(con.sql(query, params=params) if params else con.sql(query))


def _chosen_groups(table: Any, group_by: list[str] | None, types: dict[str, str]) -> list[str]:
    if group_by is not None:
        return group_by
    import pyarrow.compute as pc

    return [c for c in DEFAULT_GROUP_BY if c in types and pc.count_distinct(table.column(c), mode="all").as_py() > 1]


def _whole_rows(con: Any, relation: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Whole result rows by ``design_id`` (the front's designs only)."""
    if not ids:
        return {}
    t = _arrow(con.sql(f"SELECT * FROM {relation} WHERE design_id IN (SELECT unnest(?::VARCHAR[]))", params=[ids]))
    cols = t.to_pydict()  # column-wise, then zipped: twice as fast as to_pylist
    rows = [dict(zip(cols, r, strict=True)) for r in zip(*cols.values(), strict=True)]
    return {r["design_id"]: r for r in rows}


def front_of(con: Any, objectives: list[str], where: str | None = None, group_by: str | None = None,
             relation: str = "results", tick: Tick | None = None) -> Front:
    """The Pareto fronts of the result rows in ``relation`` on ``con`` (a DuckDB connection).

    Rows that are feasible and meet the sweep's constraints and the ``where`` filter are kept;
    rows where an objective is null or not finite are left out; each group's front is its
    non-dominated rows. ``group_by`` ``None`` groups by the :data:`DEFAULT_GROUP_BY` columns that
    vary; ``"none"`` makes one front. Bad input raises :class:`~stargate.errors.InputError` naming
    ``objectives``, ``where`` or ``group_by``.
    """
    types = {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {relation}").fetchall()}
    columns = _check_objectives(list(objectives), types)
    conditions = parse_where(where, types)
    groups_given = parse_group_by(group_by, types)
    _check_text_values(con, relation, conditions, types)
    if tick is not None:
        tick("reading", 0, 1)
    wanted = [c for c in DEFAULT_GROUP_BY if c in types] if groups_given is None else groups_given
    table = _read(con, relation, list(dict.fromkeys(["design_id", *columns, *wanted])), conditions)
    signs = np.array([-1.0 if str(o).startswith("-") else 1.0 for o in objectives])
    raw = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(float) for c in columns]) \
        if table.num_rows else np.empty((0, len(columns)))
    ok = np.flatnonzero(np.isfinite(raw).all(axis=1))
    table, raw = table.take(ok), raw[ok]
    chosen = _chosen_groups(table, groups_given, types)
    codes = _group_codes(table, chosen)
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    if n_groups > MAX_GROUPS:
        raise InputError("group_by", ",".join(chosen), f"a grouping into at most {MAX_GROUPS:,} groups "
                                                       f"(this one makes {n_groups:,})")
    idx = np.flatnonzero(grouped_pareto_mask(raw * signs, codes, tick))
    idx = idx[np.lexsort((raw[idx, 0], codes[idx]))]
    firsts = np.unique(codes, return_index=True)[1]
    labels = [", ".join(f"{c}={_label(table.column(c)[int(i)].as_py())}" for c in chosen) or "all" for i in firsts]
    sizes = np.bincount(codes, minlength=n_groups)
    ids = table.column("design_id").take(idx).to_pylist()
    whole = _whole_rows(con, relation, ids)
    rows = [{**whole[d], "group": labels[g]} for d, g in zip(ids, codes[idx].tolist(), strict=True)]
    return Front(rows, list(objectives), chosen, n_groups, len(raw),
                 {labels[g]: int(sizes[g]) for g in range(n_groups)})


def pareto_front(results: Path, objectives: list[str], where: str | None = None, group_by: str | None = None,
                 tick: Tick | None = None) -> list[dict[str, Any]]:
    """The rows on the Pareto fronts of a sweep's verified results (:func:`front_of`), each with its ``group``.

    An objective prefixed with ``-`` is maximised; the rows come by group, then sorted by the first objective.
    """
    return open_front(results, objectives, where, group_by, tick).rows


def open_front(results: Path, objectives: list[str], where: str | None = None, group_by: str | None = None,
               tick: Tick | None = None) -> Front:
    """:func:`front_of` on the verified results in the directory ``results``."""
    from stargate.sweep.store import connect

    if tick is not None:
        tick("verifying chunks", 0, 1)
    con = connect(results)
    try:
        return front_of(con, objectives, where, group_by, tick=tick)
    finally:
        con.close()
