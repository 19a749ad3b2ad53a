"""A sweep's results for people: ``stargate query``'s rows and ``stargate pareto``'s fronts, one row per
design with its numbers readable and never wrapped.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from stargate.report.tables import _console, _safe, result_cell, result_title


def render_rows(rows: list[dict[str, Any]]) -> None:
    """Print rows (query results, a Pareto front) as a table."""
    rows = _safe(rows)
    c = _console()
    if not rows:
        c.print("(no rows)")
        return
    t = Table()
    for k in rows[0]:
        t.add_column(k, overflow="fold")
    for r in rows[:200]:
        t.add_row(*(result_cell(k, v) for k, v in r.items()))
    c.print(t)
    if len(rows) > 200:
        c.print(f"... {len(rows) - 200} more rows (use --json for all)")


def _front_cells(front: Any, columns: list[str], per_group: int) -> list[list[str]]:
    """The text table's cells: the group, then ``columns``; at most ``per_group`` designs of each group."""
    rows: list[list[str]] = []
    counts: dict[str, int] = {}
    for r in front.rows:
        counts[r["group"]] = counts.get(r["group"], 0) + 1
    seen: dict[str, int] = {}
    for r in front.rows:
        n = seen[r["group"]] = seen.get(r["group"], 0) + 1
        group = " · ".join(result_cell(g, r.get(g)) for g in front.group_by)
        if n <= per_group:
            rows.append([group, *(result_cell(k, r.get(k)) for k in columns)])
        elif n == per_group + 1:
            rows.append([group, f"... {counts[r['group']] - per_group} more", *([""] * (len(columns) - 1))])
    return rows


def render_front(front: Any, per_group: int = 25) -> None:
    """Print the Pareto fronts of a sweep: one row per design, its group first, numbers readable.

    Numbers never wrap; on a terminal too narrow for every column the design id is left out
    (``--json`` and ``--out`` carry it, with every other column).
    """
    import textwrap

    c = _console()
    if not front.rows:
        c.print(f"(no design on a front: {front.considered:,} designs considered)")
        return
    shown = [o.lstrip("-") for o in front.objectives]
    columns = front.shown_columns()
    cells = _safe(_front_cells(front, columns, per_group))
    names = [result_title(k) for k in columns]
    widths = [max(len(r[j + 1]) for r in cells) for j in range(len(columns))]
    headers = [textwrap.fill(n + (" (max)" if f"-{k}" in front.objectives else ""), max(w, *map(len, n.split())))
               for n, k, w in zip(names, columns, widths, strict=True)]
    needed = [max(w, *(len(x) for x in h.splitlines())) + 1 for w, h in zip(widths, headers, strict=True)]
    group_width = max(len(r[0]) for r in cells) if front.group_by else 0
    skip_id = sum(needed) + group_width > c.width
    t = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1, 0, 0))
    if front.group_by:
        title = textwrap.fill(" · ".join(front.group_by).replace("_", " "), max(12, group_width))
        t.add_column(title, overflow="fold")
    for k, h in zip(columns, headers, strict=True):
        if not (skip_id and k == "design_id"):
            t.add_column(h, justify="right" if k in shown or k == "gpus_built" else "left", no_wrap=True)
    for r in cells:
        more = r[1].startswith("... ")  # a group's "... N more" line
        rest = [r[1], *r[3:]] if skip_id and more else r[2:] if skip_id else r[1:]
        t.add_row(*(r[:1] if front.group_by else []), *rest, style="dim" if more else None)
    c.print(t)
    fronts = f"{front.groups:,} fronts (by {', '.join(front.group_by)})" if front.group_by else "one front"
    c.print(f"{len(front.rows):,} non-dominated designs on {fronts}, of {front.considered:,} designs feasible, "
            f"meeting the constraints and the filter; --json or --out for every column"
            + (" (design ids too)" if skip_id else ""), style="dim")
