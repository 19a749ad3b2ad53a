"""The web server's work, run in worker processes (:mod:`stargate.web.work`): plain functions of
validated request bodies that return JSON-ready dicts or HTML text.

Nothing here reads a path taken from a request: model names are checked to be presets before a
task is sent (and the workers run in an empty directory); the only path, the sweep directory, is
fixed when the server starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.format import format_percent
from stargate.web.bodies import MAX_GPUS, DashboardBody, DesignBody, FabricBody, TrainBody

__all__ = ["PARETO_OBJECTIVES", "builtin_plan", "dashboard", "design", "fabric", "pareto_page", "scenario_page",
           "train"]

PARETO_OBJECTIVES = ["capex_usd", "time_to_train_s", "facility_power_w"]


def builtin_plan() -> dict[str, Any]:
    """The built-in scenario's plan, exactly as ``stargate plan --json``."""
    from stargate.plan import builtin_scenario, run_plan

    return run_plan(builtin_scenario(), Catalog.load()).model_dump(mode="json")


def design(body: DesignBody) -> dict[str, Any]:
    """``/api/design``: one cluster, as ``stargate design --json``."""
    from stargate.cluster.design import design_cluster
    from stargate.scenario import DesignRequest, validate

    raw = {"accelerator": body.accelerator, "gpus": body.gpus, "budget_usd": body.budget, "power_w": body.power,
           "fabric": body.fabric, "system": body.system, "energy_source": body.energy,
           "systems_per_rack": body.systems_per_rack, "cooling": body.cooling}
    req = validate(DesignRequest, {k: v for k, v in raw.items() if v is not None})
    d = design_cluster(req, Catalog.load())
    if d.gpus > MAX_GPUS:
        raise InputError("budget_usd" if body.budget is not None else "power_w", body.budget or body.power,
                         f"a size under {MAX_GPUS:,} GPUs (this one buys {d.gpus:,})")
    return d.model_dump(mode="json")


def fabric(body: FabricBody) -> dict[str, Any]:
    """``/api/fabric``: the scale-out network, as ``stargate fabric --json``."""
    from stargate.fabric.report import fabric_report

    raw = body.model_dump(exclude={"compare"}, exclude_none=True)
    return fabric_report(raw, Catalog.load(), body.compare)


def train(body: TrainBody) -> dict[str, Any]:
    """``/api/train``: one training job, as ``stargate train --json`` (``body.model`` is a preset name)."""
    from stargate.scenario import validate
    from stargate.training.job import TrainRequest
    from stargate.training.job import train as train_job
    from stargate.training.rules import check_fp8_recipe, check_framework

    workload = {k: getattr(body, k) for k in ("accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric")}
    chosen = {k: getattr(body, k) for k in ("framework", "fp8_recipe", "moe_load_imbalance") if getattr(body, k) is not None}
    rest = body.model_dump(exclude=set(workload) | set(chosen) | {"model"}, exclude_none=True)
    if "framework" in chosen:
        check_framework(chosen["framework"])
    request = validate(TrainRequest, {"model": body.model, "workload": {**workload, **chosen}, **rest})
    check_fp8_recipe(request.workload.precision, request.workload.fp8_recipe)
    return train_job(request, Catalog.load())


def dashboard(body: DashboardBody) -> dict[str, Any]:
    """``/api/dashboard``: one phase designed and planned, its summary cards and charts."""
    from stargate.plan import run_plan
    from stargate.report.charts import plan_charts
    from stargate.report.html import largest_fabric, phase_rows, summary_cards
    from stargate.scenario import Scenario, validate

    sizing = {"budget": "budget_usd", "power": "power_w", "gpus": "gpus"}[body.sizing]
    if body.sizing == "gpus" and (body.value != int(body.value) or body.value > MAX_GPUS):
        raise InputError("gpus", body.value, f"a whole number of GPUs up to {MAX_GPUS:,}")
    value: Any = int(body.value) if body.sizing == "gpus" else body.value
    phase = {"name": "Design", "year": body.year, "accelerator": body.accelerator, "fabric": body.fabric,
             sizing: value, "model": body.model}
    scenario = validate(Scenario, {"name": "dashboard", "phases": [phase]})
    cat = Catalog.load()
    plan = run_plan(scenario, cat).model_dump(mode="json")
    built = plan["phases"][0]["gpus"]
    if built > MAX_GPUS:
        raise InputError(sizing, body.value, f"a size under {MAX_GPUS:,} GPUs (this one buys {built:,})")
    charts = plan_charts(plan, largest_fabric(plan, cat))
    keep = ("capex", "power", "step", "goodput", "scaling", "fabric")
    p = plan["phases"][0]
    world = ("facility power per GPU", "PUE design / annual", "network share of capex", "fabric", "power infrastructure",
             "cost of capital per GPU-hour", "jobs × GPUs", "goodput", "restart / warm spares")
    rows = [(label, cell(p)) for label, cell in phase_rows() if label in world]
    return {"cards": summary_cards(plan) + [("MFU", "—" if p["mfu"] is None else format_percent(p["mfu"]))] + rows,
            "phase": p, "charts": {k: v for k, v in charts.items() if k in keep}}


def scenario_page(name: str) -> str:
    """The report page of a built-in scenario, with Plotly.js served by the app rather than inline."""
    from stargate.plan import builtin_scenario, run_plan
    from stargate.report.html import plotly_js, render_report

    cat = Catalog.load()
    html = render_report(run_plan(builtin_scenario(name), cat).model_dump(mode="json"), cat)
    # The app serves Plotly.js itself: swap the inline copy for a reference (a 3.5 MB page becomes 0.1 MB).
    return html.replace(f"<script>{plotly_js()}</script>", '<script src="/static/plotly.min.js"></script>')


def pareto_page(sweep_dir: Path) -> str:
    """The Pareto-front page of the sweep in ``sweep_dir`` (capex, days to train, facility power)."""
    from stargate.report.html import environment
    from stargate.sweep.pareto import pareto_front

    objectives = PARETO_OBJECTIVES
    front = pareto_front(sweep_dir, objectives)
    columns = ["design_id", *objectives, "accelerator", "fabric", "gpus_built", "model"]
    figure = {"data": [{"type": "scatter", "mode": "markers", "x": [r["capex_usd"] for r in front],
                        "y": [r["time_to_train_s"] / 86400 for r in front],
                        "text": [f"{r['accelerator']} {r['fabric']} {r['model']}" for r in front],
                        "marker": {"size": 9, "color": [r["facility_power_w"] / 1e6 for r in front],
                                   "colorscale": "Viridis", "colorbar": {"title": {"text": "MW"}}}}],
              "layout": {"title": {"text": "Capex vs days to train (colour: facility power)"}, "height": 460,
                         "xaxis": {"type": "log", "title": {"text": "capex (USD)"}},
                         "yaxis": {"type": "log", "title": {"text": "days to train"}}}}
    name = sweep_dir.name
    spec = sweep_dir / "spec.json"
    if spec.is_file() and spec.stat().st_size < 1 << 20:
        try:
            name = str(json.loads(spec.read_text(encoding="utf-8")).get("name", name))
        except (ValueError, AttributeError, UnicodeDecodeError):
            pass  # the page's title only; the store checks the spec itself
    return environment().get_template("pareto.html").render(
        name=name, rows=front, columns=columns, objectives=objectives, figure=figure)
