"""Invariants of the designer, checked by hypothesis over accelerators and sizes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stargate.catalog import Catalog
from stargate.cluster.design import design_cluster, evaluate, resolve
from stargate.errors import InputError
from stargate.inference.kv import kv_bytes_per_sequence, kv_claim_per_sequence
from stargate.inputs import MAX_GPUS
from stargate.scenario import DesignRequest
from stargate.training.presets import preset

CAT = Catalog.load()
_COOLING_LIMIT_W = max(t.rack_limit_w for t in CAT.entries("cooling"))


def _designable(acc) -> bool:
    """A rack of the part's default system fits some cooling technology of the shipped catalog (racks of
    ~230-600 kW wait for denser liquid classes; they are tested under an overlay in test_hardware_2026)."""
    s = CAT.system(acc.default_system)
    return s.power_max_w * s.systems_per_rack <= _COOLING_LIMIT_W


ACCELERATORS = [a.id for a in CAT.entries("accelerators") if _designable(a)]
accelerators = st.sampled_from(ACCELERATORS)
fabrics = st.sampled_from(["infiniband", "ethernet"])


@given(accelerators, fabrics, st.integers(1, 200_000), st.integers(1, 200_000))
def test_capex_and_power_never_decrease_with_size(acc, fabric, a, b):
    r = resolve(DesignRequest(accelerator=acc, gpus=1, fabric=fabric), CAT)
    lo, hi = sorted((a, b))
    e = evaluate(r, np.array([lo, hi], dtype=float))
    assert e.capex.total[0] <= e.capex.total[1]
    assert e.facility_power_w[0] <= e.facility_power_w[1]
    assert e.opex.total[0] <= e.opex.total[1]


@given(accelerators, st.integers(1, 3_000_000))
def test_breakdowns_sum_to_totals(acc, gpus):
    d = design_cluster(DesignRequest(accelerator=acc, gpus=gpus), CAT)
    assert sum(d.capex_breakdown_usd.values()) == pytest.approx(d.capex_usd, rel=1e-9)
    assert sum(d.it_power_breakdown_w.values()) == pytest.approx(d.it_power_w, rel=1e-9)
    assert sum(d.opex_breakdown_usd_per_year.values()) == pytest.approx(d.opex_usd_per_year, rel=1e-9)
    assert sum(d.tco_breakdown_usd_per_gpu_hour.values()) == pytest.approx(d.tco_usd_per_gpu_hour, rel=1e-9)
    assert all(v >= 0 for v in d.capex_breakdown_usd.values())


@given(accelerators, fabrics, st.floats(5e7, 5e11))
def test_budget_sizing_fits_and_one_more_system_would_not(acc, fabric, budget):
    req = DesignRequest(accelerator=acc, budget_usd=budget, fabric=fabric)
    r = resolve(req, CAT)
    if evaluate(r, 1.0).capex.total > budget:
        return  # too small for one system: an input error, tested elsewhere
    d = design_cluster(req, CAT)
    assert d.capex_usd <= budget
    assert evaluate(r, d.systems + 1.0).capex.total > budget


@given(accelerators, st.floats(1e6, 2e10))
def test_power_sizing_fits_and_one_more_system_would_not(acc, power_w):
    req = DesignRequest(accelerator=acc, power_w=power_w)
    r = resolve(req, CAT)
    if evaluate(r, 1.0).facility_power_w > power_w:
        return
    most = MAX_GPUS // r.system.gpus_per_system
    if evaluate(r, float(most)).facility_power_w <= power_w:  # beyond the model's range: refused, naming the cap
        with pytest.raises(InputError, match="at most what 30,000,000 accelerators need"):
            design_cluster(req, CAT)
        return
    d = design_cluster(req, CAT)
    assert d.facility_power_w <= power_w < evaluate(r, d.systems + 1.0).facility_power_w


def test_largest_design_can_be_laid_out_for_every_accelerator_and_fabric():
    # MAX_GPUS is the largest size the fabric model can lay out (media that reach) for every chip.
    for acc in ACCELERATORS:
        for fabric in ("infiniband", "ethernet"):
            r = resolve(DesignRequest(accelerator=acc, gpus=1, fabric=fabric), CAT)
            e = evaluate(r, float(MAX_GPUS // r.system.gpus_per_system))
            assert np.isfinite(e.capex.total) and np.isfinite(e.facility_power_w)


@given(st.integers(0, 36), st.sampled_from([128, 1024, 4096]), st.floats(1, 200_000), st.sampled_from(["fp8", "bf16"]))
def test_kv_claim_under_equal_window_shares_is_between_need_and_twice_it(sliding, window, context, kv_dtype):
    # TensorRT-LLM's two window pools share the KV memory equally: a sequence claims at least what it holds
    # (packing by need) and at most twice it (two pools, each the fullest one's size)
    m = preset("gpt-oss-120b").model_copy(update={"sliding_window_layers": sliding, "sliding_window": window})
    need = kv_bytes_per_sequence(m, context, kv_dtype)
    claim = kv_claim_per_sequence(m, context, kv_dtype, "trtllm")
    assert need * (1 - 1e-12) <= claim <= 2 * need * (1 + 1e-12)
    assert kv_claim_per_sequence(m, context, kv_dtype, "vllm") == need
    if sliding in (0, 36):  # one window size, one pool
        assert claim == need
