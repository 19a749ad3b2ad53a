"""One training job, end to end: the fastest plan that fits, its breakdown, and time and cost to train.

``stargate train`` runs :func:`train`. Parallelism options the user leaves out are searched
(:mod:`stargate.training.search`); the token budget defaults to 20 tokens per active parameter
(compute-optimal per Hoffmann et al. 2022, "Chinchilla"); the cost of the GPU-hours uses the TCO per
GPU-hour of a cluster of the job's size designed by :func:`stargate.cluster.design.design_cluster`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from stargate.catalog import Catalog
from stargate.cluster.design import design_cluster
from stargate.errors import InputError
from stargate.inputs import INPUT_CONFIG, MAX_PARALLEL, MAX_TOKENS
from stargate.scenario import DesignRequest
from stargate.training.context import Workload, resolve_context
from stargate.training.interval import Band, band_for, mfu_ceiling
from stargate.training.presets import load_model
from stargate.training.rules import framework_rules, pipeline_split
from stargate.training.search import UsableCounts, nothing_allowed, search, usable_counts
from stargate.units import Count, TokenCount

__all__ = ["MFU_DEFINITION", "TrainRequest", "cost_design", "train", "training_run"]

MFU_DEFINITION = ("model FLOPs per token = 6 x active matmul parameters (output head included) + 12 x layers x "
                  "heads x head_dim x context (PaLM, App. B; no recompute), over the dense 16-bit peak")
HFU_DEFINITION = "as MFU, plus the FLOPs recomputed under full activation recompute"
CHINCHILLA_TOKENS_PER_PARAM = 20.0
NEAR_TIE = 0.02
"""Alternatives whose step time is within this fraction of the best plan's are near-ties: closer than the
model can tell apart (its median error on published runs is larger; docs/calibration.md)."""


class TrainRequest(BaseModel):
    """A training job; parallelism left as ``None`` is searched."""

    model_config = INPUT_CONFIG

    model: str
    """Preset name or path to a Hugging Face config.json."""
    workload: Workload
    """Accelerator, GPU count, sequence length, global batch, precision, fabric."""
    tp: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Tensor-parallel degree (searched if left out)."""
    pp: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Pipeline-parallel degree."""
    dp: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Data-parallel degree."""
    cp: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Context-parallel degree."""
    ep: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Expert-parallel degree."""
    vp: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Virtual pipeline stages per rank."""
    mbs: Annotated[Count, Field(gt=0, le=MAX_PARALLEL)] | None = None
    """Micro-batch size (sequences)."""
    recompute: str | None = Field(None, pattern=r"^(none|selective|full)$")
    sharding: str | None = Field(None, pattern=r"^(none|zero1|zero2|zero3)$")
    tokens: Annotated[TokenCount, Field(gt=0, le=MAX_TOKENS)] | None = None
    """Token budget to train; default: 20 per active parameter (Chinchilla)."""
    top_k: Annotated[int, Field(ge=1, le=20)] = 3
    """How many of the fastest plans to report."""
    batch_tolerance: Annotated[float, Field(ge=0, le=0.5)] = 0.0
    """Largest relative change of the global batch allowed so that a plan uses every GPU (0: the batch is
    kept as given)."""
    use_subset: bool = False
    """When no plan uses all the GPUs, run on the largest subset some plan fits on and report the idle
    GPUs (without it, such a GPU count is refused with the nearest counts that work)."""


def _plan_report(best: Any, i: int, per_gpu_peak: float, layers: int = 0, split: str = "even") -> dict[str, Any]:
    row = best.plans.row(i)
    stages = pipeline_split(layers, row["pp"], row["vp"], split) if layers else None
    return {
        "parallelism": row,
        "gpus_used": int(best.plans.gpus[i]),
        **({"pipeline_layers": stages} if stages else {}),
        "step_time_s": float(best.step_time_s[i]),
        "breakdown_s": best.step.as_dict(i),
        "tokens_per_s_per_gpu": float(best.tokens_per_s_per_gpu[i]),
        "mfu": float(best.mfu[i]),
        "hfu": float(best.hfu[i]),
        "memory_per_gpu_bytes": float(best.memory.total[i]),
        "memory_breakdown_bytes": best.memory.as_dict(i),
        "micro_batches": int(best.micro_batches[i]),
    }


def _with_ranges(report: dict[str, Any], band: Band | None, ceiling: float = float("inf")) -> dict[str, Any]:
    """``report`` with P10–P90 bands on its throughput, step time and MFU (``None`` without a band); the
    high end stops where MFU would pass ``ceiling`` (:func:`~stargate.training.interval.mfu_ceiling`)."""
    keys = ("tokens_per_s_per_gpu_range", "step_time_s_range", "mfu_range")
    if band is None:
        return {**report, **dict.fromkeys(keys)}
    if report.get("mfu"):
        band = band.capped(ceiling / report["mfu"])
    return {**report, "tokens_per_s_per_gpu_range": band.scale(report["tokens_per_s_per_gpu"]),
            "step_time_s_range": band.inverse(report["step_time_s"]), "mfu_range": band.scale(report["mfu"])}


def train(request: TrainRequest, catalog: Catalog | None = None) -> dict[str, Any]:
    """Find the fastest plan that fits and report it, with time and cost to train.

    Examples
    --------
    >>> from stargate.training.context import Workload
    >>> w = Workload(accelerator="h100", gpus=64, seq_len=8192, global_batch=512)
    >>> out = train(TrainRequest(model="llama3.1-8b", workload=w))
    >>> out["fits"], out["step_time_s"] > 0
    (True, True)
    """
    cat = catalog or Catalog.load()
    model, unused = load_model(request.model)
    ctx = resolve_context(model, request.workload, cat)
    fixed = {k: getattr(request, k) for k in ("tp", "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding")}
    result = search(ctx, fixed, request.top_k, batch_tolerance=request.batch_tolerance, largest_subset=True)
    w = request.workload
    if result.candidates_evaluated == 0:
        raise nothing_allowed(ctx, fixed)
    counts = usable_counts(ctx, fixed) if result.gpus_used < w.gpus else None
    if counts is not None and (request.use_subset or result.feasible > 0):
        _check_subset(request, result, counts)
    split = framework_rules(w.framework).pp_split
    used = result.gpus_used or w.gpus
    out: dict[str, Any] = {
        "model": model.name, "params_total": model.params_total, "params_active": model.params_active,
        "accelerator": ctx.accelerator.id, "gpus": w.gpus, "gpus_used": used, "idle_gpus": w.gpus - used,
        "seq_len": w.seq_len, "global_batch": result.global_batch or w.global_batch,
        **({"global_batch_requested": w.global_batch} if result.global_batch not in (0, w.global_batch) else {}),
        "precision": w.precision, "framework": w.framework,
        "search": {"candidates_evaluated": result.candidates_evaluated, "feasible": result.feasible,
                   "search_time_s": result.search_time_s, "gpus_most": result.gpus_most},
        "definitions": {"mfu": MFU_DEFINITION, "hfu": HFU_DEFINITION},
        "calibration": (f"kernel times measured on {ctx.accelerator.id} ({ctx.kernel_source.chip} tables); "
                        if ctx.calibrated else ctx.kernel_source.borrowed_from + "; ")
                       + "fitted constants: the catalog's training/default entry (docs/calibration.md)",
        "notes": ([f"config.json keys not used: {', '.join(unused)}"] if unused else []) + list(result.notes),
    }
    band = band_for(cat, model.moe is not None, w.precision)
    out["prediction_interval"] = band.as_dict() if band else None
    if result.feasible == 0:
        out.update(fits=False, step_time_s=None, tokens_per_s_per_gpu=None, mfu=None, parallelism=None,
                   tokens_per_s_per_gpu_range=None, step_time_s_range=None, mfu_range=None,
                   breakdown_s=None, memory_per_gpu_bytes=sum(result.smallest_memory.values()),
                   memory_breakdown_bytes=result.smallest_memory, usable_hbm_bytes=ctx.hbm_usable_bytes)
        above = counts.above if counts is not None else 0
        out["notes"].append(f"no plan fits: the least memory any plan needs is "
                            f"{sum(result.smallest_memory.values()) / 2**30:.0f} GiB per GPU, "
                            f"{ctx.hbm_usable_bytes / 2**30:.0f} GiB usable; use more GPUs"
                            + (f" (the fewest above {w.gpus:,} on which a plan fits: {above:,})" if above else ""))
        return out
    ceiling = mfu_ceiling(ctx.accelerator.id, w.precision, w.fp8_recipe, cat)
    best = _with_ranges(_plan_report(result.best, 0, ctx.peak_16bit_flops_per_s, model.n_layers, split), band, ceiling)
    out.update(fits=True, **best, usable_hbm_bytes=ctx.hbm_usable_bytes)
    out["alternatives"] = [_with_ranges(_plan_report(result.best, i, 0.0, model.n_layers, split), band, ceiling)
                           for i in range(1, len(result.best.plans))]
    for alt in out["alternatives"]:
        alt["step_time_vs_best"] = alt["step_time_s"] / best["step_time_s"] - 1.0
        alt["near_tie"] = alt["step_time_vs_best"] <= NEAR_TIE
    throughput = best["tokens_per_s_per_gpu"] * used
    tt_band = band.capped(ceiling / best["mfu"]) if band is not None and best["mfu"] else band
    out["time_to_train"] = _time_to_train(request, model.params_active, throughput, used, tt_band, ctx.accelerator.id, cat)
    return out


def _check_subset(request: TrainRequest, result: Any, counts: UsableCounts) -> None:
    """Refuse a GPU count no plan fits on whole: without ``use_subset``, with the nearest counts that
    work; with it, when not even a subset works (an :class:`InputError` on ``gpus`` either way)."""
    n, fw = request.workload.gpus, result.framework
    if request.use_subset and result.feasible == 0:
        above = f"; the fewest above on which one fits is {counts.above:,}" if counts.above else \
            f", nor on any count up to {2 * n:,}"
        raise InputError("gpus", n, f"a GPU count with a usable subset: no plan {fw} can run fits on {n:,} GPUs or "
                         f"fewer{above}")
    if not request.use_subset:
        near = " and ".join(f"{c:,} ({'below' if c < n else 'above'})" for c in (counts.below, counts.above) if c)
        raise InputError("gpus", n, f"a GPU count some plan {fw} can run uses whole and fits on, the nearest being "
                         f"{near}; or --use-subset to run on {counts.below:,} and leave {n - counts.below:,} idle")


def cost_design(request: TrainRequest, accelerator: str) -> DesignRequest:
    """The cluster whose TCO per GPU-hour prices the job: the job's GPUs of its accelerator on its fabric."""
    w = request.workload
    return DesignRequest(accelerator=accelerator, gpus=w.gpus, fabric=w.fabric)


def training_run(tokens: float, tokens_per_s: Any, used: int, tco_usd_per_gpu_hour: Any) -> dict[str, Any]:
    """Seconds, days, GPU-hours and cost to train ``tokens`` at ``tokens_per_s`` on ``used`` GPUs (arrays too).

    Examples
    --------
    >>> run = training_run(1e12, 1e6, 1000, 2.0)  # a million seconds on 1,000 GPUs at $2 per GPU-hour
    >>> run["days"], round(run["gpu_hours"]), round(run["cost_usd"])
    (11.574074074074074, 277778, 555556)
    """
    seconds = tokens / tokens_per_s
    return {"seconds": seconds, "days": seconds / 86400, "gpu_hours": seconds * used / 3600,
            "cost_usd": seconds * used / 3600 * tco_usd_per_gpu_hour}


def _time_to_train(request: TrainRequest, params_active: float, tokens_per_s: float, used: int, band: Band | None,
                   accelerator: str, cat: Catalog) -> dict[str, Any]:
    """Days, GPU-hours and cost to train the token budget at the plan's steady-state throughput."""
    w = request.workload
    tokens = request.tokens or CHINCHILLA_TOKENS_PER_PARAM * params_active
    tco = design_cluster(cost_design(request, accelerator), cat).tco_usd_per_gpu_hour
    run = training_run(tokens, tokens_per_s, used, tco)
    return {
        "tokens": tokens, "tokens_basis": "given" if request.tokens else "20 per active parameter (Chinchilla)",
        **run, "days_range": band.inverse(run["days"]) if band else None, "tco_usd_per_gpu_hour": tco,
        "basis": "steady-state throughput; failures and restarts not included" +
                 (f"; GPU-hours and cost of the {used:,} GPUs the plan uses ({w.gpus - used:,} idle not charged)"
                  if used < w.gpus else ""),
    }
