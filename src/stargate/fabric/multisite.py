"""One job over several sites: the links between them, and what they cost in step time.

Sites stand in a ring (two sites: one link); each link is ``fiber_pairs`` fibre pairs of
DWDM channels (the fibre's usable spectrum over the optic's channel spacing) at a coherent
optic's rate, so its capacity is fibres x wavelengths x rate (x link efficiency). In-line
amplifiers stand every span along the route (80 km by default); past the optic's reach every
wavelength is regenerated (received and sent again by two optics back to back), so a link of any
length up to :data:`~stargate.inputs.MAX_SITE_DISTANCE_M` can be built and priced. Light in
fibre takes about 5 microseconds per km.

A data-parallel gradient all-reduce across sites is hierarchical, as synchronous training across
sites must do: reduce-scatter inside each site, all-reduce of every shard across the sites,
all-gather inside each site. In the collective model that is one more, outermost level whose
per-rank bandwidth is the link capacity shared by every GPU of the site (all the data-parallel
groups reduce at once).
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
from stargate.inputs import INPUT_CONFIG, MAX_GPUS, MAX_SITE_FIBER_PAIRS, SITE_FIBER_PAIRS
from stargate.units import Count, SiteDistance, site_distance_m

__all__ = ["SITE_FIBER_PAIRS", "MultiSite", "SiteLink", "cross_site_level", "multisite", "ring_links", "site_link"]



class SiteLink(BaseModel):
    """A link between two adjacent sites: its optics, fibre, amplifiers and regenerators."""

    model_config = ConfigDict(frozen=True)

    distance_m: float
    fiber_pairs: int
    optic: str
    optic_reach_m: float
    """Longest route the optic's signal crosses without regeneration (m)."""
    wavelengths: int
    capacity_bits_per_s: float
    latency_s: float
    """One-way latency: propagation over the route plus each regeneration's DSPs (s)."""
    amplifier_sites: int
    """In-line amplifier (ILA) sites along the route; each amplifies every fibre pair."""
    regenerator_sites: int
    """Sites along the route where every wavelength is regenerated (0 within the optic's reach)."""
    regenerators: int
    """Regenerators: one per wavelength per regeneration site, each two optics back to back."""
    capex_usd: float
    capex_breakdown_usd: dict[str, float]
    """``optics`` (both ends), ``fiber``, ``line_system`` (the in-line amplifiers) and ``regenerators``."""
    power_w: float
    """Power of the optics at both ends, drawn at the sites (W); amplifiers and regenerators draw
    along the route."""


def _spans(distance_m: float, span_m: float) -> int:
    """Spans of at most ``span_m`` that cover ``distance_m`` (one part in 1e12 of slack for rounding)."""
    return max(math.ceil(distance_m / span_m * (1.0 - 1e-12)), 1)


def _link_with(chosen: WanOptic, distance_m: float, fiber_pairs: int, wan: WanDefaults) -> SiteLink:
    """The link ``chosen`` makes over ``distance_m``: every count and cost in closed form."""
    waves = fiber_pairs * int(wan.spectrum_hz_per_fiber_pair // chosen.channel_spacing_hz)
    amplifier_sites = _spans(distance_m, wan.amplifier_spacing_m) - 1
    regen_sites = _spans(distance_m, chosen.reach_m) - 1
    capex = {
        "optics": 2 * waves * chosen.price_usd,
        "fiber": fiber_pairs * distance_m * wan.fiber_pair_usd_per_m,
        "line_system": amplifier_sites * fiber_pairs * wan.amplifier_usd_per_fiber_pair,
        "regenerators": regen_sites * waves * 2 * chosen.price_usd,
    }
    return SiteLink(
        distance_m=distance_m, fiber_pairs=fiber_pairs, optic=chosen.id, optic_reach_m=chosen.reach_m,
        wavelengths=waves, capacity_bits_per_s=waves * chosen.rate_bits_per_s,
        latency_s=distance_m * wan.propagation_s_per_m + regen_sites * wan.regenerator_latency_s,
        amplifier_sites=amplifier_sites, regenerator_sites=regen_sites, regenerators=regen_sites * waves,
        capex_usd=sum(capex.values()), capex_breakdown_usd=capex, power_w=2 * waves * chosen.power_w,
    )


def site_link(distance_m: float, fiber_pairs: int, catalog: Catalog, optic: str | None = None) -> SiteLink:
    """Capacity, latency, cost and power of a DWDM link of ``distance_m`` metres.

    The fibre pairs are lit across their spectrum with the optic that gives the lowest link cost
    per bit/s (or ``optic``); amplifiers stand every ``amplifier_spacing_m`` and, past the
    optic's reach, every wavelength is regenerated.

    Examples
    --------
    >>> link = site_link(100e3, 4, Catalog.load())
    >>> round(link.latency_s * 1e6)  # 100 km of fibre
    490
    >>> far = site_link(1_500e3, 4, Catalog.load())
    >>> far.amplifier_sites  # an amplifier every 80 km: 19 spans
    18
    """
    distance_m = site_distance_m(distance_m)
    if fiber_pairs < 1:
        raise InputError("fiber_pairs", fiber_pairs, "at least one fibre pair")
    wan: WanDefaults = catalog.get("wan", "default", "wan")  # type: ignore[assignment]
    optics: list[WanOptic] = ([catalog.get("wan_optics", optic, "optic")] if optic  # type: ignore[list-item]
                              else list(catalog.entries("wan_optics")))  # type: ignore[arg-type]
    fits = [o for o in optics if o.channel_spacing_hz <= wan.spectrum_hz_per_fiber_pair]
    if not fits:
        raise InputError("optic", optics[0].id if optics else optic, "an optic whose channel fits the fibre's spectrum")
    links = [_link_with(o, distance_m, fiber_pairs, wan) for o in fits]
    return min(links, key=lambda link: link.capex_usd / link.capacity_bits_per_s)


def ring_links(sites: int) -> int:
    """Links of a ring of ``sites`` sites: one between two sites, else one per site.

    Examples
    --------
    >>> ring_links(2), ring_links(3)
    (1, 3)
    """
    return sites if sites > 2 else 1


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

    sites: Annotated[Count, Field(ge=2, le=64)]
    """Number of sites the job spans, joined in a ring."""
    distance_m: SiteDistance
    """Fibre route length between adjacent sites (m; or a length such as ``"1500 km"``)."""
    fiber_pairs: Annotated[Count, Field(ge=1, le=MAX_SITE_FIBER_PAIRS)] = SITE_FIBER_PAIRS
    """Fibre pairs per link."""
    gradient_bytes: Annotated[float, Field(gt=0, le=1e18)]
    """Gradient of one model replica (bytes), all-reduced across data-parallel replicas every step."""
    model_parallel: Annotated[Count, Field(ge=1, le=MAX_GPUS)] | None = None
    """GPUs one replica is split over (tensor x pipeline); default: one scale-up domain."""
    optic: str | None = None
    """WAN optic id; default: the one whose link costs least per bit/s."""


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
    links = ring_links(request.sites)
    return MultiSite(
        sites=request.sites, gpus_per_site=per_site, model_parallel=mp, data_parallel=dp, link=link, links=links,
        gradient_bytes=request.gradient_bytes, all_reduce_one_site_s=float(t_one),
        all_reduce_across_sites_s=float(t_multi), added_step_time_s=float(t_multi - t_one),
        links_capex_usd=links * link.capex_usd, links_power_w=links * link.power_w,
    )
