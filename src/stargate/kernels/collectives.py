"""Collective time within one NVLink domain, from nccl-tests (and TensorRT-LLM's all-reduce).

Message sizes follow the nccl-tests convention: ``all_reduce`` — the buffer each rank reduces;
``all_gather`` — the gathered output (``gpus`` × each rank's input); ``reduce_scatter`` — each rank's
full input (``gpus`` × its output); ``alltoall`` — each rank's total send buffer.

Measured on 2, 4 and 8 GPUs of one node (GB200/GB300: 2 and 4 of one compute tray), 512 B to
512 MiB (TRT-LLM all-reduce: 256 B to 1 GiB). Lookups interpolate log latency over log bytes; below
the smallest message the latency is held, above the largest the bus bandwidth is held. Between
measured GPU counts the log bus bandwidth is interpolated over log2 GPUs; above the largest measured
group (8, or 4 on GB200/GB300, e.g. up to 72 in an NVL72 domain) the bus-bandwidth curve of the
largest group is held, ``time = bytes × factor(gpus) / busbw(bytes)``, with
``factor = 2(n−1)/n`` for all-reduce and ``(n−1)/n`` otherwise. That rule is about right for
bandwidth-bound messages on an NVLink switch and optimistic for small messages in large groups,
whose latency grows with the number of ring steps.

On 8 H100/H200/B200/B300 GPUs NCCL's all-reduce uses NVLink SHARP (NVLS) and its bus bandwidth
reaches the one-way NVLink bandwidth (ratio ≈ 1.0); the TRT-LLM all-reduce slightly exceeds it.
"""

from __future__ import annotations

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.kernels import tables
from stargate.kernels.grid import bracket, memoize_scalars, positive, result
from stargate.kernels.source import resolve

__all__ = ["LIBRARIES", "OPS", "bus_factor", "collective_time_s"]

OPS = ("all_reduce", "all_gather", "reduce_scatter", "alltoall")
"""Collectives measured by nccl-tests (``all_to_all`` is accepted for ``alltoall``)."""
LIBRARIES = ("nccl", "trtllm")
"""``nccl`` (nccl-tests, all four ops) or ``trtllm`` (TensorRT-LLM's all-reduce, AUTO strategy)."""


def bus_factor(op: str, gpus) -> np.ndarray:
    """nccl-tests bus-bandwidth factor: ``busbw = algbw × factor``.

    Examples
    --------
    >>> float(bus_factor("all_reduce", 8)), float(bus_factor("all_gather", 8))
    (1.75, 0.875)
    """
    n = np.asarray(gpus, dtype=float)
    return (2.0 if op == "all_reduce" else 1.0) * (n - 1.0) / n


def _group_time(sizes: np.ndarray, lat: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Latency of one measured group at ``b`` bytes: log-log interpolation, busbw held above."""
    t = np.exp2(np.interp(np.log2(b), np.log2(sizes), np.log2(lat)))
    return np.where(b > sizes[-1], lat[-1] * b / sizes[-1], t)


@memoize_scalars
def collective_time_s(chip: str, op: str, message_bytes, gpus, *, library: str = "nccl",
                      catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of one collective over ``gpus`` GPUs of one NVLink domain.

    Parameters
    ----------
    chip : str
        Measured chip or catalog accelerator id/alias; borrowed accelerators scale by the ratio of
        scale-up bandwidths.
    op : str
        One of :data:`OPS`.
    message_bytes : float or array_like
        nccl-tests size (see the module docstring for what it means per op).
    gpus : int or array_like
        Ranks in the collective (1 takes no time).
    library : str
        One of :data:`LIBRARIES`.

    Examples
    --------
    >>> mib = 2**20
    >>> t = collective_time_s("h100", "all_reduce", 512 * mib, 8)
    >>> round(512 * mib / t * 1.75 / 1e9)  # bus bandwidth, README: 445 GB/s
    445
    >>> t72 = collective_time_s("gb200", "all_gather", 64 * mib, 72)
    """
    src = resolve(chip, catalog)
    op = "alltoall" if op == "all_to_all" else op
    if op not in OPS:
        raise InputError("op", op, f"one of {', '.join(OPS)}")
    if library not in LIBRARIES:
        raise InputError("library", library, f"one of {', '.join(LIBRARIES)}")
    groups, sizes, ops = tables.nccl(src.chip, library)
    if op not in ops:
        raise InputError("op", op, f"one measured by {library}: {', '.join(ops)}")
    b = positive("message_bytes", message_bytes)
    n = positive("gpus", gpus, integer=True)
    b, n = np.broadcast_arrays(b, n)
    lg = np.log2(groups.astype(float))
    g0, g1, w = bracket(lg, np.log2(np.maximum(n, 2.0)))
    log_busbw = np.zeros(b.shape)
    for j, g in enumerate(groups):
        busbw = b * bus_factor(op, g) / _group_time(sizes, ops[op][j], b)
        log_busbw += (np.where(g0 == j, 1.0 - w, 0.0) + np.where(g1 == j, w, 0.0)) * np.log2(busbw)
    t = b * bus_factor(op, np.maximum(n, 2.0)) / np.exp2(log_busbw)
    t = np.where(n > 1, t / src.comm_scale, 0.0)
    return result(t, message_bytes, gpus)
