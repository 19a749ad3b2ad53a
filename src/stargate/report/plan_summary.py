"""The plan for people: ``stargate plan``'s terminal summary, one column per phase (so it reads in a
narrow terminal) and one row per figure, then the totals, warnings and assumptions.
"""

from __future__ import annotations

from typing import Any

from stargate.format import (
    format_carbon_t,
    format_count,
    format_days,
    format_energy_mwh,
    format_percent,
    format_quantity,
    format_scaled_count,
    format_usd,
)
from stargate.report.sites import phase_site_rows
from stargate.report.tables import _console, _safe, print_labelled


def fabric_summary(net: dict[str, Any]) -> str:
    """The chosen scale-out fabric in a few words: switch, planes x link speed, tiers, taper."""
    if not net:
        return "—"
    taper = f", {net['taper']:g}:1 above pods" if net.get("taper", 1.0) > 1.0 else ""
    return f"{net['switch']}, {net['planes']} × {net['link_bits_per_s'] / 1e9:g}G, {net['tiers']} tiers{taper}"


def _opt(value: Any, fmt: Any) -> str:
    return "—" if value is None else fmt(value)


def render_plan(plan: Any) -> None:
    """Print a plan: one column per phase (so it reads in a narrow terminal), then totals."""
    plan = _safe(plan)
    c = _console()
    c.print(f"[bold]Scenario {plan.scenario}[/]: {plan.description}")
    rows = {
        "accelerator": lambda p: p.accelerator,
        "GPUs": lambda p: f"{p.gpus:,}",
        "racks": lambda p: f"{p.design.racks:,} × {format_quantity(1e3 * p.design.kw_per_rack, 'W')}",
        "cooling": lambda p: p.design.cooling,
        "facility power": lambda p: format_quantity(p.facility_power_w, "W"),
        "  per GPU": lambda p: format_quantity(p.facility_power_w / p.gpus, "W"),
        "  PUE design / annual": lambda p: f"{p.design.design_pue:.2f} / {p.design.annual_pue:.2f}",
        "capex": lambda p: format_usd(p.capex_usd),
        "  accelerators": lambda p: _share(p.design.capex_breakdown_usd["accelerators"], p.capex_usd),
        "  network": lambda p: _share(p.design.capex_breakdown_usd["network"], p.capex_usd),
        "  fabric": lambda p: fabric_summary(p.design.network),
        "  facility": lambda p: _share(p.design.capex_breakdown_usd["facility"], p.capex_usd),
        "  power infrastructure": lambda p: _share(p.design.capex_breakdown_usd["power_infrastructure"], p.capex_usd),
        **_site_rows(plan.phases),
        "TCO per GPU-hour": lambda p: f"${p.design.tco_usd_per_gpu_hour:.2f}",
        "  cost of capital": lambda p: (f"${p.design.tco_breakdown_usd_per_gpu_hour.get('capital_cost', 0.0):.2f} "
                                        f"at {100 * p.design.wacc_per_year:.0f}%/y"),
        "peak (dense 16-bit)": lambda p: format_quantity(p.peak_flops, "FLOP/s"),
        "MFU (reference model)": lambda p: _opt(p.mfu, lambda v: f"{format_percent(v)} ({p.reference_model})"),
        "  MFU P10–P90": lambda p: _opt(p.mfu_range, lambda r: f"{100 * r['p10']:.0f}–{format_percent(r['p90'])}"),
        "jobs × GPUs": lambda p: f"{p.jobs:,} × {p.job_gpus:,}",
        "interruptions per day": lambda p: f"{p.reliability['interruptions_per_day']:,.1f} per job",
        "goodput": lambda p: f"{format_percent(p.goodput)} {p.reliability['strategy']}",
        "  restart / spares": lambda p: (f"{p.reliability['restart_s']:,.0f} s / "
                                         f"{100 * p.reliability['spare_fraction']:.1f}%"),
        "largest model": lambda p: _opt(p.largest_model_params, lambda v: f"{format_scaled_count(v)} params in "
                                        f"{format_days(p.training_days, 0)}"),
        "  size P10–P90": lambda p: _opt(p.largest_model_params_range, lambda r: f"{format_scaled_count(r['p10'])}–"
                                         f"{format_scaled_count(r['p90'])}"),
        "  on tokens": lambda p: _opt(p.largest_model_tokens, format_scaled_count),
        "  synthetic share": lambda p: _opt(p.data, lambda v: f"{100 * v['synthetic_tokens'] / v['tokens_needed']:.0f}% of tokens"),
        "GPT-4-class (2e25 FLOP)": lambda p: _opt(p.gpt4_class_days, format_days),
        "  days P10–P90": lambda p: _opt(p.gpt4_class_days_range, lambda r: f"{r['p10']:,.1f}–{format_days(r['p90'])}"),
        "energy per year": lambda p: f"{format_energy_mwh(p.energy_mwh_per_year)}, {format_usd(p.energy_cost_usd_per_year)}",
        "carbon per year": lambda p: format_carbon_t(p.carbon_t_per_year),
        **_serving_rows(plan),
        "reported": lambda p: _reported(p.reported),
    }
    print_labelled(c, [f"{p.name} ({p.year})" for p in plan.phases],
                   {label: [cell(p) for p in plan.phases] for label, cell in rows.items()})
    tot = plan.totals
    line = (f"totals: {format_count(tot['gpus'])} GPUs, capex {format_usd(tot['capex_usd'])}, facility power "
            f"{format_quantity(tot['facility_power_w'], 'W')}, opex {format_usd(tot['opex_usd_per_year'])}/yr")
    if "serving_tokens_per_day" in tot:
        line += (f", serving {format_scaled_count(tot['serving_tokens_per_day'])} tokens/day to "
                 f"{format_scaled_count(tot['serving_users'])} users")
    if "reported_capex_usd" in tot:
        line += f"; reported {format_usd(tot['reported_capex_usd'])} ({tot['reported_capex_source']})"
    c.print(line)
    for p in plan.phases:
        for w in p.warnings:
            c.print(f"[yellow]{p.name}: {w}[/]")
    if plan.serving_workload:
        from stargate.report.plan_serving import workload_text

        c.print(f"[dim]serving workload: {workload_text(plan.serving_workload)}[/]")
    c.print("[dim]assumptions: " + "; ".join(plan.assumptions) + "[/]")
    c.print("[dim]P10–P90: from the cross-validated residuals of comparable published runs (measured / predicted "
            "tokens/s per GPU, leave-one-source-out), applied to the reference model's throughput[/]")


def _serving_rows(plan: Any) -> dict[str, Any]:
    """The serving rows (:func:`stargate.report.plan_serving.serving_rows`), on each phase's ``serving``."""
    from stargate.report.plan_serving import serving_rows

    return {label: (lambda p, cell=cell: cell(p.serving)) for label, cell in serving_rows(plan.serving_workload)}


def _site_rows(phases: Any) -> dict[str, Any]:
    """The multi-site rows (sites, links, their cost, added step time), when a phase spans sites."""
    if not any(p.multisite for p in phases):
        return {}
    return dict(phase_site_rows(lambda p: p.multisite))


def _reported(r: dict[str, Any] | None) -> str:
    if not r:
        return "—"
    parts = []
    if r.get("capex_usd"):
        parts.append(format_usd(r["capex_usd"]))
    if r.get("gpus"):
        parts.append(f"{format_count(r['gpus'])} GPUs")
    if r.get("power_w"):
        parts.append(format_quantity(r["power_w"], "W"))
    return ", ".join(parts) or "—"


def _share(part: float, total: float) -> str:
    return f"{format_usd(part)} ({format_percent(part / total)})"
