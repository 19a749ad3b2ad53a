"""Speed of the kernel lookups, and the headline efficiencies of docs/kernels.md.

Target (issue 11): at least 10^6 GEMM lookups/s on one core, vectorized; the training search asks
for each distinct shape, and scalar calls are memoized. Prints lookups per second for each function:
vectorized over 10^6 random shapes, scalar on a first call (a new shape) and on a repeated one.

Run: ``python benchmarks/bench_kernels.py`` (``--headlines`` prints the markdown table of docs/kernels.md).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

N = 1_000_000
MIB = 2**20


def _rate(fn, n: int, repeat: int = 5) -> float:
    fn()  # warm: tables loaded and decoded
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return n / statistics.median(runs)


def _scalar_rates(fn, count: int = 2000) -> tuple[float, float]:
    """(new shape each call, same shape each call) lookups per second."""
    fn(0)
    t = time.perf_counter()
    for i in range(1, count + 1):
        fn(i)
    miss = count / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(count):
        fn(0)
    return miss, count / (time.perf_counter() - t)


def speeds() -> None:
    from stargate import kernels as K

    rng = np.random.default_rng(0)
    m, n, k = rng.integers(1, 40_000, N), rng.integers(32, 70_000, N), rng.integers(32, 70_000, N)
    b, s = rng.integers(1, 16, N), rng.integers(128, 32_768, N)
    size = np.exp2(rng.uniform(9, 31, N))
    cases = [
        ("gemm_time_s", lambda: K.gemm_time_s("h100", "bf16", m, n, k),
         lambda i: K.gemm_time_s("h100", "bf16", 4096 + i, 8192, 8192)),
        ("gemm_train_time_s", lambda: K.gemm_train_time_s("h100", "fp8", m, n, k),
         lambda i: K.gemm_train_time_s("h100", "fp8", 4096 + i, 8192, 8192)),
        ("gemm_time_s (borrowed: mi300x)", lambda: K.gemm_time_s("mi300x", "bf16", m, n, k),
         lambda i: K.gemm_time_s("mi300x", "bf16", 4096 + i, 8192, 8192)),
        ("attention_time_s", lambda: K.attention_time_s("h100", b, s, 32, 8, 128),
         lambda i: K.attention_time_s("h100", 1, 4096 + i, 32, 8, 128)),
        ("decode_attention_time_s", lambda: K.decode_attention_time_s("h100", b * 16, s, 32, 8, 128),
         lambda i: K.decode_attention_time_s("h100", 64, 4096 + i, 32, 8, 128)),
        ("moe_time_s (measured)", lambda: K.moe_time_s("h100", "fp8_block", s, 7168, 2048, 8, 256, 1, 8),
         lambda i: K.moe_time_s("h100", "fp8_block", 4096 + i, 7168, 2048, 8, 256, 1, 8)),
        ("moe_time_s (grouped GEMM)", lambda: K.moe_time_s("h100", "bf16", s, 5120, 1536, 8, 160, 1, 8),
         lambda i: K.moe_time_s("h100", "bf16", 4096 + i, 5120, 1536, 8, 160, 1, 8)),
        ("memory_time_s", lambda: K.memory_time_s("h100", size), lambda i: K.memory_time_s("h100", 1e9 + i)),
        ("collective_time_s", lambda: K.collective_time_s("h100", "all_reduce", size, 8),
         lambda i: K.collective_time_s("h100", "all_reduce", 1e8 + i, 8)),
    ]
    print(f"{'function':34} {'vectorized (1e6 shapes)':>24} {'scalar, new shape':>18} {'scalar, repeated':>17}")
    for name, vec, scalar in cases:
        v = _rate(vec, N)
        miss, hit = _scalar_rates(scalar)
        print(f"{name:34} {v / 1e6:>19.2f} M/s {miss / 1e3:>13.1f} k/s {hit / 1e6:>12.2f} M/s")


def headlines() -> None:
    """Markdown table of headline efficiencies per chip (docs/kernels.md)."""
    from stargate import kernels as K
    from stargate.catalog import Catalog
    from stargate.kernels.collectives import bus_factor

    cat = Catalog.load()
    print("| chip | GEMM bf16 8192³ | GEMM bf16 (16384, 28672, 8192) | GEMM fp8 8192³ | GEMM fp8_block 8192³ "
          "| GEMM nvfp4 8192³ | attention bf16 4K | attention bf16 8K | HBM stream | NVLink all-reduce 512 MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for chip in K.chips():
        src = K.kernel_source(chip)
        cells = []
        for dtype, shape in (("bf16", (8192,) * 3), ("bf16", (16384, 28672, 8192)), ("fp8", (8192,) * 3),
                             ("fp8_block", (8192,) * 3), ("nvfp4", (8192,) * 3)):
            try:
                cells.append(f"{K.gemm_efficiency(chip, dtype, *shape):.2f}")
            except ValueError:
                cells.append("–")
        for s in (4096, 8192):
            t = K.attention_time_s(chip, 1, s, 32, 8, 128)
            cells.append(f"{float(K.attention_flops(1, s, 32, 128)) / t / src.peak('bf16'):.2f}")
        cells.append(f"{K.stream_bw_bytes_per_s(chip) / src.hbm_bw_bytes_per_s:.2f}")
        gpus = 8 if chip not in ("gb200", "gb300") else 4
        busbw = 512 * MIB / K.collective_time_s(chip, "all_reduce", 512 * MIB, gpus) * bus_factor("all_reduce", gpus)
        one_way = cat.accelerator(src.accelerator).scale_up_bw_bytes_per_s_bidir / 2
        cells.append(f"{busbw / 1e9:.0f} GB/s ({busbw / one_way:.2f}, {gpus} GPUs)")
        print(f"| {chip} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    headlines() if "--headlines" in sys.argv else speeds()
