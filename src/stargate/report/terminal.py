"""Readable terminal summaries (rich) of designs, plans and catalog entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stargate.errors import clip
from stargate.units import format_quantity, format_usd

__all__ = ["render_catalog_list", "render_design", "render_entry", "render_plan"]


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


def render_design(d: Any) -> None:
    """Print a cluster design: counts, density, cooling, power, capex, opex, TCO."""
    d = _safe(d)
    c = _console()
    c.print(f"[bold]{d.gpus:,} × {d.accelerator}[/] in {d.systems:,} {d.system} systems, "
            f"{d.racks:,} racks ({d.systems_per_rack} per rack, {d.kw_per_rack:.1f} kW per rack)")
    c.print(f"cooling: {d.cooling_reason}")
    peak_it = d.peak_it_power_w
    drawn = "" if peak_it >= d.it_power_w * (1 - 1e-9) else f" (drawn at the measured training peak: {format_quantity(peak_it, 'W')})"
    c.print(f"power: IT {format_quantity(d.it_power_w, 'W')}{drawn} × design PUE {d.pue:.2f} = facility "
            f"{format_quantity(d.facility_power_w, 'W')}; energy at annual PUE {d.annual_pue:.2f} "
            f"{d.energy_mwh_per_year / 1e6:.2f} TWh/yr "
            f"from {d.energy_source}, {d.carbon_t_per_year / 1e6:.2f} Mt CO2e/yr")
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
    t = Table(show_header=True)
    t.add_column("", style="dim")
    for p in plan.phases:
        t.add_column(f"{p.name} ({p.year})", justify="right")
    rows = {
        "accelerator": lambda p: p.accelerator,
        "GPUs": lambda p: f"{p.gpus:,}",
        "racks": lambda p: f"{p.design.racks:,} × {p.design.kw_per_rack:.0f} kW",
        "cooling": lambda p: p.design.cooling,
        "facility power": lambda p: format_quantity(p.facility_power_w, "W"),
        "  per GPU": lambda p: f"{p.facility_power_w / p.gpus:,.0f} W",
        "  PUE design / annual": lambda p: f"{p.design.design_pue:.2f} / {p.design.annual_pue:.2f}",
        "capex": lambda p: format_usd(p.capex_usd),
        "  accelerators": lambda p: _share(p.design.capex_breakdown_usd["accelerators"], p.capex_usd),
        "  network": lambda p: _share(p.design.capex_breakdown_usd["network"], p.capex_usd),
        "  fabric": lambda p: fabric_summary(p.design.network),
        "  facility": lambda p: _share(p.design.capex_breakdown_usd["facility"], p.capex_usd),
        "  power infrastructure": lambda p: _share(p.design.capex_breakdown_usd["power_infrastructure"], p.capex_usd),
        "TCO per GPU-hour": lambda p: f"${p.design.tco_usd_per_gpu_hour:.2f}",
        "  cost of capital": lambda p: (f"${p.design.tco_breakdown_usd_per_gpu_hour.get('capital_cost', 0.0):.2f} "
                                        f"at {100 * p.design.wacc_per_year:.0f}%/y"),
        "peak (dense 16-bit)": lambda p: format_quantity(p.peak_flops, "FLOP/s"),
        "MFU (reference model)": lambda p: _opt(p.mfu, lambda v: f"{100 * v:.0f}% ({p.reference_model})"),
        "  MFU P10–P90": lambda p: _opt(p.mfu_range, lambda r: f"{100 * r['p10']:.0f}–{100 * r['p90']:.0f}%"),
        "jobs × GPUs": lambda p: f"{p.jobs:,} × {p.job_gpus:,}",
        "interruptions per day": lambda p: f"{p.reliability['interruptions_per_day']:,.1f} per job",
        "goodput": lambda p: f"{100 * p.goodput:.0f}% {p.reliability['strategy']}",
        "  restart / spares": lambda p: (f"{p.reliability['restart_s']:,.0f} s / "
                                         f"{100 * p.reliability['spare_fraction']:.1f}%"),
        "largest model": lambda p: _opt(p.largest_model_params, lambda v: f"{v / 1e12:.2f}T params in {p.training_days:g} d"),
        "  size P10–P90": lambda p: _opt(p.largest_model_params_range, lambda r: f"{r['p10'] / 1e12:.2f}–{r['p90'] / 1e12:.2f}T"),
        "  on tokens": lambda p: _opt(p.largest_model_tokens, lambda v: f"{v / 1e12:.0f}T"),
        "  synthetic share": lambda p: _opt(p.data, lambda v: f"{100 * v['synthetic_tokens'] / v['tokens_needed']:.0f}% of tokens"),
        "GPT-4-class (2e25 FLOP)": lambda p: _opt(p.gpt4_class_days, lambda v: f"{v:,.1f} days"),
        "  days P10–P90": lambda p: _opt(p.gpt4_class_days_range, lambda r: f"{r['p10']:,.1f}–{r['p90']:,.1f} days"),
        "energy per year": lambda p: f"{p.energy_mwh_per_year / 1e6:.2f} TWh, {format_usd(p.energy_cost_usd_per_year)}",
        "carbon per year": lambda p: f"{p.carbon_t_per_year / 1e6:.2f} Mt CO2e",
        "reported": lambda p: _reported(p.reported),
    }
    for label, cell in rows.items():
        t.add_row(label, *(cell(p) for p in plan.phases))
    c.print(t)
    tot = plan.totals
    line = (f"totals: {int(tot['gpus']):,} GPUs, capex {format_usd(tot['capex_usd'])}, facility power "
            f"{format_quantity(tot['facility_power_w'], 'W')}, opex {format_usd(tot['opex_usd_per_year'])}/yr")
    if "reported_capex_usd" in tot:
        line += f"; reported {format_usd(tot['reported_capex_usd'])} ({tot['reported_capex_source']})"
    c.print(line)
    for p in plan.phases:
        for w in p.warnings:
            c.print(f"[yellow]{p.name}: {w}[/]")
    c.print("[dim]assumptions: " + "; ".join(plan.assumptions) + "[/]")
    c.print("[dim]P10–P90: from the cross-validated residuals of comparable published runs (measured / predicted "
            "tokens/s per GPU, leave-one-source-out), applied to the reference model's throughput[/]")


def _reported(r: dict[str, Any] | None) -> str:
    if not r:
        return "—"
    parts = []
    if r.get("capex_usd"):
        parts.append(format_usd(r["capex_usd"]))
    if r.get("gpus"):
        parts.append(f"{r['gpus']:,.0f} GPUs")
    if r.get("power_w"):
        parts.append(format_quantity(r["power_w"], "W"))
    return ", ".join(parts) or "—"


def _share(part: float, total: float) -> str:
    return f"{format_usd(part)} ({100 * part / total:.0f}%)"


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
    t = Table(title=f"{entry['kind']}: {entry['id']}", title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for key, value in entry.items():
        if key in ("kind", "id"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        t.add_row(key, str(value))
    _console().print(t)


def _collective_ms(key: str) -> Callable[[dict[str, Any]], str]:
    """The cell of one collective's time in a fabric column (ms)."""
    return lambda d: f"{d['collectives_s'][key] * 1e3:.2f} ms"


def render_fabric(report: dict[str, Any]) -> None:
    """Print one fabric, or InfiniBand and Ethernet side by side."""
    report = _safe(report)
    designs = report.get("fabrics", [report])
    c = _console()
    d0 = designs[0]
    c.print(f"[bold]{d0['gpus']:,} × {d0['accelerator']}[/], {d0['topology']}, "
            f"{d0['planes']} plane(s) at {d0['link_bits_per_s'] / 1e9:g} Gbit/s")
    t = Table(show_header=True)
    t.add_column("", style="dim")
    for d in designs:
        t.add_column(f"{d['fabric']} ({d['switch']}, {d['switch_radix']} ports)", justify="right")
    rows: dict[str, Callable[[dict[str, Any]], str]] = {
        "tiers": lambda d: str(d["tiers"]),
        "switches by tier": lambda d: " + ".join(f"{s:,}" for s in d["switches_by_tier"]) + f" = {d['switches']:,}",
        "links by tier": lambda d: " / ".join(f"{x:,}" for x in d["links_by_tier"]),
        "media by tier": lambda d: " / ".join(d["media_by_tier"]),
        "link length by tier": lambda d: " / ".join(f"{x:.0f} m" for x in d["link_length_m_by_tier"]),
        "NICs": lambda d: f"{d['nics']:,} × {d['nic']}",
        "transceivers": lambda d: f"{d['transceivers']:,}",
        "cables and fibres": lambda d: f"{d['cables']:,}",
        "capex": lambda d: f"{format_usd(d['fabric_capex_usd'])} ({format_usd(d['capex_usd_per_gpu'])}/GPU)",
        "power": lambda d: f"{format_quantity(d['fabric_power_w'], 'W')} ({d['power_w_per_gpu']:.0f} W/GPU)",
        "bisection": lambda d: format_quantity(d["bisection_bw_bytes_per_s"], "B/s"),
        "worst-case latency": lambda d: f"{d['worst_case_latency_s'] * 1e6:.2f} µs ({d['worst_case_switch_hops']} switches)",
    }
    for key in designs[0]["collectives_s"]:
        rows[key.replace("_", " ")] = _collective_ms(key)
    for label, cell in rows.items():
        t.add_row(label, *(cell(d) for d in designs))
    c.print(t)
    su = d0["scale_up"]
    c.print(f"scale-up: {su['tech']}, {int(su['domain_gpus'])} GPUs per domain, "
            f"{format_quantity(su['bw_bytes_per_s_per_direction'], 'B/s')} per GPU per direction")
    for d in designs:
        ms = d.get("multisite")
        if ms:
            link = ms["link"]
            c.print(f"{d['fabric']}: {ms['sites']} sites of {ms['gpus_per_site']:,} GPUs "
                    f"({ms['data_parallel']:,} replicas of {ms['model_parallel']} GPUs), "
                    f"{link['distance_m'] / 1e3:.0f} km apart over {link['wavelengths']} × {link['optic']} "
                    f"({format_quantity(link['capacity_bits_per_s'], 'bit/s')}, {link['latency_s'] * 1e3:.2f} ms): "
                    f"gradient all-reduce of {format_quantity(ms['gradient_bytes'], 'B')} takes {ms['all_reduce_across_sites_s']:.2f} s "
                    f"vs {ms['all_reduce_one_site_s']:.2f} s in one site (+{ms['added_step_time_s']:.2f} s per step); "
                    f"links {format_usd(ms['links_capex_usd'])}")
    for note in d0.get("notes", []):
        c.print(f"[dim]note: {note}[/]")


def render_train(out: dict[str, Any]) -> None:
    """Print a training estimate: the plan, its step-time breakdown, memory, time and cost."""
    out = _safe(out)
    c = _console()
    idle = out.get("idle_gpus", 0)
    used = f"{out['gpus_used']:,} of {out['gpus']:,} ({idle:,} idle)" if idle else f"{out['gpus']:,}"
    c.print(f"[bold]{out['model']}[/] ({out['params_total'] / 1e9:.1f}B parameters, {out['params_active'] / 1e9:.1f}B active) "
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
    t = out["time_to_train"]
    days = f" ({t['days_range']['p10']:.1f}–{t['days_range']['p90']:.1f})" if t.get("days_range") else ""
    c.print(f"{t['tokens']:.3g} tokens ({t['tokens_basis']}): {t['days']:.1f} days{days}, {t['gpu_hours']:,.0f} GPU-hours, "
            f"{format_usd(t['cost_usd'])} at ${t['tco_usd_per_gpu_hour']:.2f} per GPU-hour (TCO)")
    c.print(f"[dim]MFU: {out['definitions']['mfu']}[/]")
    c.print(f"[dim]calibration: {out['calibration']}[/]")
    for note in out["notes"]:
        c.print(f"[dim]note: {note}[/]")


def _train_ranges(out: dict[str, Any]) -> str:
    """The P10–P90 line of a training estimate: throughput, step time and MFU."""
    tok, step, mfu = out["tokens_per_s_per_gpu_range"], out["step_time_s_range"], out["mfu_range"]
    band = out.get("prediction_interval") or {}
    cls = f", {band['class']} runs" + (", no band of its own: all classes' envelope" if band.get("borrowed") else "") if band else ""
    return (f"tokens/s/GPU {out['tokens_per_s_per_gpu']:,.0f} ({tok['p10']:,.0f}–{tok['p90']:,.0f}), "
            f"step {step['p10']:.3f}–{step['p90']:.3f} s, MFU {100 * mfu['p10']:.1f}–{100 * mfu['p90']:.1f}% "
            f"[dim](P10–P90 of cross-validated residuals{cls})[/]")


def render_validation(report: dict[str, Any]) -> None:
    """Print per-row predictions, then error by source and accelerator, then the overall figures; with
    cross-validation (``cross_validated``), its figures beside the in-sample ones."""
    report = _safe(report)
    c = _console()
    cv = report.get("cross_validated")
    t = Table(title="Rows", title_justify="left")
    for col in ("run", "source", "accelerator", "measured tok/s/GPU", "predicted", "error", *(("CV error",) if cv else ()),
                "defaults taken / skipped"):
        t.add_column(col, overflow="fold")
    for r in report["rows"]:
        measured = f"{r['measured_tokens_per_s_per_gpu']:,.0f}" if r["measured_tokens_per_s_per_gpu"] is not None else ""
        pred = f"{r['predicted_tokens_per_s_per_gpu']:,.0f}" if r["predicted_tokens_per_s_per_gpu"] is not None else ""
        err = f"{100 * r['error']:+.1f}%" if r["error"] is not None else ""
        cv_err = (f"{100 * r['cv_error']:+.1f}%" if r.get("cv_error") is not None else "",) if cv else ()
        t.add_row(r["run_id"], r["source_id"], r["accelerator"], measured, pred, err, *cv_err,
                  r["skipped"] or "; ".join(r["defaults"]))
    c.print(t)
    s = report["summary"]
    for key in ("by_source", "by_accelerator"):
        c.print(_error_table(key, s.get(key, {}), cv.get(key, {}) if cv else None, report.get("cv_by", "")))
    c.print(f"predicted {s['predicted']} rows, skipped {s['skipped']}; with a measurement {s['with_measurement']}")
    for label, summary in (("in-sample", s), *(((f"leave-one-{report.get('cv_by')}-out", cv),) if cv else ())):
        o = summary.get("overall")
        if o:
            c.print(f"[bold]tokens/s per GPU, {label}: median |error| {100 * o['median_abs_error']:.1f}%, "
                    f"p90 {100 * o['p90_abs_error']:.1f}%, max {100 * o['max_abs_error']:.1f}%, "
                    f"mean {100 * o['mean_error']:+.1f}%[/]")


def render_clusters(report: dict[str, Any]) -> None:
    """Print every reference cluster row: ours against the published figure and its band, and the source."""
    report = _safe(report)
    c = _console()
    t = Table(title="Reference clusters: ours vs published", title_justify="left")
    for col in ("row", "what", "metric", "variant", "ours", "published", "band", "", "source (full in --json)"):
        t.add_column(col, overflow="fold", justify="right" if col in ("ours", "published", "band") else "left")
    for r in report["rows"]:
        unit = r["unit"]
        band = f"{_figure(r['low'], unit)}–{_figure(r['high'], unit)}"
        t.add_row(r["ref_id"], r["what"], r["metric"], r["variant"], _figure(r["ours"], unit), _figure(r["published"], unit),
                  band, "[green]inside[/]" if r["inside"] else "[red]outside[/]", f"{clip(r['source'].split(';')[0], 48)} ({r['date']})")
    c.print(t)
    s = report["summary"]
    c.print(f"[bold]{s['inside']} of {s['rows']} checks inside their published band[/]")


def _figure(value: float, unit: str) -> str:
    """A figure in its unit, readable: 143.9 MW, $3.72B, 42%, 1,392 s."""
    if unit in ("W", "USD"):
        return format_usd(value) if unit == "USD" else format_quantity(value, "W")
    if unit == "fraction":
        return f"{100 * value:.1f}%"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit.startswith("USD/"):
        return f"${value:,.2f}/{unit[4:]}"
    return f"{value:,.3g} {unit}" if abs(value) < 1000 else f"{value:,.0f} {unit}"


def _error_table(key: str, stats: dict[str, Any], cv: dict[str, Any] | None, cv_by: str) -> Table:
    """Error statistics by source or accelerator; cross-validated columns beside them when given."""
    title = key.replace("_", " ") + (f" (in-sample | leave-one-{cv_by}-out)" if cv is not None else "")
    tab = Table(title=title, title_justify="left")
    cols = ["", "rows", "median |err|", "p90 |err|", "max |err|", "mean err"]
    if cv is not None:
        cols += ["CV median |err|", "CV p90 |err|", "CV mean err"]
    for col in cols:
        tab.add_column(col, justify="right" if col else "left")
    for name, st in stats.items():
        cells = [name, str(st["rows"]), f"{100 * st['median_abs_error']:.1f}%", f"{100 * st['p90_abs_error']:.1f}%",
                 f"{100 * st['max_abs_error']:.1f}%", f"{100 * st['mean_error']:+.1f}%"]
        if cv is not None:
            h = cv.get(name)
            cells += ([f"{100 * h['median_abs_error']:.1f}%", f"{100 * h['p90_abs_error']:.1f}%",
                       f"{100 * h['mean_error']:+.1f}%"] if h else ["", "", ""])
        tab.add_row(*cells)
    return tab


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
        t.add_row(*("" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()))
    c.print(t)
    if len(rows) > 200:
        c.print(f"... {len(rows) - 200} more rows (use --json for all)")
