"""Ranges of training and serving answers: the models' intervals and the design's inputs through the answers' chains."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stargate import api
from stargate.errors import InputError
from stargate.serving import InferRequest, infer
from stargate.training.context import Workload
from stargate.training.interval import band_for
from stargate.training.job import TrainRequest, train
from stargate.uncertainty.propagate import propagate
from stargate.uncertainty.sensitivity import tornado
from stargate.uncertainty.serving import SERVING_BASIS, SERVING_KEY, infer_model, serving_interval
from stargate.uncertainty.training import TRAINING_KEY, train_model

TRAIN_REQ = TrainRequest(model="llama3.1-8b", workload=Workload(accelerator="h100", gpus=64, seq_len=8192, global_batch=512))
MOE_REQ = TrainRequest(model="mixtral-8x7b", workload=Workload(accelerator="h100", gpus=256, seq_len=4096,
                                                               global_batch=1024, precision="fp8"))
INFER_GPUS = InferRequest(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens=1024, output_tokens=1024,
                          tokens_per_user=20)
INFER_BUDGET = InferRequest(model="mixtral-8x7b", accelerator="h100", budget_usd=2e8, input_tokens=2048,
                            output_tokens=512)


def at(answer: dict, headline: str) -> float:
    """An answer's figure by its (dotted) headline key."""
    value = answer
    for part in headline.split("."):
        value = value[part]
    return float(value)


@pytest.fixture(scope="module")
def train_cases(catalog):
    return [(req, train(req, catalog)) for req in (TRAIN_REQ, MOE_REQ)]


@pytest.fixture(scope="module")
def infer_cases(catalog):
    return [(req, infer(req, catalog)) for req in (INFER_GPUS, INFER_BUDGET)]


def collapsed(model):
    return model.widened({b.key: 0.0 for b in model.inputs})


def test_zero_bands_give_the_training_answer_exactly(train_cases, catalog):
    for req, answer in train_cases:
        model = train_model(req, catalog, answer)
        ranges = propagate(collapsed(model), n=64, seed=3).ranges
        assert {"tokens_per_s_per_gpu", "step_time_s", "mfu", "time_to_train.days", "time_to_train.cost_usd"} <= set(ranges)
        for headline, r in ranges.items():
            assert r["p10"] == r["p50"] == r["p90"] == at(answer, headline), headline


def test_zero_bands_give_the_serving_answer_exactly(infer_cases, catalog):
    for req, answer in infer_cases:
        model = infer_model(req, catalog, answer)
        ranges = propagate(collapsed(model), n=64, seed=3).ranges
        assert {"tokens_per_s_per_gpu", "tokens_per_s", "usd_per_million_tokens", "usd_per_million_input_tokens",
                "usd_per_million_output_tokens", "tokens_per_mw", "requests_per_s"} <= set(ranges)
        for headline, r in ranges.items():
            assert r["p10"] == r["p50"] == r["p90"] == at(answer, headline), headline


def test_the_band_ends_are_the_answers_range_ends(train_cases, catalog):
    """One input at its P10 and P90 (the tornado) gives exactly the ``*_range`` ends the answer reports."""
    for req, answer in train_cases:
        swings = tornado(train_model(req, catalog, answer))
        for headline, key in (("tokens_per_s_per_gpu", "tokens_per_s_per_gpu_range"), ("mfu", "mfu_range")):
            rows = {r["key"]: r for r in swings[headline]}
            assert rows[TRAINING_KEY]["output_at_low"] == answer[key]["p10"]
            assert rows[TRAINING_KEY]["output_at_high"] == answer[key]["p90"]
        rows = {r["key"]: r for r in swings["step_time_s"]}
        assert rows[TRAINING_KEY]["output_at_high"] == answer["step_time_s_range"]["p10"]
        assert rows[TRAINING_KEY]["output_at_low"] == answer["step_time_s_range"]["p90"]
        rows = {r["key"]: r for r in swings["time_to_train.days"]}
        days = answer["time_to_train"]["days_range"]
        assert rows[TRAINING_KEY]["output_at_high"] == pytest.approx(days["p10"], rel=1e-12)
        assert rows[TRAINING_KEY]["output_at_low"] == pytest.approx(days["p90"], rel=1e-12)


def test_percentiles_of_tokens_per_s_are_point_times_band_ends(train_cases, catalog):
    """With the model's band the only input, P10 and P90 of throughput are the point times the band's ends
    (the ratio's quantiles; Latin hypercube puts one draw in each 1/1000 of probability, so the sampled
    percentile is within a few 1e-4 of the exact one)."""
    req, answer = train_cases[0]
    model = train_model(req, catalog, answer)
    only = model.widened({b.key: 0.0 for b in model.inputs if b.key != TRAINING_KEY})
    r = propagate(only, n=1000, seed=11).ranges
    band = band_for(catalog, moe=False, precision="bf16")
    high = min(band.high, model.meta["prediction_interval"]["ratio_p90"])
    point = answer["tokens_per_s_per_gpu"]
    assert r["tokens_per_s_per_gpu"]["p10"] == pytest.approx(point * band.low, rel=2e-3)
    assert r["tokens_per_s_per_gpu"]["p90"] == pytest.approx(point * high, rel=2e-3)
    assert r["tokens_per_s_per_gpu"]["p50"] == pytest.approx(point, rel=2e-3)
    assert r["mfu"]["p10"] == pytest.approx(answer["mfu_range"]["p10"], rel=2e-3)
    assert r["mfu"]["p90"] == pytest.approx(answer["mfu_range"]["p90"], rel=2e-3)


def test_serving_cost_is_inverse_to_the_sampled_throughput(infer_cases, catalog):
    """Hand calculation: at a fixed TCO per GPU-hour, $ per million tokens is the point divided by the ratio,
    and tokens per MW the point times it."""
    req, answer = infer_cases[0]
    model = infer_model(req, catalog, answer)
    only = model.widened({b.key: 0.0 for b in model.inputs if b.key != SERVING_KEY})
    ratios = np.array([0.7, 0.9, 1.0, 1.3])
    out = only.at({SERVING_KEY: ratios})
    np.testing.assert_allclose(out["usd_per_million_tokens"], answer["usd_per_million_tokens"] / ratios, rtol=1e-12)
    np.testing.assert_allclose(out["tokens_per_mw"], answer["tokens_per_mw"] * ratios, rtol=1e-12)
    np.testing.assert_allclose(out["tokens_per_s"], answer["tokens_per_s"] * ratios, rtol=1e-12)
    lo, hi, _ = serving_interval(False, req.precision, catalog)
    r = propagate(only, n=1000, seed=5).ranges["usd_per_million_tokens"]
    assert r["p10"] == pytest.approx(answer["usd_per_million_tokens"] / hi, rel=2e-3)
    assert r["p90"] == pytest.approx(answer["usd_per_million_tokens"] / lo, rel=2e-3)


@pytest.mark.parametrize("factors", [(0.5, 1.0), (1.0, 1.5), (1.5, 3.0)])
def test_widening_the_model_band_never_narrows(train_cases, infer_cases, catalog, factors):
    models = [(train_model(req, catalog, a), TRAINING_KEY) for req, a in train_cases]
    models += [(infer_model(req, catalog, a), SERVING_KEY) for req, a in infer_cases]
    for model, key in models:
        narrow, wide = (propagate(model.widened({key: f}), n=400, seed=2).ranges for f in factors)
        for headline in ("tokens_per_s_per_gpu", "usd_per_million_tokens", "time_to_train.days", "time_to_train.cost_usd"):
            if headline in narrow:
                assert wide[headline]["p10"] <= narrow[headline]["p10"] * (1 + 1e-12), headline
                assert wide[headline]["p90"] >= narrow[headline]["p90"] * (1 - 1e-12), headline


def drawn(answer: dict) -> str:
    """What a seed decides: the ranges and the uncertainty block (the search's own timing aside)."""
    return json.dumps({k: answer[k] for k in ("ranges", "uncertainty")}, sort_keys=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(0.0, 2.0), st.floats(0.0, 1.5), st.integers(0, 2**16))
def test_widening_never_narrows_what_the_band_alone_moves(train_cases, catalog, base, more, seed):
    """Throughput and days to train depend on the model band alone: with the same seed every sample moves
    away from the point as the band widens, so P10 and P90 can only move out."""
    req, answer = train_cases[0]
    model = train_model(req, catalog, answer)
    narrow, wide = (propagate(model.widened({TRAINING_KEY: f}), n=200, seed=seed).ranges for f in (base, base + more))
    for headline in ("tokens_per_s_per_gpu", "time_to_train.days", "mfu", "step_time_s"):
        assert wide[headline]["p10"] <= narrow[headline]["p10"] and wide[headline]["p90"] >= narrow[headline]["p90"]


def test_same_seed_same_ranges_and_another_seed_differs():
    kw = {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "seq_len": 8192, "global_batch": 512}
    a, b = (drawn(api.train(**kw, uncertainty=300, seed=4)) for _ in range(2))
    assert a == b
    assert drawn(api.train(**kw, uncertainty=300, seed=5)) != a
    kw = {"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input_tokens": "1k", "output_tokens": "1k"}
    a, b = (drawn(api.infer(**kw, uncertainty=300, seed=4)) for _ in range(2))
    assert a == b


def test_answers_carry_ranges_and_the_block():
    out = api.infer(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens="1k", output_tokens="1k",
                    uncertainty=200, seed=1)
    assert out["uncertainty"]["samples"] == 200 and out["uncertainty"]["seed"] == 1
    keys = [i["key"] for i in out["uncertainty"]["inputs"]]
    assert keys[0] == SERVING_KEY and "held_fixed" in out["uncertainty"]
    r = out["ranges"]["usd_per_million_tokens"]
    assert r["p10"] < out["usd_per_million_tokens"] * 1.001 and out["usd_per_million_tokens"] < r["p90"] * 1.001
    assert "ranges" not in api.infer(model="llama3.1-70b", accelerator="h200", gpus=8, input_tokens="1k",
                                     output_tokens="1k", uncertainty=0)
    json.dumps(out, allow_nan=False)


def test_a_job_that_does_not_fit_has_no_ranges(catalog):
    req = TrainRequest(model="llama3.1-405b", workload=Workload(accelerator="h100", gpus=8, seq_len=8192, global_batch=16))
    answer = train(req, catalog)
    assert answer["fits"] is False
    assert propagate(train_model(req, catalog, answer), n=50, seed=0).ranges == {}


def test_serving_interval_from_the_serving_calibration_else_the_training_band(monkeypatch, catalog):
    from stargate.inference import calibration

    monkeypatch.setattr(calibration, "prediction_interval", lambda moe: (0.7, 1.4) if moe else (0.85, 1.2), raising=False)
    assert serving_interval(True, "fp8", catalog) == (0.7, 1.4, SERVING_BASIS)
    assert serving_interval(False, "fp8", catalog)[:2] == (0.85, 1.2)
    monkeypatch.delattr(calibration, "prediction_interval")
    band = band_for(catalog, moe=True, precision="fp8")
    lo, hi, basis = serving_interval(True, "fp8", catalog)
    assert (lo, hi) == (band.low, band.high) and "training" in basis


@pytest.mark.parametrize(("option", "value"), [
    ("uncertainty", -1), ("uncertainty", 1_000_001), ("uncertainty", 2.5), ("uncertainty", True),
    ("uncertainty", "many"), ("seed", -1), ("seed", 2**40), ("seed", 1.5),
])
def test_bad_sampling_options_are_input_errors(option, value):
    kw = {"uncertainty": 10, "seed": 0, option: value}
    with pytest.raises(InputError) as e:
        api.train(model="llama3.1-8b", accelerator="h100", gpus=64, seq_len=8192, global_batch=512, **kw)
    assert e.value.field == option


def test_web_api_bodies_take_uncertainty_and_seed(client):
    body = {"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "seq_len": 8192, "global_batch": 512,
            "uncertainty": 200, "seed": 9}
    t = client.post("/api/train", json=body).json()
    assert drawn(t) == drawn(api.train(**body))
    body = {"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input_tokens": 1024, "output_tokens": 1024,
            "uncertainty": 200, "seed": 9}
    i = client.post("/api/infer", json=body).json()
    assert drawn(i) == drawn(api.infer(**body))
    assert "ranges" not in client.post("/api/infer", json={**body, "uncertainty": 0}).json()


@pytest.mark.parametrize(("field", "value"), [("uncertainty", -1), ("uncertainty", 10**7), ("uncertainty", 1.5),
                                              ("seed", -3), ("seed", "x")])
def test_web_api_refuses_bad_sampling_options(client, field, value):
    body = {"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input_tokens": 1024, "output_tokens": 1024,
            field: value}
    r = client.post("/api/infer", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"][-1] == field and detail["input"] == value


TRAIN_CLI = ["train", "--model", "llama3.1-8b", "--accelerator", "h100", "--gpus", "64", "--seq-len", "8192",
             "--global-batch", "512"]
INFER_CLI = ["infer", "--model", "llama3.1-70b", "--accelerator", "h200", "--gpus", "8", "--input-tokens", "1024",
             "--output-tokens", "1024"]


def test_cli_json_has_ranges_and_is_seeded(cli):
    for args in (TRAIN_CLI, INFER_CLI):
        a = cli(*args, "--uncertainty", "300", "--seed", "2", "--json")
        assert a.code == 0, a.stderr
        d = a.json()
        assert d["uncertainty"]["samples"] == 300 and d["uncertainty"]["seed"] == 2
        r = d["ranges"]["tokens_per_s_per_gpu"]
        assert r["p10"] < d["tokens_per_s_per_gpu"] < r["p90"]
        assert drawn(d) == drawn(cli(*args, "--uncertainty", "300", "--seed", "2", "--json").json())
        assert "ranges" not in cli(*args, "--json").json()
    bare = cli(*TRAIN_CLI, "--uncertainty", "--json").json()
    assert bare["uncertainty"]["samples"] == 1000


def test_cli_text_shows_p10_p90(cli):
    out = cli(*INFER_CLI, "--uncertainty", "200").stdout
    assert "P10–P90" in out and "$ per million tokens" in out
    out = cli(*TRAIN_CLI, "--uncertainty", "200").stdout
    assert "P10–P90" in out and "time to train: cost" in out


def test_infer_budget_range_answers_at_the_midpoint_and_samples_it(cli, catalog):
    args = ["infer", "--model", "mixtral-8x7b", "--accelerator", "h100", "--input-tokens", "2048", "--output-tokens", "512"]
    mid = cli(*args, "--budget", "2e8", "--json").json()
    ranged = cli(*args, "--budget", "1.6e8..2.4e8", "--json")
    assert ranged.code == 0, ranged.stderr
    d = ranged.json()
    assert d["gpus"] == mid["gpus"] and d["usd_per_million_tokens"] == mid["usd_per_million_tokens"]
    assert any("midpoint" in n for n in d["notes"])
    wide = cli(*args, "--budget", "1.6e8..2.4e8", "--uncertainty", "400", "--json").json()["ranges"]["gpus"]
    fixed = cli(*args, "--budget", "2e8", "--uncertainty", "400", "--json").json()["ranges"]["gpus"]
    assert wide["p10"] <= fixed["p10"] and wide["p90"] >= fixed["p90"] and wide["p90"] - wide["p10"] > fixed["p90"] - fixed["p10"]


def test_budget_sized_serving_samples_the_gpus_bought(infer_cases, catalog):
    """Under a budget, dearer GPUs buy fewer: each sample serves on its design's GPUs at the point rate per GPU."""
    req, answer = infer_cases[1]
    model = infer_model(req, catalog, answer)
    from stargate.uncertainty.sampling import latin_hypercube, values

    out = model.at(values(model.inputs, latin_hypercube(200, len(model.inputs), 1)))
    assert out["gpus"].min() < answer["gpus"] < out["gpus"].max()
    np.testing.assert_allclose(out["tokens_per_s"], out["tokens_per_s_per_gpu"] * out["gpus"], rtol=1e-12)


@pytest.mark.parametrize("extra", [["--uncertainty", "-5"], ["--uncertainty", "2000000"], ["--uncertainty", "1.5"],
                                   ["--uncertainty", "10", "--seed", "-1"], ["--seed", "abc"],
                                   ["--uncertainty", "10", "--csv"]])
def test_cli_bad_sampling_options_exit_2_with_one_line(cli, extra):
    for args in (TRAIN_CLI, INFER_CLI):
        r = cli(*args, *extra)
        assert r.code == 2 and r.stdout == ""
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("stargate: error: --"), r.stderr


def test_infer_bad_range_exits_2(cli):
    r = cli(*INFER_CLI[:5], "--budget", "3e8..1e8", "--input-tokens", "1024", "--output-tokens", "1024")
    assert r.code == 2 and len(r.stderr.strip().splitlines()) == 1 and "--budget" in r.stderr


@pytest.mark.parametrize(("doc", "command"), [("docs/calibration.md", "stargate train"),
                                              ("docs/serving.md", "stargate infer")])
def test_the_docs_examples_are_the_commands_output(cli, doc, command):
    """The worked examples print what the commands print: every row shown is a row of the output."""
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / doc).read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```\n(.*?)```", text, re.DOTALL) if b.startswith(f"$ {command}") and "--uncertainty" in b]
    assert blocks
    for block in blocks:
        head, _, shown = block.partition("\n...\n")
        args = shlex.split(head.removeprefix("$ stargate ").replace("\\\n", " "))
        out = cli(*args)
        assert out.code == 0, out.stderr
        printed = {" ".join(line.split()) for line in out.stdout.splitlines()}
        for line in shown.strip().splitlines():
            assert " ".join(line.split()) in printed, line


def test_a_sample_that_buys_nothing_serves_nothing_quietly(cli):
    """The low end of this budget range buys no system: those samples serve 0 tokens/s and have no cost per token."""
    r = cli("infer", "--model", "llama3.1-8b", "--accelerator", "h100", "--budget", "5.5e5..7e5", "--input-tokens", "1024",
            "--output-tokens", "256", "--uncertainty", "500", "--json")
    assert r.code == 0 and r.stderr == ""
    ranges = r.json()["ranges"]
    assert ranges["gpus"]["p10"] == ranges["tokens_per_s"]["p10"] == 0.0 and ranges["gpus"]["p90"] == 8.0
    assert 0 < ranges["usd_per_million_tokens"]["p10"] < ranges["usd_per_million_tokens"]["p90"]
