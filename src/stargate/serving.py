"""One serving question, end to end: what a machine serves of a model, to how many users, at what cost.

``stargate infer`` runs :func:`infer`. The machine is given as a GPU count, or sized like
``stargate design`` by a budget or a facility power cap; the serving model
(:func:`stargate.inference.serve`) finds the best deployment under the latency limits and the
throughput–interactivity frontier; the economics come from a cluster of those accelerators designed
by :func:`stargate.cluster.design.design_cluster` (its TCO per GPU-hour and its facility power per GPU).

Definitions (every token count here is of *output* tokens unless the key says ``input``):

- ``tokens_per_mw``: output tokens per second per megawatt of facility power (IT power x PUE) of the
  GPUs serving;
- ``usd_per_million_tokens``: TCO per GPU-hour x GPUs / (output tokens/s x 3600) x 1e6, all the GPU time
  (prefill included) charged to the output tokens;
- ``usd_per_million_input_tokens`` and ``usd_per_million_output_tokens``: the same cost split by the
  share of GPU time spent on prefill (``prefill_time_share``), charged to the input and the output
  tokens respectively.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.inference import ServingRequest, ServingResult, serve
from stargate.inference.request import MAX_LATENCY_S
from stargate.inputs import MAX_GPUS, MAX_POWER_W
from stargate.scenario import Usd
from stargate.units import Count, Seconds, Watts

__all__ = ["InferRequest", "design_for", "design_request", "economics", "infer"]

Latency = Annotated[Seconds, Field(le=MAX_LATENCY_S)]


class InferRequest(ServingRequest):
    """A serving question: a model on a machine given by its GPU count, or sized by a budget or power cap.

    The fields of :class:`~stargate.inference.ServingRequest` (workload, limits, formats), with
    latencies that also read as times with a unit (``"200 ms"``), plus the model and the sizing.

    Examples
    --------
    >>> r = InferRequest(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens="1k",
    ...                  output_tokens=1024, ttft_s="500 ms")
    >>> r.input_tokens, r.ttft_s
    (1000.0, 0.5)
    """

    model: str
    """Preset name or path to a Hugging Face config.json."""
    gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)] | None = None  # type: ignore[assignment]  # or sized by budget, power
    """Accelerators serving the model (all replicas together); or size by ``budget_usd`` or ``power_w``."""
    budget_usd: Usd | None = None
    """Size the machine by its capital budget (USD), as ``stargate design --budget``."""
    power_w: Annotated[Watts, Field(le=MAX_POWER_W)] | None = None
    """Size the machine by its facility power cap (W), as ``stargate design --power``."""
    energy_source: str = "grid-us"
    """Energy source id of the designed cluster (its electricity price enters the TCO)."""
    ttft_s: Latency | None = None
    """Limit on the time to first token (s, at the 99th percentile), or a time such as ``"500 ms"``; none: no limit."""
    tpot_s: Latency | None = None
    """Limit on the time per output token after the first (s, at the 99th percentile), or ``"50 ms"``; none: no limit."""


def design_for(request: InferRequest, cat: Catalog) -> Any:
    """The cluster the economics come from: of ``request.gpus`` accelerators, or sized by budget or power."""
    from stargate.cluster.design import design_cluster

    return design_cluster(design_request(request), cat)


def design_request(request: InferRequest) -> Any:
    """The :class:`~stargate.scenario.DesignRequest` of the cluster the economics come from."""
    from stargate.scenario import DesignRequest, validate

    sizing = {k: getattr(request, k) for k in ("gpus", "budget_usd", "power_w") if getattr(request, k) is not None}
    if len(sizing) != 1:
        raise InputError("sizing", ", ".join(sizing) or "none", "exactly one of gpus, budget, power")
    fields = {"accelerator": request.accelerator, "fabric": request.fabric, "energy_source": request.energy_source,
              "scale_out_bits_per_s": request.scale_out_bits_per_s, **sizing}
    return validate(DesignRequest, {k: v for k, v in fields.items() if v is not None})


def economics(tokens_per_s: Any, input_tokens: float, output_tokens: float, prefill_time_share: float, gpus: Any,
              tco_usd_per_gpu_hour: Any, facility_power_w: Any) -> dict[str, Any]:
    """Tokens per MW and dollars per million tokens of a deployment.

    Parameters
    ----------
    tokens_per_s : float
        Output tokens per second of the deployment.
    input_tokens, output_tokens : float
        Mean prompt and generated lengths (tokens per request).
    prefill_time_share : float
        Share of the GPU time spent on prefill (charged to the input tokens).
    gpus : int
        Accelerators of the deployment.
    tco_usd_per_gpu_hour : float
        Total cost of ownership per GPU-hour.
    facility_power_w : float
        Facility power of the deployment (IT power x PUE).

    Examples
    --------
    >>> e = economics(8000.0, 1000, 1000, 0.25, 8, 2.0, 16e3)
    >>> round(e["usd_per_million_tokens"], 4)  # $16 an hour for 28.8 M tokens
    0.5556
    >>> e["tokens_per_mw"]  # 8,000 tokens/s on 16 kW
    500000.0
    >>> round(e["usd_per_million_input_tokens"] + e["usd_per_million_output_tokens"], 4)  # I = O: the split adds up
    0.5556
    """
    usd_per_s = tco_usd_per_gpu_hour * gpus / 3600.0
    input_per_s = tokens_per_s * input_tokens / output_tokens
    return {
        "tokens_per_mw": tokens_per_s / (facility_power_w / 1e6),
        "usd_per_million_tokens": usd_per_s / tokens_per_s * 1e6,
        "usd_per_million_input_tokens": usd_per_s * prefill_time_share / input_per_s * 1e6,
        "usd_per_million_output_tokens": usd_per_s * (1.0 - prefill_time_share) / tokens_per_s * 1e6,
        "tokens_per_day": tokens_per_s * 86400.0,
    }


def _answer(r: ServingResult) -> dict[str, Any]:
    """The serving model's figures under the contract's keys."""
    return {
        "meets_limits": r.meets_limits, "tokens_per_s_per_gpu": r.tokens_per_s_per_gpu, "tokens_per_s": r.tokens_per_s,
        "tokens_per_s_per_replica": r.tokens_per_s / r.deployment.replicas, "tokens_per_s_per_user": 1.0 / r.tpot_s,
        "ttft_s": r.ttft_s, "tpot_s": r.tpot_s, "ttft_p99_s": r.ttft_p99_s, "tpot_p99_s": r.tpot_p99_s,
        "max_concurrency": r.max_concurrency, "concurrent_users": r.concurrent_users, "requests_per_s": r.requests_per_s,
        "kv_cache_bytes_per_gpu": r.kv_cache_bytes_per_gpu, "kv_bytes_per_token": r.kv_bytes_per_token,
        "weight_bytes_per_gpu": r.weight_bytes_per_gpu, "prefill_time_share": r.prefill_time_share,
        "deployment": r.deployment.as_dict(), "frontier": r.frontier,
    }


def _echo(request: InferRequest) -> dict[str, Any]:
    """The workload and limits as read (SI), with the TPOT limit in effect."""
    keys = ("input_tokens", "output_tokens", "ttft_s", "tpot_s", "tokens_per_user", "precision", "disaggregated",
            "framework")
    out = {k: getattr(request, k) for k in keys}
    return {**out, "kv_dtype": request.kv_cache_dtype, "tpot_limit_s": request.tpot_limit_s,
            "fabric": request.fabric.value}


def infer(request: InferRequest, catalog: Catalog | None = None) -> dict[str, Any]:
    """Serving capacity of a machine for one model and workload, with its economics.

    Returns the JSON of ``stargate infer --json``: the best deployment under the p99 limits, the
    throughput–interactivity frontier, tokens per MW of facility power and dollars per million tokens.

    Examples
    --------
    >>> out = infer(InferRequest(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens=1024,
    ...                          output_tokens=1024, tokens_per_user=20))
    >>> out["meets_limits"], out["tpot_p99_s"] <= 1 / 20
    (True, True)
    >>> abs(out["tokens_per_s"] - 8 * out["tokens_per_s_per_gpu"]) < 1e-6 * out["tokens_per_s"]
    True
    """
    from stargate.scenario import validate
    from stargate.training.presets import load_model

    cat = catalog or Catalog.load()
    model, unused = load_model(request.model)
    design = design_for(request, cat)
    gpus = request.gpus or design.gpus
    fields = request.model_dump(include=set(ServingRequest.model_fields))
    result = serve(model, validate(ServingRequest, {**fields, "gpus": gpus}), cat)
    facility_w = design.facility_power_w * gpus / design.gpus  # the serving GPUs' share of a whole-system design
    econ = economics(result.tokens_per_s, request.input_tokens, request.output_tokens, result.prefill_time_share, gpus,
                     design.tco_usd_per_gpu_hour, facility_w)
    notes = [f"config.json keys not used: {', '.join(unused)}"] if unused else []
    notes += list(result.notes)
    if design.gpus != gpus:
        notes.append(f"economics from a {design.gpus:,}-GPU design (whole {design.system} systems), "
                     f"prorated to the {gpus:,} GPUs serving")
    return {
        "model": model.name, "params_total": model.params_total, "params_active": model.params_active,
        "accelerator": result.accelerator, "gpus": gpus, "request": _echo(request), **_answer(result),
        "facility_power_w": facility_w, "tco_usd_per_gpu_hour": design.tco_usd_per_gpu_hour, **econ,
        "design": {"gpus": design.gpus, "system": design.system, "pue": design.pue,
                   "facility_power_w": design.facility_power_w, "capex_usd": design.capex_usd},
        "calibrated": result.calibrated, "notes": notes,
    }
