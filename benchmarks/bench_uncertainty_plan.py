"""Speed of the plan's ranges and of its sensitivity.

Target: ``stargate plan --uncertainty 1000`` in under 30 s on 2 cores. Measured here: the whole command
in a subprocess (start-up, point plan, ranges, JSON) at 1,000 and 10,000 samples; the ranges alone
(:func:`stargate.uncertainty.plan.plan_ranges`) at 1,000 to 100,000 samples; and ``stargate sensitivity``
with its default Sobol design (512 base samples). Run: ``python benchmarks/bench_uncertainty_plan.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def _command(*args: str, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stargate", *args], check=True, capture_output=True)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    from stargate.catalog import Catalog
    from stargate.plan import builtin_scenario, run_plan
    from stargate.uncertainty.plan import plan_models, plan_ranges

    print(f"{os.cpu_count()} CPUs")
    cat, sc = Catalog.load(), builtin_scenario()
    t = time.perf_counter()
    plan = run_plan(sc, cat)
    print(f"point plan: {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    models = plan_models(sc, cat, plan)
    print(f"phase models (5 phases, {sum(len(m.inputs) for m in models)} inputs): {time.perf_counter() - t:.3f} s")
    for n in (1_000, 10_000, 100_000):
        t = time.perf_counter()
        plan_ranges(sc, cat, plan, n, seed=0, models=models)
        print(f"ranges of every phase and the totals, {n:,} samples: {time.perf_counter() - t:.3f} s")
    for n in ("1000", "10000"):
        print(f"`stargate plan --uncertainty {n} --json`: median {_command('plan', '--uncertainty', n, '--json'):.2f} s (3 runs)")
    print(f"`stargate plan --json` (no ranges): median {_command('plan', '--json'):.2f} s (3 runs)")
    print(f"`stargate sensitivity --json` (Sobol, 512 base samples): median {_command('sensitivity', '--json'):.2f} s (3 runs)")


if __name__ == "__main__":
    main()
