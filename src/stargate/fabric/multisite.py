"""One job over several sites: the links between them, and what they cost in step time.

Sites stand in a ring (two sites: one link); each link is ``fiber_pairs`` fibre pairs of
DWDM channels (the fibre's usable spectrum over the optic's channel spacing) at a coherent
optic's rate, so its capacity is fibres x wavelengths x rate (x link efficiency). Light in fibre takes about 5 microseconds per
km. A data-parallel gradient all-reduce across sites is hierarchical, as synchronous training
across sites must do: reduce-scatter inside each site, all-reduce of every shard across the
sites, all-gather inside each site. In the collective model that is one more, outermost level
whose per-rank bandwidth is the link capacity shared by every GPU of the site (all the
data-parallel groups reduce at once).
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from stargate.catalog import Catalog
from stargate.catalog.schema import WanDefaults, WanOptic
from stargate.errors import InputError
from stargate.fabric.collectives import Level, collective_time
from stargate.fabric.design import FabricPlan
from stargate.inputs import INPUT_CONFIG, MAX_GPUS

__all__ = ["MultiSite", "SiteLink", "cross_site_level", "multisite", "site_link"]


class SiteLink(BaseModel):
    """A link between two adjacent sites."""

    model_config = ConfigDict(frozen=True)

    distance_m: float
    fiber_pairs: int
    optic: str
    wavelengths: int
    capacity_bits_per_s: float
    latency_s: float
    capex_usd: float
    capex_breakdown_usd: dict[str, float]
    power_w: float


def site_link(distance_m: float, fiber_pairs: int, catalog: Catalog, optic: str | None = None) -> SiteLink:
    """Capacity, latency, cost and power of a DWDM link of ``distance_m`` metres.

    Examples
    --------
    >>> link = site_link(100e3, 4, Catalog.load())
    >>> round(link.latency_s * 1e6)  # 100 km of fibre
    490
    """
    if not distance_m > 0:
        raise InputError("site_distance", distance_m, "a positive distance like '100 km'")
    if fiber_pairs < 1:
        raise InputError("fiber_pairs", fiber_pairs, "at least one fibre pair")
    wan: WanDefaults = catalog.get("wan", "default", "wan")  # type: ignore[assignment]
    usable = [o for o in catalog.entries("wan_optics") if o.reach_m >= distance_m]  # type: ignore[attr-defined]
    if optic:
        chosen: WanOptic = catalog.get("wan_optics", optic, "optic")  # type: ignore[assignment]
        if chosen.reach_m < distance_m:
            raise InputError("optic", optic, f"an optic that reaches {distance_m / 1e3:.0f} km")
    elif not usable:
        raise InputError("site_distance", distance_m, "a distance some catalog WAN optic reaches")
    else:  # cheapest per bit/s among those that reach
        chosen = min(usable, key=lambda o: o.price_usd / o.rate_bits_per_s)  # type: ignore[attr-defined,assignment]
    if chosen.channel_spacing_hz > wan.spectrum_hz_per_fiber_pair:
        raise InputError("optic", chosen.id, "an optic whose channel fits the fibre's spectrum")
    waves = fiber_pairs * int(wan.spectrum_hz_per_fiber_pair // chosen.channel_spacing_hz)
    capex = {
        "optics": 2 * waves * chosen.price_usd,
        "fiber": fiber_pairs * distance_m * wan.fiber_pair_usd_per_m,
        "line_system": fiber_pairs * distance_m * wan.line_system_usd_per_m,
    }
    return SiteLink(
        distance_m=distance_m, fiber_pairs=fiber_pairs, optic=chosen.id, wavelengths=waves,
        capacity_bits_per_s=waves * chosen.rate_bits_per_s, latency_s=distance_m * wan.propagation_s_per_m,
        capex_usd=sum(capex.values()), capex_breakdown_usd=capex, power_w=2 * waves * chosen.power_w,
    )


def cross_site_level(link: SiteLink, sites: int, ranks_per_site: int, catalog: Catalog) -> Level:
    """The site ring as the outermost collective level: each rank gets its share of a link."""
    wan: WanDefaults = catalog.get("wan", "default", "wan")  # type: ignore[assignment]
    bw = link.capacity_bits_per_s / 8 * wan.link_efficiency / ranks_per_site
    return Level(sites, bw, wan.latency_s + link.latency_s)


class MultiSite(BaseModel):
    """What spreading one job over several sites costs."""

    model_config = ConfigDict(frozen=True)

    sites: int
    gpus_per_site: int
    model_parallel: int
    data_parallel: int
    link: SiteLink
    links: int
    gradient_bytes: float
    all_reduce_one_site_s: float
    all_reduce_across_sites_s: float
    added_step_time_s: float
    links_capex_usd: float
    links_power_w: float


class MultiSiteRequest(BaseModel):
    """Sites, the links between them, and the gradient to reduce every step."""

    model_config = INPUT_CONFIG

    sites: Annotated[int, Field(ge=2, le=64)]
    """Number of sites the job spans, joined in a ring."""
    distance_m: Annotated[float, Field(gt=0, le=40_000e3)]
    """Fibre route length between adjacent sites (m)."""
    fiber_pairs: Annotated[int, Field(ge=1, le=100_000)] = 4
    """Fibre pairs per link."""
    gradient_bytes: Annotated[float, Field(gt=0, le=1e18)]
    """Gradient of one model replica (bytes), all-reduced across data-parallel replicas every step."""
    model_parallel: Annotated[int, Field(ge=1, le=MAX_GPUS)] | None = None
    """GPUs one replica is split over (tensor x pipeline); default: one scale-up domain."""
    optic: str | None = None
    """WAN optic id; default: the cheapest per bit/s that reaches."""


def multisite(request: MultiSiteRequest, gpus: int, plan: FabricPlan, catalog: Catalog) -> MultiSite:
    """Step-time cost of the data-parallel gradient all-reduce over ``request.sites`` sites.

    Each replica spans ``model_parallel`` GPUs and holds ``1 / model_parallel`` of the gradient;
    the ``model_parallel`` data-parallel groups (one per shard) all-reduce at once and share the
    fabric and the site links. The baseline is the same job in one site.

    Examples
    --------
    >>> from stargate.fabric.design import FabricRequest, plan_fabric
    >>> cat = Catalog.load()
    >>> plan = plan_fabric(FabricRequest(gpus=16384), cat)
    >>> ms = multisite(MultiSiteRequest(sites=2, distance_m=100e3, gradient_bytes=810e9), 16384, plan, cat)
    >>> ms.data_parallel, ms.added_step_time_s > 0
    (2048, True)
    """
    from stargate.fabric.placement import placement

    domain = plan.accelerator.scale_up_domain
    mp = request.model_parallel or domain
    dp = max(gpus // mp, 1)
    per_site = math.ceil(gpus / request.sites)
    dp_per_site = max(dp // request.sites, 1)
    per_domain = max(domain // mp, 1)
    link = site_link(request.distance_m, request.fiber_pairs, catalog, request.optic)
    shard = request.gradient_bytes / mp
    one_site = placement(plan, catalog, dp * per_domain if per_domain > 1 else dp, per_domain)
    inner = placement(plan, catalog, dp_per_site * per_domain if per_domain > 1 else dp_per_site, per_domain)
    across = [*inner, cross_site_level(link, request.sites, per_site, catalog)]
    t_multi, _ = collective_time("all_reduce", shard, across)
    t_one, _ = collective_time("all_reduce", shard, one_site)
    links = request.sites if request.sites > 2 else 1
    return MultiSite(
        sites=request.sites, gpus_per_site=per_site, model_parallel=mp, data_parallel=dp, link=link, links=links,
        gradient_bytes=request.gradient_bytes, all_reduce_one_site_s=float(t_one),
        all_reduce_across_sites_s=float(t_multi), added_step_time_s=float(t_multi - t_one),
        links_capex_usd=links * link.capex_usd, links_power_w=links * link.power_w,
    )
