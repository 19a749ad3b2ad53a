"""The multi-site answer in words: sites, the links between them, their cost and the step time they add.

One set of row functions over a phase's ``multisite`` dict (as ``stargate plan --json`` gives
it), shared by the terminal table and the HTML report so that both say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stargate.format import format_quantity, format_share, format_usd

__all__ = ["link_parts", "link_summary", "phase_site_rows", "route_summary", "site_rows"]


def link_summary(link: dict[str, Any]) -> str:
    """What one link is made of: fibre pairs, wavelengths of which optic, capacity.

    Examples
    --------
    >>> link_summary({"fiber_pairs": 4, "wavelengths": 256, "optic": "400zr-plus", "capacity_bits_per_s": 102.4e12})
    '4 fibre pairs, 256 × 400zr-plus (102 Tbit/s)'
    """
    pairs = f"{link['fiber_pairs']:,} fibre pair{'s' if link['fiber_pairs'] != 1 else ''}"
    return (f"{pairs}, {link['wavelengths']:,} × {link['optic']} "
            f"({format_quantity(link['capacity_bits_per_s'], 'bit/s')})")


def route_summary(link: dict[str, Any]) -> str:
    """What stands along one link's route: in-line amplifier sites and regeneration.

    Examples
    --------
    >>> route_summary({"amplifier_sites": 18, "regenerator_sites": 0, "regenerators": 0})
    '18 amplifier sites, no regeneration'
    >>> route_summary({"amplifier_sites": 37, "regenerator_sites": 4, "regenerators": 1024})
    '37 amplifier sites, 4 regeneration sites (1,024 regenerators)'
    """
    amps = f"{link['amplifier_sites']:,} amplifier site{'s' if link['amplifier_sites'] != 1 else ''}"
    if not link["regenerator_sites"]:
        return f"{amps}, no regeneration"
    return f"{amps}, {link['regenerator_sites']:,} regeneration sites ({link['regenerators']:,} regenerators)"


def _added(ms: dict[str, Any]) -> str:
    if ms.get("sites_per_job", ms["sites"]) <= 1:
        return "0% (each job fits in one site)"
    frac = ms.get("added_step_time_fraction")
    ms_added = f"+{max(ms['added_step_time_s'], 0.0) * 1e3:,.0f} ms"
    return f"{ms_added}, {format_share(frac)} of the step" if frac is not None else ms_added


def _capex(ms: dict[str, Any]) -> str:
    share = ms.get("links_capex_fraction")
    return format_usd(ms["links_capex_usd"]) + (f" ({format_share(share)} of capex)" if share is not None else "")


def link_parts(link: dict[str, Any]) -> str:
    """One link's capex by part, the parts it has.

    Examples
    --------
    >>> link_parts({"capex_breakdown_usd": {"optics": 6.4e6, "fiber": 2.56e5, "line_system": 6e5, "regenerators": 0.0}})
    'optics $6.4M, fibre $256.0k, amplifiers $600.0k'
    """
    names = {"optics": "optics", "fiber": "fibre", "line_system": "amplifiers", "regenerators": "regenerators"}
    return ", ".join(f"{names.get(k, k)} {format_usd(v)}" for k, v in link["capex_breakdown_usd"].items() if v)


def site_rows() -> list[tuple[str, Callable[[dict[str, Any]], str]]]:
    """Rows of the multi-site answer: a label (sub-rows indented) and a cell function of a ``multisite`` dict.

    Examples
    --------
    >>> [label for label, _ in site_rows()][:2]
    ['sites', '  site links']
    """
    return [
        ("sites", lambda ms: f"{ms['sites']} × {ms['gpus_per_site']:,} GPUs, {format_quantity(ms['link']['distance_m'], 'm')} apart"),
        ("  site links", lambda ms: f"{ms['links']} × {link_summary(ms['link'])}"),
        ("  along each link", lambda ms: route_summary(ms["link"])),
        ("  links capex", _capex),
        ("  per link", lambda ms: link_parts(ms["link"])),
        ("  link latency", lambda ms: f"{ms['link']['latency_s'] * 1e3:,.2f} ms one way"),
        ("  added step time", _added),
    ]


def phase_site_rows(multisite_of: Callable[[Any], dict[str, Any] | None]) -> list[tuple[str, Callable[[Any], str]]]:
    """:func:`site_rows` over phases: ``multisite_of(phase)`` gives a phase's ``multisite`` dict,
    and a phase on one site reads ``one site``, then dashes.

    Examples
    --------
    >>> rows = phase_site_rows(lambda p: p.get("multisite"))
    >>> [cell({"multisite": None}) for _, cell in rows][:2]
    ['one site', '—']
    """
    def cell(show: Callable[[dict[str, Any]], str], first: bool) -> Callable[[Any], str]:
        def shown(phase: Any) -> str:
            ms = multisite_of(phase)
            return show(ms) if ms else ("one site" if first else "—")
        return shown

    return [(label, cell(show, i == 0)) for i, (label, show) in enumerate(site_rows())]
