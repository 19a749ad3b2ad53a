"""The pictures of ranges: P10–P90 whiskers and fans on the plan's charts, tornados from sensitivity rows.

The ranges and swings here are computed: synthetic ranges set by hand around the built-in plan's own point
answers, and the tornado of a small model built on the design chain (:func:`stargate.cluster.design.evaluate`)
with the catalog's own price bands.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import numpy as np
import pytest

from stargate.cluster.design import evaluate, resolve, systems_for
from stargate.plan import builtin_scenario, run_plan
from stargate.report.charts import how_sure_charts, plan_charts
from stargate.report.html import render_report
from stargate.report.uncertainty import HEADLINES, band_trace, fan_chart, tornado_chart, value_at
from stargate.scenario import DesignRequest
from stargate.uncertainty.bands import catalog_band
from stargate.uncertainty.propagate import Model
from stargate.uncertainty.sensitivity import tornado

# Lower and upper factors of the synthetic P10 and P90 around each point, different per headline so that a
# mix-up of two headlines shows.
SPREAD = {"capex_usd": (0.85, 1.3), "facility_power_w": (0.9, 1.1), "gpus": (0.95, 1.02), "mfu": (0.9, 1.15),
          "goodput": (0.97, 1.01), "largest_model_params": (0.8, 1.2), "gpt4_class_days": (0.85, 1.4),
          "tco_usd_per_gpu_hour": (0.9, 1.2), "serving.usd_per_million_tokens": (0.7, 1.5)}


def layout(title, **kw):
    return {"title": title, **kw}


@pytest.fixture(scope="module")
def plan(catalog):
    return run_plan(builtin_scenario(), catalog).model_dump(mode="json")


@pytest.fixture(scope="module")
def ranged(plan):
    """The built-in plan with every phase's headlines given a P10 / P50 / P90 around its point answer."""
    out = copy.deepcopy(plan)
    for p in out["phases"]:
        p["ranges"] = {}
        for key, (lo, hi) in SPREAD.items():
            v = value_at(p, key)
            if v is not None:
                p["ranges"][key] = {"p10": lo * v, "p50": 1.02 * v if key != "goodput" else v, "p90": hi * v}
    out["uncertainty"] = {"samples": 500, "seed": 0, "sampling": "Latin hypercube", "inputs": []}
    return out


def design_model(catalog):
    """A design answer's chain with its accelerator and system prices uncertain (the catalog's bands), held at
    the point answer's count of systems."""
    r = resolve(DesignRequest(accelerator="h100", gpus=4096), catalog)
    n = systems_for(r)
    acc = catalog_band(r.accelerator, "accelerator", "price_usd")
    rest = catalog_band(r.system, "system", "rest_of_system_usd")

    def run(v):
        rr = replace(r, accelerator=r.accelerator.model_copy(update={"price_usd": v[acc.key]}),
                     system=r.system.model_copy(update={"rest_of_system_usd": v[rest.key]}))
        e = evaluate(rr, n)
        return {"capex_usd": e.capex.total, "facility_power_w": e.facility_power_w,
                "tco_usd_per_gpu_hour": e.tco.total, "gpus": np.asarray(e.n_systems * r.system.gpus_per_system, dtype=float)}

    return Model((acc, rest), run), r, n


def error_traces(fig):
    return [t for t in fig["data"] if "error_y" in t or "error_x" in t]


def test_without_ranges_the_charts_draw_no_bands(plan):
    charts = plan_charts(plan)
    assert all(not error_traces(f) and not any("fill" in t for t in f["data"]) for f in charts.values())
    assert how_sure_charts(plan) == {}
    html = render_report(plan, __import__("stargate.catalog", fromlist=["Catalog"]).Catalog.load())
    assert 'id="how-sure"' not in html


def test_ranges_add_whiskers_and_leave_the_point_answers(plan, ranged):
    before, after = plan_charts(plan), plan_charts(ranged)
    for chart, key, scale in (("power", "facility_power_w", 1e-6), ("roadmap", "gpus", 1.0), ("goodput", "goodput", 1.0)):
        old, new = before[chart]["data"], after[chart]["data"]
        assert new[: len(old)] == old  # the point answers' traces as they were
        (band,) = error_traces(after[chart])
        rs = [p["ranges"][key] for p in ranged["phases"]]
        assert band["y"] == pytest.approx([r["p50"] * scale for r in rs])
        assert band["error_y"]["array"] == pytest.approx([(r["p90"] - r["p50"]) * scale for r in rs])
        assert band["error_y"]["arrayminus"] == pytest.approx([(r["p50"] - r["p10"]) * scale for r in rs])
        # the whiskers span exactly P10 to P90
        assert [y + up for y, up in zip(band["y"], band["error_y"]["array"], strict=True)] == pytest.approx(
            [r["p90"] * scale for r in rs])
    totals = after["capex"]["data"][-1]["text"]
    assert all("<br>" in t for t in totals) and after["capex"]["layout"]["yaxis"]["range"][1] > 112


def test_band_trace_skips_phases_without_the_range():
    phases = [{"name": "A", "ranges": {}}, {"name": "B", "ranges": {"mfu": {"p10": 0.3, "p50": 0.4, "p90": 0.45}}}]
    t = band_trace(["A", "B"], phases, "mfu")
    assert t["y"] == [None, 0.4]
    assert t["error_y"]["array"] == [None, pytest.approx(0.05)] and t["error_y"]["arrayminus"] == [None, pytest.approx(0.1)]
    assert band_trace(["A", "B"], phases, "gpus") is None


def test_fans_shade_p10_to_p90_for_every_headline(ranged):
    fans = how_sure_charts(ranged)
    keys = [k for k in HEADLINES if any(k in p["ranges"] for p in ranged["phases"])]
    assert list(fans) == [f"fan-{k.replace('.', '-')}" for k in keys]
    for key in keys:
        p10, p90, p50, point = fans[f"fan-{key.replace('.', '-')}"]["data"]
        assert p90["fill"] == "tonexty" and "fill" not in p10  # the band is filled between the P10 and P90 lines
        for i, ph in enumerate(ranged["phases"]):
            r = ph["ranges"].get(key)
            assert (p10["y"][i], p50["y"][i], p90["y"][i]) == ((r["p10"], r["p50"], r["p90"]) if r else (None, None, None))
            assert point["y"][i] == value_at(ph, key)
    # headlines that span decades are drawn on log axes, fractions as percentages
    assert fans["fan-capex_usd"]["layout"]["yaxis"]["type"] == "log"
    assert fans["fan-mfu"]["layout"]["yaxis"]["tickformat"] == ".0%"


def test_fan_of_a_headline_no_phase_has_is_none():
    assert fan_chart(["A"], [{"name": "A", "ranges": {"gpus": {"p10": 1, "p50": 2, "p90": 3}}}], "mfu", layout) is None


def test_tornado_of_the_design_chain_orders_by_swing(catalog):
    model, r, n = design_model(catalog)
    rows = tornado(model)
    point = float(model.point()["capex_usd"][0])
    fig = tornado_chart("capex_usd", rows["capex_usd"], point, layout)
    low, high = fig["data"]
    ordered = sorted(rows["capex_usd"], key=lambda x: -x["swing"])
    assert low["y"] == high["y"] == [x["input"] for x in ordered]  # largest swing first, drawn on top
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"
    assert len(low["x"]) == len(model.inputs)  # one bar per input
    # each bar runs from the headline with the input at its P10 to the headline with it at its P90, through the point
    for x in ordered:
        i = low["y"].index(x["input"])
        assert low["base"][i] == high["base"][i] == point
        assert point + low["x"][i] == pytest.approx(x["output_at_low"]) and point + high["x"][i] == pytest.approx(x["output_at_high"])
    # the chip price moves capex by exactly its band times the chips bought
    acc = model.inputs[0]
    chip = next(x for x in ordered if x["key"] == acc.key)
    assert chip["swing"] == pytest.approx((acc.high - acc.low) * n * r.system.gpus_per_system)
    assert "Sobol total —" in low["hovertext"][0] and f"{acc.low:,.4g}" in low["hovertext"][low["y"].index(acc.label)]


def test_tornado_leaves_out_inputs_that_do_not_move_the_headline(catalog):
    model, _, _ = design_model(catalog)
    rows = tornado(model)
    gpus = float(model.point()["gpus"][0])
    assert all(x["swing"] == 0 for x in rows["gpus"])  # GPUs are held: prices do not move them
    assert tornado_chart("gpus", rows["gpus"], gpus, layout) is None
    power = tornado_chart("facility_power_w", rows["facility_power_w"], float(model.point()["facility_power_w"][0]), layout)
    assert power is None  # prices do not move power either


def test_tornado_keeps_the_largest_swings_and_shows_sobol():
    rows = [{"input": f"x{i}", "key": f"k{i}", "low": 1.0, "high": 2.0, "output_at_low": 10.0 - i, "output_at_high": 10.0 + i,
             "swing": 2.0 * i, "sobol_total": i / 100} for i in range(20)]
    fig = tornado_chart("gpus", rows, 10.0, layout, top=5)
    assert fig["data"][0]["y"] == ["x19", "x18", "x17", "x16", "x15"]
    assert "Sobol total 0.19" in fig["data"][1]["hovertext"][0]
    # two inputs with one label stay two bars
    twin = [dict(rows[3], input="price"), dict(rows[4], input="price")]
    assert len(set(tornado_chart("gpus", twin, 10.0, layout)["data"][0]["y"])) == 2


def test_report_has_a_how_sure_section(ranged, catalog):
    model_rows = {"phase": ranged["phases"][-1]["name"], "headlines": {
        "capex_usd": [{"input": "chip price", "key": "a", "low": 1, "high": 2, "basis": "estimate",
                       "output_at_low": 0.9 * ranged["phases"][-1]["capex_usd"],
                       "output_at_high": 1.2 * ranged["phases"][-1]["capex_usd"], "swing": 0.3 * ranged["phases"][-1]["capex_usd"],
                       "sobol_total": 0.8, "sobol_first": 0.7}]}}
    html = render_report(ranged, catalog, sensitivity=model_rows)
    assert 'id="how-sure"' in html and 'id="chart-tornado-capex_usd"' in html and 'id="chart-fan-capex_usd"' in html
    figures = json.loads(html.split("const FIGURES = ")[1].split(";\n")[0])
    assert figures["tornado-capex_usd"]["data"][0]["y"] == ["chip price"]
    assert "500 samples" in html


def test_report_cli_ranges_by_default_seeded_and_off(tmp_path, cli):
    a, b, c, off = (tmp_path / f"{n}.html" for n in ("a", "b", "c", "off"))
    assert cli("report", "-o", str(a), "--uncertainty", "64", "--seed", "7").code == 0
    assert cli("report", "-o", str(b), "--uncertainty", "64", "--seed", "7").code == 0
    assert cli("report", "-o", str(c), "--uncertainty", "64", "--seed", "8").code == 0
    assert a.read_text() == b.read_text() != c.read_text()  # the same seed, the same report
    assert 'id="how-sure"' in a.read_text() and "64 samples (seed 7" in a.read_text()
    assert cli("report", "-o", str(off), "--uncertainty", "0").code == 0
    html = off.read_text()
    assert 'id="how-sure"' not in html and '"error_y"' not in html


@pytest.mark.parametrize(("args", "option", "value"), [
    (["--uncertainty", "-5"], "--uncertainty", "-5"), (["--uncertainty", "2000001"], "--uncertainty", "2000001"),
    (["--uncertainty", "1e400"], "--uncertainty", "1e400"), (["--seed", "x"], "--seed", "x"),
    (["--seed", "99999999999"], "--seed", "99999999999"),
])
def test_report_cli_bad_samples_or_seed_is_one_line(tmp_path, cli, args, option, value):
    r = cli("report", "-o", str(tmp_path / "r.html"), *args)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"stargate: error: {option}: '{value}' is not allowed; expected ")
    assert r.stderr.count("\n") == 1 and not (tmp_path / "r.html").exists()


def test_report_tables_give_each_range(ranged, catalog):
    from stargate.format import format_count, format_usd

    html = render_report(ranged, catalog)
    last = ranged["phases"][-1]["ranges"]
    assert f"(P10–P90 {format_count(last['gpus']['p10'])}–{format_count(last['gpus']['p90'])})" in html
    assert f"(P10–P90 {format_usd(last['capex_usd']['p10'])}–{format_usd(last['capex_usd']['p90'])})" in html
    # without ranges, the tables as they were: no P10–P90 beyond the training model's own bands
    assert "(P10–P90" not in render_report(plan_without_training_bands(ranged), catalog)


def plan_without_training_bands(plan):
    out = copy.deepcopy(plan)
    out.pop("uncertainty")
    for p in out["phases"]:
        p.pop("ranges")
        for k in ("mfu_range", "largest_model_params_range", "gpt4_class_days_range"):
            p[k] = None
    return out


def test_api_sensitivity_ranks_the_builtin_last_phase_with_its_tornados(catalog):
    from fastapi.testclient import TestClient

    from stargate.uncertainty.plan import plan_sensitivity
    from stargate.web.app import create_app

    sc = builtin_scenario()
    expected = plan_sensitivity(sc, catalog, run_plan(sc, catalog), with_sobol=False)
    with TestClient(create_app(workers=1)) as c:
        r = c.get("/api/sensitivity")
        again = c.get("/api/sensitivity")
    assert r.status_code == 200 and r.content == again.content  # computed once, served the same
    body = r.json()
    assert body["phase"] == expected["phase"] == "Phase 5: Stargate"
    assert body["headlines"] == json.loads(json.dumps(expected["headlines"]))
    for key, rows in body["headlines"].items():
        fig = body["charts"].get(f"tornado-{key.replace('.', '-')}")
        moving = [x for x in rows if x["swing"] > 0]
        assert (fig is None) == (not moving)
        if fig:
            assert fig["data"][0]["y"][0] == max(moving, key=lambda x: x["swing"])["input"]
