"""Seconds of one forward of a served model on one GPU of a pipeline stage, from measured kernels.

Vectorized over candidate layouts (``tp``, ``pp``, ``ep``, ``adp``) and token counts. A forward of
``m`` tokens through the ``L/pp`` layers of one stage costs, per layer (every op turned into
seconds by :mod:`stargate.kernels` at its real per-GPU shape):

- **GEMMs**: the attention projections as one GEMM of the block's parameters, ``(m_a, P_attn/(h·tp_a), h)``
  (``m_a = m/tp`` and ``tp_a = 1`` under attention data parallelism), the dense FFN
  (``(m, 2f/tp, h)`` gate and up, ``(m, h, f/tp)`` down for SwiGLU), shared experts likewise, the
  router in 16-bit. At small ``m`` the measured times are the weight read; at large ``m`` the math.
- **Routed experts**: :func:`stargate.kernels.moe_time_s` on the tokens of the layer, ``ep`` expert
  groups of ``tp/ep`` tensor ranks each.
- **Attention**: decode reads each sequence's KV cache (:func:`stargate.kernels.decode_attention_time_s`);
  prefill runs the causal kernel over the prompt (:func:`stargate.kernels.attention_time_s`). MLA
  decode reads the compressed latent once per sequence and layer and does ``2·H·(r + d_r + r)``
  FLOPs per cached token (weight-absorbed form, DeepSeek-V2 §2.1.2): the larger of the memory
  and the math time (FP8 math with an FP8 KV cache, as FlashMLA's FP8 kernels, else 16-bit).
- **Communication**: two all-reduces of ``m·h`` 16-bit activations per layer over ``tp`` (or, for
  MoE layers under attention data parallelism, an all-to-all dispatch and combine of ``m·top_k·h``),
  on the scale-up domain (measured collectives); a pipeline hop of ``m·h`` between stages.
- **Memory-bound** passes (norms, residuals, activation, rotary): ``12·m·h`` 16-bit elements per layer.

The output head (16-bit GEMM ``(tokens out, V/tp, h)``) runs on the last stage. The engine's fixed
time per iteration (scheduling, sampling, launches) is added by the search, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate import kernels
from stargate.breakdown import Breakdown
from stargate.inference.context import ServingContext

__all__ = ["Layouts", "StepTime", "forward_s", "stage_share"]

ACT_BYTES = 2.0
"""Activations between layers and in collectives are 16-bit."""
ROUTING = "power_law_1.01"
"""Expert load of served traffic: AIConfigurator's power-law routing with exponent 1.01 (its default for
real requests), not the balanced load of synthetic benchmarks."""
HOP_LATENCY_S = 10e-6
"""One pipeline send over the scale-out network: NIC and switch latency (order of InfiniBand's ~1-5 us per hop, plus software)."""


@dataclass(frozen=True)
class Layouts:
    """Candidate replica layouts, arrays of equal length."""

    tp: np.ndarray
    """Tensor-parallel degree inside a stage."""
    pp: np.ndarray
    """Pipeline stages."""
    ep: np.ndarray
    """Expert-parallel groups among the ``tp`` ranks (1 for dense models)."""
    adp: np.ndarray
    """Attention data parallelism: each tensor rank runs attention for its own sequences."""

    @property
    def gpus(self) -> np.ndarray:
        """GPUs of one replica."""
        return self.tp * self.pp

    def take(self, idx: Any) -> Layouts:
        """The layouts at ``idx``."""
        return Layouts(self.tp[idx], self.pp[idx], self.ep[idx], self.adp[idx])


@dataclass(frozen=True, slots=True)
class StepTime(Breakdown):
    """Seconds of one stage forward, by kind (arrays over candidates)."""

    gemm: Any
    attention: Any
    experts: Any
    communication: Any
    memory_bound: Any

    @property
    def compute(self) -> Any:
        """Seconds on the chip's own units (everything but communication)."""
        return self.gemm + self.attention + self.experts + self.memory_bound


def _gemm(ctx: ServingContext, dtype: str, m: Any, n: Any, k: Any) -> Any:
    return kernels.gemm_time_s(ctx.accelerator.id, dtype, np.maximum(m, 1.0), np.maximum(n, 1.0), np.maximum(k, 1.0),
                               catalog=ctx.catalog)


def _ffn(ctx: ServingContext, m: Any, width: Any) -> Any:
    h = ctx.model.hidden_size
    up = 2.0 if ctx.model.ffn_kind == "swiglu" else 1.0
    return _gemm(ctx, ctx.gemm_dtype, m, up * width, h) + _gemm(ctx, ctx.gemm_dtype, m, h, width)


def _experts(ctx: ServingContext, lay: Layouts, m: np.ndarray) -> Any:
    moe = ctx.model.moe
    if moe is None:
        return np.zeros_like(m)
    out = np.zeros_like(m)
    moe_tp = lay.tp / lay.ep
    for mt, e in {(float(a), float(b)) for a, b in zip(moe_tp, lay.ep, strict=True)}:
        sel = (moe_tp == mt) & (lay.ep == e)
        out[sel] = kernels.moe_time_s(ctx.accelerator.id, ctx.gemm_dtype, m[sel], ctx.model.hidden_size, moe.expert_ffn,
                                      moe.top_k, moe.experts, int(mt), int(e), ROUTING,
                                      weight_only_fp4=ctx.weight_only_fp4, engine=ctx.request.framework,
                                      catalog=ctx.catalog)
    router = _gemm(ctx, "bf16", m, moe.experts, ctx.model.hidden_size)
    shared = _ffn(ctx, m, moe.shared_experts * moe.expert_ffn / lay.tp) if moe.shared_experts else 0.0
    return out + router + shared


def _attention_decode(ctx: ServingContext, m_a: Any, tp_a: Any, kv_len: Any, queries: float = 1.0) -> Any:
    """Decode attention; ``queries`` new tokens per sequence (speculative verification) share one KV read,
    as extra query heads of the same KV heads."""
    mod = ctx.model
    heads = mod.n_heads / tp_a * queries
    if mod.mla is not None:
        r = mod.mla.kv_lora_rank + mod.mla.qk_rope_head_dim
        read = m_a * kv_len * r * ctx.kv_bytes / ctx.stream_bw_bytes_per_s
        math = 2.0 * m_a * heads * kv_len * (r + mod.mla.kv_lora_rank) / (ctx.attention_peak_flops_per_s * ctx.mla_efficiency)
        return mod.n_layers * np.maximum(read, math)
    kvh = np.maximum(mod.kv_heads / tp_a, 1.0)
    full = mod.n_layers - mod.sliding_window_layers
    t: Any = full * kernels.decode_attention_time_s(ctx.accelerator.id, m_a, kv_len, heads, kvh, mod.dim,
                                                    ctx.kv_table, catalog=ctx.catalog)
    if mod.sliding_window_layers:
        t = t + mod.sliding_window_layers * kernels.decode_attention_time_s(
            ctx.accelerator.id, m_a, kv_len, heads, kvh, mod.dim, ctx.kv_table, mod.sliding_window or 0,
            catalog=ctx.catalog)
    return t


def _attention_prefill(ctx: ServingContext, seqs_a: Any, tp_a: Any, seq_len: float) -> Any:
    mod = ctx.model
    heads = mod.n_heads / tp_a
    kvh = heads if mod.mla is not None else np.maximum(mod.kv_heads / tp_a, 1.0)
    full = mod.n_layers - mod.sliding_window_layers

    def call(window: float) -> Any:
        return kernels.attention_time_s(ctx.accelerator.id, np.maximum(seqs_a, 1.0), seq_len, heads, kvh, mod.dim,
                                        window, ctx.attention_dtype, catalog=ctx.catalog)
    t: Any = full * call(0.0)
    if mod.sliding_window_layers:
        t = t + mod.sliding_window_layers * call(float(mod.sliding_window or 0))
    return t


def _communication(ctx: ServingContext, lay: Layouts, m: np.ndarray) -> Any:
    mod = ctx.model
    h = mod.hidden_size
    lib = ctx.collective_library
    ar = kernels.collective_time_s(ctx.accelerator.id, "all_reduce", np.maximum(m * h * ACT_BYTES, 1.0), lay.tp,
                                   library=lib, catalog=ctx.catalog)
    per_layer_dense = np.where(lay.adp, 0.0, 2.0 * ar)  # attention data parallelism replicates dense layers
    if mod.moe is not None:
        msg = np.maximum(m / lay.tp * mod.moe.top_k * h * ACT_BYTES, 1.0)
        inside = np.minimum(lay.tp, ctx.scale_up_domain)
        a2a = kernels.collective_time_s(ctx.accelerator.id, "alltoall", msg, inside, catalog=ctx.catalog)
        # wide expert parallelism: the share of each rank's tokens bound for other domains crosses the NICs
        across = np.where(lay.tp > inside, HOP_LATENCY_S + msg * (1.0 - inside / lay.tp) / ctx.scale_out_bytes_per_s, 0.0)
        per_moe = np.where(lay.adp, 2.0 * (a2a + across), 2.0 * ar)
        layers: Any = mod.moe_layers * per_moe + mod.dense_ffn_layers * per_layer_dense
    else:
        layers = mod.n_layers * per_layer_dense
    cross = lay.tp * lay.pp > ctx.scale_up_domain
    hop_bw = np.where(cross, ctx.scale_out_bytes_per_s, ctx.scale_up_bytes_per_s)
    hop = np.where(lay.pp > 1, HOP_LATENCY_S + m * h * ACT_BYTES / hop_bw, 0.0)
    return layers * stage_share(ctx, lay) + hop


def forward_s(ctx: ServingContext, lay: Layouts, tokens: Any, seqs: Any, *, kv_len: Any = None,
              prompt_len: float | None = None, queries: float = 1.0) -> StepTime:
    """Seconds one stage takes to run ``tokens`` tokens of ``seqs`` sequences forward (arrays over layouts).

    Give ``kv_len`` (cached tokens per sequence) for a decode step, or ``prompt_len`` for a prefill
    of ``seqs`` prompts of that length (``tokens = seqs · prompt_len``). A speculative verification step
    checks ``queries`` tokens per sequence (``tokens = seqs · queries``) against one read of the KV cache.

    Examples
    --------
    >>> import numpy as np
    >>> from stargate.inference.context import resolve_serving
    >>> from stargate.inference.request import ServingRequest
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_serving(preset("llama3.1-70b"), ServingRequest(accelerator="h200", gpus=8,
    ...                       input_tokens=1024, output_tokens=1024))
    >>> one = Layouts(np.array([8.0]), np.array([1.0]), np.array([1.0]), np.array([False]))
    >>> t = forward_s(ctx, one, np.array([1.0]), np.array([1.0]), kv_len=np.array([1024.0])).total
    >>> bool(9e9 / 4.8e12 < t[0] < 0.02)  # at batch 1 a step reads the 9 GB of weights on each GPU
    True
    """
    mod = ctx.model
    m = np.asarray(tokens, dtype=float) * np.ones_like(lay.tp)
    s = np.asarray(seqs, dtype=float) * np.ones_like(lay.tp)
    tp_a = np.where(lay.adp, 1.0, lay.tp)
    # attention data parallelism: a sequence lives on one rank, so the busiest rank holds ceil(s / tp) of them
    s_a = np.where(lay.adp, np.ceil(s / lay.tp - 1e-9), s)
    m_a = np.where(lay.adp, m * s_a / np.maximum(s, 1e-9), m)
    h = mod.hidden_size
    gemm = mod.n_layers * _gemm(ctx, ctx.gemm_dtype, m_a, mod.attention_params / (h * tp_a), h)
    gemm = gemm + mod.dense_ffn_layers * _ffn(ctx, m_a, (mod.ffn_hidden_size or 0) / tp_a)
    head = _gemm(ctx, "bf16", s, mod.vocab_size / lay.tp, h)
    if kv_len is not None:
        attn = _attention_decode(ctx, s_a, tp_a, np.asarray(kv_len, dtype=float), queries)
    else:
        attn = _attention_prefill(ctx, s_a, tp_a, float(prompt_len or 1.0))
    experts = mod.moe_layers * _experts(ctx, lay, m) if mod.moe is not None else np.zeros_like(m)
    mem = mod.n_layers * kernels.memory_time_s(ctx.accelerator.id, 12.0 * m_a * h * ACT_BYTES, catalog=ctx.catalog)
    share = stage_share(ctx, lay)
    return StepTime(gemm=gemm * share + head, attention=attn * share, experts=experts * share,
                    communication=_communication(ctx, lay, m), memory_bound=mem * share)


def stage_share(ctx: ServingContext, lay: Layouts) -> np.ndarray:
    """Share of the model's layers on the slowest pipeline stage: ``ceil(L / pp) / L`` (layers are whole).

    Examples
    --------
    >>> import numpy as np
    >>> from stargate.inference.context import resolve_serving
    >>> from stargate.inference.request import ServingRequest
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_serving(preset("deepseek-v3"), ServingRequest(accelerator="b200", gpus=8, input_tokens=1,
    ...                       output_tokens=1))
    >>> lay = Layouts(np.array([1.0, 1.0]), np.array([1.0, 8.0]), np.array([1.0, 1.0]), np.array([False, False]))
    >>> stage_share(ctx, lay).round(4).tolist()  # 61 layers: one stage of 8 sets the pace, not 61/8
    [1.0, 0.1311]
    """
    layers = ctx.model.n_layers
    return np.ceil(layers / lay.pp - 1e-9) / layers
