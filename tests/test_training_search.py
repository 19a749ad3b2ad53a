"""The parallelism search: only plans the framework can run, natural GPU counts, O(1) in the GPU count.

Every plan the search returns (and every candidate it considers) is checked against the framework's
rules by an independent, one-plan-at-a-time reading of ``framework_rules.yaml`` below.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from math import ceil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stargate.errors import InputError
from stargate.training.context import Workload, resolve_context
from stargate.training.estimate import estimate
from stargate.training.job import TrainRequest, train
from stargate.training.plans import Plans
from stargate.training.presets import preset
from stargate.training.rules import framework_rules, frameworks, pipeline_split, search_limits
from stargate.training.search import candidate_plans, search

FRAMEWORKS = ("megatron", "nemo", "megatron-bridge", "torchtitan", "llm-foundry", "deepspeed")


def _ctx(model: str, acc: str, gpus: int, seq: int, batch: int, framework: str = "megatron", precision: str = "bf16"):
    w = Workload(accelerator=acc, gpus=gpus, seq_len=seq, global_batch=batch, framework=framework, precision=precision)
    return resolve_context(preset(model), w)


def violations(ctx, p: dict, check_balance: bool = True) -> list[str]:
    """What one plan breaks of its framework's rules (empty: the framework can run it)."""
    r, m, w = framework_rules(ctx.workload.framework), ctx.model, ctx.workload
    tp, pp, dp, cp, ep, vp, mbs = (p[k] for k in ("tp", "pp", "dp", "cp", "ep", "vp", "mbs"))
    domain, layers, seq, batch = ctx.scale_up_domain, m.n_layers, w.seq_len, w.global_batch
    bad = []
    if tp * pp * cp * dp > w.gpus:
        bad.append("more GPUs than the job has")
    if tp > 1:
        sizes = {"n_heads": m.n_heads, "n_kv_heads": m.kv_heads, "ffn_hidden_size": m.ffn_hidden_size}
        if not r.tp:
            bad.append("tp without tensor parallelism")
        for key in r.tp_divides:
            if sizes[key] and sizes[key] % tp:
                bad.append(f"tp does not divide {key}")
        if tp <= domain and domain % tp:
            bad.append("tp group straddles two domains")
        if tp > domain and (not r.tp_beyond_domain or tp % domain):
            bad.append("tp beyond the scale-up domain")
    if pp > 1 and not r.pp:
        bad.append("pp without pipeline parallelism")
    if vp > 1 and (not r.vp or pp < r.vp_min_pp):
        bad.append("interleaving without the schedule")
    if layers % (pp * vp):
        if r.pp_split == "even":
            bad.append("uneven pipeline split")
        elif r.pp_split == "first_last":
            k = vp * ceil(layers / (pp * vp))
            rest = layers - (pp - 2) * k
            if not (rest >= 2 * vp and rest % vp == 0 and rest <= 2 * k):
                bad.append("no first/last-stage split")
        elif pp * vp > layers:
            bad.append("more stages than layers")
        heaviest = vp * ceil(layers / (pp * vp))
        if check_balance and heaviest * pp > (1 + search_limits().max_stage_imbalance) * layers:
            bad.append("stages too unbalanced for the model")
    if cp > 1 and (not r.cp or seq % (2 * cp)):
        bad.append("cp rule")
    if p["sp"] and (r.sp_mode == "never" or tp == 1):
        bad.append("sequence parallelism without TP")
    if p["sp"] and r.sp_seq_divisible_by_tp and (seq // cp) % tp:
        bad.append("sequence not divisible over tp")
    if ep > 1:
        if m.moe is None or not r.ep or m.moe.experts % ep:
            bad.append("ep does not divide the experts")
        group = tp * cp * dp if r.ep_group == "tp_cp_dp" else dp
        if group % ep:
            bad.append("ep does not tile its group")
        if r.sp_required_with_tp_and_ep and tp > 1 and not p["sp"]:
            bad.append("MoE with TP and EP without sequence parallelism")
    if batch % (dp * mbs):
        bad.append("batch not divisible by dp x mbs")
    micro = batch // (dp * mbs)
    if vp > 1:
        if micro < pp:
            bad.append("interleaved with fewer micro-batches than pp")
        if r.vp_microbatches == "multiple_of_pp" and micro % pp:
            bad.append("interleaved micro-batches not a multiple of pp")
        if r.vp_microbatches == "rounds" and micro % max(1, micro // pp):
            bad.append("PyTorch rounds rule")
    allowed = r.sharding_moe if m.moe is not None else r.sharding
    if p["sharding"] not in allowed or (pp > 1 and p["sharding"] not in r.sharding_with_pp):
        bad.append(f"sharding {p['sharding']}")
    if p["recompute"] not in r.recompute:
        bad.append(f"recompute {p['recompute']}")
    return bad


def _rows(plans: Plans, limit: int = 400) -> list[dict]:
    idx = np.unique(np.linspace(0, len(plans) - 1, min(limit, len(plans))).astype(int)) if len(plans) else []
    return [plans.row(int(i)) for i in idx]


MODELS = ("gpt3-175b", "llama3.1-8b", "llama3.1-70b", "llama3.1-405b", "deepseek-v3", "mixtral-8x7b", "mpt-30b",
          "qwen3-30b-a3b")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(MODELS), framework=st.sampled_from(FRAMEWORKS), acc=st.sampled_from(["h100", "mi355x", "gb200"]),
       gpus=st.one_of(st.integers(1, 4096), st.sampled_from([10752, 16384, 49152, 50000, 100_000])),
       batch=st.sampled_from([16, 96, 512, 1536, 2048, 4096, 15360]), seq=st.sampled_from([2048, 4096, 8192]))
def test_every_plan_satisfies_its_framework(model, framework, acc, gpus, batch, seq):
    ctx = _ctx(model, acc, gpus, seq, batch, framework)
    r = search(ctx)
    assert r.framework == framework
    for i in range(len(r.best.plans)):
        row = r.best.plans.row(i)
        assert violations(ctx, row) == [], row
        assert int(r.best.plans.gpus[i]) <= gpus
    if r.feasible:
        assert 0 < r.gpus_used <= gpus and r.global_batch == batch
        assert r.gpus_used == int(r.best.plans.gpus[0]) and r.idle_gpus == gpus - r.gpus_used
    # And every candidate it considered, not only the winners.
    for row in _rows(candidate_plans(ctx, fewer_gpus=True)):
        assert violations(ctx, row) == [], row


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(MODELS), framework=st.sampled_from(FRAMEWORKS), gpus=st.integers(1, 3000),
       batch=st.sampled_from([1, 8, 96, 1536]),
       tp=st.sampled_from([None, 1, 2, 3, 8, 16]), pp=st.sampled_from([None, 1, 2, 5, 7, 16]),
       vp=st.sampled_from([None, 1, 2, 4]), dp=st.sampled_from([None, 1, 3, 64]), mbs=st.sampled_from([None, 1, 2]),
       sharding=st.sampled_from([None, "none", "zero1", "zero3"]))
def test_fixed_options_are_honoured_or_refused_in_one_line(model, framework, gpus, batch, tp, pp, vp, dp, mbs, sharding):
    ctx = _ctx(model, "h100", gpus, 4096, batch, framework)
    fixed = {"tp": tp, "pp": pp, "vp": vp, "dp": dp, "mbs": mbs, "sharding": sharding}
    given_ = {k: v for k, v in fixed.items() if v is not None}
    try:
        out = train(TrainRequest(model=model, workload=ctx.workload, use_subset=True, **given_))
    except InputError as e:
        assert e.field in (*fixed, "parallelism", "gpus") and "\n" not in str(e)
        return
    if out["fits"]:
        p = out["parallelism"]
        assert all(p[k] == v for k, v in given_.items()), (p, given_)
        assert violations(ctx, p, check_balance=pp is None) == [] and out["gpus_used"] <= gpus


def test_rules_cover_the_workload_frameworks():
    assert set(FRAMEWORKS) <= set(frameworks())
    for f in frameworks():
        r = framework_rules(f)
        assert r.sources["tp"] or not r.tp
        assert set(r.sharding_with_pp) <= set(r.sharding) and set(r.recompute) <= {"none", "selective", "full"}
    with pytest.raises(InputError, match="framework"):
        framework_rules("jax-whatever")


def test_gpt3_interleave_with_one_micro_batch_is_impossible():
    ctx = _ctx("gpt3-175b", "a100", 1536, 2048, 1536)
    plans = candidate_plans(ctx, fewer_gpus=True)
    micro = 1536 // (plans.dp * plans.mbs)
    inter = plans.vp > 1
    assert inter.any()
    assert np.all(micro[inter] >= plans.pp[inter]) and np.all(micro[inter] % plans.pp[inter] == 0)
    for row in _rows(plans.take(inter)):
        assert violations(ctx, row) == []
    # The old winner: pipeline 2 x interleave 16 with one micro-batch per step.
    with pytest.raises(InputError, match="parallelism"):
        train(TrainRequest(model="gpt3-175b", workload=ctx.workload, pp=2, vp=16, mbs=2, dp=768))


def test_tensor_parallelism_beyond_a_domain_only_where_supported():
    megatron = candidate_plans(_ctx("gpt3-175b", "h100", 1024, 2048, 1024))
    assert megatron.tp.max() <= 8
    titan = candidate_plans(_ctx("gpt3-175b", "h100", 1024, 2048, 1024, "torchtitan"))
    assert 16 in titan.tp  # torchtitan's TP is a device-mesh dimension: it may span two 8-GPU domains
    with pytest.raises(InputError) as e:
        search(_ctx("gpt3-175b", "h100", 1024, 2048, 1024), {"tp": 16})
    assert e.value.field == "tp" and "1, 2, 4, 8" in str(e.value)


def test_tp_beyond_the_domain_is_costed_on_the_fabric():
    ctx = _ctx("gpt3-175b", "h100", 1024, 2048, 1024, "torchtitan")
    inside = estimate(ctx, Plans.one(tp=8, pp=1, dp=128, mbs=1, recompute="full", sharding="zero3"))
    across = estimate(ctx, Plans.one(tp=16, pp=1, dp=64, mbs=1, recompute="full", sharding="zero3"))
    # Twice the group, half the bytes per rank; crossing to the NIC (~9x less bandwidth than NVLink) costs more.
    assert across.step.tp_comm[0] > 2 * inside.step.tp_comm[0]


@pytest.mark.parametrize(("model", "acc", "gpus", "seq", "batch", "precision"), [
    ("deepseek-v3", "mi355x", 50_000, 4096, 15360, "bf16"),
    ("deepseek-v3", "mi355x", 49_152, 4096, 15360, "bf16"),
    ("gpt3-175b", "h100", 10_752, 2048, 1536, "fp8"),
])
def test_natural_gpu_counts_find_a_plan(model, acc, gpus, seq, batch, precision):
    out = train(TrainRequest(model=model, workload=Workload(accelerator=acc, gpus=gpus, seq_len=seq, global_batch=batch,
                                                             precision=precision), use_subset=True))
    assert out["fits"] and out["global_batch"] == batch
    assert 0 < out["gpus_used"] <= gpus and out["idle_gpus"] == gpus - out["gpus_used"]
    p = out["parallelism"]
    assert p["tp"] * p["pp"] * p["cp"] * p["dp"] == out["gpus_used"]
    if out["idle_gpus"]:
        assert any("idle" in n for n in out["notes"])
    ctx = _ctx(model, acc, gpus, seq, batch, precision=precision)
    assert violations(ctx, p) == []


def test_gpt3_on_10752_h100_uses_every_gpu_with_an_uneven_pipeline():
    # 10,752 = 2^9 x 3 x 7: only a pipeline of 7, 14 or 28 stages factors it, and 96 layers split
    # evenly into none of them — Megatron-Core's smaller first and last stages make it possible.
    r = search(_ctx("gpt3-175b", "h100", 10_752, 2048, 1536, precision="fp8"))
    assert r.gpus_used == 10_752
    row = r.best.plans.row(0)
    assert row["pp"] % 7 == 0 and pipeline_split(96, row["pp"], row["vp"], "first_last") is not None


def test_batch_moves_only_when_allowed():
    w = Workload(accelerator="mi355x", gpus=50_000, seq_len=4096, global_batch=15360)
    fixed = train(TrainRequest(model="deepseek-v3", workload=w, use_subset=True))
    assert fixed["global_batch"] == 15360 and "global_batch_requested" not in fixed
    ctx = resolve_context(preset("deepseek-v3"), w)
    r = search(ctx, batch_tolerance=0.05)
    assert abs(r.global_batch - 15360) <= 0.05 * 15360
    assert r.gpus_used == 50_000 or r.global_batch == 15360
    if r.global_batch != 15360:
        assert any("rounded" in n for n in r.notes)


def test_natural_gpu_count_on_the_cli(cli):
    r = cli("train", "--model", "gpt3-175b", "--accelerator", "h100", "--gpus", "10000", "--seq-len", "2048",
            "--global-batch", "1536", "--use-subset", "--json")
    assert r.code == 0, r.stderr
    d = r.json()
    for key in ("step_time_s", "tokens_per_s_per_gpu", "mfu", "memory_per_gpu_bytes", "fits", "parallelism", "breakdown_s"):
        assert key in d
    assert d["gpus"] == 10000 and d["gpus_used"] + d["idle_gpus"] == 10000 and d["gpus_used"] < 10000
    text = cli("train", "--model", "gpt3-175b", "--accelerator", "h100", "--gpus", "10000", "--seq-len", "2048",
               "--global-batch", "1536", "--use-subset").stdout
    assert "idle" in text


@pytest.mark.parametrize(("framework", "model", "fixed", "field"), [
    ("megatron", "gpt3-175b", {"tp": 16}, "tp"),
    ("megatron", "gpt3-175b", {"tp": 5}, "tp"),
    ("llm-foundry", "mpt-30b", {"tp": 2}, "tp"),
    ("llm-foundry", "mpt-30b", {"pp": 2}, "pp"),
    ("llm-foundry", "mpt-30b", {"recompute": "selective"}, "recompute"),
    ("llm-foundry", "mpt-30b", {"sharding": "zero1"}, "sharding"),
    ("deepspeed", "gpt3-175b", {"pp": 4, "sharding": "zero3"}, "sharding"),
    ("deepspeed", "gpt3-175b", {"vp": 2}, "vp"),
    ("deepspeed", "gpt3-175b", {"cp": 2}, "cp"),
    ("deepspeed", "deepseek-v3", {"sharding": "zero3"}, "sharding"),
    ("megatron", "gpt3-175b", {"pp": 5, "vp": 16}, "vp"),
    ("megatron", "gpt3-175b", {"pp": 95}, "pp"),
    ("megatron", "gpt3-175b", {"cp": 3}, "cp"),
    ("megatron", "deepseek-v3", {"ep": 3}, "ep"),
    ("megatron", "gpt3-175b", {"ep": 2}, "ep"),
    ("torchtitan", "gpt3-175b", {"sharding": "zero1"}, "sharding"),
])
def test_fixed_options_that_break_a_rule_name_the_option(framework, model, fixed, field):
    ctx = _ctx(model, "h100", 1024, 4096, 1024, framework)
    with pytest.raises(InputError) as e:
        search(ctx, fixed)
    assert e.value.field == field and "\n" not in str(e.value)


def test_cli_one_line_errors(cli):
    base = ["train", "--model", "gpt3-175b", "--accelerator", "h100", "--seq-len", "2048", "--global-batch", "1536"]
    r = cli(*base, "--gpus", "1024", "--tp", "16")
    assert r.code == 2 and "--tp" in r.stderr and "\n" not in r.stderr.strip()
    # Truly nothing: 3 GPUs cannot hold a tensor-parallel group of 8.
    r = cli(*base, "--gpus", "3", "--tp", "8")
    assert r.code == 2 and "parallelism" in r.stderr and "tp in [1, 2]" in r.stderr and "\n" not in r.stderr.strip()


def _peak(fn):
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, elapsed, peak


@pytest.mark.parametrize("gpus", [10_000_000, 30_000_000])
def test_candidate_generation_is_o1_in_the_gpu_count(gpus):
    small = _ctx("llama3.1-405b", "h100", 16_384, 8192, 2048)
    huge = _ctx("llama3.1-405b", "h100", gpus, 8192, 2**22)
    candidate_plans(small, fewer_gpus=True)
    a, _, peak_small = _peak(lambda: candidate_plans(small, fewer_gpus=True))
    b, elapsed, peak_huge = _peak(lambda: candidate_plans(huge, fewer_gpus=True))
    assert len(b) < 2 * len(a) + 1000 and elapsed < 2
    assert peak_huge < 4 * peak_small + 8 * 2**20


def test_search_at_ten_million_gpus_takes_seconds_not_minutes():
    ctx = _ctx("llama3.1-405b", "h100", 10_000_000, 8192, 2**21)
    r, elapsed, _ = _peak(lambda: search(ctx))
    assert elapsed < 5 and r.feasible > 0 and r.gpus_used <= 10_000_000


def test_full_search_memory_is_o1_in_the_gpu_count():
    small = _ctx("llama3.1-405b", "h100", 16_384, 8192, 2048)
    huge = _ctx("llama3.1-405b", "h100", 30_000_000, 8192, 2**22)
    search(small)
    _, _, peak_small = _peak(lambda: search(small))
    _, _, peak_huge = _peak(lambda: search(huge))
    assert peak_huge < 4 * peak_small + 16 * 2**20


def test_405b_search_is_fast():
    ctx = _ctx("llama3.1-405b", "h100", 16_384, 8192, 2048)
    search(ctx)
    r = search(ctx)
    assert r.search_time_s < 2 and r.gpus_used == 16_384


def test_dense_codes_agree_above_and_below_the_lookup_limit():
    from stargate.training.estimate import _dense_codes

    small = np.array([5, 3, 5, 7, 3, 0], dtype=np.int64)
    for values in (small, small * 2**22, small + 2**24):
        codes, k = _dense_codes(values)
        assert k == 4 and codes.tolist() == [2, 1, 2, 3, 1, 0]


# `stargate train --framework / --fp8-recipe` and `/api/train`'s `framework` / `fp8_recipe`.
GPT3 = ["train", "--model", "gpt3-175b", "--accelerator", "a100", "--gpus", "1536", "--seq-len", "2048",
        "--global-batch", "1536", "--json"]


def _plans(d: dict) -> list[dict]:
    return [d["parallelism"], *(a["parallelism"] for a in d.get("alternatives", []))]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_framework_option_chooses_whose_rules_the_plan_obeys(cli, framework):
    r = cli(*GPT3, "--framework", framework)
    assert r.code == 0, r.stderr
    d = r.json()
    assert d["framework"] == framework and d["fits"]
    rules, ctx = framework_rules(framework), _ctx("gpt3-175b", "a100", 1536, 2048, 1536, framework)
    for p in _plans(d):
        assert violations(ctx, p) == [], p
        if not rules.vp:
            assert p["vp"] == 1  # e.g. DeepSpeed's PipelineEngine has no interleaved schedule
        if not rules.tp:
            assert p["tp"] == 1
        if not rules.pp:
            assert p["pp"] == 1
        if rules.sp_mode == "never":
            assert not p["sp"]


def test_framework_defaults_to_the_workloads_and_changes_the_answer(cli):
    default = cli(*GPT3).json()
    assert default["framework"] == Workload.model_fields["framework"].default == "megatron"
    assert cli(*GPT3, "--framework", "megatron").json()["parallelism"] == default["parallelism"]
    # Written in any case; DeepSpeed runs neither interleaving nor sequence parallelism, llm-foundry FSDP alone.
    ds = cli(*GPT3, "--framework", "DeepSpeed").json()
    assert ds["framework"] == "deepspeed" and all(p["vp"] == 1 and not p["sp"] for p in _plans(ds))
    foundry = cli(*GPT3, "--framework", "llm-foundry").json()
    assert all(p["tp"] == p["pp"] == p["cp"] == 1 for p in _plans(foundry))
    assert len({json.dumps(x["parallelism"], sort_keys=True) for x in (default, ds, foundry)}) > 1


@pytest.mark.parametrize("value", ["jax", "Mega tron!", "megatron-lm", ""])
def test_unknown_framework_is_one_line_naming_the_option_value_and_names(cli, value):
    r = cli(*GPT3, "--framework", value)
    line = r.stderr.strip()
    assert r.code == 2 and "\n" not in line and "Traceback" not in line and r.stdout == ""
    assert "--framework" in line and repr(value) in line
    assert all(f in line for f in frameworks())


def test_fp8_recipe_option(cli):
    base = ["train", "--model", "gpt3-175b", "--accelerator", "h100", "--gpus", "1024", "--seq-len", "2048",
            "--global-batch", "1536", "--json"]
    r = cli(*base, "--precision", "fp8", "--fp8-recipe", "block")
    assert r.code == 0, r.stderr
    w = Workload(accelerator="h100", gpus=1024, seq_len=2048, global_batch=1536, precision="fp8", fp8_recipe="block")
    assert r.json()["step_time_s"] == pytest.approx(train(TrainRequest(model="gpt3-175b", workload=w))["step_time_s"])
    for extra, fragments in (
        (["--fp8-recipe", "block"], ["--fp8-recipe", "'block'", "bf16"]),  # bf16 runs no low-precision GEMMs
        (["--precision", "fp8", "--fp8-recipe", "weird"], ["--fp8-recipe", "'weird'", "tensor", "mxfp8"]),
        (["--precision", "fp8", "--fp8-recipe", "nvfp4"], ["--fp8-recipe", "'nvfp4'", "rowwise"]),
    ):
        r = cli(*base, *extra)
        line = r.stderr.strip()
        assert r.code == 2 and "\n" not in line and all(f in line for f in fragments), line


def test_train_help_lists_the_frameworks_and_recipes(cli):
    from stargate.training.rules import FP8_RECIPES

    r = cli("train", "--help")
    assert r.code == 0
    flat = "".join(r.stdout.split())  # help wraps lines, at spaces or hyphens
    assert "--framework" in flat and "--fp8-recipe" in flat and "(default:megatron)" in flat
    assert all(f in flat for f in frameworks()) and all(v in flat for v in FP8_RECIPES)
    for recipe in FP8_RECIPES:  # the names the help gives are the ones the core accepts
        assert Workload(accelerator="h100", gpus=8, seq_len=8, global_batch=8, fp8_recipe=recipe).fp8_recipe == recipe


def test_web_train_body_takes_framework_and_recipe():
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from stargate.web.app import create_app

    app = create_app()
    try:
        client = TestClient(app)
        body = {"model": "gpt3-175b", "accelerator": "a100", "gpus": 1536, "seq_len": 2048, "global_batch": 1536}
        d = client.post("/api/train", json={**body, "framework": "deepspeed"}).json()
        assert d["framework"] == "deepspeed" and d["parallelism"]["vp"] == 1
        assert client.post("/api/train", json=body).json()["framework"] == "megatron"
        for extra, field, value in (({"framework": "jax"}, "framework", "jax"),
                                    ({"fp8_recipe": "block"}, "fp8_recipe", "block"),
                                    ({"precision": "fp8", "fp8_recipe": "weird"}, "fp8_recipe", "weird")):
            r = client.post("/api/train", json={**body, **extra})
            assert r.status_code == 422
            detail = r.json()["detail"][0]
            assert detail["loc"] == ["body", field] and detail["input"] == value
        assert "deepspeed" in client.post("/api/train", json={**body, "framework": "jax"}).json()["detail"][0]["msg"]
        moe = {"model": "mixtral-8x7b", "accelerator": "h100", "gpus": 64, "seq_len": 4096, "global_batch": 512, "ep": 8}
        balanced = client.post("/api/train", json=moe).json()["tokens_per_s_per_gpu"]
        skewed = client.post("/api/train", json={**moe, "moe_load_imbalance": 1.3}).json()["tokens_per_s_per_gpu"]
        assert skewed < balanced
        r = client.post("/api/train", json={**moe, "moe_load_imbalance": 0.5})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "moe_load_imbalance"]
    finally:
        app.state.pool.close()
