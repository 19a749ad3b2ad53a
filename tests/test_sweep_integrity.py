"""Sweeps that cannot lie (issue 10): digests, spec hashes, the directory lock, workers that die
with their parent, and exact resume after ``kill -9`` of a ``--processes 2`` sweep."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from stargate.sweep.engine import run_sweep
from stargate.sweep.integrity import check_chunks, digest_path, lock_directory, temp_path
from stargate.sweep.spec import SweepSpec

SMALL = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.yaml"
OTHER = "name: other\naxes:\n  accelerator: [h100]\n  gpus: [8, 16, 32]\nfixed: {model: llama3.1-8b}\nchunk_size: 20\n"


def _table(out: Path):
    return pq.read_table(sorted(out.glob("chunk-*.parquet"))).replace_schema_metadata(None).sort_by("design_id")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished small sweep (60 points, 3 chunks) and a finished sweep of another spec."""
    root = tmp_path_factory.mktemp("finished")
    run_sweep(SweepSpec.model_validate(yaml.safe_load(SMALL.read_text())), root / "small")
    run_sweep(SweepSpec.model_validate(yaml.safe_load(OTHER)), root / "other")
    return root


@pytest.fixture
def small(finished, tmp_path):
    out = tmp_path / "small"
    shutil.copytree(finished / "small", out)
    return out


def _one_line_exit_2(r) -> None:
    assert r.code == 2, (r.code, r.stderr)
    assert r.stderr.startswith("stargate: error: ") and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def _spec_hash(out: Path) -> str:
    return json.loads((out / "spec.json").read_text())["hash"]


def test_every_chunk_has_a_sha256sum_digest_and_carries_its_spec_and_index(small):
    for chunk in small.glob("chunk-*.parquet"):
        line = digest_path(chunk).read_text()
        assert line.endswith(f"  {chunk.name}\n") and len(line.split()[0]) == 64
        meta = pq.read_metadata(chunk).metadata
        assert meta[b"stargate.spec_hash"].decode() == _spec_hash(small)
        assert meta[b"stargate.chunk"] == str(int(chunk.stem.split("-")[1])).encode()
    assert not list(small.glob(".*.tmp"))


def test_bit_flips_are_all_detected_by_name_and_repaired(small, cli):
    """Issue 10: 15.7% of single-bit flips in a finished sweep's Parquet silently changed values."""
    rng = np.random.default_rng(10)
    files = sorted(small.glob("chunk-*.parquet")) + sorted(small.glob("chunk-*.sha256"))
    original = {f: f.read_bytes() for f in files}
    readable = {f: pq.read_table(f) for f in files if f.suffix == ".parquet"}
    total = changing = detected = 0
    for _ in range(240):
        f = files[rng.integers(len(files))]
        data = bytearray(original[f])
        data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
        f.write_bytes(bytes(data))
        chunk = f if f.suffix == ".parquet" else f.with_suffix("")
        _, bad = check_chunks(small, _spec_hash(small))
        total += 1
        detected += chunk.name in bad and len(bad) == 1
        if f.suffix == ".parquet":
            with contextlib.suppress(Exception):  # unreadable is loud, not silent
                changing += not pq.read_table(f).equals(readable[f])
        f.write_bytes(original[f])
    assert detected == total == 240 and changing > 0  # every flip caught, the value-changing ones included
    before = _table(small)
    victim = small / "chunk-000001.parquet"
    data = bytearray(original[victim])
    data[len(data) // 2] ^= 0x10
    victim.write_bytes(bytes(data))
    for args in (("query", str(small), "SELECT count(*) FROM results"), ("pareto", str(small))):
        r = cli(*args)
        _one_line_exit_2(r)
        assert "chunk-000001.parquet is damaged" in r.stderr
    r = cli("sweep", str(SMALL), "--out", str(small), "--json")
    assert r.code == 0 and "chunk-000001.parquet is damaged" in r.stderr
    counts = r.json()
    assert counts["computed"] == 1 and list(counts["repaired"]) == ["chunk-000001.parquet"]
    assert _table(small).equals(before) and list((small / "quarantine").iterdir())


def test_truncated_chunk_is_named_and_recomputed(small, cli):
    """Issue 10: a truncated chunk was reported as bad SQL and never repaired."""
    before = _table(small)
    victim = small / "chunk-000002.parquet"
    victim.write_bytes(victim.read_bytes()[:1000])
    r = cli("query", str(small), "SELECT 1")
    _one_line_exit_2(r)
    assert "chunk-000002.parquet is damaged" in r.stderr
    counts = cli("sweep", str(SMALL), "--out", str(small), "--json").json()
    assert counts["computed"] == 1 and "chunk-000002.parquet" in counts["repaired"]
    assert _table(small).equals(before)


@pytest.mark.parametrize("with_digest", [True, False])
def test_chunk_copied_from_another_sweep_is_named_and_recomputed(small, finished, cli, with_digest):
    """Issue 10: a chunk copied in from another sweep was counted."""
    before = _table(small)
    shutil.copy(finished / "other" / "chunk-000000.parquet", small / "chunk-000000.parquet")
    if with_digest:
        shutil.copy(finished / "other" / "chunk-000000.parquet.sha256", small / "chunk-000000.parquet.sha256")
    r = cli("query", str(small), "SELECT count(*) FROM results")
    _one_line_exit_2(r)
    assert "chunk-000000.parquet" in r.stderr
    assert ("belongs to another sweep (other" if with_digest else "is damaged") in r.stderr
    counts = cli("sweep", str(SMALL), "--out", str(small), "--json").json()
    assert list(counts["repaired"]) == ["chunk-000000.parquet"] and counts["computed"] == 1
    assert _table(small).equals(before)


def test_chunk_moved_to_another_slot_is_caught(small):
    src, dst = small / "chunk-000000.parquet", small / "chunk-000001.parquet"
    shutil.copy(src, dst)
    digest_path(dst).write_text(digest_path(src).read_text().replace(src.name, dst.name))
    _, bad = check_chunks(small, _spec_hash(small))
    assert list(bad) == [dst.name] and "another chunk" in bad[dst.name]


def test_spec_json_deleted_another_spec_does_not_adopt_the_rows(finished, tmp_path, cli):
    """Issue 10: with spec.json deleted, a different spec adopted the old rows."""
    out = tmp_path / "other"
    shutil.copytree(finished / "other", out)
    (out / "spec.json").unlink()
    r = cli("sweep", str(SMALL), "--out", str(out))
    _one_line_exit_2(r)
    assert "another spec" in r.stderr and not list(out.glob("quarantine"))
    assert sorted(p.name for p in out.glob("chunk-*.parquet")) == ["chunk-000000.parquet"]


def test_spec_json_deleted_same_spec_resumes_without_recomputing(small, cli):
    (small / "spec.json").unlink()
    counts = cli("sweep", str(SMALL), "--out", str(small), "--json").json()
    assert counts["computed"] == 0 and counts["skipped"] == 3 and (small / "spec.json").exists()


def test_second_sweep_on_a_directory_in_use_is_refused(small, cli):
    """Issue 10: two sweeps on one directory shared one temp-file name; one writer crashed."""
    with lock_directory(small):
        r = cli("sweep", str(SMALL), "--out", str(small))
    _one_line_exit_2(r)
    assert f"is in use by another sweep (pid {os.getpid()})" in r.stderr
    assert cli("sweep", str(SMALL), "--out", str(small)).code == 0  # released


def test_temp_names_are_unique_and_stale_ones_are_cleared(small, cli):
    a, b = temp_path(small / "chunk-000000.parquet"), temp_path(small / "chunk-000000.parquet")
    assert a != b and f".{os.getpid()}." in a.name and a.name.startswith(".") and a.name.endswith(".tmp")
    a.write_bytes(b"half a chunk")
    (small / ".chunk-000001.tmp").write_bytes(b"an old-style temp")
    assert cli("sweep", str(SMALL), "--out", str(small)).code == 0
    assert not list(small.glob(".*.tmp"))


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (psutil if installed, else /proc)."""
    try:
        import psutil

        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except ImportError:
        kids, todo = set(), [pid]
        while todo:
            p = todo.pop()
            for task in Path(f"/proc/{p}/task").glob("*/children"):
                new = {int(x) for x in task.read_text().split()}
                todo.extend(new - kids)
                kids |= new
        return kids


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_kill9_of_processes_2_leaves_no_workers_and_resumes_exactly(tmp_path):
    """Issue 10: ``kill -9`` of ``sweep --processes 2`` left both workers alive, every time."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: kill\naxes:\n  accelerator: [h100]\n  budget_usd: {start: 1.0e+9, stop: 3.0e+10, num: 40}\n"
                    "fixed: {model: llama3.1-8b}\nchunk_size: 1\n")
    out = tmp_path / "r"
    cmd = [sys.executable, "-m", "stargate", "sweep", str(spec), "--out", str(out), "--json"]
    proc = subprocess.Popen([*cmd, "--processes", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("chunk-*.parquet"))) < 4:
        time.sleep(0.01)
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(workers) >= 2
    deadline = time.time() + 5
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.05)
    assert not [p for p in workers if _alive(p)], "workers outlived their parent"
    before = {p.name: p.read_bytes() for p in out.glob("chunk-*.parquet")}
    assert 0 < len(before) < 40
    r = subprocess.run([*cmd, "--processes", "2"], check=True, capture_output=True, text=True)
    counts = json.loads(r.stdout)
    assert counts["skipped"] == len(before) and counts["computed"] == 40 - len(before) and not counts["repaired"]
    assert all((out / name).read_bytes() == data for name, data in before.items())  # none computed twice
    reference = tmp_path / "uninterrupted"
    run_sweep(SweepSpec.model_validate(yaml.safe_load(spec.read_text())), reference)
    t = _table(out)
    assert t.num_rows == 40 and len(set(t.column("design_id").to_pylist())) == 40
    assert t.equals(_table(reference))
