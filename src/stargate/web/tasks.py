"""The web server's work, run in worker processes (:mod:`stargate.web.work`): plain functions of
validated request bodies that return JSON-ready dicts or HTML text.

Nothing here reads a path taken from a request: model names are checked to be presets before a
task is sent (and the workers run in an empty directory); the only path, the sweep directory, is
fixed when the server starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.web.bodies import MAX_GPUS, DashboardBody, DesignBody, FabricBody, TrainBody

__all__ = ["builtin_plan", "dashboard", "design", "fabric", "pareto_load", "pareto_page", "scenario_page",
           "train"]

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
    return {"cards": summary_cards(plan) + [("MFU", "—" if p["mfu"] is None else f"{100 * p['mfu']:.0f}%")] + rows,
            "phase": p, "charts": {k: v for k, v in charts.items() if k in keep}}


def scenario_page(name: str) -> str:
    """The report page of a built-in scenario, with Plotly.js served by the app rather than inline."""
    from stargate.plan import builtin_scenario, run_plan
    from stargate.report.html import plotly_js, render_report

    cat = Catalog.load()
    html = render_report(run_plan(builtin_scenario(name), cat).model_dump(mode="json"), cat)
    # The app serves Plotly.js itself: swap the inline copy for a reference (a 3.5 MB page becomes 0.1 MB).
    return html.replace(f"<script>{plotly_js()}</script>", '<script src="/static/plotly.min.js"></script>')


def pareto_load(sweep_dir: Path, fingerprint: str) -> dict[str, Any]:
    """Read the sweep in ``sweep_dir`` into this worker's memory for the ``/pareto`` page; its row count."""
    from stargate.web.fronts import loaded

    return {"rows": loaded(sweep_dir, fingerprint)[0].num_rows}


def pareto_page(sweep_dir: Path, fingerprint: str, objectives: str | None = None, group_by: str | None = None,
                where: str | None = None) -> dict[str, Any]:
    """The ``/pareto`` page of the sweep in ``sweep_dir`` (:func:`stargate.web.fronts.fronts_page`)."""
    from stargate.web.fronts import fronts_page

    return fronts_page(sweep_dir, fingerprint, objectives, group_by, where)
