"""Sweep results on disk: one Parquet file per chunk, written atomically, verified, queried with DuckDB.

A results directory holds ``spec.json`` (the spec and its hash), ``chunk-NNNNNN.parquet`` files
and, beside each, its digest ``chunk-NNNNNN.parquet.sha256``. A chunk is written to a uniquely
named temporary file and renamed into place after its digest (``os.replace`` is atomic on POSIX),
so a sweep killed at any moment leaves only whole chunks, each with its digest, and a re-run
computes exactly the chunks that are missing. Every file carries the spec, its hash, its own
index and the library versions in its Parquet metadata. Nothing is trusted before it is verified
(:mod:`stargate.sweep.integrity`): ``sweep`` recomputes a chunk that fails, :func:`connect`
refuses the directory while one does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from stargate.errors import InputError, clip
from stargate.sweep.integrity import (
    check_chunks,
    chunk_name,
    chunk_problem,
    quarantine,
    read_spec_record,
    remove_stale_temps,
    write_atomic,
    write_digest,
)

__all__ = ["connect", "done_chunks", "make_dir", "prepare_dir", "spec_hash", "verify_for_sweep", "write_chunk"]


def spec_hash(spec_json: str) -> str:
    """Stable hash of a spec's canonical JSON."""
    return hashlib.sha256(spec_json.encode()).hexdigest()[:16]


def make_dir(out: Path) -> None:
    """Create the results directory (and its parents), or say in one line why it cannot be."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError("--out", str(out), f"a directory that can be created ({e.strerror})") from None
    if not out.is_dir():
        raise InputError("--out", str(out), "a directory (this is a file)")


def prepare_dir(out: Path, spec_json: str) -> list[str]:
    """Check that ``out`` holds results of this same spec or none, and record the spec in it.

    Call while holding the directory's lock. Without an intact ``spec.json``, the chunks' own
    spec hashes decide: a directory whose chunks belong to another spec is refused. Returns
    warnings for the user.
    """
    digest = spec_hash(spec_json)
    record, state = read_spec_record(out)
    if record is not None and record["hash"] != digest:
        raise InputError("--out", str(out), f"a new directory: this one holds results of another spec "
                                             f"({clip(str(record.get('name')), 60)})")
    warnings = []
    if record is None:
        if state == "damaged":
            warnings.append(f"{out / 'spec.json'} is damaged; its chunks' own spec hashes decide")
        for path in sorted(out.glob("chunk-*.parquet")):
            problem, carried = chunk_problem(path, None)
            if problem is None and carried != digest:
                raise InputError("--out", str(out), f"a new directory: its chunks belong to another spec ({path.name} "
                                                     f"carries spec {clip(str(carried), 20)}) and spec.json is {state}")
        spec = json.loads(spec_json)
        write_atomic(out / "spec.json", json.dumps({"hash": digest, "name": spec["name"], "spec": spec}).encode())
    remove_stale_temps(out)
    return warnings


def verify_for_sweep(out: Path, spec_json: str) -> tuple[set[int], dict[str, str]]:
    """Indices of the chunks that verify, and the untrusted ones (moved to ``quarantine/``) with why."""
    good, bad = check_chunks(out, spec_hash(spec_json))
    if bad:
        quarantine(out, sorted(bad))
    return set(good), bad


def done_chunks(out: Path) -> set[int]:
    """Indices of the chunks written and verified (against the directory's ``spec.json``)."""
    record, _ = read_spec_record(out)
    return set(check_chunks(out, record["hash"] if record else None)[0])


def write_chunk(out: Path, index: int, table: Any, spec_json: str) -> None:
    """Write one chunk and its digest atomically, with the spec, its hash, the chunk's index and the
    library versions in the file's metadata."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from stargate import __version__

    t = table if isinstance(table, pa.Table) else pa.table(table)
    meta = {b"stargate.spec": spec_json.encode(), b"stargate.spec_hash": spec_hash(spec_json).encode(),
            b"stargate.chunk": str(index).encode(),
            b"stargate.versions": json.dumps({"stargate": __version__, "pyarrow": pa.__version__,
                                              "numpy": np.__version__}).encode()}
    t = t.replace_schema_metadata({**(t.schema.metadata or {}), **meta})
    sink = pa.BufferOutputStream()
    pq.write_table(t, sink)
    data = sink.getvalue().to_pybytes()
    final = out / chunk_name(index)
    write_digest(final, hashlib.sha256(data).hexdigest())  # digest first: a chunk never exists without one
    write_atomic(final, data)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _refuse_untrusted(out: Path, bad: dict[str, str]) -> InputError:
    names = sorted(bad)
    listed = "; ".join(f"{n} {bad[n]}" for n in names[:3]) + (f"; and {len(names) - 3} more" if len(names) > 3 else "")
    return InputError("DIR", str(out), f"a sweep whose chunks all verify ({listed}); re-run `stargate sweep SPEC "
                                       f"--out {clip(str(out), 60)}` to recompute them")


def connect(out: Path) -> Any:
    """A DuckDB connection with the sweep's verified results as the view ``results``.

    Every chunk is verified first (digest, spec hash, index); an untrusted one is named in the
    error. The connection reads those chunk files and nothing else: external access is disabled
    and the configuration locked, so SQL run on it can neither read other files nor write any.
    """
    import duckdb

    if not out.is_dir():
        raise InputError("DIR", str(out), "a sweep results directory with chunk-*.parquet files")
    record, _ = read_spec_record(out)
    good, bad = check_chunks(out, record["hash"] if record else None)
    if bad:
        raise _refuse_untrusted(out, bad)
    if not good:
        raise InputError("DIR", str(out), "a sweep results directory with chunk-*.parquet files")
    files = ", ".join(_sql_text(str(p.resolve())) for _, p in sorted(good.items()))
    con = duckdb.connect()
    for stmt in ("SET temp_directory=''", "SET enable_progress_bar=false", "SET allowed_directories=[]",
                 f"SET allowed_paths=[{files}]",
                 f"CREATE VIEW results AS SELECT * FROM read_parquet([{files}])",
                 "SET enable_external_access=false", "SET lock_configuration=true"):
        con.execute(stmt)
    return con
