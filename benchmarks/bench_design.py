"""Speed of the designer and of the CLI's start-up.

Targets (issue: foundation): a 5,000,000-GPU design in under 50 ms after import, and
`stargate --help` in under 0.5 s. Run: ``python benchmarks/bench_design.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    t0 = time.perf_counter()
    from stargate.catalog import Catalog
    from stargate.cluster.design import design_cluster
    from stargate.scenario import DesignRequest

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    Catalog.load()
    t_catalog = time.perf_counter() - t0
    cases = {
        "5,000,000 GB200 by count": DesignRequest(accelerator="gb200", gpus=5_000_000),
        "$100B of GB200 by budget": DesignRequest(accelerator="gb200", budget_usd=100e9),
        "5 GW of H100 by power": DesignRequest(accelerator="h100", power_w="5 GW"),
    }
    print(f"import {t_import * 1e3:.0f} ms, shipped catalog load {t_catalog * 1e3:.0f} ms")
    for name, req in cases.items():
        first = _time(lambda req=req: design_cluster(req), 1)[0]
        runs = _time(lambda req=req: design_cluster(req), 50)
        print(f"{name}: first {first * 1e3:.2f} ms, median {statistics.median(runs) * 1e3:.2f} ms, "
              f"max {max(runs) * 1e3:.2f} ms")
    helps = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stargate", "--help"], check=True, capture_output=True)
        helps.append(time.perf_counter() - t)
    print(f"`stargate --help`: median {statistics.median(helps):.3f} s, max {max(helps):.3f} s (5 runs)")


if __name__ == "__main__":
    main()
