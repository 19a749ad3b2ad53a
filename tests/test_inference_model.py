"""The serving model against hand calculations, physical bounds and invariants."""

from __future__ import annotations

import numpy as np
import pytest

from stargate.errors import InputError
from stargate.inference import ServingRequest, serve
from stargate.inference.context import resolve_serving
from stargate.inference.kv import kv_bytes_per_sequence, kv_bytes_per_token, kv_claim_per_sequence, weight_bytes_per_gpu
from stargate.inference.search import Layouts, maturity_factor, points
from stargate.inference.serve import frontier
from stargate.inference.step import forward_s
from stargate.training.presets import preset


def _req(**kw):
    base = {"accelerator": "h200", "gpus": 8, "input_tokens": 1024, "output_tokens": 1024}
    return ServingRequest(**{**base, **kw})


def test_kv_cache_per_token_by_attention_kind():
    # GQA: layers x 2 (K and V) x kv heads x head dim x bytes
    assert kv_bytes_per_token(preset("llama3.1-70b"), "fp8") == 80 * 2 * 8 * 128 * 1
    # MLA (DeepSeek-V2 §2.1.2): the 512-wide latent and the 64-wide rotary key, once per layer
    assert kv_bytes_per_token(preset("deepseek-v3"), "bf16") == 61 * (512 + 64) * 2
    # sliding window: 18 layers hold at most 128 tokens of a 4,096-token sequence
    m = preset("gpt-oss-120b")
    per_layer = 2 * 8 * 64 * 1
    assert kv_bytes_per_sequence(m, 4096, "fp8") == (18 * 4096 + 18 * 128) * per_layer


def test_tensorrt_llm_splits_kv_memory_equally_among_window_pools():
    # TensorRT-LLM gives its 128-token pool and its full pool half the KV memory each: GPT-OSS's 18 full layers
    # get half, so a 4,096-token sequence takes as much as if all 36 layers held 4,096 tokens
    m = preset("gpt-oss-120b")
    per_layer = 2 * 8 * 64 * 1
    assert kv_claim_per_sequence(m, 4096, "fp8", "trtllm") == 2 * 18 * 4096 * per_layer
    assert kv_claim_per_sequence(m, 100, "fp8", "trtllm") == 2 * 18 * 100 * per_layer  # both pools hold 100
    assert kv_claim_per_sequence(m, 4096, "fp8", "vllm") == kv_bytes_per_sequence(m, 4096, "fp8")
    dense = preset("llama3.1-70b")  # one window size, one pool: nothing changes
    assert kv_claim_per_sequence(dense, 4096, "fp8", "trtllm") == kv_bytes_per_sequence(dense, 4096, "fp8")
    # so the same B200 holds about half the GPT-OSS sequences under TensorRT-LLM that it does under vLLM
    req = {"accelerator": "b200", "gpus": 1, "input_tokens": 5000, "output_tokens": 1278}
    trt = serve(m, ServingRequest(**req, framework="trtllm")).max_concurrency
    vllm = serve(m, ServingRequest(**req, framework="vllm")).max_concurrency
    assert 0.49 < trt / vllm < 0.53  # (18 x 5,639 + 18 x 128) / (2 x 18 x 5,639)


def test_weights_per_gpu_by_hand():
    m = preset("llama3.1-70b")
    linear = m.params_total - m.embedding_params
    # linear layers in fp8 (1 byte) over 8 ranks; embedding and head in bf16 over 8 ranks, both ends of one stage
    expect = (linear * 1.0 + m.embedding_params * 2.0) / 8
    got = weight_bytes_per_gpu(m, "fp8", 8, 1, 1, False)
    assert got == pytest.approx(expect, rel=0.001)  # norms (2h per layer) are counted in fp8 too: < 0.1%


def test_decode_step_reads_at_least_the_weights():
    ctx = resolve_serving(preset("llama3.1-70b"), _req())
    one = Layouts(np.array([8.0]), np.array([1.0]), np.array([1.0]), np.array([False]))
    t = forward_s(ctx, one, np.array([1.0]), np.array([1.0]), kv_len=np.array([2048.0])).total[0]
    w = weight_bytes_per_gpu(ctx.model, "fp8", 8, 1, 1, False)
    assert t >= w / ctx.accelerator.hbm_bw_bytes_per_s  # the HBM roofline
    assert t < 5 * w / ctx.accelerator.hbm_bw_bytes_per_s


def test_no_point_beats_the_compute_roofline():
    ctx = resolve_serving(preset("llama3.1-70b"), _req(input_tokens=4096, output_tokens=256))
    p = points(ctx)
    flops_per_output = 2 * ctx.model.matmul_params_active * (1 + 4096 / 256)  # prefill work shared by the outputs
    peak = ctx.accelerator.peak_flops_per_s["fp8"]
    assert (p.tokens_per_s_per_gpu * flops_per_output <= peak).all()


def test_bigger_batches_trade_latency_for_throughput():
    ctx = resolve_serving(preset("llama3.1-70b"), _req(disaggregated="no"))
    p = points(ctx)
    sel = (p.layout.tp == 8) & (p.layout.pp == 1)
    order = np.argsort(p.batch[sel])
    assert (np.diff(p.tpot_s[sel][order]) > 0).all()
    assert p.tokens_per_s_per_gpu[sel][order][-1] > 10 * p.tokens_per_s_per_gpu[sel][order][0]


def test_frontier_is_pareto_and_monotone():
    ctx = resolve_serving(preset("llama3.1-8b"), _req(gpus=8))
    p = points(ctx)
    f = frontier(p, None, ctx)
    assert (np.diff(p.tokens_per_s_per_user[f]) < 0).all() and (np.diff(p.tokens_per_s_per_gpu[f]) > 0).all()
    for i in f:  # nothing dominates a frontier point
        better = (p.tokens_per_s_per_gpu > p.tokens_per_s_per_gpu[i]) & (p.tokens_per_s_per_user > p.tokens_per_s_per_user[i])
        assert not better.any()


def test_best_point_meets_limits_and_adds_up():
    r = serve(preset("llama3.1-70b"), _req(ttft_s=2.0, tpot_s=0.05))
    assert r.meets_limits and r.tpot_p99_s <= 0.05 and r.ttft_p99_s <= 2.0
    assert r.tokens_per_s == pytest.approx(r.tokens_per_s_per_gpu * 8)
    assert r.requests_per_s == pytest.approx(r.tokens_per_s / 1024)
    loose = serve(preset("llama3.1-70b"), _req())
    assert loose.tokens_per_s_per_gpu >= r.tokens_per_s_per_gpu  # a limit never raises throughput


def test_wide_expert_parallelism_beyond_one_domain():
    # DeepSeek-V3's serving layout (arXiv:2412.19437 §3.4): attention data-parallel, experts over many nodes
    r = serve(preset("deepseek-v3"), _req(gpus=256, tokens_per_user=25, disaggregated="no"))
    d = r.deployment
    assert d.attention_dp and d.ep == d.tp and d.tp > 8  # wider than one 8-GPU NVLink domain


def test_disaggregation_switch():
    m = preset("llama3.1-70b")
    assert not serve(m, _req(gpus=16, disaggregated="no")).deployment.disaggregated
    d = serve(m, _req(gpus=16, disaggregated="yes")).deployment
    assert d.disaggregated and 0 < d.prefill_share < 1


def test_fp8_kv_cache_holds_twice_the_sequences():
    m = preset("llama3.1-70b")
    a = serve(m, _req(kv_dtype="bf16", precision="fp8"))
    b = serve(m, _req(kv_dtype="fp8", precision="fp8"))
    assert b.kv_bytes_per_token == a.kv_bytes_per_token / 2


def test_bad_requests_name_the_field():
    with pytest.raises(InputError, match="precision"):
        serve(preset("llama3.1-8b"), _req(accelerator="a100", precision="fp4"))  # neither FP4 nor FP8 units
    hopper = serve(preset("llama3.1-8b"), _req(accelerator="h100", precision="fp4"))  # weight-only FP4, said so
    assert any("weight-only" in n for n in hopper.notes)
    with pytest.raises(InputError, match="gpus"):
        serve(preset("llama3.1-405b"), _req(accelerator="h100", gpus=1, precision="bf16"))
    with pytest.raises(ValueError, match="tpot_s or tokens_per_user"):
        _req(tpot_s=0.05, tokens_per_user=20)


def test_every_catalog_chip_can_be_simulated():
    from stargate.catalog import Catalog

    for acc in Catalog.load().entries("accelerator"):
        r = serve(preset("llama3.1-8b"), ServingRequest(accelerator=acc.id, gpus=8, input_tokens=512, output_tokens=256,
                                                       precision="bf16" if "fp8" not in acc.peak_flops_per_s else "fp8"))
        assert r.tokens_per_s > 0
        assert r.calibrated == (not r.notes or not r.notes[0].startswith(acc.id))


def test_spread_of_output_lengths_lengthens_the_decode_context():
    # length-biased: tokens are generated at I + O(1 + cv^2)/2 (a long request is in flight longer)
    r = _req(input_tokens=800, output_tokens=4000, output_tokens_cv=1.25)
    assert r.decode_context_tokens == pytest.approx(800 + 4000 * (1 + 1.25**2) / 2)
    m = preset("deepseek-v3")
    fixed, spread = serve(m, _req(input_tokens=800, output_tokens=4000)), serve(m, r)
    assert spread.max_concurrency < fixed.max_concurrency  # each sequence holds more KV cache on average
    assert spread.tokens_per_s_per_gpu < fixed.tokens_per_s_per_gpu


def test_maturity_factor_by_hand():
    # 1 + m exp(-age / tau), age counted from the architecture's first release (DeepSeek-V3: 2024.98)
    consts = {"maturity_slowdown": 0.4, "maturity_time_years": 0.5}
    ds = preset("deepseek-v3")

    def factor(year, model=ds):
        return maturity_factor(resolve_serving(model, _req(software_year=year), constants=consts))

    assert factor(None) == 1.0  # no software date (planning ahead): mature software
    assert factor(2024.98) == pytest.approx(1.4)  # released that day: 1 + m
    assert factor(2024.98 + 0.5) == pytest.approx(1.0 + 0.4 / np.e)  # one time constant later
    assert factor(2024.0) == pytest.approx(1.4)  # software older than the model: age 0, not negative
    assert factor(2040.0) == pytest.approx(1.0, abs=1e-12)  # long after: mature
    # Llama 3.1 405B (2024.56) is of Llama 2 70B's kind (dense GQA, 2023.54): its software matured from then
    assert factor(2024.56, preset("llama3.1-405b")) == pytest.approx(1.0 + 0.4 * np.exp(-1.02 / 0.5))
    assert factor(2025.0, preset("gpt3-175b")) == 1.0  # no release date: mature


def test_immature_software_serves_less():
    # the same software date, with and without the slowdown of a just-released architecture
    def best(slowdown):
        ctx = resolve_serving(preset("deepseek-v3"), _req(software_year=2024.98),
                              constants={"maturity_slowdown": slowdown, "maturity_time_years": 0.5})
        return float(points(ctx).tokens_per_s_per_gpu.max())

    assert best(1.0) < best(0.0)


def test_prediction_interval_by_class_and_fallback(monkeypatch):
    from stargate.inference import calibration as cal

    table = {"prediction_interval": {"dense": [0.8, 1.3], "moe": [0.6, 1.1], "all": [0.7, 1.2]}}
    monkeypatch.setattr(cal, "calibration", lambda: table)
    assert cal.prediction_interval(moe=False) == (0.8, 1.3)
    assert cal.prediction_interval(moe=True) == (0.6, 1.1)
    del table["prediction_interval"]["moe"]  # a class with too few rows for its own band takes all rows'
    assert cal.prediction_interval(moe=True) == (0.7, 1.2)


def test_engine_without_pipeline_stages_serves_on_one():
    # TensorRT-LLM's GPT-OSS model asserts pp_size == 1 (modeling_gpt_oss.py, NVIDIA/TensorRT-LLM PR #7911);
    # vLLM's runs pipeline stages. Offline on 8 PCIe RTX PRO 6000 the search otherwise picks four stages.
    m = preset("gpt-oss-120b")
    req = _req(accelerator="rtx-pro-6000-bse-96g", precision="fp4")
    trt = serve(m, req)
    assert trt.deployment.pp == 1
    assert {int(p) for p in points(resolve_serving(m, req)).layout.pp} == {1}
    vllm = points(resolve_serving(m, req.model_copy(update={"framework": "vllm"})))
    assert vllm.layout.pp.max() > 1 and vllm.tokens_per_s_per_gpu.max() >= trt.tokens_per_s_per_gpu
    with pytest.raises(InputError, match="runs GPT-OSS on one pipeline stage"):
        serve(m, req.model_copy(update={"replica_gpus": 3}))
    assert serve(preset("llama3.1-70b"), _req(accelerator="rtx-pro-6000-bse-96g", precision="fp4", replica_gpus=2)).deployment.replica_gpus == 2


def test_closed_loop_clients_wait_out_their_first_token():
    # Little's law over a client's cycle: 16 clients each get O tokens per (TTFT + O·TPOT); a long prompt and a
    # short answer make the wait a visible share of the cycle
    req = _req(accelerator="h200", gpus=1, input_tokens=8192, output_tokens=256, concurrency=16, replica_gpus=1,
               disaggregated="no")
    r = serve(preset("llama3.1-8b"), req)
    assert r.deployment.batch == 16
    assert r.tokens_per_s == pytest.approx(16 * 256 / (r.ttft_s + 256 * r.tpot_s), rel=1e-9)
    assert r.tokens_per_s < 16 / r.tpot_s  # an open-arrival engine with 16 in flight would serve 1/TPOT each
