"""Where a group of ranks sits on the machine, as the levels the collective model needs.

A group of ``p`` accelerators with ``g`` of them in each scale-up domain becomes two levels: the
domain (``g`` members at the scale-up link's per-direction bandwidth times its efficiency) and
the scale-out fabric (``p / g`` domains at the accelerator's NIC rate times the fabric's link
efficiency). Traffic that climbs above an oversubscribed tier gets that tier's share of the
bandwidth: the fabric level's bandwidth is divided by the product of the oversubscription of the
tiers the group spans (a worst case: every flow crosses the narrow tier). Latency per step is the
fabric's software latency plus the switches on the path. In-network reduction is offered only
when the caller asks for it and every level's hardware has it.
"""

from __future__ import annotations

import math

from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator, FabricDefaults, ScaleUpTech
from stargate.enums import Fabric
from stargate.fabric.collectives import Level
from stargate.fabric.design import FabricPlan, block_spans

__all__ = ["fabric_level", "placement", "scale_up_level", "scale_up_summary"]


def scale_up_level(accelerator: Accelerator, catalog: Catalog, members: int, sharp: bool = False) -> Level:
    """The scale-up domain as a collective level with ``members`` ranks in it."""
    tech: ScaleUpTech = catalog.get("scale_up", accelerator.scale_up, "scale_up")  # type: ignore[assignment]
    bw = accelerator.scale_up_bw_bytes_per_s_bidir / 2 * tech.link_efficiency
    return Level(members, bw, tech.latency_s, sharp and tech.in_network_reduction)


def fabric_level(
    catalog: Catalog, fabric: Fabric, bits_per_s_per_gpu: float, members: int, switch_hops: int, switch_latency_s: float,
    oversubscription: float = 1.0, sharp: bool = False,
) -> Level:
    """The scale-out fabric as a collective level: ``members`` domains, each GPU at its NIC rate."""
    fab: FabricDefaults = catalog.get("fabrics", fabric, "fabric")  # type: ignore[assignment]
    bw = bits_per_s_per_gpu / 8 * fab.link_efficiency / oversubscription
    return Level(members, bw, fab.collective_latency_s + switch_hops * switch_latency_s, sharp)


def scale_up_summary(accelerator: Accelerator, catalog: Catalog) -> dict[str, float | str]:
    """Size, per-GPU bandwidth and latency of the accelerator's scale-up domain."""
    tech: ScaleUpTech = catalog.get("scale_up", accelerator.scale_up, "scale_up")  # type: ignore[assignment]
    return {
        "tech": accelerator.scale_up_tech,
        "topology": tech.topology,
        "domain_gpus": float(accelerator.scale_up_domain),
        "bw_bytes_per_s_per_direction": accelerator.scale_up_bw_bytes_per_s_bidir / 2,
        "latency_s": tech.latency_s,
    }


def _spanned_oversubscription(plan: FabricPlan, gpus: int) -> tuple[float, int]:
    """Product of the oversubscription of the tiers a contiguous group climbs, and the top tier it reaches."""
    c = plan.plane
    factor, tier = 1.0, 1
    for t, e in enumerate(block_spans(c, plan.request.topology, plan.system)):
        if gpus <= e:
            break
        factor *= c.oversubscription[t]
        tier = t + 2
    return factor, tier


def placement(plan: FabricPlan, catalog: Catalog, gpus: int, per_domain: int | None = None, sharp: bool = False) -> list[Level]:
    """Levels of a group of ``gpus`` accelerators, ``per_domain`` of them per scale-up domain.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> from stargate.fabric.design import FabricRequest, plan_fabric
    >>> cat = Catalog.load()
    >>> levels = placement(plan_fabric(FabricRequest(gpus=1024), cat), cat, 1024)
    >>> [lv.members for lv in levels]
    [8, 128]
    """
    acc = plan.accelerator
    g = per_domain or min(gpus, acc.scale_up_domain)
    inner = scale_up_level(acc, catalog, g, sharp)
    domains = math.ceil(gpus / g)
    if domains == 1:
        return [inner]
    factor, tier = _spanned_oversubscription(plan, gpus)
    outer = fabric_level(
        catalog, plan.request.fabric, acc.scale_out_bw_bits_per_s, domains, 2 * tier - 1, plan.switch.latency_s,
        factor, sharp and plan.switch.in_network_reduction,
    )
    return [inner, outer]
