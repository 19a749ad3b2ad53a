"""Bill of materials of a fabric plan: counts of every part, cost, power, bandwidth, latency."""

from __future__ import annotations

from collections import Counter

from stargate.catalog import Catalog
from stargate.fabric.design import FabricDesign, FabricPlan
from stargate.fabric.placement import placement, scale_up_summary

__all__ = ["bill_of_materials", "capex_and_power", "capex_and_power_by_part", "standard_collectives"]

GIB = 2.0**30


def _media_counts(plan: FabricPlan) -> tuple[Counter[str], Counter[str], float, float, float, float]:
    """Transceivers and cables by type, and their cost and power (fibre included)."""
    transceivers: Counter[str] = Counter()
    cables: Counter[str] = Counter()
    optics_usd = cables_usd = optics_w = cables_w = 0.0
    planes = plan.planes
    for links, tm in zip(plan.plane.links_by_tier, plan.media, strict=True):
        n = links * planes
        if tm.media.is_cable:
            cables[tm.media.id] += round(n * tm.modules_per_link)
            cables_usd += n * tm.module_usd_per_link
            cables_w += n * tm.w_per_link
        else:
            transceivers[tm.media.id] += round(n * tm.modules_per_link)
            cables["fiber"] += n * tm.lanes
            optics_usd += n * tm.module_usd_per_link
            cables_usd += n * tm.fiber_usd_per_link
            optics_w += n * tm.w_per_link
    return transceivers, cables, optics_usd, cables_usd, optics_w, cables_w


def bill_of_materials(plan: FabricPlan, catalog: Catalog) -> FabricDesign:
    """Count, price and power every part of ``plan`` and report the fabric contract."""
    req, c, planes = plan.request, plan.plane, plan.planes
    switches = c.switches * planes
    nics = plan.nics
    transceivers, cables, *_ = _media_counts(plan)
    capex, power = capex_and_power_by_part(plan)
    propagation = sum(2 * tm.length_m * tm.media.propagation_s_per_m for tm in plan.media)
    notes = [(f"{c.endpoints:,} ports per plane at {plan.link_bits_per_s / 1e9:g} Gbit/s on {plan.switch.id} "
              f"({c.radix} ports at that speed) for {plan.accelerator.scale_out_bw_bits_per_s / 1e9:g} Gbit/s per GPU")]
    notes += list(plan.notes)
    if c.endpoints < c.capacity and c.tiers > 1:
        notes.append(f"{c.tiers} tiers hold up to {c.capacity:,} GPUs; this build fills {100 * c.endpoints / c.capacity:.1f}%")
    return FabricDesign(
        fabric=req.fabric.value, topology=req.topology.value, gpus=req.gpus, accelerator=plan.accelerator.id,
        planes=planes, link_bits_per_s=plan.link_bits_per_s, switch=plan.switch.id, switch_radix=c.radix,
        nic=plan.nic.id, tiers=c.tiers, switches=switches, switches_by_tier=[s * planes for s in c.switches_by_tier],
        links_by_tier=[x * planes for x in c.links_by_tier], oversubscription_by_tier=list(c.oversubscription),
        nics=nics, transceivers=sum(transceivers.values()), transceivers_by_type=dict(transceivers),
        cables=sum(cables.values()), cables_by_type=dict(cables), media_by_tier=[tm.media.id for tm in plan.media],
        link_length_m_by_tier=[tm.length_m for tm in plan.media], fabric_capex_usd=sum(capex.values()),
        fabric_capex_breakdown_usd=capex, fabric_power_w=sum(power.values()), fabric_power_breakdown_w=power,
        capex_usd_per_gpu=sum(capex.values()) / req.gpus, power_w_per_gpu=sum(power.values()) / req.gpus,
        bisection_bw_bytes_per_s=c.bisection_links * planes * plan.link_bits_per_s / 8,
        worst_case_switch_hops=c.worst_case_switch_hops,
        worst_case_latency_s=c.worst_case_switch_hops * plan.switch.latency_s + propagation,
        scale_up=scale_up_summary(plan.accelerator, catalog),
        collectives_s=standard_collectives(plan, catalog), notes=notes,
    )


def standard_collectives(plan: FabricPlan, catalog: Catalog, message_bytes: float = GIB) -> dict[str, float]:
    """Times of the standard collectives over every GPU of the fabric, for one message size."""
    from stargate.fabric.collectives import collective_time

    levels = placement(plan, catalog, plan.request.gpus, sharp=plan.request.sharp)
    out = {}
    for name in ("all_reduce", "reduce_scatter", "all_gather", "all_to_all", "send_recv"):
        t, _ = collective_time(name, message_bytes, levels)
        out[f"{name}_1gib_all_gpus" if name != "send_recv" else "send_recv_1gib_across_fabric"] = float(t)
    return out


def capex_and_power_by_part(plan: FabricPlan) -> tuple[dict[str, float], dict[str, float]]:
    """Capex (USD) and power (W) of a fabric plan by part: switches, NICs, optics, cables (fibre included).

    Examples
    --------
    >>> from stargate.fabric.design import FabricRequest, plan_fabric
    >>> usd, w = capex_and_power_by_part(plan_fabric(FabricRequest(gpus=4096), Catalog.load()))
    >>> list(usd), sum(usd.values()) == capex_and_power(plan_fabric(FabricRequest(gpus=4096), Catalog.load()))[0]
    (['switches', 'nics', 'optics', 'cables'], True)
    """
    switches = plan.plane.switches * plan.planes
    nics = plan.nics
    _, _, optics_usd, cables_usd, optics_w, cables_w = _media_counts(plan)
    usd = {"switches": switches * plan.switch.price_usd, "nics": nics * plan.nic.price_usd,
           "optics": optics_usd, "cables": cables_usd}
    w = {"switches": switches * plan.switch.power_w, "nics": nics * plan.nic.power_w, "optics": optics_w, "cables": cables_w}
    return usd, w


def capex_and_power(plan: FabricPlan) -> tuple[float, float]:
    """Total capex (USD) and power (W) of a fabric plan: what the cluster designer needs."""
    usd, w = capex_and_power_by_part(plan)
    return sum(usd.values()), sum(w.values())
