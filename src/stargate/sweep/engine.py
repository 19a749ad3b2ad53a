"""Run a sweep: chunks evaluated in-process, in local processes, or on a Dask cluster.

The spec expands lazily: chunk ``k`` is points ``k·size`` to ``(k+1)·size``, decoded when it is
evaluated. Workers return the chunk as an Arrow table; the driver writes each as a Parquet file as it
arrives (so workers need no shared filesystem) and skips chunks already on disk and verified, which
makes a re-run of a killed sweep resume where it stopped. Every backend evaluates the same chunks
with the same code, so their results are identical, bit for bit.

Before any work: the spec is checked whole (values, constraints, objectives), the options are
checked, and the directory is locked and verified (:mod:`stargate.sweep.integrity`). Local worker
processes die with the driver (:mod:`stargate.sweep.workers`); the Dask backend is
:mod:`stargate.dask_client`'s.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from stargate.dask_client import MAX_WORKERS, SCHEDULER_TIMEOUT_S, check_backend, connect, dask_map
from stargate.errors import InputError
from stargate.sweep.spec import SweepSpec, points
from stargate.sweep.store import make_dir, prepare_dir, verify_for_sweep, write_chunk

__all__ = ["MAX_WORKERS", "SCHEDULER_TIMEOUT_S", "apply_constraints", "check_options", "run_chunk", "run_sweep"]



@lru_cache(maxsize=16)
def _compiled(spec_json: str) -> tuple[Any, str]:
    from stargate.sweep.constraints import compile_constraints
    from stargate.sweep.schema import arrow_schema, result_columns

    spec = SweepSpec.model_validate_json(spec_json)
    return arrow_schema(spec), compile_constraints(spec.constraints, result_columns(spec))


def apply_constraints(table: Any, constraints: list[str]) -> list[bool]:
    """Per row of a table of results (Arrow, or a dict of columns), whether the design is feasible and
    meets every constraint."""
    import pyarrow as pa

    from stargate.sweep.constraints import compile_constraints, meets_constraints

    table = table if isinstance(table, pa.Table) else pa.table(table)
    columns = {f.name: {"bool": "bool", "string": "string", "int64": "int64"}.get(str(f.type), "double")
               for f in table.schema}
    return meets_constraints(table, compile_constraints(constraints, columns)).to_pylist()


def run_chunk(spec_json: str, index: int) -> Any:
    """Evaluate chunk ``index`` of a spec into an Arrow table with the results' schema (what every
    backend runs; it pickles as Arrow IPC, cheaply)."""
    import pyarrow as pa

    from stargate.sweep.constraints import meets_constraints
    from stargate.sweep.evaluate import evaluate_chunk

    spec = SweepSpec.model_validate_json(spec_json)
    schema, expression = _compiled(spec_json)
    start = index * spec.chunk_size
    cols = evaluate_chunk(points(spec, start, min(start + spec.chunk_size, spec.size)))
    cols["meets_constraints"] = [False] * len(cols["design_id"])
    table = pa.table(cols, schema=schema)
    return table.set_column(table.num_columns - 1, "meets_constraints", meets_constraints(table, expression))


def _local(spec_json: str, todo: list[int], processes: int) -> Iterator[tuple[int, Any]]:
    if processes <= 1:
        for i in todo:
            yield i, run_chunk(spec_json, i)
        return
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from stargate.sweep.workers import die_with_parent

    # spawn: a worker is a fresh interpreter, a direct child of this process, started from this thread
    # (fork would copy the progress thread's and DuckDB's locks in whatever state they are).
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(run_chunk, spec_json, i): i for i in todo}
        for f in as_completed(futures):
            yield futures[f], f.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _backend(processes: int, scheduler: str | None, dask_local: int) -> Iterator[Callable[[str, list[int]], Any]]:
    """A function ``(spec_json, todo) -> iterator of (index, table)`` on the chosen backend. A
    ``--scheduler`` is reached at once (fail fast, before the directory is touched); a local Dask
    cluster is started only if there is work for it."""
    if scheduler is None and dask_local <= 0:
        yield lambda spec_json, todo: _local(spec_json, todo, processes)
        return
    held: list[Any] = list(connect(scheduler, 0)) if scheduler is not None else []

    def run(spec_json: str, todo: list[int]) -> Iterator[tuple[int, Any]]:
        if not todo:
            return iter(())
        if not held:
            held.extend(connect(None, dask_local))
        return ((todo[j], table) for j, table in dask_map(held[0], run_chunk, [spec_json] * len(todo), todo))

    try:
        yield run
    finally:
        for thing in held:
            if thing is not None:
                thing.close()


def check_options(processes: int = 1, scheduler: str | None = None, dask_local: int = 0) -> None:
    """Check the backend options before any work: whole numbers in range, one backend, an address
    of the form ``tcp://HOST:PORT`` (:func:`stargate.dask_client.check_backend`)."""
    if isinstance(processes, bool) or not isinstance(processes, int) or not 1 <= processes <= MAX_WORKERS:
        raise InputError("--processes", processes, f"a whole number from 1 to {MAX_WORKERS}")
    if processes > 1 and (scheduler is not None or dask_local):
        given = "--scheduler" if scheduler is not None else "--dask-local"
        raise InputError(given, scheduler if scheduler is not None else dask_local,
                         f"one backend at a time: {given} cannot be used with --processes")
    check_backend(scheduler, dask_local)


def run_sweep(spec: SweepSpec, out: Path, processes: int = 1, scheduler: str | None = None, dask_local: int = 0,
              progress: Callable[[int, int], None] | None = None,
              warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate every missing or untrusted chunk of ``spec`` into ``out``.

    Returns counts of chunks (``chunks``, ``computed``, ``skipped``, ``points``) and ``repaired``:
    the chunks found damaged, foreign or unverifiable, by file name with the reason, which were
    moved to ``out/quarantine/`` and computed again.
    """
    spec.check()
    check_options(processes, scheduler, dask_local)
    spec_json = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    with _backend(processes, scheduler, dask_local) as compute:
        return _run(spec, spec_json, out, compute, progress, warn)


def _run(spec: SweepSpec, spec_json: str, out: Path, compute: Callable[[str, list[int]], Any],
         progress: Callable[[int, int], None] | None, warn: Callable[[str], None] | None) -> dict[str, Any]:
    from stargate.sweep.integrity import lock_directory

    make_dir(out)
    with lock_directory(out):
        for w in prepare_dir(out, spec_json):
            if warn:
                warn(w)
        good, bad = verify_for_sweep(out, spec_json)
        for name, problem in sorted(bad.items()):
            if warn:
                warn(f"{name} {problem}; moved to {out / 'quarantine'} and computing it again")
        chunks = -(-spec.size // spec.chunk_size)
        todo = sorted(set(range(chunks)) - good)
        written = 0
        for i, table in compute(spec_json, todo):
            write_chunk(out, i, table, spec_json)
            written += 1
            if progress:
                progress(written, len(todo))
    return {"chunks": chunks, "computed": written, "skipped": chunks - len(todo), "points": spec.size, "repaired": bad}
