"""A cluster's reference training jobs, and what reliability and distance cost them.

The plan (every phase of a build-out) and the sweep engine (every design point) judge a cluster
the same way: the phase's GPUs, less its warm spares, run one or more concurrent jobs
(:func:`job_layout`), each of a size and batch a parallel plan can factor (:func:`job_shape`);
the fastest plan of a reference model on one job gives the MFU, the best recovery strategy the
scenario allows gives the goodput of a job of that size (:mod:`stargate.reliability.strategies`),
and a data-parallel gradient all-reduce between sites adds step time when the job spans several.

Jobs as they are run: a global batch grows with data parallelism only up to what frontier runs
use. The cap is DeepSeek-V3's 15,360 sequences of 4,096 tokens (62.9M tokens; DeepSeek-AI,
arXiv:2412.19437, sec. 4.2), the largest published (Llama 3 405B: 16M tokens, arXiv:2407.21783,
Table 4); a job gets at least one sequence per 8 GPUs (Llama 3 405B: 2,048 sequences of 8,192
tokens on 16,384 GPUs), so one job takes at most 8 x the capped batch in GPUs and a larger phase
runs several jobs side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stargate.catalog import Catalog
from stargate.enums import Fabric, Topology
from stargate.inputs import SITE_FIBER_PAIRS
from stargate.reliability.strategies import StrategyResult, best_strategy

__all__ = ["BATCH_CAP_TOKENS", "GPUS_PER_SEQUENCE", "JobLayout", "job_goodput", "job_layout", "job_shape",
           "reference_job", "site_cost"]

BATCH_CAP_TOKENS = 15_360 * 4_096
"""Largest published global batch (tokens): DeepSeek-V3, 15,360 x 4,096 (arXiv:2412.19437, sec. 4.2)."""
GPUS_PER_SEQUENCE = 8
"""At most this many GPUs per sequence of the global batch: Llama 3 405B, 16,384 GPUs / 2,048 sequences."""


def job_shape(gpus: int, batch: int, max_batch: int | None = None) -> tuple[int, int]:
    """GPUs and global batch of one reference job: sizes a parallel plan can factor.

    A job needs ``tp x pp x cp x dp`` GPUs and a batch that ``dp x mbs`` divides; an arbitrary
    cluster size (1,217,520) factors badly. The job takes the largest ``c x 2^k <= gpus`` with
    ``c`` in 1, 3, 5, 7, 9, 11, 13, 15, and a batch ``c x 2^j`` of at least the phase's batch and one
    sequence per :data:`GPUS_PER_SEQUENCE` GPUs, but no more than ``max_batch`` (when the phase's
    own batch is not already larger). The doctest's first batch was 73,728 while the rule was one
    sequence per 16 GPUs (an assumption); 8 is Llama 3's measured ratio.

    Examples
    --------
    >>> job_shape(1_217_520, 2048)
    (1179648, 147456)
    >>> job_shape(16384, 2048)
    (16384, 2048)
    >>> job_shape(57_729, 2048, max_batch=7680)
    (57344, 7168)
    """
    best = (0, 1)
    for c in (1, 3, 5, 7, 9, 11, 13, 15):
        if c > gpus:
            continue
        k = (gpus // c).bit_length() - 1
        best = max(best, (c * 2**k, c))
    used, c = best
    need = max(batch, used // GPUS_PER_SEQUENCE)
    if max_batch is not None:
        need = max(batch, min(need, max_batch))
    j = max(0, (max(need // c, 1) - 1).bit_length())
    while c * 2**j < need:
        j += 1
    if max_batch is not None and batch <= max_batch:
        while j > 0 and c * 2**j > max_batch:
            j -= 1
    return used, c * 2**j


@dataclass(frozen=True, slots=True)
class JobLayout:
    """How a phase's GPUs are used: concurrent jobs of equal size."""

    jobs: int
    gpus: int
    """GPUs of each job."""
    global_batch: int
    """Global batch of each job (sequences)."""


def job_layout(gpus: int, batch: int, seq_len: int) -> JobLayout:
    """Concurrent jobs a phase of ``gpus`` (spares left out) runs at a frontier batch.

    Examples
    --------
    >>> job_layout(16384, 2048, 8192)  # Llama 3: one job
    JobLayout(jobs=1, gpus=16384, global_batch=2048)
    >>> job_layout(877_104, 2048, 8192)  # a million-GPU phase: 15 jobs of 57k GPUs, 59M tokens each
    JobLayout(jobs=15, gpus=57344, global_batch=7168)
    """
    cap = max(BATCH_CAP_TOKENS // seq_len, batch, 1)
    jobs = max(1, math.ceil(gpus / (GPUS_PER_SEQUENCE * cap)))
    used, b = job_shape(gpus // jobs, batch, cap)
    return JobLayout(jobs, used, b)


def reference_job(model_name: str, accelerator: str, gpus: int, seq_len: int, global_batch: int, precision: str,
                  fabric: Fabric | str, topology: Topology | str, catalog: Catalog,
                  scale_out_bits_per_s: float | None = None) -> tuple[dict[str, Any] | None, Any]:
    """Fastest plan of a model on one of the jobs :func:`job_layout` cuts from ``gpus`` (None when nothing fits).

    Returns the plan's figures (for one job: ``gpus`` GPUs, ``jobs`` of them) and the model.
    ``scale_out_bits_per_s`` is the GPUs' scale-out rate where the cluster's differs from the accelerator's.
    """
    from stargate.training.context import Workload, resolve_context
    from stargate.training.presets import load_model
    from stargate.training.search import search

    model, _ = load_model(model_name)
    layout = job_layout(gpus, global_batch, seq_len)
    used, batch = layout.gpus, layout.global_batch
    workload = Workload(accelerator=accelerator, gpus=used, seq_len=seq_len, global_batch=batch,
                        precision=precision, fabric=fabric, topology=topology, scale_out_bits_per_s=scale_out_bits_per_s)
    ctx = resolve_context(model, workload, catalog)
    r = search(ctx, top_k=1)
    if r.feasible == 0:
        return None, model
    b = r.best
    return {"mfu": float(b.mfu[0]), "step_time_s": float(b.step_time_s[0]), "parallelism": b.plans.row(0),
            "breakdown_s": b.step.as_dict(0), "memory_per_gpu_bytes": float(b.memory.total[0]),
            "calibrated": ctx.calibrated, "kernel_source": ctx.kernel_source.borrowed_from, "gpus": used, "jobs": layout.jobs,
            "global_batch": batch, "tokens_per_s_per_gpu": float(b.tokens_per_s_per_gpu[0])}, model


def job_goodput(gpus: int, params: float, catalog: Catalog, storage: str = "default", spare_fraction: float = 0.0,
                strategy: str | list[str] | None = None, replica_gpus: int | None = None, domain_gpus: int = 8,
                spares: bool = True, field: str = "recovery") -> StrategyResult:
    """Goodput of one job on ``gpus`` GPUs training ``params`` parameters, by the best recovery
    strategy allowed (``strategy``: an id or ids; None: any), with its breakdown.

    ``replica_gpus`` defaults to one NVLink domain (``domain_gpus``).

    Examples
    --------
    >>> round(job_goodput(16384, 405e9, Catalog.load(), strategy="storage-restart").goodput, 2)
    0.93
    """
    best, _ = best_strategy(gpus, params, catalog, strategy, field, storage=storage,
                            replica_gpus=replica_gpus or domain_gpus, domain_gpus=domain_gpus,
                            spare_fraction=spare_fraction, spares=spares)
    return best


def site_cost(accelerator: str, fabric: Fabric | str, gpus: int, sites: int, distance_m: float, params: float,
              catalog: Catalog, fiber_pairs: int = SITE_FIBER_PAIRS) -> Any:
    """What spreading the job over ``sites`` sites, ``fiber_pairs`` fibre pairs per link, costs a
    16-bit gradient of ``params`` parameters."""
    from stargate.fabric.design import FabricRequest, plan_fabric
    from stargate.fabric.multisite import MultiSiteRequest, multisite
    from stargate.scenario import validate

    plan = plan_fabric(FabricRequest(gpus=gpus, fabric=fabric, accelerator=accelerator), catalog)
    req = validate(MultiSiteRequest, {"sites": sites, "distance_m": distance_m, "gradient_bytes": 2.0 * params,
                                      "fiber_pairs": fiber_pairs})
    return multisite(req, gpus, plan, catalog)
