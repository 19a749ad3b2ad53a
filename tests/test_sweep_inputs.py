"""Sweep, query and pareto input cases from issue 10: each bad input is one line and exit 2, before
any work; constraints are DuckDB expressions; query reads no other file and prints strict JSON;
the Pareto front is fast."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from stargate.sweep.engine import run_sweep
from stargate.sweep.pareto import pareto_front, pareto_mask
from stargate.sweep.spec import SweepSpec

SMALL = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.yaml"
BASE = "name: x\naxes:\n  accelerator: [h100]\n  gpus: [8]\n"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("inputs") / "small"
    run_sweep(SweepSpec.model_validate(yaml.safe_load(SMALL.read_text())), out)
    return out


def _one_line_exit_2(r, *fragments: str) -> None:
    assert r.code == 2, (r.code, r.stderr)
    assert r.stderr.startswith("stargate: error: ") and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    for f in fragments:
        assert f in r.stderr, (f, r.stderr)


def _spec(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "spec.yaml"
    f.write_text(text)
    return f


def test_constraint_without_spaces_is_applied(tmp_path):
    """Issue 10: ``facility_power_w<=1e6`` (no spaces) was skipped, designs over it marked as meeting it."""
    spec = SweepSpec(name="c", axes={"accelerator": ["h100"], "gpus": [8, 64, 512, 4096]},
                     fixed={"model": "llama3.1-8b"}, constraints=["facility_power_w<=1e6", "fits"])
    run_sweep(spec, tmp_path / "r")
    t = pq.read_table(sorted((tmp_path / "r").glob("chunk-*.parquet"))).to_pylist()
    expected = [bool(r["feasible"] and r["fits"] and r["facility_power_w"] <= 1e6) for r in t]
    assert [r["meets_constraints"] for r in t] == expected
    assert True in expected and False in [r["facility_power_w"] <= 1e6 for r in t]


@pytest.mark.parametrize(
    ("constraint", "why"),
    [
        ("power_w_total <= 1e6", "unknown column 'power_w_total'"),
        ("(SELECT 1) = 1", "subquery"),
        ("capex_usd IN (SELECT 1)", "subquery"),
        ("read_csv('/etc/passwd') IS NULL", "read_csv() is not a deterministic scalar function"),
        ("fits; DROP TABLE results", "no ';'"),
        ("fits -- comment", "no ';' and no comments"),
        ("capex_usd", "not BOOLEAN"),
        ("sum(capex_usd) > 1", "sum()"),
        ("random() < 0.5", "random()"),
        ("1) FROM t UNION SELECT (true", "a single expression"),
        ("capex_usd <= ", "DuckDB cannot parse it"),
        ("x" * 600, "at most 500 characters"),
    ],
)
def test_bad_constraint_is_refused_before_any_work(cli, tmp_path, constraint, why):
    out = tmp_path / "o"
    r = cli("sweep", str(_spec(tmp_path, BASE + f"constraints: [{json.dumps(constraint)}]\n")), "--out", str(out))
    _one_line_exit_2(r, "constraints[0]", why)
    assert not out.exists()


@pytest.mark.parametrize(
    ("axis", "field", "allowed"),
    [
        ("gpus: [abc]", "axes.gpus[0]", "whole number"),
        ("gpus: [8.5]", "axes.gpus[0]", "whole number"),
        ("gpus: [100000000000000000000000000000]", "axes.gpus[0]", "whole number"),
        ("gpus: [-8]", "axes.gpus[0]", "whole number"),
        ("gpus: [.nan]", "axes.gpus[0]", "finite"),
        ("gpus: [true]", "axes.gpus[0]", "whole number"),
        ("gpus: [8, 8]", "axes.gpus[1]", "not already in the axis"),
        ("seq_len: [1.5e99]", "axes.seq_len[0]", "whole number"),
        ("model: [123]", "axes.model[0]", "model preset"),
        ("model: [no-such-model]", "axes.model[0]", "preset"),
        ("accelerator: [nope]", "axes.accelerator[0]", "known id"),
        ("fabric: [token-ring]", "axes.fabric[0]", "infiniband"),
        ("energy_source: [moon]", "axes.energy_source[0]", "known id"),
        ("precision: [fp64]", "axes.precision[0]", "bf16"),
        ("training_days: [.inf]", "axes.training_days[0]", "finite"),
        ("budget_usd: {start: 0, stop: 1.0e+9, num: 3, scale: log}", "axes.budget_usd.start", "above 0"),
        ("site_distance_m: [-1]", "axes.site_distance_m[0]", "metres"),
    ],
)
def test_bad_axis_value_is_refused_before_any_work(cli, tmp_path, axis, field, allowed):
    """Issue 10: wrong-typed axis values failed mid-sweep with a multi-line message."""
    key = axis.split(":")[0]
    text = "name: x\naxes:\n  accelerator: [h100]\n" + ("" if key in ("gpus", "budget_usd") else "  gpus: [8]\n")
    text = text.replace("  accelerator: [h100]\n", "") if key == "accelerator" else text
    out = tmp_path / "o"
    r = cli("sweep", str(_spec(tmp_path, text + f"  {axis}\n")), "--out", str(out))
    _one_line_exit_2(r, field, allowed)
    assert not out.exists()


def test_bad_fixed_value_is_named(cli, tmp_path):
    r = cli("sweep", str(_spec(tmp_path, BASE + "fixed: {model: [llama3.1-8b]}\n")), "--out", str(tmp_path / "o"))
    _one_line_exit_2(r, "fixed.model", "a single value")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--processes", "0"], ["--processes: '0'", "1 to 256"]),
        (["--processes", "-5"], ["--processes: '-5'", "1 to 256"]),
        (["--processes", "1.5"], ["--processes: '1.5'", "whole number"]),
        (["--processes", "100000"], ["--processes: '100000'"]),
        (["--dask-local", "-1"], ["--dask-local: '-1'", "1 to 256"]),
        (["--dask-local", "0"], ["--dask-local: '0'"]),
        (["--processes", "2", "--dask-local", "2"], ["--processes", "no --processes with"]),
        (["--processes", "2", "--scheduler", "tcp://127.0.0.1:8786"], ["--processes", "no --processes with"]),
        (["--scheduler", "tcp://127.0.0.1:8786", "--dask-local", "2"], ["--dask-local", "not both"]),
        (["--scheduler", "localhost"], ["--scheduler: 'localhost'", "tcp://HOST:PORT"]),
        (["--scheduler", "tcp://127.0.0.1:70000"], ["--scheduler"]),
    ],
)
def test_bad_backend_options(cli, tmp_path, args, fragments):
    """Issue 10: ``--dask-local -1`` hung; ``--processes 0/-5`` were ignored; ``--processes 1.5`` not echoed."""
    out = tmp_path / "o"
    _one_line_exit_2(cli("sweep", str(SMALL), "--out", str(out), *args), *fragments)
    assert not out.exists()


def test_unreachable_scheduler_fails_fast(cli, tmp_path, monkeypatch):
    """Issue 10: an unreachable ``--scheduler`` waited 30 s, then exited 1."""
    monkeypatch.setattr("stargate.dask_client.SCHEDULER_TIMEOUT_S", 1)
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    r = cli("sweep", str(SMALL), "--out", str(tmp_path / "o"), "--scheduler", f"tcp://127.0.0.1:{port}")
    _one_line_exit_2(r, "--scheduler", "running Dask scheduler")
    assert time.monotonic() - t < 15 and not (tmp_path / "o").exists()


def test_query_json_is_strict_for_dates_decimals_and_nan(cli, finished):
    sql = ("SELECT DATE '2024-01-01' AS d, 1.5::DECIMAL(10,2) AS x, 'NaN'::DOUBLE AS n, '-inf'::DOUBLE AS i, "
           "TIMESTAMP '2024-01-01 10:00:00' AS ts, [1.0, 'nan'::DOUBLE] AS l, 'ab'::BLOB AS b")
    r = cli("query", str(finished), sql, "--json")
    assert r.code == 0, r.stderr

    def refuse(name):
        raise ValueError(name)

    rows = json.loads(r.stdout, parse_constant=refuse)
    assert rows == [{"d": "2024-01-01", "x": 1.5, "n": None, "i": None, "ts": "2024-01-01T10:00:00",
                     "l": [1.0, None], "b": "6162"}]


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("", "only spaces or comments"),
        ("-- hi", "only spaces or comments"),
        ("/* nothing */", "only spaces or comments"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT * FROM read_csv('/etc/passwd')", "Permission"),
        ("SELECT * FROM read_text('/etc/hostname')", "Permission"),
        ("COPY (SELECT 1) TO 'leak.csv'", "not a COPY statement"),
        ("CREATE TABLE t AS SELECT 1", "not a CREATE statement"),
        ("ATTACH 'other.db'", "not a ATTACH statement"),
        ("SET enable_external_access = true", "not a SET statement"),
        ("SELEKT nonsense", "Parser Error"),
    ],
)
def test_query_refuses_empty_sql_files_and_writes(cli, finished, tmp_path, monkeypatch, sql, fragment):
    monkeypatch.chdir(tmp_path)
    _one_line_exit_2(cli("query", str(finished), "--", sql), "SQL", fragment)
    assert not list(tmp_path.iterdir())


def test_query_reads_only_this_sweeps_chunks(cli, finished, tmp_path):
    other = tmp_path / "elsewhere.parquet"
    pq.write_table(pa.table({"secret": [1]}), other)
    r = cli("query", str(finished), f"SELECT * FROM read_parquet('{other}')")
    _one_line_exit_2(r, "Permission")
    assert cli("query", str(finished), "SELECT count(*) AS n FROM results", "--json").json() == [{"n": 60}]


@pytest.mark.parametrize(
    ("objectives", "fragment"),
    [
        (",", "comma-separated"),
        ("", "comma-separated"),
        ("-", "comma-separated"),
        ("capex_usd,,mfu", "comma-separated"),
        ("capex_usd,capex_usd", "each column once"),
        ("capex_usd,-capex_usd", "each column once"),
        ("reason", "a numeric column"),
        ("fits", "a numeric column"),
        ("beauty", "columns of the results"),
    ],
)
def test_pareto_bad_objectives(cli, finished, objectives, fragment):
    _one_line_exit_2(cli("pareto", str(finished), "--objectives", objectives), "--objectives", fragment)


def test_pareto_unwritable_out(cli, finished, tmp_path):
    _one_line_exit_2(cli("pareto", str(finished), "--out", str(tmp_path / "no" / "such" / "f.csv")), "--out", "writable")
    _one_line_exit_2(cli("pareto", str(finished), "--out", str(tmp_path)), "--out")


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_pareto_mask_matches_brute_force_with_ties_and_many_rows(k):
    rng = np.random.default_rng(k)
    for v in (rng.integers(0, 6, size=(300, k)).astype(float), rng.random((5000, k)) ** 3):
        keep = np.zeros(len(v), dtype=bool)
        for lo in range(0, len(v), 500):  # brute force: [i, j] for a block of rows i against every row j
            b = v[lo:lo + 500]
            no_worse, better = np.ones((len(b), len(v)), bool), np.zeros((len(b), len(v)), bool)
            for c in range(k):
                no_worse &= v[None, :, c] <= b[:, None, c]
                better |= v[None, :, c] < b[:, None, c]
            earlier = np.arange(len(v))[None, :] < np.arange(lo, lo + len(b))[:, None]
            # dominated, or an exact duplicate of an earlier row (the first one is kept)
            keep[lo:lo + len(b)] = ~(no_worse & (better | earlier)).any(axis=1)
        assert (pareto_mask(v) == keep).all(), k


def test_pareto_front_of_30000_designs_all_on_the_front_is_fast(finished, tmp_path):
    """Issue 10: ``GET /pareto`` on a 30,000-design front took 15 s (``benchmarks/bench_sweep_pareto.py``)."""
    from stargate.sweep.schema import arrow_schema
    from stargate.sweep.store import prepare_dir, write_chunk

    spec = SweepSpec(name="front", axes={"accelerator": ["h100"], "gpus": [8]})
    spec_json = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    out = tmp_path / "front"
    out.mkdir()
    prepare_dir(out, spec_json)
    schema = arrow_schema(spec)
    n = 30_000
    xyz = np.random.default_rng(0).dirichlet([1, 1, 1], n) * 1e9  # on a plane: nothing dominates anything
    cols = {f.name: pa.nulls(n, f.type) for f in schema}
    cols.update(design_id=pa.array([f"{i:016x}" for i in range(n)]), meets_constraints=pa.array(np.ones(n, bool)),
                capex_usd=xyz[:, 0], time_to_train_s=xyz[:, 1], facility_power_w=xyz[:, 2])
    write_chunk(out, 0, pa.table(cols, schema=schema), spec_json)
    shutil.rmtree(out / "quarantine", ignore_errors=True)
    objectives = ["capex_usd", "time_to_train_s", "facility_power_w"]
    pareto_front(out, objectives)  # imports
    t = time.perf_counter()
    front = pareto_front(out, objectives)
    assert len(front) == n and time.perf_counter() - t < 3.0  # ~0.3 s on the 2-core build machine
    assert [r["capex_usd"] for r in front] == sorted(r["capex_usd"] for r in front)


def test_points_the_model_refuses_are_infeasible_rows_not_a_crash(tmp_path):
    """A precision the chip lacks, or sites farther apart than any optic reaches, used to stop the
    whole sweep mid-way (an error, a division by zero); each is now an infeasible row with its reason."""
    spec = SweepSpec(name="refused", axes={"accelerator": ["h100"], "gpus": [1024], "sites": [1, 2],
                                           "site_distance_m": [1e5, 4e7], "precision": ["bf16", "nvfp4"]},
                     fixed={"model": "llama3.1-8b"})
    run_sweep(spec, tmp_path / "r")
    rows = pq.read_table(sorted((tmp_path / "r").glob("chunk-*.parquet"))).to_pylist()
    assert len(rows) == 8
    for r in rows:
        refused = r["precision"] == "nvfp4" or (r["sites"] > 1 and r["site_distance_m"] > 1e6)
        assert r["feasible"] == (not refused) and r["meets_constraints"] == (not refused)
        assert ("nvfp4" in r["reason"] or "sites" in r["reason"]) if refused else r["reason"] == ""


def test_count_axis_range_ends_take_scale_letters(cli, tmp_path):
    """`gpus: {start: 10k, stop: 100k}` reads as 10,000..100,000, as a listed `100k` does; an
    unreadable end is named as the user wrote it."""
    spec = SweepSpec(name="t", axes={"accelerator": ["h100"], "gpus": {"start": "10k", "stop": "100k", "num": 3, "scale": "log"}})
    assert spec.values()["gpus"] == pytest.approx([1e4, 10**4.5, 1e5])  # a log range, by hand
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\naxes:\n  accelerator: [h100]\n  gpus: {start: 10q, stop: 1M, num: 3}\n")
    r = cli("sweep", str(bad), "--out", str(tmp_path / "r"))
    assert r.code == 2 and r.stderr.count("\n") == 1
    assert "axes.gpus.start: '10q' is not allowed" in r.stderr
    assert not (tmp_path / "r").exists()
