"""The dashboard's API (`/api/dashboard`) and the design API's new fields, through FastAPI's TestClient:
quantities read as the CLI reads them, every option honoured, prices laid over the catalog per request,
the docs served from local files. Expectations come from the CLI's answers and hand calculations."""

import pytest

from stargate.catalog import Catalog


def _ok(r):
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(("sizing", "typed", "option"), [("power", "1 GW", "--power"), ("budget", "$10B", "--budget"),
                                                         ("power", "300 MW", "--power"), ("gpus", "4096", "--gpus")])
def test_dashboard_reads_quantities_as_the_cli_does(client, cli, sizing, typed, option):
    """The page sent `1 GW` as null (a 422) and kept the previous design; the server now reads it."""
    out = _ok(client.post("/api/dashboard", json={"accelerator": "gb200", "sizing": sizing, "value": typed}))
    r = cli("design", "--accelerator", "gb200", option, typed, "--year", "2027", "--json")
    assert r.code == 0
    assert out["phase"]["gpus"] == r.json()["gpus"]
    assert out["phase"]["design"]["capex_usd"] == pytest.approx(r.json()["capex_usd"])


def test_dashboard_honours_every_option(client):
    body = {"accelerator": "h100", "sizing": "gpus", "value": "1024", "model": "llama3.1-8b", "wacc": "0.08",
            "systems_per_rack": "2", "cooling": "direct_liquid", "energy": "gas-ccgt", "fabric": "ethernet",
            "seq_len": "4096", "global_batch": "512", "training_days": "30", "tp": "2", "pp": "1",
            "recompute": "selective", "sharding": "zero2", "top_k": "2", "tokens": "1e12", "framework": "torchtitan"}
    out = _ok(client.post("/api/dashboard", json=body))
    d, t = out["phase"]["design"], out["train"]
    assert d["wacc_per_year"] == 0.08 and d["systems_per_rack"] == 2 and d["cooling"] == "direct_liquid"
    assert d["energy_source"] == "gas-ccgt" and d["fabric"] == "ethernet" and out["phase"]["training_days"] == 30
    assert (t["parallelism"]["tp"], t["parallelism"]["pp"]) == (2, 1) and t["framework"] == "torchtitan"
    assert (t["parallelism"]["recompute"], t["parallelism"]["sharding"]) == ("selective", "zero2")
    assert t["seq_len"] == 4096 and len(out["tables"]["plans"]["rows"]) <= 2
    # The job is one of the phase's: its GPUs and batch are the plan's reference job's.
    assert (t["gpus"], t["global_batch"]) == (out["phase"]["reference_job"]["gpus"], out["phase"]["reference_job"]["global_batch"])


def test_a_time_or_a_distance_takes_its_unit(client):
    out = _ok(client.post("/api/dashboard", json={"sizing": "budget", "value": "$30B", "training_days": "1 year",
                                                   "sites": 2, "site_distance": "250 km"}))
    assert out["phase"]["training_days"] == pytest.approx(365.25)
    ms = out["phase"]["multisite"]
    assert ms["link"]["distance_m"] == 250e3
    rows = dict(out["tables"]["multisite"])
    share = 100 * ms["added_step_time_s"] / out["phase"]["reference_job"]["step_time_s"]
    assert f"({share:.1f}% of the step)" in rows["added step time"]
    assert rows["sites"] == f"2 × {ms['gpus_per_site']:,} GPUs"


def test_a_price_set_with_the_request_prices_the_design(client):
    cat = Catalog.load()
    acc, system = cat.accelerator("h100"), cat.system(cat.accelerator("h100").default_system)
    base = _ok(client.post("/api/design", json={"accelerator": "h100", "gpus": 1024}))
    cheap = _ok(client.post("/api/design", json={"accelerator": "h100", "gpus": 1024, "accelerator_price": "$20k"}))
    assert cheap["capex_breakdown_usd"]["accelerators"] == 1024 * 20_000
    assert base["capex_breakdown_usd"]["accelerators"] == 1024 * acc.price_usd
    dear = _ok(client.post("/api/design", json={"accelerator": "h100", "gpus": 1024, "system_price": "$400k"}))
    servers = dear["capex_breakdown_usd"]["accelerators"] + dear["capex_breakdown_usd"]["rest_of_servers"]
    assert servers == pytest.approx(1024 / system.gpus_per_system * 400_000)  # 128 systems at $400k
    # A budget buys more of a cheaper system; the page's price table says where each price came from.
    budget = {"accelerator": "h100", "sizing": "budget", "value": "$1B"}
    more = _ok(client.post("/api/dashboard", json=budget | {"system_price": f"{0.8 * system.price_usd:.0f}"}))
    fewer = _ok(client.post("/api/dashboard", json=budget))
    assert more["phase"]["gpus"] > fewer["phase"]["gpus"]
    prices = {p["kind"]: p for p in more["prices"]}
    assert prices["system"]["price_usd"] == round(0.8 * system.price_usd) and "set with the request" in prices["system"]["source"]
    assert prices["accelerator"]["price_usd"] == acc.price_usd and prices["accelerator"]["source"] == acc.price_source


@pytest.mark.parametrize(("route", "body", "field", "typed"), [
    ("/api/design", {"accelerator": "h100", "gpus": 8, "accelerator_price": "-5"}, "accelerator_price", "-5"),
    ("/api/design", {"accelerator": "h100", "gpus": 8, "accelerator_price": "free"}, "accelerator_price", "free"),
    ("/api/design", {"accelerator": "h100", "gpus": 8, "system_price": "$1"}, "system_price", "$1"),
    ("/api/dashboard", {"system_price": "$1"}, "system_price", "$1"),
    ("/api/dashboard", {"sizing": "power", "value": "5 parsecs"}, "value", "5 parsecs"),
    ("/api/dashboard", {"training_days": "5 GW"}, "training_days", "5 GW"),
    ("/api/dashboard", {"sites": 2, "site_distance": "3 kg"}, "site_distance", "3 kg"),
    ("/api/dashboard", {"scale_out": "800 GW"}, "scale_out", "800 GW"),
    ("/api/dashboard", {"wacc": "0.9"}, "wacc", "0.9"),
    ("/api/dashboard", {"model": "llama3.1-8b", "tp": 3}, "tp", 3),
])
def test_a_bad_field_is_422_naming_it_with_the_value_as_typed(client, route, body, field, typed):
    r = client.post(route, json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", field] and detail["input"] == typed and detail["msg"]


def test_design_api_takes_the_cli_design_options(client, cli):
    body = {"accelerator": "gb200", "budget": "$5B", "wacc": 0.12, "year": 2027, "scale_out": "800 Gbit/s"}
    api = _ok(client.post("/api/design", json=body))
    r = cli("design", "--accelerator", "gb200", "--budget", "$5B", "--wacc", "0.12", "--year", "2027",
            "--scale-out", "800 Gbit/s", "--json")
    assert api == r.json()


def test_api_docs_come_from_this_server(client):
    html = client.get("/docs").text
    assert "https://" not in html and "/static/docs/swagger-ui-bundle.js" in html
    js = client.get("/static/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 500_000 and b"SwaggerUIBundle" in js.content
    assert client.get("/static/docs/swagger-ui.css").status_code == 200
    assert "https://" not in client.get("/redoc").text.replace("https://github.com", "")


def test_plotly_is_sent_compressed_to_browsers_that_accept_it(client):
    plain = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    packed = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("content-encoding") is None and packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(plain.content) / 3  # 4.8 MB sent as about 1.5 MB
    assert packed.content == plain.content  # as the client decodes it


def test_a_vanishing_cost_of_capital_is_straight_line_depreciation(client):
    """A rate of 5e-324 per year divided by zero in the annuity (1 + rate == 1): a 500 found by the fuzzer."""
    body = {"accelerator": "h100", "gpus": 1024}
    tiny = _ok(client.post("/api/design", json=body | {"wacc": 5e-324}))
    zero = _ok(client.post("/api/design", json=body | {"wacc": 0}))
    assert tiny["tco_usd_per_gpu_hour"] == pytest.approx(zero["tco_usd_per_gpu_hour"], rel=1e-12)
