"""The uncertainty engine: bands, Latin hypercube sampling, propagation and sensitivity, checked against
hand calculations and invariants on small models whose answers are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stargate.uncertainty.bands import CLASSES, Uncertain, from_range
from stargate.uncertainty.propagate import Model, percentiles, propagate
from stargate.uncertainty.sampling import Z90, latin_hypercube, values
from stargate.uncertainty.sensitivity import sobol, tornado


def _band(key: str, point: float, w: float) -> Uncertain:
    return Uncertain(key, key, point, point / (1 + w), point * (1 + w), "test")


def test_latin_hypercube_fills_every_stratum_once_and_repeats_with_its_seed() -> None:
    u = latin_hypercube(50, 3, seed=7)
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int).tolist()) == list(range(50))
    assert np.array_equal(u, latin_hypercube(50, 3, seed=7))
    assert not np.array_equal(u, latin_hypercube(50, 3, seed=8))


def test_quantile_transform_puts_the_band_ends_at_p10_and_p90() -> None:
    b = Uncertain("x", "x", 100.0, 70.0, 150.0, "test")  # asymmetric: each side its own spread
    v = values([b], latin_hypercube(20000, 1, seed=1))["x"]
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    assert p10 == pytest.approx(70.0, rel=2e-3)
    assert p50 == pytest.approx(100.0, rel=2e-3)
    assert p90 == pytest.approx(150.0, rel=2e-3)
    assert v.min() > 0.0


def test_a_uniform_range_is_sampled_evenly_between_its_ends() -> None:
    r = from_range("--budget", 90e9, 110e9)
    v = values([r], latin_hypercube(1000, 1, seed=3))["--budget"]
    assert 90e9 <= v.min() and v.max() <= 110e9
    assert np.percentile(v, 10) == pytest.approx(92e9, rel=1e-3)  # 10% of the way up
    with pytest.raises(ValueError):
        from_range("--budget", 2.0, 1.0)


def test_class_bands_are_log_symmetric_with_the_documented_half_widths() -> None:
    for w in CLASSES.values():
        b = _band("k", 10.0, w)
        assert math.log(b.high / b.point) == pytest.approx(math.log(b.point / b.low))
    assert Z90 == pytest.approx(1.2815515655446004)


def test_propagation_of_a_linear_model_matches_the_hand_calculation() -> None:
    # cost = 2 a + 3, a uniform on [0, 10]: P10 = 2*1+3 = 5, P50 = 13, P90 = 21
    a = Uncertain("a", "a", 5.0, 0.0, 10.0, "test", "uniform")
    r = propagate(Model((a,), lambda v: {"cost": 2 * v["a"] + 3}), n=10000, seed=2)
    assert r.ranges["cost"]["p10"] == pytest.approx(5.0, abs=0.01)
    assert r.ranges["cost"]["p50"] == pytest.approx(13.0, abs=0.01)
    assert r.ranges["cost"]["p90"] == pytest.approx(21.0, abs=0.01)


def test_chunks_and_progress_do_not_change_the_answer() -> None:
    m = Model((_band("a", 3.0, 0.2), _band("b", 2.0, 0.5)), lambda v: {"y": v["a"] * v["b"]})
    seen: list[tuple[int, int]] = []
    whole = propagate(m, n=999, seed=4)
    parts = propagate(m, n=999, seed=4, chunk=100, progress=lambda d, n: seen.append((d, n)))
    assert whole.ranges == parts.ranges
    assert seen[-1] == (999, 999) and len(seen) == 10


@settings(max_examples=25, deadline=None)
@given(w=st.floats(0.01, 1.0), point=st.floats(0.1, 1e6), seed=st.integers(0, 2**31 - 1))
def test_zero_bands_collapse_to_the_point_exactly(w: float, point: float, seed: int) -> None:
    m = Model((_band("a", point, w), _band("b", 7.0, w)), lambda v: {"y": v["a"] * 1.1 + v["b"] ** 2})
    zero = m.widened({"a": 0.0, "b": 0.0})
    r = propagate(zero, n=64, seed=seed)
    y0 = float(zero.point()["y"][0])
    assert r.ranges["y"] == {"p10": y0, "p50": y0, "p90": y0}


@settings(max_examples=25, deadline=None)
@given(w=st.floats(0.01, 0.8), more=st.floats(1.0, 3.0), seed=st.integers(0, 2**31 - 1))
def test_widening_the_only_band_of_a_headline_moves_both_ends_outward(w: float, more: float, seed: int) -> None:
    m = Model((_band("a", 4.0, w), _band("b", 2.0, 0.3)), lambda v: {"y": 3.0 * v["a"] ** 2, "z": v["a"] * v["b"]})
    base = propagate(m, n=256, seed=seed).ranges["y"]
    wide = propagate(m.widened({"a": more}), n=256, seed=seed).ranges["y"]
    assert wide["p10"] <= base["p10"] and wide["p90"] >= base["p90"]


@settings(max_examples=25, deadline=None)
@given(w=st.floats(0.01, 0.8), more=st.floats(1.0, 3.0), seed=st.integers(0, 2**31 - 1))
def test_widening_one_of_several_bands_never_narrows_the_range(w: float, more: float, seed: int) -> None:
    # With several inputs the ends are order statistics of a mixture: re-pairing the samples moves them by
    # the Monte Carlo error of a percentile (~1/sqrt(n)) even when the widened input hardly matters, so the
    # width may not shrink by more than that error (0.5% at 4,096 samples; common random numbers).
    m = Model((_band("a", 4.0, w), _band("b", 2.0, 0.3)), lambda v: {"y": v["a"] * v["b"] + v["a"]})
    base = propagate(m, n=4096, seed=seed).ranges["y"]
    wide = propagate(m.widened({"a": more}), n=4096, seed=seed).ranges["y"]
    assert wide["p90"] - wide["p10"] >= (base["p90"] - base["p10"]) * (1 - 0.005)


def test_tornado_ranks_by_swing_with_the_hand_computed_swings() -> None:
    a, b = _band("a", 10.0, 0.25), _band("b", 1.0, 0.10)
    t = tornado(Model((a, b), lambda v: {"capex": 100 * v["a"] + 10 * v["b"]}))["capex"]
    assert [r["key"] for r in t] == ["a", "b"]
    assert t[0]["swing"] == pytest.approx(100 * (a.high - a.low))
    assert t[1]["swing"] == pytest.approx(10 * (b.high - b.low))
    assert t[0]["output_at_low"] == pytest.approx(100 * a.low + 10 * b.point)


def test_sobol_indices_of_a_linear_model_match_the_variance_shares() -> None:
    pytest.importorskip("SALib")
    # Y = 3 A + B with A, B uniform on [0, 1] and [0, 2]: Var = 9/12 + 4/12, S_A = 9/13, S_B = 4/13
    a = Uncertain("a", "a", 0.5, 0.0, 1.0, "test", "uniform")
    b = Uncertain("b", "b", 1.0, 0.0, 2.0, "test", "uniform")
    s = sobol(Model((a, b), lambda v: {"y": 3 * v["a"] + v["b"]}), base=2048, seed=1)["y"]
    assert s["a"]["first"] == pytest.approx(9 / 13, abs=0.03)
    assert s["b"]["total"] == pytest.approx(4 / 13, abs=0.03)


def test_a_constant_headline_has_zero_sobol_indices() -> None:
    pytest.importorskip("SALib")
    a = _band("a", 1.0, 0.2)
    s = sobol(Model((a,), lambda v: {"y": 0 * v["a"] + 5.0}), base=64)["y"]
    assert s["a"] == {"first": 0.0, "total": 0.0}


def test_percentiles_skip_non_finite_samples() -> None:
    assert percentiles({"x": np.array([1.0, np.nan, np.inf, 3.0])})["x"]["p50"] == 2.0
    assert percentiles({"x": np.array([np.nan])}) == {}
