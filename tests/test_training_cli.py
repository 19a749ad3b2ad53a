"""`stargate train` and `stargate validate`: the contracts of DESIGN.md and their errors."""

import csv
from pathlib import Path

import pytest

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "published_runs.csv"
TRAIN = ["train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192",
         "--global-batch", "512"]


def test_train_json_contract(cli):
    r = cli(*TRAIN, "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    for key in ("step_time_s", "tokens_per_s_per_gpu", "mfu", "memory_per_gpu_bytes", "fits", "parallelism", "breakdown_s"):
        assert key in d
    assert d["fits"] and sum(d["breakdown_s"].values()) == pytest.approx(d["step_time_s"])
    assert d["search"]["candidates_evaluated"] > 0 and d["search"]["search_time_s"] < 2
    p = d["parallelism"]
    assert p["tp"] * p["pp"] * p["cp"] * p["dp"] == 64
    assert d["time_to_train"]["cost_usd"] > 0 and "mfu" in d["definitions"]


def test_train_with_fixed_plan_and_hf_config(cli):
    fixture = str(Path(__file__).parent / "fixtures" / "hf" / "llama-3.1-8b.json")
    d = cli("train", "--model", fixture, "--accelerator", "h100", "--gpus", "16", "--seq-len", "4096",
            "--global-batch", "64", "--tp", "2", "--pp", "1", "--mbs", "1", "--json").json()
    assert d["parallelism"]["tp"] == 2 and d["parallelism"]["dp"] == 8


def test_train_reports_a_job_that_cannot_fit(cli):
    r = cli("train", "--model", "llama3.1-405b", "--accelerator", "h100", "--gpus", "8", "--seq-len", "8192",
            "--global-batch", "16", "--json")
    assert r.code == 0
    d = r.json()
    assert d["fits"] is False and d["memory_breakdown_bytes"]["optimizer"] > 80e9
    assert any("no plan fits" in n for n in d["notes"])
    assert "no plan fits" in cli("train", "--model", "llama3.1-405b", "--accelerator", "h100", "--gpus", "8",
                                 "--seq-len", "8192", "--global-batch", "16").stdout


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--model", "llama-9000"], ["model", "llama-9000"]),
        (["--seq-len", "0"], ["--seq-len", "0"]),
        (["--precision", "fp7"], ["--precision", "fp7"]),
        (["--recompute", "sometimes"], ["--recompute", "sometimes"]),
        (["--accelerator", "h1000"], ["accelerator", "h1000"]),
        (["--tp", "3"], ["parallelism", "tp"]),
    ],
)
def test_train_bad_input(cli, extra, fragments):
    args = list(TRAIN)
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    r = cli(*args)
    assert r.code == 2 and "\n" not in r.stderr.strip() and "Traceback" not in r.stderr
    for frag in fragments:
        assert frag in r.stderr


@pytest.mark.skipif(not RUNS.exists(), reason="the shared validation file sits beside the repository")
def test_validate_published_runs(cli, tmp_path):
    out = tmp_path / "pred.csv"
    r = cli("validate", str(RUNS), "--out", str(out), "--json")
    assert r.code == 0, r.stderr
    s = r.json()["summary"]
    assert s["predicted"] + s["skipped"] == 307
    # Median absolute error on tokens/s per GPU at most 8% (the issue 11 targets, p90 and cross-validated
    # figures: tests/test_training_targets.py and docs/calibration.md).
    assert s["overall"]["median_abs_error"] <= 0.08
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert {"run_id", "predicted_tokens_per_s_per_gpu", "predicted_step_time_s", "predicted_mfu_pct",
            "predicted_memory_per_gpu_gib", "fits"} <= set(rows[0])
    skipped = [row for row in r.json()["rows"] if row["skipped"]]
    assert all(row["skipped"] for row in skipped)  # every skipped row says why


@pytest.mark.skipif(not RUNS.exists(), reason="the shared validation file sits beside the repository")
@pytest.mark.parametrize("column", ["tp", "pp", "dp", "cp", "ep", "vp", "micro_batch_size"])
def test_validate_skips_a_row_with_a_negative_parallel_degree(cli, tmp_path, column):
    # Found by benchmarks/fuzz_cli.py: ep = -5 indexed the plan tables from their end (an internal error).
    with RUNS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:3]
    rows[1][column] = "-5"
    bad = tmp_path / "runs.csv"
    with bad.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = cli("validate", str(bad), "--json")
    assert r.code == 0, r.stderr
    skipped = {row["run_id"]: row["skipped"] for row in r.json()["rows"]}
    assert skipped[rows[1]["run_id"]] == f"bad row: {column}: -5 is not a positive whole number"
    assert not skipped[rows[0]["run_id"]] and not skipped[rows[2]["run_id"]]


def test_validate_bad_file(cli, tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    r = cli("validate", str(bad))
    assert r.code == 2 and "runs" in r.stderr
