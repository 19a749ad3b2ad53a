"""Answers side by side: designs, plans or training jobs, with deltas and what accounts for them.

``stargate compare`` runs :func:`compare`. Each answer (the JSON of ``stargate design``, ``plan`` or
``train``) is reduced to its headline metrics (:func:`metrics_of`); a metric that the answer
reports with an additive breakdown carries its parts (capex by category, IT and facility power by
consumer, opex, TCO per GPU-hour, step time and memory by component). Every answer after the first
gets a delta against the first: absolute, in percent, and split over the parts, so that the part
deltas add up to the metric's delta. Where an answer's parts do not add up to its total (a
rounding in a file edited by hand, say), the rest is shown as the part ``unattributed``, never hidden.

Pure: answers are JSON-ready dicts in, a :class:`Comparison` out; no I/O.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict

from stargate.errors import InputError

__all__ = ["KINDS", "Comparison", "Item", "ItemDelta", "Metric", "MetricDelta", "compare", "facility_power_parts", "kind_of",
           "metrics_of"]

KINDS = ("design", "plan", "train")
"""What can be compared: cluster designs, multi-phase plans, training jobs (never two kinds at once)."""
UNATTRIBUTED = "unattributed"
"""The part that holds what an answer's breakdown leaves of its total (absent when it adds up)."""
_ADDS_UP = 1e-9
"""Relative tolerance under which a breakdown is taken to add up to its total."""

_FROZEN = ConfigDict(frozen=True)


class Metric(BaseModel):
    """One headline figure of an answer, with its additive parts where the answer has them."""

    model_config = _FROZEN

    value: float | None
    """The figure (None where the answer has none, e.g. the step time of a job that fits no plan)."""
    unit: str
    """Its unit: ``USD``, ``W``, ``s``, ``B``, ``USD/year``, ``USD/GPU-hour``, ``FLOP/s``, ``count``, ..."""
    parts: dict[str, float] | None = None
    """Its parts, adding up to ``value`` (an ``unattributed`` part holds any rest)."""
    parts_from: str = ""
    """Which breakdown of the answer the parts come from (``capex_breakdown_usd``, ``breakdown_s``, ...)."""


class MetricDelta(BaseModel):
    """One metric of an answer against the same metric of the first answer."""

    model_config = _FROZEN

    base: float | None
    """The first answer's value."""
    value: float | None
    """This answer's value."""
    delta: float | None
    """``value - base`` (None when either is missing)."""
    delta_pct: float | None
    """``100 * delta / base`` (None when the base is 0 or missing)."""
    unit: str
    parts: dict[str, float] | None = None
    """What accounts for the delta: each part's own delta; they add up to ``delta``."""


class ItemDelta(BaseModel):
    """Every metric of one answer against the first."""

    model_config = _FROZEN

    label: str
    base: str
    """Label of the first answer, the one compared against."""
    metrics: dict[str, MetricDelta]


class Item(BaseModel):
    """One answer being compared: its label, kind, headline metrics and the whole answer."""

    model_config = _FROZEN

    label: str
    kind: str
    metrics: dict[str, Metric]
    answer: dict[str, Any]
    """The answer as the command's ``--json`` prints it."""


class Comparison(BaseModel):
    """Answers side by side: ``items`` (the first is the base) and ``deltas`` (one per later item)."""

    model_config = _FROZEN

    kind: str
    items: list[Item]
    deltas: list[ItemDelta]


def kind_of(answer: dict[str, Any]) -> str | None:
    """The kind of a JSON answer (``design``, ``plan`` or ``train``), None if it is none of them.

    Examples
    --------
    >>> kind_of({"phases": [], "totals": {}}), kind_of({"step_time_s": 1.0, "breakdown_s": {}}), kind_of({})
    ('plan', 'train', None)
    """
    if "phases" in answer and "totals" in answer:
        return "plan"
    if "capex_breakdown_usd" in answer and "racks" in answer:
        return "design"
    if "step_time_s" in answer and "breakdown_s" in answer:
        return "train"
    return None


def _metric(value: Any, unit: str, parts: dict[str, float] | None = None, parts_from: str = "") -> Metric:
    """A metric whose parts, if any, are completed by an ``unattributed`` rest so that they add up."""
    if value is None:
        return Metric(value=None, unit=unit)
    value = float(value)
    if parts is None:
        return Metric(value=value, unit=unit)
    parts = {k: float(v) for k, v in parts.items()}
    rest = value - math.fsum(parts.values())
    if abs(rest) > _ADDS_UP * max(abs(value), *(abs(v) for v in parts.values()), 1e-300):
        parts[UNATTRIBUTED] = rest
    return Metric(value=value, unit=unit, parts=parts, parts_from=parts_from)


def facility_power_parts(d: dict[str, Any]) -> dict[str, float]:
    """Facility power by consumer: the systems (with their CPU and management halls) at their peak
    draw, network, storage, and cooling and power losses (facility power less peak IT power).

    Peak IT power is the systems' peak draw plus the network and storage at capacity
    (:func:`stargate.cluster.power.peak_it_power_w`), so the systems' share is the peak IT power less
    those two; the four parts add up to the facility power by construction.
    """
    it = d["it_power_breakdown_w"]
    network, storage = it.get("network", 0.0), it.get("storage", 0.0)
    return {"systems": d["peak_it_power_w"] - network - storage, "network": network, "storage": storage,
            "cooling_and_losses": d["facility_power_w"] - d["peak_it_power_w"]}


def _design_metrics(d: dict[str, Any]) -> dict[str, Metric]:
    gpus = d["gpus"]
    peak = d["peak_flops_per_s"].get("bf16", d["peak_flops_per_s"].get("fp16"))
    return {
        "gpus": _metric(gpus, "count"),
        "racks": _metric(d["racks"], "count"),
        "kw_per_rack": _metric(d["kw_per_rack"], "kW"),
        "capex_usd": _metric(d["capex_usd"], "USD", d["capex_breakdown_usd"], "capex_breakdown_usd"),
        "capex_usd_per_gpu": _metric(d["capex_usd"] / gpus, "USD", {k: v / gpus for k, v in d["capex_breakdown_usd"].items()},
                                     "capex_breakdown_usd / gpus"),
        "it_power_w": _metric(d["it_power_w"], "W", d["it_power_breakdown_w"], "it_power_breakdown_w"),
        "facility_power_w": _metric(d["facility_power_w"], "W", facility_power_parts(d),
                                    "peak_it_power_w, it_power_breakdown_w, facility_power_w"),
        "peak_16bit_flops_per_s": _metric(peak, "FLOP/s"),
        "opex_usd_per_year": _metric(d["opex_usd_per_year"], "USD/year", d["opex_breakdown_usd_per_year"],
                                     "opex_breakdown_usd_per_year"),
        "tco_usd_per_gpu_hour": _metric(d["tco_usd_per_gpu_hour"], "USD/GPU-hour", d["tco_breakdown_usd_per_gpu_hour"],
                                        "tco_breakdown_usd_per_gpu_hour"),
        "energy_mwh_per_year": _metric(d["energy_mwh_per_year"], "MWh/year"),
    }


def _summed(dicts: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _plan_metrics(p: dict[str, Any]) -> dict[str, Metric]:
    """A plan's totals; capex, facility power and opex by category summed over its phases (a
    multi-site phase adds its site links to capex)."""
    phases, t = p["phases"], p["totals"]
    capex = _summed([ph["design"]["capex_breakdown_usd"] for ph in phases])
    links = math.fsum(ph["capex_usd"] - ph["design"]["capex_usd"] for ph in phases)
    if links:
        capex["site_links"] = links
    largest = [ph["largest_model_params"] for ph in phases if ph.get("largest_model_params")]
    return {
        "phases": _metric(len(phases), "count"),
        "gpus": _metric(t["gpus"], "count"),
        "capex_usd": _metric(t["capex_usd"], "USD", capex, "phases' capex_breakdown_usd, site links"),
        "facility_power_w": _metric(t["facility_power_w"], "W", _summed([facility_power_parts(ph["design"]) for ph in phases]),
                                    "phases' facility power by consumer"),
        "peak_16bit_flops_per_s": _metric(t["peak_flops"], "FLOP/s", {ph["name"]: ph["peak_flops"] for ph in phases},
                                          "phases' peak_flops"),
        "opex_usd_per_year": _metric(t["opex_usd_per_year"], "USD/year",
                                     _summed([ph["design"]["opex_breakdown_usd_per_year"] for ph in phases]),
                                     "phases' opex_breakdown_usd_per_year"),
        "energy_mwh_per_year": _metric(t["energy_mwh_per_year"], "MWh/year"),
        "largest_model_params": _metric(max(largest) if largest else None, "count"),
    }


def _train_metrics(j: dict[str, Any]) -> dict[str, Metric]:
    ttt = j.get("time_to_train") or {}
    return {
        "gpus_used": _metric(j.get("gpus_used", j.get("gpus")), "count"),
        "step_time_s": _metric(j["step_time_s"], "s", j.get("breakdown_s"), "breakdown_s"),
        "tokens_per_s_per_gpu": _metric(j.get("tokens_per_s_per_gpu"), "token/s"),
        "mfu": _metric(j.get("mfu"), "fraction"),
        "memory_per_gpu_bytes": _metric(j.get("memory_per_gpu_bytes"), "B", j.get("memory_breakdown_bytes"),
                                        "memory_breakdown_bytes"),
        "days_to_train": _metric(ttt.get("days"), "day"),
        "cost_to_train_usd": _metric(ttt.get("cost_usd"), "USD"),
    }


_METRICS = {"design": _design_metrics, "plan": _plan_metrics, "train": _train_metrics}


def metrics_of(answer: dict[str, Any], kind: str | None = None) -> dict[str, Metric]:
    """The headline metrics of one answer (the JSON of ``design``, ``plan`` or ``train``).

    Examples
    --------
    >>> from stargate.cluster.design import design_cluster
    >>> from stargate.scenario import DesignRequest
    >>> d = design_cluster(DesignRequest(accelerator="h100", gpus=1024)).model_dump(mode="json")
    >>> m = metrics_of(d)["capex_usd"]
    >>> m.parts_from, abs(sum(m.parts.values()) - m.value) < 1e-6 * m.value
    ('capex_breakdown_usd', True)
    """
    kind = kind or kind_of(answer)
    if kind not in _METRICS:
        raise InputError("answer", sorted(answer)[:6], "the JSON of `stargate design`, `plan` or `train`")
    return _METRICS[kind](answer)


def _delta(base: Metric, other: Metric) -> MetricDelta:
    """``other`` against ``base``; the part deltas (missing parts count as 0) add up to the delta."""
    if base.value is None or other.value is None:
        return MetricDelta(base=base.value, value=other.value, delta=None, delta_pct=None, unit=base.unit)
    delta = other.value - base.value
    pct = 100.0 * delta / base.value if base.value else None
    parts = None
    if base.parts is not None and other.parts is not None:
        names = list(base.parts) + [k for k in other.parts if k not in base.parts]
        parts = {k: other.parts.get(k, 0.0) - base.parts.get(k, 0.0) for k in names}
    return MetricDelta(base=base.value, value=other.value, delta=delta, delta_pct=pct, unit=base.unit, parts=parts)


def compare(answers: list[tuple[str, dict[str, Any]]]) -> Comparison:
    """Compare answers of one kind against the first.

    Parameters
    ----------
    answers : list of (label, answer)
        Two or more answers (JSON-ready dicts of ``design``, ``plan`` or ``train``), the base first.

    Returns
    -------
    Comparison
        ``items`` (each with its metrics and whole answer) and ``deltas`` (one per answer after the
        first, each metric's delta, delta in percent, and its parts' deltas).

    Raises
    ------
    InputError
        If fewer than two answers are given, or they are not all of one kind.

    Examples
    --------
    >>> from stargate.cluster.design import design_cluster
    >>> from stargate.scenario import DesignRequest
    >>> a, b = (design_cluster(DesignRequest(accelerator="h100", gpus=n)).model_dump(mode="json") for n in (1024, 2048))
    >>> c = compare([("1k", a), ("2k", b)])
    >>> d = c.deltas[0].metrics["gpus"]
    >>> d.delta, d.delta_pct
    (1024.0, 100.0)
    >>> cap = c.deltas[0].metrics["capex_usd"]
    >>> abs(sum(cap.parts.values()) - cap.delta) < 1e-6 * cap.delta
    True
    """
    if len(answers) < 2:
        raise InputError("compare", f"{len(answers)} answer(s)", "two or more designs, scenarios or training answers")
    kinds = [kind_of(a) if isinstance(a, dict) else None for _, a in answers]
    for (label, answer), kind in zip(answers, kinds, strict=True):
        if kind is None:
            shown = sorted(map(str, answer))[:6] if isinstance(answer, dict) else type(answer).__name__
            raise InputError(label, shown, "the JSON of `stargate design`, `plan` or `train`")
        if kind != kinds[0]:
            raise InputError(label, f"a {kind}", f"a {kinds[0]}, like the first answer (one kind at a time)")
    kind = str(kinds[0])
    items = [Item(label=label, kind=kind, metrics=metrics_of(a, kind), answer=a) for label, a in answers]
    base = items[0]
    deltas = [ItemDelta(label=it.label, base=base.label,
                        metrics={k: _delta(m, it.metrics[k]) for k, m in base.metrics.items()})
              for it in items[1:]]
    return Comparison(kind=base.kind, items=items, deltas=deltas)
