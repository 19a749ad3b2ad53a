"""The dashboard in a real browser (Playwright driving Debian's Chromium, offline): unit strings in every
field, errors that clear the answer, every `design` and `train` option, the cards, warnings, parallel plan,
breakdowns, sources and sites on the page, charts that can be read, a phone's width, the state in the
address bar, downloads, the comparison, and the API docs with the network cut off.

The expectations come from elsewhere: the CLI's own answers for the same inputs (`stargate design
--json`), the CLI's option list, the geometry the browser lays out.
"""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
import pytest
import test_browser
import typer
from web_server import running_server

browser = test_browser.browser  # the same browser fixture, and the same rule to skip without one
pytestmark = test_browser.pytestmark

PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def url():
    with running_server() as u:
        yield u


def _open(browser, url, query="", viewport=None, accept_downloads=False):
    """The dashboard at ``url/?query``, once its first answer (or error) is on the page."""
    ctx = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, accept_downloads=accept_downloads)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/{'?' + query if query else ''}")
    page.wait_for_function("document.body.dataset.updated", timeout=60_000)
    return page, errors


def _submit(page):
    stamp = page.evaluate("document.body.dataset.updated")
    page.click("#go")
    page.wait_for_function(f"document.body.dataset.updated !== '{stamp}'", timeout=60_000)
    return page.evaluate("document.body.dataset.state")


def _fill(page, **fields):
    for name, value in fields.items():
        box = page.locator(f"#{name}").locator("xpath=ancestor::details")
        if box.count():
            box.evaluate("d => d.open = true")
        if page.locator(f"select#{name}").count():
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)


def _card(page, key):
    return page.locator(f'.card .v[data-key="{key}"]').inner_text()


def _design(cli, *args):
    r = cli("design", *args, "--json")
    assert r.code == 0, r.err
    return r.json()


def test_unit_strings_are_read_as_the_cli_reads_them(browser, url, cli):
    """`1 GW` and `$10B` used to reach the API as null, and the page kept the previous design."""
    page, errors = _open(browser, url)
    for sizing, typed, option in (("power", "1 GW", "--power"), ("budget", "$10B", "--budget"),
                                  ("power", "300 MW", "--power"), ("budget", "250M", "--budget")):
        _fill(page, accelerator="gb200-186g", sizing=sizing, value=typed)
        assert _submit(page) == "ok", page.inner_text("#error")
        cli_gpus = _design(cli, "--accelerator", "gb200", option, typed)["gpus"]
        assert _card(page, "GPUs") == f"{cli_gpus:,}", typed
    # Every other quantity field takes its unit too, read by the server (never evaluated in the page).
    _fill(page, sizing="budget", value="$10B", scale_out="800 Gbit/s", year="2027")
    assert _submit(page) == "ok", page.inner_text("#error")
    fast = _design(cli, "--accelerator", "gb200", "--budget", "$10B", "--scale-out", "800 Gbit/s", "--year", "2027")
    assert page.evaluate("answer.phase.design.network") == fast["network"]
    assert _card(page, "GPUs") == f"{fast['gpus']:,}"
    _fill(page, scale_out="", sites="2", site_distance="300 km", training_days="6 months", accelerator_price="$30k",
          tokens="15e12", seq_len="8192")
    assert _submit(page) == "ok", page.inner_text("#error")
    answer = page.evaluate("answer")
    assert answer["phase"]["multisite"]["link"]["distance_m"] == 300e3
    assert answer["phase"]["training_days"] == pytest.approx(365.25 / 2)  # pint's month: a twelfth of a Julian year
    assert answer["prices"][0]["price_usd"] == 30_000 and "set with the request" in answer["prices"][0]["source"]
    assert answer["train"]["time_to_train"]["tokens"] == 15e12 and "1.5e+13 (given)" in page.inner_text("#time-to-train")
    assert errors == []


def test_an_error_clears_the_answer_and_says_what_is_allowed(browser, url):
    page, errors = _open(browser, url)
    assert page.evaluate("document.body.dataset.state") == "ok"
    assert page.locator(".card").count() > 0
    for fields, field, label, typed in (({"sizing": "power", "value": "5 parsecs"}, "value", "value", "5 parsecs"),
                                        ({"sizing": "budget", "value": "-1"}, "value", "value", "-1"),
                                        ({"value": "$10B", "tp": "3"}, "tp", "tp", "3"),
                                        ({"tp": "", "system_price": "$1"}, "system_price", "system price", "$1")):
        _fill(page, **fields)
        assert _submit(page) == "error"
        message = page.inner_text("#error")  # the field as the page labels it, the value as typed, what is allowed
        assert message.count("\n") == 0 and message.startswith(f"{label}: '{typed}' is not allowed; "), message
        assert page.locator("#result").is_hidden() and page.locator(".card").count() == 0
        assert page.locator(".chart .main-svg").count() == 0  # no chart of the previous design is left
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
        assert page.locator(f"#{field}").is_visible()
        assert page.is_disabled("#download-json")
        _fill(page, **{field: ""} if field in ("tp", "system_price") else {})
    _fill(page, sizing="budget", value="$10B")
    assert _submit(page) == "ok" and page.inner_text("#error") == ""
    assert errors == []


def test_every_design_and_train_option_of_the_cli_is_a_field(browser, url):
    from stargate.cli import app

    commands = typer.main.get_command(app).commands
    # how the answer is printed, and the ranges drawn around it (--uncertainty, --seed), are not inputs of the design
    options = {p.name for name in ("design", "train") for p in commands[name].params} - {"as_json", "as_csv", "uncertainty",
                                                                                         "seed"}
    page, _ = _open(browser, url)
    names = set(page.evaluate("[...document.getElementById('controls').elements].map(e => e.name).filter(Boolean)"))
    sizings = set(page.evaluate("[...document.getElementById('sizing').options].map(o => o.value)"))
    where = {o: o for o in options} | {"gpus": "sizing", "budget": "sizing", "power": "sizing",
                                       "catalog": "accelerator_price"}  # the catalog's prices, per request
    missing = sorted(o for o in options if where[o] not in names)
    assert missing == []
    assert sizings == {"gpus", "budget", "power"}
    assert {"energy", "sites", "site_distance", "training_days", "accelerator_price", "system_price"} <= names


def test_cards_warnings_plan_breakdowns_and_sources(browser, url, cli):
    page, errors = _open(browser, url, "accelerator=mi355x-288g&sizing=budget&value=%242B&year=2026")
    d = _design(cli, "--accelerator", "mi355x", "--budget", "$2B", "--year", "2026")
    assert _card(page, "TCO per GPU-hour") == f"${d['tco_usd_per_gpu_hour']:.2f}"
    assert _card(page, "racks") == f"{d['racks']:,}"
    assert _card(page, "kW per rack") == f"{d['kw_per_rack']:.0f} kW"
    assert _card(page, "cooling") == d["cooling"].replace("_", " ")
    # A chip without measured kernel tables: the page says which tables it borrows (what explains its MFU).
    assert page.locator("#warnings li").count() >= 1 and "borrows" in page.inner_text("#warnings")
    answer = page.evaluate("answer")
    first = page.locator("#plans tbody tr").first.locator("td").all_inner_texts()
    par = answer["train"]["parallelism"]
    assert first[1:6] == [str(par[k]) for k in ("tp", "pp", "dp", "cp", "ep")]
    assert "MFU" in page.inner_text("#plans thead")
    for table, whole in (("capex", answer["phase"]["capex_usd"]), ("power", answer["phase"]["design"]["it_power_w"]),
                         ("step", answer["train"]["step_time_s"])):
        rows = page.locator(f"#breakdown-{table} tbody tr").all_inner_texts()
        assert any(r.startswith("total") and "100.0%" in r for r in rows), table
        shares = [float(m) for r in rows if not r.startswith(("total", "facility ("))
                  for m in re.findall(r"([\d.]+)%$", r)]
        assert sum(shares) == pytest.approx(100, abs=0.1 * len(shares)), (table, whole)
    assert page.locator("#sources tbody tr").count() > 20
    assert "mi355x" in page.inner_text("#prices")
    assert errors == []


def test_the_multi_site_answer_is_on_the_page(browser, url):
    page, errors = _open(browser, url, "sizing=budget&value=%2450B&sites=3&site_distance=300+km")
    ms = page.evaluate("answer.phase.multisite")
    text = page.inner_text("#multisite")
    assert page.locator("#multisite-box").is_visible()
    assert f"{ms['sites']} × {ms['gpus_per_site']:,} GPUs" in text and "300 km" in text
    assert "of the phase's capex" in text and "of the step" in text and ms["link"]["optic"] in text
    _fill(page, sites="1")
    assert _submit(page) == "ok"
    assert page.locator("#multisite-box").is_hidden()
    assert errors == []


def _boxes_overlap(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_charts_have_units_colours_and_labels_that_do_not_pile_up(browser, tmp_path, cli):
    out = tmp_path / "report.html"
    assert cli("plan", "-o", str(out)).code == 0  # the five-phase plan: phases that span decades
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(out.as_uri())
    page.wait_for_selector("#chart-power .main-svg")
    page.wait_for_timeout(500)
    figures = page.evaluate("FIGURES")
    titled = {name: [axis for axis in ("xaxis", "yaxis") if ((fig["layout"].get(axis) or {}).get("title") or {}).get("text")]
              for name, fig in figures.items()}
    for name in ("capex", "opex", "power", "step", "goodput", "scaling", "roadmap"):
        assert "yaxis" in titled[name], name  # every value axis says what it counts, in which unit
    for name in ("scaling", "roadmap", "fabric"):
        assert "xaxis" in titled[name], name
    for name, fig in figures.items():
        colours = fig["layout"]["colorway"]
        assert len(set(colours)) == len(colours) >= sum(t["type"] == "bar" for t in fig["data"]), name
    assert figures["power"]["layout"]["yaxis"]["type"] == "log"
    assert figures["capex"]["layout"]["barnorm"] == "percent"  # phase 1 ($0.3B) as readable as phase 5 ($100B)
    # The power chart's right axis: tick labels apart from each other and from its title.
    ticks = [t.bounding_box() for t in page.locator("#chart-power .y2tick text").all()]
    title = page.locator("#chart-power .g-y2title text").bounding_box()
    assert len(ticks) >= 3 and title is not None
    for i, a in enumerate(ticks):
        assert not _boxes_overlap(a, title)
        assert not any(_boxes_overlap(a, b) for b in ticks[i + 1:])
    # Goodput: each phase's share written on its own bar; phases' labels on the scaling curve apart.
    goodput = figures["goodput"]["data"][0]
    assert goodput["name"] == "goodput" and all(t.endswith("%") for t in goodput["text"])
    labels = [t.bounding_box() for t in page.locator("#chart-scaling .textpoint text").all()]
    assert len(labels) == 5 and not any(_boxes_overlap(a, b) for i, a in enumerate(labels) for b in labels[i + 1:])


def test_a_phone_sees_every_card_without_scrolling_sideways(browser, url):
    page, errors = _open(browser, url, viewport=PHONE)
    page.wait_for_selector("#chart-capex .main-svg")
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    cards = page.locator(".card").all()
    assert len(cards) >= 10
    for card in cards:
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] > 0
    for chart in page.locator(".chart .main-svg").all():
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert errors == []


def test_the_address_restores_the_form_and_the_answer(browser, url):
    page, _ = _open(browser, url)
    _fill(page, accelerator="h100-sxm-80g", sizing="power", value="300 MW", fabric="ethernet", tp="8")
    assert _submit(page) == "ok"
    link = page.url
    assert "value=300+MW" in link and "tp=8" in link and "fabric=ethernet" in link
    gpus = _card(page, "GPUs")
    again, errors = _open(browser, link.split("/?", 1)[0], link.split("/?", 1)[1])
    for name, value in (("accelerator", "h100-sxm-80g"), ("sizing", "power"), ("value", "300 MW"),
                        ("fabric", "ethernet"), ("tp", "8")):
        assert again.input_value(f"#{name}") == value
    assert _card(again, "GPUs") == gpus
    assert again.evaluate("answer.train.parallelism.tp") == 8
    assert errors == []


def test_the_answer_downloads_as_json_and_csv(browser, url, tmp_path):
    page, _ = _open(browser, url, "accelerator=h100-sxm-80g&sizing=gpus&value=4096&model=llama3.1-8b",
                    accept_downloads=True)
    answer = page.evaluate("answer")
    with page.expect_download() as d:
        page.click("#download-json")
    saved = json.loads(d.value.path().read_text(encoding="utf-8"))
    assert saved["phase"]["gpus"] == answer["phase"]["gpus"] == 4096
    assert saved["request"]["value"] == "4096" and saved["train"]["mfu"] == answer["train"]["mfu"]
    with page.expect_download() as d:
        page.click("#download-csv")
    rows = dict(csv.reader(io.StringIO(d.value.path().read_text(encoding="utf-8"))))
    assert rows["field"] == "value"
    assert float(rows["phase.design.capex_usd"]) == answer["phase"]["design"]["capex_usd"]
    assert int(rows["phase.gpus"]) == 4096 and rows["train.parallelism.tp"] == str(answer["train"]["parallelism"]["tp"])


def test_designs_side_by_side_with_what_accounts_for_each_delta(browser, url, cli):
    page, errors = _open(browser, url, "accelerator=gb200-186g&sizing=budget&value=%2410B")
    page.click("#pin")
    _fill(page, accelerator="mi355x-288g", fabric="ethernet")
    assert _submit(page) == "ok"
    page.click("#pin")
    page.wait_for_function("document.body.dataset.compared === '2'")
    a = _design(cli, "--accelerator", "gb200", "--budget", "$10B", "--year", "2027")
    b = _design(cli, "--accelerator", "mi355x", "--budget", "$10B", "--fabric", "ethernet", "--year", "2027")
    rows, section = {}, ""
    for r in page.locator("#compare tbody tr").all():
        label = r.locator("td").first.inner_text()
        section = label if "total" in (r.get_attribute("class") or "") else section
        rows[(section, label)] = r.locator("td.num").evaluate_all(
            "cells => cells.map(c => [c.firstChild.textContent, c.querySelector('.delta')?.textContent || ''])")
    assert rows[("GPUs", "GPUs")] == [[f"{a['gpus']:,}", ""], [f"{b['gpus']:,}", rows[("GPUs", "GPUs")][1][1]]]
    # The capex delta and its parts: each category's change, and they add up to the total's.
    deltas = {k: b["capex_breakdown_usd"][k] - a["capex_breakdown_usd"][k] for k in a["capex_breakdown_usd"]}
    assert sum(deltas.values()) == pytest.approx(b["capex_usd"] - a["capex_usd"], abs=1.0)
    for k, v in deltas.items():
        shown = rows[("capex", k.replace("_", " "))][1][1]
        base = a["capex_breakdown_usd"][k]
        assert shown.startswith("+" if v >= 0 else "−") and (not base or f"({100 * v / base:+.1f}%)" in shown), (k, shown)
    assert ("TCO per GPU-hour", "energy") in rows and ("IT power", "network") in rows
    shared = page.url
    assert shared.count("cmp=") == 2  # the comparison travels with the link
    again, _ = _open(browser, shared.split("/?", 1)[0], shared.split("/?", 1)[1])
    again.wait_for_function("document.body.dataset.compared === '2'")
    page.click("#compare-clear")
    assert page.locator("#compare-box").is_hidden() and "cmp=" not in page.url
    assert errors == []


def test_api_docs_render_with_the_network_cut_off(browser, url):
    """/docs loaded Swagger UI from a CDN and was blank offline; now its files come from this server."""
    ctx = browser.new_context()
    outside: list[str] = []

    def only_here(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", only_here)
    page = ctx.new_page()
    page.goto(url + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    text = page.inner_text("body")
    for path in ("/api/plan", "/api/design", "/api/fabric", "/api/train", "/api/dashboard"):
        assert path in text
    assert outside == []
    assert httpx.get(url + "/redoc").status_code == 200
