"""Serving capacity of one deployment: the best point under the limits, and the whole frontier."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.inference.context import ServingContext, calibration, resolve_serving
from stargate.inference.kv import kv_bytes_per_token, kv_claim_per_sequence, kv_ranks
from stargate.inference.request import ServingRequest
from stargate.inference.search import Points, points
from stargate.training.model import ModelSpec

__all__ = ["Deployment", "ServingResult", "best_index", "frontier", "meets_limits", "p99_latencies", "serve"]


@dataclass(frozen=True)
class Deployment:
    """How the GPUs are used at the chosen point."""

    tp: int
    pp: int
    ep: int
    attention_dp: bool
    """Attention data parallelism (each tensor rank serves its own sequences' attention)."""
    replica_gpus: int
    replicas: int
    """Decode replicas (aggregated: all replicas)."""
    batch: int
    """Sequences in flight per decode replica."""
    disaggregated: bool
    prefill_share: float
    """Share of the GPUs in prefill replicas (0 when aggregated)."""
    prefill_layout: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (the ``deployment`` object of the contract)."""
        split = f"{self.prefill_share:.0%}:{1 - self.prefill_share:.0%}" if self.disaggregated else "aggregated"
        return {"tp": self.tp, "pp": self.pp, "ep": self.ep, "attention_dp": self.attention_dp,
                "replica_gpus": self.replica_gpus, "replicas": self.replicas, "batch": self.batch,
                "disaggregated": self.disaggregated, "prefill_share": self.prefill_share,
                "prefill_decode_split": split, "prefill_layout": self.prefill_layout}


@dataclass(frozen=True)
class ServingResult:
    """What a deployment serves at its best point under the limits."""

    model: str
    accelerator: str
    gpus: int
    meets_limits: bool
    """Whether some point met the TTFT/TPOT limits (when none does, the best point ignores them)."""
    tokens_per_s_per_gpu: float
    """Output tokens per second per GPU (idle GPUs counted)."""
    tokens_per_s: float
    """Output tokens per second of the deployment."""
    ttft_s: float
    """Mean time to first token."""
    tpot_s: float
    """Mean time per output token."""
    ttft_p99_s: float
    tpot_p99_s: float
    max_concurrency: int
    """Most sequences the deployment's KV cache holds at the workload's mean context (all replicas)."""
    kv_cache_bytes_per_gpu: float
    """KV cache held per GPU at the chosen point."""
    kv_bytes_per_token: float
    weight_bytes_per_gpu: float
    requests_per_s: float
    concurrent_users: float
    """Sequences in flight at the chosen point (all replicas): users being served at once."""
    prefill_time_share: float
    """Share of the GPU time spent on prefill: the input tokens' share of the cost."""
    deployment: Deployment
    frontier: list[dict[str, float]]
    """Throughput–interactivity frontier: tokens/s per GPU against tokens/s per user, best first by interactivity."""
    calibrated: bool
    notes: tuple[str, ...] = ()


def frontier(p: Points, ttft_limit_s: float | None = None, ctx: ServingContext | None = None) -> np.ndarray:
    """Indices of the Pareto-best points (most tokens/s per GPU for each tokens/s per user), fastest user first.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_serving(preset("llama3.1-8b"), ServingRequest(accelerator="h100", gpus=1,
    ...                       input_tokens=512, output_tokens=128))
    >>> p = points(ctx)
    >>> f = frontier(p)
    >>> bool(np.all(np.diff(p.tokens_per_s_per_gpu[f]) > 0))  # slower users, more throughput
    True
    """
    idx = np.flatnonzero(meets_limits(p, ttft_limit_s, None, ctx))
    order = idx[np.lexsort((-p.tokens_per_s_per_gpu[idx], -p.tokens_per_s_per_user[idx]))]
    rate = p.tokens_per_s_per_gpu[order]
    before = np.concatenate([[-np.inf], np.maximum.accumulate(rate)[:-1]])  # the best of every faster point
    return order[rate > before]


def p99_latencies(ttft_s: Any, tpot_s: Any, ctx: ServingContext | None = None) -> tuple[Any, Any]:
    """p99 TTFT and TPOT from the model's means: times the measured p99/mean ratios (``calibration.yaml``).

    Examples
    --------
    >>> p99_latencies(1.0, 0.01)
    (2.16, 0.0117)
    """
    cal = ctx.constants if ctx is not None else calibration()
    return ttft_s * float(cal["ttft_p99_over_mean"]), tpot_s * float(cal["tpot_p99_over_mean"])


def meets_limits(p: Points, ttft_limit_s: float | None, tpot_limit_s: float | None,
                 ctx: ServingContext | None = None) -> np.ndarray:
    """Which points meet the p99 limits given (a limit of None always holds)."""
    ttft, tpot = p99_latencies(p.ttft_s, p.tpot_s, ctx)
    ok = np.ones(len(p.batch), bool)
    if ttft_limit_s is not None:
        ok &= ttft <= ttft_limit_s
    if tpot_limit_s is not None:
        ok &= tpot <= tpot_limit_s
    return ok


def best_index(p: Points, ttft_limit_s: float | None, tpot_limit_s: float | None,
               ctx: ServingContext | None = None) -> tuple[int, bool]:
    """The point with the most tokens/s per GPU among those meeting the limits (p99 = mean x measured ratio)."""
    ok = meets_limits(p, ttft_limit_s, tpot_limit_s, ctx)
    if not ok.any():
        return int(np.argmin(p.tpot_s)), False
    return int(np.argmax(np.where(ok, p.tokens_per_s_per_gpu, -np.inf))), True


def _deployment(ctx: ServingContext, p: Points, i: int) -> Deployment:
    g = int(p.layout.gpus[i])
    dis = bool(p.disaggregated[i])
    share = float(p.prefill_share[i])
    replicas = int(np.floor(ctx.request.gpus * (1.0 - share) / g)) if dis else ctx.request.gpus // g
    pl = p.prefill_layout
    pf = {"tp": int(pl.tp[i]), "pp": int(pl.pp[i]), "ep": int(pl.ep[i]), "attention_dp": bool(pl.adp[i])} if dis else {}
    return Deployment(int(p.layout.tp[i]), int(p.layout.pp[i]), int(p.layout.ep[i]), bool(p.layout.adp[i]), g,
                      max(replicas, 1), int(p.batch[i]), dis, share, pf)


def serve(model: ModelSpec, request: ServingRequest, catalog: Catalog | None = None) -> ServingResult:
    """Serving capacity of ``model`` on ``request.gpus`` accelerators for ``request``'s workload.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> r = serve(preset("llama3.1-70b"), ServingRequest(accelerator="h200", gpus=8, input_tokens=1024,
    ...           output_tokens=1024, tokens_per_user=20))
    >>> r.meets_limits, r.tpot_p99_s <= 0.05
    (True, True)
    >>> r.tokens_per_s == r.tokens_per_s_per_gpu * 8
    True
    """
    ctx = resolve_serving(model, request, catalog)
    p = points(ctx)
    i, met = best_index(p, request.ttft_s, request.tpot_limit_s, ctx)
    ttft_p99, tpot_p99 = p99_latencies(float(p.ttft_s[i]), float(p.tpot_s[i]), ctx)
    f = frontier(p, request.ttft_s, ctx)
    dep = _deployment(ctx, p, i)
    ctx_tokens = request.decode_context_tokens
    seq = kv_claim_per_sequence(model, ctx_tokens, ctx.kv_dtype, request.framework)
    free = max(ctx.hbm_usable_bytes - ctx.memory_reserve_bytes - float(p.weight_bytes_per_gpu[i]), 0.0)
    lay = p.layout
    per_replica = free * float(lay.pp[i]) * kv_ranks(model, float(lay.tp[i]), bool(lay.adp[i])) / seq
    tps = float(p.tokens_per_s_per_gpu[i]) * request.gpus
    notes = ([] if ctx.calibrated else [ctx.kernel_source.borrowed_from]) + list(ctx.notes)
    if not met:
        notes.append("no deployment meets the latency limits; the fastest point per user is shown")
    return ServingResult(
        model=model.name, accelerator=ctx.accelerator.id, gpus=request.gpus, meets_limits=met,
        tokens_per_s_per_gpu=float(p.tokens_per_s_per_gpu[i]), tokens_per_s=tps, ttft_s=float(p.ttft_s[i]),
        tpot_s=float(p.tpot_s[i]), ttft_p99_s=ttft_p99, tpot_p99_s=tpot_p99,
        max_concurrency=int(per_replica) * dep.replicas,
        kv_cache_bytes_per_gpu=float(p.kv_bytes_per_gpu[i]), kv_bytes_per_token=kv_bytes_per_token(model, ctx.kv_dtype),
        weight_bytes_per_gpu=float(p.weight_bytes_per_gpu[i]), requests_per_s=tps / request.output_tokens,
        concurrent_users=tps * float(p.tpot_s[i]), prefill_time_share=float(p.prefill_time_share[i]), deployment=dep,
        frontier=[{"tokens_per_s_per_gpu": float(p.tokens_per_s_per_gpu[j]),
                   "tokens_per_s_per_user": float(p.tokens_per_s_per_user[j]),
                   "ttft_s": float(p.ttft_s[j]), "batch": int(p.batch[j]), "tp": int(p.layout.tp[j]),
                   "pp": int(p.layout.pp[j]), "disaggregated": bool(p.disaggregated[j])} for j in f],
        calibrated=ctx.calibrated, notes=tuple(notes),
    )
