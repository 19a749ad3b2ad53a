"""Tables for spreadsheets: answers as CSV, a plan as an Excel workbook.

Every answer flattens to one table of ``table, name, unit`` and one value column per answer
(:func:`flat_rows`): a nested key becomes its table (``capex_breakdown_usd``,
``time_to_train``, ``alternatives[0].parallelism``), a list item its index, and the unit is read
from the key's name (``_usd`` → USD, ``_w`` → W, ``_s`` → s, ...; a breakdown's parts take the
unit of the breakdown), so the numbers stay the SI floats of ``--json``. A plan's table has one
value column per phase and a ``total`` column; a comparison's, one per answer and one per delta.

A plan's workbook (:func:`plan_workbook`, openpyxl) has one sheet per table — phases, capex,
power, opex and TCO, training, reliability, outcome, multi-site links, totals, warnings,
assumptions — and a Sources sheet listing every catalog entry the plan used, with its source
and date. Text that a spreadsheet would run as a formula (``=...``, ``+...``, ``-...``, ``@...``)
is written as text: a scenario's names never execute.
"""

from __future__ import annotations

import csv
import io
from typing import Any

__all__ = ["comparison_rows", "csv_text", "flat_rows", "plan_rows", "plan_sheets", "plan_workbook", "unit_of"]

_UNITS = (  # longest suffix first
    ("tokens_per_s_per_gpu", "token/s/GPU"), ("tokens_per_s_per_user", "token/s/user"),  # serving figures
    ("tokens_per_s_per_replica", "token/s/replica"), ("tokens_per_s", "token/s"), ("requests_per_s", "request/s"),
    ("tokens_per_mw", "token/s/MW"), ("tokens_per_day", "token/day"), ("_bytes_per_gpu", "B"), ("_bytes_per_token", "B"),
    ("usd_per_million_tokens", "USD/Mtoken"), ("usd_per_million_input_tokens", "USD/Mtoken"),
    ("usd_per_million_output_tokens", "USD/Mtoken"),
    ("_usd_per_gpu_hour", "USD/GPU-hour"), ("_usd_per_year", "USD/year"), ("_mwh_per_year", "MWh/year"),
    ("_t_per_year", "t/year"), ("_bytes_per_s", "B/s"), ("_bits_per_s", "bit/s"), ("_flops_per_s", "FLOP/s"),
    ("_per_day", "1/day"), ("_usd", "USD"), ("_bytes", "B"), ("_flops", "FLOP"), ("_w", "W"), ("_s", "s"),
    ("_m", "m"), ("_days", "day"), ("_pct", "%"),
)
_NAMED = {"peak_flops": "FLOP/s", "kw_per_rack": "kW", "days": "day", "seconds": "s", "gpu_hours": "GPU-hour",
          "mfu": "fraction", "hfu": "fraction", "goodput": "fraction", "pue": "ratio", "design_pue": "ratio",
          "annual_pue": "ratio", "serving_share": "fraction"}


def unit_of(key: str, inherited: str = "") -> str:
    """The unit a key's name gives (``capex_usd`` → ``USD``), else the enclosing table's.

    Examples
    --------
    >>> unit_of("capex_usd"), unit_of("opex_usd_per_year"), unit_of("peak_flops"), unit_of("compute", "s")
    ('USD', 'USD/year', 'FLOP/s', 's')
    """
    if key in _NAMED:
        return _NAMED[key]
    for suffix, unit in _UNITS:
        if key.endswith(suffix):
            return unit
    return inherited


def _walk(obj: Any, table: str, unit: str, out: dict[tuple[str, str, str], Any]) -> None:
    """Leaves of ``obj`` into ``out`` keyed by (table, name, unit)."""
    items = obj.items() if isinstance(obj, dict) else ((f"[{i}]", v) for i, v in enumerate(obj))
    for key, value in items:
        key = str(key)
        u = unit_of(key, unit) if not key.startswith("[") else unit
        if isinstance(value, (dict, list, tuple)) and value:
            sub = f"{table}{key}" if key.startswith("[") else (f"{table}.{key}" if table else key)
            _walk(value, sub, u, out)
        else:
            # an empty dict or list is a blank; a list of scalars is a table whose names are the indices
            out[(table, key, u)] = None if isinstance(value, (dict, list, tuple)) else value


def flat_rows(answer: Any) -> dict[tuple[str, str, str], Any]:
    """An answer (a model or its JSON) as ``{(table, name, unit): value}``, in the answer's order.

    Examples
    --------
    >>> rows = flat_rows({"capex_usd": 3.0, "capex_breakdown_usd": {"chips": 2.0, "rest": 1.0}, "notes": ["a"]})
    >>> for key, value in rows.items():
    ...     print(key, value)
    ('', 'capex_usd', 'USD') 3.0
    ('capex_breakdown_usd', 'chips', 'USD') 2.0
    ('capex_breakdown_usd', 'rest', 'USD') 1.0
    ('notes', '[0]', '') a
    """
    data = answer.model_dump(mode="json") if hasattr(answer, "model_dump") else answer
    out: dict[tuple[str, str, str], Any] = {}
    _walk(data, "", "", out)
    return out


def _merged(columns: list[dict[tuple[str, str, str], Any]]) -> list[list[Any]]:
    """Rows ``table, name, unit, value...`` over the union of keys (first-seen order), blanks where absent."""
    keys: dict[tuple[str, str, str], None] = {}
    for col in columns:
        keys.update(dict.fromkeys(col))
    return [[*k, *(col.get(k) for col in columns)] for k in keys]


def answer_rows(answer: Any) -> list[list[Any]]:
    """One answer's table: header ``table, name, unit, value`` then its rows."""
    return [["table", "name", "unit", "value"], *_merged([flat_rows(answer)])]


def plan_rows(plan: Any) -> list[list[Any]]:
    """A plan's table: one value column per phase, then ``total`` (the plan's totals, by name).

    Examples
    --------
    >>> rows = plan_rows({"phases": [{"name": "P1", "capex_usd": 1.0}, {"name": "P2", "capex_usd": 2.0}],
    ...                   "totals": {"capex_usd": 3.0}, "scenario": "demo"})
    >>> rows[0], rows[2]
    (['table', 'name', 'unit', 'P1', 'P2', 'total'], ['', 'capex_usd', 'USD', 1.0, 2.0, 3.0])
    """
    data = plan.model_dump(mode="json") if hasattr(plan, "model_dump") else plan
    phases = [flat_rows(p) for p in data["phases"]]
    totals = {("", k, u): v for (_, k, u), v in flat_rows(data["totals"]).items()}
    rows = _merged([*phases, totals])
    return [["table", "name", "unit", *(p["name"] for p in data["phases"]), "total"], *rows]


def comparison_rows(comparison: Any) -> list[list[Any]]:
    """A comparison's table: each metric and its parts, one column per answer, then per later answer
    its delta and delta in percent against the first.

    Examples
    --------
    >>> from stargate.compare import compare
    >>> from stargate.cluster.design import design_cluster
    >>> from stargate.scenario import DesignRequest
    >>> a, b = (design_cluster(DesignRequest(accelerator="h100", gpus=n)).model_dump(mode="json") for n in (8, 16))
    >>> rows = comparison_rows(compare([("8", a), ("16", b)]))
    >>> rows[0]
    ['metric', 'part', 'unit', '8', '16', 'delta 16', 'delta % 16']
    >>> rows[1][:3], rows[1][5:]
    (['gpus', '', 'count'], [8.0, 100.0])
    """
    c = comparison
    header = ["metric", "part", "unit", *(it.label for it in c.items)]
    for d in c.deltas:
        header += [f"delta {d.label}", f"delta % {d.label}"]
    rows = [header]
    for name, base in c.items[0].metrics.items():
        ms = [it.metrics[name] for it in c.items]
        ds = [d.metrics[name] for d in c.deltas]
        rows.append([name, "", base.unit, *(m.value for m in ms), *(x for d in ds for x in (d.delta, d.delta_pct))])
        parts = list(dict.fromkeys(k for m in ms for k in (m.parts or {})))
        for part in parts:
            values = [(m.parts or {}).get(part, 0.0) if m.parts is not None else None for m in ms]
            deltas = [(d.parts or {}).get(part) for d in ds]
            rows.append([name, part, base.unit, *values, *(x for dv in deltas for x in (dv, None))])
    return rows


def _cell(value: Any) -> Any:
    """A value made safe for a spreadsheet: text that would run as a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(rows: list[list[Any]]) -> str:
    """Rows as CSV text (numbers as Python writes them: full precision; blanks for None).

    Examples
    --------
    >>> print(csv_text([["name", "value"], ["=cmd()", 1.5], ["x", None]]), end="")
    name,value
    '=cmd(),1.5
    x,
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def _phase_table(phases: list[dict[str, Any]], columns: Any) -> list[list[Any]]:
    """One row per phase: ``phase`` then the flattened columns ``columns(phase)`` gives (units in the header)."""
    flats = []
    for p in phases:
        flat: dict[str, Any] = {}
        for (table, name, unit), v in flat_rows(columns(p)).items():
            label = f"{table}.{name}" if table else name
            flat[f"{label} ({unit})" if unit else label] = v
        flats.append(flat)
    header = list(dict.fromkeys(k for f in flats for k in f))
    return [["phase", *header], *([p["name"], *(f.get(k) for k in header)] for p, f in zip(phases, flats, strict=True))]


def _phases_summary(p: dict[str, Any]) -> dict[str, Any]:
    d = p["design"]
    return {"year": p["year"], "site": p["site"], "accelerator": p["accelerator"], "system": d["system"],
            "gpus": p["gpus"], "racks": d["racks"], "kw_per_rack": d["kw_per_rack"], "cooling": d["cooling"],
            "fabric": d["fabric"], "capex_usd": p["capex_usd"], "facility_power_w": p["facility_power_w"],
            "peak_flops": p["peak_flops"], "mfu": p["mfu"], "goodput": p["goodput"],
            "largest_model_params": p["largest_model_params"], "gpt4_class_days": p["gpt4_class_days"],
            "opex_usd_per_year": d["opex_usd_per_year"], "tco_usd_per_gpu_hour": d["tco_usd_per_gpu_hour"]}


def _capex(p: dict[str, Any]) -> dict[str, Any]:
    d = p["design"]
    return {**d["capex_breakdown_usd"], "site_links_usd": p["capex_usd"] - d["capex_usd"], "capex_usd": p["capex_usd"]}


def _power(p: dict[str, Any]) -> dict[str, Any]:
    from stargate.compare import facility_power_parts

    d = p["design"]
    return {"it_power_breakdown_w": d["it_power_breakdown_w"], "it_power_w": d["it_power_w"],
            "peak_it_power_w": d["peak_it_power_w"], "design_pue": d["design_pue"], "annual_pue": d["annual_pue"],
            "facility_power_breakdown_w": facility_power_parts(d), "facility_power_w": d["facility_power_w"],
            "typical_facility_power_w": d["typical_facility_power_w"], "energy_mwh_per_year": p["energy_mwh_per_year"],
            "carbon_t_per_year": p["carbon_t_per_year"]}


def _training(p: dict[str, Any]) -> dict[str, Any]:
    j = p["reference_job"] or {}
    keep = ("gpus", "jobs", "global_batch", "parallelism", "step_time_s", "breakdown_s", "tokens_per_s_per_gpu", "mfu",
            "memory_per_gpu_bytes")
    return {"reference_model": p["reference_model"], **{k: j[k] for k in keep if k in j}}


def _reliability(p: dict[str, Any]) -> dict[str, Any]:
    r = p["reliability"]
    return {"goodput": p["goodput"], **{k: v for k, v in r.items() if k not in ("strategies", "by_cause_per_day")},
            "goodput_by_strategy": r.get("strategies", {})}


def _outcome(p: dict[str, Any]) -> dict[str, Any]:
    keys = ("training_days", "usable_flops", "largest_model_params", "largest_model_params_range", "largest_model_tokens",
            "largest_model_loss", "data", "gpt4_class_days", "gpt4_class_days_range", "mfu", "mfu_range")
    return {k: p.get(k) for k in keys}


_SHEETS = {"Phases": _phases_summary, "Capex": _capex, "Power": _power,
           "Opex and TCO": lambda p: {"opex_breakdown_usd_per_year": p["design"]["opex_breakdown_usd_per_year"],
                                      "opex_usd_per_year": p["design"]["opex_usd_per_year"],
                                      "tco_breakdown_usd_per_gpu_hour": p["design"]["tco_breakdown_usd_per_gpu_hour"],
                                      "tco_usd_per_gpu_hour": p["design"]["tco_usd_per_gpu_hour"]},
           "Training": _training, "Reliability": _reliability, "Outcome": _outcome,
           "Serving": lambda p: {k: v for k, v in (p.get("serving") or {}).items() if k != "frontier"}}


def plan_sheets(plan: dict[str, Any], sources: list[dict[str, str]]) -> dict[str, list[list[Any]]]:
    """The workbook's sheets as rows: one table per sheet name.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sheets = plan_sheets(run_plan(builtin_scenario()).model_dump(mode="json"), [])
    >>> list(sheets)[:4], sheets["Capex"][0][0]
    (['Phases', 'Capex', 'Power', 'Opex and TCO'], 'phase')
    """
    phases = plan["phases"]
    sheets = {name: _phase_table(phases, columns) for name, columns in _SHEETS.items()}
    sites = [p for p in phases if p.get("multisite")]
    if sites:
        sheets["Multi-site"] = _phase_table(sites, lambda p: p["multisite"])
    sheets["Totals"] = [["name", "unit", "value"], *([n, u, v] for (_, n, u), v in flat_rows(plan["totals"]).items())]
    sheets["Warnings"] = [["phase", "warning"], *([p["name"], w] for p in phases for w in p["warnings"])]
    sheets["Assumptions"] = [["assumption"], *([a] for a in plan["assumptions"])]
    sheets["Sources"] = [["kind", "id", "name", "source", "date"],
                         *([s["kind"], s["id"], s["name"], s["source"], s["date"]] for s in sources)]
    return sheets


def plan_workbook(plan: dict[str, Any], sources: list[dict[str, str]]) -> bytes:
    """A plan as an .xlsx workbook (bytes): the sheets of :func:`plan_sheets`, header rows bold and frozen.

    Examples
    --------
    >>> import io
    >>> from openpyxl import load_workbook
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> data = plan_workbook(run_plan(builtin_scenario()).model_dump(mode="json"), [])
    >>> wb = load_workbook(io.BytesIO(data))
    >>> wb.sheetnames[0], wb["Phases"]["A1"].value, wb["Phases"]["A2"].value.startswith("Phase 1")
    ('Phases', 'phase', True)
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in plan_sheets(plan, sources).items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([None if v is None else v for v in row])
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type == "f":  # text, never a formula
                    cell.data_type = "s"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "B2"
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(width, 8), 60) + 2
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
