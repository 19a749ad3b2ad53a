"""Scaling laws, data, reliability and goodput against published figures and the Monte Carlo."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stargate.reliability.checkpoint import daly_interval, goodput, optimal_goodput
from stargate.reliability.failures import interruptions
from stargate.reliability.simulate import simulate_goodput
from stargate.scaling.data import HUMAN_TEXT_STOCK_TOKENS, data_need
from stargate.scaling.laws import compute_optimal, gpu_days, loss


def test_besiroglu_refit_gives_about_20_tokens_per_parameter():
    # Besiroglu et al. 2024: the corrected fit is consistent with ~20 tokens per parameter.
    for flops in (1e22, 1e24):
        n, d = compute_optimal(flops, "besiroglu2024")
        assert 15 <= d / n <= 22
        assert 6 * n * d == pytest.approx(flops)


def test_compute_optimal_minimises_the_loss():
    c = 1e24
    n, d = compute_optimal(c, "chinchilla")
    for factor in (0.5, 0.8, 1.25, 2.0):
        assert loss(n * factor, c / (6 * n * factor)) > loss(n, d)


def test_gpu_days_is_six_n_d():
    assert gpu_days(70e9, 1.4e12, 1e15) == pytest.approx(6 * 70e9 * 1.4e12 / 1e15 / 86400)


def test_data_need_beyond_the_human_stock():
    inside = data_need(1e13, 1e25, 1e11)
    assert inside.synthetic_tokens == 0
    beyond = data_need(HUMAN_TEXT_STOCK_TOKENS + 1e14, 1e28, 1e12, keep=0.25)
    assert beyond.synthetic_tokens == pytest.approx(1e14)
    assert beyond.synthetic_generation_flops == pytest.approx(2 * 1e12 * 1e14 / 0.25)


def test_llama3_interruptions_by_construction():
    # Llama 3 (arXiv:2407.21783, Table 5): 419 unexpected interruptions in 54 days on 16,384 GPUs,
    # 148 + 72 of them GPU and HBM.
    i = interruptions(16384)
    assert i.per_hour * 24 * 54 == pytest.approx(419, abs=0.5)
    assert i.by_cause_per_hour["hbm"] * 24 * 54 == pytest.approx(72, abs=0.1)
    assert i.mtbf_s / 3600 == pytest.approx(3.09, abs=0.02)


def test_mtbf_scales_inversely_with_size():
    assert interruptions(1_000_000).mtbf_s == pytest.approx(interruptions(16384).mtbf_s * 16384 / 1e6)


def test_daly_worked_example():
    # Daly 2006: delta = 5 min, M = 24 h gives an optimum of about 117 minutes.
    assert daly_interval(300, 86400) / 60 == pytest.approx(117, abs=1)


def test_daly_interval_is_near_the_best():
    delta, r, m = 60.0, 600.0, 11100.0
    taus = np.linspace(60, 5000, 5000)
    best = taus[np.argmax(goodput(taus, delta, r, m))]
    assert goodput(daly_interval(delta, m), delta, r, m) == pytest.approx(goodput(best, delta, r, m), rel=0.005)


@given(
    tau=st.floats(60, 7200), delta=st.floats(1, 600), restart=st.floats(0, 1800), mtbf=st.floats(600, 200_000),
    seed=st.integers(0, 1000),
)
def test_monte_carlo_agrees_with_analytic_goodput(tau, delta, restart, mtbf, seed):
    analytic = float(goodput(tau, delta, restart, mtbf))
    if analytic < 0.05:
        return  # a run that barely progresses needs too long a simulation to converge
    simulated = simulate_goodput(tau, delta, restart, mtbf, work_s=200 * 86400, seed=seed)
    assert simulated == pytest.approx(analytic, rel=0.03)


def test_simulation_is_deterministic_for_a_seed():
    assert simulate_goodput(1800, 30, 600, 11100, 1e7, seed=7) == simulate_goodput(1800, 30, 600, 11100, 1e7, seed=7)


def test_checkpoint_write_time_from_storage_bandwidth():
    # Llama 3 worked example (infra_facts.md): 6.5 TB at 2 TB/s is 3.25 s.
    g = optimal_goodput(6.5e12, 2e12, 600, 11100)
    assert g.write_s == pytest.approx(3.25)
    assert 0.9 < g.goodput < 0.95
