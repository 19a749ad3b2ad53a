"""``stargate validate`` on a serving runs file: kind by columns, PRED columns, errors by group, --cv source."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "inference_runs.csv"
needs_runs = pytest.mark.skipif(not RUNS.exists(), reason="the shared validation file sits beside the repository")


def _small(tmp_path: Path, n: int = 40) -> Path:
    """The first rows of each source (a file in the same format, small enough for a refit in seconds)."""
    with RUNS.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keep: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["trust"] == "A" and r["benchmark"].startswith("llama2") and len(keep.setdefault(r["source_id"], [])) < n // 4:
            keep[r["source_id"]].append(r)
    path = tmp_path / "runs.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for group in keep.values():
            w.writerows(group)
    return path


@needs_runs
def test_validate_reads_the_serving_file_and_writes_the_contract_columns(cli, tmp_path):
    out = tmp_path / "pred.csv"
    r = cli("validate", str(RUNS), "--out", str(out), "--json")
    assert r.code == 0, r.stderr
    report = r.json()
    s = report["summary"]
    assert report["kind"] == "serving" and s["predicted"] + s["skipped"] == 731
    for key in ("by_source", "by_family", "by_model", "by_scenario", "by_accelerator"):
        assert s[key]
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:6] == ["run_id", "predicted_tokens_per_s", "predicted_tokens_per_s_per_gpu",
                                 "predicted_ttft_s", "predicted_tpot_s", "meets_limits"]
    by_id = {row["run_id"]: row for row in report["rows"]}
    for row in rows:  # the file and the JSON agree; skipped rows say why
        j = by_id[row["run_id"]]
        assert bool(j["skipped"]) == (row["predicted_tokens_per_s"] == "")
    done = [j for j in report["rows"] if not j["skipped"]]
    # predicted limits are met where the row had limits and the point met them
    assert all(j["predicted_tpot_s"] > 0 for j in done)


@needs_runs
def test_validate_cv_source_refits_without_each_source(cli, tmp_path):
    pytest.importorskip("scipy")
    r = cli("validate", str(_small(tmp_path)), "--cv", "source", "--json")
    assert r.code == 0, r.stderr
    report = r.json()
    assert report["cv_by"] == "source" and report["cross_validated"]["overall"]["rows"] >= 8
    assert all("cv_error" in row for row in report["rows"] if not row["skipped"])


@needs_runs
def test_validate_serving_refuses_cv_by_generation(cli, tmp_path):
    r = cli("validate", str(_small(tmp_path)), "--cv", "generation")
    assert r.code == 2 and "--cv" in r.stderr and "\n" not in r.stderr.strip()


@needs_runs
def test_hostile_rows_are_skipped_with_the_field_named(cli, tmp_path):
    with RUNS.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        good = next(reader)
        header = list(reader.fieldnames or [])
    bad = {"num_gpus": "99999999999999999999", "input_tokens_mean": "-5", "accelerator": "../../etc/passwd",
           "output_tokens_mean": "nan"}
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerow(good)
        for key, value in bad.items():
            w.writerow({**good, "run_id": key, key: value})
    r = cli("validate", str(path), "--json")
    assert r.code == 0, r.stderr
    rows = {row["run_id"]: row for row in r.json()["rows"]}
    assert not rows[good["run_id"]]["skipped"]  # the good row is still predicted
    for key, value in bad.items():
        reason = rows[key]["skipped"]
        assert reason.startswith("not predicted") and ("not allowed" in reason or "finite" in reason), reason
        assert value.split("/")[-1][:8] in reason or key.split("_")[0] in reason, reason
