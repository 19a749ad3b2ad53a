"""The whole chain for a scenario: design, network, training, reliability and outcome, per phase.

``stargate plan`` runs this. For every phase of a scenario (a YAML file, or the built-in
``stargate`` five-phase plan), it designs the cluster, predicts the MFU of the phase's
frontier-scale reference model on it (the fastest plan that fits) on jobs as they are run (a
frontier batch of at most 62.9M tokens; a large phase runs several concurrent jobs, less its warm
spares), the goodput of one such job under the best recovery strategy the phase allows (Llama 3
failure rates, restart times that grow with the job, Daly's checkpoint interval), and from
the usable compute over the phase's training time (peak x MFU x goodput x time) the largest
compute-optimal model it can train, its tokens and loss, the data that needs, and the time to
train a GPT-4-class model (2e25 FLOP). Totals compare the cumulative capex with the reported one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from stargate.capacity import ServingRate, capacity, deployment_gpus, serving_gpus, serving_rate
from stargate.catalog import Catalog
from stargate.cluster.design import ClusterDesign, design_cluster
from stargate.economics.energy import lead_time_warnings
from stargate.errors import InputError
from stargate.fabric.multisite import ring_links, site_link
from stargate.inputs import MAX_YAML_BYTES, load_yaml, read_text_file
from stargate.reference import job_layout, job_shape, reference_job, site_cost
from stargate.reliability.failures import interruptions
from stargate.reliability.spares import spare_gpus
from stargate.reliability.strategies import best_strategy
from stargate.scaling.data import HUMAN_TEXT_STOCK_TOKENS, data_need
from stargate.scaling.laws import LAWS, compute_optimal, loss
from stargate.scenario import Phase, Scenario, check_availability, validate
from stargate.training.interval import Band, band_for, mfu_ceiling
from stargate.units import format_usd

__all__ = ["GPT4_CLASS_FLOPS", "PhasePlan", "Plan", "builtin_scenario", "job_shape", "load_scenario", "run_plan"]

GPT4_CLASS_FLOPS = 2e25
"""Training compute of a GPT-4-class model (Epoch AI's estimate for GPT-4: ~2.1e25 FLOP)."""
DEFAULT_LAW = "besiroglu2024"


class PhasePlan(BaseModel):
    """One phase of a plan: the contract's headline figures, the outcome, and the full design."""

    model_config = ConfigDict(frozen=True)

    name: str
    year: int
    site: str
    gpus: int
    accelerator: str
    capex_usd: float
    facility_power_w: float
    peak_flops: float
    """Dense 16-bit peak of the whole phase (FLOP/s)."""
    mfu: float | None
    """Predicted MFU of the reference model on the phase (None if it fits no plan)."""
    reference_model: str
    reference_job: dict[str, Any] | None
    """The reference model's fastest plan on one job: parallelism, step time, GPUs and batch used."""
    jobs: int = 1
    """Concurrent jobs the phase runs (each at a frontier batch)."""
    job_gpus: int = 0
    """GPUs of each job."""
    goodput: float
    """Useful share of the jobs' and spares' GPU-time under the recovery strategy the plan took."""
    reliability: dict[str, Any]
    """One job's interruptions, the strategy taken (``strategy``), its ``goodput_breakdown``
    (parts sum to 1), restart time, failure domain, checkpoints, warm spares, and every allowed
    strategy's goodput."""
    usable_flops: float | None
    """Peak x MFU x goodput x training time (FLOP)."""
    training_days: float
    largest_model_params: float | None
    """Largest compute-optimal model trainable in ``training_days``."""
    largest_model_tokens: float | None
    largest_model_loss: float | None
    data: dict[str, float] | None
    gpt4_class_days: float | None
    """Days to train a 2e25-FLOP model."""
    mfu_range: dict[str, float] | None = None
    """P10 and P90 of ``mfu`` from the cross-validated residuals of comparable runs
    (:mod:`stargate.training.interval`); None without a prediction."""
    largest_model_params_range: dict[str, float] | None = None
    """P10 and P90 of ``largest_model_params``: the largest model at the MFU's P10 and P90."""
    gpt4_class_days_range: dict[str, float] | None = None
    """P10 and P90 of ``gpt4_class_days`` (the P10 is the faster: it comes from the MFU's P90)."""
    prediction_interval: dict[str, Any] | None = None
    """The band the ranges come from: job class, P10 and P90 ratios of measured / predicted, basis."""
    energy_mwh_per_year: float
    energy_cost_usd_per_year: float
    carbon_t_per_year: float
    multisite: dict[str, Any] | None
    """For a phase over several sites (None for one): ``sites``, ``gpus_per_site``, ``link`` (one
    link: ``distance_m``, ``fiber_pairs``, ``optic``, ``wavelengths``, ``capacity_bits_per_s``,
    ``latency_s``, ``amplifier_sites``, ``regenerator_sites``, ``regenerators``, ``capex_usd``,
    ``capex_breakdown_usd``), ``links``, ``links_capex_usd``, ``links_capex_fraction`` (of the
    phase's capex), ``sites_per_job``, ``step_time_s`` (a job's step in one site),
    ``added_step_time_s``, ``added_step_time_fraction`` (of that step) and ``slowdown``."""
    energy_mix: list[tuple[str, float]]
    reported: dict[str, Any] | None
    warnings: list[str]
    design: ClusterDesign
    serving: dict[str, Any] | None = None
    """Serving capacity on the scenario's reference workload (:mod:`stargate.capacity`):
    ``tokens_per_day``, ``tokens_per_s``, ``users`` (sequences in flight at the target
    interactivity), ``usd_per_million_tokens`` (the phase's TCO per GPU-hour over generated tokens),
    ``tokens_per_mw`` (tokens/s per MW of facility power), ``serving_gpus``, ``serving_share``,
    ``tokens_per_s_per_gpu``, ``deployment``, ``meets_limits``, the p99 TTFT and TPOT, the format
    served at and the chip's throughput-interactivity ``frontier``; None when the chip cannot serve
    the model (the warnings say why)."""
    training_gpus: int = 0
    """GPUs left to training (all of them unless the phase sets a ``serving_share``)."""
    tco_usd_per_gpu_hour: float | None = None
    """The phase's total cost of ownership per GPU-hour (its design's)."""


class Plan(BaseModel):
    """A scenario's phases and their totals."""

    model_config = ConfigDict(frozen=True)

    scenario: str
    description: str
    scaling_law: str
    assumptions: list[str]
    phases: list[PhasePlan]
    totals: dict[str, Any]
    serving_workload: dict[str, Any] | None = None
    """The reference serving workload every phase's ``serving`` is stated on (the scenario's ``serving``)."""


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario YAML file."""
    return validated_scenario(*read_scenario(path))


def read_scenario(path: Path | str) -> tuple[Any, str]:
    """A scenario file's YAML data, read within bounds, and its name for errors (``scenario FILE``)."""
    p = Path(path)
    text = read_text_file(p, "scenario", MAX_YAML_BYTES)
    return load_yaml(text, f"scenario {p.name}"), f"scenario {p.name}"


def builtin_scenario(name: str = "stargate") -> Scenario:
    """A scenario shipped with Stargate, by name (never a path: the name must be one of the shipped ones)."""
    folder = resources.files("stargate") / "scenarios"
    names = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    if name not in names:
        raise InputError("scenario", name, f"one of the built-in scenarios: {', '.join(names)}")
    text = (folder / f"{name}.yaml").read_text(encoding="utf-8")
    return validated_scenario(load_yaml(text, name), f"scenario {name}")


def validated_scenario(data: Any, origin: str) -> Scenario:
    """A scenario's data validated; an error names the phase by its name rather than its index."""
    try:
        return validate(Scenario, data, origin)
    except InputError as e:
        field = e.field
        if isinstance(data, dict) and ": phases." in field:
            head, rest = field.split(": phases.", 1)
            index, _, tail = rest.partition(".")
            phases = data.get("phases") or []
            if index.isdigit() and int(index) < len(phases) and isinstance(phases[int(index)], dict):
                label = phases[int(index)].get("name", index)
                field = f"{head}: phase '{label}'" + (f".{tail}" if tail else "")
        raise InputError(field, e.value, e.allowed) from None


def _multisite(phase: Phase, gpus: int, layout: Any, model: Any, step_s: float | None, catalog: Catalog) -> dict[str, Any] | None:
    """Links between a multi-site phase's sites, and what they cost its jobs' steps.

    The links are priced for the whole phase. A job that fits in one site runs there (the phase's
    jobs are placed site by site) and pays nothing per step; a job larger than a site spans as few
    sites as hold it, and its gradient all-reduce crosses their links every step. ``step_s`` is the
    job's step in one site (None when the model fits no plan: no step, no slowdown).
    """
    if phase.sites <= 1:
        return None
    ms = site_cost(phase.accelerator, phase.fabric, gpus, phase.sites, phase.site_distance_m, model.params_total,
                   catalog, phase.site_fiber_pairs).model_dump(mode="json")
    spans = min(phase.sites, -(-layout.gpus * phase.sites // gpus))  # sites one job needs: ceil(job / site)
    ms["sites_per_job"] = spans
    if spans <= 1:
        ms["added_step_time_s"] = 0.0
    elif spans < phase.sites:
        job = site_cost(phase.accelerator, phase.fabric, layout.gpus, spans, phase.site_distance_m, model.params_total,
                        catalog, phase.site_fiber_pairs)
        ms["added_step_time_s"] = job.added_step_time_s
    added = max(ms["added_step_time_s"], 0.0)
    ms["step_time_s"] = step_s
    ms["added_step_time_fraction"] = added / step_s if step_s else None
    ms["slowdown"] = step_s / (step_s + added) if step_s else None
    return ms


def _reliability(phase: Phase, d: ClusterDesign, train: dict[str, Any] | None, layout: Any, spares: int,
                 params: float, catalog: Catalog) -> tuple[Any, dict[str, Any]]:
    """The best allowed recovery strategy for one job of the phase, and the phase's reliability figures."""
    domain = catalog.accelerator(d.accelerator).scale_up_domain
    par = train["parallelism"] if train else None
    replica = par["tp"] * par["pp"] * par["cp"] if par else domain
    jobs_gpus = layout.jobs * layout.gpus
    share = spares / (jobs_gpus + spares) if spares else 0.0
    field = f"scenario: phase '{phase.name}'.recovery"
    gp, each = best_strategy(layout.gpus, params, catalog, phase.recovery, field, storage=phase.storage,
                            replica_gpus=replica, domain_gpus=domain, spare_fraction=share, spares=spares > 0)
    fails = interruptions(layout.gpus, catalog)
    return gp, {"jobs": layout.jobs, "job_gpus": layout.gpus, "interruptions_per_day": fails.per_hour * 24,
                "mtbf_s": fails.mtbf_s, "by_cause_per_day": {k: v * 24 for k, v in fails.by_cause_per_hour.items()},
                "strategy": gp.strategy, "strategy_name": gp.name, "failure_domain": gp.failure_domain,
                "failure_domain_gpus": gp.failure_domain_gpus, "replica_gpus": replica, "restart_s": gp.restart_s,
                "goodput_breakdown": gp.breakdown.as_dict(), "checkpoint_bytes": gp.checkpoint_bytes,
                "checkpoint_write_s": gp.write_s, "checkpoint_interval_s": gp.interval_s, "spare_gpus": spares,
                "spare_fraction": share, "strategies": each}


def links_capex_usd(phase: Phase, catalog: Catalog) -> float:
    """Capex of the fibre links between a multi-site phase's sites (0 for one site)."""
    if phase.sites <= 1:
        return 0.0
    return ring_links(phase.sites) * site_link(phase.site_distance_m, phase.site_fiber_pairs, catalog).capex_usd


def sites_request(phase: Phase, links_usd: float) -> Phase:
    """The design request of a phase's sites: a budget pays for the links between them first."""
    if not links_usd or phase.budget_usd is None:
        return phase
    return phase.model_copy(update={"budget_usd": phase.budget_usd - links_usd})


def _design(phase: Phase, links_usd: float, catalog: Catalog) -> ClusterDesign:
    """The phase's cluster; a budget pays for the links between its sites first, the sites get the rest."""
    if not links_usd or phase.budget_usd is None:
        return design_cluster(phase, catalog)
    field = f"scenario: phase '{phase.name}'.budget_usd"
    if links_usd >= phase.budget_usd:
        raise InputError(field, phase.budget_usd, f"more than the links between its sites cost ({format_usd(links_usd)})")
    try:
        d = design_cluster(sites_request(phase, links_usd), catalog)
    except InputError as e:
        if e.field != "budget_usd":
            raise
        raise InputError(field, phase.budget_usd, f"{e.allowed} plus the links between its sites ({format_usd(links_usd)})") from None
    note = (f"budget {format_usd(phase.budget_usd)} less the links between the {phase.sites} sites "
            f"({format_usd(links_usd)}): {format_usd(phase.budget_usd - links_usd)} for the sites themselves")
    return d.model_copy(update={"notes": [*d.notes, note]})


def _phase(phase: Phase, scenario: Scenario, catalog: Catalog, law: str, rates: _Rates) -> PhasePlan:
    links_usd = links_capex_usd(phase, catalog)
    d = _design(phase, links_usd, catalog)
    acc = catalog.accelerator(d.accelerator)
    peak = d.gpus * acc.peak_16bit_flops_per_s
    serve_gpus = serving_gpus(d.gpus, phase.serving_share, acc.scale_up_domain)
    train_gpus = d.gpus - serve_gpus if phase.serving_share is not None else d.gpus
    spares = spare_gpus(train_gpus, acc.scale_up_domain, catalog, phase.hot_spare_fraction)
    avail = train_gpus  # the spares come out of the GPUs the jobs' shapes leave over, when there are enough
    layout = job_layout(avail, phase.global_batch, phase.seq_len)
    if train_gpus - layout.jobs * layout.gpus < spares:
        avail = train_gpus - spares
        layout = job_layout(avail, phase.global_batch, phase.seq_len)
    train, model = reference_job(phase.model, phase.accelerator, avail, phase.seq_len, phase.global_batch,
                                 phase.precision, phase.fabric, phase.topology, catalog, phase.scale_out_bits_per_s)
    warnings = lead_time_warnings(phase.mix, phase.year, scenario.decided_year, catalog)
    gp, reliability = _reliability(phase, d, train, layout, spares, model.params_total, catalog)
    ms = _multisite(phase, d.gpus, layout, model, train["step_time_s"] if train else None, catalog)
    mfu = train["mfu"] * (ms["slowdown"] if ms else 1.0) if train else None
    if train is None:
        warnings.append(f"{model.name} fits no parallel plan on {d.gpus:,} × {acc.id}: no MFU, no trainable-model figures")
    elif not train["calibrated"]:
        warnings.append(train["kernel_source"])
    if mfu is not None:  # GPUs in no job and no spare pool do no training (spares idle inside the goodput)
        mfu *= (layout.jobs * layout.gpus + spares) / d.gpus
    usable = peak * mfu * gp.goodput * phase.training_days * 86400 if mfu else None
    n = tokens = lossv = data = gpt4 = None
    if usable and mfu:
        n, tokens = (float(x) for x in compute_optimal(usable, law))
        lossv = float(loss(n, tokens, law))
        need = data_need(tokens, usable, generator_params=n)
        data = {"tokens_needed": tokens, "human_text_stock_tokens": HUMAN_TEXT_STOCK_TOKENS,
                "synthetic_tokens": need.synthetic_tokens, "synthetic_generation_flops": need.synthetic_generation_flops,
                "synthetic_share_of_compute": need.synthetic_share_of_compute}
        gpt4 = GPT4_CLASS_FLOPS / (peak * mfu * gp.goodput) / 86400
    band = band_for(catalog, model.moe is not None, phase.precision) if usable else None
    if band is not None and mfu:  # no range past the chip's best measured GEMM rate
        band = band.capped(mfu_ceiling(d.accelerator, phase.precision, None, catalog) / mfu)
    ranges = _ranges(band, mfu, usable, gpt4, law) if band and mfu and usable and gpt4 else {}
    capex = d.capex_usd + links_usd  # the links between sites are part of the phase
    if ms:
        ms["links_capex_fraction"] = links_usd / capex
    energy = d.energy_mwh_per_year
    price = d.opex_breakdown_usd_per_year["energy"]
    rate = rates.get(d.accelerator, serve_gpus)
    warnings += [n for n in rate.notes if n not in warnings]
    serving = capacity(rate, serve_gpus, d.gpus, d.tco_usd_per_gpu_hour, d.facility_power_w)
    if serving and not serving["meets_limits"]:
        warnings.append(f"no {acc.id} deployment meets the serving latency limits: serving figures at its fastest point per user")
    return PhasePlan(
        name=phase.name, year=phase.year, site=phase.site, gpus=d.gpus, accelerator=d.accelerator, capex_usd=capex,
        facility_power_w=d.facility_power_w, peak_flops=peak, mfu=mfu, reference_model=model.name, reference_job=train, jobs=layout.jobs,
        job_gpus=layout.gpus, goodput=gp.goodput, reliability=reliability,
        usable_flops=usable, training_days=phase.training_days, largest_model_params=n, largest_model_tokens=tokens,
        largest_model_loss=lossv, data=data, gpt4_class_days=gpt4, energy_mwh_per_year=energy,
        energy_cost_usd_per_year=price, carbon_t_per_year=d.carbon_t_per_year, multisite=ms, energy_mix=phase.mix,
        reported=phase.reported.model_dump(mode="json") if phase.reported else None, warnings=warnings, design=d,
        serving=serving, training_gpus=train_gpus, tco_usd_per_gpu_hour=d.tco_usd_per_gpu_hour, **ranges,
    )


def _ranges(band: Band, mfu: float, usable: float, gpt4: float, law: str) -> dict[str, Any]:
    """A phase's MFU, largest model and GPT-4-class days as P10-P90 ranges from the throughput band."""
    low, high = (usable * r for r in (band.low, band.high))
    return {"mfu_range": band.scale(mfu), "gpt4_class_days_range": band.inverse(gpt4),
            "largest_model_params_range": {"p10": float(compute_optimal(low, law)[0]),
                                           "p90": float(compute_optimal(high, law)[0])},
            "prediction_interval": band.as_dict()}


ASSUMPTIONS = [
    "failure rates per GPU-hour stay at the Llama 3 (2024, H100) level at every scale and generation",
    ("a job's global batch is at most 62.9M tokens (DeepSeek-V3) with one sequence per 8 GPUs or more (Llama 3); "
     "a larger phase runs several concurrent jobs, and its usable compute is their sum"),
    "a multi-site phase runs each job inside one site when it fits; only a job larger than a site pays the WAN all-reduce",
    ("each job recovers by the best strategy the phase allows (storage restart, in-memory restart, elastic "
     "replicas), restart times R0 + r log2(GPUs) anchored on Meta's 100k-GPU measurements; checkpoints at "
     "Daly's interval, storage writes capped at 10 TB/s"),
    ("warm spares (whole NVLink domains) sized by Little's law for a one-day return of a failed domain; "
     "they are part of the phase's GPUs and idle in the goodput"),
    "compute-optimal split of usable compute by the Besiroglu et al. (2024) refit of Chinchilla; MoE counted by active parameters",
    "synthetic data generated by a model of the trained size, 30% of generated tokens kept (an assumption)",
    "usable compute = dense 16-bit peak x predicted MFU x goodput x training time",
]


def run_plan(scenario: Scenario, catalog: Catalog | None = None, law: str = DEFAULT_LAW) -> Plan:
    """Run the whole chain for every phase of ``scenario`` and add up the totals.

    Examples
    --------
    >>> plan = run_plan(builtin_scenario())
    >>> len(plan.phases) == 5 and plan.totals["capex_usd"] > 1e11
    True
    """
    if law not in LAWS:
        raise InputError("scaling_law", law, f"one of {', '.join(LAWS)}")
    cat = catalog or Catalog.load()
    check_availability(scenario, cat)
    rates = _Rates(scenario, cat)
    phases = [_phase(ph, scenario, cat, law, rates) for ph in scenario.phases]
    totals: dict[str, Any] = {
        "capex_usd": sum(p.capex_usd for p in phases),
        "gpus": float(sum(p.gpus for p in phases)),
        "facility_power_w": sum(p.facility_power_w for p in phases),
        "peak_flops": sum(p.peak_flops for p in phases),
        "opex_usd_per_year": sum(p.design.opex_usd_per_year for p in phases),
        "energy_mwh_per_year": sum(p.energy_mwh_per_year for p in phases),
        "carbon_t_per_year": sum(p.carbon_t_per_year for p in phases),
        **_serving_totals(phases),
    }
    if scenario.reported_total_capex_usd:
        totals["reported_capex_usd"] = scenario.reported_total_capex_usd
        totals["reported_capex_source"] = scenario.reported_total_source
        totals["capex_vs_reported"] = totals["capex_usd"] / scenario.reported_total_capex_usd
    return Plan(scenario=scenario.name, description=scenario.description, scaling_law=LAWS[law].source,
                assumptions=ASSUMPTIONS, phases=phases, totals=totals, serving_workload=scenario.serving.model_dump())


class _Rates:
    """Serving answers of one plan, one search per distinct (accelerator, model, workload).

    A phase smaller than the replica-sized deployment (:func:`~stargate.capacity.deployment_gpus`)
    is searched on its own GPU count. The model is read once, and a name that is neither a
    preset nor a config.json is the scenario's error, named as written (``serving.model``).
    """

    def __init__(self, scenario: Scenario, catalog: Catalog) -> None:
        from stargate.training.presets import load_model

        self.workload = scenario.serving
        self.catalog = catalog
        try:
            self.model = load_model(self.workload.model)[0]
        except InputError as e:
            raise InputError(f"scenario {scenario.name}: serving.model", e.value, e.allowed) from None
        self.cache: dict[tuple[str, int], ServingRate] = {}

    def get(self, accelerator: str, gpus: int) -> ServingRate:
        """The chip's answer (searched on at most the replica-sized deployment)."""
        n = deployment_gpus(self.catalog.accelerator(accelerator).scale_up_domain, gpus or None)[0]
        key = (accelerator, n)
        if key not in self.cache:
            self.cache[key] = serving_rate(self.model, accelerator, self.workload, self.catalog, gpus or None)
        return self.cache[key]


def _serving_totals(phases: list[PhasePlan]) -> dict[str, float]:
    """Serving figures added over the phases that can serve the workload."""
    s = [p.serving for p in phases if p.serving]
    keys = ("serving_gpus", "tokens_per_s", "tokens_per_day", "users")
    return {k if k.startswith("serving_") else f"serving_{k}": float(sum(x[k] for x in s)) for k in keys} if s else {}
