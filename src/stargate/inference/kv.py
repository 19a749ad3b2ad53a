"""Memory of a served model: KV cache per token by attention kind, and weights per GPU by layout.

KV cache per token and layer (bytes ``b`` per element, Pope et al. 2022, "Efficiently Scaling
Transformer Inference", §2; DeepSeek-V2 tech report, arXiv:2405.04434 §2.1.2 for MLA):

- multi-head, grouped-query and multi-query attention: ``2·K·d·b`` (a key and a value per KV head);
- multi-head latent attention: ``(r_kv + d_rope)·b`` (the compressed latent and the shared rotary key);
- sliding-window layers hold at most ``w`` tokens of a sequence, whatever its length.

What a sequence *claims* of the KV memory also depends on the engine (:func:`kv_claim_per_sequence`):
TensorRT-LLM keeps one block pool per attention-window size and by default gives each pool an equal share
of the KV memory (``tensorrt_llm/_torch/pyexecutor/resource_manager.py``: "Using default allocation of
equal proportion of memory to each window size", unless ``TRTLLM_WINDOW_SIZE_SHARES`` is set;
NVIDIA/TensorRT-LLM PR #10798, 2026-02, and PR #7923, 2025-09, which added the variable). A model with
sliding-window and full layers (GPT-OSS: 18 and 18) thus fits as many sequences as if every layer held the
whole context. vLLM's hybrid KV-cache manager and the other engines are taken to pack the pools' blocks
by need.

Tensor parallelism splits KV heads over ranks (a head is never split: with ``tp > K`` heads are
replicated), MLA's latent is replicated over tensor ranks, and attention data parallelism gives each
rank its own sequences. Pipeline stages hold their own layers' cache.

Weights: the linear layers in the serving precision (fp8: 1 byte, fp4: 4 bits plus one 8-bit scale
per 16 elements = 0.5625 bytes, NVFP4 block format, NVIDIA TensorRT Model Optimizer docs), the
embedding, output head, norms and router in 16-bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stargate.training.model import ModelSpec

__all__ = ["EQUAL_WINDOW_SHARES", "WEIGHT_BYTES", "kv_bytes_per_sequence", "kv_bytes_per_token", "kv_claim_per_sequence",
           "kv_ranks", "weight_bytes_per_gpu"]

WEIGHT_BYTES = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5625}
"""Bytes per linear-layer weight element by serving precision (fp4: NVFP4, 16-element blocks, FP8 scales)."""
KV_BYTES = {"bf16": 2.0, "fp8": 1.0}
EQUAL_WINDOW_SHARES = frozenset({"trtllm"})
"""Engines that split the KV memory equally among their attention-window pools (module docstring)."""


def _per_layer_token(model: ModelSpec, kv_dtype: str) -> float:
    if model.mla is not None:
        return (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * KV_BYTES[kv_dtype]
    return 2.0 * model.kv_heads * model.dim * KV_BYTES[kv_dtype]


def kv_bytes_per_token(model: ModelSpec, kv_dtype: str = "fp8") -> float:
    """KV-cache bytes one token of context holds over all layers (no sliding-window cap).

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> kv_bytes_per_token(preset("llama3.1-70b"), "bf16")  # 80 layers x 2 x 8 heads x 128 x 2 bytes
    327680.0
    """
    return model.n_layers * _per_layer_token(model, kv_dtype)


def kv_bytes_per_sequence(model: ModelSpec, context_tokens: Any, kv_dtype: str = "fp8") -> Any:
    """KV-cache bytes of one sequence holding ``context_tokens`` tokens, sliding windows capped.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> m = preset("gpt-oss-120b")  # half the layers see a 128-token window
    >>> kv_bytes_per_sequence(m, 4096, "bf16") < kv_bytes_per_token(m, "bf16") * 4096
    True
    """
    full, window = _pool_layer_tokens(model, np.asarray(context_tokens, dtype=float))
    out = (full + window) * _per_layer_token(model, kv_dtype)
    return float(out) if np.ndim(out) == 0 else out


def _pool_layer_tokens(model: ModelSpec, ctx: Any) -> tuple[Any, Any]:
    """Layer-tokens one sequence of ``ctx`` tokens holds in the full-attention layers and in the sliding-window
    layers (at most ``w`` tokens each; without a window size they hold the whole context)."""
    w = float(model.sliding_window or 0)
    full = (model.n_layers - model.sliding_window_layers) * ctx
    return full, model.sliding_window_layers * (np.minimum(ctx, w) if w else ctx)


def kv_claim_per_sequence(model: ModelSpec, context_tokens: Any, kv_dtype: str = "fp8", framework: str = "trtllm") -> Any:
    """KV memory one sequence of ``context_tokens`` takes out of an engine's KV cache: its own bytes
    (:func:`kv_bytes_per_sequence`), or, where the engine splits the memory equally among its window pools
    (:data:`EQUAL_WINDOW_SHARES`), the number of pools times the fullest pool's share of the sequence.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> m = preset("gpt-oss-120b")  # 18 full and 18 sliding-window (128-token) layers
    >>> round(kv_claim_per_sequence(m, 4096, "fp8", "trtllm") / kv_bytes_per_token(m, "fp8"))  # as if all full
    4096
    >>> kv_claim_per_sequence(m, 4096, "fp8", "vllm") == kv_bytes_per_sequence(m, 4096, "fp8")
    True
    """
    two_pools = model.sliding_window and 0 < model.sliding_window_layers < model.n_layers
    if framework not in EQUAL_WINDOW_SHARES or not two_pools:
        return kv_bytes_per_sequence(model, context_tokens, kv_dtype)  # one window size: one pool
    full, window = _pool_layer_tokens(model, np.asarray(context_tokens, dtype=float))
    out = 2.0 * np.maximum(full, window) * _per_layer_token(model, kv_dtype)
    return float(out) if np.ndim(out) == 0 else out


def kv_ranks(model: ModelSpec, tp: Any, adp: Any) -> Any:
    """GPUs of a pipeline stage over which the replica's KV cache is spread: all ``tp`` under attention data
    parallelism (each rank holds its own sequences), else the KV heads' split ``min(tp, K)`` (1 for MLA,
    whose latent every tensor rank holds whole).

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> kv_ranks(preset("llama3.1-70b"), 16, False), kv_ranks(preset("deepseek-v3"), 8, False)
    (8.0, 1.0)
    >>> kv_ranks(preset("deepseek-v3"), 8, True)
    8.0
    """
    tp = np.asarray(tp, dtype=float)
    heads = 1.0 if model.mla is not None else float(model.kv_heads)
    out = np.where(np.asarray(adp, dtype=bool), tp, np.minimum(tp, heads))
    return float(out) if np.ndim(out) == 0 else out


def weight_bytes_per_gpu(model: ModelSpec, precision: str, tp: Any, pp: Any, ep: Any, adp: Any) -> Any:
    """Weight bytes on the fullest GPU of a replica of ``tp x pp`` GPUs (arrays broadcast).

    Attention weights and dense FFNs are split over ``tp`` (replicated under attention data parallelism, ``adp``); routed experts over ``ep`` expert groups, each expert over ``tp / ep``;
    layers over ``pp`` stages; the embedding and the output head over ``tp`` on the end stages.

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> m = preset("llama3.1-70b")
    >>> round(float(weight_bytes_per_gpu(m, "fp8", 8, 1, 1, False)) / 1e9, 1)  # 68.5 GB fp8 + 4.2 GB bf16 embeddings, / 8
    9.1
    """
    wb = WEIGHT_BYTES[precision]
    tp, pp, ep = (np.asarray(x, dtype=float) for x in (tp, pp, ep))
    adp = np.asarray(adp, dtype=bool)
    attn = model.attention_params * wb / np.where(adp, 1.0, tp)
    dense = model.dense_ffn_params * wb / np.where(adp, 1.0, tp)
    moe = model.moe
    routed = 0.0 if moe is None else (moe.experts / ep * model.expert_params * wb / (tp / ep)
                                      + moe.shared_experts * model.expert_params * wb / tp
                                      + moe.experts * model.hidden_size * 2.0)
    per_stage = (model.n_layers * attn + model.dense_ffn_layers * dense + model.moe_layers * routed) / pp
    head = model.embedding_params * 2.0 / tp / np.minimum(pp, 2.0)
    out = per_stage + head
    return float(out) if np.ndim(out) == 0 else out
