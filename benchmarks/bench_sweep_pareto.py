"""Time of Pareto fronts: a synthetic front where every design is on it, or a real sweep's directory.

Synthetic (the slow case for the dominance test): a results directory with the real schema and the
objectives on the plane x + y + z = 1, so that no design dominates another; times ``pareto_front``
and, with ``--old``, the row-at-a-time algorithm of before (kept below as ``_old_mask``).

Real (``--dir DIR``, e.g. the 1,010,880-point ``examples/sweep-large.yaml`` built with
``stargate sweep examples/sweep-large.yaml --out DIR --processes 4``): times the command
``stargate pareto DIR`` end to end (a fresh process each time, imports included; the front grouped by
model and token budget), wall and CPU, and the ``/pareto`` page of ``stargate serve --sweep DIR``:
the first request (which loads the sweep into the page's worker) and then requests for other
objectives, groupings and filters.

Run: ``python benchmarks/bench_sweep_pareto.py [--rows 30000] [--objectives 3] [--old]`` or
``python benchmarks/bench_sweep_pareto.py --dir DIR [--repeat 5] [--no-web]``.
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


def time_cli(results: Path, repeat: int) -> None:
    """``stargate pareto DIR`` in a fresh process, ``repeat`` times: wall and CPU seconds."""
    import resource
    import statistics
    import subprocess
    import sys

    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "stargate", "pareto", str(results), "--json"], capture_output=True,
                           check=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    rows = json.loads(r.stdout)
    print(f"stargate pareto {results.name}: {len(rows):,} designs on {len({x['group'] for x in rows})} fronts; "
          f"wall min {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
          f"CPU median {statistics.median(cpus):.2f} s ({repeat} runs)")


def time_web(results: Path) -> None:
    """The ``/pareto`` page: the first request, then other choices (each computed once, so each is new)."""
    import sys

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from web_server import running_server

    choices = [{}, {"objectives": "capex_usd,-mfu", "group_by": "accelerator"},
               {"objectives": "capex_usd,time_to_train_s", "group_by": "model,seq_len", "where": "fabric=ethernet"},
               {"objectives": "capex_usd,time_to_train_s,facility_power_w", "where": "gpus_built>=100000"},
               {"objectives": "tco_usd_per_gpu_hour,-tokens_per_s_per_gpu", "group_by": "none"},
               {"objectives": "capex_usd,time_to_train_s,facility_power_w,-goodput"}]
    with running_server("--sweep", str(results)) as url, httpx.Client(base_url=url, timeout=300) as c:
        for params in choices:
            t = time.perf_counter()
            r = c.get("/pareto", params=params)
            print(f"  GET /pareto {params or '(defaults)'}: {r.status_code}, {len(r.content) / 1e3:,.0f} kB, "
                  f"{time.perf_counter() - t:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--objectives", type=int, default=3, choices=[2, 3, 4])
    ap.add_argument("--old", action="store_true", help="also time the algorithm this replaced")
    ap.add_argument("--dir", type=Path, help="a sweep's results directory: time the command and the page on it")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-web", action="store_true", help="with --dir: the command only")
    args = ap.parse_args()
    if args.dir is not None:
        time_cli(args.dir, args.repeat)
        if not args.no_web:
            time_web(args.dir)
        return
    from stargate.sweep.pareto import pareto_front, pareto_mask

    objectives = ["capex_usd", "time_to_train_s", "facility_power_w", "opex_usd_per_year"][: args.objectives]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        write_results(out, args.rows, objectives)
        times = []
        for _ in range(3):  # the first call also pays for importing DuckDB and pyarrow's compute
            t = time.perf_counter()
            front = pareto_front(out, objectives, group_by="none")  # the dominance test on one front
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
