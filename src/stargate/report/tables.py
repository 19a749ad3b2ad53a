"""What the terminal summaries share: the console, a user's strings made inert, breakdown and labelled
tables that keep their labels whole in any width, one-line tables, and readable cells of result
columns (dollars, watts, days, counts, shares by the column's name).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stargate.format import format_count, format_percent, format_quantity, format_scaled_count, format_usd


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
