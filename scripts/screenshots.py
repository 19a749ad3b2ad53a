"""Screenshots of the dashboard and the report for the README (needs Debian's chromium).

Run: ``python scripts/screenshots.py`` — writes docs/img/dashboard.png and docs/img/report.png.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from web_server import running_server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        report = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "stargate", "report", "-o", str(report)], check=True, capture_output=True)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(report.as_uri())
        page.wait_for_selector("#chart-goodput .main-svg")
        page.screenshot(path=str(out / "report.png"))
        with running_server() as url:
            page.goto(url + "/")
            page.wait_for_selector("#chart-fabric .main-svg")
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "dashboard.png"))
        browser.close()


if __name__ == "__main__":
    main()
