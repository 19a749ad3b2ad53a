"""A cluster's reference training job, and what reliability and distance cost it.

The plan (every phase of a build-out) and the sweep engine (every design point) judge a cluster
the same way: the fastest plan of a reference model on a job of GPUs and batch a parallel plan
can factor (:func:`job_shape`), the goodput of that job at Daly's checkpoint interval, and the
step time a data-parallel gradient all-reduce adds when the job spans several sites.
"""

from __future__ import annotations

from typing import Any

from stargate.catalog import Catalog
from stargate.enums import Fabric, Topology
from stargate.reliability.checkpoint import Goodput, optimal_goodput
from stargate.reliability.failures import interruptions

__all__ = ["job_goodput", "job_shape", "reference_job", "site_cost"]


def job_shape(gpus: int, batch: int) -> tuple[int, int]:
    """GPUs and global batch of the phase's reference job: sizes a parallel plan can factor.

    A job needs ``tp x pp x cp x dp`` GPUs and a batch that ``dp x mbs`` divides; an arbitrary
    cluster size (1,217,520) factors badly. The job takes the largest ``c x 2^k <= gpus`` with
    ``c`` in 1, 3, 5, 7, 9, 15, and a batch ``c x 2^j`` of at least the phase's batch and one
    sequence per 16 GPUs (data parallelism must grow with the machine).

    Examples
    --------
    >>> job_shape(1_217_520, 2048)
    (1179648, 73728)
    >>> job_shape(16384, 2048)
    (16384, 2048)
    """
    best = (0, 1)
    for c in (1, 3, 5, 7, 9, 15):
        if c > gpus:
            continue
        k = (gpus // c).bit_length() - 1
        best = max(best, (c * 2**k, c))
    used, c = best
    need = max(batch, used // 16)
    j = max(0, (max(need // c, 1) - 1).bit_length())
    while c * 2**j < need:
        j += 1
    return used, c * 2**j


def reference_job(model_name: str, accelerator: str, gpus: int, seq_len: int, global_batch: int, precision: str,
                  fabric: Fabric | str, topology: Topology | str, catalog: Catalog) -> tuple[dict[str, Any] | None, Any]:
    """Fastest plan of a model on the job :func:`job_shape` cuts from ``gpus`` (None when nothing fits).

    Returns the plan's figures (for the job's GPUs, ``gpus`` in the result) and the model.
    """
    from stargate.training.context import Workload, resolve_context
    from stargate.training.presets import load_model
    from stargate.training.search import search

    model, _ = load_model(model_name)
    used, batch = job_shape(gpus, global_batch)
    workload = Workload(accelerator=accelerator, gpus=used, seq_len=seq_len, global_batch=batch,
                        precision=precision, fabric=fabric, topology=topology)
    ctx = resolve_context(model, workload, catalog)
    r = search(ctx, top_k=1)
    if r.feasible == 0:
        return None, model
    b = r.best
    return {"mfu": float(b.mfu[0]), "step_time_s": float(b.step_time_s[0]), "parallelism": b.plans.row(0),
            "breakdown_s": b.step.as_dict(0), "memory_per_gpu_bytes": float(b.memory.total[0]),
            "calibrated": ctx.calibrated, "kernel_source": ctx.kernel_source.borrowed_from, "gpus": used,
            "global_batch": batch, "tokens_per_s_per_gpu": float(b.tokens_per_s_per_gpu[0])}, model


def job_goodput(gpus: int, params: float, catalog: Catalog, storage: str = "default", spare_fraction: float = 0.0) -> Goodput:
    """Goodput of one job on ``gpus`` GPUs training ``params`` parameters: failure rates and restart
    from the catalog, checkpoints written at the storage's bandwidth, Daly's interval.

    Examples
    --------
    >>> round(job_goodput(16384, 405e9, Catalog.load()).goodput, 2)
    0.93
    """
    rec = catalog.get("recovery", "default", "recovery")
    write_bw = catalog.storage(storage).write_bw_bytes_per_s_per_gpu * gpus
    return optimal_goodput(params * rec.checkpoint_bytes_per_param, write_bw, rec.restart_s,  # type: ignore[attr-defined]
                           interruptions(gpus, catalog).mtbf_s, spare_fraction)


def site_cost(accelerator: str, fabric: Fabric | str, gpus: int, sites: int, distance_m: float, params: float,
              catalog: Catalog) -> Any:
    """What spreading the job over ``sites`` sites costs a 16-bit gradient of ``params`` parameters."""
    from stargate.fabric.design import FabricRequest, plan_fabric
    from stargate.fabric.multisite import MultiSiteRequest, multisite

    plan = plan_fabric(FabricRequest(gpus=gpus, fabric=fabric, accelerator=accelerator), catalog)
    req = MultiSiteRequest(sites=sites, distance_m=distance_m, gradient_bytes=2.0 * params)
    return multisite(req, gpus, plan, catalog)
