"""Readable terminal summaries (rich) of designs, plans and catalog entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stargate.errors import clip
from stargate.format import (
    format_carbon_t,
    format_count,
    format_days,
    format_energy_mwh,
    format_percent,
    format_quantity,
    format_scaled_count,
    format_share,
    format_usd,
)
from stargate.report.sites import link_parts, link_summary, phase_site_rows, route_summary

__all__ = ["print_ranges", "ranges_table", "render_catalog_list", "render_design", "render_entry", "render_front",
           "render_plan", "result_cell", "result_title"]


def _console() -> Console:
    return Console(highlight=False, emoji=False)


def _plain(text: str) -> str:
    """A user's string made inert: control characters (terminal escape codes) shown escaped, rich
    markup escaped, so a name like ``[/]`` or ``\\x1b[2J`` prints as typed and drives nothing."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text)
    return escape(text)


def _safe(obj: Any) -> Any:
    """``obj`` with every string in it passed through :func:`_plain` (models, dicts, lists, tuples).

    Examples
    --------
    >>> _safe({"name": "[/]", "n": [1, "\\x1b[31m"]})
    {'name': '\\\\[/]', 'n': [1, '\\\\x1b[31m']}
    """
    if isinstance(obj, str):
        return _plain(obj)
    if isinstance(obj, BaseModel):
        return type(obj).model_construct(**{k: _safe(getattr(obj, k)) for k in type(obj).model_fields})
    if isinstance(obj, dict):
        return {_safe(k): _safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_safe(v) for v in obj)
    return obj


def _breakdown(title: str, parts: dict[str, float], fmt: Any, total: float) -> Table:
    t = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    t.add_column(style="dim")
    t.add_column(justify="right")
    t.add_column(justify="right", style="dim")
    for name, value in parts.items():
        share = f"{100 * value / total:.1f}%" if total else ""
        t.add_row(name.replace("_", " "), fmt(value), share)
    t.add_row("total", fmt(total), "", style="bold")
    return t


MIN_CELL_WIDTH = 14
"""Narrowest a value column of a labelled table may get before its columns are split over more tables."""


def print_labelled(c: Console, headers: list[str], rows: dict[str, list[str]], min_cell: int = MIN_CELL_WIDTH) -> None:
    """Print rows of ``label: one cell per column`` so that every label stays whole in any width.

    The label column never wraps; the value columns wrap instead, and where the console is too narrow
    for every column at ``min_cell`` characters, the columns go over several tables of the same rows
    (at 80 columns, a five-phase plan prints as two tables).
    """
    label_width = max(map(len, rows), default=0)
    per_table = max(1, (c.width - label_width - 4) // (min_cell + 3))
    for first in range(0, len(headers), per_table):
        cols = range(first, min(first + per_table, len(headers)))
        t = Table(show_header=True)
        t.add_column("", style="dim", no_wrap=True, min_width=label_width)
        for i in cols:
            t.add_column(headers[i], justify="right", overflow="fold", min_width=min(min_cell, c.width // 4))
        for label, cells in rows.items():
            t.add_row(label, *(cells[i] for i in cols))
        c.print(t)


def render_design(d: Any) -> None:
    """Print a cluster design: counts, density, cooling, power, capex, opex, TCO."""
    d = _safe(d)
    c = _console()
    c.print(f"[bold]{d.gpus:,} × {d.accelerator}[/] in {d.systems:,} {d.system} systems, "
            f"{d.racks:,} racks ({d.systems_per_rack} per rack, {format_quantity(1e3 * d.kw_per_rack, 'W')} per rack)")
    c.print(f"cooling: {d.cooling_reason}")
    peak_it = d.peak_it_power_w
    drawn = "" if peak_it >= d.it_power_w * (1 - 1e-9) else f" (drawn at the measured training peak: {format_quantity(peak_it, 'W')})"
    c.print(f"power: IT {format_quantity(d.it_power_w, 'W')}{drawn} × design PUE {d.pue:.2f} = facility "
            f"{format_quantity(d.facility_power_w, 'W')}; energy at annual PUE {d.annual_pue:.2f} "
            f"{format_energy_mwh(d.energy_mwh_per_year)}/yr from {d.energy_source}, {format_carbon_t(d.carbon_t_per_year)}/yr")
    peak = d.peak_flops_per_s.get("bf16", d.peak_flops_per_s.get("fp16", 0.0))
    c.print(f"peak (dense 16-bit): {format_quantity(peak, 'FLOP/s')}")
    c.print(_breakdown("IT power", d.it_power_breakdown_w, lambda v: format_quantity(v, "W"), d.it_power_w))
    c.print(_breakdown("Capex", d.capex_breakdown_usd, format_usd, d.capex_usd))
    c.print(_breakdown("Opex per year", d.opex_breakdown_usd_per_year, format_usd, d.opex_usd_per_year))
    c.print(_breakdown(
        f"TCO per GPU-hour (IT over {d.it_life_years:g} y, facility over {d.facility_life_years:g} y, "
        f"capital at {100 * getattr(d, 'wacc_per_year', 0.0):g}%/y)",
        d.tco_breakdown_usd_per_gpu_hour, lambda v: f"${v:.3f}", d.tco_usd_per_gpu_hour,
    ))
    for note in d.notes:
        c.print(f"[dim]note: {note}[/]")


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


def render_catalog_list(listing: dict[str, list[dict[str, Any]]]) -> None:
    """Print catalog entries, one table per section."""
    listing = _safe(listing)
    c = _console()
    for kind, entries in listing.items():
        t = Table(title=kind, title_justify="left")
        t.add_column("id")
        t.add_column("name")
        t.add_column("aliases" if kind == "accelerators" else "date")
        dated = kind in ("accelerators", "systems")
        if dated:
            t.add_column("year")  # first volume shipments: a scenario phase before it cannot use the part
        for e in entries:
            third = ", ".join(e.get("aliases", [])) if kind == "accelerators" else e["date"]
            t.add_row(e["id"], e["name"], third, *([str(e.get("year") or "")] if dated else []))
        c.print(t)


def render_entry(entry: dict[str, Any]) -> None:
    """Print every field of one catalog entry."""
    entry = _safe(entry)
    section = entry.get("section", entry["kind"])
    t = Table(title=f"{section}: {entry['id']}", title_justify="left", show_header=False)
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    for key, value in entry.items():
        if key in ("section", "id") or (key == "kind" and value == section):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        t.add_row(key, str(value))
    _console().print(t)


def _collective_time(key: str) -> Callable[[dict[str, Any]], str]:
    """The cell of one collective's time in a fabric column."""
    return lambda d: format_quantity(d["collectives_s"][key], "s")


def render_fabric(report: dict[str, Any]) -> None:
    """Print one fabric, or InfiniBand and Ethernet side by side."""
    report = _safe(report)
    designs = report.get("fabrics", [report])
    c = _console()
    d0 = designs[0]
    c.print(f"[bold]{d0['gpus']:,} × {d0['accelerator']}[/], {d0['topology']}, "
            f"{d0['planes']} plane(s) at {d0['link_bits_per_s'] / 1e9:g} Gbit/s")
    rows: dict[str, Callable[[dict[str, Any]], str]] = {
        "tiers": lambda d: str(d["tiers"]),
        "switches by tier": lambda d: " + ".join(f"{s:,}" for s in d["switches_by_tier"]) + f" = {d['switches']:,}",
        "links by tier": lambda d: " / ".join(f"{x:,}" for x in d["links_by_tier"]),
        "media by tier": lambda d: " / ".join(d["media_by_tier"]),
        "link length by tier": lambda d: " / ".join(format_quantity(x, "m") for x in d["link_length_m_by_tier"]),
        "NICs": lambda d: f"{d['nics']:,} × {d['nic']}",
        "transceivers": lambda d: f"{d['transceivers']:,}",
        "cables and fibres": lambda d: f"{d['cables']:,}",
        "capex": lambda d: f"{format_usd(d['fabric_capex_usd'])} ({format_usd(d['capex_usd_per_gpu'])}/GPU)",
        "power": lambda d: f"{format_quantity(d['fabric_power_w'], 'W')} ({format_quantity(d['power_w_per_gpu'], 'W')}/GPU)",
        "bisection": lambda d: format_quantity(d["bisection_bw_bytes_per_s"], "B/s"),
        "worst-case latency": lambda d: f"{format_quantity(d['worst_case_latency_s'], 's')} ({d['worst_case_switch_hops']} switches)",
    }
    for key in designs[0]["collectives_s"]:
        rows[key.replace("_", " ")] = _collective_time(key)
    print_labelled(c, [f"{d['fabric']} ({d['switch']}, {d['switch_radix']} ports)" for d in designs],
                   {label: [cell(d) for d in designs] for label, cell in rows.items()})
    su = d0["scale_up"]
    c.print(f"scale-up: {su['tech']}, {int(su['domain_gpus'])} GPUs per domain, "
            f"{format_quantity(su['bw_bytes_per_s_per_direction'], 'B/s')} per GPU per direction")
    for d in designs:
        ms = d.get("multisite")
        if ms:
            link = ms["link"]
            one = ms["all_reduce_one_site_s"]
            added = f" = {format_share(max(ms['added_step_time_s'], 0.0) / one)} of the one-site all-reduce" if one > 0 else ""
            fabric_usd = d["fabric_capex_usd"]
            share = f"{format_share(ms['links_capex_usd'] / fabric_usd)} of the fabric's capex: " if fabric_usd > 0 else ""
            c.print(f"{d['fabric']}: {ms['sites']} sites of {ms['gpus_per_site']:,} GPUs "
                    f"({ms['data_parallel']:,} replicas of {ms['model_parallel']} GPUs), "
                    f"{format_quantity(link['distance_m'], 'm')} apart; {ms['links']} link(s) of {link_summary(link)}, "
                    f"{route_summary(link)}, {format_quantity(link['latency_s'], 's')} one way: "
                    f"gradient all-reduce of {format_quantity(ms['gradient_bytes'], 'B')} takes {ms['all_reduce_across_sites_s']:.2f} s "
                    f"vs {one:.2f} s in one site (+{ms['added_step_time_s']:.2f} s per step{added}); "
                    f"links {format_usd(ms['links_capex_usd'])} ({share}{link_parts(link)})")
    for note in d0.get("notes", []):
        c.print(f"[dim]note: {note}[/]")


def render_train(out: dict[str, Any]) -> None:
    """Print a training estimate: the plan, its step-time breakdown, memory, time and cost."""
    out = _safe(out)
    c = _console()
    idle = out.get("idle_gpus", 0)
    used = f"{out['gpus_used']:,} of {out['gpus']:,} ({idle:,} idle)" if idle else f"{out['gpus']:,}"
    c.print(f"[bold]{out['model']}[/] ({format_scaled_count(out['params_total'])} parameters, "
            f"{format_scaled_count(out['params_active'])} active) "
            f"on {used} × {out['accelerator']}, {out['seq_len']:,}-token sequences, batch {out['global_batch']:,}, "
            f"{out['precision']}" + (f", {out['framework']}" if out.get("framework") else ""))
    s = out["search"]
    c.print(f"search: {s['candidates_evaluated']:,} plans, {s['feasible']:,} fit, {s['search_time_s'] * 1e3:.0f} ms")
    if not out["fits"]:
        c.print(_breakdown("Memory per GPU of the leanest plan (GiB)", {k: v / 2**30 for k, v in out["memory_breakdown_bytes"].items()},
                           lambda v: f"{v:.1f}", out["memory_per_gpu_bytes"] / 2**30))
        for note in out["notes"]:
            c.print(f"[bold red]{note}[/]")
        return
    p = out["parallelism"]
    stages = out.get("pipeline_layers")
    c.print("plan: " + ", ".join(f"{k}={v}" for k, v in p.items()) + f"; {out['micro_batches']} micro-batches"
            + (f"; layers per stage: first {stages['first']}, middle {stages['middle']}, last {stages['last']}" if stages else ""))
    c.print(f"step {out['step_time_s']:.3f} s, {out['tokens_per_s_per_gpu']:,.0f} tokens/s per GPU, "
            f"MFU {100 * out['mfu']:.1f}%, HFU {100 * out['hfu']:.1f}%")
    if out.get("tokens_per_s_per_gpu_range"):
        c.print(_train_ranges(out))
    c.print(_breakdown("Step time (s)", out["breakdown_s"], lambda v: f"{v:.4f}", out["step_time_s"]))
    c.print(_breakdown("Memory per GPU (GiB)", {k: v / 2**30 for k, v in out["memory_breakdown_bytes"].items()},
                       lambda v: f"{v:.1f}", out["memory_per_gpu_bytes"] / 2**30))
    if out.get("alternatives"):
        c.print(_train_alternatives(out))
    t = out["time_to_train"]
    days = f" ({t['days_range']['p10']:.1f}–{t['days_range']['p90']:.1f})" if t.get("days_range") else ""
    c.print(f"{format_scaled_count(t['tokens'])} tokens ({t['tokens_basis']}): {format_days(t['days'])}{days}, "
            f"{format_count(t['gpu_hours'])} GPU-hours, "
            f"{format_usd(t['cost_usd'])} at ${t['tco_usd_per_gpu_hour']:.2f} per GPU-hour (TCO)")
    c.print(f"[dim]MFU: {out['definitions']['mfu']}[/]")
    c.print(f"[dim]calibration: {out['calibration']}[/]")
    for note in out["notes"]:
        c.print(f"[dim]note: {note}[/]")


def _layout(p: dict[str, Any]) -> str:
    """A plan's parallel layout in one short cell: degrees above 1, then recompute and sharding."""
    degrees = " ".join(f"{k}{p[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vp") if p[k] > 1 or k == "dp")
    recompute = {"none": "", "selective": " rc-sel", "full": " rc-full"}.get(p["recompute"], f" {p['recompute']}")
    sharding = "" if p["sharding"] == "none" else f" {p['sharding']}"
    return f"{degrees} mbs{p['mbs']}{recompute}{sharding}"


def _train_alternatives(out: dict[str, Any]) -> Table:
    """The best plan and its alternatives side by side, near-ties (within 2% of the best step) marked."""
    t = Table(title="Fastest plans (≈: within 2% of the best step time)", title_justify="left", box=None, pad_edge=False)
    t.add_column("#")
    t.add_column("layout", overflow="fold")
    for col in ("step s", "Δ", "tok/s/GPU", "MFU", "GiB"):
        t.add_column(col, justify="right")
    rows = [{**out, "step_time_vs_best": 0.0, "near_tie": True}, *out["alternatives"]]
    for i, r in enumerate(rows):
        t.add_row(f"{i + 1}{' ≈' if i and r['near_tie'] else ''}", _layout(r["parallelism"]), f"{r['step_time_s']:.3f}",
                  f"+{100 * r['step_time_vs_best']:.1f}%" if i else "", f"{r['tokens_per_s_per_gpu']:,.0f}",
                  f"{100 * r['mfu']:.1f}%", f"{r['memory_per_gpu_bytes'] / 2**30:.1f}", style="bold" if i == 0 else None)
    return t


def _train_ranges(out: dict[str, Any]) -> str:
    """The P10–P90 line of a training estimate: throughput, step time and MFU."""
    tok, step, mfu = out["tokens_per_s_per_gpu_range"], out["step_time_s_range"], out["mfu_range"]
    band = out.get("prediction_interval") or {}
    cls = f", {band['class']} runs" + (", no band of its own: all classes' envelope" if band.get("borrowed") else "") if band else ""
    return (f"tokens/s/GPU {out['tokens_per_s_per_gpu']:,.0f} ({tok['p10']:,.0f}–{tok['p90']:,.0f}), "
            f"step {step['p10']:.3f}–{step['p90']:.3f} s, MFU {100 * mfu['p10']:.1f}–{100 * mfu['p90']:.1f}% "
            f"[dim](P10–P90 of cross-validated residuals{cls})[/]")


def render_validation(report: dict[str, Any], rows: bool = False) -> None:
    """Print the summary first (row counts, overall error, error by source and by accelerator), then one
    line per row; with ``rows``, the full per-row table (defaults taken, why a row was skipped).
    With cross-validation (``cross_validated``), its figures beside the in-sample ones."""
    report = _safe(report)
    c = _console()
    cv = report.get("cross_validated")
    s = report["summary"]
    c.print(f"predicted {s['predicted']} rows, skipped {s['skipped']}; with a measurement {s['with_measurement']}")
    for label, summary in (("in-sample", s), *(((f"leave-one-{report.get('cv_by')}-out", cv),) if cv else ())):
        o = summary.get("overall")
        if o:
            c.print(f"[bold]tokens/s per GPU, {label}: median |error| {format_percent(o['median_abs_error'], 1)}, "
                    f"p90 {format_percent(o['p90_abs_error'], 1)}, max {format_percent(o['max_abs_error'], 1)}, "
                    f"mean {100 * o['mean_error']:+.1f}%[/]")
    if s.get("trust_a"):
        o = s["trust_a"]
        c.print(f"[bold]trust A rows: median |error| {format_percent(o['median_abs_error'], 1)}, "
                f"p90 {format_percent(o['p90_abs_error'], 1)}[/]")
    for key in ("by_source", "by_family", "by_model", "by_scenario", "by_accelerator"):
        if key in s:
            _print_error_table(c, key, s[key], cv.get(key, {}) if cv else None, report.get("cv_by", ""))
    c.print(_validation_rows(report["rows"], bool(cv), rows, c.width))
    if not rows:
        c.print("[dim]defaults taken and reasons for skipped rows: --rows (or --json)[/]")


def _validation_rows(rows: list[dict[str, Any]], cv: bool, full: bool, width: int) -> Table:
    """Per-row predictions: one line each, or (``full``) with the defaults taken and the reasons for skips."""
    cols = ["run", "source", "accelerator", "measured", "predicted", "error", *(("CV error",) if cv else ())]
    cells_by_row = []
    for r in rows:
        measured = r["measured_tokens_per_s_per_gpu"]
        pred = r["predicted_tokens_per_s_per_gpu"]
        cells = [r["run_id"], r["source_id"], r["accelerator"], "" if measured is None else format_count(measured),
                 "skipped" if pred is None else format_count(pred), "" if r["error"] is None else f"{100 * r['error']:+.1f}%"]
        if cv:
            cells.append(f"{100 * r['cv_error']:+.1f}%" if r.get("cv_error") is not None else "")
        if full:
            cells.append(r["skipped"] or "; ".join(r["defaults"]))
        cells_by_row.append(cells)
    title = "Rows: tokens/s per GPU"
    if not full:
        return one_line_table(title, cols, cells_by_row, flexible=1, width=width, left=3)
    t = Table(title=title, title_justify="left")
    for i, col in enumerate([*cols, "defaults taken / skipped"]):
        t.add_column(col, justify="left" if i < 3 or col.startswith("defaults") else "right", overflow="fold")
    for cells in cells_by_row:
        t.add_row(*cells)
    return t


def one_line_table(title: str, headers: list[str], rows: list[list[str]], flexible: int, width: int, left: int) -> Table:
    """A borderless table of one line per row that fits ``width``: every column as wide as its widest cell but
    column ``flexible``, which takes the rest and ends long cells with an ellipsis; the first ``left``
    columns are left-aligned, the rest right-aligned (figures)."""
    from rich.text import Text

    widths = [max([len(h)] + [Text.from_markup(r[i]).cell_len for r in rows]) for i, h in enumerate(headers)]
    widths[flexible] = max(8, min(widths[flexible], width - sum(widths) + widths[flexible] - 2 * (len(headers) - 1)))
    t = Table(title=title, title_justify="left", box=None, pad_edge=False, show_edge=False)
    for i, h in enumerate(headers):
        t.add_column(h, justify="left" if i < left else "right", no_wrap=True, overflow="ellipsis", width=widths[i])
    for r in rows:
        t.add_row(*r)
    return t


def render_clusters(report: dict[str, Any], rows: bool = False) -> None:
    """Print how many reference checks land inside their published band, then one line per check (ours,
    published, inside or not); with ``rows``, the full table with each band and its source."""
    report = _safe(report)
    c = _console()
    s = report["summary"]
    c.print(f"[bold]{s['inside']} of {s['rows']} checks inside their published band[/]")
    title = "Reference clusters: ours vs published"
    cols = ["row", "what", *(["metric"] if rows else []), "variant", "ours", "published", *(["band"] if rows else []), "",
            *(["source (full in --json)"] if rows else [])]
    lines = []
    for r in report["rows"]:
        unit = r["unit"]
        cells = [r["ref_id"], r["what"], *([r["metric"]] if rows else []), r["variant"], _figure(r["ours"], unit),
                 _figure(r["published"], unit)]
        if rows:
            cells.append(f"{_figure(r['low'], unit)}–{_figure(r['high'], unit)}")
        cells.append("[green]inside[/]" if r["inside"] else "[red]outside[/]")
        if rows:
            cells.append(f"{clip(r['source'].split(';')[0], 48)} ({r['date']})")
        lines.append(cells)
    if rows:
        t = Table(title=title, title_justify="left")
        for col in cols:
            t.add_column(col, overflow="fold", justify="right" if col in ("ours", "published", "band") else "left")
        for cells in lines:
            t.add_row(*cells)
    else:
        t = one_line_table(title, cols, lines, flexible=1, width=c.width, left=3)
    c.print(t)
    if not rows:
        c.print("[dim]bands and sources: --rows (or --json)[/]")


def _figure(value: float, unit: str) -> str:
    """A figure in its unit, readable: 143.9 MW, $3.72B, 42%, 1,392 s."""
    if unit in ("W", "USD"):
        return format_usd(value) if unit == "USD" else format_quantity(value, "W")
    if unit == "fraction":
        return format_percent(value, 1)
    if unit == "count":
        return format_count(value)
    if unit == "ratio":
        return f"{value:.2f}"
    if unit.startswith("USD/"):
        return f"${value:,.2f}/{unit[4:]}"
    return f"{value:,.3g} {unit}" if abs(value) < 1000 else f"{value:,.0f} {unit}"


def _print_error_table(c: Console, key: str, stats: dict[str, Any], cv: dict[str, Any] | None, cv_by: str) -> None:
    """Error statistics by source or accelerator; cross-validated columns beside them when given."""
    title = key.replace("_", " ") + (f" (in-sample | leave-one-{cv_by}-out)" if cv is not None else "")
    cols = ["rows", "median |err|", "p90 |err|", "max |err|", "mean err"]
    if cv is not None:
        cols += ["CV median |err|", "CV p90 |err|", "CV mean err"]
    rows = {}
    for name, st in stats.items():
        cells = [str(st["rows"]), format_percent(st["median_abs_error"], 1), format_percent(st["p90_abs_error"], 1),
                 format_percent(st["max_abs_error"], 1), f"{100 * st['mean_error']:+.1f}%"]
        if cv is not None:
            h = cv.get(name)
            cells += ([format_percent(h["median_abs_error"], 1), format_percent(h["p90_abs_error"], 1),
                       f"{100 * h['mean_error']:+.1f}%"] if h else ["", "", ""])
        rows[name] = cells
    c.print(title)
    print_labelled(c, cols, rows, min_cell=7)


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


_COUNTS = ("gpus", "seq_len", "global_batch", "sites")
_SCALED = ("training_tokens", "training_tokens_used", "largest_model_params")


def result_cell(column: str, value: Any) -> str:
    """A sweep result's value, readable, by its column's name: dollars, watts, days, counts, shares.

    Examples
    --------
    >>> result_cell("capex_usd", 1.23e10), result_cell("facility_power_w", 1.2e9)
    ('$12.3B', '1.2 GW')
    >>> result_cell("time_to_train_s", 3905280.0)
    '45.2 days'
    >>> result_cell("gpus_built", 120000), result_cell("mfu", 0.412), result_cell("training_tokens", 1.5e13)
    ('120,000', '41.2%', '15 T')
    >>> result_cell("training_tokens", 0.0)
    '20/param'
    >>> result_cell("c", 5.641e10), result_cell("ratio", 0.1234)  # a column of no known unit
    ('56.4B', '0.1234')
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if column == "training_tokens" and value == 0:  # a sweep's 0: the Chinchilla 20 per active parameter
        return "20/param"
    if isinstance(value, int) or column in _COUNTS:
        return _figure(value, "count")
    units = (("time_to_train_s", "days"), ("training_days", "days"), ("_usd_per_gpu_hour", "USD/GPU-hour"),
             ("_usd", "USD"), ("_w", "W"), ("_s", "s"), ("kw_per_rack", "kW"), ("mfu", "fraction"),
             ("goodput", "fraction"), ("_mwh_per_year", "MWh/yr"), ("_t_per_year", "t/yr"))
    if column.endswith("_usd_per_year"):
        return format_usd(value) + "/yr"
    if column.endswith("_m"):
        return format_quantity(value, "m")
    if column in _SCALED:
        return format_quantity(value, "").strip()
    for suffix, unit in units:
        if column.endswith(suffix):
            return _figure(value / 86400 if column == "time_to_train_s" else value, unit)
    return format_scaled_count(value) if abs(value) >= 1e4 else f"{value:,.4g}"  # no exponent for large figures


def result_title(column: str) -> str:
    """A result column's name for a table's header: words, without the unit the cells carry.

    Examples
    --------
    >>> result_title("time_to_train_s"), result_title("capex_usd"), result_title("gpus_built")
    ('time to train', 'capex', 'gpus built')
    """
    return column.removesuffix("_usd").removesuffix("_w").removesuffix("_s").replace("_", " ")


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


def ranges_table(ranges: dict[str, dict[str, float]], point: dict[str, Any] | None = None, title: str = "Ranges") -> Table:
    """A table of headlines with their P50 and P10–P90, the point answer beside where given; a dotted
    headline (``capex_breakdown_usd.network``) is a part of its figure and is formatted in its unit.

    Examples
    --------
    >>> t = ranges_table({"capex_usd": {"p10": 9e9, "p50": 1e10, "p90": 1.2e10}}, {"capex_usd": 1e10})
    >>> [c.header for c in t.columns]
    ['', 'point', 'P50', 'P10–P90']
    """
    t = Table(title=title, title_justify="left", box=None, pad_edge=False)
    t.add_column("", style="dim", no_wrap=True)
    if point is not None:
        t.add_column("point", justify="right")
    t.add_column("P50", justify="right")
    t.add_column("P10–P90", justify="right")
    for key, r in ranges.items():
        head, _, part = key.partition(".")
        label = _range_label(head) + (f": {part.replace('_', ' ')}" if part else "")
        cells = [_range_cell(head, r["p50"]), f"{_range_cell(head, r['p10'])}–{_range_cell(head, r['p90'])}"]
        if point is not None:
            value = point.get(head, {}).get(part) if part and isinstance(point.get(head), dict) else point.get(key)
            cells.insert(0, "" if value is None else _range_cell(head, value))
        t.add_row(label, *cells)
    return t


_RANGE_UNITS = {"_usd_per_gpu_hour": " per GPU-hour", "_usd_per_year": " per year", "_mwh_per_year": " per year",
                "_usd_per_gpu": " per GPU", "_w_per_gpu": " per GPU", "_usd": "", "_w": "", "_s": ""}
"""Unit suffixes of headline keys and the words a label keeps of them."""


def _range_label(head: str) -> str:
    """A headline's name in words, without its unit (the cells carry it).

    Examples
    --------
    >>> _range_label("tco_usd_per_gpu_hour"), _range_label("capex_breakdown_usd")
    ('tco per GPU-hour', 'capex')
    """
    for suffix, words in _RANGE_UNITS.items():
        if head.endswith(suffix):
            head = head.removesuffix(suffix) + words
            break
    return head.replace("_breakdown", "").replace("_", " ")


def _range_cell(head: str, value: float) -> str:
    """One figure of a range, in its headline's unit."""
    if head.endswith("_mwh_per_year"):
        return format_energy_mwh(value) + "/yr"
    if head.endswith("_usd_per_gpu_hour"):
        return f"${value:.3f}"
    if head.endswith("_usd_per_gpu"):
        return f"${value:,.0f}"
    if head.endswith("_w_per_gpu"):
        return format_quantity(value, "W")
    if head == "racks":
        return format_count(value)
    return result_cell(head, value)


def print_ranges(answer: dict[str, Any]) -> None:
    """Print an answer's ``ranges`` (P50 with P10–P90 beside each point figure) and how they were drawn."""
    block = answer.get("uncertainty", {})
    c = _console()
    c.print(ranges_table(_safe(answer["ranges"]), _safe(answer),
                         f"Ranges: P50 (P10–P90) over {block.get('samples', 0):,} samples, seed {block.get('seed', 0)}"))
    inputs = block.get("inputs", [])
    if inputs:
        c.print(f"[dim]{len(inputs)} uncertain inputs, each with its P10–P90 band (--json: uncertainty.inputs)[/]")
