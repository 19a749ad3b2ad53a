"""The ``/pareto`` page: a sweep's Pareto fronts for the objectives, grouping and filter in the URL.

``GET /pareto?objectives=capex_usd,-mfu&group_by=model&where=accelerator=gb200`` takes the same
three texts as ``stargate pareto`` (``--objectives``, ``--group-by``, ``--where``; the same parser,
:mod:`stargate.sweep.filters`) and answers a page with form controls for them, a chart of the
first two objectives with one trace per group, and one table per group.

The page is built in a worker process of its own (:mod:`stargate.web.work`). When the server
starts, and on the first request after the sweep's files change
(:func:`~stargate.web.pages.sweep_fingerprint`), that worker reads the sweep's verified results into
its memory as an Arrow table (about 400 MB for the million-design example); requests compute from
it, so a new choice of objectives on a million-design sweep is answered in well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stargate.errors import InputError

__all__ = ["DEFAULT_OBJECTIVES", "MAX_ROWS_PER_GROUP", "REQUEST_FIELDS", "fronts_page", "loaded"]

DEFAULT_OBJECTIVES = ("capex_usd", "time_to_train_s", "facility_power_w")
"""Objectives shown when neither the URL nor the sweep's spec names any."""
MAX_ROWS_PER_GROUP = 100
"""Most designs of one group listed in its table (the chart shows every one)."""
REQUEST_FIELDS = ("objectives", "group_by", "where")
"""The query parameters of the page, named as the errors of the core name them."""
_SLOTS = 4
_LOADED: dict[str, tuple[str, Any, dict[str, Any]]] = {}


def _spec(sweep_dir: Path) -> dict[str, Any]:
    """The sweep's spec as recorded in ``spec.json`` (for the page's title and defaults only)."""
    path = sweep_dir / "spec.json"
    try:
        if path.is_file() and path.stat().st_size < 1 << 20:
            spec = json.loads(path.read_text(encoding="utf-8")).get("spec", {})
            return spec if isinstance(spec, dict) else {}
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        pass  # the store checks the spec itself; here it only names the page
    return {}


def loaded(sweep_dir: Path, fingerprint: str) -> tuple[Any, dict[str, Any]]:
    """The sweep's verified results as an Arrow table, and its spec; read once per state of the
    sweep's files (the previous state's copy is dropped first)."""
    from stargate.sweep.pareto import _arrow
    from stargate.sweep.store import connect

    key = str(sweep_dir)
    held = _LOADED.get(key)
    if held is not None and held[0] == fingerprint:
        return held[1], held[2]
    _LOADED.pop(key, None)
    con = connect(sweep_dir)
    try:
        table = _arrow(con.sql("SELECT * FROM results")).combine_chunks()  # one chunk per column: fast takes
    finally:
        con.close()
    _LOADED[key] = (fingerprint, table, _spec(sweep_dir))
    return table, _LOADED[key][2]


def _axis(column: str, values: list[float]) -> tuple[float, dict[str, Any]]:
    """The scale a column's values are plotted at and its Plotly axis (log when positive over a wide span)."""
    scale, unit = 1.0, ""
    if column == "time_to_train_s":
        scale, unit = 1 / 86400, " (days)"
    elif column in ("mfu", "goodput"):
        scale, unit = 100.0, " (%)"
    elif column.endswith("_usd"):
        unit = " (USD)"
    elif column.endswith("_w"):
        unit = " (W)"
    positive = [v for v in values if v is not None and v > 0]
    log = len(positive) == len(values) and bool(values) and max(positive) > 20 * min(positive)
    from stargate.report.terminal import result_title

    name = result_title(column)
    return scale, {"title": {"text": name + unit}, "type": "log" if log else "linear"}


def _titles(front: Any) -> dict[str, str]:
    """Each group's label (as in the JSON) -> its title, readable: ``model llama3.1-70b · training tokens 15 T``."""
    from stargate.report.terminal import result_cell, result_title

    firsts: dict[str, dict[str, Any]] = {}
    for r in front.rows:
        firsts.setdefault(r["group"], r)
    return {label: " · ".join(f"{result_title(c)} {result_cell(c, r.get(c))}" for c in front.group_by) or "all designs"
            for label, r in firsts.items()}


def _figure(front: Any) -> dict[str, Any]:
    """A scatter of the first two objectives (one objective: against the design's rank), a trace per group."""
    x_col = front.objectives[0].lstrip("-")
    y_col = front.objectives[1].lstrip("-") if len(front.objectives) > 1 else None
    xs, x_axis = _axis(x_col, [r[x_col] for r in front.rows])
    ys, y_axis = _axis(y_col, [r[y_col] for r in front.rows]) if y_col else (1.0, {"title": {"text": "rank"}})
    traces = []
    titles = _titles(front)
    for label in front.sizes:
        rows = [r for r in front.rows if r["group"] == label]
        if rows:
            traces.append({"type": "scatter", "mode": "markers", "name": titles[label], "marker": {"size": 8},
                           "x": [r[x_col] * xs for r in rows],
                           "y": [r[y_col] * ys for r in rows] if y_col else list(range(1, len(rows) + 1)),
                           "text": [f"{r['design_id']} {r.get('accelerator')} {r.get('fabric')}" for r in rows]})
    return {"data": traces, "layout": {"height": 500, "margin": {"t": 30}, "legend": {"orientation": "h", "y": -0.2},
                                       "xaxis": x_axis, "yaxis": y_axis}}


def _groups(front: Any) -> list[dict[str, Any]]:
    """Each group's label, size and its designs' cells, readable (at most :data:`MAX_ROWS_PER_GROUP`)."""
    from stargate.report.terminal import result_cell

    columns = front.shown_columns()
    titles = _titles(front)
    out = []
    for label, considered in front.sizes.items():
        rows = [r for r in front.rows if r["group"] == label]
        if rows:
            cells = [[result_cell(k, r.get(k)) for k in columns] for r in rows[:MAX_ROWS_PER_GROUP]]
            out.append({"label": label, "title": titles[label], "considered": considered, "count": len(rows),
                        "rows": cells})
    return out


def _controls(types: dict[str, str], spec: dict[str, Any], objectives: list[str], group_by: list[str],
              where: str) -> dict[str, Any]:
    """What the form offers: the numeric columns for the objectives, the columns to group by, the filter."""
    from stargate.sweep.filters import column_kind

    numeric = [c for c, t in types.items() if column_kind(t) == "number"]
    axes = set(spec.get("axes") or {}) if isinstance(spec.get("axes"), dict) else set()
    groupable = [c for c, t in types.items()
                 if c not in ("design_id", "reason") and (column_kind(t) == "text" or c in axes)]
    slots = [{"column": o.lstrip("-"), "max": o.startswith("-")} for o in objectives[:_SLOTS]]
    slots += [{"column": "", "max": False}] * (_SLOTS - len(slots))
    return {"numeric": numeric, "groupable": groupable, "slots": slots, "group_by": group_by, "where": where}


def fronts_page(sweep_dir: Path, fingerprint: str, objectives: str | None, group_by: str | None,
                where: str | None) -> dict[str, Any]:
    """The page for one request: ``{"status": 200, "html": ...}``, or status 422 with the page saying
    which of ``objectives``, ``group_by`` or ``where`` is not allowed and why."""
    from stargate.report.html import environment
    from stargate.sweep.pareto import arrow_types, front_of, parse_objectives

    table, spec = loaded(sweep_dir, fingerprint)
    types = arrow_types(table.schema)
    chosen = objectives if objectives is not None else ",".join(spec.get("objectives") or DEFAULT_OBJECTIVES)
    context: dict[str, Any] = {"name": str(spec.get("name") or sweep_dir.name), "error": None, "front": None}
    try:
        front = front_of(table, parse_objectives(chosen), where, group_by)
    except InputError as e:
        if e.field not in REQUEST_FIELDS:
            raise
        given = group_by is not None and group_by.strip().lower() != "none"
        asked = [g.strip() for g in group_by.split(",")] if given and group_by else []
        context.update(error=str(e), controls=_controls(types, spec, chosen.split(","), asked, where or ""))
        return {"status": 422, "html": environment().get_template("pareto.html").render(**context)}
    from stargate.report.terminal import result_title

    columns = front.shown_columns()
    context.update(front=front, figure=_figure(front), groups=_groups(front), columns=columns,
                   titles=[result_title(k) for k in columns],
                   controls=_controls(types, spec, front.objectives, front.group_by, where or ""))
    return {"status": 200, "html": environment().get_template("pareto.html").render(**context)}
