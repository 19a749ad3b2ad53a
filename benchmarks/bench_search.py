"""Speed of the training search: candidate plans per second, the Llama 3.1 405B search, and GPU-count scaling.

Targets (issue 11, "an honest search"): at least 1,000,000 candidate plans per second on one core
through the full estimate (memory and step time); the full search for Llama 3.1 405B on 16,384
H100 at 8K sequence and a 2,048-sequence batch in under 2 s; a search on 10^7 or 3x10^7 GPUs taking
about the time and memory of one on 10^4 (nothing in the search is as long as the GPU count).
Run: ``python benchmarks/bench_search.py``.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np


def _timed_search(model: str, acc: str, gpus: int, seq: int, batch: int) -> tuple[float, float, object]:
    from stargate.training.context import Workload, resolve_context
    from stargate.training.presets import preset
    from stargate.training.search import search

    ctx = resolve_context(preset(model), Workload(accelerator=acc, gpus=gpus, seq_len=seq, global_batch=batch))
    search(ctx)  # warm caches (kernel tables, rules)
    tracemalloc.start()
    t = time.perf_counter()
    r = search(ctx)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, r


def main() -> None:
    from stargate.training.context import Workload, resolve_context
    from stargate.training.estimate import estimate
    from stargate.training.plans import Plans
    from stargate.training.presets import preset
    from stargate.training.search import candidate_plans, search

    ctx = resolve_context(preset("llama3.1-405b"), Workload(accelerator="h100", gpus=16384, seq_len=8192, global_batch=2048))
    # Full estimate throughput on the search's own candidates (every one a plan Megatron can run), tiled to 10^6.
    base = candidate_plans(ctx)
    n = 1_000_000
    idx = np.resize(np.arange(len(base)), n)
    plans = Plans(*(getattr(base, f)[idx] for f in ("tp", "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding", "sp")))
    estimate(ctx, plans.take(slice(0, 1000)))
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        estimate(ctx, plans)
        runs.append(time.perf_counter() - t)
    best = min(runs)
    print(f"full estimate (memory + step time) of {n:,} candidate plans: {best:.3f} s = {n / best / 1e6:.2f} M candidates/s "
          f"(best of 3; target >= 1 M/s)")

    times, r = [], None
    for _ in range(5):
        r = search(ctx)
        times.append(r.search_time_s)
    assert r is not None
    med = float(np.median(times))
    print(f"search, Llama 3.1 405B on 16,384 H100, 8K x 2,048: {r.candidates_evaluated:,} candidates "
          f"({r.candidates_evaluated / med / 1e6:.2f} M candidates/s through the staged search), {r.feasible:,} fit, "
          f"median {med * 1e3:.0f} ms (target < 2 s); best plan {r.best.plans.row(0)}, "
          f"{int(r.best.micro_batches[0])} micro-batches")

    print("GPU-count scaling (Llama 3.1 405B, H100, 8K; batch grows with the machine; time and peak traced memory):")
    for gpus, batch in ((10_000, 2048), (16_384, 2048), (10_000_000, 2**21), (30_000_000, 2**22)):
        elapsed, peak, res = _timed_search("llama3.1-405b", "h100", gpus, 8192, batch)
        print(f"  {gpus:>12,} GPUs, batch {batch:>9,}: {elapsed * 1e3:7.0f} ms, peak {peak / 2**20:7.1f} MiB, "
              f"{res.candidates_evaluated:,} candidates, uses {res.gpus_used:,} ({res.idle_gpus:,} idle)")


if __name__ == "__main__":
    main()
