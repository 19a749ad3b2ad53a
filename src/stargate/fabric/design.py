"""A whole scale-out fabric: topology, gear, cost, power, bandwidth and latency.

For ``gpus`` accelerators on a fabric family (InfiniBand or Ethernet), each accelerator's
scale-out rate is split over ``planes`` independent planes; each plane is a folded Clos
(:mod:`stargate.fabric.topology`) on the family's default switch at the per-plane link speed
(or the one the user names), with the fewest tiers the switch radix allows. Rail-optimized
fabrics (NVIDIA DGX SuperPOD) wire the k-th NIC of every server in a scalable unit to the same
leaf, so a leaf spans the servers of a rail group, not one rack; fat-trees put each leaf in the
middle of the racks whose GPUs it serves. Gear and media per tier come from
:mod:`stargate.fabric.gear`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator, FloorPlan, Nic, Switch, System
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
from stargate.inputs import INPUT_CONFIG, MAX_GPUS

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

    gpus: Annotated[int, Field(gt=0, le=MAX_GPUS)]
    """Accelerators on the fabric."""
    fabric: Fabric = Fabric.INFINIBAND
    """Fabric family."""
    accelerator: str = "h100-sxm-80g"
    """Accelerator id or alias: sets the per-GPU rate, GPUs per server and per rack."""
    topology: Topology = Topology.RAIL_OPTIMIZED
    """Rail-optimized Clos (SuperPOD-style) or classic fat-tree."""
    oversubscription: tuple[Annotated[float, Field(ge=1.0, le=1024.0)], ...] = Field((1.0,), max_length=6)
    """Down/up ratio per tier from the leaf up; tiers not given are non-blocking."""
    planes: Annotated[int, Field(ge=1, le=8)] = 1
    """Independent planes each accelerator's scale-out rate is split over."""
    switch: str | None = None
    """Switch id; default: the fabric family's switch for the per-plane link speed."""
    tiers: Annotated[int, Field(ge=1, le=6)] | None = None
    """Force the number of tiers; default: the fewest the radix allows."""
    floor_plan: str = "default"
    """Floor plan id (rack size, rows, cable slack)."""
    sharp: bool = False
    """Use in-network reduction (SHARP, NVLS) in collectives where the hardware has it."""


@dataclass(frozen=True, slots=True)
class FabricPlan:
    """Everything resolved about one fabric: gear, one plane's counts, and media per tier."""

    request: FabricRequest
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

    @property
    def nics(self) -> int:
        """Single-port NICs over all planes."""
        return self.plane.endpoints * self.request.planes


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


def plan_fabric(request: FabricRequest, catalog: Catalog) -> FabricPlan:
    """Resolve gear, count one plane, and choose the media of every tier."""
    acc = catalog.accelerator(request.accelerator)
    system = catalog.system(acc.default_system)
    rate = acc.scale_out_bw_bits_per_s / request.planes
    if request.switch:
        switch: Switch = catalog.get("switches", request.switch, "switch")  # type: ignore[assignment]
        if switch.fabric != request.fabric:
            raise InputError("switch", switch.id, f"a {request.fabric.value} switch (this one is {switch.fabric.value})")
        link = port_speed(list(switch.port_speeds_bits_per_s), rate)
    else:
        link = port_speed(family_speeds(catalog, request.fabric), rate)
        switch = default_switch(catalog, request.fabric, link)
    nic = default_nic(catalog, request.fabric, link)
    # GPUs whose rate is below the port speed share a port; faster GPUs use several.
    ports = math.ceil(request.gpus * rate / link - 1e-9)
    plane = clos(ports, radix_at(switch, link), request.oversubscription, request.tiers)
    floor: FloorPlan = catalog.get("floor_plans", request.floor_plan, "floor_plan")  # type: ignore[assignment]
    gpus_per_rack = system.gpus_per_system * system.systems_per_rack
    ports_per_rack = gpus_per_rack * rate / link
    lengths = _tier_lengths(plane, request.topology, system, ports_per_rack, floor)
    media = tuple(choose_media(catalog, length, link, floor) for length in lengths)
    return FabricPlan(request, acc, system, switch, nic, link, plane, media, gpus_per_rack)


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
