"""HTML pages of the web app: the dashboard, built-in scenarios, a sweep's Pareto front, Plotly.js."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response

from stargate.catalog import Catalog

__all__ = ["add_pages"]


@cache
def _scenario_page(name: str) -> str:
    from stargate.plan import builtin_scenario, run_plan
    from stargate.report.html import render_report

    cat = Catalog.load()
    html = render_report(run_plan(builtin_scenario(name), cat).model_dump(mode="json"), cat)
    # The app serves Plotly.js itself: swap the inline copy for a reference (a 3.5 MB page becomes 0.1 MB).
    from stargate.report.html import plotly_js

    return html.replace(f"<script>{plotly_js()}</script>", '<script src="/static/plotly.min.js"></script>')


def _pareto_page(sweep_dir: Path) -> str:
    from stargate.report.html import environment
    from stargate.sweep.pareto import pareto_front

    objectives = ["capex_usd", "time_to_train_s", "facility_power_w"]
    front = pareto_front(sweep_dir, objectives)
    columns = ["design_id", *objectives, "accelerator", "fabric", "gpus_built", "model"]
    figure = {"data": [{"type": "scatter", "mode": "markers", "x": [r["capex_usd"] for r in front],
                        "y": [r["time_to_train_s"] / 86400 for r in front],
                        "text": [f"{r['accelerator']} {r['fabric']} {r['model']}" for r in front],
                        "marker": {"size": 9, "color": [r["facility_power_w"] / 1e6 for r in front], "colorscale": "Viridis",
                                   "colorbar": {"title": {"text": "MW"}}}}],
              "layout": {"title": {"text": "Capex vs days to train (colour: facility power)"}, "height": 460,
                         "xaxis": {"type": "log", "title": {"text": "capex (USD)"}},
                         "yaxis": {"type": "log", "title": {"text": "days to train"}}}}
    name = (sweep_dir / "spec.json").read_text() if (sweep_dir / "spec.json").exists() else "{}"
    import json

    return environment().get_template("pareto.html").render(
        name=json.loads(name).get("name", sweep_dir.name), rows=front, columns=columns, objectives=objectives, figure=figure)


def add_pages(app: FastAPI, sweep_dir: Path | None) -> None:
    """Register the HTML pages and the Plotly.js route on ``app``."""
    from stargate.report.html import environment, plotly_js
    from stargate.training.presets import preset_names

    @app.get("/", response_class=HTMLResponse)
    async def dashboard() -> str:
        accelerators = [a.id for a in Catalog.load().entries("accelerators")]
        return environment().get_template("dashboard.html").render(
            accelerators=accelerators, models=preset_names(), has_sweep=sweep_dir is not None,
            chart_ids=["capex", "power", "step", "goodput", "scaling", "fabric"])

    @app.get("/scenario/{name}", response_class=HTMLResponse)
    async def scenario(name: str) -> str:
        from stargate.errors import InputError

        try:
            return _scenario_page(name)
        except InputError as e:
            raise HTTPException(status_code=404, detail=str(e)) from None

    @app.get("/pareto", response_class=HTMLResponse)
    async def pareto() -> str:
        if sweep_dir is None:
            raise HTTPException(status_code=404, detail="no sweep: start the server with `stargate serve --sweep DIR`")
        return _pareto_page(sweep_dir)

    @app.get("/static/plotly.min.js")
    async def plotly() -> Response:
        return Response(plotly_js(), media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})


