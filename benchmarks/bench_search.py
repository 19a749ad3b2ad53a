"""Speed of the training model: candidate plans per second, and the full search for Llama 3.1 405B.

Targets (issue: training performance): at least 1,000,000 candidate plans evaluated per second on
one core; a full search for Llama 3.1 405B on 16,384 H100 at 8K sequence and a 2,048-sequence
batch in under 2 s. Run: ``python benchmarks/bench_search.py``.
"""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
    from stargate.training.context import Workload, resolve_context
    from stargate.training.estimate import estimate
    from stargate.training.plans import Plans
    from stargate.training.presets import preset
    from stargate.training.search import search

    ctx = resolve_context(preset("llama3.1-405b"), Workload(accelerator="h100", gpus=16384, seq_len=8192, global_batch=2048))
    rng = np.random.default_rng(0)
    n = 1_000_000
    tp = 2.0 ** rng.integers(0, 4, n)
    pp = rng.choice([1.0, 2, 3, 6, 7, 9, 14, 18], n)
    cp = 2.0 ** rng.integers(0, 3, n)
    plans = Plans(tp, pp, 16384 // (tp * pp * cp), cp, np.ones(n), rng.choice([1.0, 2], n), 2.0 ** rng.integers(0, 3, n),
                  rng.integers(0, 3, n).astype(float), rng.integers(0, 4, n).astype(float), (tp > 1).astype(float))
    estimate(ctx, plans.take(slice(0, 1000)))
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        estimate(ctx, plans)
        runs.append(time.perf_counter() - t)
    best = min(runs)
    print(f"full estimate (memory + step time) of {n:,} candidate plans: {best:.3f} s = {n / best / 1e6:.2f} M plans/s (best of 3)")
    times = []
    for _ in range(5):
        r = search(ctx)
        times.append(r.search_time_s)
    print(f"search, Llama 3.1 405B on 16,384 H100, 8K x 2,048: {r.candidates_evaluated:,} candidates, {r.feasible:,} fit, "
          f"median {np.median(times) * 1e3:.0f} ms; best plan {r.best.plans.row(0)}")


if __name__ == "__main__":
    main()
