"""Issue 11's accuracy targets on ``shared/validation/published_runs.csv``, checked as they stand.

Targets the model meets are plain tests; targets it still misses are strict xfails whose reason gives
the figure measured when they were written, so that meeting one turns the suite red until the
marker is removed. ``docs/calibration.md`` explains what the misses share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stargate.training.validate import read_runs, summarize, validate_runs

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "published_runs.csv"
pytestmark = pytest.mark.skipif(not RUNS.exists(), reason="shared/validation is not beside the checkout")


@pytest.fixture(scope="module")
def scored():
    rows = read_runs(RUNS)
    results = validate_runs(rows)
    moe = {r["run_id"] for r in rows if r.get("moe_experts", "").strip()}
    ok = [r for r in results if not r.skipped and np.isfinite(r.measured_tokens_per_s_per_gpu)]
    return ok, [r for r in ok if r.run_id in moe], summarize(results)


def _abs(rs) -> np.ndarray:
    return np.abs([r.error for r in rs])


def test_every_row_with_a_measurement_is_scored(scored):
    ok, _, summary = scored
    assert len(ok) == summary["with_measurement"] >= 265


def test_regression_guard(scored):
    # What the shipped model reaches now (in-sample median 7.0%, p90 23.5%; 7.1% / 26.4% before power-capped parts
    # were clocked down in proportion to their power, 7.7% / 24.5% before the slowest pipeline stage was timed,
    # docs/calibration.md); a change that makes it worse fails.
    ok, _, _ = scored
    assert np.median(_abs(ok)) <= 0.075 and np.percentile(_abs(ok), 90) <= 0.245


@pytest.mark.xfail(strict=True, reason="issue 11 target: in-sample median 7.0% against 5%")
def test_in_sample_median_within_5_percent(scored):
    assert np.median(_abs(scored[0])) <= 0.05


@pytest.mark.xfail(strict=True, reason="issue 11 target: in-sample p90 23.5% against 15%")
def test_in_sample_p90_within_15_percent(scored):
    assert np.percentile(_abs(scored[0]), 90) <= 0.15


@pytest.mark.xfail(strict=True, reason="issue 11 target: mixture-of-experts median 16.2% against 12%")
def test_moe_median_within_12_percent(scored):
    assert np.median(_abs(scored[1])) <= 0.12


@pytest.mark.xfail(strict=True, reason="issue 11 target: narayanan2021_t2 median 14.7% against 12% (torchtitan_202412 10.9%)")
def test_no_source_median_above_12_percent(scored):
    by_source = scored[2]["by_source"]
    assert all(s["median_abs_error"] <= 0.12 for s in by_source.values()), by_source
