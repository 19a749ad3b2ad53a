"""A whole scale-out fabric: topology, gear, cost, power, bandwidth and latency.

For ``gpus`` accelerators on a fabric family (InfiniBand or Ethernet), each accelerator has one
NIC at its full scale-out rate, split over ``planes`` independent planes by breakout media (an
800G port as four 200G links to four leaves); each plane is a folded Clos
(:mod:`stargate.fabric.topology`) at the per-plane link speed, with the fewest tiers the
switch's radix at that speed allows (a 102.4T switch is 128 x 800G or 1,024 x 100G). Unless the
request names them, the switch and the planes are chosen by cost among designs that give every
GPU its full rate (:func:`plan_fabric`); pods with a taper above them are built only when asked.
Rail-optimized fabrics (NVIDIA DGX SuperPOD) wire the k-th NIC of every server in a scalable
unit to the same leaf, so a leaf spans the servers of a rail group, not one rack; fat-trees put
each leaf in the middle of the racks whose GPUs it serves. Gear and media per tier come from
:mod:`stargate.fabric.gear`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator, FabricDefaults, FloorPlan, Nic, Switch, System
from stargate.enums import Fabric, Topology
from stargate.errors import InputError
from stargate.fabric.gear import (
    TierMedia,
    choose_media,
    default_nic,
    default_switch,
    family_speeds,
    port_speed,
    radix_at,
    span_m,
)
from stargate.fabric.topology import Clos, clos
from stargate.inputs import INPUT_CONFIG, MAX_GPUS, MAX_SCALE_OUT_BITS_PER_S, MIN_SCALE_OUT_BITS_PER_S
from stargate.units import Bits_per_s, Count

__all__ = ["FabricDesign", "FabricPlan", "FabricRequest", "design_fabric", "plan_fabric"]

_CONFIG = INPUT_CONFIG


class FabricRequest(BaseModel):
    """One scale-out fabric to design.

    Examples
    --------
    >>> FabricRequest(gpus=32768, fabric="infiniband", topology="fat-tree").oversubscription
    (1.0,)
    """

    model_config = _CONFIG

    gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)]
    """Accelerators on the fabric."""
    fabric: Fabric = Fabric.INFINIBAND
    """Fabric family."""
    accelerator: str = "h100-sxm-80g"
    """Accelerator id or alias: sets the per-GPU rate, GPUs per server and per rack."""
    topology: Topology = Topology.RAIL_OPTIMIZED
    """Rail-optimized Clos (SuperPOD-style) or classic fat-tree."""
    oversubscription: tuple[Annotated[float, Field(ge=1.0, le=1024.0)], ...] = Field((1.0,), max_length=6)
    """Down/up ratio per tier from the leaf up; tiers not given are non-blocking."""
    planes: Annotated[int, Field(ge=1, le=8)] | None = None
    """Independent planes each accelerator's one NIC is split over by breakout media; default:
    the cheapest of 1, 2, 3, 4, 6 and 8 planes (each GPU keeps its full rate either way; 3 and 6
    serve GPUs with three NICs, as AMD's Helios gives each MI450 three 800G NICs)."""
    switch: str | None = None
    """Switch id; default: the cheapest of the fabric family's switches at equal bandwidth."""
    tiers: Annotated[int, Field(ge=1, le=6)] | None = None
    """Force the number of tiers; default: the fewest the radix allows."""
    pod_gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)] | None = None
    """GPUs of a non-blocking pod; the tier above the pods is tapered by ``taper``."""
    taper: Annotated[float, Field(ge=1.0, le=64.0)] = 1.0
    """Down/up ratio of the uplinks above each pod (Meta's 24k clusters: 7); needs ``pod_gpus``."""
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    """Year the fabric is built: the designer chooses among switches on sale by then; default:
    the accelerator's first year."""
    floor_plan: str = "default"
    """Floor plan id (rack size, rows, cable slack)."""
    scale_out_bits_per_s: Annotated[Bits_per_s, Field(ge=MIN_SCALE_OUT_BITS_PER_S, le=MAX_SCALE_OUT_BITS_PER_S)] | None = None
    """Scale-out line rate per GPU instead of the accelerator's usual one (bit/s; Microsoft's
    Fairwater gives each GB200 800 Gbit/s where NVIDIA's NVL72 reference has 400)."""
    sharp: bool = False
    """Use in-network reduction (SHARP, NVLS) in collectives where the hardware has it."""


@dataclass(frozen=True, slots=True)
class FabricPlan:
    """Everything resolved about one fabric: gear, one plane's counts, and media per tier."""

    request: FabricRequest
    planes: int
    """Planes the fabric has (chosen by cost unless the request names them)."""
    accelerator: Accelerator
    system: System
    switch: Switch
    nic: Nic
    link_bits_per_s: float
    """Port speed of the plane's links."""
    plane: Clos
    """Counts of one plane; its endpoints are NIC ports (GPUs x rate / port speed)."""
    media: tuple[TierMedia, ...]
    gpus_per_rack: int
    notes: tuple[str, ...] = ()
    """Why this design: the candidates the designer compared."""

    @property
    def nics(self) -> int:
        """Physical NICs: one per GPU at its full rate (more if the rate exceeds the NIC's); a
        multi-plane fabric splits each NIC's ports into the planes by breakout media."""
        return self.request.gpus * math.ceil(self.accelerator.scale_out_bw_bits_per_s / self.nic.speed_bits_per_s - 1e-9)


def rail_group(system: System) -> int:
    """GPUs of one server that sit on distinct rails (8 at most: one leaf per rail)."""
    return min(system.gpus_per_system, 8)


def block_spans(c: Clos, topology: Topology, system: System) -> list[float]:
    """Endpoints a full block of each level below the top spans (a leaf, a pod, ...).

    In a rail-optimized fabric a leaf serves one GPU of each of ``d1`` servers, so it spans the
    endpoints of a whole rail group, not ``d1`` neighbours.
    """
    spans = [float(e) for e in c.block_endpoints]
    if spans and topology is Topology.RAIL_OPTIMIZED:
        spans[0] *= rail_group(system)
    return spans


def _tier_lengths(c: Clos, topology: Topology, system: System, ports_per_rack: float, plan: FloorPlan) -> list[float]:
    """Longest link length per tier (tier 1 = endpoint to leaf)."""
    # Endpoints under the switch at the top of each link: a leaf, then each level's block, then all.
    under = (block_spans(c, topology, system) + [float(c.endpoints)] * c.tiers)[: c.tiers]
    return [span_m(min(u, c.endpoints) / ports_per_rack, plan) for u in under]


def _oversubscription(request: FabricRequest, radix: int, pod_ports: float) -> tuple[float, ...]:
    """Per-tier ratios: as given, or non-blocking up to the tier that closes a pod, then the taper."""
    if request.pod_gpus is None:
        if request.taper != 1.0:
            raise InputError("taper", request.taper, "a taper together with pod_gpus (the pods it sits above)")
        return request.oversubscription
    if request.oversubscription != (1.0,):
        raise InputError("oversubscription", list(request.oversubscription), "no per-tier ratios with pod_gpus (use taper)")
    tier, block = 1, radix // 2  # a non-blocking level-t block holds (k/2)^t endpoints
    while block < pod_ports and tier < 5:
        tier, block = tier + 1, block * (radix // 2)
    return (1.0,) * (tier - 1) + (request.taper,)


def _tapered(ports: int, radix: int, over: tuple[float, ...], tiers: int | None) -> Clos:
    """Pods of ``len(over)`` tiers joined by at least one tier above them (the tapered uplinks)."""
    error = None
    for n in [tiers] if tiers else range(len(over) + 1, 7):
        try:
            return clos(ports, radix, over, n)
        except InputError as e:
            error = e
    raise error  # type: ignore[misc]


def rated_accelerator(request: FabricRequest, catalog: Catalog) -> Accelerator:
    """The request's accelerator, at the request's scale-out rate where it names one."""
    acc = catalog.accelerator(request.accelerator)
    if request.scale_out_bits_per_s is None:
        return acc
    return acc.model_copy(update={"scale_out_bw_bits_per_s": request.scale_out_bits_per_s})


def _build_plan(request: FabricRequest, catalog: Catalog, switch: Switch, planes: int) -> FabricPlan:
    """One fabric on ``switch`` with ``planes`` planes: each GPU's rate split evenly over them."""
    acc = rated_accelerator(request, catalog)
    system = catalog.system(acc.default_system)
    rate = acc.scale_out_bw_bits_per_s / planes
    link = port_speed(list(switch.port_speeds_bits_per_s), rate)
    nic = default_nic(catalog, request.fabric, acc.scale_out_bw_bits_per_s)
    # GPUs whose rate is below the port speed share a port; faster GPUs use several.
    ports = math.ceil(request.gpus * rate / link - 1e-9)
    radix = radix_at(switch, link)
    pod_ports = request.pod_gpus * rate / link if request.pod_gpus else 0.0
    over = _oversubscription(request, radix, pod_ports)
    plane = _tapered(ports, radix, over, request.tiers) if pod_ports and pod_ports < ports else clos(ports, radix, over, request.tiers)
    floor: FloorPlan = catalog.get("floor_plans", request.floor_plan, "floor_plan")  # type: ignore[assignment]
    gpus_per_rack = system.gpus_per_system * system.systems_per_rack
    ports_per_rack = gpus_per_rack * rate / link
    lengths = _tier_lengths(plane, request.topology, system, ports_per_rack, floor)
    cpo = switch.optics == "cpo"
    media = tuple(choose_media(catalog, length, link, floor, cpo) for length in lengths)
    return FabricPlan(request, planes, acc, system, switch, nic, link, plane, media, gpus_per_rack)


def _candidate_switches(request: FabricRequest, catalog: Catalog, acc: Accelerator) -> list[Switch]:
    """The named switch, or the family's switches on sale in the build year."""
    if request.switch:
        switch: Switch = catalog.get("switches", request.switch, "switch")  # type: ignore[assignment]
        if switch.fabric != request.fabric:
            raise InputError("switch", switch.id, f"a {request.fabric.value} switch (this one is {switch.fabric.value})")
        return [switch]
    fab: FabricDefaults = catalog.get("fabrics", request.fabric, "fabric")  # type: ignore[assignment]
    ids = dict.fromkeys([*fab.switch_by_speed.values(), *fab.switches])
    found = [catalog.get("switches", i, "switch") for i in ids]
    timely = [s for s in found if s.year <= (request.year or acc.year)]  # type: ignore[attr-defined]
    if timely:
        return timely  # type: ignore[return-value]
    link = port_speed(family_speeds(catalog, request.fabric), acc.scale_out_bw_bits_per_s)
    return [default_switch(catalog, request.fabric, link)]


def plan_fabric(request: FabricRequest, catalog: Catalog) -> FabricPlan:
    """Resolve gear, count one plane, and choose the media of every tier.

    Unless the request names them, the switch and the number of planes are chosen by cost among
    designs that give every GPU its full scale-out rate at the requested oversubscription: one
    plane at the NIC's speed, or 2, 3, 4, 6 or 8 planes at a split lane speed (a 400G NIC as 2 x 200G;
    a GPU with three 800G NICs, 2.4T, as 3 x 800G)
    on a switch that runs that speed with a larger radix, so fewer tiers.
    """
    from stargate.fabric.bom import capex_and_power

    acc = rated_accelerator(request, catalog)
    rate = acc.scale_out_bw_bits_per_s
    options: list[tuple[float, int, int, FabricPlan]] = []  # (capex, shared ports, planes, plan)
    error: InputError | None = None
    for switch in _candidate_switches(request, catalog, acc):
        for planes in [request.planes] if request.planes else [1, 2, 3, 4, 6, 8]:
            exact = any(math.isclose(s, rate / planes) for s in switch.port_speeds_bits_per_s)
            if planes > 1 and not exact and request.planes is None:
                continue  # planes only at a lane speed the switch runs exactly
            try:
                plan = _build_plan(request, catalog, switch, planes)
            except InputError as e:
                error = error or e
                continue
            options.append((capex_and_power(plan)[0], 0 if exact else 1, planes, plan))
    if not options:
        raise error  # type: ignore[misc]
    # A port per GPU per plane at exactly its share of the rate first; ports shared by several
    # GPUs (or several per GPU) only where no switch runs that speed.
    options.sort(key=lambda o: (o[1], round(o[0], -3), o[2], o[3].switch.id))
    options = [o for o in options if o[1] == options[0][1]]
    usd, _, _, best = options[0]
    notes = []
    if len(options) > 1:
        runner = options[1]
        notes.append(
            f"chosen by cost among {len(options)} designs at {rate / 1e9:g} Gbit/s per GPU: {best.switch.id}, "
            f"{best.planes} plane(s) at {best.link_bits_per_s / 1e9:g}G, {best.plane.tiers} tiers, ${usd / request.gpus:,.0f}/GPU; "
            f"next {runner[3].switch.id}, {runner[2]} plane(s), {runner[3].plane.tiers} tiers, ${runner[0] / request.gpus:,.0f}/GPU")
    if request.pod_gpus is not None and request.pod_gpus < request.gpus:
        flat = plan_fabric(request.model_copy(update={"pod_gpus": None, "taper": 1.0}), catalog)
        flat_usd = capex_and_power(flat)[0]
        if flat_usd < usd:
            notes.append(f"a non-blocking design costs less than this taper: {flat.switch.id}, {flat.planes} plane(s), "
                         f"{flat.plane.tiers} tiers, ${flat_usd / request.gpus:,.0f}/GPU against ${usd / request.gpus:,.0f}")
    return replace(best, notes=tuple(notes))


class FabricDesign(BaseModel):
    """A designed fabric, per the ``stargate fabric`` contract; totals cover every plane."""

    model_config = ConfigDict(frozen=True)

    fabric: str
    topology: str
    gpus: int
    accelerator: str
    planes: int
    link_bits_per_s: float
    switch: str
    switch_radix: int
    nic: str
    tiers: int
    switches: int
    switches_by_tier: list[int]
    links_by_tier: list[int]
    oversubscription_by_tier: list[float]
    nics: int
    transceivers: int
    transceivers_by_type: dict[str, int]
    cables: int
    cables_by_type: dict[str, int]
    media_by_tier: list[str]
    link_length_m_by_tier: list[float]
    fabric_capex_usd: float
    fabric_capex_breakdown_usd: dict[str, float]
    fabric_power_w: float
    fabric_power_breakdown_w: dict[str, float]
    capex_usd_per_gpu: float
    power_w_per_gpu: float
    bisection_bw_bytes_per_s: float
    worst_case_switch_hops: int
    worst_case_latency_s: float
    scale_up: dict[str, float | str]
    collectives_s: dict[str, float] = {}
    notes: list[str] = []


def design_fabric(request: FabricRequest, catalog: Catalog | None = None) -> FabricDesign:
    """Design a fabric: counts, gear, cost, power, bisection bandwidth and latency.

    Examples
    --------
    >>> d = design_fabric(FabricRequest(gpus=32768, topology="fat-tree"))
    >>> d.tiers, d.switch_radix, d.switches_by_tier
    (3, 64, [1024, 1024, 512])
    """
    from stargate.fabric.bom import bill_of_materials

    cat = catalog or Catalog.load()
    return bill_of_materials(plan_fabric(request, cat), cat)
