"""Run a sweep: chunks evaluated in-process, in local processes, or on a Dask cluster.

The spec expands lazily: chunk ``k`` is points ``k·size`` to ``(k+1)·size``, decoded when it is
evaluated. Workers return the chunk as an Arrow table; the driver writes each as a Parquet file as it
arrives (so workers need no shared filesystem) and skips chunks already on disk, which makes a
re-run of a killed sweep resume where it stopped. Every backend evaluates the same chunks with
the same code, so their results are identical, bit for bit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stargate.sweep.spec import SweepSpec, points
from stargate.sweep.store import done_chunks, prepare_dir, write_chunk

__all__ = ["apply_constraints", "run_chunk", "run_sweep"]


def apply_constraints(table: dict[str, list[Any]], constraints: list[str]) -> list[bool]:
    """Per row, whether the design is feasible and meets every constraint."""
    import operator

    ops = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}
    n = len(table["design_id"])
    ok = [bool(table["feasible"][i]) for i in range(n)]
    for c in constraints:
        parts = c.split()
        if parts[0] not in table:
            continue
        col = table[parts[0]]
        for i in range(n):
            if not ok[i]:
                continue
            v = col[i]
            ok[i] = bool(v) if len(parts) == 1 else (v is not None and ops[parts[1]](v, float(parts[2])))
    return ok


def run_chunk(spec_json: str, index: int) -> Any:
    """Evaluate chunk ``index`` of a spec into an Arrow table (what every backend runs; it pickles
    as Arrow IPC, cheaply)."""
    import pyarrow as pa

    from stargate.sweep.evaluate import evaluate_chunk

    spec = SweepSpec.model_validate_json(spec_json)
    start = index * spec.chunk_size
    table = evaluate_chunk(points(spec, start, min(start + spec.chunk_size, spec.size)))
    table["meets_constraints"] = apply_constraints(table, spec.constraints)
    return pa.table(table)


def _local(spec_json: str, todo: list[int], processes: int) -> Iterator[tuple[int, Any]]:
    if processes <= 1:
        for i in todo:
            yield i, run_chunk(spec_json, i)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(processes) as pool:
        futures = {pool.submit(run_chunk, spec_json, i): i for i in todo}
        for f in as_completed(futures):
            yield futures[f], f.result()


def _dask(spec_json: str, todo: list[int], scheduler: str | None, local_workers: int) -> Iterator[tuple[int, Any]]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=":0") \
        if scheduler is None else None
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = client.map(run_chunk, [spec_json] * len(todo), todo, pure=False)
        index = {f.key: i for f, i in zip(futures, todo, strict=True)}
        for f in as_completed(futures):
            yield index[f.key], f.result()
            f.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(spec: SweepSpec, out: Path, processes: int = 1, scheduler: str | None = None, dask_local: int = 0,
              progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Evaluate every missing chunk of ``spec`` into ``out``; returns counts of chunks and rows."""
    spec.check()
    spec_json = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    prepare_dir(out, spec_json)
    chunks = -(-spec.size // spec.chunk_size)
    todo = sorted(set(range(chunks)) - done_chunks(out))
    source = _dask(spec_json, todo, scheduler, dask_local) if (scheduler or dask_local) else _local(spec_json, todo, processes)
    written = 0
    for i, table in source:
        write_chunk(out, i, table, spec_json)
        written += 1
        if progress:
            progress(written, len(todo))
    return {"chunks": chunks, "computed": written, "skipped": chunks - len(todo), "points": spec.size}
