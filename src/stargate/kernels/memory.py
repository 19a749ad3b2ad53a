"""Memory-bound passes: achievable HBM streaming bandwidth and the time to move a number of bytes.

Measured by the FP8 ``scale_matrix`` kernel (``quantize.parquet``): a static per-tensor quantization
of a BF16 ``[m, k]`` tensor, which reads 2 and writes 1 byte per element — a pure streaming pass.
The shipped curve is the median latency per octave of bytes moved (made non-decreasing in size);
the streaming bandwidth is the median rate of the passes that move at least 1 GiB. A100 has no
such table (legacy collector): it uses H100's curve scaled by the HBM-bandwidth ratio of the two
datasheets (2,039 / 3,350 GB/s), as any borrowed accelerator does.
"""

from __future__ import annotations

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.kernels import tables
from stargate.kernels.grid import memoize_scalars, result
from stargate.kernels.source import KernelSource, resolve

__all__ = ["memory_time_s", "stream_bw_bytes_per_s"]

_DONOR = "h100_sxm"


def _curve(src: KernelSource, catalog: Catalog | None) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(bytes, latency s, stream bytes/s) of the measured pass used, and the bandwidth ratio to apply."""
    curve = tables.memory_curve(src.chip)
    scale = src.memory_scale
    if curve is None:
        donor = resolve(_DONOR, catalog)
        curve = tables.memory_curve(_DONOR)
        if curve is None:  # the shipped tables always measure the donor's memory pass
            raise RuntimeError(f"the kernel tables have no memory pass for {_DONOR}")
        scale = src.hbm_bw_bytes_per_s / donor.hbm_bw_bytes_per_s
    return curve[0], curve[1], curve[2], scale


@memoize_scalars
def stream_bw_bytes_per_s(chip: str, *, catalog: Catalog | None = None) -> float:
    """Achievable HBM streaming bandwidth of ``chip`` (bytes/s) on large memory-bound passes.

    Examples
    --------
    >>> round(stream_bw_bytes_per_s("h100") / 3.35e12, 2)  # fraction of the 3.35 TB/s datasheet
    0.9
    >>> round(stream_bw_bytes_per_s("a100") / 2.039e12, 2)  # borrowed from H100
    0.9
    """
    _, _, stream, scale = _curve(resolve(chip, catalog), catalog)
    return stream * scale


@memoize_scalars
def memory_time_s(chip: str, bytes_, *, catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of a memory-bound pass that reads plus writes ``bytes_`` bytes of HBM in total.

    Interpolated in log-log on the measured latency curve; below the smallest measured pass the
    latency floor is held, above the largest the extra bytes stream at :func:`stream_bw_bytes_per_s`.

    Examples
    --------
    >>> t = memory_time_s("h100", 3e9)
    >>> round(3e9 / t / 1e12, 1)  # TB/s
    3.0
    >>> memory_time_s("h100", [1e3, 1e9]).shape
    (2,)
    """
    src = resolve(chip, catalog)
    size, lat, stream, scale = _curve(src, catalog)
    b = np.asarray(bytes_, dtype=float)
    if not (np.isfinite(b).all() and (b >= 0).all()):
        raise InputError("bytes", bytes_, "a finite number of bytes >= 0")
    lb = np.log2(np.maximum(b, 1.0))
    t = np.exp2(np.interp(lb, np.log2(size), np.log2(lat)))
    t = np.where(b > size[-1], lat[-1] + (b - size[-1]) / stream, t)
    t = np.where(b > 0, t / scale, 0.0)
    return result(t, bytes_)
