"""The cluster designer: a number of accelerators, a budget or a power cap in, a costed,
powered, cooled cluster out.

The chain: resolve the catalog entries of a :class:`~stargate.scenario.DesignRequest`; pack
systems into racks and choose the cooling; then, for a number of systems ``n``, add up IT
power (critical IT capacity, at nameplate), facility power (IT at its peak draw × the cooling's
design PUE: the capacity the site's connection is built and sized for), typical facility power
(typical IT × the annual PUE: what the energy bill is on), capex, opex and TCO. Every step is
closed-form in ``n`` and works on numpy arrays, so a 5,000,000-GPU design costs the same as an 8-GPU one.

Sizing by budget (or power) returns the largest whole number of systems whose capex (or
facility power) fits: capex and power never decrease with ``n``, so an exponential bracket
and an integer bisection find it exactly in O(log n) evaluations of the closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator, CoolingTech, EnergySource, Finance, System
from stargate.cluster.power import ItPower, it_power_w, peak_it_power_w, typical_it_power_w
from stargate.cluster.racks import RackLayout, choose_cooling, rack_layout
from stargate.economics.capex import Capex, capex_usd
from stargate.economics.energy import blend
from stargate.economics.opex import Opex, energy_mwh_per_year, opex_usd_per_year
from stargate.economics.tco import Tco, tco_usd_per_gpu_hour
from stargate.errors import InputError
from stargate.fabric.design import FabricPlan, FabricRequest, plan_fabric
from stargate.inputs import MAX_GPUS
from stargate.scenario import DesignRequest, check_parts_by_year
from stargate.units import format_quantity, format_usd

__all__ = ["ClusterDesign", "Resolved", "design_cluster", "evaluate", "resolve"]


@dataclass(frozen=True, slots=True)
class Resolved:
    """A request with its catalog entries looked up and its per-system constants fixed."""

    request: DesignRequest
    accelerator: Accelerator
    system: System
    layout: RackLayout
    cooling: CoolingTech
    cooling_reason: str
    energy: EnergySource
    finance: Finance
    fabric: FabricRequest
    """The cluster's scale-out fabric; its ``gpus`` is set per candidate size."""
    catalog: Catalog
    storage_usd_per_gpu: float
    storage_w_per_gpu: float
    support_fraction: float = 0.0
    """CPU, management and service IT as a fraction of the accelerator systems' power."""
    network: Callable[[Any], tuple[Any, Any]] | None = None
    """Capex (USD) and power (W) of the scale-out fabric as a function of the number of systems, where
    it is not planned for each size (the uncertainty model's table of fabric plans); None: planned."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Power and cost of ``n_systems`` systems (floats, or arrays of candidates)."""

    n_systems: Any
    it_power: ItPower
    peak_it_power_w: Any
    facility_power_w: Any
    typical_facility_power_w: Any
    capex: Capex
    opex: Opex
    tco: Tco


def resolve(request: DesignRequest, catalog: Catalog) -> Resolved:
    """Look up the request's catalog entries and fix everything that does not depend on size."""
    check_parts_by_year(request, catalog)
    acc = catalog.accelerator(request.accelerator)
    system = catalog.system(request.system or acc.default_system)
    if system.accelerator != acc.id:
        raise InputError("system", system.id, f"a system that holds {acc.id} (this one holds {system.accelerator})")
    layout = rack_layout(system, request.systems_per_rack)
    cooling, why = choose_cooling(layout.rack_power_w, system, catalog.entries("cooling"), request.cooling)  # type: ignore[arg-type]
    storage = catalog.storage(request.storage)
    tb = storage.capacity_bytes_per_gpu / 1e12
    finance = catalog.finance(request.finance)
    if request.wacc_per_year is not None:
        finance = finance.model_copy(update={"wacc_per_year": request.wacc_per_year})
    fabric = FabricRequest(gpus=1, fabric=request.fabric, accelerator=acc.id, topology=request.topology,
                           pod_gpus=request.pod_gpus, taper=request.taper, scale_out_bits_per_s=request.scale_out_bits_per_s,
                           year=request.year)  # the build year (a plan phase's): the switches on sale
    return Resolved(
        request, acc, system, layout, cooling, why,
        blend(request.mix, catalog), finance,
        fabric, catalog, tb * storage.price_usd_per_tb, tb * storage.power_w_per_tb,
        catalog.it_overhead().support_fraction_of_systems,
    )


@lru_cache(maxsize=4096)
def _fabric_plan(template: FabricRequest, gpus: int, catalog: Catalog) -> FabricPlan:
    return plan_fabric(template.model_copy(update={"gpus": gpus}), catalog)


@lru_cache(maxsize=4096)
def _fabric_totals(template: FabricRequest, gpus: int, catalog: Catalog) -> tuple[float, float]:
    from stargate.fabric.bom import capex_and_power

    return capex_and_power(_fabric_plan(template, gpus, catalog))


def fabric_plan_for(r: Resolved, gpus: int) -> FabricPlan:
    """The scale-out fabric the designer plans for ``gpus`` accelerators of ``r`` (cached)."""
    return _fabric_plan(r.fabric, gpus, r.catalog)


def network_usd_w(r: Resolved, n_systems: Any) -> tuple[Any, Any]:
    """Capex and power of the scale-out fabric for ``n_systems`` systems (arrays too)."""
    gpus = np.asarray(n_systems, dtype=float) * r.system.gpus_per_system
    if gpus.ndim == 0:
        return _fabric_totals(r.fabric, int(gpus), r.catalog) if gpus > 0 else (0.0, 0.0)
    pairs = [_fabric_totals(r.fabric, int(g), r.catalog) if g > 0 else (0.0, 0.0) for g in gpus.ravel()]
    usd, w = (np.array(x, dtype=float).reshape(gpus.shape) for x in zip(*pairs, strict=True))
    return usd, w


def evaluate(r: Resolved, n_systems: Any) -> Evaluation:
    """Power and cost of ``n_systems`` systems; ``n_systems`` may be a numpy array.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> r = resolve(DesignRequest(accelerator="h100", gpus=8), Catalog.load())
    >>> e = evaluate(r, 2)
    >>> bool(e.facility_power_w > e.it_power.total)
    True
    """
    it, peak_w, facility_w, typical_w, capex = _power_and_capex(r, n_systems)
    opex = opex_usd_per_year(typical_w, r.energy, capex, r.finance)
    gpus = n_systems * r.system.gpus_per_system
    return Evaluation(n_systems, it, peak_w, facility_w, typical_w, capex, opex, tco_usd_per_gpu_hour(capex, opex, gpus, r.finance))


def _power_and_capex(r: Resolved, n_systems: Any) -> tuple[ItPower, Any, Any, Any, Capex]:
    """IT power, peak IT, facility and typical facility power, and capex of ``n_systems`` systems."""
    net_usd, net_w = network_usd_w(r, n_systems) if r.network is None else r.network(n_systems)
    it = it_power_w(n_systems, r.system, r.accelerator, net_w, r.storage_w_per_gpu, r.support_fraction)
    peak_w = peak_it_power_w(n_systems, r.system, net_w, r.storage_w_per_gpu, r.support_fraction)
    facility_w = peak_w * r.cooling.peak_pue
    typical_w = typical_it_power_w(n_systems, r.system, net_w, r.storage_w_per_gpu, r.support_fraction) * r.cooling.pue
    capex = capex_usd(
        n_systems, r.system, r.accelerator, net_usd, r.storage_usd_per_gpu, it.total, facility_w, r.cooling, r.energy,
        r.finance.owner_costs_fraction_of_build,
    )
    return it, peak_w, facility_w, typical_w, capex


def largest_within(cost: Any, limit: Any) -> Any:
    """Largest integer ``n >= 0`` with ``cost(n) <= limit``, for ``cost`` non-decreasing in ``n``.

    Exponential bracketing then integer bisection: O(log n) calls, exact. ``limit`` may be an array
    (one limit per sample): ``cost`` is then called with integer arrays of its shape, every element
    bracketed and bisected at once, and the answer is an integer array.

    Examples
    --------
    >>> largest_within(lambda n: 3.0 * n, 10.0)
    3
    >>> largest_within(lambda n: 3.0 * n, np.array([2.0, 10.0, 100.0])).tolist()
    [0, 3, 33]
    """
    lim = np.asarray(limit, dtype=float)
    one = np.ones(lim.shape, dtype=np.int64)
    fits = cost(one) <= lim
    lo, hi = one.copy(), 2 * one
    grow = fits.copy()
    while np.any(grow):  # double hi wherever it still fits
        grow = grow & (cost(hi) <= lim)
        lo, hi = np.where(grow, hi, lo), np.where(grow, 2 * hi, hi)
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        ok = cost(mid) <= lim
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    n = np.where(fits, lo, 0)
    return int(n) if n.ndim == 0 else n


def systems_for(r: Resolved, limit: float | None = None) -> int:
    """Number of systems the request asks for (by count, budget or power cap); with ``limit``, what
    that budget or power cap buys instead of the request's (an end of a range the user typed)."""
    req = r.request
    if req.gpus is not None:
        return math.ceil(req.gpus / r.system.gpus_per_system)
    fmt: Callable[[float], str]
    if req.budget_usd is not None:
        field, limit, fmt = "budget_usd", req.budget_usd if limit is None else limit, format_usd
    else:
        field, limit, fmt = "power_w", float(req.power_w if limit is None else limit), lambda w: format_quantity(w, "W")  # type: ignore[arg-type]
    most = MAX_GPUS // r.system.gpus_per_system
    if sizing_metric(r, most) <= limit:  # the bisection must never ask for a cluster past the model's range
        need = fmt(float(sizing_metric(r, most)))
        raise InputError(field, limit, f"at most what {most * r.system.gpus_per_system:,} accelerators need ({need})")
    n = largest_within(lambda n: sizing_metric(r, n), limit)
    if n == 0:
        need = fmt(float(sizing_metric(r, 1)))
        raise InputError(field, limit, f"at least what one {r.system.id} needs ({need})")
    return n


def sizing_metric(r: Resolved, n_systems: Any) -> Any:
    """What the request's limit applies to: capex for a budget, facility power for a power cap."""
    _, _, facility_w, _, capex = _power_and_capex(r, n_systems)
    return capex.total if r.request.budget_usd is not None else facility_w


class ClusterDesign(BaseModel):
    """A designed cluster. Quantities are SI floats with the unit in the name; ``kw_per_rack``
    is in kilowatts, as the command contract names it. ``it_power_w`` is the critical IT capacity
    (nameplate); ``peak_it_power_w`` the IT power at its peak draw while training (lower where a
    system's draw was measured); ``pue`` is the design (peak) PUE that links ``peak_it_power_w``
    to ``facility_power_w`` (also given as ``design_pue``); the energy figures use ``annual_pue``."""

    model_config = ConfigDict(frozen=True)

    accelerator: str
    system: str
    sizing: str
    fabric: str
    energy_source: str
    gpus: int
    systems: int
    systems_per_rack: int
    racks: int
    rack_power_w: float
    kw_per_rack: float
    cooling: str
    cooling_reason: str
    it_power_w: float
    it_power_breakdown_w: dict[str, float]
    peak_it_power_w: float
    """IT power at its peak draw while training (W): systems at their measured training peak
    where one is published (else nameplate), the CPU halls in proportion, network and storage."""
    pue: float
    design_pue: float
    annual_pue: float
    facility_power_w: float
    typical_facility_power_w: float
    peak_flops_per_s: dict[str, float]
    capex_usd: float
    capex_breakdown_usd: dict[str, float]
    opex_usd_per_year: float
    opex_breakdown_usd_per_year: dict[str, float]
    energy_mwh_per_year: float
    carbon_t_per_year: float
    tco_usd_per_gpu_hour: float
    tco_breakdown_usd_per_gpu_hour: dict[str, float]
    it_life_years: float
    facility_life_years: float
    wacc_per_year: float
    limit: dict[str, float]
    network: dict[str, Any]
    """The scale-out fabric the designer chose: switch, planes, link speed (bit/s), tiers,
    taper above pods (1 = non-blocking) and capex per GPU (USD)."""
    notes: list[str]


def design_cluster(request: DesignRequest, catalog: Catalog | None = None) -> ClusterDesign:
    """Design the cluster a request asks for.

    Parameters
    ----------
    request : DesignRequest
        Accelerator, one sizing (GPUs, budget or facility power cap) and options.
    catalog : Catalog, optional
        Catalog to draw from; the shipped one by default.

    Returns
    -------
    ClusterDesign
        Counts, rack density and cooling, IT and facility power, capex, opex and TCO, each with
        its additive breakdown.

    Examples
    --------
    >>> d = design_cluster(DesignRequest(accelerator="h100", gpus=1024))
    >>> d.systems, d.racks, d.kw_per_rack
    (128, 32, 40.8)
    """
    r = resolve(request, catalog or Catalog.load())
    n = systems_for(r)
    e = evaluate(r, float(n))
    lay, acc = r.layout, r.accelerator
    gpus = n * r.system.gpus_per_system
    notes = []
    if request.gpus is not None and gpus != request.gpus:
        notes.append(f"{request.gpus} GPUs rounded up to {n} whole {r.system.id} systems ({gpus} GPUs)")
    fp = _fabric_plan(r.fabric, gpus, r.catalog)
    notes.append(
        f"network: {request.topology.value} {request.fabric.value} fabric at "
        f"{fp.accelerator.scale_out_bw_bits_per_s / 1e9:.0f} Gbit/s per GPU (see `stargate fabric` for its parts)"
    )
    notes += list(fp.notes)  # which design, and why
    network = {"switch": fp.switch.id, "planes": fp.planes, "link_bits_per_s": fp.link_bits_per_s,
               "tiers": fp.plane.tiers, "taper": max(fp.plane.oversubscription, default=1.0),
               "usd_per_gpu": float(e.capex.network) / gpus if gpus else 0.0}
    limit = {}
    if request.budget_usd is not None:
        limit = {"budget_usd": request.budget_usd, "next_system_capex_usd": float(sizing_metric(r, n + 1.0))}
    elif request.power_w is not None:
        limit = {"power_w": request.power_w, "next_system_facility_power_w": float(sizing_metric(r, n + 1.0))}
    return ClusterDesign(
        accelerator=acc.id, system=r.system.id, sizing=request.sizing, fabric=request.fabric.value,
        energy_source=r.energy.id, gpus=gpus, systems=n, systems_per_rack=lay.systems_per_rack,
        racks=math.ceil(n / lay.systems_per_rack), rack_power_w=lay.rack_power_w,
        kw_per_rack=lay.rack_power_w / 1e3, cooling=r.cooling.id.value, cooling_reason=r.cooling_reason,
        it_power_w=float(e.it_power.total), it_power_breakdown_w=e.it_power.as_dict(),
        peak_it_power_w=float(e.peak_it_power_w), pue=r.cooling.peak_pue,
        design_pue=r.cooling.peak_pue, annual_pue=r.cooling.pue,
        facility_power_w=float(e.facility_power_w), typical_facility_power_w=float(e.typical_facility_power_w),
        peak_flops_per_s={p.value: gpus * f for p, f in acc.peak_flops_per_s.items()},
        capex_usd=float(e.capex.total), capex_breakdown_usd=e.capex.as_dict(),
        opex_usd_per_year=float(e.opex.total), opex_breakdown_usd_per_year=e.opex.as_dict(),
        energy_mwh_per_year=float(energy_mwh_per_year(e.typical_facility_power_w)),
        carbon_t_per_year=float(energy_mwh_per_year(e.typical_facility_power_w) * r.energy.carbon_kg_per_mwh / 1e3),
        tco_usd_per_gpu_hour=float(e.tco.total), tco_breakdown_usd_per_gpu_hour=e.tco.as_dict(),
        it_life_years=r.finance.it_life_years, facility_life_years=r.finance.facility_life_years,
        wacc_per_year=r.finance.wacc_per_year,
        limit=limit, network=network, notes=notes,
    )
