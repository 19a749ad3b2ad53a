"""What a serving estimate needs, resolved once: model, chip, formats, network and calibration."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from stargate import kernels
from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator
from stargate.enums import Precision
from stargate.errors import InputError
from stargate.inference.kv import KV_BYTES
from stargate.inference.request import ServingRequest
from stargate.kernels import KernelSource, kernel_source, tables
from stargate.training.model import ModelSpec

__all__ = ["ServingContext", "calibration", "resolve_serving"]

_GEMM = {"bf16": "bf16", "fp8": "fp8", "fp4": "nvfp4"}
_PEAK = {"bf16": Precision.BF16, "fp8": Precision.FP8, "fp4": Precision.FP4}


@lru_cache(maxsize=1)
def calibration() -> dict[str, Any]:
    """The serving model's fitted constants (``calibration.yaml``, documented in ``docs/calibration.md``)."""
    text = resources.files("stargate.inference").joinpath("calibration.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass(frozen=True)
class ServingContext:
    """Resolved inputs of the serving model."""

    model: ModelSpec
    request: ServingRequest
    accelerator: Accelerator
    kernel_source: KernelSource
    catalog: Catalog
    gemm_dtype: str
    """Measured GEMM and MoE table the linear layers run at."""
    kv_dtype: str
    attention_dtype: str
    kv_table: str
    """Decode-attention table the KV cache is read at (its own dtype where measured)."""
    """Prefill attention math: fp8 with an fp8 KV cache and low-precision weights, else bf16."""
    kv_bytes: float
    stream_bw_bytes_per_s: float
    peak_16bit_flops_per_s: float
    attention_peak_flops_per_s: float
    """Peak of the attention math: fp8 with an fp8 KV cache (FP8 FMHA / FlashMLA FP8), else 16-bit."""
    hbm_usable_bytes: float
    scale_up_domain: int
    scale_up_bytes_per_s: float
    """One-way scale-up bandwidth per GPU."""
    scale_out_bytes_per_s: float
    collective_library: str
    step_overhead_s: float
    """Fixed time of one engine iteration (scheduling, sampling, launches) for the request's framework."""
    mla_efficiency: float
    memory_reserve_bytes: float
    """HBM kept free of weights and KV cache (activations, workspaces, the engine's own reserve)."""
    constants: dict[str, Any]
    """The fitted and measured constants in effect (``calibration.yaml``, or a refit's)."""
    notes: tuple[str, ...] = ()
    """What was approximated (a format timed on another format's tables)."""

    @property
    def weight_only_fp4(self) -> bool:
        """Whether 4-bit weights are served weight-only: FP4 requested on a chip without FP4 units."""
        return self.request.precision == "fp4" and self.gemm_dtype != "nvfp4"

    @property
    def calibrated(self) -> bool:
        """Whether the chip's kernel times were measured on it (not borrowed)."""
        return self.kernel_source.measured


def resolve_serving(model: ModelSpec, request: ServingRequest, catalog: Catalog | None = None,
                    constants: dict[str, Any] | None = None) -> ServingContext:
    """Look up everything the serving estimate needs for ``model`` under ``request``.

    ``constants`` replaces entries of :func:`calibration` (a refit's values).

    Examples
    --------
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_serving(preset("llama3.1-8b"), ServingRequest(accelerator="h100", gpus=1,
    ...                       input_tokens=512, output_tokens=128))
    >>> ctx.gemm_dtype, ctx.kv_dtype, ctx.calibrated
    ('fp8', 'fp8', True)
    """
    cat = catalog or Catalog.load()
    acc = cat.accelerator(request.accelerator)
    def has(fmt: str) -> bool:  # 16-bit serving runs on the fp16 units of chips without bf16 (V100)
        return _PEAK[fmt] in acc.peak_flops_per_s or (fmt == "bf16" and acc.peak_16bit_flops_per_s > 0)

    notes: list[str] = []
    gemm = _GEMM[request.precision]
    if request.precision == "fp4" and not has("fp4") and has("fp8"):
        # weight-only FP4 (MXFP4 checkpoints on Hopper): 4-bit weights in memory, FP8-or-wider math
        gemm = "fp8"
        notes.append(f"{acc.id} has no FP4 units: fp4 weights are served weight-only, their GEMMs timed as fp8 ones")
    elif not has(request.precision):
        have = ", ".join(p for p in _PEAK if has(p))
        raise InputError("precision", request.precision, f"a format {acc.id} has matrix units for ({have})")
    cal = {**calibration(), **(constants or {})}
    src = kernel_source(acc.id, cat)
    if gemm not in tables.dtypes(src.chip, "gemm"):
        notes.append(f"{request.precision} GEMMs are timed as bf16: {src.chip} has no {gemm} measurements")
        gemm = "bf16"
    kv = request.kv_cache_dtype
    attn = "fp8" if kv == "fp8" and request.precision != "bf16" else "bf16"
    attn = attn if attn in tables.dtypes(src.chip, "ctx") else "bf16"
    kv_table = kv if kv in tables.dtypes(src.chip, "gen") else "bf16"
    if kv_table != kv:
        notes.append(f"the {kv} KV cache is timed as a bf16 cache ({src.chip} has no {kv} decode measurements)")
    usable = acc.hbm_usable_bytes or acc.hbm_bytes
    nic = request.scale_out_bits_per_s or acc.scale_out_bw_bits_per_s
    return ServingContext(
        model=model, request=request, accelerator=acc, kernel_source=src, catalog=cat, gemm_dtype=gemm, kv_dtype=kv,
        attention_dtype=attn, kv_table=kv_table,
        kv_bytes=KV_BYTES[kv], stream_bw_bytes_per_s=kernels.stream_bw_bytes_per_s(acc.id, catalog=cat),
        peak_16bit_flops_per_s=acc.peak_16bit_flops_per_s, hbm_usable_bytes=usable,
        attention_peak_flops_per_s=(acc.peak_flops_per_s.get(Precision.FP8, acc.peak_16bit_flops_per_s)
                                    if attn == "fp8" else acc.peak_16bit_flops_per_s),
        scale_up_domain=acc.scale_up_domain, scale_up_bytes_per_s=acc.scale_up_bw_bytes_per_s_bidir / 2.0,
        scale_out_bytes_per_s=nic / 8.0, collective_library="trtllm" if request.framework == "trtllm" else "nccl",
        step_overhead_s=float(cal["step_overhead_s"][request.framework]), mla_efficiency=float(cal["mla_efficiency"]),
        memory_reserve_bytes=float(cal["memory_reserve_fraction"]) * usable + float(cal["memory_reserve_bytes"]),
        constants=cal, notes=tuple(notes),
    )
