"""In a real browser (Playwright driving Debian's Chromium): the report opened offline and the dashboard
draw the P10–P90 whiskers, the fan charts and the tornados.

The expected counts come from the plan's own JSON and from the sensitivity of its last phase, computed here.
"""

import pytest
from test_browser import CHROMIUM, _page, browser  # noqa: F401  (the browser fixture)
from web_server import running_server

from stargate.catalog import Catalog
from stargate.plan import builtin_scenario, run_plan
from stargate.report.uncertainty import HEADLINES, TOP_INPUTS, chart_id
from stargate.uncertainty.plan import plan_sensitivity

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (apt-get install chromium)")

TRACES = "(id) => document.getElementById(id).data"


def _offline(page):
    """Every request that leaves the file system fails: the report must need none."""
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())


def _shown(rows):
    return min(TOP_INPUTS, sum(1 for r in rows if r["swing"] > 0))


def test_report_draws_whiskers_fans_and_tornados_offline(browser, tmp_path, cli):  # noqa: F811
    out = tmp_path / "report.html"
    assert cli("report", "-o", str(out), "--uncertainty", "200", "--seed", "3").code == 0
    sc, cat = builtin_scenario(), Catalog.load()
    plan = run_plan(sc, cat)
    sensitivity = plan_sensitivity(sc, cat, plan, seed=3, with_sobol=False)
    phases = len(plan.phases)

    page, errors = _page(browser)
    _offline(page)
    page.goto(out.as_uri())
    page.wait_for_selector("#how-sure")
    tornados = [k for k in HEADLINES if k in sensitivity["headlines"] and _shown(sensitivity["headlines"][k])]
    page.wait_for_function(f"document.querySelectorAll('.chart.tornado.js-plotly-plot').length === {len(tornados)}")
    # the point-answer charts carry one trace of P10–P90 whiskers, one whisker per phase, drawn
    for chart in ("power", "roadmap", "goodput"):
        traces = page.evaluate(TRACES, f"chart-{chart}")
        assert sum(1 for t in traces if t.get("error_y")) == 1, chart
        assert page.locator(f"#chart-{chart} g.errorbar").count() >= phases, chart
    # a fan chart per headline: its P10–P90 band filled
    fans = page.locator(".chart.fan").count()
    assert fans >= 9
    capex = page.evaluate(TRACES, "chart-fan-capex_usd")
    assert [t.get("fill") for t in capex].count("tonexty") == 1
    assert page.locator("#chart-fan-capex_usd .scatterlayer path.js-fill").count() == 1
    # a tornado per headline, one bar per input that moves it (both sides), largest swing on top
    for key in tornados:
        rows = sensitivity["headlines"][key]
        traces = page.evaluate(TRACES, chart_id("chart-tornado", key))
        assert [len(t["y"]) for t in traces] == [_shown(rows)] * 2, key
        assert traces[0]["y"][0] == max((r for r in rows if r["swing"] > 0), key=lambda r: r["swing"])["input"]
        bars = page.locator(f"#{chart_id('chart-tornado', key)} g.point").count()
        assert bars == 2 * _shown(rows), key
    assert errors == []


def test_dashboard_draws_whiskers_and_the_builtin_tornados(browser):  # noqa: F811
    sc, cat = builtin_scenario(), Catalog.load()
    sensitivity = plan_sensitivity(sc, cat, run_plan(sc, cat), with_sobol=False)
    expected = sum(1 for k in HEADLINES if k in sensitivity["headlines"] and _shown(sensitivity["headlines"][k]))
    with running_server() as url:
        page, errors = _page(browser)
        page.goto(url + "/")
        page.wait_for_selector("#chart-power .main-svg")
        page.wait_for_function("document.body.dataset.howSure !== undefined", timeout=60_000)
        assert int(page.evaluate("document.body.dataset.howSure")) == expected
        page.wait_for_function(f"document.querySelectorAll('#how-sure-charts .js-plotly-plot').length === {expected}")
        power = page.evaluate(TRACES, "chart-power")
        (band,) = [t for t in power if t.get("error_y")]
        assert len(band["y"]) == 1 and band["error_y"]["array"][0] >= 0 and band["error_y"]["arrayminus"][0] >= 0
        assert page.locator("#chart-power g.errorbar").count() >= 1
        gpus = page.evaluate(TRACES, "chart-tornado-gpus")
        assert [len(t["y"]) for t in gpus] == [_shown(sensitivity["headlines"]["gpus"])] * 2
        assert errors == []
