"""Speed of the fabric model and the collective model at the largest sizes.

Target (issue: network): a 5,000,000-GPU fabric and its collectives in under 100 ms.
Run: ``python benchmarks/bench_fabric.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def _median_ms(fn, repeat: int = 20) -> tuple[float, float]:
    first = time.perf_counter()
    fn()
    first = time.perf_counter() - first
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return first * 1e3, statistics.median(runs) * 1e3


def main() -> None:
    from stargate.catalog import Catalog
    from stargate.fabric.collectives import Level, collective_time
    from stargate.fabric.design import FabricRequest, design_fabric

    cat = Catalog.load()
    for fabric in ("infiniband", "ethernet"):
        for acc in ("h100", "gb200", "gb300"):
            req = FabricRequest(gpus=5_000_000, fabric=fabric, accelerator=acc)
            first, med = _median_ms(lambda req=req: design_fabric(req, cat))
            d = design_fabric(req, cat)
            print(f"5,000,000 {acc} on {fabric}: {d.tiers} tiers, {d.switches:,} switches; "
                  f"fabric + 5 collectives: first {first:.2f} ms, median {med:.2f} ms")
    sizes = np.logspace(3, 11, 1000)
    members = np.arange(2, 1002)
    levels = [Level(8, 370e9, 2e-6), Level(members[:, None], 48e9, 6e-6)]
    first, med = _median_ms(lambda: collective_time("all_reduce", sizes[None, :], levels))
    print(f"all-reduce over 1,000 group sizes x 1,000 message sizes (1e6 cases): median {med:.1f} ms "
          f"({1e6 / (med / 1e3) / 1e6:.0f} M cases/s)")


if __name__ == "__main__":
    main()
