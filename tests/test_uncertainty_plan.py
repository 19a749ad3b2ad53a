"""Ranges of a plan (``stargate plan --uncertainty``) and ``stargate sensitivity``: the properties every
uncertainty model keeps (zero bands give the point plan exactly, a wider band never narrows a range),
the JSON contracts, and bad input."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from stargate.plan import builtin_scenario, run_plan
from stargate.uncertainty.plan import (
    PHASE_HEADLINES,
    SENSITIVITY_HEADLINES,
    TOTAL_HEADLINES,
    phase_model,
    plan_models,
    plan_ranges,
)

SCENARIOS = sorted(p.name.removesuffix(".yaml") for p in (resources.files("stargate") / "scenarios").iterdir()
                   if p.name.endswith(".yaml"))


@pytest.fixture(scope="module")
def builtin(catalog):
    sc = builtin_scenario()
    return sc, run_plan(sc, catalog)


def _point(phase: dict[str, Any], key: str) -> Any:
    """A headline's point figure in a phase's JSON (a dotted key is nested)."""
    for part in key.split("."):
        phase = phase[part]
    return phase


def _zero(models):
    return [m.widened({b.key: 0.0 for b in m.inputs}) for m in models]


def test_every_phase_of_the_builtin_plan_has_ordered_ranges_of_every_headline(builtin, catalog):
    sc, p = builtin
    r = plan_ranges(sc, catalog, p, n=200, seed=0)
    for phase, ranges in zip(p.phases, r.phases, strict=True):
        assert set(ranges.ranges) == set(PHASE_HEADLINES), phase.name  # every phase trains and serves
        for key, v in ranges.ranges.items():
            assert v["p10"] <= v["p50"] <= v["p90"], (phase.name, key)
    assert set(r.totals) == set(TOTAL_HEADLINES)
    # Prices and failure rates are uncertain in every phase: capex, MFU and goodput have real width.
    for ranges in r.phases:
        for key in ("capex_usd", "mfu", "goodput", "tco_usd_per_gpu_hour", "serving.usd_per_million_tokens"):
            assert ranges.ranges[key]["p10"] < ranges.ranges[key]["p90"], key


@pytest.mark.parametrize("name", SCENARIOS)
def test_zero_bands_give_the_point_plan_exactly(name, catalog):
    sc = builtin_scenario(name)
    p = run_plan(sc, catalog)
    r = plan_ranges(sc, catalog, p, n=40, seed=3, models=_zero(plan_models(sc, catalog, p)))
    for phase, ranges in zip(p.model_dump(mode="json")["phases"], r.phases, strict=True):
        assert ranges.ranges, phase["name"]
        for key, v in ranges.ranges.items():
            assert v["p10"] == v["p50"] == v["p90"] == _point(phase, key), (phase["name"], key)
    for key, v in r.totals.items():
        assert v["p10"] == v["p90"] == p.totals[key], key


def _width(model, key: str, n: int = 64) -> dict[str, float]:
    from stargate.uncertainty.propagate import propagate

    return propagate(model, n, seed=5).ranges[key]


def test_widening_the_failure_rates_never_narrows_goodput(builtin, catalog):
    sc, p = builtin
    m = phase_model(sc.phases[-1], sc, catalog, p.phases[-1])
    failures = [b.key for b in m.inputs if b.key.startswith("failure_rates/")]
    assert len(failures) == 6
    others = {b.key: 0.0 for b in m.inputs if b.key not in failures}
    last = None
    for factor in (0.0, 0.5, 1.0, 2.0, 4.0):  # every failure rate's band widened together, every other input fixed
        g = _width(m.widened({**others, **{k: factor for k in failures}}), "goodput")
        if last is not None:
            assert g["p10"] <= last["p10"] and g["p90"] >= last["p90"], factor
        last = g
    assert last["p10"] < last["p90"]
    for key in failures:  # one at a time, the others at their full band: with several inputs varying, re-pairing
        # the samples moves a percentile by its Monte Carlo error (~1/sqrt(n)), which bounds any narrowing
        n = 1024
        base, wide = _width(m, "goodput", n), _width(m.widened({key: 2.0}), "goodput", n)
        assert wide["p90"] - wide["p10"] >= (base["p90"] - base["p10"]) * (1 - n ** -0.5), key


def test_widening_any_input_never_narrows_any_headline(builtin, catalog):
    sc, p = builtin
    m = phase_model(sc.phases[2], sc, catalog, p.phases[2])  # sized by GPUs: capex moves with every price
    zero = {b.key: 0.0 for b in m.inputs}
    for b in m.inputs:
        narrow, wide = (m.widened({**zero, b.key: f}) for f in (1.0, 2.0))
        a, z = (propagate_all(x) for x in (narrow, wide))
        for key in a:
            assert z[key]["p10"] <= a[key]["p10"] and z[key]["p90"] >= a[key]["p90"], (b.key, key)


def propagate_all(model) -> dict[str, dict[str, float]]:
    from stargate.uncertainty.propagate import propagate

    return propagate(model, 32, seed=2).ranges


def test_shared_inputs_take_the_same_draw_in_every_phase(builtin, catalog):
    """Common random numbers: the totals are sums of correlated phases, so their spread is at least what
    independent phases would give where the phases share inputs (here the failure rates and the models)."""
    sc, p = builtin
    r = plan_ranges(sc, catalog, p, n=400, seed=0)
    keys = [b.key for b in r.inputs]
    assert len(keys) == len(set(keys))
    assert "model/training" in keys and "failure_rates/gpu/interruptions_per_gpu_hour" in keys
    tot = r.totals["gpus"]
    assert tot["p10"] < sum(ph.gpus for ph in p.phases) < tot["p90"]


def test_plan_uncertainty_json_and_text(cli):
    r = cli("plan", "--uncertainty", "64", "--seed", "7", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    for phase in d["phases"]:
        assert set(phase["ranges"]) == set(PHASE_HEADLINES)
        assert phase["ranges"]["gpus"]["p10"] <= phase["gpus"] <= phase["ranges"]["gpus"]["p90"]
    assert set(d["totals"]["ranges"]) == set(TOTAL_HEADLINES)
    u = d["uncertainty"]
    assert u["samples"] == 64 and u["seed"] == 7 and len(u["phases"]) == 5
    assert all(ph["held_fixed"] for ph in u["phases"])
    assert r.stderr == ""
    again = cli("plan", "--uncertainty", "64", "--seed", "7", "--json")
    assert again.stdout == r.stdout  # same seed, same answer
    other = cli("plan", "--uncertainty", "64", "--seed", "8", "--json")
    assert other.stdout != r.stdout
    text = cli("plan", "--uncertainty", "32")
    assert text.code == 0, text.stderr
    assert "P50 (P10–P90) over 32 samples" in text.stdout and "GPT-4-class" in text.stdout
    plain = cli("plan", "--json")
    assert "ranges" not in plain.json()["phases"][0] and "uncertainty" not in plain.json()


def test_a_scenario_range_is_answered_at_its_midpoint_and_sampled(cli, tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: r\nphases:\n  - {name: P1, year: 2026, accelerator: gb200, budget_usd: '9e9..11e9'}\n")
    mid = tmp_path / "m.yaml"
    mid.write_text("name: r\nphases:\n  - {name: P1, year: 2026, accelerator: gb200, budget_usd: 10e9}\n")
    r, m = cli("plan", str(f), "--json"), cli("plan", str(mid), "--json")
    assert r.code == 0 and m.code == 0, r.stderr
    assert r.json()["phases"][0]["gpus"] == m.json()["phases"][0]["gpus"]
    assert any("midpoint" in w for w in r.json()["phases"][0]["warnings"])
    typed = cli("plan", str(f), "--uncertainty", "100", "--json").json()
    fixed = cli("plan", str(mid), "--uncertainty", "100", "--json").json()["phases"][0]["ranges"]["capex_usd"]
    assert any(b["shape"] == "uniform" and b["p10"] == 9e9 for b in typed["uncertainty"]["inputs"])
    # The capex spends the budget (to within a system): uniform on 9..11 $B has its P10 and P90 at 9.2 and 10.8.
    capex = typed["phases"][0]["ranges"]["capex_usd"]
    assert capex["p10"] == pytest.approx(9.2e9, rel=0.01) and capex["p90"] == pytest.approx(10.8e9, rel=0.01)
    assert fixed["p10"] == pytest.approx(10e9, rel=0.01) and fixed["p90"] == pytest.approx(10e9, rel=0.01)


@pytest.mark.parametrize("value", ["11e9..9e9", "9e9..inf", "9e9..11 GW", "9e9..10e9..11e9"])
def test_a_bad_scenario_range_is_one_line(cli, tmp_path, value):
    f = tmp_path / "s.yaml"
    f.write_text(f"name: r\nphases:\n  - {{name: P1, year: 2026, accelerator: gb200, budget_usd: '{value}'}}\n")
    r = cli("plan", str(f), "--uncertainty", "10")
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("stargate: error: scenario s.yaml: phase 'P1'.budget_usd:")


def test_sensitivity_json(cli):
    r = cli("sensitivity", "--phase", "3", "--samples", "16", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert d["phase"] == "Phase 3: H100 supercomputer (Eagle)"
    assert list(d["headlines"]) == list(SENSITIVITY_HEADLINES)
    for key, rows in d["headlines"].items():
        assert rows and {"input", "key", "low", "high", "swing", "sobol_total", "sobol_first"} <= rows[0].keys()
        swings = [row["swing"] for row in rows]
        assert swings == sorted(swings, reverse=True), key
        assert all(row["sobol_total"] is not None and 0 <= row["sobol_total"] <= 1 for row in rows)
    # A phase sized by its GPUs: its capex moves most with a price (largest swing, whatever it is).
    top = d["headlines"]["capex_usd"][0]
    assert top["key"].rsplit("/", 1)[-1].endswith("usd") or "_usd_per_" in top["key"], top
    assert top["output_at_low"] < d["points"]["capex_usd"] < top["output_at_high"]
    # MFU depends on the training model alone, goodput on the failure rates alone.
    assert d["headlines"]["mfu"][0]["key"] == "model/training" and d["headlines"]["mfu"][1]["swing"] == 0.0
    assert all(row["key"].startswith("failure_rates/") for row in d["headlines"]["goodput"] if row["swing"] > 0)


def test_sensitivity_text_and_no_sobol(cli):
    r = cli("sensitivity", "--no-sobol", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    assert d["phase"] == "Phase 5: Stargate" and d["samples"] == 0
    assert all(row["sobol_total"] is None for rows in d["headlines"].values() for row in rows)
    text = cli("sensitivity", "--phase", "Phase 1: first Azure AI supercomputer for OpenAI", "--samples", "16")
    assert text.code == 0, text.stderr
    assert "Sensitivity of Phase 1" in text.stdout and "Sobol total" in text.stdout


@pytest.mark.parametrize(("args", "option"), [
    (["sensitivity", "--phase", "6"], "--phase"),
    (["sensitivity", "--phase", "Phase 9"], "--phase"),
    (["sensitivity", "--samples", "500"], "--samples"),
    (["sensitivity", "--samples", "8"], "--samples"),
    (["sensitivity", "--samples", "1e9"], "--samples"),
    (["sensitivity", "--seed", "-1"], "--seed"),
    (["plan", "--uncertainty", "2000000"], "--uncertainty"),
    (["plan", "--uncertainty", "-3"], "--uncertainty"),
    (["plan", "--seed", "x"], "--seed"),
    (["plan", "--uncertainty", "10", "--csv"], "--csv"),
])
def test_bad_options_are_one_line(cli, args, option):
    r = cli(*args)
    assert r.code == 2, r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"stargate: error: {option}: "), r.stderr


def test_a_headline_the_sizing_limit_fixes_is_not_ranked(builtin, catalog):
    """A budget-sized phase spends its budget in every sample (to within one system): ranking inputs on its capex
    would rank the rounding. The GPU-sized phase 3 ranks its capex; its top input moves it by the input's band."""
    from stargate.uncertainty.plan import plan_sensitivity

    sc, p = builtin
    last = plan_sensitivity(sc, catalog, p, phase=-1, with_sobol=False)
    assert sc.phases[-1].budget_usd is not None
    assert "capex_usd" in last["held_by_limit"] and "capex_usd" not in last["headlines"]
    third = plan_sensitivity(sc, catalog, p, phase=2, with_sobol=False)
    assert third["held_by_limit"] == {} and third["headlines"]["capex_usd"][0]["swing"] > 0
