"""Gear for a fabric: which switch and NIC, which cable or optic per tier, and their bill.

Link lengths come from the floor plan: racks stand in rows of ``racks_per_row`` at
``rack_width_m`` and ``row_pitch_m`` (large blocks as a square floor); a switch sits in the middle
of the racks it serves, so the longest link of a tier runs half the width and half the depth of
the block it joins (Manhattan routing along trays) plus ``slack_m``. Each tier takes the cheapest medium whose reach covers that
length at the tier's link speed: copper in and next to the rack, optics beyond. A twin-port module
or a splitter cable serving two links counts as half a module per link end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from stargate.catalog import Catalog
from stargate.catalog.schema import FloorPlan, Media, Nic, Switch
from stargate.enums import Fabric
from stargate.errors import InputError

__all__ = ["TierMedia", "choose_media", "default_nic", "default_switch", "family_speeds", "links_per_end", "port_speed", "radix_at", "span_m"]


def _speed_key(bits_per_s: float) -> str:
    return f"{bits_per_s / 1e9:g}"


def port_speed(speeds: list[float], rate_bits_per_s: float) -> float:
    """Port speed for a per-GPU, per-plane rate: the slowest port that carries it, else the fastest.

    Examples
    --------
    >>> port_speed([200e9, 400e9, 800e9], 400e9), port_speed([200e9, 400e9], 50e9), port_speed([400e9, 800e9], 1.2e12)
    (400000000000.0, 200000000000.0, 800000000000.0)
    """
    fitting = [s for s in sorted(speeds) if s >= rate_bits_per_s * (1 - 1e-9)]
    return fitting[0] if fitting else max(speeds)


def default_switch(catalog: Catalog, fabric: Fabric, link_bits_per_s: float) -> Switch:
    """The fabric family's default switch for a port speed."""
    table = catalog.get("fabrics", fabric).switch_by_speed  # type: ignore[attr-defined]
    return catalog.get("switches", table[_speed_key(link_bits_per_s)], "switch")  # type: ignore[return-value]


def family_speeds(catalog: Catalog, fabric: Fabric) -> list[float]:
    """Port speeds the fabric family has a default switch for (bit/s)."""
    return [float(k) * 1e9 for k in catalog.get("fabrics", fabric).switch_by_speed]  # type: ignore[attr-defined]


def default_nic(catalog: Catalog, fabric: Fabric, port_bits_per_s: float) -> Nic:
    """The fabric family's default NIC for a rate: the slowest that carries it, else the fastest."""
    table = catalog.get("fabrics", fabric).nic_by_speed  # type: ignore[attr-defined]
    fitting = sorted((k for k in table if float(k) * 1e9 >= port_bits_per_s * (1 - 1e-9)), key=float)
    key = fitting[0] if fitting else max(table, key=float)
    return catalog.get("nics", table[key], "nic")  # type: ignore[return-value]


def radix_at(switch: Switch, link_bits_per_s: float) -> int:
    """Ports of ``switch`` at a link speed: capacity / speed, if the switch runs that speed.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> radix_at(Catalog.load().get("switches", "quantum-2"), 400e9)
    64
    >>> radix_at(Catalog.load().get("switches", "tomahawk-6-100g"), 100e9)  # 102.4T as 1,024 x 100G lanes
    1024
    """
    if not any(math.isclose(s, link_bits_per_s) for s in switch.port_speeds_bits_per_s):
        speeds = ", ".join(f"{s / 1e9:g}G" for s in switch.port_speeds_bits_per_s)
        raise InputError("switch", switch.id, f"a switch with {link_bits_per_s / 1e9:g}G ports ({switch.id} runs {speeds})")
    ports = round(switch.capacity_bits_per_s / link_bits_per_s)
    return min(ports, switch.max_ports) if switch.max_ports else ports


def span_m(racks: float, plan: FloorPlan) -> float:
    """Longest cable from the middle of ``racks`` racks: half the width plus half the depth, plus slack.

    Within one rack a cable is ``in_rack_m`` long.
    Up to a row, the racks stand in one row; beyond, rows of ``racks_per_row`` stand side by side
    and, for large blocks, the floor is laid out as a square of ``rack_width_m x row_pitch_m``
    per rack (blocks of rows across halls), whichever is wider.

    Examples
    --------
    >>> from stargate.catalog.schema import FloorPlan
    >>> plan = FloorPlan(id="p", name="p", source="test", date="2026", rack_width_m=0.6, row_pitch_m=3.0,
    ...                  racks_per_row=20, slack_m=3.0, in_rack_m=2.0, fiber_usd_per_m=1.0)
    >>> span_m(1, plan)  # inside one rack
    2.0
    >>> span_m(40, plan)  # two rows of 20 racks: (12 m wide + 6 m deep) / 2 + 3 m
    12.0
    """
    if racks <= 1:
        return plan.in_rack_m
    area = racks * plan.rack_width_m * plan.row_pitch_m
    width = max(min(racks, plan.racks_per_row) * plan.rack_width_m, math.sqrt(area))
    depth = max(area / width, plan.row_pitch_m)
    return (width + depth) / 2 + plan.slack_m


@dataclass(frozen=True, slots=True)
class TierMedia:
    """The medium one tier's links use, and its cost and power per link."""

    media: Media
    length_m: float
    modules_per_link: float
    """Modules (transceivers) or cable assemblies per link."""
    module_usd_per_link: float
    fiber_usd_per_link: float
    w_per_link: float
    lanes: int = 1
    """Parallel media links one logical link takes (a breakout over slower media)."""

    @property
    def usd_per_link(self) -> float:
        """Modules or cable plus fibre, per link."""
        return self.module_usd_per_link + self.fiber_usd_per_link


@lru_cache(maxsize=8192)  # pure in its (hashable) arguments; the designer asks again per candidate
def choose_media(
    catalog: Catalog, length_m: float, link_bits_per_s: float, plan: FloorPlan, cpo: bool = False
) -> TierMedia:
    """The cheapest way to carry one link of ``link_bits_per_s`` over ``length_m``.

    A medium at least as fast as the link carries it alone, and an end with several lanes breaks
    out into ``min(lanes, speed // link)`` links (an 800G DR8 module serves four 200G links, as in
    a multi-plane or lane-split fabric); a slower medium carries the link as parallel lanes,
    ``ceil(link / medium)`` of them (an 800G port broken out over two 400G FR4 links for a long
    run), at that many times the cost and power. Co-packaged optics (``cpo``) are the only medium
    of a switch with optical engines and never one of a switch with pluggable cages.
    """
    options = []
    for m in catalog.entries("media"):
        if m.reach_m < length_m or (m.kind.value == "cpo") != cpo:  # type: ignore[attr-defined]
            continue
        per_link = m.speed_bits_per_s / m.links_per_end  # type: ignore[attr-defined]
        lanes = max(1, math.ceil(link_bits_per_s / per_link - 1e-9))
        share = links_per_end(m, link_bits_per_s) if lanes == 1 else m.links_per_end  # type: ignore[arg-type, attr-defined]
        options.append(_per_link(m, length_m, plan, lanes, share))  # type: ignore[arg-type]
    if not options:
        raise InputError("link", f"{link_bits_per_s / 1e9:g}G over {length_m:.0f} m", "a medium in the catalog that reaches it")
    return min(options, key=lambda o: (o.usd_per_link, o.w_per_link))


def links_per_end(m: Media, link_bits_per_s: float) -> int:
    """Links of ``link_bits_per_s`` one end of ``m`` serves: its ports, or its lanes by breakout.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> dr8 = Catalog.load().get("media", "dr8-800g")
    >>> links_per_end(dr8, 800e9), links_per_end(dr8, 200e9), links_per_end(dr8, 100e9)
    (1, 4, 8)
    """
    split = int(m.speed_bits_per_s // link_bits_per_s + 1e-9)
    return max(m.links_per_end, min(m.lanes or m.links_per_end, split))


def _per_link(m: Media, length_m: float, plan: FloorPlan, lanes: int, share: int | None = None) -> TierMedia:
    share = share or m.links_per_end
    if m.is_cable:
        per = lanes / share
        return TierMedia(m, length_m, per, m.price_usd * per, 0.0, m.power_w * per, lanes)
    ends = 2.0 * lanes / share  # one module at each end, shared by the links it breaks out into
    # One trunk per module pair (an MPO run), shared like the modules by the links it breaks out into.
    fiber = lanes * m.links_per_end / share * plan.fiber_usd_per_m * length_m
    return TierMedia(m, length_m, ends, m.price_usd * ends, fiber, m.power_w * ends, lanes)
