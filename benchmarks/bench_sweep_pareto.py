"""Time of the Pareto front of a sweep whose every design is on the front (the slow case).

Target (issue 10): ``GET /pareto`` on a 30,000-design front took 15 s; ``pareto_front`` on 30,000
designs, all non-dominated, in well under 1 s. The benchmark writes a synthetic results directory
(the real result schema, the three default objectives on the plane x + y + z = 1, so that no design
dominates another), then times ``pareto_front`` and, for comparison, the row-at-a-time algorithm
it replaced (kept below as ``_old_mask``).

Run: ``python benchmarks/bench_sweep_pareto.py [--rows 30000] [--objectives 3] [--old]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def _old_mask(values: np.ndarray) -> np.ndarray:
    """The algorithm before issue 10: one design at a time, the front grown by ``np.vstack``."""
    n = len(values)
    keep = np.zeros(n, dtype=bool)
    order = np.lexsort(values.T[::-1])
    front = np.empty((0, values.shape[1]))
    for i in order:
        v = values[i]
        if len(front) and np.any(np.all(front <= v, axis=1)):
            continue
        front = np.vstack([front, v])
        keep[i] = True
    return keep


def write_results(out: Path, rows: int, objectives: list[str], seed: int = 0) -> None:
    """A verified results directory of ``rows`` designs, all on the front of ``objectives``."""
    import pyarrow as pa

    from stargate.sweep.schema import arrow_schema
    from stargate.sweep.spec import SweepSpec
    from stargate.sweep.store import prepare_dir, write_chunk

    spec = SweepSpec(name="bench-pareto", axes={"accelerator": ["h100"], "gpus": [8]})
    schema = arrow_schema(spec)
    spec_json = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    out.mkdir(parents=True)
    prepare_dir(out, spec_json)
    rng = np.random.default_rng(seed)
    front = rng.dirichlet(np.ones(len(objectives)), rows) * 1e9
    cols = {}
    for f in schema:
        if f.name in objectives:
            cols[f.name] = front[:, objectives.index(f.name)]
        elif pa.types.is_boolean(f.type):
            cols[f.name] = np.ones(rows, dtype=bool)
        elif pa.types.is_string(f.type):
            cols[f.name] = [f"{f.name}-{i % 7}" for i in range(rows)]
        elif pa.types.is_integer(f.type):
            cols[f.name] = rng.integers(1, 1000, rows)
        else:
            cols[f.name] = rng.random(rows)
    cols["design_id"] = [f"{i:016x}" for i in range(rows)]
    table = pa.table(cols, schema=schema)
    for i, start in enumerate(range(0, rows, 5000)):
        write_chunk(out, i, table.slice(start, 5000), spec_json)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--objectives", type=int, default=3, choices=[2, 3, 4])
    ap.add_argument("--old", action="store_true", help="also time the algorithm this replaced")
    args = ap.parse_args()
    from stargate.sweep.pareto import pareto_front, pareto_mask

    objectives = ["capex_usd", "time_to_train_s", "facility_power_w", "opex_usd_per_year"][: args.objectives]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        write_results(out, args.rows, objectives)
        times = []
        for _ in range(3):  # the first call also pays for importing DuckDB and pyarrow's compute
            t = time.perf_counter()
            front = pareto_front(out, objectives)
            times.append(time.perf_counter() - t)
    values = np.random.default_rng(0).dirichlet(np.ones(len(objectives)), args.rows)
    t = time.perf_counter()
    pareto_mask(values)
    mask_s = time.perf_counter() - t
    print(f"{args.rows:,} designs, {len(objectives)} objectives, {len(front):,} on the front: pareto_front {min(times):.3f} s "
          f"(first call {times[0]:.3f} s; the mask alone {mask_s:.3f} s)")
    if args.old:
        t = time.perf_counter()
        _old_mask(values)
        print(f"  the row-at-a-time mask it replaced: {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
