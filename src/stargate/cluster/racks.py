"""Racks and cooling: how systems are packed into racks, and which cooling removes the heat.

A rack holds ``systems_per_rack`` systems (the vendor's reference packing unless overridden);
its design power is that many systems at their maximum power. The cooling technology is the
cheapest to build, per watt of IT, among those that the system supports and whose rack limit
is at least the rack's power.
"""

from __future__ import annotations

from dataclasses import dataclass

from stargate.catalog.schema import CoolingTech, System
from stargate.enums import Cooling
from stargate.errors import InputError

__all__ = ["RackLayout", "choose_cooling", "rack_layout"]

_CAPABILITY = {c: i for i, c in enumerate(Cooling)}


@dataclass(frozen=True, slots=True)
class RackLayout:
    """Systems per rack and the design power of a full rack."""

    systems_per_rack: int
    gpus_per_rack: int
    rack_power_w: float


def rack_layout(system: System, systems_per_rack: int | None = None) -> RackLayout:
    """Pack ``system`` into racks.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> rack_layout(Catalog.load().system("dgx-h100")).rack_power_w
    40800.0
    """
    spr = systems_per_rack or system.systems_per_rack
    return RackLayout(spr, spr * system.gpus_per_system, spr * system.power_max_w)


def choose_cooling(
    rack_power_w: float, system: System, techs: tuple[CoolingTech, ...], forced: Cooling | None = None
) -> tuple[CoolingTech, str]:
    """The cheapest cooling technology that the system supports and whose rack limit fits.

    Parameters
    ----------
    rack_power_w : float
        Design power of one full rack (W).
    system : System
        The system in the rack; its ``cooling_required`` rules out less capable technologies.
    techs : tuple of CoolingTech
        Candidate technologies from the catalog.
    forced : Cooling, optional
        A technology the user insists on; checked, not chosen.

    Returns
    -------
    (CoolingTech, str)
        The technology and one sentence saying why it was chosen.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> cat = Catalog.load()
    >>> tech, why = choose_cooling(132e3, cat.system("gb200-nvl72"), cat.entries("cooling"))
    >>> tech.id.value
    'direct_liquid'
    """
    floor = _CAPABILITY[system.cooling_required]
    usable = [t for t in techs if _CAPABILITY[t.id] >= floor and t.rack_limit_w >= rack_power_w]
    kw = rack_power_w / 1e3
    if forced is not None:
        chosen = [t for t in techs if t.id == forced]
        if not chosen or chosen[0] not in usable:
            allowed = ", ".join(t.id.value for t in usable) or "none (lower systems_per_rack)"
            raise InputError("cooling", forced.value, f"one that removes {kw:.1f} kW per rack of {system.id}: {allowed}")
        return chosen[0], f"{forced.value} as requested; its rack limit covers {kw:.1f} kW"
    if not usable:
        best = max(t.rack_limit_w for t in techs) / 1e3
        raise InputError(
            "systems_per_rack", round(rack_power_w / system.power_max_w),
            f"a packing under the highest cooling limit ({best:.0f} kW per rack; this one is {kw:.1f} kW)",
        )
    tech = min(usable, key=lambda t: (t.build_cost_usd_per_w, _CAPABILITY[t.id]))
    ruled = [t.id.value for t in techs if t not in usable]
    why = (
        f"{tech.id.value}: the cheapest to build (${tech.build_cost_usd_per_w:.2f}/W of IT) whose rack limit "
        f"({tech.rack_limit_w / 1e3:.0f} kW) fits {kw:.1f} kW per rack"
    )
    if ruled:
        why += f"; ruled out: {', '.join(ruled)}"
    return tech, why
