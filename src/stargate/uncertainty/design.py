"""The uncertainty models of ``stargate design`` and ``stargate fabric``.

:func:`design_model` re-runs the designer's own chain (:func:`stargate.cluster.design.evaluate`) on a
copy of the resolved request whose catalog entries hold numpy arrays of sampled values, one element per
sample: accelerator price and TDP; the system's rest-of-system price and power (nameplate, typical,
measured peak); storage price and power per TB; the cooling's build cost per W and PUEs; the energy
price and the power infrastructure's capex per W; the owner's costs and the cost of capital; and the
scale-out fabric, part by part (switches, NICs, optics, cables), each part's price and power scaled by
its catalog band. A range the user typed for the sizing (``--budget 90e9..110e9``) is an input too.

What stays fixed is what the point answer chose: the system, the rack packing and the cooling
technology, and the fabric's design (switch, planes, tiers, media). Sized by budget or power, every
sample buys the largest number of systems whose capex (facility power) fits its limit, found by one
integer bisection over all samples at once; the fabric's capex and power at those sizes come from a
small table of fabric plans around the point size (:class:`FabricTable`), interpolated linearly in the
GPU count between its sizes and in proportion to it beyond them, so no fabric is planned per sample.
With every band at zero width each sample is the point answer, to the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.cluster.design import (
    ClusterDesign,
    Resolved,
    design_cluster,
    evaluate,
    fabric_plan_for,
    largest_within,
    resolve,
    sizing_metric,
    systems_for,
)
from stargate.economics.opex import energy_mwh_per_year
from stargate.fabric.bom import capex_and_power_by_part
from stargate.fabric.design import FabricPlan, FabricRequest, plan_fabric
from stargate.inputs import MAX_GPUS
from stargate.scenario import DesignRequest
from stargate.uncertainty.bands import Uncertain, catalog_band
from stargate.uncertainty.propagate import Model

__all__ = ["DESIGN_HEADLINES", "FABRIC_PARTS", "FabricTable", "RangedDesign", "design_answer", "design_inputs",
           "design_model", "fabric_bands", "fabric_model"]

FABRIC_PARTS = ("switches", "nics", "optics", "cables")
"""The fabric's parts, in the order the bill of materials adds them."""
DESIGN_HEADLINES = ("gpus", "racks", "capex_usd", "it_power_w", "facility_power_w", "opex_usd_per_year",
                    "tco_usd_per_gpu_hour", "energy_mwh_per_year")
"""Headlines of the design model, beside ``capex_breakdown_usd.<part>`` for every part of the capex."""
TABLE_MULTIPLES = (0.25, 0.4, 0.55, 0.7, 0.85, 1.15, 1.3, 1.5, 2.0, 3.0, 4.0)
"""Sizes of the fabric table around the point size, as multiples of its systems (budget and power sizing)."""
RANGE_KNOTS = 9
"""Sizes of the fabric table spread over a typed range of GPUs."""


@dataclass(frozen=True)
class FabricTable:
    """Capex and power of the scale-out fabric by part at a few sizes: point fabric plans.

    Between two sizes a part is interpolated linearly in the GPU count; below the smallest and above
    the largest it is in proportion to the GPU count (the end size's cost and power per GPU). At a size
    of the table it is that plan's figure exactly.

    Examples
    --------
    >>> t = FabricTable(np.array([8.0, 16.0]), {"switches": np.array([80.0, 200.0])}, {"switches": np.array([8.0, 20.0])})
    >>> usd, w = t.at(np.array([4.0, 8.0, 12.0, 32.0]), {}, {})
    >>> usd.tolist(), w.tolist()
    ([40.0, 80.0, 140.0, 400.0], [4.0, 8.0, 14.0, 40.0])
    """

    gpus: np.ndarray
    """GPU counts of the table's fabric plans, increasing."""
    usd: dict[str, np.ndarray]
    """Capex of each part at each size (USD)."""
    w: dict[str, np.ndarray]
    """Power of each part at each size (W)."""

    def at(self, gpus: Any, usd_factor: Mapping[str, Any], w_factor: Mapping[str, Any]) -> tuple[Any, Any]:
        """Capex and power of the fabric for ``gpus`` (arrays too), each part times its factor (default 1)."""
        x = np.asarray(gpus, dtype=float)
        usd = w = None
        for part in self.usd:
            u = _interpolated(x, self.gpus, self.usd[part]) * usd_factor.get(part, 1.0)
            p = _interpolated(x, self.gpus, self.w[part]) * w_factor.get(part, 1.0)
            usd, w = (u, p) if usd is None else (usd + u, w + p)
        return usd, w


def _interpolated(x: np.ndarray, xk: np.ndarray, yk: np.ndarray) -> np.ndarray:
    """``yk`` at ``x``: linear between the knots ``xk``, in proportion to ``x`` beyond them."""
    inside = np.interp(x, xk, yk)
    return np.where(x < xk[0], yk[0] * x / xk[0], np.where(x > xk[-1], yk[-1] * x / xk[-1], inside))


def fabric_table(r: Resolved, systems: list[int]) -> FabricTable:
    """The fabric plans of ``r`` at the given numbers of systems, by part."""
    gps = r.system.gpus_per_system
    sizes = sorted({min(max(int(n), 1), MAX_GPUS // gps) for n in systems})
    parts = [capex_and_power_by_part(fabric_plan_for(r, n * gps)) for n in sizes]
    return FabricTable(np.array([float(n * gps) for n in sizes]),
                       {k: np.array([usd[k] for usd, _ in parts]) for k in FABRIC_PARTS},
                       {k: np.array([w[k] for _, w in parts]) for k in FABRIC_PARTS})


def fabric_bands(plan: FabricPlan, catalog: Catalog) -> dict[tuple[str, str], Uncertain]:
    """The band of each fabric part's price and power, by ``(part, "price" | "power")``.

    Switches and NICs take their catalog entry's band. Optics and cables may mix several entries (a
    medium per tier; cables also carry the structured fibre of optical links): each takes the band of
    the entry with the largest share of its cost (its power), and its label says so. A part that costs
    (draws) nothing has no band.

    Examples
    --------
    >>> cat = Catalog.load()
    >>> b = fabric_bands(plan_fabric(FabricRequest(gpus=4096), cat), cat)
    >>> b[("switches", "price")].key.startswith("switch/")
    True
    """
    floor = catalog.get("floor_plans", plan.request.floor_plan, "floor_plan")
    amounts: dict[tuple[str, str], dict[str, tuple[Any, str, str, float]]] = {}

    def add(part: str, what: str, entry: Any, kind: str, field: str, amount: float) -> None:
        slot = amounts.setdefault((part, what), {})
        key = f"{kind}/{entry.id}/{field}"
        slot[key] = (entry, kind, field, slot.get(key, (None, "", "", 0.0))[3] + amount)

    switches = plan.plane.switches * plan.planes
    add("switches", "price", plan.switch, "switch", "price_usd", switches * plan.switch.price_usd)
    add("switches", "power", plan.switch, "switch", "power_w", switches * plan.switch.power_w)
    add("nics", "price", plan.nic, "nic", "price_usd", plan.nics * plan.nic.price_usd)
    add("nics", "power", plan.nic, "nic", "power_w", plan.nics * plan.nic.power_w)
    for links, tm in zip(plan.plane.links_by_tier, plan.media, strict=True):
        n = links * plan.planes
        part = "cables" if tm.media.is_cable else "optics"
        add(part, "price", tm.media, "media", "price_usd", n * tm.module_usd_per_link)
        add(part, "power", tm.media, "media", "power_w", n * tm.w_per_link)
        if not tm.media.is_cable:
            add("cables", "price", floor, "floor_plan", "fiber_usd_per_m", n * tm.fiber_usd_per_link)
    out = {}
    for (part, what), slot in amounts.items():
        entry, kind, field, amount = max(slot.values(), key=lambda s: s[3])
        if amount <= 0:
            continue
        band = catalog_band(entry, kind, field)
        mixed = f"{len(slot)} entries; the band of {entry.id}, the largest share" if len(slot) > 1 else entry.id
        out[(part, what)] = replace(band, label=f"fabric {part} {what} ({mixed})")
    return out


def _factors(bands: Mapping[tuple[str, str], Uncertain], v: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each part's price and power factor: its sampled value over its point (1 exactly at the point)."""
    f: dict[str, dict[str, Any]] = {"price": {}, "power": {}}
    for (part, what), b in bands.items():
        f[what][part] = np.asarray(v.get(b.key, b.point), dtype=float) / b.point
    return f["price"], f["power"]


def _targets(r: Resolved) -> list[tuple[str, str, Uncertain]]:
    """The catalog numbers of the design chain: (where in ``Resolved``, field, band)."""
    acc, system, cooling, energy, finance = r.accelerator, r.system, r.cooling, r.energy, r.finance
    storage = r.catalog.storage(r.request.storage)
    fields = [("accelerator", acc, "accelerator", ("price_usd", "tdp_w")),
              ("system", system, "system", ("rest_of_system_usd", "power_max_w", "power_typical_w", "power_peak_measured_w")),
              ("storage", storage, "storage", ("price_usd_per_tb", "power_w_per_tb")),
              ("cooling", cooling, "cooling", ("build_cost_usd_per_w", "pue", "design_pue")),
              ("energy", energy, "energy_source", ("price_usd_per_mwh", "infra_capex_usd_per_w")),
              ("finance", finance, "finance",
               ("owner_costs_fraction_of_build",) + (("wacc_per_year",) if r.request.wacc_per_year is None else ()))]
    out = []
    for target, entry, kind, names in fields:
        for name in names:
            value = getattr(entry, name)
            if value is None or value <= 0:  # absent (no measured peak, no design PUE) or nothing to vary
                continue
            label = f"{kind.replace('_', ' ')} {name} ({entry.id})"
            out.append((target, name, catalog_band(entry, kind, name, label=label)))
    return out


def design_inputs(r: Resolved) -> tuple[Uncertain, ...]:
    """The uncertain catalog inputs of a resolved design: its entries' numbers and its fabric's parts.

    Examples
    --------
    >>> r = resolve(DesignRequest(accelerator="h100", gpus=1024), Catalog.load())
    >>> keys = [u.key for u in design_inputs(r)]
    >>> "accelerator/h100-sxm-80g/price_usd" in keys
    True
    """
    plan = fabric_plan_for(r, systems_for(r) * r.system.gpus_per_system)
    return tuple(b for _, _, b in _targets(r)) + tuple(fabric_bands(plan, r.catalog).values())


def _sampled(r: Resolved, targets: list[tuple[str, str, Uncertain]], v: Mapping[str, Any]) -> Resolved:
    """``r`` with its catalog numbers replaced by arrays of sampled values (pydantic does not validate copies)."""
    updates: dict[str, dict[str, Any]] = {}
    for target, name, b in targets:
        updates.setdefault(target, {})[name] = np.asarray(v.get(b.key, b.point), dtype=float)
    _keep_orderings(r, updates)
    changes: dict[str, Any] = {t: getattr(r, t).model_copy(update=u) for t, u in updates.items() if t != "storage"}
    storage = updates.get("storage", {})
    tb = r.catalog.storage(r.request.storage).capacity_bytes_per_gpu / 1e12
    if "price_usd_per_tb" in storage:
        changes["storage_usd_per_gpu"] = tb * storage["price_usd_per_tb"]
    if "power_w_per_tb" in storage:
        changes["storage_w_per_gpu"] = tb * storage["power_w_per_tb"]
    return replace(r, **changes)


def _keep_orderings(r: Resolved, updates: dict[str, dict[str, Any]]) -> None:
    """The catalog's own orderings on every sample, which independent draws can break: a system's typical
    draw at most its measured peak, that at most its nameplate; a design PUE at least the annual PUE
    (:class:`~stargate.catalog.schema.System`, :class:`~stargate.catalog.schema.CoolingTech`). Each is a clip
    of one sampled number at another, so the catalog's point values, which keep them, are unchanged."""
    system, cooling = updates.get("system", {}), updates.get("cooling", {})
    if system:
        most = system.get("power_max_w", r.system.power_max_w)
        peak = system.get("power_peak_measured_w", r.system.power_peak_measured_w)
        if peak is not None:
            system["power_peak_measured_w"] = peak = np.minimum(peak, most)
        system["power_typical_w"] = np.minimum(system.get("power_typical_w", r.system.power_typical_w),
                                               most if peak is None else peak)
    if cooling and r.cooling.design_pue is not None:
        cooling["design_pue"] = np.maximum(cooling.get("design_pue", r.cooling.design_pue),
                                           cooling.get("pue", r.cooling.pue))


def _table_sizes(r: Resolved, n_point: int, sizing: Uncertain | None) -> list[int]:
    """Numbers of systems the fabric table is planned at."""
    gps = r.system.gpus_per_system
    if r.request.gpus is not None:
        if sizing is None:
            return [n_point]
        return [n_point, *(math.ceil(g / gps) for g in np.linspace(sizing.low, sizing.high, RANGE_KNOTS))]
    spread = 1.0 if sizing is None else max(sizing.high / sizing.point, sizing.point / max(sizing.low, 1e-300))
    multiples = (m * spread if m > 1 else m / spread for m in TABLE_MULTIPLES)  # a typed range stretches the table
    return [n_point, n_point + 1, *(round(n_point * m) for m in multiples)]


def _sizing(r: Resolved) -> tuple[str, float]:
    """The request's sizing field and its value."""
    req = r.request
    if req.gpus is not None:
        return "gpus", float(req.gpus)
    return ("budget_usd", float(req.budget_usd)) if req.budget_usd is not None else ("power_w", float(req.power_w))  # type: ignore[arg-type]


def _sizing_range(r: Resolved, ranges: Mapping[str, Uncertain] | None) -> Uncertain | None:
    """The typed range of the request's sizing, if any; each end of a budget or power range must buy what
    the point answer's limit must: one system at least, at most the largest cluster the model sizes."""
    field, _ = _sizing(r)
    sizing = (ranges or {}).get(field)
    if sizing is not None and field != "gpus":
        systems_for(r, sizing.low), systems_for(r, sizing.high)
    return sizing


def _systems(rs: Resolved, n_samples: int, limit: Any, field: str) -> np.ndarray:
    """Systems each sample buys: whole systems for its GPUs, or the most its limit allows."""
    gps = rs.system.gpus_per_system
    limit = np.broadcast_to(np.asarray(limit, dtype=float), (n_samples,))
    if field == "gpus":
        return np.ceil(limit / gps)
    n = largest_within(lambda n: sizing_metric(rs, n), limit)
    return np.minimum(n, MAX_GPUS // gps).astype(float)


def design_model(request: DesignRequest, catalog: Catalog, ranges: Mapping[str, Uncertain] | None = None) -> Model:
    """The design's chain with its uncertain inputs: headlines as :data:`DESIGN_HEADLINES` and
    ``capex_breakdown_usd.<part>``.

    Parameters
    ----------
    request : DesignRequest
        The design (its sizing at the point: a typed range's midpoint).
    catalog : Catalog
        The catalog whose entries and bands are drawn from.
    ranges : mapping, optional
        Ranges the user typed, by request field (``gpus``, ``budget_usd``, ``power_w``): uniform inputs.

    Examples
    --------
    >>> from stargate.cluster.design import design_cluster
    >>> req = DesignRequest(accelerator="h100", budget_usd=1e9)
    >>> m = design_model(req, Catalog.load())
    >>> float(m.point()["capex_usd"][0]) == design_cluster(req).capex_usd
    True
    """
    r = resolve(request, catalog)
    n_point = systems_for(r)
    field, point_limit = _sizing(r)
    sizing = _sizing_range(r, ranges)
    gps = r.system.gpus_per_system
    plan = fabric_plan_for(r, n_point * gps)
    targets, bands = _targets(r), fabric_bands(plan, r.catalog)
    table = fabric_table(r, _table_sizes(r, n_point, sizing))

    def run(v: Mapping[str, np.ndarray]) -> dict[str, Any]:
        size = len(next(iter(v.values()))) if v else 1
        fu, fw = _factors(bands, v)
        rs = replace(_sampled(r, targets, v), network=lambda n: table.at(np.asarray(n) * gps, fu, fw))
        n = _systems(rs, size, v[sizing.key] if sizing is not None else point_limit, field)
        with np.errstate(divide="ignore", invalid="ignore"):  # a sample whose draws buy no system: no cost per GPU-hour
            e = evaluate(rs, n)
        out = {"gpus": n * gps, "racks": np.ceil(n / r.layout.systems_per_rack), "capex_usd": e.capex.total,
               "it_power_w": e.it_power.total, "facility_power_w": e.facility_power_w, "opex_usd_per_year": e.opex.total,
               "tco_usd_per_gpu_hour": e.tco.total, "energy_mwh_per_year": energy_mwh_per_year(e.typical_facility_power_w)}
        out.update({f"capex_breakdown_usd.{k}": x for k, x in e.capex.as_arrays().items()})
        return out

    fabric = f"fabric design ({plan.switch.id}, {plan.planes} planes, {plan.plane.tiers} tiers)"
    meta = {"model": "stargate.cluster.design.evaluate on sampled catalog numbers",
            "held_fixed": [f"system {r.system.id}", f"systems per rack: {r.layout.systems_per_rack}",
                           f"cooling {r.cooling.id.value}", fabric],
            "fabric_sizes_gpus": [int(g) for g in table.gpus]}
    inputs = tuple(b for _, _, b in targets) + tuple(bands.values()) + ((sizing,) if sizing is not None else ())
    return Model(inputs, run, meta)


def fabric_model(request: FabricRequest, catalog: Catalog) -> Model:
    """The fabric's bill of materials with each part's price and power uncertain: headlines
    ``fabric_capex_usd``, ``fabric_power_w``, ``capex_usd_per_gpu``, ``power_w_per_gpu`` and
    ``fabric_capex_breakdown_usd.<part>``, ``fabric_power_breakdown_w.<part>``.

    Examples
    --------
    >>> from stargate.fabric.design import design_fabric
    >>> req = FabricRequest(gpus=32768)
    >>> m = fabric_model(req, Catalog.load())
    >>> float(m.point()["fabric_capex_usd"][0]) == design_fabric(req).fabric_capex_usd
    True
    """
    plan = plan_fabric(request, catalog)
    bands = fabric_bands(plan, catalog)
    usd, w = capex_and_power_by_part(plan)

    def run(v: Mapping[str, np.ndarray]) -> dict[str, Any]:
        fu, fw = _factors(bands, v)
        cu = {k: usd[k] * fu.get(k, 1.0) for k in usd}
        cw = {k: w[k] * fw.get(k, 1.0) for k in w}
        total_usd, total_w = sum(cu.values()), sum(cw.values())
        return {"fabric_capex_usd": total_usd, "fabric_power_w": total_w,
                "capex_usd_per_gpu": total_usd / request.gpus, "power_w_per_gpu": total_w / request.gpus,
                **{f"fabric_capex_breakdown_usd.{k}": x for k, x in cu.items()},
                **{f"fabric_power_breakdown_w.{k}": x for k, x in cw.items()}}

    media = ", ".join(tm.media.id for tm in plan.media)
    held = f"fabric design ({plan.switch.id}, {plan.planes} planes, {plan.plane.tiers} tiers, media {media})"
    meta = {"model": "stargate.fabric.bom on sampled part prices and powers", "held_fixed": [held]}
    return Model(tuple(bands.values()), run, meta)


class RangedDesign(ClusterDesign):
    """A designed cluster with the P10 / P50 / P90 of its headlines (``stargate design --uncertainty``)."""

    ranges: dict[str, dict[str, float]]
    """``{headline: {"p10", "p50", "p90"}}``; a part of a breakdown is dotted (``capex_breakdown_usd.network``)."""
    uncertainty: dict[str, Any]
    """How the ranges were drawn: samples, seed, sampling scheme, every input with its band, what was held fixed."""


def design_answer(request: DesignRequest, catalog: Catalog, ranges: Mapping[str, Uncertain] | None = None,
                  samples: int = 0, seed: int = 0, progress: Callable[[int, int], None] | None = None) -> ClusterDesign:
    """The design of ``request``; with ``samples``, with the ranges of its headlines too.

    Parameters
    ----------
    request : DesignRequest
        The design, its sizing at the point (a typed range's midpoint).
    catalog : Catalog
        The catalog.
    ranges : mapping, optional
        Ranges the user typed, by request field (:func:`stargate.uncertainty.options.typed_ranges`).
    samples, seed : int
        Latin hypercube samples (0: none) and their seed.
    progress : callable, optional
        Called with (samples done, samples) as they are evaluated.

    Examples
    --------
    >>> d = design_answer(DesignRequest(accelerator="h100", gpus=1024), Catalog.load(), samples=200, seed=1)
    >>> d.ranges["gpus"]["p10"] == d.gpus, d.ranges["capex_usd"]["p10"] < d.capex_usd < d.ranges["capex_usd"]["p90"]
    (True, True)
    """
    from stargate.uncertainty.options import midpoint_notes, with_ranges

    d = design_cluster(request, catalog)
    if ranges and not samples:
        _sizing_range(resolve(request, catalog), ranges)
    if ranges:
        d = d.model_copy(update={"notes": [*d.notes, *midpoint_notes(ranges, bool(samples))]})
    if not samples:
        return d
    return RangedDesign(**with_ranges(dict(d), design_model(request, catalog, ranges), samples, seed, progress))
