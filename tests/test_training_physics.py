"""Invariants of the training model's physics (issue 11), each against a hand calculation or a monotonicity."""

from __future__ import annotations

import numpy as np
import pytest

from stargate.training.context import Workload, resolve_context
from stargate.training.estimate import COMM_SM_SHARE, estimate
from stargate.training.plans import Plans
from stargate.training.presets import preset


def _est(model: str, acc: str, gpus: int, seq: int, batch: int, plan: dict, **workload):
    ctx = resolve_context(preset(model), Workload(accelerator=acc, gpus=gpus, seq_len=seq, global_batch=batch, **workload))
    return estimate(ctx, Plans.one(**plan))


def test_breakdown_adds_up_to_the_step():
    e = _est("mixtral-8x7b", "h100", 64, 4096, 512, {"tp": 2, "pp": 2, "dp": 16, "ep": 8, "mbs": 1})
    parts = e.step.as_dict()
    assert sum(parts.values()) == pytest.approx(float(e.step_time_s[0]), rel=1e-12)
    assert all(v >= 0 for v in parts.values())


def test_load_imbalance_slows_experts_only():
    plan = {"tp": 1, "pp": 1, "dp": 64, "ep": 8, "mbs": 1}
    balanced = _est("mixtral-8x7b", "h100", 64, 4096, 512, plan)
    skewed = _est("mixtral-8x7b", "h100", 64, 4096, 512, plan, moe_load_imbalance=1.3)
    assert float(skewed.step_time_s[0]) > float(balanced.step_time_s[0])
    dense = {"tp": 1, "pp": 1, "dp": 64, "mbs": 1}
    a = _est("llama3.1-8b", "h100", 64, 4096, 512, dense)
    b = _est("llama3.1-8b", "h100", 64, 4096, 512, dense, moe_load_imbalance=1.3)
    assert float(a.step_time_s[0]) == float(b.step_time_s[0])


def test_overlapped_all_to_all_costs_only_its_sms():
    plan = {"tp": 1, "pp": 1, "dp": 64, "ep": 64, "mbs": 1}
    exposed = _est("mixtral-8x7b", "h100", 64, 4096, 512, plan, framework="megatron-bridge", ep_comm_overlap=False)
    hidden = _est("mixtral-8x7b", "h100", 64, 4096, 512, plan, framework="megatron-bridge", ep_comm_overlap=True)
    assert float(exposed.step.ep_comm[0]) > 0 and float(hidden.step.ep_comm[0]) == 0
    # What was exposed is now hidden and slows the compute by the SMs it holds.
    gained = float(hidden.step.comm_contention[0] - exposed.step.comm_contention[0])
    assert gained == pytest.approx(COMM_SM_SHARE * float(exposed.step.ep_comm[0]), rel=1e-6)


def test_expert_gradients_cross_the_fabric_when_ep_fills_the_domain():
    # 64 GPUs in 8-GPU domains: with EP 8 each expert's gradients live on 8 ranks one per domain, all
    # reduced over the fabric; with EP 64 every expert lives on one rank and none are reduced. The dense
    # gradients are the same in both.
    from stargate.training.estimate import _dp_comm

    ctx = resolve_context(preset("mixtral-8x7b"), Workload(accelerator="h100", gpus=64, seq_len=4096, global_batch=64))
    totals = {}
    for ep in (8, 64):
        plans = Plans.one(tp=1, pp=1, dp=64, ep=ep, mbs=1)
        totals[ep] = float(_dp_comm(ctx, plans, np.array([1.0]), np.array([1e-9]))[1][0])
    m = ctx.model
    expert_bytes = m.moe_layers * m.moe.experts * m.expert_params / 8 * 4  # fp32 gradients (Megatron-LM), one rank's share
    # A ring reduce-scatter over 8 ranks moves 7/8 of the buffer through each rank's NIC.
    fabric_bw = 400e9 / 8
    assert totals[8] - totals[64] >= 7 / 8 * expert_bytes / fabric_bw * 0.9


def test_dualpipe_bubble_is_pp_over_2_minus_1_stage_steps():
    plan = {"tp": 1, "pp": 8, "dp": 16, "ep": 8, "mbs": 1}
    one_f_one_b = _est("deepseek-v3", "h800", 128 * 8 // 8, 4096, 512, plan, framework="megatron")
    dualpipe = _est("deepseek-v3", "h800", 128 * 8 // 8, 4096, 512, plan, framework="hai-llm")
    busy_1f1b = float(one_f_one_b.step.compute[0] + one_f_one_b.step.overhead[0] + one_f_one_b.step.recompute[0])
    m = float(one_f_one_b.micro_batches[0])
    assert float(one_f_one_b.step.pipeline_bubble[0]) <= 7 / m * busy_1f1b * 1.0001
    ratio = float(dualpipe.step.pipeline_bubble[0]) / float(one_f_one_b.step.pipeline_bubble[0])
    busy_ratio = 1.0  # same kernels: compute + recompute identical between the two frameworks' features
    assert ratio == pytest.approx(3 / 7 * busy_ratio, rel=0.05)


def test_zero3_latency_grows_with_the_data_parallel_degree():
    # Same per-GPU work (1 micro-batch of 1 sequence), more replicas: every gather's ring has more steps.
    times = [float(_est("gpt3-175b", "a100-80g", g, 2048, g, {"tp": 1, "pp": 1, "dp": g, "mbs": 1,
                                                              "recompute": "full", "sharding": "zero3"},
                        framework="deepspeed").step.dp_comm[0]) for g in (384, 768, 1536)]
    assert times[0] < times[1] < times[2]
    assert np.diff(times).min() > 0


def test_current_scaling_pays_one_amax_read_of_every_fp8_gemm_input():
    from stargate import kernels

    plan = {"tp": 1, "pp": 1, "dp": 8, "mbs": 1}
    delayed = _est("llama3.1-8b", "h100", 8, 4096, 8, plan, precision="fp8", fp8_recipe="delayed")
    current = _est("llama3.1-8b", "h100", 8, 4096, 8, plan, precision="fp8", fp8_recipe="current")
    m = preset("llama3.1-8b")
    # Per token per layer: forward inputs of QKV, output, up and down projections (3h + f) and their
    # gradients backward, each read once more in bf16.
    extra_bytes = 2 * (3 * m.hidden_size + m.ffn_hidden_size) * 2.0 * 4096 * m.n_layers
    expected = extra_bytes / kernels.stream_bw_bytes_per_s("h100")
    gained = float(current.step.compute[0] - delayed.step.compute[0])
    assert gained == pytest.approx(expected, rel=0.02)


def test_framework_fp8_recipe_defaults():
    from stargate.training.features import fp8_recipe_of

    def w(**kw):
        return Workload(accelerator="h100", gpus=8, seq_len=4096, global_batch=8, **kw)

    assert fp8_recipe_of(w(precision="fp8", framework="megatron")) == "delayed"
    assert fp8_recipe_of(w(precision="fp8", framework="megatron-bridge")) == "current"
    assert fp8_recipe_of(w(precision="fp8", framework="hai-llm")) == "block"
    assert fp8_recipe_of(w(precision="fp8", framework="megatron", fp8_recipe="block")) == "block"
    assert fp8_recipe_of(w(precision="bf16", framework="megatron")) is None


def test_torchtitan_selective_recompute_repeats_half_the_forward_gemms():
    plan = {"tp": 1, "pp": 1, "dp": 8, "mbs": 1, "recompute": "selective", "sharding": "zero3"}
    none = {**plan, "recompute": "none"}
    tt = _est("llama3.1-8b", "h100", 8, 8192, 8, plan, framework="torchtitan")
    mg = _est("llama3.1-8b", "h100", 8, 8192, 8, plan, framework="megatron")
    ctx = resolve_context(preset("llama3.1-8b"), Workload(accelerator="h100", gpus=8, seq_len=8192, global_batch=8,
                                                          framework="torchtitan"))
    from stargate.training.compute import compute_times
    from stargate.training.estimate import _per_unique

    ct = compute_times(ctx, Plans.one(**none), np.array([1.0]), _per_unique)
    gemm_fwd_share = float(tt.step.recompute[0] - mg.step.recompute[0])
    assert gemm_fwd_share > 0
    # Half the forward GEMMs: a third of the forward + backward GEMM time, halved (within the kernel tables'
    # forward/backward asymmetry).
    assert gemm_fwd_share == pytest.approx(0.5 * float(ct.gemm[0]) / 3, rel=0.25)


def test_runs_file_rows_take_their_family_head_dim_and_say_so():
    from stargate.catalog import Catalog
    from stargate.training.validate import predict_row

    row = {"run_id": "x", "source_id": "s", "model": "Qwen3_30B_a3B", "arch": "moe", "n_layers": "48", "hidden_size": "2048",
           "n_heads": "32", "n_kv_heads": "4", "vocab_size": "151936", "seq_len": "4096", "moe_experts": "128",
           "moe_top_k": "8", "moe_expert_ffn": "768", "ffn_kind": "swiglu", "attention_kind": "gqa",
           "accelerator": "h100-sxm-80g", "num_gpus": "8", "tp": "1", "pp": "1", "dp": "8", "ep": "8",
           "global_batch_seqs": "64", "framework": "megatron-bridge", "precision": "bf16"}
    with_default = predict_row(row, Catalog.load())
    assert any(d.startswith("head_dim=128") for d in with_default.defaults)
    # 2048 / 32 = 64 would halve the attention's width: a given column wins, and 64 runs faster.
    given = predict_row({**row, "head_dim": "64"}, Catalog.load())
    assert not any(d.startswith("head_dim") for d in given.defaults)
    assert given.predicted_tokens_per_s_per_gpu > with_default.predicted_tokens_per_s_per_gpu


def test_offloaded_layers_hold_no_activations_on_the_gpu():
    plan = {"tp": 1, "pp": 1, "dp": 64, "mbs": 2, "sharding": "zero3"}
    kept = _est("llama3-70b", "gb200", 64, 8192, 128, plan, precision="fp8", framework="megatron-bridge")
    half = _est("llama3-70b", "gb200", 64, 8192, 128, plan, precision="fp8", framework="megatron-bridge",
                activation_offload_layers=40)
    assert float(half.memory.activations[0]) == pytest.approx(float(kept.memory.activations[0]) * 40 / 80, rel=1e-9)
    assert float(half.step_time_s[0]) == pytest.approx(float(kept.step_time_s[0]), rel=1e-12)  # the copies overlap
