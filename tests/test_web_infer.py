"""``POST /api/infer`` and the ``/infer`` page, through FastAPI's TestClient: the CLI's answer, 422s naming the field."""

import pytest
from fastapi.testclient import TestClient

from stargate.web.app import create_app

BODY = {"model": "llama3.1-70b", "accelerator": "h200", "gpus": 8, "input_tokens": 1024, "output_tokens": "1k"}


@pytest.fixture(scope="module")
def client():
    app = create_app(workers=1)
    with TestClient(app) as c:
        yield c


def test_infer_api_is_the_cli_answer(client, cli):
    r = client.post("/api/infer", json={**BODY, "tpot": "50 ms"})
    assert r.status_code == 200, r.text
    assert r.json() == cli("infer", "--model", "llama3.1-70b", "--accelerator", "h200", "--gpus", "8", "--input-tokens",
                           "1024", "--output-tokens", "1k", "--tpot", "50 ms", "--json").json()


def test_infer_api_sized_by_budget(client):
    d = client.post("/api/infer", json={k: v for k, v in BODY.items() if k != "gpus"} | {"budget": "$100M"}).json()
    design = client.post("/api/design", json={"accelerator": "h200", "budget": "$100M"}).json()
    assert d["gpus"] == design["gpus"] and d["tokens_per_s"] == pytest.approx(d["tokens_per_s_per_gpu"] * d["gpus"])


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"accelerator": "a100", "precision": "fp8"}, "precision", "fp8"),  # the A100 has no fp8 matrix units
        ({"model": "llama3.1-405b", "gpus": 1}, "gpus", 1),  # does not fit
        ({"gpus": None, "budget": "$1"}, "budget", "$1"),  # buys no system
        ({"ttft": "5 GW"}, "ttft", "5 GW"),
        ({"tpot": -1}, "tpot", -1),
        ({"input_tokens": "1e400"}, "input_tokens", "1e400"),
        ({"accelerator": "h1000"}, "accelerator", "h1000"),
        ({"model": "secret.json"}, "model", "secret.json"),
        ({"energy": "coal-9000"}, "energy", "coal-9000"),
        ({"colour": "red"}, "colour", "red"),
    ],
)
def test_infer_api_bad_input_is_422_naming_field_and_value(client, change, field, value):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    r = client.post("/api/infer", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"][-1] == field and detail["input"] == value


@pytest.mark.parametrize("change", [{"budget": "$1B"}, {"tpot": 0.05, "tokens_per_user": 20}])
def test_infer_api_refuses_two_of_a_kind(client, change):
    r = client.post("/api/infer", json={**BODY, **change})
    assert r.status_code == 422
    assert "not both" in r.text or "exactly one of gpus, budget, power" in r.text


def test_infer_page_has_the_form_and_the_chart(client):
    r = client.get("/infer")
    assert r.status_code == 200
    for needle in ('id="controls"', 'name="accelerators"', 'name="input_tokens"', 'name="tpot"', 'id="chart-frontier"',
                   "/static/app/infer.js", "/static/plotly.min.js"):
        assert needle in r.text, needle
    assert 'href="/infer"' in client.get("/").text  # the dashboard links to it
