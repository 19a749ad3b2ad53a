"""Uncertainty of ``stargate design`` and ``stargate fabric``: the models, range inputs and the CLI options."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stargate.catalog import Catalog
from stargate.cluster.design import design_cluster, largest_within
from stargate.fabric.design import FabricRequest, design_fabric
from stargate.scenario import DesignRequest
from stargate.uncertainty.bands import from_range
from stargate.uncertainty.design import design_model, fabric_model
from stargate.uncertainty.propagate import propagate

CAT = Catalog.load()
DESIGNS = [
    {"accelerator": "h100", "gpus": 100_000},
    {"accelerator": "gb200", "budget_usd": 100e9},
    {"accelerator": "gb200", "power_w": 5e9, "fabric": "ethernet"},
    {"accelerator": "mi300x", "budget_usd": 2e9},
]


def _point(answer: dict, headline: str) -> float:
    """A headline of a point answer by its (dotted) key."""
    head, _, part = headline.partition(".")
    return answer[head][part] if part else answer[head]


def _collapsed(model):
    return model.widened({b.key: 0.0 for b in model.inputs})


@pytest.mark.parametrize("kw", DESIGNS, ids=lambda kw: "-".join(f"{v}" for v in kw.values()))
def test_zero_bands_give_the_point_design_exactly(kw):
    req = DesignRequest(**kw)
    point = design_cluster(req, CAT).model_dump()
    ranges = propagate(_collapsed(design_model(req, CAT)), n=64, seed=3).ranges
    assert {"gpus", "capex_usd", "capex_breakdown_usd.network", "tco_usd_per_gpu_hour"} <= set(ranges)
    for headline, r in ranges.items():
        assert r["p10"] == r["p50"] == r["p90"] == _point(point, headline), headline


def test_zero_bands_give_the_point_fabric_exactly():
    req = FabricRequest(gpus=49_152, fabric="ethernet", accelerator="gb200")
    point = design_fabric(req, CAT).model_dump()
    ranges = propagate(_collapsed(fabric_model(req, CAT)), n=32, seed=1).ranges
    assert "fabric_capex_breakdown_usd.optics" in ranges
    for headline, r in ranges.items():
        assert r["p10"] == r["p90"] == _point(point, headline), headline


def test_a_typed_range_collapsed_is_its_midpoint_design():
    band = from_range("--budget", 90e9, 110e9)
    req = DesignRequest(accelerator="gb200", budget_usd=band.point)
    model = design_model(req, CAT, {"budget_usd": band})
    assert "--budget" in [b.key for b in model.inputs]
    r = propagate(_collapsed(model), n=16).ranges
    assert r["gpus"]["p10"] == r["gpus"]["p90"] == design_cluster(req, CAT).gpus


@pytest.mark.parametrize("kw", DESIGNS[:3], ids=["gpus", "budget", "power"])
def test_default_bands_spread_every_uncertain_headline(kw):
    r = propagate(design_model(DesignRequest(**kw), CAT), n=500, seed=0).ranges
    for headline in ("facility_power_w", "tco_usd_per_gpu_hour", "capex_breakdown_usd.accelerators"):
        assert r[headline]["p10"] < r[headline]["p50"] < r[headline]["p90"], headline
    if "budget_usd" in kw:  # every sample spends (just under) its budget
        assert 0.999 * kw["budget_usd"] < r["capex_usd"]["p10"] <= r["capex_usd"]["p90"] <= kw["budget_usd"]


@settings(max_examples=6, deadline=None, derandomize=True)
@given(factor=st.floats(1.0, 3.0), seed=st.integers(0, 50))
def test_widening_the_accelerator_price_never_narrows_capex_or_tco(factor, seed):
    model = design_model(DesignRequest(accelerator="h100", gpus=8192), CAT)
    key = "accelerator/h100-sxm-80g/price_usd"
    base = propagate(model, n=400, seed=seed).ranges
    wide = propagate(model.widened({key: factor}), n=400, seed=seed).ranges
    for headline in ("capex_usd", "tco_usd_per_gpu_hour", "capex_breakdown_usd.accelerators"):
        assert wide[headline]["p90"] - wide[headline]["p10"] >= (base[headline]["p90"] - base[headline]["p10"]) * (1 - 1e-12)


def test_same_seed_same_ranges():
    model = design_model(DesignRequest(accelerator="gb200", budget_usd=10e9), CAT)
    assert propagate(model, n=300, seed=7).ranges == propagate(model, n=300, seed=7).ranges
    assert propagate(model, n=300, seed=7).ranges != propagate(model, n=300, seed=8).ranges


@pytest.mark.parametrize("changes", [
    {"accelerator/h100-sxm-80g/price_usd": 1.3, "energy_source/grid-us/price_usd_per_mwh": 0.7},
    {"system/dgx-h100/rest_of_system_usd": 0.8, "cooling/air/build_cost_usd_per_w": 0.85},  # air stays the cheapest
    {"accelerator/h100-sxm-80g/tdp_w": 1.1, "storage/default/price_usd_per_tb": 1.5, "finance/default/wacc_per_year": 0.5},
])
def test_samples_agree_with_the_designer_on_a_changed_catalog(changes):
    """Independent check of the vectorized chain: a sample equals the point designer re-run on a
    catalog with those numbers changed."""
    req = DesignRequest(accelerator="h100", gpus=4096)
    model = design_model(req, CAT)
    bands = {b.key: b for b in model.inputs}
    sample = model.at({k: np.array([bands[k].point * f]) for k, f in changes.items()})
    overlay: dict[str, list[dict]] = {}
    sections = {"accelerator": "accelerators", "system": "systems", "cooling": "cooling", "storage": "storage",
                "energy_source": "energy_sources", "finance": "finance"}
    for key, f in changes.items():
        kind, entry, field = key.split("/")
        overlay.setdefault(sections[kind], []).append({"id": entry, field: bands[key].point * f})
    direct = design_cluster(req, CAT.overlaid(overlay, "test")).model_dump()
    for headline in ("capex_usd", "facility_power_w", "opex_usd_per_year", "tco_usd_per_gpu_hour"):
        assert sample[headline][0] == pytest.approx(direct[headline], rel=1e-12), headline


def test_vectorized_bisection_matches_the_scalar_one():
    limits = np.array([0.5, 3.0, 10.0, 1e6, 123456.7])
    cost = lambda n: 2.5 * n + np.sqrt(n)
    assert largest_within(cost, limits).tolist() == [largest_within(cost, float(x)) for x in limits]


# --- the shells: CLI, Python API, web API ------------------------------------------------------------------------


def test_cli_design_json_adds_ranges_and_the_uncertainty_block(cli):
    r = cli("design", "--accelerator", "h100", "--gpus", "4096", "--uncertainty", "300", "--seed", "5", "--json")
    assert r.code == 0, r.stderr
    out = r.json()
    assert out["ranges"]["gpus"] == {"p10": 4096.0, "p50": 4096.0, "p90": 4096.0}
    cap = out["ranges"]["capex_usd"]
    assert cap["p10"] < cap["p50"] < cap["p90"]
    assert out["uncertainty"]["samples"] == 300 and out["uncertainty"]["seed"] == 5
    assert {"accelerator/h100-sxm-80g/price_usd", "finance/default/wacc_per_year"} <= {
        i["key"] for i in out["uncertainty"]["inputs"]}
    assert r.stderr == ""


def test_cli_bare_uncertainty_draws_the_default_samples_and_same_seed_same_json(cli):
    first = cli("design", "--accelerator", "gb200", "--budget", "$5B", "--uncertainty", "--json")
    again = cli("design", "--accelerator", "gb200", "--budget", "$5B", "--json", "--uncertainty")
    assert first.code == again.code == 0, first.stderr + again.stderr
    assert first.json()["uncertainty"]["samples"] == 1000
    assert first.stdout == again.stdout
    other = cli("design", "--accelerator", "gb200", "--budget", "$5B", "--json", "--uncertainty", "--seed", "1")
    assert other.json()["ranges"] != first.json()["ranges"]


def test_cli_budget_range_is_answered_at_its_midpoint(cli):
    ranged = cli("design", "--accelerator", "gb200", "--budget", "90e9..110e9", "--json")
    point = cli("design", "--accelerator", "gb200", "--budget", "100e9", "--json")
    assert ranged.code == point.code == 0, ranged.stderr
    a, b = ranged.json(), point.json()
    assert a["gpus"] == b["gpus"] and a["capex_usd"] == b["capex_usd"]
    assert "ranges" not in a
    assert any("midpoint" in n and "--budget" in n for n in a["notes"])


def test_cli_power_range_samples_the_cap_uniformly(cli):
    r = cli("design", "--accelerator", "gb200", "--power", "4.5 GW..5.5 GW", "--uncertainty", "400", "--json")
    assert r.code == 0, r.stderr
    facility = r.json()["ranges"]["facility_power_w"]
    # every sample fills its own cap (within a system), the caps spread evenly over 4.5-5.5 GW
    assert 4.5e9 < facility["p10"] < 4.65e9 and 5.35e9 < facility["p90"] < 5.5e9


def test_cli_text_shows_each_headline_with_its_range(cli):
    r = cli("fabric", "--gpus", "32k", "--uncertainty", "200")
    assert r.code == 0, r.stderr
    assert "P10–P90" in r.stdout and "fabric capex" in r.stdout and "uncertain inputs" in r.stdout
    assert r.stderr == ""


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--budget", "110e9..90e9", "LOW at most HIGH"),
    ("--budget", "1e9..2e9..3e9", "two values joined by '..'"),
    ("--budget", "..5e9", "two values joined by '..'"),
    ("--budget", "1e9...2e9", "two values joined by '..'"),
    ("--budget", "inf..5e9", "each side US dollars"),
    ("--budget", "9**9..1e10", "each side US dollars"),
    ("--power", "4.5 GW..5500 MW", "the same unit on both sides"),
    ("--power", "4.5..5.5 GW", "the same unit on both sides"),
    ("--gpus", "0..100", "between 0 (excluded)"),
    ("--gpus", "1000..100000000", "between 0 (excluded)"),
    ("--gpus", "1k..100M", "the same unit on both sides"),
    ("--budget", "1" * 200 + "..2", "two values joined by '..'"),
    ("--budget", "1e6..1e8", "at least what one gb200-nvl72 needs"),  # each end sizes as a point budget must
    ("--power", "1 GW..2000 GW", "between 0 (excluded) and 1 TW"),
])
def test_cli_bad_ranges_are_one_line_exit_2(cli, option, value, expected):
    for extra in ((), ("--uncertainty", "50")):
        r = cli("design", "--accelerator", "gb200", option, value, *extra)
        assert r.code == 2
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"stargate: error: {option}: '{value[:40]}")
        assert expected in r.stderr and r.stdout == ""


@pytest.mark.parametrize(("args", "expected"), [
    (("--uncertainty", "-5"), "--uncertainty: '-5'"),
    (("--uncertainty", "1000001"), "from 1 to 1,000,000"),
    (("--uncertainty", "1.5"), "--uncertainty: '1.5'"),
    (("--uncertainty", "1e9"), "from 1 to 1,000,000"),
    (("--seed", "-1"), "--seed: '-1'"),
    (("--seed", "5000000000"), "from 0 to 4,294,967,295"),
    (("--uncertainty", "--csv"), "either --csv or --uncertainty"),
])
def test_cli_bad_uncertainty_options_are_one_line_exit_2(cli, args, expected):
    for command in (("design", "--accelerator", "h100", "--gpus", "64"), ("fabric", "--gpus", "64")):
        r = cli(*command, *args)
        assert r.code == 2 and r.stderr.count("\n") == 1 and expected in r.stderr, (command, r.stderr)


def test_cli_fabric_ranges_refuse_compare(cli):
    r = cli("fabric", "--gpus", "4096", "--compare", "--uncertainty")
    assert r.code == 2 and "not with --compare" in r.stderr


def test_api_design_and_fabric_take_uncertainty_and_seed():
    from stargate import api
    from stargate.errors import InputError

    d = api.design(accelerator="gb200", budget="9e9..11e9", uncertainty=200, seed=4)
    assert d == api.design(accelerator="gb200", budget="9e9..11e9", uncertainty=200, seed=4)
    assert d.gpus == api.design(accelerator="gb200", budget=10e9).gpus
    assert d.ranges["gpus"]["p10"] < d.gpus < d.ranges["gpus"]["p90"]
    assert d.model_dump(mode="json")["uncertainty"]["seed"] == 4
    f = api.fabric(gpus=8192, uncertainty=100)
    assert f["ranges"]["fabric_capex_usd"]["p10"] < f["fabric_capex_usd"] < f["ranges"]["fabric_capex_usd"]["p90"]
    with pytest.raises(InputError, match="budget: '2e9..1e9'"):
        api.design(accelerator="gb200", budget="2e9..1e9")
    with pytest.raises(InputError, match="uncertainty"):
        api.design(accelerator="gb200", gpus=72, uncertainty=-1)


def test_web_design_and_fabric_bodies_take_uncertainty_and_seed(client):
    body = {"accelerator": "gb200", "budget": "9e9..11e9", "uncertainty": 300, "seed": 2}
    first, again = client.post("/api/design", json=body), client.post("/api/design", json=body)
    assert first.status_code == 200 and first.json() == again.json()
    assert first.json()["ranges"]["gpus"]["p10"] < first.json()["gpus"] < first.json()["ranges"]["gpus"]["p90"]
    fab = client.post("/api/fabric", json={"gpus": 4096, "uncertainty": 50})
    assert fab.status_code == 200 and "fabric_power_w" in fab.json()["ranges"]


@pytest.mark.parametrize(("route", "body", "field"), [
    ("/api/design", {"accelerator": "h100", "gpus": 8, "uncertainty": -1}, "uncertainty"),
    ("/api/design", {"accelerator": "h100", "gpus": 8, "uncertainty": 10**7}, "uncertainty"),
    ("/api/design", {"accelerator": "h100", "gpus": 8, "seed": 2**40}, "seed"),
    ("/api/design", {"accelerator": "h100", "budget": "11e9..9e9"}, "budget"),
    ("/api/design", {"accelerator": "h100", "gpus": "1..2..3"}, "gpus"),
    ("/api/design", {"accelerator": "h100", "power": "1 GW..900 MW"}, "power"),
    ("/api/fabric", {"gpus": 64, "uncertainty": 10, "compare": True}, "uncertainty"),
])
def test_web_bad_uncertainty_is_422_naming_the_field(client, route, body, field):
    r = client.post(route, json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(alphabet=st.sampled_from("0123456789.,_eE+-$kKMGTBbnWw GMW*^/()xnaif"), max_size=160))
def test_typed_ranges_read_or_refuse_any_text(text):
    """Fuzz: a sizing value is read (finite ends, low <= high) or refused with the one-line error, nothing else."""
    from stargate.errors import InputError
    from stargate.uncertainty.options import typed_ranges

    for field in ("gpus", "budget_usd", "power_w"):
        try:
            point, ranges = typed_ranges({field: text})
        except InputError as e:
            assert e.field == field and "\n" not in str(e)
            continue
        if field in ranges:
            b = ranges[field]
            assert 0 < b.low <= b.high and np.isfinite(b.high) and b.shape == "uniform"
            assert point[field] >= b.low


def test_long_runs_report_progress_in_chunks():
    from stargate.uncertainty.options import PROGRESS_CHUNK, with_ranges

    seen = []
    out = with_ranges({}, fabric_model(FabricRequest(gpus=1024), CAT), 2 * PROGRESS_CHUNK + 5, 0,
                      lambda done, total: seen.append((done, total)))
    total = 2 * PROGRESS_CHUNK + 5
    assert seen == [(PROGRESS_CHUNK, total), (2 * PROGRESS_CHUNK, total), (total, total)]
    assert out["uncertainty"]["samples"] == total


def test_chunks_do_not_change_the_ranges():
    from stargate.uncertainty.options import PROGRESS_CHUNK, with_ranges

    model = design_model(DesignRequest(accelerator="gb200", budget_usd=20e9), CAT)
    n = PROGRESS_CHUNK + 1000
    assert with_ranges({}, model, n, 3, lambda *_: None) == with_ranges({}, model, n, 3)


def test_the_fabric_table_tracks_planned_fabrics_between_its_sizes():
    """Sized by budget, a sample's fabric comes from the table; against fabrics planned at 40 sizes between
    0.6 and 1.6 times the point size, the median error of its capex and power is under 1%, the worst under 10%."""
    from stargate.cluster.design import network_usd_w, resolve, systems_for
    from stargate.uncertainty.design import _table_sizes, fabric_table

    r = resolve(DesignRequest(accelerator="h100", budget_usd=5e9), CAT)
    n0, gps = systems_for(r), r.system.gpus_per_system
    table = fabric_table(r, _table_sizes(r, n0, None))
    n = np.unique(np.round(n0 * np.linspace(0.6, 1.6, 40)))
    usd, w = table.at(n * gps, {}, {})
    planned_usd, planned_w = network_usd_w(r, n)
    for got, want in ((usd, planned_usd), (w, planned_w)):
        err = np.abs(got / want - 1.0)
        assert np.median(err) < 0.01 and err.max() < 0.10


def test_the_python_examples_of_the_ranges_doc_run():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "ranges.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/ranges.md", "exec"), namespace)  # noqa: S102
    assert namespace["d"].ranges["gpus"]["p10"] < namespace["d"].gpus < namespace["d"].ranges["gpus"]["p90"]


def test_samples_keep_the_catalogs_orderings(catalog):
    # Independent draws can put a system's typical draw above its measured peak or nameplate, or a design PUE
    # below the annual one, which the catalog refuses; such a sample is answered as at the bound (the clip).
    m = design_model(DesignRequest(accelerator="h100", gpus=100_000, cooling="direct_liquid"), catalog)
    keys = {b.key.rsplit("/", 1)[1]: b.key for b in m.inputs if b.key.startswith(("system/", "cooling/"))}
    sys_ = catalog.get("systems", "dgx-h100")
    cool = catalog.get("cooling", "direct_liquid")
    above = m.at({keys["power_typical_w"]: np.array([sys_.power_max_w * 1.2])})
    at_peak = m.at({keys["power_typical_w"]: np.array([sys_.power_peak_measured_w])})
    assert all(np.array_equal(above[k], at_peak[k]) for k in above)
    peak_high = m.at({keys["power_peak_measured_w"]: np.array([sys_.power_max_w * 1.3])})
    peak_max = m.at({keys["power_peak_measured_w"]: np.array([sys_.power_max_w])})
    assert all(np.array_equal(peak_high[k], peak_max[k]) for k in peak_high)
    low = m.at({keys["design_pue"]: np.array([1.01]), keys["pue"]: np.array([cool.pue])})
    equal = m.at({keys["design_pue"]: np.array([cool.pue]), keys["pue"]: np.array([cool.pue])})
    assert all(np.array_equal(low[k], equal[k]) for k in low)
    assert low["facility_power_w"][0] < m.point()["facility_power_w"][0]  # the clip is at the annual PUE, not the point
