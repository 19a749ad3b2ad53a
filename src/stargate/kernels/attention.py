"""Attention time by shape and chip: prefill / training forward, its backward, and decode.

Prefill (``context_attention``): TensorRT-LLM's attention op on ``batch`` sequences of ``seq_len``
tokens, causal, measured with RoPE and the KV-cache write inside the time (the QKV and output
projections are GEMMs, not included). Achieved TFLOP/s is interpolated in log2 over sequence length,
batch, query heads and the GQA ratio ``heads / kv_heads`` (:class:`~stargate.kernels.grid.PairGrid`),
and between measured head dims (64, 128, 192 on Hopper, 256, and 512 via FlashInfer on Blackwell).
Past the largest measured sequence (16,384 tokens), batch (256) or head count (96) the efficiency at
the edge is held.

Sliding windows (``0 < window < seq_len``) are not read from the few measured window slices but
from an equivalence: a query tile attends to a band of ``window`` keys, which is the work and
parallelism of causal attention over ``min(seq_len, 2·window)`` tokens at ``batch · seq_len / that``
sequences; its efficiency is used with the windowed FLOP count. Against the measured windows it
gives 0.98-0.99 of the measured time for 8,192-token windows and 0.75-0.86 for 128-token windows
(head dim 64 with attention sinks, 192): optimistic for short windows.

Decode (``generation_attention``): one new token per sequence over ``kv_len`` cached tokens; the
achieved KV-read bandwidth is interpolated in log2 over batch, KV tokens, head counts and head dim.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.kernels import tables
from stargate.kernels.grid import PairGrid, bracket, memoize_scalars, positive, result
from stargate.kernels.source import resolve

__all__ = [
    "FA2_BACKWARD_FLOP_RATIO", "FA2_BACKWARD_PEAK_FRACTION", "FA2_FORWARD_PEAK_FRACTION", "attention_backward_factor",
    "attention_flops", "attention_time_s", "attention_train_time_s", "decode_attention_time_s",
]

# FlashAttention-2 (Dao 2023, arXiv:2307.08691): the backward pass does 5 matmuls to the forward's
# 2, counted as 2.5x the forward FLOPs (Sec. 4.1), and reaches up to 63% of A100 peak against up to
# 73% for the forward (Sec. 4.1, Fig. 4-6; abstract: "50-73% of the theoretical maximum").
FA2_BACKWARD_FLOP_RATIO = 2.5
"""Backward over forward attention FLOPs (5 matmuls vs 2), FlashAttention-2."""
FA2_FORWARD_PEAK_FRACTION = 0.73
"""Best forward fraction of A100 peak reported by FlashAttention-2."""
FA2_BACKWARD_PEAK_FRACTION = 0.63
"""Best backward fraction of A100 peak reported by FlashAttention-2."""
_KV_BYTES = {"bf16": 2.0, "fp8": 1.0}


def attention_backward_factor() -> float:
    """Time of the attention backward over the measured forward: ``2.5 × 0.73 / 0.63 ≈ 2.90``.

    FlashAttention-2 (Dao 2023, arXiv:2307.08691) counts the backward at 2.5x the forward FLOPs
    (5 matmuls against 2) and reports it at up to 63% of A100 peak against up to 73% for the
    forward, so at equal shapes it takes ``2.5 · 0.73 / 0.63`` times as long. Applied to every chip;
    the measured forward also includes RoPE and the KV-cache write, which a training forward does
    not do (a small overestimate of both).

    Examples
    --------
    >>> round(attention_backward_factor(), 3)
    2.897
    """
    return FA2_BACKWARD_FLOP_RATIO * FA2_FORWARD_PEAK_FRACTION / FA2_BACKWARD_PEAK_FRACTION


def attention_flops(batch, seq_len, heads, head_dim, window=0, causal: bool = True) -> np.ndarray:
    """Matmul FLOPs of attention (QKᵀ and PV): ``4 · batch · heads · head_dim · P`` with P the
    (query, key) pairs: ``s(s+1)/2`` causal, ``w·s − w(w−1)/2`` for a window ``w < s``, ``s²`` non-causal.

    Examples
    --------
    >>> float(attention_flops(1, 4, 1, 1))  # 10 causal pairs
    40.0
    >>> float(attention_flops(1, 4, 1, 1, window=2))  # 2*4 - 1 = 7 pairs
    28.0
    """
    b, s, h, d = (np.asarray(v, dtype=float) for v in (batch, seq_len, heads, head_dim))
    w = np.asarray(window, dtype=float)
    if not causal:
        pairs = s * s
    else:
        banded = (w > 0) & (w < s)
        pairs = np.where(banded, w * s - w * (w - 1) / 2, s * (s + 1) / 2)
    return 4.0 * b * h * d * pairs


def _by_head_dim(dims: np.ndarray, grids: tuple[PairGrid, ...], head_dim: np.ndarray, *coords) -> np.ndarray:
    """log2 rate interpolated between the measured head dims around ``head_dim`` (clamped)."""
    i0, i1, w = bracket(np.log2(dims.astype(float)), np.log2(head_dim))
    if np.ndim(w) == 0:  # one head dim for every query: at most two tables
        v0 = grids[int(i0)](*coords)
        return v0 if w == 0 else (1.0 - w) * v0 + w * grids[int(i1)](*coords)
    out: Any = 0.0  # an array after the first table
    for j in np.unique(np.concatenate([i0.ravel(), i1.ravel()])):
        value = grids[j](*coords)
        out = out + (np.where(i0 == j, 1.0 - w, 0.0) + np.where(i1 == j, w, 0.0)) * value
    return out


def _heads(heads, kv_heads) -> tuple[np.ndarray, np.ndarray]:
    hq, hkv = positive("heads", heads), positive("kv_heads", kv_heads)
    if np.any(hkv > hq):
        raise InputError("kv_heads", kv_heads, "at most heads (query heads on this GPU)")
    return hq, hkv


@memoize_scalars
def attention_time_s(chip: str, batch, seq_len, heads, kv_heads, head_dim, window=0, dtype: str = "bf16",
                     causal: bool = True, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of one prefill (or training forward) attention on ``chip``.

    Parameters
    ----------
    chip : str
        Measured chip or catalog accelerator id/alias (:func:`~stargate.kernels.kernel_source`).
    batch, seq_len : float or array_like
        Sequences and tokens per sequence.
    heads, kv_heads, head_dim : float or array_like
        Query heads and key/value heads on this GPU (after tensor parallelism), per-head dimension.
    window : float or array_like
        Sliding window in tokens; 0 = full causal attention.
    dtype : str
        ``bf16`` (BF16 math, BF16 KV cache) or ``fp8`` (FP8 math, FP8 KV cache).
    causal : bool
        Causal mask (measured). Non-causal attention does ``s²`` pairs at the causal efficiency.

    Returns
    -------
    float or numpy.ndarray
        Seconds, including RoPE and the KV-cache write that the measured op performs.

    Examples
    --------
    >>> t = attention_time_s("h100", 1, 8192, 32, 8, 128)
    >>> round(float(attention_flops(1, 8192, 32, 128)) / t / 1e12)  # README: 507 TFLOP/s
    507
    """
    src = resolve(chip, catalog)
    dtype = tables.dtype_name("dtype", dtype, tables.ATTENTION_DTYPES)
    dims, grids = tables.context(src.chip, dtype)
    b, s, d = positive("batch", batch), positive("seq_len", seq_len), positive("head_dim", head_dim)
    hq, hkv = _heads(heads, kv_heads)
    w = np.asarray(window, dtype=float)
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise InputError("window", window, "0 (full attention) or a positive number of tokens")
    if not causal and np.any(w > 0):
        raise InputError("window", window, "0 when causal is False (windows are measured causal only)")
    banded = (w > 0) & (w < s)
    s_eq = np.where(banded, np.minimum(s, 2.0 * w), s)
    log_rate = _by_head_dim(dims, grids, d, np.log2(hq), np.log2(hq / hkv), np.log2(b * s / s_eq), np.log2(s_eq))
    flop = attention_flops(b, s, hq, d, w, causal)
    t = flop / (np.exp2(log_rate) * 1e12)
    if not src.measured:
        qkvo = b * s * (2.0 * hq + 2.0 * hkv) * d * (2.0 if dtype == "bf16" else 1.0)
        t = src.scale("bf16" if dtype == "bf16" else "fp8", t, flop, qkvo)
    return result(t, batch, seq_len, heads, kv_heads, head_dim, window)


@memoize_scalars
def attention_train_time_s(chip: str, batch, seq_len, heads, kv_heads, head_dim, window=0, dtype: str = "bf16",
                           causal: bool = True, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of attention forward + backward: the measured forward × (1 + :func:`attention_backward_factor`).

    Examples
    --------
    >>> f = attention_time_s("h100", 1, 8192, 8, 1, 128)
    >>> round(attention_train_time_s("h100", 1, 8192, 8, 1, 128) / f, 3)
    3.897
    """
    fwd = attention_time_s(chip, batch, seq_len, heads, kv_heads, head_dim, window, dtype, causal, catalog=catalog)
    return fwd * (1.0 + attention_backward_factor())


@memoize_scalars
def decode_attention_time_s(chip: str, batch, kv_len, heads, kv_heads, head_dim, kv_dtype: str = "bf16",
                            window=0, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of one decode attention step: ``batch`` sequences each add one token to ``kv_len`` cached.

    The new token attends to ``T = kv_len + 1`` tokens (``min(T, window)`` with a sliding window),
    and the kernel reads ``2 · batch · kv_heads · head_dim · T`` KV elements. The measured KV-read
    bandwidth is interpolated; past 131,072 tokens or 2,048 sequences it is held. Borrowed
    accelerators scale by the HBM-bandwidth ratio.

    Parameters
    ----------
    kv_dtype : str
        KV-cache dtype, ``bf16`` or ``fp8`` (attention math in BF16).

    Examples
    --------
    >>> t = decode_attention_time_s("h100", 64, 8191, 32, 8, 128)
    >>> kv = 2 * 64 * 8 * 128 * 8192 * 2
    >>> 0.5 < kv / t / 3.35e12 < 1.0  # a fraction of H100 HBM bandwidth
    True
    """
    src = resolve(chip, catalog)
    kv_dtype = tables.dtype_name("kv_dtype", kv_dtype, tables.KV_DTYPES)
    dims, grids = tables.generation(src.chip, kv_dtype)
    b, d = positive("batch", batch), positive("head_dim", head_dim)
    kv = np.asarray(kv_len, dtype=float)
    if not (np.isfinite(kv).all() and (kv >= 0).all()):
        raise InputError("kv_len", kv_len, "a number of cached tokens >= 0")
    hq, hkv = _heads(heads, kv_heads)
    w = np.asarray(window, dtype=float)
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise InputError("window", window, "0 (full attention) or a positive number of tokens")
    tokens = np.where(w > 0, np.minimum(kv + 1.0, np.maximum(w, 1.0)), kv + 1.0)
    log_rate = _by_head_dim(dims, grids, d, np.log2(hq), np.log2(hq / hkv), np.log2(b), np.log2(tokens))
    kv_bytes = 2.0 * b * hkv * d * tokens * _KV_BYTES[kv_dtype]
    t = kv_bytes / (np.exp2(log_rate) * 1e9)
    if not src.measured:
        t = t / src.memory_scale
    return result(t, batch, kv_len, heads, kv_heads, head_dim, window)
