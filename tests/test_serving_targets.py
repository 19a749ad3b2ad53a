"""Issue 14's serving accuracy targets on ``shared/validation/inference_runs.csv``, checked as they stand.

Targets the model meets are plain tests; targets it still misses are strict xfails whose reason gives the
figure measured when they were written, so that meeting one turns the suite red until the marker is
removed. ``docs/calibration.md`` ("Serving") explains what the misses share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stargate.inference.calibration import prediction_interval
from stargate.inference.validate import family, read_runs, row_model, validate_serving

RUNS = Path(__file__).resolve().parents[2] / "shared" / "validation" / "inference_runs.csv"
pytestmark = pytest.mark.skipif(not RUNS.exists(), reason="shared/validation is not beside the checkout")
FAMILIES = ("NVIDIA Hopper", "NVIDIA Blackwell", "AMD CDNA3", "AMD CDNA4")


@pytest.fixture(scope="module")
def trust_a():
    rows = [r for r in read_runs(RUNS) if r.get("trust") == "A"]
    results = validate_serving(rows)
    return [r for r in results if not r.skipped], results, rows


def _abs(rs) -> np.ndarray:
    return np.abs([r.error for r in rs])


def test_every_trust_a_row_is_predicted(trust_a):
    # gpt-oss-120b's mean prompt length is MLCommons' published 5,000 tokens (serving_benchmarks.yaml)
    scored, results, _ = trust_a
    assert [r.run_id for r in results if r.skipped] == []
    assert len(scored) == len(results) >= 654
    assert sum(r.benchmark == "gpt-oss-120b" for r in scored) >= 110


def test_regression_guard(trust_a):
    # What the shipped model reaches on all 654 rows: median 9.0%, p90 24.98%, 66 rows above 25%
    # (docs/calibration.md); worse fails. (33.1% before B200's and GB200's min-latency MoE rows were held to the
    # 128 tokens the engine runs them on, 30.6% before TensorRT-LLM's KV shares per attention window, 30.0% before
    # the corrections of what the engines run and 27.4% before same-die parts at lower power were clocked down;
    # 24.8% with 65 rows above 25% before vLLM's and SGLang's own MoE kernels, whose refit moved one MI355X row
    # from 24.9% to 25.2%.)
    scored = trust_a[0]
    errs = _abs(scored)
    assert np.median(errs) <= 0.095 and np.percentile(errs, 90) <= 0.25 and (errs > 0.25).sum() <= 66




def test_median_within_10_percent(trust_a):
    # 9.0%; near-optimal fits of the same constants spread by a few tenths (docs/calibration.md)
    assert np.median(_abs(trust_a[0])) <= 0.10


def test_p90_within_25_percent(trust_a):
    # 24.98%, met by 0.02 points: the p90 sits among rows near 25% (docs/calibration.md, "Serving"), and the
    # constants rounded to four digits give 25.01%; the leave-one-source-out p90 is 29.4%, within the 1.5x the
    # issue allows
    assert np.percentile(_abs(trust_a[0]), 90) <= 0.25


def test_no_family_median_above_15_percent(trust_a):
    # Hopper 10.6%, Blackwell 8.0%, CDNA3 14.2%, CDNA4 7.8% (docs/calibration.md)
    scored = trust_a[0]
    for fam in FAMILIES:
        errs = _abs([r for r in scored if family(r.accelerator) == fam])
        assert np.median(errs) <= 0.15, fam


@pytest.mark.parametrize("moe", [False, True])
def test_prediction_interval_covers_about_80_percent_of_the_rows(trust_a, moe):
    # The shipped band is P10-P90 of the leave-one-source-out ratios; the in-sample predictions err a little
    # less, so it covers about 80% of them (92% of the dense rows, 79% of the MoE rows when written). A band
    # left stale by a refit, or written for the other class, fails.
    _, results, rows = trust_a
    lo, hi = prediction_interval(moe)
    assert 0.5 < lo < 1.0 < hi < 2.0
    ratios = np.array([r.measured_tokens_per_s_per_gpu / max(r.predicted_tokens_per_s_per_gpu, 0.05 * r.measured_tokens_per_s_per_gpu)
                       for r, row in zip(results, rows, strict=True)
                       if not r.skipped and (row_model(row).moe is not None) == moe])
    inside = np.mean((ratios >= lo) & (ratios <= hi))
    assert 0.7 <= inside <= 0.97
