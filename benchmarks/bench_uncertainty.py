"""Speed of the ranges of ``stargate design`` and ``stargate fabric`` (``--uncertainty 10000``).

Target: ``design --uncertainty 10000`` in under 1 s. The core call (model built, samples drawn and pushed
through the chain, percentiles) is timed after import; the CLI call is the whole process, start-up and
the point answer included. Run: ``python benchmarks/bench_uncertainty.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from bench_design import _time  # the same timer as the designer's benchmark (this folder is on the path)

SAMPLES = 10_000


def main() -> None:
    from stargate.catalog import Catalog
    from stargate.fabric.design import FabricRequest
    from stargate.scenario import DesignRequest
    from stargate.uncertainty.design import design_answer, fabric_model
    from stargate.uncertainty.propagate import propagate

    cat = Catalog.load()
    core = {
        "design 100,000 H100 by count": lambda: design_answer(DesignRequest(accelerator="h100", gpus=100_000), cat,
                                                              samples=SAMPLES),
        "design $100B of GB200 by budget": lambda: design_answer(DesignRequest(accelerator="gb200", budget_usd=100e9),
                                                                 cat, samples=SAMPLES),
        "design 5 GW of GB200 by power": lambda: design_answer(DesignRequest(accelerator="gb200", power_w=5e9), cat,
                                                               samples=SAMPLES),
        "fabric 100,000 H100": lambda: propagate(fabric_model(FabricRequest(gpus=100_000), cat), SAMPLES),
    }
    print(f"core calls, {SAMPLES:,} samples (after import; first call, then median of 5):")
    for name, fn in core.items():
        first = _time(fn, 1)[0]
        runs = _time(fn, 5)
        print(f"  {name}: first {first:.3f} s, median {statistics.median(runs):.3f} s")
    cli = {
        "design --gpus 100k": ["design", "--accelerator", "h100", "--gpus", "100k"],
        "design --budget 90e9..110e9": ["design", "--accelerator", "gb200", "--budget", "90e9..110e9"],
        "fabric --gpus 100k": ["fabric", "--gpus", "100k"],
    }
    print(f"CLI calls with --uncertainty {SAMPLES} --json (whole process; median of 3):")
    for name, args in cli.items():
        base = _time(lambda a=args: subprocess.run([sys.executable, "-m", "stargate", *a, "--json"], check=True,
                                                   capture_output=True), 3)
        ranged = _time(lambda a=args: subprocess.run([sys.executable, "-m", "stargate", *a, "--json", "--uncertainty",
                                                      str(SAMPLES)], check=True, capture_output=True), 3)
        print(f"  {name}: {statistics.median(ranged):.3f} s (without ranges {statistics.median(base):.3f} s)")


if __name__ == "__main__":
    main()
