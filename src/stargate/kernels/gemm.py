"""Dense GEMM time by shape, dtype and chip, from measured TensorRT-LLM ``Linear`` forwards.

A forward GEMM is ``Y[m, n] = X[m, k] · W[n, k]ᵀ`` with BF16 input and output (m tokens, n output
features, k input features). The measured achieved FLOP/s is interpolated multilinearly in
(log2 m, log2 n, log2 k) on the measured grid (m: 1..16, multiples of 16 up to 4352, then 8192,
16384, 32768 — A100: up to 8192; n, k: 32 .. 65536, 128 .. for fp8_block and nvfp4). Outside the grid:

- above the largest measured m, n or k, the efficiency at the edge is held (time grows with FLOPs);
- below the smallest measured n or k (32, or 128 for the block-scaled dtypes), the time of the
  smallest measured size is held: a kernel is not faster than its smallest measured launch.

Unaligned m (not a multiple of 16 above 16) is looked up as if aligned; the measured m+1 probes
(not shipped) are slower by the median factor recorded in the manifest (``unaligned_m_plus_1_time_ratio_median``).
"""

from __future__ import annotations

import numpy as np

from stargate.catalog import Catalog
from stargate.kernels import tables
from stargate.kernels.grid import memoize_scalars, positive, result
from stargate.kernels.source import PRECISION, KernelSource, resolve

__all__ = ["OPERAND_BYTES", "gemm_efficiency", "gemm_flops", "gemm_time_s", "gemm_train_time_s"]

OPERAND_BYTES = {"bf16": 2.0, "fp8": 1.0, "fp8_block": 1.0, "nvfp4": 0.5}
"""Bytes per element of the weight operand by dtype (activations arrive in BF16), for the roofline split."""


def gemm_flops(m, n, k) -> np.ndarray:
    """FLOPs of ``Y[m, n] = X[m, k] · W[n, k]ᵀ``: ``2·m·n·k``.

    Examples
    --------
    >>> float(gemm_flops(8192, 8192, 8192)) / 1e12
    1.099511627776
    """
    return 2.0 * np.asarray(m, dtype=float) * np.asarray(n, dtype=float) * np.asarray(k, dtype=float)


def _time(chip: str, dtype: str, m, n, k, catalog: Catalog | None) -> tuple[np.ndarray, KernelSource, str]:
    src = resolve(chip, catalog)
    dtype = tables.dtype_name("dtype", dtype, tables.GEMM_DTYPES)
    grid = tables.gemm(src.chip, dtype)
    m, n, k = positive("m", m), positive("n", n), positive("k", k)
    rate = np.exp2(grid(np.log2(m), np.log2(n), np.log2(k))) * 1e12
    t = gemm_flops(np.maximum(m, grid.lo[0]), np.maximum(n, grid.lo[1]), np.maximum(k, grid.lo[2])) / rate
    if not src.measured:
        w = OPERAND_BYTES[dtype]
        t = src.scale(PRECISION[dtype], t, gemm_flops(m, n, k), 2.0 * m * k + w * n * k + 2.0 * m * n)
    return t, src, dtype


@memoize_scalars
def gemm_time_s(chip: str, dtype: str, m, n, k, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of one forward GEMM ``Y[m, n] = X[m, k] · W[n, k]ᵀ`` on ``chip``.

    Parameters
    ----------
    chip : str
        Measured chip (``h100_sxm``) or catalog accelerator id or alias (``h100``, ``mi300x``);
        accelerators without tables borrow one (:func:`~stargate.kernels.kernel_source`).
    dtype : str
        ``bf16``; ``fp8`` (per-tensor scales); ``fp8_block`` (1x128 / 128x128 block scales);
        ``nvfp4`` (Blackwell). Quantized dtypes include the dynamic activation quantization.
    m, n, k : float or array_like
        Rows (tokens), output features, input features; broadcast together.
    catalog : Catalog, optional
        Datasheet numbers for borrowed accelerators and efficiencies (the shipped catalog by default).

    Returns
    -------
    float or numpy.ndarray
        Seconds; a float when every shape argument is a scalar.

    Raises
    ------
    InputError
        Unknown chip, a dtype not measured on it, or a non-positive size.

    Examples
    --------
    >>> t = gemm_time_s("h100", "bf16", 8192, 8192, 8192)
    >>> round(2 * 8192**3 / t / 1e12)  # README: 783 TFLOP/s
    783
    >>> gemm_time_s("h100", "bf16", [1, 8192], 8192, 8192).shape
    (2,)
    """
    return result(_time(chip, dtype, m, n, k, catalog)[0], m, n, k)


@memoize_scalars
def gemm_efficiency(chip: str, dtype: str, m, n, k, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Achieved FLOP/s of the GEMM over the accelerator's dense datasheet peak for the dtype
    (``bf16`` → bf16 peak, ``fp8``/``fp8_block`` → fp8, ``nvfp4`` → fp4).

    Examples
    --------
    >>> round(gemm_efficiency("h100", "bf16", 8192, 8192, 8192), 2)
    0.79
    """
    t, src, dtype = _time(chip, dtype, m, n, k, catalog)
    return result(gemm_flops(m, n, k) / t / src.peak(PRECISION[dtype]), m, n, k)


@memoize_scalars
def gemm_train_time_s(chip: str, dtype: str, m, n, k, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of forward + backward of one linear layer: forward ``(m, n, k)``, input gradient
    ``dX = dY · W`` as the GEMM ``(m, k, n)`` and weight gradient ``dW = dYᵀ · X`` as ``(n, k, m)``.

    The backward GEMMs are looked up as forward GEMMs of those shapes in the same table. The
    measured kernels are inference forwards: backward operand layouts (transposed operands) and
    FP8 training recipes (E5M2 gradients, per-tensor delayed scaling) differ, so their efficiency can
    differ from the forward's (README of the kernel tables, "Caveats").

    Examples
    --------
    >>> f = gemm_time_s("h100", "bf16", 8192, 28672, 8192)
    >>> round(gemm_train_time_s("h100", "bf16", 8192, 28672, 8192) / f, 2)
    2.95
    """
    fwd = _time(chip, dtype, m, n, k, catalog)[0]
    dgrad = _time(chip, dtype, m, k, n, catalog)[0]
    wgrad = _time(chip, dtype, n, k, m, catalog)[0]
    return result(fwd + dgrad + wgrad, m, n, k)
