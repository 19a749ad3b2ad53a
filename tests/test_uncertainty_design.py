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
