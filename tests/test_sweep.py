"""Sweeps: specs and their errors, resumable Parquet results, identical Dask results, Pareto fronts."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from stargate.format import format_quantity, format_usd
from stargate.sweep.engine import run_sweep
from stargate.sweep.pareto import pareto_mask
from stargate.sweep.spec import SweepSpec, design_ids, points

SMALL = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.yaml"


def _table(out: Path):
    t = pq.read_table(sorted(out.glob("chunk-*.parquet")))
    return t.sort_by("design_id")


def test_small_example_sweep_and_query(cli, tmp_path):
    out = tmp_path / "r"
    r = cli("sweep", str(SMALL), "--out", str(out), "--json")
    assert r.code == 0, r.stderr
    counts = r.json()
    t = _table(out)
    assert t.num_rows == counts["points"] == 60
    assert len(set(t.column("design_id").to_pylist())) == 60
    meta = pq.read_metadata(next(out.glob("chunk-*.parquet"))).metadata
    assert b"stargate.spec" in meta and b"stargate.versions" in meta
    rows = cli("query", str(out), "SELECT count(*) AS n FROM results WHERE feasible", "--json").json()
    assert rows[0]["n"] > 0
    # The text table reads like the rest of the tool: dollars and watts by the column's name, no exponents.
    sql = "SELECT max(capex_usd) AS capex_usd, max(facility_power_w) AS facility_power_w, sum(capex_usd) AS s FROM results"
    top = cli("query", str(out), sql, "--json").json()[0]
    text = cli("query", str(out), sql).stdout
    assert format_usd(top["capex_usd"]) in text and format_quantity(top["facility_power_w"], "W") in text
    assert "e+" not in text
    again = cli("sweep", str(SMALL), "--out", str(out), "--json").json()
    assert again["computed"] == 0 and again["skipped"] == counts["chunks"]


def test_design_id_is_stable_across_specs():
    a = SweepSpec(name="a", axes={"accelerator": ["h100", "gb200"], "gpus": [8, 16]})
    b = SweepSpec(name="b", axes={"gpus": [16, 8], "accelerator": ["gb200"]})
    ids_a = dict(zip([(x, g) for x, g in zip(points(a, 0, 4)["accelerator"], points(a, 0, 4)["gpus"], strict=True)],
                     design_ids(points(a, 0, 4)), strict=True))
    pb = points(b, 0, 2)
    for acc, g, i in zip(pb["accelerator"], pb["gpus"], design_ids(pb), strict=True):
        assert ids_a[(acc, g)] == i


def test_dask_local_cluster_gives_identical_results(tmp_path):
    spec = SweepSpec.model_validate(yaml.safe_load(SMALL.read_text()))
    run_sweep(spec, tmp_path / "local")
    run_sweep(spec, tmp_path / "dask", dask_local=2)
    assert _table(tmp_path / "local").equals(_table(tmp_path / "dask"))


def test_killed_sweep_resumes_without_recomputing_or_losing(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: kill\naxes:\n  accelerator: [h100]\n  budget_usd: {start: 1.0e+9, stop: 2.0e+10, num: 40}\n"
                    "fixed: {model: llama3.1-8b}\nchunk_size: 1\n")
    out = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, "-m", "stargate", "sweep", str(spec), "--out", str(out), "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("chunk-*.parquet"))) < 3:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("chunk-*.parquet")}
    assert 0 < len(before) < 40
    r = subprocess.run([sys.executable, "-m", "stargate", "sweep", str(spec), "--out", str(out), "--json"],
                       check=True, capture_output=True, text=True)
    counts = json.loads(r.stdout)
    assert counts["skipped"] == len(before) and counts["computed"] == 40 - len(before)
    for name, (mtime, data) in before.items():  # no chunk computed twice
        p = out / name
        assert p.stat().st_mtime_ns == mtime and p.read_bytes() == data
    t = _table(out)
    assert t.num_rows == 40 and len(set(t.column("design_id").to_pylist())) == 40  # none lost, no duplicates
    assert not list(out.glob(".chunk-*.tmp"))


def test_pareto_front_is_non_dominated(cli, tmp_path):
    out = tmp_path / "r"
    cli("sweep", str(SMALL), "--out", str(out))
    csv_out = tmp_path / "front.csv"
    for group_by in ("none", "model"):  # one front; one front per model (the default on this sweep)
        front = cli("pareto", str(out), "--objectives", "capex_usd,time_to_train_s", "--group-by", group_by,
                    "--out", str(csv_out), "--json").json()
        assert front and csv_out.exists()
        for group in {r["group"] for r in front}:
            pts = np.array([[r["capex_usd"], r["time_to_train_s"]] for r in front if r["group"] == group])
            for i, p in enumerate(pts):
                others = np.delete(pts, i, axis=0)
                assert not np.any(np.all(others <= p, axis=1) & np.any(others < p, axis=1))


def test_pareto_mask_brute_force():
    rng = np.random.default_rng(0)
    v = rng.random((300, 3))
    mask = pareto_mask(v)
    for i in range(len(v)):
        dominated = np.any(np.all(v <= v[i], axis=1) & np.any(v < v[i], axis=1))
        assert mask[i] == (not dominated)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("name: x\naxes:\n  colour: [red]\n  accelerator: [h100]\n  gpus: [8]\n", ["axes", "unknown axis 'colour'"]),
        ("name: x\naxes:\n  accelerator: []\n  gpus: [8]\n", ["axes", "axis 'accelerator' is empty"]),
        ("name: x\naxes:\n  accelerator: [h100]\n", ["sizing", "exactly one of"]),
        ("name: x\naxes:\n  accelerator: [h100]\n  gpus: [8, 16]\nmax_points: 1\n", ["spec", "2 points", "--yes"]),
        ("name: x\naxes:\n  accelerator: [h100]\n  gpus: [8]\nconstraints: ['power is high']\n", ["constraints"]),
    ],
)
def test_bad_specs(cli, tmp_path, text, fragments):
    f = tmp_path / "spec.yaml"
    f.write_text(text)
    r = cli("sweep", str(f), "--out", str(tmp_path / "o"))
    assert r.code == 2 and "\n" not in r.stderr.strip() and "Traceback" not in r.stderr
    for frag in fragments:
        assert frag in r.stderr


def test_query_and_pareto_bad_input(cli, tmp_path):
    assert cli("query", str(tmp_path), "SELECT 1").code == 2
    out = tmp_path / "r"
    cli("sweep", str(SMALL), "--out", str(out))
    r = cli("query", str(out), "SELEKT nonsense")
    assert r.code == 2 and "SQL" in r.stderr
    assert cli("pareto", str(out), "--objectives", "beauty").code == 2
