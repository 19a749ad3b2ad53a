"""Issue 14's serving accuracy targets on ``shared/validation/inference_runs.csv``, checked as they stand.

Targets the model meets are plain tests; targets it still misses are strict xfails whose reason gives the
figure measured when they were written, so that meeting one turns the suite red until the marker is
removed. ``docs/calibration.md`` ("Serving") explains what the misses share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stargate.inference.validate import family, read_runs, validate_serving

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "inference_runs.csv"
pytestmark = pytest.mark.skipif(not RUNS.exists(), reason="shared/validation is not beside the checkout")
FAMILIES = ("NVIDIA Hopper", "NVIDIA Blackwell", "AMD CDNA3", "AMD CDNA4")


@pytest.fixture(scope="module")
def trust_a():
    rows = [r for r in read_runs(RUNS) if r.get("trust") == "A"]
    results = validate_serving(rows)
    return [r for r in results if not r.skipped], results


def _abs(rs) -> np.ndarray:
    return np.abs([r.error for r in rs])


def test_every_row_but_those_without_a_documented_prompt_length_is_predicted(trust_a):
    scored, results = trust_a
    skipped = [r for r in results if r.skipped]
    assert len(scored) >= 544
    # gpt-oss-120b's performance set has no published mean prompt length (serving_benchmarks.yaml)
    assert all(r.benchmark == "gpt-oss-120b" and "input_tokens_mean" in r.skipped for r in skipped)


def test_regression_guard(trust_a):
    # What the shipped model reaches now: median 9.8%, p90 29.1% (docs/calibration.md); worse fails.
    scored, _ = trust_a
    assert np.median(_abs(scored)) <= 0.10 and np.percentile(_abs(scored), 90) <= 0.30




def test_median_within_10_percent(trust_a):
    assert np.median(_abs(trust_a[0])) <= 0.10


@pytest.mark.xfail(strict=True, reason="issue 14 target: trust-A p90 29.1% against 25%")
def test_p90_within_25_percent(trust_a):
    assert np.percentile(_abs(trust_a[0]), 90) <= 0.25


def test_no_family_median_above_15_percent(trust_a):
    # Hopper 11.2%, Blackwell 8.6%, CDNA3 14.3%, CDNA4 10.0% (docs/calibration.md)
    scored = trust_a[0]
    for fam in FAMILIES:
        errs = _abs([r for r in scored if family(r.accelerator) == fam])
        assert np.median(errs) <= 0.15, fam
