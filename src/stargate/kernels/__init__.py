"""Kernel times from measured tables: an operation of a given shape on a given chip → seconds.

The tables are NVIDIA AIConfigurator's measured kernel latencies (Apache-2.0; commit, versions and
NOTICE in ``kernels/data/kernels.yaml``), compacted by ``scripts/build_kernel_tables.py`` for seven
chips: A100, H100, H200, B200, B300, GB200, GB300. Other accelerators borrow the nearest measured
chip, scaled by datasheet ratios (:func:`kernel_source`). Training and serving both use them:

- :func:`gemm_time_s`, :func:`gemm_efficiency`, :func:`gemm_train_time_s` — dense GEMMs;
- :func:`attention_time_s`, :func:`attention_train_time_s`, :func:`attention_backward_factor`,
  :func:`decode_attention_time_s` — prefill/training and decode attention;
- :func:`moe_time_s`, :func:`moe_is_measured` — mixture-of-experts layers;
- :func:`stream_bw_bytes_per_s`, :func:`memory_time_s` — memory-bound passes;
- :func:`collective_time_s` — collectives inside one NVLink domain.

Every function takes a chip name (``h100_sxm``) or a catalog accelerator id or alias (``h100``,
``mi300x``), is vectorized over arrays of shapes (numpy broadcasting), returns SI seconds (a float
for scalar inputs), and raises :class:`~stargate.errors.InputError` naming the bad field. See
``docs/kernels.md`` for how the tables are derived, interpolated and borrowed.

Examples
--------
>>> from stargate import kernels
>>> round(kernels.gemm_efficiency("h100", "bf16", 8192, 8192, 8192), 2)
0.79
>>> kernels.kernel_source("mi300x").chip
'h200_sxm'
"""

from stargate.kernels.attention import (
    attention_backward_factor,
    attention_flops,
    attention_time_s,
    attention_train_time_s,
    decode_attention_time_s,
)
from stargate.kernels.collectives import collective_time_s
from stargate.kernels.gemm import gemm_efficiency, gemm_flops, gemm_time_s, gemm_train_time_s
from stargate.kernels.memory import memory_time_s, stream_bw_bytes_per_s
from stargate.kernels.moe import moe_flops, moe_is_measured, moe_time_s
from stargate.kernels.source import KernelSource, kernel_source
from stargate.kernels.tables import chips, manifest

__all__ = [
    "KernelSource", "attention_backward_factor", "attention_flops", "attention_time_s", "attention_train_time_s",
    "chips", "collective_time_s", "decode_attention_time_s", "gemm_efficiency", "gemm_flops", "gemm_time_s",
    "gemm_train_time_s", "kernel_source", "manifest", "memory_time_s", "moe_flops", "moe_is_measured", "moe_time_s",
    "stream_bw_bytes_per_s",
]
