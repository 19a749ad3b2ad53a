"""The out-of-file serving check (``benchmarks/serving_inferencemax.py``): its stall rule, by hand.

The check predicts SemiAnalysis InferenceMAX's runs, which are short (10 prompts per client) closed-loop runs;
a run whose mean TTFT is far longer than its own clients' queue explains is reported apart as stalled.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "serving_inferencemax.py"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("serving_inferencemax", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_queue_bound_counts_the_first_wave_once_per_client(check):
    # 64 clients, 10 prompts each, 50 ms per prompt alone: the first wave's prompts wait for 32.5 prefills in the
    # mean (1.625 s), the other 9 waves for one (50 ms): (1.625 + 9 x 0.05) / 10 = 0.2075 s.
    assert check.ttft_bound_s(64, 0.05) == pytest.approx((32.5 * 0.05 + 9 * 0.05) / 10)
    assert check.ttft_bound_s(1, 0.05) == pytest.approx(0.05)


def test_a_run_is_stalled_only_an_order_of_magnitude_above_its_queue(check):
    bound = check.ttft_bound_s(64, 0.05)
    assert not check.stalled({"conc": 64, "mean_ttft": 9.9 * bound}, 0.05)
    assert check.stalled({"conc": 64, "mean_ttft": 10.1 * bound}, 0.05)
    # DeepSeek-R1 under SGLang on 8 B200, 32 clients at 1k-token prompts: 7.5 s measured where 60 ms is predicted
    assert check.stalled({"conc": 32, "mean_ttft": 7.47}, 0.06)
    assert not check.stalled({"conc": 32}, 0.06)  # no TTFT logged: nothing to judge
