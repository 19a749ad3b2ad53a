"""A comparison as a readable table: the terminal's (rich) and the HTML report's, from one set of rows.

Each metric is one row (its value in every answer, then each later answer's delta against the
first, with the delta in percent); below it, indented, the parts that account for the delta,
each with its own delta and its share of the metric's delta. Parts that move in no answer are
left out of the readable table (they are in ``--json`` and ``--csv``).
"""

from __future__ import annotations

from typing import Any

from stargate.units import format_quantity, format_usd

__all__ = ["comparison_table", "format_value", "legend", "render_comparison"]

_LABELS = {
    "gpus": "GPUs", "gpus_used": "GPUs used", "racks": "racks", "kw_per_rack": "kW per rack", "capex_usd": "capex",
    "capex_usd_per_gpu": "capex per GPU", "it_power_w": "IT power", "facility_power_w": "facility power",
    "peak_16bit_flops_per_s": "peak (dense 16-bit)", "opex_usd_per_year": "opex per year",
    "tco_usd_per_gpu_hour": "TCO per GPU-hour", "energy_mwh_per_year": "energy per year", "phases": "phases",
    "largest_model_params": "largest model (params)", "step_time_s": "step time",
    "tokens_per_s_per_gpu": "tokens/s per GPU", "mfu": "MFU", "memory_per_gpu_bytes": "memory per GPU",
    "days_to_train": "days to train", "cost_to_train_usd": "cost to train",
}
_SHARE_FLOOR = 1e-9
"""Parts whose delta is below this fraction of the metric's size are taken as not moving."""


def format_value(value: float | None, unit: str, signed: bool = False) -> str:
    """A metric's value (or delta, with ``signed``) for reading, by its unit.

    Examples
    --------
    >>> format_value(1.5e10, "USD"), format_value(-2.5e6, "W", signed=True), format_value(0.42, "fraction")
    ('$15.0B', '-2.5 MW', '42.0%')
    >>> format_value(0.031, "fraction", signed=True), format_value(1024, "count", signed=True)
    ('+3.1 pp', '+1,024')
    """
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else ""
    if unit == "fraction":
        return f"{sign}{100 * value:.1f}" + (" pp" if signed else "%")
    if unit.startswith("USD"):
        per = {"USD/year": "/yr", "USD/GPU-hour": "/GPU-h"}.get(unit, "")
        text = f"${value:,.2f}" if unit == "USD/GPU-hour" and abs(value) < 1e3 else format_usd(value)
        return sign + text.replace("$-", "-$") + per
    if unit == "count":
        return sign + (f"{value:,.0f}" if abs(value) < 1e6 else format_quantity(value, "").strip())
    if unit == "MWh/year":
        return sign + format_quantity(value * 1e6, "Wh") + "/yr"
    if unit == "day":
        return f"{sign}{value:,.1f} days"
    if unit == "kW":
        return f"{sign}{value:,.1f} kW"
    if unit == "token/s":
        return f"{sign}{value:,.0f} tok/s"
    return sign + format_quantity(value, unit)


def _delta_text(d: Any) -> str:
    if d.delta is None:
        return "—"
    pct = f" ({d.delta_pct:+.1f}%)" if d.delta_pct is not None and d.unit != "fraction" else ""
    return format_value(d.delta, d.unit, signed=True) + pct


def comparison_table(c: Any) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and rows ``(level, cells)`` of a comparison: level 0 a metric, level 1 one of its parts.

    Answers are numbered in the header (``[1]`` is the base, ``Δ [2]`` the second's delta against
    it); :func:`legend` names them. A part's delta carries its share of the metric's delta in percent
    when all parts move the same way.

    Examples
    --------
    >>> from stargate.compare import compare
    >>> from stargate.cluster.design import design_cluster
    >>> from stargate.scenario import DesignRequest
    >>> a, b = (design_cluster(DesignRequest(accelerator="h100", gpus=n)).model_dump(mode="json") for n in (1024, 2048))
    >>> header, rows = comparison_table(compare([("1k", a), ("2k", b)]))
    >>> header
    ['', '[1]', '[2]', 'Δ [2]']
    >>> rows[0]
    (0, ['GPUs', '1,024', '2,048', '+1,024 (+100.0%)'])
    """
    header = ["", *(f"[{i}]" for i in range(1, len(c.items) + 1)), *(f"Δ [{i}]" for i in range(2, len(c.items) + 1))]
    rows: list[tuple[int, list[str]]] = []
    for name, base in c.items[0].metrics.items():
        ms = [it.metrics[name] for it in c.items]
        ds = [d.metrics[name] for d in c.deltas]
        rows.append((0, [_LABELS.get(name, name), *(format_value(m.value, m.unit) for m in ms), *map(_delta_text, ds)]))
        size = max((abs(m.value) for m in ms if m.value is not None), default=0.0)
        shares = [_shares(d) for d in ds]
        for part in dict.fromkeys(k for d in ds for k in (d.parts or {})):
            moved = [d.parts.get(part, 0.0) if d.parts else 0.0 for d in ds]
            if all(abs(x) <= _SHARE_FLOOR * size for x in moved):
                continue
            values = [format_value((m.parts or {}).get(part, 0.0), m.unit) if m.parts is not None else "—" for m in ms]
            cells = [format_value(x, base.unit, signed=True) + (f" ({sh[part]:.0f}%)" if sh else "")
                     for x, sh in zip(moved, shares, strict=True)]
            rows.append((1, ["  " + part.replace("_", " "), *values, *cells]))
    return header, rows


def _shares(d: Any) -> dict[str, float] | None:
    """Each part's share of the delta in percent, when every part moves the way the total does (the
    shares then lie in 0-100% and add up to 100%); None when parts offset each other."""
    if not d.parts or not d.delta or any(x * d.delta < 0 for x in d.parts.values()):
        return None
    return {k: 100 * x / d.delta for k, x in d.parts.items()}


def legend(c: Any) -> list[str]:
    """``[n] label`` for every answer of a comparison, the base first."""
    return [f"[{i}] {it.label}" + (" (base)" if i == 1 else "") for i, it in enumerate(c.items, 1)]


def render_comparison(c: Any) -> None:
    """Print a comparison as a table (rich), the base answer first."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from stargate.errors import clip

    def _plain(text: str) -> str:  # a user's label: control characters shown escaped, markup inert
        return escape(clip(text, 400))

    header, rows = comparison_table(c)
    console = Console(highlight=False, emoji=False)
    for line in legend(c):
        console.print(_plain(line), soft_wrap=True)
    what = {"design": "designs", "plan": "plans", "train": "training jobs"}.get(c.kind, c.kind)
    t = Table(title=f"{what} compared with [1]; Δ: against [1], then what accounts for it", title_justify="left")
    t.add_column(header[0], style="bold", no_wrap=True)
    for h in header[1:]:
        t.add_column(_plain(h), justify="right")
    for level, cells in rows:
        t.add_row(*(_plain(x) for x in cells), style="dim" if level else None)
    console.print(t)
