"""An answer's ranges for people: its headlines with the P50 and P10–P90 of ``--uncertainty`` beside the
point figures, each in its headline's unit, and how the samples were drawn.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from stargate.format import format_count, format_energy_mwh, format_quantity, format_scaled_count
from stargate.report.tables import _console, _safe, result_cell


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
        unit = part if part.endswith(tuple(_RANGE_UNITS)) else head  # a part with a unit of its own: time_to_train.cost_usd
        label = _range_label(head) + (f": {_range_label(part)}" if part else "")
        cells = [_range_cell(unit, r["p50"]), f"{_range_cell(unit, r['p10'])}–{_range_cell(unit, r['p90'])}"]
        if point is not None:
            value = point.get(head, {}).get(part) if part and isinstance(point.get(head), dict) else point.get(key)
            cells.insert(0, "" if value is None else _range_cell(unit, value))
        t.add_row(label, *cells)
    return t


_RANGE_UNITS = {"_per_s": "/s", "_usd_per_gpu_hour": " per GPU-hour", "_usd_per_year": " per year", "_mwh_per_year": " per year",
                "_usd_per_gpu": " per GPU", "_w_per_gpu": " per GPU", "_usd": "", "_w": "", "_s": ""}
"""Unit suffixes of headline keys and the words a label keeps of them."""


def _range_label(head: str) -> str:
    """A headline's name in words, without its unit (the cells carry it).

    Examples
    --------
    >>> _range_label("tco_usd_per_gpu_hour"), _range_label("capex_breakdown_usd")
    ('tco per GPU-hour', 'capex')
    """
    if head.startswith("usd_per_"):  # serving prices: usd_per_million_tokens
        return "$ per " + head.removeprefix("usd_per_").replace("_", " ")
    for suffix, words in _RANGE_UNITS.items():
        if head.endswith(suffix):
            head = head.removesuffix(suffix) + words
            break
    return head.replace("_breakdown", "").replace("_", " ")


def _range_cell(head: str, value: float) -> str:
    """One figure of a range, in its headline's unit."""
    if head.endswith("_mwh_per_year"):
        return format_energy_mwh(value) + "/yr"
    if head.endswith("_per_s"):
        return format_scaled_count(value)
    if head.startswith("usd_per_million"):
        return f"${value:,.3g}"
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
