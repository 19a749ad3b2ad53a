"""Prediction intervals on training answers and the plan, and `stargate validate --cv`."""

import csv
import importlib.util
from pathlib import Path

import pytest

from stargate.catalog import Catalog, _merge
from stargate.plan import builtin_scenario, run_plan
from stargate.training.calibration import interval_class
from stargate.training.context import Workload
from stargate.training.interval import band_for, mfu_ceiling
from stargate.training.job import TrainRequest, train

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "published_runs.csv"
JOBS = {
    "dense-bf16": ("llama3.1-8b", Workload(accelerator="h100", gpus=64, seq_len=8192, global_batch=512)),
    "moe-fp8": ("mixtral-8x7b", Workload(accelerator="h100", gpus=64, seq_len=4096, global_batch=256, precision="fp8")),
}


def _overlay(catalog: Catalog, bands: dict) -> Catalog:
    return Catalog(_merge(catalog.data, {"training": [{"id": "default", "prediction_interval": bands}]}, "test"))


def _brackets(point: float, band: dict) -> bool:
    return band["p10"] <= point <= band["p90"]


@pytest.mark.parametrize("job", sorted(JOBS))
def test_train_ranges_bracket_the_point_and_step_time_is_the_inverse(job, catalog):
    model, workload = JOBS[job]
    out = train(TrainRequest(model=model, workload=workload), catalog)
    assert out["fits"]
    band = out["prediction_interval"]
    assert band["class"] == interval_class(job.startswith("moe"), workload.precision)
    lo, hi = band["ratio_p10"], band["ratio_p90"]
    assert lo <= 1.0 <= hi
    for key in ("tokens_per_s_per_gpu", "step_time_s", "mfu"):
        assert _brackets(out[key], out[f"{key}_range"]), key
    assert _brackets(out["time_to_train"]["days"], out["time_to_train"]["days_range"])
    # Step time is inversely proportional to throughput: its P90 comes from the throughput's P10.
    assert out["step_time_s_range"]["p90"] == pytest.approx(out["step_time_s"] / lo)
    # Its P10 from the throughput's P90, which stops where MFU would pass the chip's best GEMM rate.
    eff_hi = out["tokens_per_s_per_gpu_range"]["p90"] / out["tokens_per_s_per_gpu"]
    assert 1.0 <= eff_hi <= hi + 1e-12
    assert out["step_time_s_range"]["p10"] == pytest.approx(out["step_time_s"] / eff_hi)
    assert out["mfu_range"]["p90"] <= mfu_ceiling(workload.accelerator, workload.precision, workload.fp8_recipe, catalog) + 1e-9
    assert out["tokens_per_s_per_gpu_range"]["p10"] == pytest.approx(out["tokens_per_s_per_gpu"] * lo)
    assert out["mfu_range"]["p90"] == pytest.approx(out["mfu"] * eff_hi)
    for alt in out["alternatives"]:
        assert _brackets(alt["tokens_per_s_per_gpu"], alt["tokens_per_s_per_gpu_range"])


def test_train_text_shows_the_ranges(cli):
    r = cli("train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192",
            "--global-batch", "512")
    assert r.code == 0, r.stderr
    assert "P10–P90 of cross-validated residuals" in " ".join(r.stdout.split())


def test_band_is_widened_to_hold_the_point_and_borrowed_when_the_class_has_none(catalog):
    cat = _overlay(catalog, {"dense-16bit": [1.05, 1.3], "moe-lowp": [0.6, 0.95]})
    dense = band_for(cat, moe=False, precision="bf16")
    assert (dense.low, dense.high, dense.borrowed) == (1.0, 1.3, False)
    assert band_for(cat, moe=True, precision="fp8").high == 1.0
    other = band_for(cat, moe=False, precision="fp8")  # dense-lowp has no band: the envelope of the others
    assert other.borrowed and (other.low, other.high) == (0.6, 1.3)
    model, workload = JOBS["dense-bf16"]
    out = train(TrainRequest(model=model, workload=workload), _overlay(catalog, {}))
    assert out["prediction_interval"] is None and out["tokens_per_s_per_gpu_range"] is None


def test_plan_phases_carry_ranges(catalog):
    plan = run_plan(builtin_scenario(), catalog).model_dump(mode="json")
    with_mfu = [p for p in plan["phases"] if p["mfu"] is not None]
    assert with_mfu
    for p in with_mfu:
        for key in ("mfu", "largest_model_params", "gpt4_class_days"):
            assert _brackets(p[key], p[f"{key}_range"]), (p["name"], key)
        band = p["prediction_interval"]
        assert p["gpt4_class_days_range"]["p90"] == pytest.approx(p["gpt4_class_days"] / band["ratio_p10"])
        assert p["mfu_range"]["p10"] == pytest.approx(p["mfu"] * band["ratio_p10"])


def test_validate_bad_cv_value(cli, tmp_path):
    runs = tmp_path / "runs.csv"
    runs.write_text("run_id,source_id\n1,a\n")
    r = cli("validate", str(runs), "--cv", "sauce")
    assert r.code == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    for fragment in ("--cv", "sauce", "source", "generation"):
        assert fragment in r.stderr


def test_validate_cv_names_the_missing_extra(cli, tmp_path, monkeypatch):
    runs = tmp_path / "runs.csv"
    runs.write_text("run_id,source_id\n1,a\n")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a))
    r = cli("validate", str(runs), "--cv", "source")
    assert r.code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "--cv" in r.stderr and "stargate[calibrate]" in r.stderr


def _subset(path: Path, sources: dict[str, int]) -> int:
    """Write the first rows of a few sources of the published runs to ``path``; how many have a measurement."""
    with RUNS.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows, fields = list(reader), reader.fieldnames
    picked = [r for s, n in sources.items() for r in [r for r in rows if r["source_id"] == s][:n]]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(picked)
    return sum(1 for r in picked if r["measured_tokens_per_s_per_gpu"].strip())


@pytest.mark.skipif(not RUNS.exists(), reason="the shared validation file sits beside the repository")
@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="needs the calibrate extra (scipy)")
def test_validate_cv_source_refits_without_each_source(cli, tmp_path, capsys, monkeypatch):
    runs = tmp_path / "runs.csv"
    measured = _subset(runs, {"torchtitan_h200_trainy": 2, "nemo_2407_perf": 8})
    r = cli("validate", str(runs), "--cv", "source", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    s, cv = d["summary"], d["cross_validated"]
    assert d["cv_by"] == "source" and cv.keys() == s.keys()
    assert cv["predicted"] == s["predicted"] and cv["with_measurement"] == s["with_measurement"]
    assert 2 <= s["with_measurement"] <= measured
    assert cv["overall"]["rows"] == s["overall"]["rows"] and cv["by_source"].keys() == s["by_source"].keys() == {
        "torchtitan_h200_trainy", "nemo_2407_perf"}
    rows = d["rows"]
    assert all((row["error"] is None) == (row["cv_error"] is None) for row in rows)
    # A refit without a source moves that source's predictions.
    assert any(row["cv_error"] != pytest.approx(row["error"], rel=1e-6) for row in rows if row["error"] is not None)
    from stargate.report.terminal import render_validation

    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no column header folds
    capsys.readouterr()
    render_validation(d)
    text = " ".join(capsys.readouterr().out.split())
    assert "leave-one-source-out: median |error|" in text and "CV median |err|" in text and "CV error" in text
