"""The metrics a clusters file may ask for, each computed one way for every row that names it.

A metric takes the row (:class:`~stargate.references.clusters.ClusterRef`), what its setting words
fix (:class:`~stargate.references.clusters.Setting`) and the catalog, and returns our figure for
each variant the row allows: a row that leaves the fabric family open (a network share said to
hold "for InfiniBand and Ethernet alike") is checked on both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stargate.catalog import Catalog
from stargate.cluster.design import ClusterDesign, design_cluster, evaluate, largest_within, resolve
from stargate.errors import InputError
from stargate.references.clusters import ClusterRef, Setting, read_setting
from stargate.scenario import DesignRequest

__all__ = ["METRICS", "ClusterCheck", "check_clusters", "markdown_table", "reproduce"]

FABRICS = ("infiniband", "ethernet")


def _fabrics(ref: ClusterRef) -> tuple[str, ...]:
    return (ref.fabric,) if ref.fabric else FABRICS


def _request(ref: ClusterRef, s: Setting, fabric: str, catalog: Catalog) -> DesignRequest:
    """The design request a row's cells and setting fix (sized by IT power when the setting says so)."""
    base: dict[str, Any] = {"accelerator": ref.accelerator, "fabric": fabric}
    if s.cooling:
        base["cooling"] = s.cooling
    if s.systems_per_rack:
        base["systems_per_rack"] = s.systems_per_rack
    if ref.gpus or s.gpus_at_least:
        return DesignRequest(**base, gpus=ref.gpus or s.gpus_at_least)
    if ref.budget_usd:
        return DesignRequest(**base, budget_usd=ref.budget_usd)
    if ref.power_w:
        return DesignRequest(**base, power_w=ref.power_w)
    if s.it_power_w:  # the largest cluster whose IT power fits, asked as the equivalent GPU count
        r = resolve(DesignRequest(**base, gpus=1), catalog)
        n = largest_within(lambda n: float(evaluate(r, float(n)).it_power.total), s.it_power_w)
        return DesignRequest(**base, gpus=n * r.system.gpus_per_system)
    raise InputError(f"clusters: row {ref.ref_id}", ref.what, "a row that fixes gpus, power, budget or an IT power")


def _design(ref: ClusterRef, s: Setting, fabric: str, catalog: Catalog) -> ClusterDesign:
    return design_cluster(_request(ref, s, fabric, catalog), catalog)


def _design_metric(value: Callable[[ClusterDesign], float]) -> Callable[[ClusterRef, Setting, Catalog], dict[str, float]]:
    def metric(ref: ClusterRef, s: Setting, catalog: Catalog) -> dict[str, float]:
        return {f: value(_design(ref, s, f, catalog)) for f in _fabrics(ref)}
    return metric


def _servers_capex(d: ClusterDesign) -> float:
    """Servers as bought: accelerators and the rest of each server (the NICs are in the network)."""
    return d.capex_breakdown_usd["accelerators"] + d.capex_breakdown_usd["rest_of_servers"]


def _mfu(ref: ClusterRef, s: Setting, catalog: Catalog) -> dict[str, float]:
    from stargate.training.context import Workload, resolve_context
    from stargate.training.presets import load_model
    from stargate.training.search import search

    if not (s.model and s.seq_len and s.global_batch and ref.gpus):
        raise InputError(f"clusters: row {ref.ref_id}.setting", ref.setting, "a model, 'seq N' and '(B x N)' batch")
    model, _ = load_model(s.model)
    out = {}
    for f in _fabrics(ref):
        w = Workload(accelerator=ref.accelerator, gpus=ref.gpus, seq_len=s.seq_len, global_batch=s.global_batch,
                     precision=s.precision, fabric=f)
        out[f] = float(search(resolve_context(model, w, catalog), top_k=1).best.mfu[0])
    return out


def _goodput(ref: ClusterRef, s: Setting, catalog: Catalog) -> dict[str, float]:
    """The plan's goodput for one phase of the row's GPUs, under the best strategy its words allow.

    The row's setting and notes name the recovery (warm standbys, in-memory or peer checkpoints,
    replica-scoped restarts); a row that names none ran the classic practice: storage checkpoints and
    a full restart. The job trains the row's model (Llama 3.1 405B when it names none) for its run
    length, and the phase's year is the row's.
    """
    from stargate.plan import run_plan
    from stargate.scenario import Phase, Scenario

    words = read_setting(f"{ref.setting}; {ref.notes}")
    year = int(ref.date[:4]) if ref.date[:4].isdigit() else None
    out = {}
    for f in _fabrics(ref) if ref.fabric else ("infiniband",):
        best = 0.0
        for strategy in words.recovery or ("storage-restart",):
            phase = Phase(name=ref.what or ref.ref_id, year=year or 2026, accelerator=ref.accelerator, gpus=_gpus(ref),
                          fabric=f, model=s.model or "llama3.1-405b", seq_len=s.seq_len or 8192,
                          global_batch=s.global_batch or 2048, training_days=s.run_days or 100.0, recovery=strategy)
            best = max(best, run_plan(Scenario(name=ref.ref_id, phases=(phase,)), catalog).phases[0].goodput)
        out[f if ref.fabric else "default"] = best
    return out


def _gpus(ref: ClusterRef) -> int:
    if not ref.gpus:
        raise InputError(f"clusters: row {ref.ref_id}.gpus", "", "a GPU count for this metric")
    return ref.gpus


def _mtbf(ref: ClusterRef, s: Setting, catalog: Catalog) -> dict[str, float]:
    from stargate.reliability.failures import interruptions

    return {"default": interruptions(_gpus(ref), catalog).mtbf_s}


def _fabric_design(ref: ClusterRef, s: Setting, fabric: str, catalog: Catalog, **over: Any) -> Any:
    from stargate.fabric.design import FabricRequest, design_fabric

    gpus = ref.gpus or s.gpus_at_least
    if not gpus:
        raise InputError(f"clusters: row {ref.ref_id}.gpus", "", "a GPU count, or '>N GPUs' in the setting")
    return design_fabric(FabricRequest(gpus=gpus, fabric=fabric, accelerator=ref.accelerator, **over), catalog)


def _taper_ratio(ref: ClusterRef, s: Setting, catalog: Catalog) -> dict[str, float]:
    """Capex per GPU of the tapered fabric over a non-blocking one on the same gear.

    The tapered design is chosen by cost (switch and planes); the non-blocking one is built with
    that switch and plane count, so the ratio is what the taper saves, not what a different
    plane count would (the designer's own note says when a non-blocking multi-plane build costs
    less than the taper).
    """
    if not s.taper:
        raise InputError(f"clusters: row {ref.ref_id}.setting", ref.setting, "a taper ('7:1 oversubscribed above')")
    out = {}
    for f in _fabrics(ref):
        if s.pod_gpus:
            tapered = _fabric_design(ref, s, f, catalog, pod_gpus=s.pod_gpus, taper=s.taper)
        else:
            tapered = _fabric_design(ref, s, f, catalog, oversubscription=(1.0, s.taper))
        flat = _fabric_design(ref, s, f, catalog, planes=tapered.planes, switch=tapered.switch)
        out[f] = tapered.capex_usd_per_gpu / flat.capex_usd_per_gpu
    return out


def _fabric_metric(value: Callable[[Any], float]) -> Callable[[ClusterRef, Setting, Catalog], dict[str, float]]:
    def metric(ref: ClusterRef, s: Setting, catalog: Catalog) -> dict[str, float]:
        gear = {k: v for k, v in (("switch", s.switch), ("planes", s.planes)) if v}
        return {f: float(value(_fabric_design(ref, s, f, catalog, **gear))) for f in _fabrics(ref)}
    return metric


METRICS: dict[str, Callable[[ClusterRef, Setting, Catalog], dict[str, float]]] = {
    "it_power_w": _design_metric(lambda d: d.it_power_w),
    "facility_power_w": _design_metric(lambda d: d.facility_power_w),
    "servers_capex_usd": _design_metric(_servers_capex),
    "capex_usd": _design_metric(lambda d: d.capex_usd),
    "network_share": _design_metric(lambda d: d.capex_breakdown_usd["network"] / d.capex_usd),
    "capex_usd_per_w_it": _design_metric(lambda d: d.capex_usd / d.it_power_w),
    "facility_w_per_gpu": _design_metric(lambda d: d.facility_power_w / d.gpus),
    "tco_usd_per_gpu_hour": _design_metric(lambda d: d.tco_usd_per_gpu_hour),
    "gpus": _design_metric(lambda d: d.gpus),
    "capex_usd_per_gpu": _design_metric(lambda d: d.capex_usd / d.gpus),
    "energy_mwh_per_year": _design_metric(lambda d: d.energy_mwh_per_year),
    "mfu": _mfu,
    "goodput": _goodput,
    "mtbf_s": _mtbf,
    "network_usd_per_gpu_vs_nonblocking": _taper_ratio,
    "tiers": _fabric_metric(lambda f: f.tiers),
    "switches": _fabric_metric(lambda f: f.switches),
}
"""Metric name (the file's ``metric`` column) -> our figure per variant."""


@dataclass(frozen=True, slots=True)
class ClusterCheck:
    """One row reproduced in one variant, against its band."""

    ref: ClusterRef
    variant: str
    ours: float

    @property
    def inside(self) -> bool:
        """Whether our figure lands in the row's credible band."""
        return self.ref.low <= self.ours <= self.ref.high

    @property
    def ratio(self) -> float:
        """Ours over the published figure."""
        return self.ours / self.ref.published if self.ref.published else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """The row's id, question, metric, variant, ours, published, band, whether inside, and source."""
        r = self.ref
        return {"ref_id": r.ref_id, "what": r.what, "metric": r.metric, "variant": self.variant, "ours": self.ours,
                "published": r.published, "low": r.low, "high": r.high, "unit": r.unit, "inside": self.inside,
                "source": r.source, "date": r.date, "confidence": r.confidence}


def reproduce(ref: ClusterRef, catalog: Catalog | None = None) -> list[ClusterCheck]:
    """Our figure for one row, per variant.

    Examples
    --------
    >>> from stargate.references.clusters import ClusterRef
    >>> ref = ClusterRef(ref_id="x", what="", accelerator="h100", gpus=16384, power_w=None, budget_usd=None,
    ...                  fabric=None, setting="", metric="mtbf_s", published=11100, low=9000, high=13000,
    ...                  unit="s", source="", date="", confidence="")
    >>> [c.inside for c in reproduce(ref)]
    [True]
    """
    cat = catalog or Catalog.load()
    s = read_setting(ref.setting)
    return [ClusterCheck(ref, v, float(x)) for v, x in METRICS[ref.metric](ref, s, cat).items()]


def check_clusters(refs: list[ClusterRef], catalog: Catalog | None = None) -> list[ClusterCheck]:
    """Every row reproduced, in file order."""
    cat = catalog or Catalog.load()
    return [c for ref in refs for c in reproduce(ref, cat)]


def _cell(value: float, unit: str) -> str:
    from stargate.units import format_quantity, format_usd

    if unit == "USD":
        return format_usd(value)
    if unit == "W":
        return format_quantity(value, "W")
    if unit == "fraction":
        return f"{100 * value:.1f}%"
    if unit.startswith("USD/"):
        return f"${value:,.2f}/{unit[4:]}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def markdown_table(checks: list[ClusterCheck]) -> str:
    """The checks as a markdown table: row, question, variant, ours, published, band, inside, source.

    Examples
    --------
    >>> print(markdown_table([]).splitlines()[0])
    | row | question | variant | ours | published | band | inside | source |
    """
    lines = ["| row | question | variant | ours | published | band | inside | source |",
             "|---|---|---|---|---|---|---|---|"]
    for c in checks:
        r = c.ref
        band = f"{_cell(r.low, r.unit)} – {_cell(r.high, r.unit)}"
        lines.append(f"| {r.ref_id} | {r.what} | {c.variant} | {_cell(c.ours, r.unit)} | {_cell(r.published, r.unit)} | "
                     f"{band} | {'yes' if c.inside else '**no**'} | {r.source} ({r.date}, {r.confidence}) |")
    return "\n".join(lines)
