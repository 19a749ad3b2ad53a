"""The fastest parallel plan that fits: every candidate evaluated at once as numpy arrays.

Candidates are the cross product of tensor (powers of two up to the scale-up domain, dividing the
attention heads), pipeline (divisors of the layer count), context and expert parallelism, the
virtual-pipeline depth, the micro-batch, recompute and sharding — minus what the user fixed.
Data parallelism is what remains of the GPU count; plans whose degrees do not divide the GPUs,
the batch or the layers are dropped, then the memory-infeasible ones (memory is cheap to
compute), and the step time is estimated for the rest in one vectorized pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.training.context import TrainingContext
from stargate.training.estimate import Estimate, estimate
from stargate.training.memory import memory_per_gpu
from stargate.training.plans import RECOMPUTE, SHARDING, Plans

__all__ = ["SearchResult", "candidate_plans", "search"]


def _pow2_upto(n: int) -> list[int]:
    return [2**i for i in range(int(np.log2(max(n, 1))) + 1)]


def _divisors(n: int, cap: int) -> list[int]:
    return [d for d in range(1, min(n, cap) + 1) if n % d == 0]


def _axes(ctx: TrainingContext, fixed: dict[str, Any]) -> dict[str, list[int]]:
    m, w = ctx.model, ctx.workload
    # Tensor parallelism may span two scale-up domains (slow, but the search should see it).
    tp = [t for t in _pow2_upto(min(2 * ctx.scale_up_domain, 128)) if m.n_heads % t == 0]
    axes = {
        "tp": tp,
        "pp": _divisors(m.n_layers, 128),
        "cp": [c for c in _pow2_upto(64) if w.seq_len % (2 * c) == 0 and w.seq_len // c >= 512] or [1],
        "ep": [e for e in _pow2_upto(m.moe.experts) if m.moe.experts % e == 0] if m.moe else [1],
        "vp": [1, 2, 3, 4, 6, 8, 12, 16],
        "mbs": [1, 2, 4, 8, 16, 32],
        "recompute": [0, 1, 2],
        "sharding": [1, 2, 3, 0],
    }
    for key, value in fixed.items():
        if value is None or key in ("dp", "sp"):
            continue
        if key == "recompute":
            value = RECOMPUTE.index(value)
        elif key == "sharding":
            value = SHARDING.index(value)
        axes[key] = [int(value)]
    return axes


def candidate_plans(ctx: TrainingContext, fixed: dict[str, Any] | None = None) -> Plans:
    """Every consistent plan for the job, as arrays (``fixed`` pins any axis, ``dp`` included)."""
    fixed = fixed or {}
    axes = _axes(ctx, fixed)
    mesh = np.meshgrid(*(np.asarray(v, dtype=float) for v in axes.values()), indexing="ij")
    a = {k: g.ravel() for k, g in zip(axes, mesh, strict=True)}
    g, w, layers = ctx.workload.gpus, ctx.workload, ctx.model.n_layers
    inner = a["tp"] * a["pp"] * a["cp"]
    dp = np.where(g % inner == 0, g // np.maximum(inner, 1), 0.0)
    ok = (dp > 0) & (w.global_batch % np.maximum(dp * a["mbs"], 1) == 0)
    ok &= (a["vp"] == 1) | ((a["pp"] > 1) & (layers % (a["pp"] * a["vp"]) == 0))
    ok &= (a["tp"] * a["cp"] * dp) % a["ep"] == 0
    if fixed.get("dp"):
        ok &= dp == int(fixed["dp"])
    sp = a["tp"] > 1 if fixed.get("sp") is None else (a["tp"] > 1) & bool(fixed["sp"])
    plans = Plans(a["tp"], a["pp"], dp, a["cp"], a["ep"], a["vp"], a["mbs"], a["recompute"], a["sharding"], sp.astype(float))
    return plans.take(ok)


@dataclass(frozen=True)
class SearchResult:
    """The best plans found, and how the search went."""

    best: Estimate
    """Estimates of the top plans, fastest first."""
    candidates_evaluated: int
    feasible: int
    search_time_s: float
    smallest_memory: Any
    """Memory breakdown of the least memory-hungry candidate (for a job that cannot fit)."""


def search(ctx: TrainingContext, fixed: dict[str, Any] | None = None, top_k: int = 3) -> SearchResult:
    """Fastest plans that fit, evaluated as arrays of candidates.

    Examples
    --------
    >>> from stargate.training.context import Workload, resolve_context
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_context(preset("llama3.1-8b"), Workload(accelerator="h100", gpus=64, seq_len=8192, global_batch=512))
    >>> r = search(ctx)
    >>> r.feasible > 0 and bool(r.best.fits.all())
    True
    """
    t0 = time.perf_counter()
    plans = candidate_plans(ctx, fixed)
    w = ctx.workload
    micro = np.maximum(w.global_batch // np.maximum(plans.dp * plans.mbs, 1), 1)
    fp8 = w.precision in ("fp8", "mxfp8", "nvfp4")
    mem = memory_per_gpu(ctx.model, plans, w.seq_len, micro, fp8, ctx.defaults.framework_overhead_bytes)
    fits = mem.total <= ctx.hbm_usable_bytes
    smallest = int(np.argmin(mem.total)) if len(plans) else None
    least = {k: float(v[smallest]) for k, v in mem.as_arrays().items()} if smallest is not None else {}
    feasible = plans.take(fits)
    if len(feasible) == 0:
        empty = estimate(ctx, plans.take(slice(0, 0)))
        return SearchResult(empty, len(plans), 0, time.perf_counter() - t0, least)
    e = estimate(ctx, feasible)
    order = np.argsort(e.step_time_s, kind="stable")[:top_k]
    best = estimate(ctx, feasible.take(order))
    return SearchResult(best, len(plans), len(feasible), time.perf_counter() - t0, least)
