"""Throughput of the sweep engine on the large example (1,010,880 design points).

Target (issue: sweeps): the large example completes locally on 2 cores in under 10 minutes.
Run: ``python benchmarks/bench_sweep.py [--processes 2] [--dask-local 2]``; prints the wall time
and the design points per second per core.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--dask-local", type=int, default=0)
    ap.add_argument("--spec", default=str(Path(__file__).resolve().parents[1] / "examples" / "sweep-large.yaml"))
    args = ap.parse_args()
    from stargate.sweep.engine import run_sweep
    from stargate.sweep.spec import SweepSpec

    spec = SweepSpec.model_validate(yaml.safe_load(Path(args.spec).read_text()))
    cores = args.dask_local or args.processes
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        counts = run_sweep(spec, Path(tmp) / "out", processes=args.processes, dask_local=args.dask_local)
        wall = time.perf_counter() - t
        size = sum(p.stat().st_size for p in (Path(tmp) / "out").glob("*.parquet"))
    print(f"{spec.name}: {counts['points']:,} points in {counts['chunks']} chunks, {wall:.1f} s wall on {cores} core(s): "
          f"{counts['points'] / wall:,.0f} points/s, {counts['points'] / wall / cores:,.0f} points/s per core; "
          f"{size / 1e6:.0f} MB of Parquet")


if __name__ == "__main__":
    main()
