"""The JSON API and pages, through FastAPI's TestClient; a bounded load test on loopback."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from web_server import running_server

from stargate.web.app import MAX_BODY_BYTES, create_app


def test_plan_api_equals_the_cli(client, cli):
    api = client.get("/api/plan").json()
    cli_json = cli("plan", "--json").json()
    assert json.dumps(api, sort_keys=True) == json.dumps(cli_json, sort_keys=True)


def test_design_api(client):
    r = client.post("/api/design", json={"accelerator": "h100", "gpus": 1024})
    assert r.status_code == 200
    d = r.json()
    assert d["gpus"] == 1024 and d["racks"] == 32 and d["kw_per_rack"] == pytest.approx(40.8)
    assert client.post("/api/design", json={"accelerator": "gb200", "power": "1 GW"}).json()["facility_power_w"] <= 1e9


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        ({"accelerator": "h1000", "gpus": 8}, "accelerator", "h1000"),
        ({"accelerator": "h100", "power": "5 GB"}, "power", "5 GB"),
        ({"accelerator": "h100", "budget": -5}, "budget", -5),
        ({"accelerator": "h100", "gpus": 8, "colour": "red"}, "colour", "red"),
        ({"accelerator": "h100", "gpus": 0}, "gpus", 0),
    ],
)
def test_invalid_input_is_422_naming_field_and_value(client, body, field, value):
    r = client.post("/api/design", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"][-1] == field and detail["input"] == value


def test_fabric_and_train_api(client):
    f = client.post("/api/fabric", json={"gpus": 32768, "fabric": "infiniband", "topology": "fat-tree"}).json()
    assert f["tiers"] == 3 and f["switches_by_tier"] == [1024, 1024, 512]
    both = client.post("/api/fabric", json={"gpus": 4096, "compare": True}).json()
    assert [x["fabric"] for x in both["fabrics"]] == ["infiniband", "ethernet"]
    t = client.post("/api/train", json={"model": "llama3.1-8b", "accelerator": "h100", "gpus": 64, "seq_len": 8192,
                                        "global_batch": 512}).json()
    assert t["fits"] and t["search"]["candidates_evaluated"] > 0


def test_train_on_a_count_no_plan_uses_whole(client):
    body = {"model": "gpt3-175b", "accelerator": "h100", "gpus": 10_000, "seq_len": 2048, "global_batch": 1536}
    r = client.post("/api/train", json=body)
    assert r.status_code == 422 and "10000" in r.text and "9,984 (below)" in r.text
    t = client.post("/api/train", json={**body, "use_subset": True}).json()
    assert t["gpus_used"] == 9_984 and t["idle_gpus"] == 16


def test_requests_cannot_name_files_and_are_capped(client):
    r = client.post("/api/train", json={"model": "/etc/passwd", "accelerator": "h100", "gpus": 8})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "model"
    r = client.post("/api/design", content=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/design", json={"accelerator": "h100", "gpus": 10**12})
    assert r.status_code == 422


def test_pages_and_openapi(client):
    assert "Stargate dashboard" in client.get("/").text
    page = client.get("/scenario/stargate")
    assert page.status_code == 200 and "/static/plotly.min.js" in page.text
    assert client.get("/scenario/nowhere").status_code == 404
    assert client.get("/pareto").status_code == 404  # no sweep given at start-up
    assert client.get("/static/plotly.min.js").text.startswith("/**")
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/design", "/api/fabric", "/api/train", "/api/plan"} <= set(paths)


def test_pareto_page_of_a_sweep(tmp_path, cli):
    from pathlib import Path

    spec = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.yaml"
    cli("sweep", str(spec), "--out", str(tmp_path / "r"))
    page = TestClient(create_app(tmp_path / "r")).get("/pareto")
    assert page.status_code == 200 and "Pareto front" in page.text


def test_concurrent_design_requests_on_loopback():
    # A short, bounded load test: 120 requests, 12 at a time, against a real server.
    bodies = [{"accelerator": a, "budget": b} for a in ("h100", "gb200", "mi355x") for b in (1e9, 5e9, 2e10, 1e11)] * 10
    with running_server() as url, httpx.Client(base_url=url, timeout=30) as c, ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda body: c.post("/api/design", json=body).status_code, bodies))
    assert codes.count(200) == len(bodies)
