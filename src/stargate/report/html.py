"""The self-contained HTML report of a plan (Jinja2 templates, Plotly inline, no network).

``stargate report [SCENARIO] -o report.html`` and ``stargate plan -o report.html`` write it. The
page carries Plotly.js once, inline, and every chart as JSON; the dashboard (``stargate serve``)
renders the same templates and the same chart dicts, with Plotly.js served by the app.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from stargate import format as fmt
from stargate.catalog import Catalog
from stargate.report.charts import how_sure_charts, plan_charts
from stargate.report.sites import phase_site_rows
from stargate.report.terminal import fabric_summary
from stargate.report.uncertainty import range_at

__all__ = ["environment", "how_sure_text", "largest_fabric", "phase_rows", "plotly_js", "render_report", "summary_cards", "used_sources"]


@cache
def environment() -> Any:
    """The Jinja2 environment over the package's templates (autoescaped)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("stargate.report", "templates"), autoescape=select_autoescape(["html"]))


@cache
def plotly_js() -> str:
    """Plotly.js, from the plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _opt(v: Any, fmt: Any) -> str:
    return "—" if v is None else fmt(v)


def _band(r: dict[str, float] | None, fmt: Any) -> str:
    """`` (P10–P90 a–b)`` for a range, empty without one."""
    return f" (P10–P90 {fmt(r['p10'])}–{fmt(r['p90'])})" if r else ""


def _pct(part: float, whole: float) -> str:
    return fmt.format_percent(part / whole, 1) if whole else "—"


def phase_rows(plan: dict[str, Any] | None = None) -> list[tuple[str, Any]]:
    """Rows of the phases table: label and a cell function of a phase dict; with ``plan``, the
    multi-site rows too when one of its phases spans several sites."""
    rows = _phase_rows()
    if plan and any(p.get("multisite") for p in plan["phases"]):
        at = next(i for i, (label, _) in enumerate(rows) if label == "power infrastructure") + 1
        rows[at:at] = [(label.strip(), cell) for label, cell in phase_site_rows(lambda p: p.get("multisite"))]
    if plan and plan.get("serving_workload"):
        from stargate.report.plan_serving import serving_rows

        rows += [(label.strip(), lambda p, cell=cell: cell(p.get("serving")))
                 for label, cell in serving_rows(plan["serving_workload"])]
    return rows


def _phase_rows() -> list[tuple[str, Any]]:
    return [
        ("accelerator", lambda p: p["accelerator"]),
        ("GPUs", lambda p: fmt.format_count(p["gpus"]) + _band(range_at(p, "gpus"), fmt.format_count)),
        ("racks", lambda p: f"{fmt.format_count(p['design']['racks'])} × "
                            f"{fmt.format_quantity(1e3 * p['design']['kw_per_rack'], 'W')}"),
        ("cooling", lambda p: p["design"]["cooling"].replace("_", " ")),
        ("facility power", lambda p: fmt.format_quantity(p["facility_power_w"], "W")
         + _band(range_at(p, "facility_power_w"), lambda v: fmt.format_quantity(v, "W"))),
        ("facility power per GPU", lambda p: fmt.format_quantity(p["facility_power_w"] / p["gpus"], "W")),
        ("PUE design / annual", lambda p: f"{p['design']['design_pue']:.2f} / {p['design']['annual_pue']:.2f}"),
        ("capex", lambda p: fmt.format_usd(p["capex_usd"]) + _band(range_at(p, "capex_usd"), fmt.format_usd)),
        ("network share of capex", lambda p: _pct(p["design"]["capex_breakdown_usd"]["network"], p["capex_usd"])),
        ("fabric", lambda p: fabric_summary(p["design"].get("network") or {})),
        ("power infrastructure", lambda p: fmt.format_usd(p["design"]["capex_breakdown_usd"]["power_infrastructure"])
         + " (" + _pct(p["design"]["capex_breakdown_usd"]["power_infrastructure"], p["capex_usd"]) + ")"),
        ("TCO per GPU-hour", lambda p: f"${p['design']['tco_usd_per_gpu_hour']:.2f}"
         + _band(range_at(p, "tco_usd_per_gpu_hour"), lambda v: f"${v:.2f}")),
        ("cost of capital per GPU-hour", lambda p: f"${p['design']['tco_breakdown_usd_per_gpu_hour'].get('capital_cost', 0.0):.2f}"
         f" at {100 * p['design'].get('wacc_per_year', 0.0):.0f}%/y"),
        ("peak (dense 16-bit)", lambda p: fmt.format_quantity(p["peak_flops"], "FLOP/s")),
        ("MFU", lambda p: _opt(p["mfu"], lambda v: f"{fmt.format_percent(v)} ({p['reference_model']})")
         + _band(range_at(p, "mfu") or p.get("mfu_range"), fmt.format_percent)),
        ("parallel plan", lambda p: _opt(p["reference_job"], lambda j: " ".join(
            f"{k}{j['parallelism'][k]}" for k in ("tp", "pp", "cp", "ep", "dp")) + f", {j['step_time_s']:.2f} s/step")),
        ("jobs × GPUs", lambda p: f"{p.get('jobs', 1):,} × {p.get('job_gpus', p['gpus']):,}"),
        ("goodput", lambda p: fmt.format_percent(p["goodput"]) + _opt(p.get("reliability"), lambda r: f" ({r['strategy']})")
         + _band(range_at(p, "goodput"), lambda v: fmt.format_percent(v, 1))),
        ("restart / warm spares", lambda p: _opt(p.get("reliability"), lambda r: (
            f"{fmt.format_quantity(r['restart_s'], 's')} / {fmt.format_percent(r['spare_fraction'], 1)} of GPUs"))),
        ("largest model", lambda p: _opt(p["largest_model_params"], lambda v: f"{fmt.format_scaled_count(v)} params")
         + _band(range_at(p, "largest_model_params") or p.get("largest_model_params_range"), fmt.format_scaled_count)),
        ("GPT-4-class (2e25 FLOP)", lambda p: _opt(p["gpt4_class_days"], fmt.format_days)
         + _band(range_at(p, "gpt4_class_days") or p.get("gpt4_class_days_range"), fmt.format_days)),
        ("energy per year", lambda p: fmt.format_energy_mwh(p["energy_mwh_per_year"])),
        ("carbon per year", lambda p: fmt.format_carbon_t(p["carbon_t_per_year"])),
    ]


def summary_cards(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """Headline figures of a plan."""
    t = plan["totals"]
    r = t.get("ranges") or {}
    cards = [("phases", str(len(plan["phases"]))),
             ("GPUs", fmt.format_count(t["gpus"]) + _band(r.get("gpus"), fmt.format_count)),
             ("capex", fmt.format_usd(t["capex_usd"]) + _band(r.get("capex_usd"), fmt.format_usd)),
             ("facility power", fmt.format_quantity(t["facility_power_w"], "W")
              + _band(r.get("facility_power_w"), lambda v: fmt.format_quantity(v, "W"))),
             ("peak (16-bit)", fmt.format_quantity(t["peak_flops"], "FLOP/s")),
             ("opex per year", fmt.format_usd(t["opex_usd_per_year"]))]
    if "reported_capex_usd" in t:
        cards.append(("reported capex", fmt.format_usd(t["reported_capex_usd"])))
    largest = [p["largest_model_params"] for p in plan["phases"] if p["largest_model_params"]]
    if largest:
        cards.append(("largest trainable model", f"{fmt.format_scaled_count(max(largest))} params"))
    if "serving_tokens_per_day" in t:
        cards.append(("serves per day", f"{fmt.format_scaled_count(t['serving_tokens_per_day'])} tokens"))
    return cards


def used_sources(plan: dict[str, Any], catalog: Catalog) -> list[dict[str, str]]:
    """Every catalog entry whose numbers the plan used, with its source and date."""
    wanted: list[tuple[str, str]] = []
    for p in plan["phases"]:
        d = p["design"]
        acc = catalog.accelerator(p["accelerator"])
        wanted += [("accelerators", acc.id), ("systems", d["system"]), ("cooling", d["cooling"]),
                   ("scale_up", acc.scale_up), ("fabrics", d["fabric"])]
        wanted += [("energy_sources", src) for src, _ in p.get("energy_mix") or [(d["energy_source"], 1.0)]]
    for kind in ("storage", "finance", "it_overhead", "failure_rates", "recovery", "spares", "training", "floor_plans",
                 "switches", "nics", "media"):
        wanted += [(kind, e.id) for e in catalog.entries(kind)]
    seen, out = set(), []
    for kind, key in wanted:
        if (kind, key) in seen:
            continue
        seen.add((kind, key))
        e = catalog.get(kind, key)
        out.append({"kind": kind, "id": e.id, "name": e.name, "source": e.source, "date": e.date})
    return out


def largest_fabric(plan: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """The fabric of the plan's largest phase, to draw by tiers."""
    from stargate.fabric.design import FabricRequest, design_fabric

    p = max(plan["phases"], key=lambda q: q["gpus"])
    req = FabricRequest(gpus=p["gpus"], fabric=p["design"]["fabric"], accelerator=p["accelerator"])
    return design_fabric(req, catalog).model_dump(mode="json")


def how_sure_text(plan: dict[str, Any], sensitivity: dict[str, Any] | None) -> list[str]:
    """What the "How sure" section says about its figures: how the ranges were drawn, what each phase's
    model held fixed, and which phase the tornados are of.

    Examples
    --------
    >>> how_sure_text({"uncertainty": {"samples": 500, "seed": 0, "sampling": "Latin hypercube", "inputs": [{}] * 3}},
    ...               {"phase": "Phase 5: Stargate"})[0]
    'Ranges: P10, P50 and P90 of 500 samples (seed 0, Latin hypercube) of 3 uncertain inputs.'
    """
    u = plan.get("uncertainty") or {}
    out = []
    if u:
        out.append(f"Ranges: P10, P50 and P90 of {u.get('samples', 0):,} samples (seed {u.get('seed', 0)}, "
                   f"{u.get('sampling', '')}) of {len(u.get('inputs', []))} uncertain inputs.")
    for meta in u.get("phases", []):
        if meta.get("held_fixed"):
            out.append(f"{meta.get('phase', '')}: held at the point answer's choice: {'; '.join(meta['held_fixed'])}.")
    if sensitivity:
        out.append(f"Tornados: {sensitivity.get('phase', 'the last phase')}; each input set to its P10 and then its "
                   "P90 with every other input at its point (one at a time); the hover gives the input's band and its "
                   "Sobol total index (the share of the headline's variance it accounts for, interactions included).")
    return out


def _groups(sure: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """The "How sure" charts by kind, as (kind, heading, chart ids), kinds without charts left out."""
    heads = {"fan": "Each headline by phase: P10–P90 shaded, P50 dashed, the point answer marked",
             "tornado": "What moves each headline most"}
    groups = [(kind, head, [k for k in sure if k.startswith(kind + "-")]) for kind, head in heads.items()]
    return [g for g in groups if g[2]]


def render_report(plan: dict[str, Any], catalog: Catalog, fabric: dict[str, Any] | None = None,
                  comparison: Any = None, sensitivity: dict[str, Any] | None = None) -> str:
    """The whole report as one HTML string; with ``comparison`` (a :class:`~stargate.compare.Comparison`
    of this plan and others), a section that sets the plans side by side with what accounts for each delta;
    with ranges on the plan's phases (``plan --uncertainty``) and ``sensitivity`` (``stargate sensitivity
    --json`` of one phase), a "How sure" section of fan charts and tornados.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> html = render_report(run_plan(builtin_scenario()).model_dump(mode="json"), Catalog.load())
    >>> "Plotly" in html and "<table id=\\"sources\\">" in html
    True
    """
    from stargate import __version__
    from stargate.report.comparison import comparison_table, legend
    from stargate.report.plan_serving import workload_text

    warnings = [f"{p['name']}: {w}" for p in plan["phases"] for w in p["warnings"]]
    header, rows = comparison_table(comparison) if comparison is not None else ([], [])
    charts = plan_charts(plan, fabric if fabric is not None else largest_fabric(plan, catalog))
    sure = how_sure_charts(plan, sensitivity)
    return environment().get_template("report.html").render(
        comparison=comparison, compare_header=header, compare_rows=rows,
        compare_legend=legend(comparison) if comparison is not None else [],
        plan=plan, rows=phase_rows(plan), cards=summary_cards(plan),
        charts=charts, figures=charts | sure, how_sure=_groups(sure), how_sure_text=how_sure_text(plan, sensitivity),
        sources=used_sources(plan, catalog), warnings=warnings, version=__version__,
        serving_text=workload_text(plan["serving_workload"]) if plan.get("serving_workload") else "",
        plotly_tag=f"<script>{plotly_js()}</script>",
    )
