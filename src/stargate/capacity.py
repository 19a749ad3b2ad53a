"""What a cluster serves of a reference workload: a chip's per-GPU rate, scaled to a phase's GPUs.

The serving search (:func:`stargate.inference.serve`) finds the best deployment of a model on a
number of GPUs. Its per-GPU answer does not depend on how many replicas there are, only on the
largest replica it may use: every replica layout is ``tp x pp`` GPUs with both powers of two, so
on ``2 R`` GPUs (``R`` the replica cap, a power of two) every layout up to ``R`` tiles the GPUs
exactly, and a disaggregated deployment's prefill and decode pools both fit. :func:`serving_rate`
therefore searches once per (accelerator, workload) on :func:`deployment_gpus` GPUs, a replica of
at most :data:`REPLICA_DOMAINS` scale-up domains, and :func:`capacity` scales the answer per GPU
to however many GPUs serve: a million-GPU phase costs what a 1,024-GPU deployment does. A phase
whose count is not a multiple of the chosen replica idles fewer than ``R`` GPUs more than the
scaled answer assumes (under 0.1% of any phase of 10^5 GPUs or more), and the rounding of
disaggregated pools to whole replicas costs the searched deployment under 1% that a larger one does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.inference import ServingRequest, ServingResult, serve
from stargate.scenario import ServingWorkload
from stargate.training.model import ModelSpec

__all__ = ["REPLICA_DOMAINS", "ServingRate", "capacity", "deployment_gpus", "serving_figures", "serving_gpus", "serving_rate"]

REPLICA_DOMAINS = 4
"""Most scale-up domains one serving replica spans (rounded up to a power of two in GPUs)."""
MIN_REPLICA_GPUS = 256
"""Largest replica at least this many GPUs: DeepSeek serves V3's decode on units of 320 GPUs with
experts spread over all of them (arXiv:2412.19437 §3.4.2); the search's widest expert-parallel group is 256."""
WIDER = {"fp4": "fp8", "fp8": "bf16"}
"""The next wider format, where a chip has no matrix units for the workload's."""


@dataclass(frozen=True)
class ServingRate:
    """A chip's serving answer on a workload, per GPU (``result`` None when the chip cannot serve it)."""

    accelerator: str
    result: ServingResult | None
    precision: str
    """Format served at (the workload's, or the next wider one the chip has)."""
    gpus: int
    """GPUs of the deployment searched."""
    notes: tuple[str, ...] = ()


def deployment_gpus(scale_up_domain: int, gpus: int | None = None) -> tuple[int, int]:
    """GPUs to search and the replica cap: ``2 R`` and ``R``, the smallest power of two holding
    :data:`REPLICA_DOMAINS` domains and :data:`MIN_REPLICA_GPUS` GPUs (fewer when ``gpus`` is smaller:
    then exactly ``gpus``).

    Examples
    --------
    >>> deployment_gpus(8), deployment_gpus(72), deployment_gpus(72, gpus=300)
    ((512, 256), (1024, 512), (300, 300))
    """
    cap = max(1 << (REPLICA_DOMAINS * scale_up_domain - 1).bit_length(), MIN_REPLICA_GPUS)
    if gpus is not None and gpus < 2 * cap:
        return gpus, gpus
    return 2 * cap, cap


def serving_gpus(gpus: Any, share: float | None, scale_up_domain: int) -> Any:
    """GPUs of a phase that serve: all of them without a share, else the share rounded down to whole domains
    (arrays of GPU counts too).

    Examples
    --------
    >>> serving_gpus(119_376, None, 72), serving_gpus(119_376, 0.25, 72), serving_gpus(100, 0.0, 8)
    (119376, 29808, 0)
    >>> serving_gpus(np.array([119_376.0, 119_448.0]), 0.25, 72).tolist()
    [29808.0, 29808.0]
    """
    if share is None:
        return gpus
    if np.ndim(gpus):
        return np.floor_divide(share * gpus, scale_up_domain) * scale_up_domain
    return int(share * gpus // scale_up_domain) * scale_up_domain


def serving_rate(model: ModelSpec, accelerator: str, workload: ServingWorkload, catalog: Catalog,
                 gpus: int | None = None) -> ServingRate:
    """The serving search for ``workload`` on a replica-sized deployment of ``accelerator``.

    ``gpus`` (the GPUs that will serve) only matters when it is smaller than the deployment
    :func:`deployment_gpus` gives. A chip without matrix units for the workload's format serves at
    the next wider one; one that has none of them, or too little memory for the model on the
    largest replica, gets ``result=None`` and a note saying why.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> r = serving_rate(preset("llama3.1-70b"), "a100-80g", ServingWorkload(model="llama3.1-70b"), Catalog.load())
    >>> r.precision, r.gpus, r.result.meets_limits
    ('bf16', 512, True)
    """
    acc = catalog.accelerator(accelerator)
    n, cap = deployment_gpus(acc.scale_up_domain, gpus)
    tried: list[Any] = [workload.precision]
    while True:
        precision = tried[-1]
        req = ServingRequest(accelerator=acc.id, gpus=n, max_replica_gpus=cap, input_tokens=workload.input_tokens,
                             output_tokens=workload.output_tokens, ttft_s=workload.ttft_s, tpot_s=workload.tpot_s,
                             tokens_per_user=workload.tokens_per_user, precision=precision)
        try:
            result = serve(model, req, catalog)
        except InputError as e:
            if e.field == "precision" and precision in WIDER:
                tried.append(WIDER[precision])
                continue
            why = (f"no {' or '.join(tried)} matrix units" if e.field == "precision"
                   else f"no deployment of up to {cap:,} GPUs holds it in {precision}")
            return ServingRate(acc.id, None, precision, n, (f"{acc.id} cannot serve {model.name}: {why}",))
        wider = (f"{acc.id} has no {tried[0]} matrix units: serves {model.name} at {precision}",) if len(tried) > 1 else ()
        return ServingRate(acc.id, result, precision, n, (*wider, *result.notes))


def capacity(rate: ServingRate, gpus: int, phase_gpus: int, tco_usd_per_gpu_hour: float,
             facility_power_w: float) -> dict[str, Any] | None:
    """A phase's serving figures: the chip's per-GPU answer on ``gpus`` serving GPUs of ``phase_gpus``.

    Tokens are generated (output) tokens, as in MLPerf Inference's throughput metric; the price
    charges all of a serving GPU's time (``tco_usd_per_gpu_hour``, prompts included) to them, and
    tokens per MW divide by the facility power of the GPUs that serve (the phase's per GPU).

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> r = serving_rate(preset("llama3.1-70b"), "h100", ServingWorkload(model="llama3.1-70b"), Catalog.load())
    >>> c = capacity(r, 1000, 1000, 2.0, 1.5e6)
    >>> c["tokens_per_day"] == c["tokens_per_s"] * 86400
    True
    >>> round(c["usd_per_million_tokens"] * c["tokens_per_s_per_gpu"] * 3600 / 1e6, 6)
    2.0
    """
    r = rate.result
    if r is None:
        return None
    return {
        "serving_gpus": gpus, "serving_share": gpus / phase_gpus,
        **serving_figures(r.tokens_per_s_per_gpu, gpus, phase_gpus, tco_usd_per_gpu_hour, facility_power_w),
        "users": r.concurrent_users / r.gpus * gpus,
        "requests_per_day": r.requests_per_s / r.gpus * gpus * 86400.0,
        "ttft_p99_s": r.ttft_p99_s, "tpot_p99_s": r.tpot_p99_s, "tokens_per_s_per_user": 1.0 / r.tpot_s,
        "meets_limits": r.meets_limits, "precision": rate.precision, "model": r.model, "deployment": r.deployment.as_dict(),
        "deployment_gpus": r.gpus, "calibrated": r.calibrated, "frontier": r.frontier,
    }


def serving_figures(tokens_per_s_per_gpu: Any, gpus: Any, phase_gpus: Any, tco_usd_per_gpu_hour: Any,
                    facility_power_w: Any) -> dict[str, Any]:
    """A phase's serving rate, tokens per day, price per million tokens and tokens per MW from a per-GPU
    rate (floats, or arrays of samples of each).

    Examples
    --------
    >>> f = serving_figures(1000.0, 100, 100, 3.6, 1.5e5)
    >>> f["tokens_per_day"], f["usd_per_million_tokens"], f["tokens_per_mw"]
    (8640000000.0, 1.0, 666666.6666666666)
    """
    tokens_per_s = tokens_per_s_per_gpu * gpus
    return {"tokens_per_s": tokens_per_s, "tokens_per_day": tokens_per_s * 86400.0,
            "tokens_per_s_per_gpu": tokens_per_s_per_gpu,
            "usd_per_million_tokens": tco_usd_per_gpu_hour / 3600.0 / tokens_per_s_per_gpu * 1e6,
            "tokens_per_mw": tokens_per_s_per_gpu / (facility_power_w / phase_gpus) * 1e6}
