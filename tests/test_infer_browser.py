"""The serving page (``/infer``) in a real browser (Playwright driving Debian's Chromium): the frontier of each
chosen chip is drawn, the best point of each is in the table with the figures of ``POST /api/infer``, and a
chip that cannot serve the request says why without hiding the others."""

from __future__ import annotations

import httpx
import pytest
import test_browser
from web_server import running_server

browser = test_browser.browser  # the same browser fixture, and the same rule to skip without one
pytestmark = test_browser.pytestmark


@pytest.fixture(scope="module")
def url():
    with running_server() as u:
        yield u


def _open(browser, url, query=""):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/infer{query}")
    page.wait_for_function("document.body.dataset.updated !== undefined")
    return page, errors


def test_infer_page_draws_a_frontier_per_chip(browser, url):
    page, errors = _open(browser, url)
    page.wait_for_selector("#chart-frontier .main-svg")
    traces = page.evaluate("document.getElementById('chart-frontier').data.map(t => [t.name, t.x.length, t.y])")
    curves = [t for t in traces if not t[0].endswith("best under the limits")]
    assert [t[0] for t in curves] == ["h200-141g", "gb200-186g", "mi355x-288g"]
    body = {"model": "llama3.1-70b", "gpus": "8", "input_tokens": "1024", "output_tokens": "1024", "precision": "fp8",
            "disaggregated": "auto", "framework": "trtllm", "fabric": "infiniband"}
    for name, points, ys in curves:
        answer = httpx.post(f"{url}/api/infer", json={**body, "accelerator": name}).json()
        assert points == len(answer["frontier"]) >= 3
        assert ys == [p["tokens_per_s_per_gpu"] for p in answer["frontier"]]
        row = page.locator("#best tbody tr", has_text=name).inner_text()
        assert f"{answer['tokens_per_s_per_gpu']:,.0f}" in row
    assert page.locator("#chart-frontier .scatterlayer .trace").count() == 6  # a curve and a star per chip
    assert page.inner_text("#error") == "" and errors == []


def test_infer_page_keeps_the_chips_that_can_serve(browser, url):
    page, errors = _open(browser, url, "?model=llama3.1-70b&accelerators=a100-80g&accelerators=b200-180g&gpus=8&input_tokens=1k"
                                       "&output_tokens=1k&precision=fp8&tpot=50%20ms")
    page.wait_for_selector("#chart-frontier .main-svg")
    assert "a100-80g" not in page.inner_text("#best") and "b200" in page.inner_text("#best")
    assert "a100-80g: precision: 'fp8' is not allowed" in page.inner_text("#error")  # the A100 has no fp8 units
    assert page.input_value("#tpot") == "50 ms"
    assert errors == []
