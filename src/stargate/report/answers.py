"""The one-question answers for people: the terminal summaries of ``stargate design`` (a cluster),
``stargate fabric`` (its scale-out network, or InfiniBand and Ethernet side by side) and
``stargate train`` (a training job: its plan, step time, memory, the fastest alternatives, time and cost).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table

from stargate.format import (
    format_carbon_t,
    format_count,
    format_days,
    format_energy_mwh,
    format_quantity,
    format_scaled_count,
    format_share,
    format_usd,
)
from stargate.report.sites import link_parts, link_summary, route_summary
from stargate.report.tables import _breakdown, _console, _safe, print_labelled


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
