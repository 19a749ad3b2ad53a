"""A phase's energy: the blend of its sources, and whether they can deliver in time.

A mix of sources (shares of the energy) is priced, and its carbon counted, as the share-weighted
average of its sources; what the campus builds to take the power (``infra_capex_usd_per_w``) is
weighted the same way. Each source needs its lead time from commitment to delivered power
(interconnection queues, plant construction, restarts); a phase that comes online sooner after
the plan is decided than one of its sources can deliver gets a warning.
"""

from __future__ import annotations

from stargate.catalog import Catalog
from stargate.catalog.schema import EnergySource
from stargate.enums import EnergyKind

__all__ = ["blend", "lead_time_warnings"]


def blend(mix: list[tuple[str, float]], catalog: Catalog) -> EnergySource:
    """One energy source standing for a mix of ``(source id, share)`` pairs.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> cat = Catalog.load()
    >>> b = blend([("grid-us", 0.5), ("nuclear-restart", 0.5)], cat)
    >>> b.price_usd_per_mwh == (cat.energy_source("grid-us").price_usd_per_mwh
    ...                         + cat.energy_source("nuclear-restart").price_usd_per_mwh) / 2
    True
    """
    sources = [(catalog.energy_source(sid), share) for sid, share in mix]
    if len(sources) == 1:
        return sources[0][0]

    def avg(field: str) -> float:
        return sum(getattr(s, field) * w for s, w in sources)

    return EnergySource(
        id="mix", name=" + ".join(f"{100 * w:.0f}% {s.id}" for s, w in sources), kind=EnergyKind.GRID,
        price_usd_per_mwh=avg("price_usd_per_mwh"), carbon_kg_per_mwh=avg("carbon_kg_per_mwh"),
        lead_time_years=max(s.lead_time_years for s, _ in sources), infra_capex_usd_per_w=avg("infra_capex_usd_per_w"),
        source="; ".join(f"{s.id}: {s.source}" for s, _ in sources)[:2000], date=max(s.date for s, _ in sources),
    )


def lead_time_warnings(mix: list[tuple[str, float]], year: int, decided_year: int | None, catalog: Catalog) -> list[str]:
    """Sources that cannot deliver power by ``year`` when committed in ``decided_year``."""
    if decided_year is None or year <= decided_year:
        return []  # no forward commitment: the phase is built (or being built) when the plan is decided
    out = []
    for sid, share in mix:
        src = catalog.energy_source(sid)
        ready = decided_year + src.lead_time_years
        if ready > year:
            out.append(f"{src.id} ({100 * share:.0f}% of the energy) needs {src.lead_time_years:g} years from "
                       f"{decided_year}: ready about {ready:g}, after the phase's {year}")
    return out
