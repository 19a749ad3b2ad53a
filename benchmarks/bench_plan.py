"""Speed of ``stargate plan`` on the built-in scenario: the command in a fresh process, and the chain in-process.

Target: the built-in plan in under 3 s, imports included (``tests/test_plan.py`` times it too).
The serving figures (one serving search per accelerator of the plan, :mod:`stargate.serving`) are
timed on their own where the installed version has them. Numerical libraries are held to one
thread. Run: ``python benchmarks/bench_plan.py [--repeat N]``.

Measured (16-core build machine, 7 runs): before the plan had serving figures, the command took a
median 0.82 s (max 1.25 s) and ``run_plan`` 122 ms warm; with them, 1.27 s (max 1.89 s) and 168 ms,
the five serving searches 86 ms warm. The fresh process pays most of the difference once: the
first DeepSeek-V3 search fills the MoE kernel-time caches (``stargate.kernels.moe``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def _command(repeat: int) -> list[float]:
    """Wall time of ``python -m stargate plan`` (text summary), each in a fresh interpreter."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stargate", "plan"], check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def _in_process(repeat: int) -> tuple[list[float], list[float]]:
    """``run_plan`` of the built-in scenario in this process (warm), and the serving searches alone."""
    from stargate.catalog import Catalog
    from stargate.plan import builtin_scenario, run_plan

    cat = Catalog.load()
    scenario = builtin_scenario()
    run_plan(scenario, cat)  # warm: catalog, kernel tables, presets
    chain, serving = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        plan = run_plan(scenario, cat)
        chain.append(time.perf_counter() - t)
        serving.append(_serving_only(plan, scenario, cat))
    return chain, serving


def _serving_only(plan, scenario, cat) -> float:
    """Seconds of the plan's serving searches (one per accelerator), or nan where the version has none."""
    try:
        from stargate.capacity import serving_rate
        from stargate.training.presets import load_model
    except ImportError:
        return float("nan")
    model = load_model(scenario.serving.model)[0]
    t = time.perf_counter()
    for acc in {p.accelerator for p in plan.phases}:
        serving_rate(model, acc, scenario.serving, cat)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cmd = _command(args.repeat)
    chain, serving = _in_process(args.repeat)
    print(f"stargate plan, fresh process: median {statistics.median(cmd):.2f} s, max {max(cmd):.2f} s "
          f"over {args.repeat} runs (target < 3 s)")
    print(f"run_plan in-process (warm): median {1e3 * statistics.median(chain):.0f} ms; "
          f"of which the serving searches alone: median {1e3 * statistics.median(serving):.0f} ms")


if __name__ == "__main__":
    main()
