"""Memory per GPU: model states, activations, buffers — vectorized over candidate plans.

Model states per parameter (mixed-precision Adam, as Megatron-LM and FSDP keep them): 16-bit
weights (2 B), fp32 gradients (4 B), fp32 master weights and two Adam moments (12 B) — Rajbhandari
et al. 2020 (ZeRO) §3. ``zero1`` shards the 12 B of optimizer state over the data-parallel
(× context-parallel) group, ``zero2`` the gradients too, ``zero3`` everything; FP8 training keeps an
extra 1-byte copy of the weights. Expert weights are split over ``ep`` and sharded over the
expert-data-parallel group ``tp·cp·dp / ep``.

Activations per layer and token follow Korthikanti et al. 2022 (arXiv:2205.05198, §4) with
flash attention (no ``s²`` term is stored): with ``a`` the attention width ``H·d`` and ``kv`` the
key/value width ``K·d``, the attention block stores ``2h`` (norm output) ``+ 2(a + 2kv)`` (Q, K, V)
``+ 2a`` (attention output), the MLP ``2h + 4f`` (GeLU: fc1 output and activation) or ``2h + 6f``
(SwiGLU: gate, up and their product), and the two norms their inputs ``4h``. Sequence parallelism
divides everything by ``tp``; without it the ``8h`` of norms and their outputs stay whole on every
tensor-parallel rank. Selective recompute drops the activation-function outputs and norm outputs
(recomputed in the backward pass); full recompute keeps only each layer's input ``2h``. Context
parallelism divides tokens by ``cp``. A 1F1B pipeline's first stage holds ``min(pp, m)``
micro-batches of its ``L/pp`` layers; the interleaved schedule holds ``1 + (pp-1)/(pp·vp)`` times as
much (Narayanan et al. 2021, §2.2). MoE layers add routed tokens' expert activations
(``top_k (2h + 6f_e)``) and the dispatch buffers (``2·top_k·2h``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.breakdown import Breakdown
from stargate.training.model import ModelSpec
from stargate.training.plans import Plans

__all__ = ["Memory", "activation_bytes_per_token_layer", "memory_per_gpu"]

GIB = 2.0**30


@dataclass(frozen=True, slots=True)
class Memory(Breakdown):
    """Memory per GPU on the most loaded pipeline stage (bytes)."""

    weights: Any
    gradients: Any
    optimizer: Any
    activations: Any
    logits: Any
    framework: Any


def activation_bytes_per_token_layer(model: ModelSpec, plans: Plans) -> tuple[np.ndarray, np.ndarray]:
    """Bytes stored per token per layer: (dense-FFN layer, MoE layer), after TP/SP and recompute."""
    h, a, kv = model.hidden_size, model.n_heads * model.dim, model.kv_heads * model.dim
    f = model.ffn_hidden_size or 0
    gated = model.ffn_kind == "swiglu"
    act_out = (4 if gated else 2) * f  # outputs of the activation function (dropped by selective recompute)
    mlp = 2 * h + (6 if gated else 4) * f
    attn = 2 * h + 2 * (a + 2 * kv) + 2 * a
    norms = 4 * h
    tp = plans.tp
    sp = plans.sp.astype(bool)
    replicated = np.where(sp, 0.0, 8.0 * h)  # norm inputs and outputs, whole on every TP rank without SP

    def stored(ffn_bytes: float, ffn_act: float) -> np.ndarray:
        total = attn + norms + ffn_bytes
        base = (total - np.where(sp, 0.0, 8.0 * h)) / tp + replicated
        selective = base - (ffn_act + 4 * h) / tp
        return np.select([plans.recompute == 0, plans.recompute == 1], [base, selective], 2.0 * h / np.where(sp, tp, 1.0))

    dense = stored(mlp, act_out)
    if model.moe is None:
        return dense, dense
    fe, k = model.moe.expert_ffn, model.moe.top_k
    moe_ffn = k * (2 * h + (6 if gated else 4) * fe) + 2 * k * 2 * h + model.moe.shared_experts * (2 * h + 6 * fe)
    return dense, stored(moe_ffn, k * (4 if gated else 2) * fe)


def _state_bytes(plans: Plans, params: np.ndarray, shard_group: np.ndarray, fp8: bool) -> tuple[Any, Any, Any]:
    s = plans.sharding
    weights = params * (2.0 + (1.0 if fp8 else 0.0)) / np.where(s == 3, shard_group, 1)
    grads = params * 4.0 / np.where(s >= 2, shard_group, 1)
    optim = params * 12.0 / np.where(s >= 1, shard_group, 1)
    return weights, grads, optim


def memory_per_gpu(
    model: ModelSpec, plans: Plans, seq_len: int, micro_batches: np.ndarray, fp8: bool = False,
    overhead_bytes: float = 4 * GIB,
) -> Memory:
    """Memory of the most loaded GPU for each plan.

    Examples
    --------
    >>> from stargate.training.plans import Plans
    >>> m = ModelSpec(name="t", n_layers=4, hidden_size=1024, n_heads=8, ffn_hidden_size=4096, vocab_size=1000)
    >>> mem = memory_per_gpu(m, Plans.one(sharding="none"), 2048, np.array([8]), overhead_bytes=0.0)
    >>> int(mem.weights[0] + mem.gradients[0] + mem.optimizer[0]) == 18 * m.params_total
    True
    """
    tp, pp, cp, dp, ep = (plans.tp, plans.pp, plans.cp,
                          plans.dp, plans.ep)
    layers = model.n_layers / pp
    moe_frac = model.moe_layers / model.n_layers
    expert_total = model.moe_layers * (model.moe.experts * model.expert_params if model.moe else 0)
    dense_total = model.params_total - expert_total
    # Most loaded stage: the first, with the input embedding; the output head too when pp == 1.
    heads = np.where(pp == 1, model.embedding_params, model.vocab_size * model.hidden_size)
    dense_gpu = (dense_total - model.embedding_params) / (tp * pp) + heads / tp
    expert_gpu = expert_total / (pp * ep)
    w1, g1, o1 = _state_bytes(plans, dense_gpu, dp * cp, fp8)
    w2, g2, o2 = _state_bytes(plans, expert_gpu, np.maximum(tp * cp * dp / ep, 1.0), fp8)
    dense_act, moe_act = activation_bytes_per_token_layer(model, plans)
    per_token = layers * ((1 - moe_frac) * dense_act + moe_frac * moe_act)
    tokens = plans.mbs * seq_len / cp
    in_flight = np.minimum(pp, micro_batches) * (1 + np.where(plans.vp > 1, (pp - 1) / (pp * plans.vp), 0.0))
    logits = np.where(pp == 1, tokens * model.vocab_size * 6.0 / tp, 0.0)  # bf16 logits + fp32 loss copy
    # ZeRO-3 gathers whole layers to compute them: two layers' 16-bit weights (the one running and the
    # one prefetched) sit unsharded on every GPU.
    zero3_gather = np.where(plans.sharding == 3, 2 * 2.0 * (dense_total + expert_total / np.maximum(ep, 1)) / (model.n_layers * tp), 0.0)
    return Memory(
        weights=w1 + w2 + zero3_gather, gradients=g1 + g2, optimizer=o1 + o2,
        activations=per_token * tokens * in_flight, logits=logits, framework=np.full(len(plans), overhead_bytes),
    )
