"""Uneven pipeline stages: the layers each stage holds, and the stage that sets the step and the memory.

The expectations are hand calculations: Megatron-Core's split of L layers over pp stages, and the time
and memory of a stage built from even splits of the same layers (one and two layers per stage).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stargate.training.compute import compute_times
from stargate.training.context import Workload, resolve_context
from stargate.training.estimate import _per_unique, estimate
from stargate.training.memory import memory_per_gpu
from stargate.training.plans import Plans
from stargate.training.presets import preset
from stargate.training.rules import stage_layers, stage_sizes


@pytest.mark.parametrize(("layers", "pp", "vp", "split", "want"), [
    (61, 16, 1, "first_last", (2, 4, 3)),    # k = ceil(61/16) = 4; 61 - 14·4 = 5 = 2 + 3
    (126, 16, 1, "first_last", (7, 8, 7)),   # 126 - 14·8 = 14 = 7 + 7
    (61, 8, 1, "first_last", (6, 8, 7)),     # 61 - 6·8 = 13 = 6 + 7
    (96, 8, 2, "first_last", (12, 12, 12)),  # even
    (126, 8, 4, "any", (15, 16, 15)),        # (126 + 2) / 8 = 16; the embedding and the loss take one each
    (94, 4, 12, "any", (23, 24, 23)),
    (61, 1, 1, "first_last", (61, 61, 61)),
    (61, 2, 1, "any", (30, 0, 31)),          # no middle stage
])
def test_stage_sizes_by_hand(layers, pp, vp, split, want):
    first, mid, last = stage_sizes(layers, [pp], [vp], split)
    assert (int(first[0]), int(mid[0]), int(last[0])) == want


@given(layers=st.integers(1, 200), pp=st.integers(1, 64), vp=st.sampled_from([1, 2, 3, 4, 8]),
       split=st.sampled_from(["even", "first_last", "any"]))
def test_stages_hold_every_layer(layers, pp, vp, split):
    ok = bool(stage_layers(layers, np.array([pp]), np.array([vp]), split)[0][0])
    if not ok or pp * vp > layers:
        return
    first, mid, last = (int(a[0]) for a in stage_sizes(layers, [pp], [vp], split))
    assert first + max(pp - 2, 0) * mid + (last if pp > 1 else 0) == layers and min(first, last) >= 0
    if split == "first_last" and pp > 2 and layers % (pp * vp):
        # Megatron-Core: equal middle stages, the first and last non-empty, multiples of vp, no larger.
        assert 0 < first <= mid and 0 < last <= mid and first % vp == 0 and last % vp == 0


def _compute(layers: int, vocab: int):
    m = preset("llama3.1-405b").model_copy(update={"n_layers": layers, "vocab_size": vocab, "name": f"l{layers}-v{vocab}"})
    ctx = resolve_context(m, Workload(accelerator="h100", gpus=128, seq_len=4096, global_batch=64))
    plans = Plans.one(**PLAN)
    ct = compute_times(ctx, plans, np.array([64.0]), _per_unique)
    assert float(ct.overhead[0]) == 0.0  # no launch floor: the time is linear in the layers
    return ct, estimate(ctx, plans)


PLAN = {"tp": 8, "pp": 16, "dp": 1, "mbs": 1, "recompute": "none", "sharding": "zero1"}


@pytest.mark.parametrize(("vocab", "slowest"), [
    (128_256, "middle"),    # Llama 3's head (128k x 16k) is lighter than a layer: 4 layers > 3 + head
    (1_000_000, "last"),    # a 1M-entry head outweighs a layer: 3 + head > 4 layers
])
def test_the_slowest_stage_sets_the_step(vocab, slowest):
    # Even splits over 16 stages give the last stage 1 and 2 layers plus the head: their difference is a
    # layer, the rest the head. 61 layers split 2 / 4 x 14 / 3 (Megatron-Core's first/last stages).
    one, _ = _compute(16, vocab)
    two, _ = _compute(32, vocab)
    layer, head = float(two.total[0] - one.total[0]), float(2 * one.total[0] - two.total[0])
    ct, e = _compute(61, vocab)
    want = 4 * layer if slowest == "middle" else 3 * layer + head
    assert float(ct.total[0]) == pytest.approx(want, rel=1e-9)
    assert float(ct.total[0]) == pytest.approx(max(4 * layer, 3 * layer + head), rel=1e-9)
    assert float(ct.stage_layers[0]) == (4 if slowest == "middle" else 3)
    # The pipeline bubble is (pp - 1) / m of that stage's busy time (Narayanan et al. 2021, eq. 1).
    busy = float(ct.total[0] + ct.recompute[0])
    assert float(e.step.pipeline_bubble[0]) == pytest.approx(15 / 64 * busy, rel=1e-12)


def test_the_fullest_stage_sets_the_memory():
    # 64 layers over 16 stages: 4 each; the first rank holds 16 micro-batches x 4 layers. 61 layers
    # split 2 / 4 x 14 / 3: the second rank holds 15 x 4 = 60 layer-micro-batches, more than the first
    # (16 x 2) or the last (1 x 3). Weights: four layers (and the embedding) either way.
    plans = Plans.one(**PLAN)
    micro = np.array([64])
    mem = {}
    for layers in (61, 64):
        m = preset("llama3.1-405b").model_copy(update={"n_layers": layers})
        mem[layers] = memory_per_gpu(m, plans, 4096, micro, precision="bf16", framework="megatron")
    assert float(mem[61].activations[0]) == pytest.approx(60 / 64 * float(mem[64].activations[0]), rel=1e-12)
    # (the final norm's few weights are spread over the layers: a part in 10^8)
    assert float(mem[61].weights[0]) == pytest.approx(float(mem[64].weights[0]), rel=1e-7)


@pytest.mark.parametrize(("model", "gpus", "batch", "seq", "pp", "stages"), [
    ("llama3.1-405b", 16_384, 2048, 8192, 16, {"first": 7, "middle": 8, "last": 7}),  # Meta's layout
    ("deepseek-v3", 2048, 4096, 4096, 16, {"first": 2, "middle": 4, "last": 3}),
])
def test_layers_that_pp_does_not_divide_get_plans(cli, model, gpus, batch, seq, pp, stages):
    d = cli("train", "--model", model, "--accelerator", "h100", "--gpus", str(gpus), "--seq-len", str(seq),
            "--global-batch", str(batch), "--pp", str(pp), "--vp", "1", "--json").json()
    assert d["fits"] and d["parallelism"]["pp"] == pp and d["pipeline_layers"] == stages
