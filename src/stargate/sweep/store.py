"""Sweep results on disk: one Parquet file per chunk, written atomically, queried with DuckDB.

A results directory holds ``spec.json`` (the spec and its hash) and ``chunk-NNNNNN.parquet``
files. Each chunk is written to a temporary name and renamed into place (``os.replace`` is atomic
on POSIX), so a sweep killed at any moment leaves only whole chunks, and a re-run computes exactly
the chunks that are missing. Every file carries the spec, its hash and the library versions in
its Parquet metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from stargate.errors import InputError

__all__ = ["connect", "done_chunks", "prepare_dir", "spec_hash", "write_chunk"]


def spec_hash(spec_json: str) -> str:
    """Stable hash of a spec's canonical JSON."""
    return hashlib.sha256(spec_json.encode()).hexdigest()[:16]


def prepare_dir(out: Path, spec_json: str) -> None:
    """Create the results directory, or check that it holds results of this same spec."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "spec.json"
    digest = spec_hash(spec_json)
    if manifest.exists():
        held = json.loads(manifest.read_text())
        if held.get("hash") != digest:
            raise InputError("--out", str(out), f"a new directory: this one holds results of another spec ({held.get('name')})")
    else:
        tmp = out / ".spec.json.tmp"
        tmp.write_text(json.dumps({"hash": digest, "name": json.loads(spec_json)["name"], "spec": json.loads(spec_json)}))
        os.replace(tmp, manifest)
    for stale in out.glob(".chunk-*.tmp"):
        stale.unlink()


def _name(index: int) -> str:
    return f"chunk-{index:06d}.parquet"


def done_chunks(out: Path) -> set[int]:
    """Indices of the chunks already written."""
    return {int(p.stem.split("-")[1]) for p in out.glob("chunk-*.parquet")}


def write_chunk(out: Path, index: int, table: Any, spec_json: str) -> None:
    """Write one chunk atomically, with the spec and versions in the file's metadata."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from stargate import __version__

    t = table if isinstance(table, pa.Table) else pa.table(table)
    meta = {b"stargate.spec": spec_json.encode(), b"stargate.spec_hash": spec_hash(spec_json).encode(),
            b"stargate.versions": json.dumps({"stargate": __version__, "pyarrow": pa.__version__,
                                              "numpy": np.__version__}).encode()}
    t = t.replace_schema_metadata({**(t.schema.metadata or {}), **meta})
    tmp = out / f".chunk-{index:06d}.tmp"
    pq.write_table(t, tmp)
    os.replace(tmp, out / _name(index))


def connect(out: Path) -> Any:
    """A DuckDB connection with the sweep's results as the view ``results``."""
    import duckdb

    if not out.is_dir() or not any(out.glob("chunk-*.parquet")):
        raise InputError("DIR", str(out), "a sweep results directory with chunk-*.parquet files")
    con = duckdb.connect()
    pattern = str(out / "chunk-*.parquet").replace("'", "''")
    con.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet('{pattern}')")
    return con
