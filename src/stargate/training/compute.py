"""Compute time of a training step from measured kernels, by shape — vectorized over plans.

For one micro-batch on one GPU of the slowest pipeline stage, every operation of a transformer
layer is turned into seconds by :mod:`stargate.kernels` (measured tables of NVIDIA's
AIConfigurator; chips without tables borrow the nearest measured one, scaled by datasheet ratios):

- **GEMMs** at their real per-GPU shapes, ``m = mbs·s/cp`` tokens (sequence parallelism gathers the
  tokens of the tensor-parallel group before each GEMM), ``n`` and ``k`` split by ``tp``: the
  attention input projections (Q, K, V; MLA's low-rank projections as one equivalent GEMM), the
  output projection, the dense FFN (gate and up fused, then down), an MoE layer's shared experts and
  router, and the output head on the last stage. Each costs forward + data gradient + weight
  gradient, the three GEMMs looked up at their own shapes (the kernel tables' caveat: backward
  operand layouts differ). Low precision runs the layers' linear GEMMs in the recipe's format
  (per-tensor FP8, block-scaled FP8 / MXFP8, NVFP4; the measured times include the activation
  quantization); the router and the output head stay in 16-bit, as Transformer Engine keeps them.
- **Attention**: the measured fused forward (causal, per head count and head dimension on the GPU)
  times ``1 + 2.90`` for the backward (FlashAttention-2's backward FLOP ratio and efficiency, see
  :func:`stargate.kernels.attention_backward_factor`); context parallelism splits it evenly
  (load-balanced ring attention: per rank, a causal block of ``s/cp`` tokens and ``(cp-1)/2`` full
  blocks, each at the kernel's speed for its length); sliding-window layers attend to their window.
- **Routed experts**: grouped GEMMs, each expert's gate/up and down looked up at the tokens it
  really receives (``mbs·s/(cp·tp)`` tokens from each of ``ep`` ranks, ``top_k`` each, balanced),
  forward + both gradients; permuting tokens to their experts and back is memory-bound traffic.
- **Memory-bound** passes (norms, residual adds, activation functions, rotary embeddings: about
  ``24h + 3f`` elements per token per layer per pass, Korthikanti et al. 2022) at the chip's
  measured HBM streaming bandwidth.

A pipeline's pace is set by its slowest stage: the last, which holds the output head beside its layers
(with an even split, ``L/pp`` layers plus the logits), or, with an uneven split
(:func:`stargate.training.rules.stage_sizes`), a middle stage when its extra layers outweigh the head. Recompute repeats the forward it recomputes (full: the whole
layer; selective: the memory-bound passes, plus the share of the forward GEMMs the framework's
selective policy drops — torchtitan's per-op policy recomputes every second matmul).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from stargate import kernels
from stargate.errors import InputError
from stargate.training.context import TrainingContext
from stargate.training.features import fp8_recipe_of, workload_features
from stargate.training.plans import Plans
from stargate.training.rules import pp_split, stage_sizes

__all__ = ["ComputeTimes", "compute_times", "gemm_dtype"]

BF16 = 2.0
_RECIPES = {"tensor": "fp8", "delayed": "fp8", "current": "fp8", "rowwise": "fp8_block", "block": "fp8_block",
            "mxfp8": "fp8_block", "nvfp4": "nvfp4"}


def gemm_dtype(precision: str, recipe: str | None) -> str:
    """The measured GEMM table a training precision and scaling recipe run at.

    Examples
    --------
    >>> gemm_dtype("fp8", None), gemm_dtype("mxfp8", None), gemm_dtype("fp8", "block"), gemm_dtype("bf16", None)
    ('fp8', 'fp8_block', 'fp8_block', 'bf16')
    """
    if precision in ("bf16", "fp16"):
        return "bf16"
    if precision == "nvfp4":
        return "nvfp4"
    if recipe is not None:
        return _RECIPES[recipe]
    return "fp8_block" if precision == "mxfp8" else "fp8"


@dataclass(frozen=True, slots=True)
class ComputeTimes:
    """Per-GPU seconds per step of the compute (arrays over plans), by kind, forward + backward."""

    gemm: Any
    attention: Any
    experts: Any
    memory_bound: Any
    overhead: Any
    """Launch-bound and fixed per-layer time beyond the kernels (eager launches, dropless MoE synchronisation)."""
    recompute: Any
    attention_fwd: Any
    """Attention forward alone (context-parallel exchange hides behind it)."""
    stage_layers: Any = None
    """Layers on the slowest pipeline stage (its per-layer communication and overheads scale with them)."""

    @property
    def total(self) -> Any:
        """Compute of a step without recompute."""
        return self.gemm + self.attention + self.experts + self.memory_bound + self.overhead


def _gemm(ctx: TrainingContext, dtype: str, m: np.ndarray, n: Any, k: Any) -> tuple[float | np.ndarray, float | np.ndarray]:
    """(forward + backward, forward) seconds; a chip without this dtype's table borrows the 16-bit one
    scaled by the ratio of dense peaks."""
    chip, cat = ctx.accelerator.id, ctx.catalog
    n, k = np.maximum(np.asarray(n, dtype=float), 1.0), np.maximum(np.asarray(k, dtype=float), 1.0)
    try:
        train, fwd = kernels.gemm_train_time_s(chip, dtype, m, n, k, catalog=cat), kernels.gemm_time_s(chip, dtype, m, n, k, catalog=cat)
    except InputError:
        if dtype == "bf16":
            raise
        scale = ctx.peak_16bit_flops_per_s / ctx.peak_matmul_flops_per_s
        train = kernels.gemm_train_time_s(chip, "bf16", m, n, k, catalog=cat) * scale
        fwd = kernels.gemm_time_s(chip, "bf16", m, n, k, catalog=cat) * scale
    cap = _sm80_cap(ctx, dtype)
    if cap:  # Ampere-ISA kernels on a newer chip: no faster than their fraction of its peak
        flops = 2.0 * np.asarray(m, dtype=float) * n * k
        train, fwd = np.maximum(train, 3.0 * flops / cap), np.maximum(fwd, flops / cap)
    return train, fwd


def _sm80_cap(ctx: TrainingContext, dtype: str) -> float:
    """FLOP/s cap of Ampere-ISA GEMMs on this chip, or 0 where the measured kernels apply."""
    f = workload_features(ctx.workload)
    if f.gemm_isa != "sm80" or kernels.kernel_source(ctx.accelerator.id, ctx.catalog).chip == "a100_sxm":
        return 0.0
    peak = ctx.peak_16bit_flops_per_s if dtype == "bf16" else ctx.peak_matmul_flops_per_s
    return ctx.defaults.sm80_peak_fraction * peak


def _layer_gemms(ctx: TrainingContext, tp: np.ndarray, tokens: np.ndarray, dtype: str) -> dict[str, tuple[Any, Any]]:
    """Forward+backward and forward seconds of one layer's GEMMs for one micro-batch."""
    m = ctx.model
    h = m.hidden_size
    out_in = m.n_heads * m.v_dim
    qkv_n = (m.attention_params - out_in * h) / h
    up = 2 if m.ffn_kind == "swiglu" else 1
    out = {"attention_in": _gemm(ctx, dtype, tokens, qkv_n / tp, h),
           "attention_out": _gemm(ctx, dtype, tokens, h, out_in / tp)}
    if m.dense_ffn_layers and m.ffn_hidden_size:
        f = m.ffn_hidden_size
        out["ffn_up"] = _gemm(ctx, dtype, tokens, up * f / tp, h)
        out["ffn_down"] = _gemm(ctx, dtype, tokens, h, f / tp)
    if m.moe is not None:
        out["router"] = _gemm(ctx, "bf16", tokens, m.moe.experts, h)
        if m.moe.shared_experts:
            fs = m.moe.shared_experts * m.moe.expert_ffn
            out["shared_up"] = _gemm(ctx, dtype, tokens, up * fs / tp, h)
            out["shared_down"] = _gemm(ctx, dtype, tokens, h, fs / tp)
    return out


def _attention(ctx: TrainingContext, tp: np.ndarray, cp: np.ndarray, mbs: np.ndarray) -> tuple[Any, Any]:
    """Forward+backward and forward attention seconds per layer (averaged over window kinds)."""
    m, s = ctx.model, ctx.workload.seq_len
    heads = np.maximum(m.n_heads / tp, 1.0)
    kv = heads if m.mla is not None else np.maximum(m.kv_heads / tp, 1.0)
    chip, cat = ctx.accelerator.id, ctx.catalog

    fa2_floor = _fa2_floor(ctx)

    def causal(length: Any, window: int) -> Any:
        fwd = kernels.attention_time_s(chip, mbs, length, heads, kv, m.dim, window, catalog=cat)
        if fa2_floor:  # FlashAttention-2 on a chip newer than Ampere: no faster than its best fraction of peak
            fwd = np.maximum(fwd, kernels.attention_flops(mbs, length, heads, m.dim, window) / fa2_floor)
        return fwd

    def both(window: int) -> tuple[Any, Any]:
        if window:  # a sliding window needs only its own chunk and the window before it: an even split
            fwd = causal(s, window) / cp
        else:
            # Load-balanced causal ring attention: per rank, blocks of L = s/cp tokens — its causal
            # diagonal and (cp-1)/2 full blocks, a full L-block taking half a causal 2L-block's time.
            block = s / cp
            fwd = causal(block, 0) + np.where(cp > 1, (cp - 1) / 4 * causal(2 * block, 0), 0.0)
        return fwd * (1.0 + kernels.attention_backward_factor()), fwd

    full_train, full_fwd = both(0)
    share = m.sliding_window_layers / m.n_layers
    if not share or not m.sliding_window:
        return full_train, full_fwd
    win_train, win_fwd = both(int(m.sliding_window))
    return (1 - share) * full_train + share * win_train, (1 - share) * full_fwd + share * win_fwd


def _fa2_floor(ctx: TrainingContext) -> float:
    """FLOP/s cap of FlashAttention-2's forward on this chip, or 0 where the measured kernels apply."""
    f = workload_features(ctx.workload)
    if f.attention not in ("fa2", "triton") or kernels.kernel_source(ctx.accelerator.id, ctx.catalog).chip == "a100_sxm":
        return 0.0
    return ctx.defaults.fa2_forward_peak_fraction * ctx.peak_16bit_flops_per_s


def _experts(ctx: TrainingContext, tp: np.ndarray, cp: np.ndarray, mbs: np.ndarray, ep: np.ndarray, dtype: str) -> Any:
    """(forward + backward, forward) seconds of the routed experts of one MoE layer for one micro-batch.

    Training runs the experts as grouped GEMMs: each of the GPU's ``experts/ep`` experts multiplies the
    tokens routed to it (``mbs·s/(cp·tp)`` tokens from each of ``ep`` ranks, ``top_k`` experts each,
    balanced over the experts) by its gate/up and down matrices; each is looked up in the measured GEMM
    table at that shape. (The fused MoE layer of the tables is TensorRT-LLM's inference kernel, tuned for
    small batches: it reaches a fraction of the GEMM rate at training batch sizes.) Token permutation is
    memory-bound traffic (:func:`_memory_bytes`).
    """
    m = ctx.model
    if m.moe is None:
        zero = np.zeros_like(tp, dtype=float)
        return zero, zero
    e = m.moe
    per_expert = mbs * ctx.workload.seq_len / (cp * tp) * e.top_k / e.experts * ep
    local = e.experts / ep
    up = 2 if m.ffn_kind == "swiglu" else 1
    t_up, f_up = _gemm(ctx, dtype, np.maximum(per_expert, 1.0), up * e.expert_ffn, m.hidden_size)
    t_down, f_down = _gemm(ctx, dtype, np.maximum(per_expert, 1.0), m.hidden_size, e.expert_ffn)
    return local * (t_up + t_down), local * (f_up + f_down)


def _memory_bytes(ctx: TrainingContext, plans: Plans) -> np.ndarray:
    """Memory-bound bytes per token per layer per pass on one GPU (its share of the tokens)."""
    m = ctx.model
    h, tp = m.hidden_size, plans.tp
    f_eff = (m.moe.top_k + m.moe.shared_experts) * m.moe.expert_ffn if m.moe else (m.ffn_hidden_size or 0)
    per_token = np.where(plans.sp == 1, (24.0 * h + 3.0 * f_eff) / tp, 24.0 * h + 3.0 * f_eff / tp)
    if m.moe is not None:  # permuting tokens to their experts and back: 4 passes of top_k x h
        per_token = per_token + m.moe_layers / m.n_layers * 4.0 * m.moe.top_k * h / tp
    if fp8_recipe_of(ctx.workload) == "current":
        # Current scaling reads every FP8 GEMM input once more for its amax, forward (the inputs of the
        # QKV, output, up and down projections: 3h + f) and backward (their gradients): 2/3 of that per pass.
        gemm_in = np.where(plans.sp == 1, (3.0 * h + f_eff) / tp, 2.0 * h + (h + f_eff) / tp)
        per_token = per_token + 2.0 / 3.0 * gemm_in
    return per_token * BF16


def _per_microbatch(ctx: TrainingContext, tp: np.ndarray, cp: np.ndarray, mbs: np.ndarray, ep: np.ndarray) -> np.ndarray:
    """Stacked per-micro-batch seconds of one layer (the model's mix of dense and MoE layers): gemm, gemm
    fwd, attention, attention fwd, experts (forward + backward unless named fwd); then the output head's
    gemm and gemm fwd."""
    m, w = ctx.model, ctx.workload
    dtype = gemm_dtype(w.precision, fp8_recipe_of(w))
    tokens = mbs * w.seq_len / cp
    g = _layer_gemms(ctx, tp, tokens, dtype)
    dense_share = m.dense_ffn_layers / m.n_layers
    weight = {"ffn_up": dense_share, "ffn_down": dense_share}
    moe_share = m.moe_layers / m.n_layers
    weight.update({k: moe_share for k in ("router", "shared_up", "shared_down")})
    gemm = sum(weight.get(k, 1.0) * v[0] for k, v in g.items())
    gemm_fwd = sum(weight.get(k, 1.0) * v[1] for k, v in g.items())
    head_train, head_fwd = _gemm(ctx, "bf16", tokens, m.vocab_size / tp, m.hidden_size)
    attn, attn_fwd = _attention(ctx, tp, cp, mbs)
    experts, experts_fwd = (x * moe_share for x in _experts(ctx, tp, cp, mbs, ep, dtype))
    return np.stack([gemm, gemm_fwd, attn, attn_fwd, experts, experts_fwd, head_train, head_fwd])


_CACHE: dict[tuple, np.ndarray] = {}
_CACHE_SIZE = 50_000


def _kernel_times(ctx: TrainingContext, *cols: np.ndarray) -> np.ndarray:
    """:func:`_per_microbatch`, remembered: kernel times depend on the job and the layout and, of the fitted
    constants, only on ``sm80_peak_fraction`` (a cap applied GEMM by GEMM, so it is part of the key), so a
    calibration (hundreds of passes over the runs file) looks most of them up once."""
    w = ctx.workload
    key = (ctx.model.model_dump_json(), ctx.accelerator.model_dump_json(), w.seq_len, w.precision, w.fp8_recipe, w.framework, w.framework_version,
           w.moe_routing, ctx.defaults.fa2_forward_peak_fraction, ctx.defaults.sm80_peak_fraction, tuple(tuple(c.tolist()) for c in cols))
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        hit = _CACHE[key] = _per_microbatch(ctx, *cols)
    return hit


def compute_times(ctx: TrainingContext, plans: Plans, micro: np.ndarray, per_unique: Any) -> ComputeTimes:
    """Per-GPU compute seconds per step of every plan (the slowest pipeline stage, ``micro`` micro-batches).

    The slowest stage is the last, with the output head, or — with an uneven split
    (:func:`~stargate.training.rules.stage_sizes`) — a middle stage of more layers when its time
    (kernels, memory-bound passes, launch floor, recompute) is the longer.
    ``per_unique(fn, *cols)`` evaluates ``fn`` once per distinct row of ``cols`` (the estimate's helper).

    Examples
    --------
    >>> from stargate.training.context import Workload, resolve_context
    >>> from stargate.training.presets import preset
    >>> from stargate.training.estimate import _per_unique
    >>> ctx = resolve_context(preset("llama3.1-8b"), Workload(accelerator="h100", gpus=8, seq_len=8192, global_batch=64))
    >>> c = compute_times(ctx, Plans.one(dp=8), np.array([8.0]), _per_unique)
    >>> bool(0 < c.attention[0] < c.gemm[0])
    True
    """
    _, mid, last = stage_sizes(ctx.model.n_layers, plans.pp, plans.vp, pp_split(ctx.workload.framework))
    per_layer = per_unique(lambda *c: _kernel_times(ctx, *c), plans.tp, plans.cp, plans.mbs, plans.ep)
    end = _stage_times(ctx, plans, micro, per_layer, last.astype(float), np.ones(len(plans)))
    heavier = mid > last
    if not heavier.any():
        return end
    inner = _stage_times(ctx, plans, micro, per_layer, np.where(heavier, mid, last).astype(float),
                         np.where(heavier, 0.0, 1.0))
    slower = inner.total + inner.recompute > end.total + end.recompute
    return ComputeTimes(**{f.name: np.where(slower, getattr(inner, f.name), getattr(end, f.name)) for f in fields(end)})


def _stage_times(ctx: TrainingContext, plans: Plans, micro: np.ndarray, per_layer: np.ndarray, layers: np.ndarray,
                 head: np.ndarray) -> ComputeTimes:
    """:func:`compute_times` of a stage of ``layers`` layers, with the output head where ``head`` is 1
    (``per_layer``: :func:`_per_microbatch` of every plan)."""
    m, w, d = ctx.model, ctx.workload, ctx.defaults
    f = workload_features(w)
    clock = d.sustained_clock
    per_mb = per_layer[:6] * layers
    per_mb[:2] += per_layer[6:] * head
    gemm, gemm_fwd, attn, attn_fwd, experts, experts_fwd = per_mb * micro / clock
    experts, experts_fwd = experts * w.moe_load_imbalance, experts_fwd * w.moe_load_imbalance
    if f.attention == "triton":  # Triton FlashAttention: a bounded factor over FlashAttention-2 (Dao 2023, §4.1)
        attn, attn_fwd = attn * d.triton_attention_factor, attn_fwd * d.triton_attention_factor
    tokens_gpu = plans.mbs * w.seq_len / plans.cp * micro
    mem_bytes = _memory_bytes(ctx, plans) * tokens_gpu * layers
    if not f.fused_elementwise:
        mem_bytes = mem_bytes * d.unfused_memory_factor
    t_mem_fwd = mem_bytes / kernels.stream_bw_bytes_per_s(ctx.accelerator.id, catalog=ctx.catalog)
    busy = gemm + attn + experts + 3.0 * t_mem_fwd
    overhead = np.zeros_like(busy)
    if not f.cuda_graphs:  # a layer runs no faster than the CPU launches its kernels
        overhead = np.maximum(0.0, d.eager_launch_s_per_layer * layers * micro - busy)
    if m.moe is not None and f.moe_routing == "dropless":
        overhead = overhead + d.moe_layer_overhead_s * m.moe_layers / m.n_layers * layers * micro
    full, selective = plans.recompute == 2, plans.recompute == 1
    recompute = np.where(full, gemm_fwd + attn_fwd + experts_fwd + t_mem_fwd,
                         np.where(selective, t_mem_fwd + f.selective_gemm_share * gemm_fwd, 0.0))
    return ComputeTimes(gemm=gemm, attention=attn, experts=experts, memory_bound=3.0 * t_mem_fwd, overhead=overhead,
                        recompute=recompute, attention_fwd=attn_fwd, stage_layers=layers)
