"""The shipped kernel tables: loaded lazily from ``kernels/data``, decoded once, cached.

``data/<chip>.npz`` and the manifest ``data/kernels.yaml`` are written by
``scripts/build_kernel_tables.py`` from NVIDIA AIConfigurator's measured performance database
(Apache-2.0; licence and NOTICE in ``data/``). Rates are stored as int16 steps of 1/512 of an
octave of log2(rate), first-differenced along axis 0 (the manifest's ``encoding``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from stargate.errors import InputError
from stargate.inputs import load_yaml
from stargate.kernels.grid import Grid, PairGrid

__all__ = [
    "ATTENTION_DTYPES", "ENGINES", "GEMM_DTYPES", "KV_DTYPES", "MOE_DTYPES", "chips", "context", "dtypes", "gemm", "gemm_best_tflops", "generation",
    "manifest", "measured_mask", "memory_curve", "moe", "nccl",
]

GEMM_DTYPES = ("bf16", "fp8", "fp8_block", "nvfp4")
"""GEMM dtypes: BF16; FP8 per-tensor; FP8 1x128/128x128 block scales; NVFP4 (activation quantization included)."""
ATTENTION_DTYPES = ("bf16", "fp8")
"""Prefill attention: BF16 math with BF16 KV cache, or FP8 math (FP8 Q/K/V) with FP8 KV cache."""
KV_DTYPES = ("bf16", "fp8")
"""Decode attention KV-cache dtypes (the attention math is BF16)."""
MOE_DTYPES = GEMM_DTYPES
"""MoE layer dtypes (same meaning as for GEMMs)."""
ENGINES = ("vllm", "sglang")
"""Engines with their own measured MoE tables beside TensorRT-LLM's (``scripts/build_kernel_tables.py``)."""
_ALIASES = {"bfloat16": "bf16"}


def _data():
    return resources.files("stargate.kernels") / "data"


@cache
def manifest() -> dict[str, Any]:
    """The manifest ``kernels.yaml``: source, licence, NOTICE, caveats and per-chip provenance.

    Examples
    --------
    >>> manifest()["source"]["licence"]
    'Apache-2.0'
    >>> manifest()["chips"]["h100_sxm"]["device"]
    'NVIDIA H100 80GB HBM3'
    """
    return load_yaml(_data().joinpath("kernels.yaml").read_text(encoding="utf-8"), "kernels.yaml")


def chips() -> tuple[str, ...]:
    """Names of the measured chips (``h100_sxm``, ``gb200``, ...).

    Examples
    --------
    >>> chips()[:3]
    ('a100_sxm', 'h100_sxm', 'h200_sxm')
    """
    return tuple(manifest()["chips"])


@cache
def _arrays(chip: str) -> dict[str, np.ndarray]:
    with _data().joinpath(f"{chip}.npz").open("rb") as f, np.load(f, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _log2(a: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    steps = manifest()["log2_steps_per_octave"]
    return np.cumsum(a[f"{prefix}.log2"], axis=0, dtype=np.int32) / steps


def measured_mask(chip: str, prefix: str) -> np.ndarray:
    """Boolean array, True where table ``prefix`` (``gemm.bf16``, ``ctx.bf16.d128``, ...) holds a
    measurement and False where the build filled the cell."""
    a = _arrays(chip)
    shape = a[f"{prefix}.log2"].shape
    return np.unpackbits(a[f"{prefix}.measured"], count=int(np.prod(shape))).astype(bool).reshape(shape)


def dtype_name(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    """Canonical dtype name, or :class:`~stargate.errors.InputError` naming ``field``."""
    name = _ALIASES.get(str(value).strip().lower(), str(value).strip().lower())
    if name not in allowed:
        raise InputError(field, value, f"one of {', '.join(allowed)}")
    return name


def _missing(chip: str, what: str, dtype: str, have: list[str], field: str = "dtype") -> InputError:
    return InputError(field, dtype, f"one measured on {chip} for {what}: {', '.join(have) or 'none'}")


@cache
def dtypes(chip: str, kind: str) -> tuple[str, ...]:
    """The dtypes measured on ``chip`` for ``kind``: ``gemm``, ``ctx`` (prefill attention) or ``gen`` (decode KV).

    Examples
    --------
    >>> dtypes("a100_sxm", "gemm")
    ('bf16',)
    """
    a = _arrays(chip)
    if kind == "gemm":
        return tuple(d for d in GEMM_DTYPES if f"gemm.{d}.log2" in a)
    return tuple(d for d in KV_DTYPES if f"{kind}.{d}.head_dims" in a)


def gemm_best_tflops(chip: str, dtype: str) -> float:
    """The fastest measured GEMM rate of ``chip`` in ``dtype`` (TFLOP/s): its achieved large-shape peak.

    Examples
    --------
    >>> 700 < gemm_best_tflops("h100_sxm", "bf16") < 989.4
    True
    """
    return float(np.exp2(gemm(chip, dtype).values.max()))


def gemm(chip: str, dtype: str) -> Grid:
    """GEMM table of ``chip``: log2 TFLOP/s over (m, n, k)."""
    a = _arrays(chip)
    if f"gemm.{dtype}.log2" not in a:
        raise _missing(chip, "GEMMs", dtype, [d for d in GEMM_DTYPES if f"gemm.{d}.log2" in a])
    return Grid([a[f"gemm.{dtype}.{c}"] for c in "mnk"], _log2(a, f"gemm.{dtype}"))


def _slices(chip: str, kind: str, dtype: str, what: str, xname: str) -> tuple[np.ndarray, tuple[PairGrid, ...]]:
    a = _arrays(chip)
    if f"{kind}.{dtype}.head_dims" not in a:
        have = [d for d in ATTENTION_DTYPES if f"{kind}.{d}.head_dims" in a]
        raise _missing(chip, what, dtype, have, "kv_dtype" if kind == "gen" else "dtype")
    dims = a[f"{kind}.{dtype}.head_dims"]
    grids = []
    for d in dims:
        p = f"{kind}.{dtype}.d{d}"
        x = a[f"{p}.{xname}"] + (1 if xname == "kv_len" else 0)
        grids.append(PairGrid(a[f"{p}.pairs"], a[f"{p}.batch"], x, _log2(a, p)))
    return dims, tuple(grids)


@cache
def context(chip: str, dtype: str) -> tuple[np.ndarray, tuple[PairGrid, ...]]:
    """Prefill attention of ``chip``: head dims and, per head dim, log2 TFLOP/s over (pair, batch, seq_len)."""
    return _slices(chip, "ctx", dtype, "prefill attention", "seq")


@cache
def generation(chip: str, kv_dtype: str) -> tuple[np.ndarray, tuple[PairGrid, ...]]:
    """Decode attention of ``chip``: head dims and, per head dim, log2 KV-read GB/s over (pair, batch, kv_len + 1)."""
    return _slices(chip, "gen", kv_dtype, "decode attention", "kv_len")


@cache
def moe(chip: str, dtype: str, engine: str = "trtllm") -> dict[str, Any] | None:
    """MoE table of ``chip`` (None when not measured): ``configs`` (rows of hidden, inter, topk,
    experts, tp, ep), ``index`` (config tuple -> row), ``tokens``, ``log2`` nominal TFLOP/s
    [config, tokens], and per power-law routing ``(ep sizes, factor [ep, tokens])``.

    ``engine``: TensorRT-LLM's kernels (``trtllm``), or those of an engine in :data:`ENGINES` as it runs
    the layer (balanced routing only).

    Examples
    --------
    >>> t = moe("h100_sxm", "w4a16_mxfp4", "vllm")  # GPT-OSS-120B's layer, TP 8, as vLLM runs it
    >>> (2880, 2880, 4, 128, 8, 1) in t["index"] and (2880, 2880, 4, 128, 8, 1) not in moe("h100_sxm", "w4a16_mxfp4")["index"]
    True
    """
    a = _arrays(chip)
    p = "moe" if engine == "trtllm" else f"moe_{engine}"
    p = f"{p}.{dtype}"
    if f"{p}.log2" not in a:
        return None
    configs = a[f"{p}.configs"].astype(np.int64)
    laws = {d: (a[f"{p}.{d}.ep"], a[f"{p}.{d}.factor"].astype(float))
            for d in ("power_law_1.01", "power_law_1.2") if f"{p}.{d}.ep" in a}
    return {"configs": configs, "index": {tuple(c): i for i, c in enumerate(configs.tolist())},
            "tokens": a[f"{p}.tokens"].astype(float), "log2": _log2(a, p), "power_laws": laws}


@cache
def nccl(chip: str, library: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Collective latencies of ``chip``: GPU counts, message bytes, and latency (s) [gpus, bytes] per op."""
    a = _arrays(chip)
    ops = {k.split(".")[1]: a[k].astype(float) for k in a if k.startswith(f"{library}.") and k.endswith(".latency_s")}
    return a[f"{library}.gpus"], a[f"{library}.bytes"].astype(float), ops


@cache
def memory_curve(chip: str) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Memory-bound pass of ``chip`` (None when not measured): bytes moved, latency (s), streaming bytes/s."""
    a = _arrays(chip)
    if "memory.bytes" not in a:
        return None
    return a["memory.bytes"], a["memory.latency_s"], float(a["memory.stream_bw_bytes_per_s"].ravel()[0])
