"""Memory, step time and search: hand calculations, published formulas, and invariants."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stargate.training.context import Workload, resolve_context
from stargate.training.estimate import estimate
from stargate.training.memory import activation_bytes_per_token_layer, memory_per_gpu
from stargate.training.model import ModelSpec
from stargate.training.plans import Plans
from stargate.training.presets import preset
from stargate.training.search import candidate_plans, search

GPT = ModelSpec(name="g", n_layers=24, hidden_size=2048, n_heads=16, ffn_hidden_size=8192, vocab_size=50304)


def test_model_states_follow_zero():
    # Rajbhandari et al. 2020: 2 B weights + 4 B fp32 grads + 12 B fp32 master/Adam; ZeRO shards them.
    P = GPT.params_total
    for sharding, per_param in [("none", 18.0), ("zero1", 2 + 4 + 12 / 8), ("zero2", 2 + 16 / 8)]:
        mem = memory_per_gpu(GPT, Plans.one(dp=8, sharding=sharding), 2048, np.array([4.0]), overhead_bytes=0)
        assert mem.weights[0] + mem.gradients[0] + mem.optimizer[0] == pytest.approx(per_param * P)


def test_activations_follow_korthikanti_with_flash_attention():
    # Korthikanti et al. 2022: 34 s b h / t per layer with SP (no s^2 term with flash attention);
    # without the two 1-byte dropout masks modern LLMs drop, 32 h per token per layer for f = 4h.
    h = GPT.hidden_size
    dense, _ = activation_bytes_per_token_layer(GPT, Plans.one(tp=4, sp=True))
    assert dense[0] == pytest.approx(32 * h / 4)
    full, _ = activation_bytes_per_token_layer(GPT, Plans.one(tp=4, recompute="full"))
    assert full[0] == pytest.approx(2 * h / 4)  # only each layer's input, sharded by SP


def test_first_pipeline_stage_holds_pp_micro_batches():
    # 1F1B: the first stage keeps pp micro-batches of its L/pp layers: all L layers' worth.
    one = memory_per_gpu(GPT, Plans.one(pp=1), 2048, np.array([16.0]), overhead_bytes=0).activations[0]
    four = memory_per_gpu(GPT, Plans.one(pp=4), 2048, np.array([16.0]), overhead_bytes=0).activations[0]
    assert four == pytest.approx(one)
    inter = memory_per_gpu(GPT, Plans.one(pp=4, vp=2), 2048, np.array([16.0]), overhead_bytes=0).activations[0]
    assert inter == pytest.approx(one * (1 + 3 / 8))  # Narayanan et al. 2021: 1 + (p-1)/(p v)


@pytest.fixture(scope="module")
def ctx():
    return resolve_context(preset("llama3.1-70b"), Workload(accelerator="h100", gpus=512, seq_len=8192, global_batch=512))


def test_pipeline_bubble_is_narayanan_formula(ctx):
    e = estimate(ctx, Plans.one(tp=8, pp=4, dp=16, vp=2, mbs=1))
    m = 512 / 16
    busy = e.step.compute[0] + e.step.recompute[0]
    assert e.step.pipeline_bubble[0] == pytest.approx((4 - 1) / (m * 2) * busy)


def test_breakdown_adds_up_and_mfu_is_a_fraction(ctx):
    plans = candidate_plans(ctx)
    e = estimate(ctx, plans)
    parts = sum(e.step.as_arrays().values())
    assert np.allclose(parts, e.step_time_s, rtol=1e-12)
    assert np.all((e.mfu > 0) & (e.mfu < 1)) and np.all(e.hfu >= e.mfu)
    assert np.allclose(sum(e.memory.as_arrays().values()), e.memory.total)


def test_faster_chip_never_slower():
    w = {"gpus": 64, "seq_len": 4096, "global_batch": 256}
    m = preset("llama3.1-8b")
    plan = Plans.one(tp=2, dp=32, mbs=1)
    h100 = estimate(resolve_context(m, Workload(accelerator="h100", **w)), plan)
    b200 = estimate(resolve_context(m, Workload(accelerator="b200", **w)), plan)
    assert b200.step_time_s[0] < h100.step_time_s[0]


@given(st.sampled_from([1, 2, 4, 8]), st.sampled_from([1, 2, 4]))
def test_more_data_parallel_never_raises_model_state_memory(tp, pp):
    small = memory_per_gpu(GPT, Plans.one(tp=tp, pp=pp, dp=2, sharding="zero3"), 2048, np.array([4.0]))
    big = memory_per_gpu(GPT, Plans.one(tp=tp, pp=pp, dp=16, sharding="zero3"), 2048, np.array([4.0]))
    assert big.weights[0] + big.gradients[0] + big.optimizer[0] <= small.weights[0] + small.gradients[0] + small.optimizer[0]


def test_search_respects_fixed_axes_and_fits(ctx):
    r = search(ctx, {"tp": 8, "recompute": "selective"})
    plans = r.best.plans
    assert np.all(plans.tp == 8) and np.all(plans.recompute == 1)
    assert np.all(r.best.fits) and np.all(np.diff(r.best.step_time_s) >= 0)
    assert r.candidates_evaluated >= r.feasible > 0


def test_405b_on_8_gpus_cannot_fit():
    ctx = resolve_context(preset("llama3.1-405b"), Workload(accelerator="h100", gpus=8, seq_len=8192, global_batch=16))
    r = search(ctx)
    assert r.feasible == 0
    # 405.9B parameters x 18 bytes over 8 GPUs is ~850 GiB each: model states alone exceed 80 GB.
    states = r.smallest_memory["weights"] + r.smallest_memory["gradients"] + r.smallest_memory["optimizer"]
    assert states == pytest.approx(preset("llama3.1-405b").params_total * 18 / 8, rel=0.01)


def test_chip_without_kernel_tables_borrows_a_measured_one_and_says_so():
    ctx = resolve_context(preset("llama3.1-8b"), Workload(accelerator="mi300x", gpus=8, seq_len=4096, global_batch=64))
    assert not ctx.calibrated and ctx.kernel_source.chip == "h200_sxm"
    assert "borrows h200_sxm" in ctx.kernel_source.borrowed_from
