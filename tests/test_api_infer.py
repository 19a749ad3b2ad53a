"""`stargate.api.infer`: the CLI's answer, from keywords or a request, the same errors, a catalog overlay, the frontier."""

from __future__ import annotations

import re

import pytest

import stargate
from stargate import api
from stargate.errors import InputError
from stargate.serving import InferRequest

SERVE = {"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input_tokens": 1024, "output_tokens": 1024}
SERVE_CLI = ["--model", "llama3.1-70b", "--accelerator", "h200", "--gpus", "8", "--input-tokens", "1024",
             "--output-tokens", "1024"]


def test_infer_is_the_cli_answer(cli):
    out = api.infer(**SERVE, tpot="50 ms")
    assert out == cli("infer", *SERVE_CLI, "--tpot", "50 ms", "--json").json()
    assert api.infer(InferRequest(**SERVE, tpot_s=0.05)) == out  # a request model
    assert api.infer(**SERVE, tpot_s=0.05) == out  # field names work too
    by_rate = api.infer(**{**SERVE, "input_tokens": "1,024"}, tokens_per_user=20)  # 20 tokens/s per user: 50 ms
    assert by_rate["request"]["tpot_limit_s"] == out["request"]["tpot_limit_s"] == 0.05
    assert {**by_rate, "request": None} == {**out, "request": None}
    assert stargate.infer is api.infer


def test_infer_catalog_overlay_moves_the_price_not_the_throughput(tmp_path):
    base = api.infer(**SERVE)
    overlay = tmp_path / "prices.yaml"
    price = stargate.catalog.Catalog.load().accelerator("h200").price_usd
    overlay.write_text(f"accelerators:\n  - id: h200-141g\n    price_usd: {2 * price}\n")
    dear = api.infer(**SERVE, catalog=overlay)
    assert dear["tokens_per_s_per_gpu"] == base["tokens_per_s_per_gpu"]
    assert dear["tco_usd_per_gpu_hour"] > base["tco_usd_per_gpu_hour"]
    ratio = dear["tco_usd_per_gpu_hour"] / base["tco_usd_per_gpu_hour"]
    assert dear["usd_per_million_tokens"] == pytest.approx(base["usd_per_million_tokens"] * ratio)


def test_infer_to_pandas_frontier_and_figures():
    out = api.infer(**SERVE)
    f = api.to_pandas(out, "frontier")
    assert list(f.columns[:2]) == ["tokens_per_s_per_gpu", "tokens_per_s_per_user"]
    assert len(f) == len(out["frontier"]) and f.tokens_per_s_per_gpu.is_monotonic_increasing
    figures = api.to_pandas(out).set_index("name")
    assert figures.loc["tokens_per_s", "unit"] == "token/s"
    assert figures.loc["tokens_per_s", "value"] == pytest.approx(out["tokens_per_s"])
    with pytest.raises(InputError, match="frontier"):
        api.to_pandas(out, "Capex")


@pytest.mark.parametrize("call, message", [
    (lambda: api.infer(**SERVE, tpot=0.05, tokens_per_user=20),
     "tokens_per_user: 20 is not allowed; expected either tpot or tokens_per_user, not both"),
    (lambda: api.infer(**SERVE, budget="$1B"), "sizing: 'gpus, budget' is not allowed"),
    (lambda: api.infer(**{k: v for k, v in SERVE.items() if k != "gpus"}), "sizing: 'none' is not allowed"),
    (lambda: api.infer(**SERVE, ttft="5 GW"), "ttft: '5 GW' is not allowed"),
    (lambda: api.infer(**(SERVE | {"accelerator": "a100"}), precision="fp8"),
     "precision: 'fp8' is not allowed; expected a format a100-80g"),
    (lambda: api.infer(**{**SERVE, "model": "llama3.1-405b", "gpus": 1}), "gpus: 1 is not allowed; expected enough"),
    (lambda: api.infer(**SERVE, colour="red"), "colour: 'red' is not allowed; expected a keyword among"),
    (lambda: api.infer(InferRequest(**SERVE), gpus=16), "either a request or keywords"),
    (lambda: api.infer(**{**SERVE, "input_tokens": float("nan")}), "input_tokens: nan is not allowed"),
])
def test_infer_bad_input_raises_input_error(call, message):
    with pytest.raises(InputError, match=re.escape(message)):
        call()
