"""Non-dominated designs: the Pareto fronts of a sweep over chosen objectives, one per group.

A design dominates another when it is no worse on every objective and better on at least one.
Comparing a 8B-parameter model's designs with a 405B one's on time to train is meaningless (the
small model always wins), so designs are compared only within a group: by default the model and
the token budget, when the sweep varies them (``--group-by`` changes it; ``none`` compares all).

The non-dominated test is moocore's ``is_nondominated`` (compiled: the O(n log n) dimension sweep
for up to three objectives, Kung-Luccio-Preparata's O(n log^(k-2) n) beyond); exact duplicates keep
their first occurrence only. From the store only the columns needed are read (the objectives, the
filter's and the group's columns, ``design_id``), filtered with pyarrow (:mod:`stargate.sweep.filters`:
no SQL is written from the user's text), and whole rows are read for the designs on a front only.
On the 1,010,880-point example the fronts by model and token budget take about 1.2 s of CPU in a
fresh process, imports included (``benchmarks/bench_sweep_pareto.py --dir DIR``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stargate.errors import InputError, clip
from stargate.sweep.filters import column_kind, parse_group_by, parse_where

__all__ = [
    "DEFAULT_GROUP_BY",
    "MAX_GROUPS",
    "MAX_OBJECTIVES",
    "Front",
    "arrow_types",
    "front_of",
    "grouped_pareto_mask",
    "open_front",
    "pareto_front",
    "pareto_mask",
    "parse_objectives",
]

MAX_OBJECTIVES = 16
"""Most objectives a front may have."""
MAX_GROUPS = 10_000
"""Most groups (fronts) one grouping may make."""
DEFAULT_GROUP_BY = ("model", "training_tokens")
"""Columns grouped by when no grouping is given: those of them that take more than one value."""

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
    small = groups.astype(np.int16) if groups.max() < 2**15 else groups  # 16-bit keys: numpy's radix sort
    order = np.argsort(small, kind="stable")  # stable: the first of duplicates stays first
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

    def shown_columns(self) -> list[str]:
        """The columns a table of the fronts shows beside the group: the id, the objectives, what was built.

        Examples
        --------
        >>> Front([], ["capex_usd", "-mfu"], ["model"], 0, 0).shown_columns()
        ['design_id', 'capex_usd', 'mfu', 'accelerator', 'fabric', 'gpus_built']
        """
        shown = [o.lstrip("-") for o in self.objectives]
        extra = ("accelerator", "fabric", "gpus_built", "model")
        return ["design_id", *shown, *(k for k in extra if k not in shown and k not in self.group_by)]


def _arrow(rel: Any) -> Any:
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def arrow_types(schema: Any) -> dict[str, str]:
    """Column name -> type name, as DuckDB names them, of an Arrow schema's columns.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arrow_types(pa.schema([("a", pa.int64()), ("b", pa.float64()), ("c", pa.string()), ("d", pa.bool_())]))
    {'a': 'BIGINT', 'b': 'DOUBLE', 'c': 'VARCHAR', 'd': 'BOOLEAN'}
    """
    import pyarrow as pa

    def name(t: Any) -> str:
        if pa.types.is_boolean(t):
            return "BOOLEAN"
        if pa.types.is_integer(t):
            return "BIGINT"
        return "DOUBLE" if pa.types.is_floating(t) else "VARCHAR"

    return {f.name: name(f.type) for f in schema}


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


def _group_codes(table: Any, columns: list[str], n: int) -> np.ndarray:
    """Dense group codes of the ``n`` rows of ``table``, numbered in the sorted order of their values (nulls last)."""
    import pyarrow.compute as pc

    code = np.zeros(n, dtype=np.int64)
    span = 1  # codes are below span
    for col in columns:
        enc = pc.dictionary_encode(table.column(col).combine_chunks())
        k = len(enc.dictionary)
        rank = np.full(k + 1, k, dtype=np.int64)
        rank[np.asarray(pc.sort_indices(enc.dictionary))] = np.arange(k)
        idx = enc.indices.fill_null(k).to_numpy(zero_copy_only=False).astype(np.int64)
        code, span = code * (k + 1) + rank[idx], span * (k + 1)
        if span > max(4 * len(code), 1 << 20):  # keep codes small: renumber densely
            code = np.unique(code, return_inverse=True)[1].reshape(-1)
            span = int(code.max()) + 1 if len(code) else 1
    present = np.zeros(span, dtype=bool)
    present[code] = True
    return (np.cumsum(present) - 1)[code]  # dense, in the same order


def _check_text_values(table: Any, conditions: list[Any], types: dict[str, str]) -> None:
    """A text condition's values must be values of its column: a typo is an error, not an empty front."""
    import pyarrow.compute as pc

    for c in conditions:
        if column_kind(types[c.column]) != "text":
            continue
        known = set(pc.unique(table.column(c.column)).to_pylist())
        for v in c.values:
            if v not in known:
                listed = ", ".join(sorted(str(k) for k in known if k is not None))
                raise InputError("where", c.text, f"values of {c.column} in this sweep: {clip(listed, 300)}")


def _chosen_groups(table: Any, group_by: list[str] | None, types: dict[str, str]) -> list[str]:
    """The columns to group by: those given, else those of :data:`DEFAULT_GROUP_BY` that take several values."""
    if group_by is not None:
        return group_by
    import pyarrow.compute as pc

    return [c for c in DEFAULT_GROUP_BY if c in types and pc.count_distinct(table.column(c), mode="all").as_py() > 1]


def _considered(table: Any, columns: list[str], conditions: list[Any],
                signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows meeting the constraints and the conditions, with every objective finite: their indices
    in ``table`` and their objective values (signed: every objective minimised)."""
    import pyarrow.compute as pc

    from stargate.sweep.filters import where_mask

    mask = table.column("meets_constraints")
    if conditions:
        mask = pc.and_kleene(mask, where_mask(table, conditions))
    mask = mask.fill_null(False)
    sel = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    raw = np.empty((len(sel), len(columns)))
    for j, c in enumerate(columns):
        raw[:, j] = table.column(c).filter(mask).to_numpy(zero_copy_only=False)
    ok = np.isfinite(raw).all(axis=1)
    return sel[ok], raw[ok] * signs


def _rows(table: Any, indices: np.ndarray) -> list[dict[str, Any]]:
    cols = table.take(indices).to_pydict()  # column-wise, then zipped: twice as fast as to_pylist
    return [dict(zip(cols, r, strict=True)) for r in zip(*cols.values(), strict=True)]


def front_of(table: Any, objectives: list[str], where: str | None = None, group_by: str | None = None,
             tick: Tick | None = None, whole_rows: Callable[[list[str]], Any] | None = None) -> Front:
    """The Pareto fronts of a sweep's result rows, held in the Arrow ``table``.

    Rows that are feasible and meet the sweep's constraints and the ``where`` filter are kept;
    rows where an objective is null or not finite are left out; each group's front is its
    non-dominated rows. ``group_by`` ``None`` groups by the :data:`DEFAULT_GROUP_BY` columns that
    vary; ``"none"`` makes one front. The rows returned are the table's own, or, when the table
    holds only some columns, those of the Arrow table ``whole_rows`` returns for their ``design_id``
    (in that order).
    Bad input raises :class:`~stargate.errors.InputError` naming ``objectives``, ``where`` or ``group_by``.
    """
    types = arrow_types(table.schema)
    columns = _check_objectives(list(objectives), types)
    conditions = parse_where(where, types)
    chosen = parse_group_by(group_by, types)
    _check_text_values(table, conditions, types)
    signs = np.array([-1.0 if str(o).startswith("-") else 1.0 for o in objectives])
    sel, values = _considered(table, columns, conditions, signs)
    names = _chosen_groups(table, chosen, types)
    codes = np.unique(_group_codes(table, names, table.num_rows)[sel], return_inverse=True)[1].reshape(-1)
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    if n_groups > MAX_GROUPS:
        raise InputError("group_by", ",".join(names), f"a grouping into at most {MAX_GROUPS:,} groups "
                                                      f"(this one makes {n_groups:,})")
    idx = np.flatnonzero(grouped_pareto_mask(values, codes, tick))
    idx = idx[np.lexsort((values[idx, 0] * signs[0], codes[idx]))]
    firsts = sel[np.unique(codes, return_index=True)[1]]
    labels = [", ".join(f"{c}={_label(table.column(c)[int(i)].as_py())}" for c in names) or "all" for i in firsts]
    if whole_rows is None:
        rows = _rows(table, sel[idx])
    else:
        ids = table.column("design_id").take(sel[idx]).to_pylist()
        rows = _rows(whole_rows(ids), np.arange(len(ids))) if ids else []
    for r, g in zip(rows, codes[idx].tolist(), strict=True):
        r["group"] = labels[g]
    sizes = np.bincount(codes, minlength=n_groups)
    return Front(rows, list(objectives), names, n_groups, len(sel),
                 {labels[g]: int(sizes[g]) for g in range(n_groups)})


def pareto_front(results: Path, objectives: list[str], where: str | None = None, group_by: str | None = None,
                 tick: Tick | None = None) -> list[dict[str, Any]]:
    """The rows on the Pareto fronts of a sweep's verified results (:func:`front_of`), each with its ``group``.

    An objective prefixed with ``-`` is maximised; the rows come by group, then sorted by the first objective.
    """
    return open_front(results, objectives, where, group_by, tick).rows


def open_front(results: Path, objectives: list[str], where: str | None = None, group_by: str | None = None,
               tick: Tick | None = None) -> Front:
    """:func:`front_of` on the verified results in the directory ``results``, reading only the
    columns it needs, and whole rows for the designs on a front only."""
    from stargate.sweep.store import connect

    if tick is not None:
        tick("verifying chunks", 0, 1)
    con = connect(results)
    try:
        types = {r[0]: str(r[1]) for r in con.execute("DESCRIBE results").fetchall()}
        columns = _check_objectives(list(objectives), types)
        wanted = [c.column for c in parse_where(where, types)]
        grouping = parse_group_by(group_by, types)
        wanted += [c for c in DEFAULT_GROUP_BY if c in types] if grouping is None else grouping
        if tick is not None:
            tick("reading", 0, 1)
        needed = list(dict.fromkeys(["design_id", "meets_constraints", *columns, *wanted]))
        table = _arrow(con.sql(f"SELECT {', '.join(map(_quote, needed))} FROM results"))

        def whole_rows(ids: list[str]) -> Any:
            query = "SELECT * FROM results WHERE design_id IN (SELECT unnest(?::VARCHAR[]))"
            found = _arrow(con.sql(query, params=[ids]))
            at = {d: i for i, d in enumerate(found.column("design_id").to_pylist())}
            return found.take(np.array([at[d] for d in ids], dtype=np.int64))

        return front_of(table, objectives, where, group_by, tick, whole_rows)
    finally:
        con.close()
