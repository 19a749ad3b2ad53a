"""In a real browser (Playwright driving Debian's Chromium): the dashboard reacts, the report renders.

`.ci/run` installs Debian's `chromium` and sets STARGATE_REQUIRE_BROWSER=1, so in CI these tests run
(a missing browser is a failure there, not a skip).
"""

import os
import shutil

import pytest
from web_server import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("STARGATE_REQUIRE_BROWSER"):
    raise RuntimeError("STARGATE_REQUIRE_BROWSER is set but no chromium is installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (apt-get install chromium)")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _card(page, key):
    return page.locator(f'.card .v[data-key="{key}"]').inner_text()


def test_dashboard_updates_numbers_and_charts(browser, tmp_path):
    with running_server() as url:
        page, errors = _page(browser)
        page.goto(url + "/")
        page.wait_for_selector('.card .v[data-key="GPUs"]')
        page.wait_for_selector("#chart-capex .main-svg")
        gpus_before = _card(page, "GPUs")
        capex_before = page.evaluate("document.getElementById('chart-capex').data.map(t => t.y[0])")
        stamp = page.evaluate("document.body.dataset.updated")
        page.select_option("#accelerator", "h100-sxm-80g")
        page.fill("#value", "3e9")
        page.click("#go")
        page.wait_for_function(f"document.body.dataset.updated !== '{stamp}'")
        assert _card(page, "GPUs") != gpus_before
        for key in ("network share of capex", "fabric", "PUE design / annual", "goodput", "cost of capital per GPU-hour"):
            assert _card(page, key) not in ("", "—"), key
        assert page.evaluate("document.getElementById('chart-capex').data.map(t => t.y[0])") != capex_before
        assert page.locator(".chart .main-svg").count() >= 6
        assert errors == []
        # Bad input: the API answers 422 (which the browser logs as a failed resource) and the page says why.
        page.fill("#value", "-1")
        page.click("#go")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert "value" in page.inner_text("#error")
        page.screenshot(path=str(tmp_path / "dashboard.png"))
        assert all("422" in e for e in errors)


def test_report_from_disk_renders_every_chart(browser, tmp_path, cli):
    out = tmp_path / "report.html"
    assert cli("plan", "-o", str(out)).code == 0
    page, errors = _page(browser)
    page.goto(out.as_uri())
    page.wait_for_selector("#chart-roadmap .main-svg")
    charts = page.locator(".chart").count()
    assert charts >= 8
    page.wait_for_function(f"document.querySelectorAll('.chart .main-svg').length >= {charts}")
    assert page.locator("#sources tbody tr").count() > 20
    assert errors == []


def test_report_shows_the_world_model_rows(browser, tmp_path, cli):
    """Network share and fabric, PUEs, power per GPU, power infrastructure, cost of capital, jobs and
    the recovery strategy reach the page, with the figures the plan's JSON gives."""
    p5 = cli("plan", "--json").json()["phases"][-1]
    d = p5["design"]
    out = tmp_path / "report.html"
    assert cli("plan", "-o", str(out)).code == 0
    page, errors = _page(browser)
    page.goto(out.as_uri())
    page.wait_for_selector("#chart-roadmap .main-svg")
    text = page.inner_text("body")
    share = 100 * d["capex_breakdown_usd"]["network"] / d["capex_usd"]
    for needle in ("network share of capex", f"{share:.1f}%", "PUE design / annual",
                   f"{d['design_pue']:.2f} / {d['annual_pue']:.2f}", d["network"]["switch"],
                   f"{p5['facility_power_w'] / p5['gpus'] / 1e3:.3g} kW", "cost of capital per GPU-hour",
                   f"{p5['jobs']:,} × {p5['job_gpus']:,}", p5["reliability"]["strategy"]):
        assert needle in text, needle
    assert errors == []


def _url_with(fragment: str):
    """A URL predicate on the decoded URL: playwright's glob matching of percent-escapes differs by version."""
    from urllib.parse import unquote

    return lambda u: fragment in unquote(u)


def test_pareto_page_changes_objectives_groups_and_filter(browser, tmp_path, cli):
    """The /pareto page: picking another objective, grouping and filter reloads with them in the
    URL and redraws the fronts; the page links back to the dashboard."""
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: models\naxes:\n  accelerator: [h100, gb200]\n  fabric: [infiniband, ethernet]\n"
                    "  budget_usd: {start: 1.0e+9, stop: 3.0e+10, num: 4, scale: log}\n"
                    "  model: [llama3.1-8b, llama3.1-70b]\nconstraints: ['facility_power_w <= 5e9', fits]\n")
    assert cli("sweep", str(spec), "--out", str(tmp_path / "r")).code == 0
    with running_server("--sweep", str(tmp_path / "r")) as url:
        page, errors = _page(browser)
        page.goto(url + "/pareto", timeout=60_000)
        page.wait_for_selector("#chart-pareto .main-svg")
        assert page.locator("table.front").count() == 2  # a front per model
        assert page.locator("h3.group-title").all_inner_texts() == ["model llama3.1-70b", "model llama3.1-8b"]
        header = page.locator("table.front").first.locator("th").all_inner_texts()
        assert "time to train" in header
        with page.expect_navigation(url=_url_with('objectives=capex_usd,mfu,')):
            page.select_option("#objective-2", "mfu")
        with page.expect_navigation(url=_url_with('objectives=capex_usd,-mfu')):
            page.select_option("#direction-2", "max")
        page.wait_for_selector("#chart-pareto .main-svg")
        header = page.locator("table.front").first.locator("th").all_inner_texts()
        assert "mfu" in header and "time to train" not in header
        with page.expect_navigation(url=_url_with('group_by=accelerator,model')):
            page.check('input.group[value="accelerator"]')
        assert page.locator("table.front").count() == 4  # model x accelerator
        with page.expect_navigation(url=_url_with('group_by=accelerator')):
            page.uncheck('input.group[value="model"]')
        page.fill("#where", "accelerator=gb200")
        with page.expect_navigation(url=_url_with('where=accelerator=gb200')):
            page.click("#go")
        assert page.locator("h3.group-title").all_inner_texts() == ["accelerator gb200"]
        page.fill("#where", "colour=red")
        with page.expect_navigation(url=_url_with('where=colour=red')):
            page.click("#go")
        assert "colour=red" in page.inner_text("#error")
        assert all("422" in e for e in errors)
        page.screenshot(path=str(tmp_path / "pareto.png"), full_page=True)
        with page.expect_navigation(url=url + "/"):
            page.click("#dashboard-link")
        assert "Stargate" in page.title()


def test_report_draws_the_serving_frontier_per_chip(browser, tmp_path, cli):
    """The throughput-interactivity chart: one line per accelerator the plan can serve on (V100 cannot),
    the plan's point of each on its line, and the serving rows with the JSON's figures."""
    plan = cli("plan", "--json").json()
    served = {p["accelerator"]: p["serving"] for p in plan["phases"] if p["serving"]}
    out = tmp_path / "report.html"
    assert cli("plan", "-o", str(out)).code == 0
    page, errors = _page(browser)
    page.goto(out.as_uri())
    page.wait_for_selector("#chart-serving .main-svg")
    lines = page.evaluate("document.getElementById('chart-serving').data.filter(t => t.showlegend !== false)"
                          ".map(t => [t.name, t.x.length])")
    assert sorted(name.split(" ")[0] for name, _ in lines) == sorted(served)
    assert all(n >= 2 for _, n in lines)
    assert page.locator("#chart-serving .scatterlayer .trace").count() == 2 * len(served)
    assert page.evaluate("document.getElementById('chart-serving').layout.xaxis.type") == "log"
    text = page.inner_text("body")
    assert "$ per million tokens" in text and "Serving figures on the reference workload" in text
    p5 = plan["phases"][-1]["serving"]
    assert f"${p5['usd_per_million_tokens']:.2f}" in text
    assert errors == []
