"""The uncertainty model of ``stargate plan``: every phase's chain on arrays of sampled inputs.

:func:`phase_model` runs one phase's chain (:func:`stargate.plan.run_plan`) with its uncertain inputs
exposed: the cluster through the design model (:func:`stargate.uncertainty.design.design_model`: catalog
prices, powers, PUEs, energy and finance; a typed range of the sizing), then the phase's training and
serving figures on the sampled GPUs, capex, TCO and facility power:

- ``mfu``: the point MFU times the training model's measured / predicted throughput ratio (input
  ``model/training``: the cross-validated P10–P90 band of :func:`stargate.training.interval.band_for`, capped
  at the chip's best measured GEMM rate, as the point plan reports it in ``prediction_interval``);
- ``goodput``: the recovery strategy the point plan took, re-evaluated on arrays of the job's mean time
  between interruptions from sampled failure rates (one input per cause of ``reliability.yaml``'s
  ``failure_rates``; :func:`stargate.reliability.strategies.evaluate`);
- ``usable_flops``, ``largest_model_params`` (:func:`stargate.scaling.laws.compute_optimal`) and
  ``gpt4_class_days``, as the point plan computes them from peak, MFU and goodput;
- ``serving.*``: the chip's serving rate per GPU times the serving model's ratio (input ``model/serving``:
  its cross-validated P10–P90 band), priced at the sampled TCO (:func:`stargate.capacity.serving_figures`).

The point plan's discrete choices are held fixed: the system, racks and cooling, the fabric's design, the
jobs' layout and parallelism, the share of GPUs in jobs and spare pools, the recovery strategy and the
serving deployment. :func:`plan_ranges` draws one Latin hypercube over the inputs of every phase, one
column per input key, so an input that several phases share (a failure rate, a chip price) takes the same
draw in each of them (common random numbers) and the totals, sums of the phases' samples, are correlated
as they should be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ConfigDict

from stargate.capacity import serving_figures, serving_gpus
from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.plan import (
    DEFAULT_LAW,
    GPT4_CLASS_FLOPS,
    PhasePlan,
    Plan,
    links_capex_usd,
    sites_request,
    validated_scenario,
)
from stargate.reliability.failures import mtbf_s
from stargate.reliability.strategies import evaluate as strategy_goodput
from stargate.scaling.laws import compute_optimal
from stargate.scenario import Phase, Scenario
from stargate.training.interval import Band
from stargate.uncertainty.bands import Uncertain, catalog_band
from stargate.uncertainty.design import design_model
from stargate.uncertainty.propagate import MAX_SAMPLES, Model, Ranges, percentiles
from stargate.uncertainty.sampling import latin_hypercube, values
from stargate.uncertainty.serving import SERVING_KEY, serving_input, serving_interval
from stargate.uncertainty.training import TRAINING_KEY, training_input

__all__ = ["PHASE_HEADLINES", "SENSITIVITY_HEADLINES", "TOTAL_HEADLINES", "PlanRanges", "RangedPhasePlan", "RangedPlan",
           "chunk_samples", "phase_index", "phase_model", "plan_models", "plan_ranges", "plan_sensitivity", "ranged_plan", "scenario_with_ranges", "sobol_base",
           "with_plan_ranges"]

PHASE_HEADLINES = ("gpus", "capex_usd", "facility_power_w", "peak_flops", "mfu", "goodput", "usable_flops",
                   "largest_model_params", "gpt4_class_days", "tco_usd_per_gpu_hour", "serving.usd_per_million_tokens",
                   "serving.tokens_per_day")
"""Headlines of a phase's ranges (those the phase has: no MFU where the model fits no plan)."""
TOTAL_HEADLINES = ("capex_usd", "gpus", "facility_power_w", "peak_flops")
"""Totals with ranges: sums over the phases of each sample."""
SENSITIVITY_HEADLINES = ("capex_usd", "facility_power_w", "gpus", "mfu", "goodput", "largest_model_params",
                         "gpt4_class_days", "tco_usd_per_gpu_hour", "serving.usd_per_million_tokens")
"""Headlines ``stargate sensitivity`` ranks the inputs of."""
SOBOL_BASES = (16, 65_536)
"""Smallest and largest base of the Sobol design ``stargate sensitivity --samples`` takes (a power of two)."""


def _training_band(point: PhasePlan) -> Uncertain | None:
    """The training model's band as the point plan took it (capped at the chip's ceiling), None without one."""
    pi = point.prediction_interval
    if pi is None or point.mfu is None:
        return None
    return training_input(Band(pi["class"], float(pi["ratio_p10"]), float(pi["ratio_p90"])))


def _serving_band(point: PhasePlan, moe: bool, catalog: Catalog) -> Uncertain | None:
    """The serving model's cross-validated band (:func:`stargate.uncertainty.serving.serving_interval`)."""
    if point.serving is None:
        return None
    low, high, basis = serving_interval(moe, str(point.serving["precision"]), catalog)
    return None if basis.startswith("none") else serving_input(low, high, basis)


def _failure_bands(catalog: Catalog) -> tuple[Uncertain, ...]:
    """One band per cause of interruption (``failure_rates``), in the catalog's order."""
    return tuple(catalog_band(f, "failure_rates", "interruptions_per_gpu_hour", label=f"failure rate: {f.id}")
                 for f in catalog.entries("failure_rates"))


def _goodput(phase: Phase, point: PhasePlan, catalog: Catalog, params: float,
             failures: Sequence[Uncertain]) -> Callable[[Mapping[str, Any]], Any]:
    """Goodput of one job under the strategy the point plan took, at sampled failure rates."""
    rel = point.reliability
    rec = catalog.get("recovery", rel["strategy"])
    domain = catalog.accelerator(point.accelerator).scale_up_domain
    job = point.job_gpus

    def run(v: Mapping[str, Any]) -> Any:
        mtbf = mtbf_s([job * v[b.key] for b in failures])
        return strategy_goodput(rec, job, params, catalog, storage=phase.storage, replica_gpus=rel["replica_gpus"],  # type: ignore[arg-type, union-attr]
                                domain_gpus=domain, spare_fraction=rel["spare_fraction"], spares=rel["spare_gpus"] > 0,
                                mtbf_s=mtbf).goodput  # type: ignore[union-attr]

    return run


def phase_model(phase: Phase, scenario: Scenario, catalog: Catalog, point: PhasePlan, law: str = DEFAULT_LAW,
                ranges: Mapping[str, Uncertain] | None = None) -> Model:
    """One phase's chain with its uncertain inputs: headlines :data:`PHASE_HEADLINES`.

    Parameters
    ----------
    phase : Phase
        The scenario's phase.
    scenario : Scenario
        The scenario it belongs to.
    catalog : Catalog
        The catalog whose entries and bands are drawn from.
    point : PhasePlan
        The point plan of the phase (:func:`stargate.plan.run_plan`): its discrete choices are held fixed.
    law : str
        The scaling law of the largest compute-optimal model.
    ranges : mapping, optional
        Ranges typed for the phase's sizing, by field (``budget_usd``, ``power_w``, ``gpus``).

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> plan = run_plan(sc, cat)
    >>> m = phase_model(sc.phases[-1], sc, cat, plan.phases[-1])
    >>> float(m.point()["largest_model_params"][0]) == plan.phases[-1].largest_model_params
    True
    """
    from stargate.training.presets import load_model

    links_usd = links_capex_usd(phase, catalog)
    sized = dict(ranges or {})
    if links_usd and "budget_usd" in sized:  # the links are paid first, as in the point plan
        b = sized["budget_usd"]
        sized["budget_usd"] = Uncertain(b.label, b.key, b.point - links_usd, b.low - links_usd, b.high - links_usd,
                                        b.basis, b.shape)
    design = design_model(sites_request(phase, links_usd), catalog, sized or None)
    acc = catalog.accelerator(point.accelerator)
    model = load_model(phase.model)[0]
    failures = _failure_bands(catalog)
    training, serving = _training_band(point), _serving_band(point, model.moe is not None, catalog)
    goodput = _goodput(phase, point, catalog, model.params_total, failures)
    days = phase.training_days

    def run(v: Mapping[str, Any]) -> dict[str, Any]:
        d = design.evaluate(v)
        gpus = d["gpus"]
        peak = gpus * acc.peak_16bit_flops_per_s
        out = {"gpus": gpus, "capex_usd": d["capex_usd"] + links_usd, "facility_power_w": d["facility_power_w"],
               "peak_flops": peak, "tco_usd_per_gpu_hour": d["tco_usd_per_gpu_hour"]}
        if training is not None and point.mfu is not None:
            mfu, gp = point.mfu * v[TRAINING_KEY], goodput(v)
            usable = peak * mfu * gp * days * 86400
            out.update({"mfu": mfu, "goodput": gp, "usable_flops": usable,
                        "largest_model_params": compute_optimal(usable, law)[0],
                        "gpt4_class_days": GPT4_CLASS_FLOPS / (peak * mfu * gp) / 86400})
        if serving is not None and point.serving is not None:
            per_gpu = point.serving["tokens_per_s_per_gpu"] * v[SERVING_KEY]
            s = serving_figures(per_gpu, serving_gpus(gpus, phase.serving_share, acc.scale_up_domain), gpus,
                                d["tco_usd_per_gpu_hour"], d["facility_power_w"])
            out.update({f"serving.{k}": s[k] for k in ("usd_per_million_tokens", "tokens_per_day")})
        return out

    held = [*design.meta.get("held_fixed", []), (f"jobs: {point.jobs} x {point.job_gpus:,} GPUs, the reference "
                                                 "model's parallelism and the share of GPUs in jobs and spare pools"),
            f"recovery strategy {point.reliability['strategy']} and {point.reliability['spare_gpus']:,} warm spares"]
    if point.serving is not None:
        held.append(f"serving deployment ({point.serving['precision']}, {point.serving['deployment_gpus']:,} GPUs searched)")
    meta = {"model": "the plan's phase chain on sampled inputs: design model, MFU x training ratio, the recovery "
                     "strategy's goodput at sampled failure rates, compute-optimal scaling, serving rate x serving ratio",
            "held_fixed": held}
    inputs = (*design.inputs, *failures, *(b for b in (training, serving) if b is not None))
    return Model(inputs, run, meta)


def plan_models(scenario: Scenario, catalog: Catalog, plan: Plan, law: str = DEFAULT_LAW,
                ranges: Sequence[Mapping[str, Uncertain] | None] | None = None) -> list[Model]:
    """Every phase's :func:`phase_model` (``ranges``: the typed sizing ranges of each phase)."""
    per = list(ranges) if ranges is not None else [None] * len(plan.phases)
    return [phase_model(ph, scenario, catalog, pp, law, r)
            for ph, pp, r in zip(scenario.phases, plan.phases, per, strict=True)]


@dataclass(frozen=True)
class PlanRanges:
    """P10 / P50 / P90 of every phase's headlines and of the totals, and how they were drawn."""

    phases: list[Ranges]
    """One :class:`Ranges` per phase, in the plan's order."""
    totals: dict[str, dict[str, float]]
    """``{headline: {"p10", "p50", "p90"}}`` of the sums over phases (:data:`TOTAL_HEADLINES`)."""
    samples: int
    seed: int
    inputs: tuple[Uncertain, ...]
    """Every input once (by key), in the order of the hypercube's columns."""

    def block(self) -> dict[str, Any]:
        """The plan's ``uncertainty`` block: sampling, seed, every input, and each phase's model and what it held fixed."""
        block = Ranges({}, self.samples, self.seed, self.inputs).block()
        block["common_random_numbers"] = ("one Latin hypercube column per input key: an input several phases share "
                                          "takes the same draw in each, so the totals' ranges are those of correlated sums")
        block["phases"] = [r.meta for r in self.phases]
        return block


def plan_ranges(scenario: Scenario, catalog: Catalog, plan: Plan, n: int, seed: int = 0,
                progress: Callable[[int, int], None] | None = None, *, law: str = DEFAULT_LAW,
                models: Sequence[Model] | None = None, chunk: int | None = None, scheduler: str | None = None,
                dask_local: int = 0) -> PlanRanges:
    """Ranges of every phase and of the totals over ``n`` Latin hypercube samples of all inputs.

    Parameters
    ----------
    scenario, catalog, plan
        The scenario, its catalog and its point plan.
    n : int
        Samples (1 to :data:`~stargate.uncertainty.propagate.MAX_SAMPLES`).
    seed : int
        The same seed gives the same ranges.
    progress : callable, optional
        Called with (samples done, samples) after each chunk of samples.
    law : str
        The scaling law (the point plan's).
    models : sequence of Model, optional
        The phases' models (by default :func:`plan_models`); a test passes widened ones.
    chunk : int, optional
        Samples evaluated at once per phase (by default :func:`chunk_samples`).
    scheduler, dask_local
        Evaluate the chunks on Dask (:mod:`stargate.dask_client`): the scheduler at this address, or a local
        cluster of this many workers. The chunks and their evaluation are the same, so are the ranges.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> r = plan_ranges(sc, cat, run_plan(sc, cat), n=64, seed=1)
    >>> all(p.ranges["capex_usd"]["p10"] <= p.ranges["capex_usd"]["p90"] for p in r.phases)
    True
    """
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"samples must be 1 to {MAX_SAMPLES:,}")
    ms = list(models) if models is not None else plan_models(scenario, catalog, plan, law)
    union: dict[str, Uncertain] = {}
    for m in ms:
        for b in m.inputs:
            union.setdefault(b.key, b)
    column = {k: j for j, k in enumerate(union)}
    columns = [[column[b.key] for b in m.inputs] for m in ms]
    u = latin_hypercube(n, len(union), seed)
    step = chunk or chunk_samples(n)
    rows = [u[start:start + step] for start in range(0, n, step)]
    done: dict[int, list[dict[str, np.ndarray]]] = {}
    finished = 0
    for k, outs in _evaluated(ms, columns, rows, scheduler, dask_local):
        done[k], finished = outs, finished + len(rows[k])
        if progress is not None:
            progress(finished, n)
    chunks = [done[k] for k in range(len(rows))]
    per_phase = [{h: np.concatenate([c[i][h] for c in chunks]) for h in PHASE_HEADLINES if h in chunks[0][i]}
                 for i in range(len(ms))]
    totals = {h: np.concatenate([np.asarray(sum(o[h] for o in c)) for c in chunks]) for h in TOTAL_HEADLINES}
    phases = [Ranges(percentiles(p), n, seed, m.inputs, {"phase": pp.name, **m.meta})
              for p, m, pp in zip(per_phase, ms, plan.phases, strict=True)]
    return PlanRanges(phases, percentiles(totals), n, seed, tuple(union.values()))


def chunk_samples(n: int) -> int:
    """Samples per chunk of ``n``: 250, or more so that there are at most 64 chunks (what a Dask worker gets
    at a time, and how often the progress bar moves).

    Examples
    --------
    >>> chunk_samples(1000), chunk_samples(1_000_000)
    (250, 15625)
    """
    return max(250, -(-n // 64))


def _chunk_headlines(models: Sequence[Model], columns: Sequence[Sequence[int]], rows: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Every phase's headlines at one chunk of hypercube rows (each phase reads its inputs' columns)."""
    return [m.at(values(m.inputs, rows[:, list(cols)])) for m, cols in zip(models, columns, strict=True)]


def _evaluated(models: Sequence[Model], columns: Sequence[Sequence[int]], rows: Sequence[np.ndarray],
               scheduler: str | None, dask_local: int) -> Iterator[tuple[int, list[dict[str, np.ndarray]]]]:
    """``(chunk index, headlines)`` of each chunk of rows: in this process in order, or on Dask as they arrive
    (the models sent to every worker once, each chunk's rows to one worker, ahead of the tasks)."""
    if scheduler is None and not dask_local:
        for k, r in enumerate(rows):
            yield k, _chunk_headlines(models, columns, r)
        return
    from stargate.dask_client import dask_map, session

    with session(scheduler, dask_local) as client:
        [shared] = client.scatter([list(models)], broadcast=True, hash=False)
        chunks = client.scatter(list(rows), hash=False)
        yield from dask_map(client, _chunk_headlines, [shared] * len(rows), [columns] * len(rows), chunks)


class RangedPhasePlan(PhasePlan):
    """A phase of a plan with the ranges of its headlines (``stargate plan --uncertainty``)."""

    model_config = ConfigDict(frozen=True)

    ranges: dict[str, dict[str, float]]
    """P10, P50 and P90 of each of the phase's headlines (:data:`PHASE_HEADLINES`), by its JSON key."""


class RangedPlan(Plan):
    """A plan whose phases and totals carry ranges, and how they were drawn (``uncertainty``)."""

    model_config = ConfigDict(frozen=True)

    phases: list[RangedPhasePlan]  # type: ignore[assignment]
    uncertainty: dict[str, Any]
    """Samples, seed, sampling scheme, every uncertain input with its band, and what each phase held fixed."""


def with_plan_ranges(plan: Plan, ranges: PlanRanges) -> RangedPlan:
    """The point plan with each phase's ``ranges``, the totals' (``totals.ranges``) and the ``uncertainty`` block.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> p = run_plan(sc, cat)
    >>> rp = with_plan_ranges(p, plan_ranges(sc, cat, p, n=32))
    >>> sorted(rp.model_dump(mode="json")["phases"][0]["ranges"]["gpus"]), rp.uncertainty["samples"]
    (['p10', 'p50', 'p90'], 32)
    """
    phases = [RangedPhasePlan.model_construct(**dict(p), ranges=r.ranges)
              for p, r in zip(plan.phases, ranges.phases, strict=True)]
    return RangedPlan.model_construct(**{**dict(plan), "phases": phases, "totals": {**plan.totals, "ranges": ranges.totals},
                                         "uncertainty": ranges.block()})


def plan_sensitivity(scenario: Scenario, catalog: Catalog, plan: Plan, phase: int = -1, base: int = 512, seed: int = 0,
                     with_sobol: bool = True, law: str = DEFAULT_LAW,
                     ranges: Mapping[str, Uncertain] | None = None) -> dict[str, Any]:
    """Which inputs move each headline of one phase most (``stargate sensitivity``).

    One-at-a-time swings of every input between its P10 and P90 and, with ``with_sobol``, first-order
    and total Sobol indices from ``base · (inputs + 2)`` evaluations
    (:func:`stargate.uncertainty.sensitivity.ranking`), over the phase's :func:`phase_model`.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> s = plan_sensitivity(sc, cat, run_plan(sc, cat), phase=2, with_sobol=False)
    >>> s["phase"], s["headlines"]["mfu"][0]["key"]
    ('Phase 3: H100 supercomputer (Eagle)', 'model/training')
    """
    from stargate.uncertainty.sensitivity import ranking

    if not -len(plan.phases) <= phase < len(plan.phases):
        raise InputError("phase", phase, f"a phase index from 0 to {len(plan.phases) - 1} (-1: the last)")
    m = phase_model(scenario.phases[phase], scenario, catalog, plan.phases[phase], law, ranges)
    rows = ranking(m, base, seed, with_sobol)
    point = m.point()
    held = _held_by_limit(scenario.phases[phase], ranges)
    for h in held:
        rows.pop(h, None)
    return {"scenario": plan.scenario, "phase": plan.phases[phase].name, "held_by_limit": held,
            "method": ("one-at-a-time swings between each input's P10 and P90, every other input at its point"
                       + (f"; Sobol indices (SALib, Saltelli's scheme) from {base} base samples, "
                          f"{base * (len(m.inputs) + 2):,} evaluations" if with_sobol else "")),
            "samples": base if with_sobol else 0, "seed": seed, "inputs": len(m.inputs),
            "points": {h: float(point[h][0]) for h in SENSITIVITY_HEADLINES if h in point},
            "headlines": {h: rows[h] for h in SENSITIVITY_HEADLINES if h in rows}, "held_fixed": m.meta["held_fixed"]}


def _held_by_limit(phase: Phase, ranges: Mapping[str, Uncertain] | None) -> dict[str, str]:
    """Headlines a phase's sizing limit fixes: a budget fixes capex, a power cap facility power (each to within one
    system), unless the limit itself is a typed range. Their swings would only measure that rounding."""
    typed = " ".join(ranges or {})
    held = {}
    if phase.budget_usd is not None and "budget" not in typed:
        held["capex_usd"] = "the phase's budget: every sample spends it to within one system"
    if phase.power_w is not None and "power" not in typed:
        held["facility_power_w"] = "the phase's power cap: every sample draws it to within one system"
    return held


def sobol_base(value: Any, field: str = "--samples") -> int:
    """Base samples of the Sobol design: a power of two within :data:`SOBOL_BASES` (Sobol' sequences balance
    only at powers of two).

    Examples
    --------
    >>> sobol_base("512"), sobol_base(64)
    (512, 64)
    >>> sobol_base("500")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --samples: '500' is not allowed; expected a power of two from 16 to 65,536 (the Sobol design's base samples)
    """
    from stargate.units import parse_count

    lo, hi = SOBOL_BASES
    allowed = f"a power of two from {lo} to {hi:,} (the Sobol design's base samples)"
    try:
        n = parse_count(value, field)
    except InputError:
        raise InputError(field, value, allowed) from None
    if not lo <= n <= hi or n & (n - 1):
        raise InputError(field, value, allowed)
    return n


def phase_index(plan: Plan, phase: int | str | None, field: str = "--phase") -> int:
    """Index of the phase named (exactly) or numbered (1: the first) by ``phase``; the last when None.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> p = run_plan(builtin_scenario())
    >>> phase_index(p, None), phase_index(p, "2"), phase_index(p, "Phase 5: Stargate")
    (4, 1, 4)
    """
    names = [p.name for p in plan.phases]
    if phase is None:
        return len(names) - 1
    if phase in names:
        return names.index(str(phase))
    text = str(phase).strip()
    if text.isdigit() and 1 <= int(text) <= len(names):
        return int(text) - 1
    shown = "; ".join(f"{i} '{n}'" for i, n in enumerate(names, 1))
    raise InputError(field, phase, f"a phase's number from 1 to {len(names)} or its name: {shown}")


def scenario_with_ranges(data: Any, origin: str = "scenario") -> tuple[Scenario, list[dict[str, Uncertain]]]:
    """A scenario's data with the sizing ranges its phases type (``budget_usd: 90e9..110e9``) at their
    midpoints, validated, and each phase's ranges (uniform inputs, by field).

    Examples
    --------
    >>> sc, r = scenario_with_ranges({"name": "demo", "phases": [
    ...     {"name": "P1", "year": 2026, "accelerator": "gb200", "budget_usd": "9e9..11e9"}]})
    >>> sc.phases[0].budget_usd, r[0]["budget_usd"].low, r[0]["budget_usd"].key
    (10000000000.0, 9000000000.0, "scenario: phase 'P1'.budget_usd")
    """
    from stargate.uncertainty.options import SIZING_RANGES, typed_ranges

    phases = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(phases, list):
        sc = validated_scenario(data, origin)
        return sc, [{} for _ in sc.phases]
    points: list[Any] = []
    ranges: list[Any] = []
    for i, ph in enumerate(phases):
        if not isinstance(ph, dict):
            points.append(ph)
            ranges.append({})
            continue
        where = {f: f"{origin}: phase '{ph.get('name', i)}'.{f}" for f in SIZING_RANGES}
        try:
            point, typed = typed_ranges(ph, where)
        except InputError as e:
            raise InputError(where.get(e.field, e.field), e.value, e.allowed) from None
        points.append(point)
        ranges.append(typed)
    return validated_scenario({**data, "phases": points}, origin), ranges


def ranged_plan(scenario: Scenario, catalog: Catalog, plan: Plan, n: int, seed: int = 0,
                progress: Callable[[int, int], None] | None = None, *, law: str = DEFAULT_LAW,
                ranges: Sequence[Mapping[str, Uncertain]] | None = None, scheduler: str | None = None,
                dask_local: int = 0) -> Plan:
    """The answer of ``stargate plan [--uncertainty N]``: the point plan, its phases noting the ranges they
    were typed with (answered at the midpoint), and with ``n`` samples the ranges of every headline
    (evaluated on Dask with ``scheduler`` or ``dask_local``, as :func:`plan_ranges`).

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> sc, cat = builtin_scenario(), Catalog.load()
    >>> p = run_plan(sc, cat)
    >>> ranged_plan(sc, cat, p, 0) is p, type(ranged_plan(sc, cat, p, 16)).__name__
    (True, 'RangedPlan')
    """
    from stargate.uncertainty.options import midpoint_notes

    if ranges and any(ranges):
        phases = [pp.model_copy(update={"warnings": [*pp.warnings, *midpoint_notes(r, bool(n))]}) if r else pp
                  for pp, r in zip(plan.phases, ranges, strict=True)]
        plan = plan.model_copy(update={"phases": phases})
    if not n:
        return plan
    models = plan_models(scenario, catalog, plan, law, ranges)
    return with_plan_ranges(plan, plan_ranges(scenario, catalog, plan, n, seed, progress, law=law, models=models,
                                              scheduler=scheduler, dask_local=dask_local))
