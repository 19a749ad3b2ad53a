"""The catalog for people: ``stargate catalog list`` (one table per section) and ``stargate catalog show``
(every field of one entry, each uncertain number with its P10–P90 band and basis).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from stargate.report.tables import _console, _safe


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
    bands = entry.get("bands") or {}
    for key, value in entry.items():
        if key in ("section", "id", "bands") or (key == "kind" and value == section) or (key == "field_confidence" and not value):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.6g}"
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        t.add_row(key, str(value) + _band_text(bands.get(key)))
        for name in (n for n in bands if n.startswith(f"{key}.")):
            t.add_row(f"  {name}", f"{bands[name]['point']:.6g}" + _band_text(bands[name]))
    _console().print(t)


def _band_text(band: dict[str, Any] | None) -> str:
    """A catalog number's band after its value: ``  P10–P90 680–721 (datasheet)``, or its sources."""
    if not band:
        return ""
    basis = f"sourced: {band['source']} ({band['date']})" if band["basis"] == "sourced" else band["basis"]
    return f"  [dim]P10–P90 {_end(band['p10'])}–{_end(band['p90'])} ({basis})[/]"


def _end(v: float) -> str:
    """One end of a band, short: ``25,000``, ``454.5``, ``2.327e+13``."""
    if 1e-3 <= abs(v) < 1e7:
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return f"{v:.4g}"
