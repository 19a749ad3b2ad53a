"""Ranges and sensitivity in the terminal: a plan's headlines as ``P50 (P10–P90)``, and the inputs that move them.

:func:`render_plan_ranges` prints after a plan's summary (``stargate plan --uncertainty``): one column per
phase, one row per headline, each cell ``P50 (P10–P90)``, then the totals. :func:`render_sensitivity` prints
``stargate sensitivity``: per headline, its five inputs with the largest swings and their Sobol indices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stargate.format import format_count, format_days, format_percent, format_quantity, format_scaled_count, format_usd

__all__ = ["HEADLINES", "input_format", "range_cell", "render_plan_ranges", "render_sensitivity"]

HEADLINES: dict[str, tuple[str, Callable[[float], str]]] = {
    "gpus": ("GPUs", format_count),
    "capex_usd": ("capex", format_usd),
    "facility_power_w": ("facility power", lambda v: format_quantity(v, "W")),
    "peak_flops": ("peak (dense 16-bit)", lambda v: format_quantity(v, "FLOP/s")),
    "mfu": ("MFU (reference model)", lambda v: format_percent(v, 1)),
    "goodput": ("goodput", lambda v: format_percent(v, 1)),
    "usable_flops": ("usable compute", lambda v: format_quantity(v, "FLOP")),
    "largest_model_params": ("largest model (params)", format_scaled_count),
    "gpt4_class_days": ("GPT-4-class (2e25 FLOP)", lambda v: format_days(v, 1 if v >= 1 else 2)),
    "tco_usd_per_gpu_hour": ("TCO per GPU-hour", lambda v: f"${v:,.2f}"),
    "serving.usd_per_million_tokens": ("serving $ per million tokens", lambda v: f"${v:,.3g}"),
    "serving.tokens_per_day": ("serving tokens per day", format_scaled_count),
}
"""Each headline's label and how one of its values is written."""


def _fmt(key: str) -> Callable[[float], str]:
    return HEADLINES.get(key, (key, lambda v: f"{v:.4g}"))[1]


def input_format(key: str) -> Callable[[float], str]:
    """How an uncertain input's value is written, from the unit in its field name (``kind/id/field``).

    Examples
    --------
    >>> input_format("accelerator/h100-sxm-80g/price_usd")(27500.0), input_format("cooling/air/build_cost_usd_per_w")(11.5)
    ('$27.5k', '$11.50/W')
    >>> input_format("system/dgx-h100/power_max_w")(10200.0), input_format("model/training")(0.87)
    ('10.2 kW', '0.87')
    """
    field = key.rsplit("/", 1)[-1]
    if field.endswith("_per_gpu_hour") and not field.startswith("usd"):
        return lambda v: f"{v * 1e5:.3g}/10⁵ GPU-h"
    if field.endswith("_usd_per_w"):
        return lambda v: f"${v:,.2f}/W"
    if field.endswith("_usd_per_mwh"):
        return lambda v: f"${v:,.1f}/MWh"
    if field.endswith("_usd_per_tb"):
        return lambda v: f"${v:,.0f}/TB"
    if field.endswith("_usd"):
        return format_usd
    if field.endswith("_w"):
        return lambda v: format_quantity(v, "W")
    return lambda v: f"{v:.3g}"


def range_cell(key: str, r: dict[str, float] | None) -> str:
    """A headline's range as ``P50 (P10–P90)``; empty without one.

    Examples
    --------
    >>> range_cell("capex_usd", {"p10": 90e9, "p50": 100e9, "p90": 112e9})
    '$100.0B ($90.0B–$112.0B)'
    >>> range_cell("mfu", None)
    ''
    """
    if not r:
        return ""
    f = _fmt(key)
    return f"{f(r['p50'])} ({f(r['p10'])}–{f(r['p90'])})"


def render_plan_ranges(plan: Any, console: Console | None = None) -> None:
    """Print the P50 (P10–P90) of every phase's headlines and of the totals (after :func:`render_plan`)."""
    from stargate.report.terminal import print_labelled

    c = console or Console(highlight=False, emoji=False)
    u = plan.uncertainty
    c.print(f"[bold]Ranges[/]: P50 (P10–P90) over {u['samples']:,} samples (seed {u['seed']}), "
            f"{len(u['inputs'])} uncertain inputs")
    keys = [k for k in HEADLINES if any(k in p.ranges for p in plan.phases)]
    rows = {HEADLINES[k][0]: [range_cell(k, p.ranges.get(k)) for p in plan.phases] for k in keys}
    print_labelled(c, [escape(f"{p.name} ({p.year})") for p in plan.phases], rows)
    tot = plan.totals.get("ranges", {})
    c.print("totals: " + ", ".join(f"{HEADLINES[k][0]} {range_cell(k, tot[k])}" for k in HEADLINES if k in tot))
    c.print("[dim]held at the point plan's choices: layouts, recovery strategy, spares, serving deployment, "
            "system, cooling and fabric design (see the JSON's uncertainty block)[/]")


def render_sensitivity(report: dict[str, Any], top: int = 5, console: Console | None = None) -> None:
    """Print ``stargate sensitivity``: for each headline, the ``top`` inputs by swing, with Sobol indices."""
    c = console or Console(highlight=False, emoji=False)
    c.print(f"[bold]Sensitivity[/] of {escape(report['phase'])} ({escape(report['scenario'])}): "
            f"{report['inputs']} uncertain inputs; {escape(report['method'])}")
    for key, why in report.get("held_by_limit", {}).items():
        c.print(f"{HEADLINES.get(key, (key,))[0]}: held by {escape(why)}")
    for key, rows in report["headlines"].items():
        label, f = HEADLINES.get(key, (key, _fmt(key)))
        t = Table(title=f"{label}: point {f(report['points'][key])}", title_justify="left")
        for name, justify in (("input", "left"), ("P10–P90 of the input", "right"), ("at P10 → at P90", "right"),
                              ("swing", "right"), ("Sobol total", "right")):
            t.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
        moving = [r for r in rows if r["swing"] > 0.0]
        if not moving:
            c.print(f"{label}: no input moves it (point {f(report['points'][key])})")
            continue
        for r in moving[:top]:
            sobol = "" if r["sobol_total"] is None else f"{r['sobol_total']:.2f}"
            fi = input_format(r["key"])
            t.add_row(escape(r["input"]), f"{fi(r['low'])}–{fi(r['high'])}",
                      f"{f(r['output_at_low'])} → {f(r['output_at_high'])}", f(r["swing"]), sobol)
        c.print(t)
