"""The web dashboard and JSON API (FastAPI): the same core, templates and charts as the CLI and report.

Pages: ``/`` the dashboard (pick an accelerator, fabric, budget or power cap and a model; the
design, the training plan and the charts update), ``/scenario/{name}`` a built-in scenario's
report, ``/pareto`` the Pareto front of the sweep the server was started with
(``stargate serve --sweep DIR``). API: ``GET /api/plan`` (the built-in scenario, as
``stargate plan --json``), ``POST /api/design``, ``/api/fabric``, ``/api/train`` with JSON bodies
named like the CLI options, ``POST /api/dashboard`` (design + plan + charts for the page);
OpenAPI at ``/openapi.json``.

Safe by default: the CLI binds 127.0.0.1; every input is validated by the same models as the CLI
and a bad one is an HTTP 422 naming the field and the value; request bodies are capped
(``MAX_BODY_BYTES``), the GPU count of a request is capped (``MAX_GPUS``), and each request's compute
time is capped (``MAX_SECONDS``, then HTTP 503); no request names a file (the only path, the
sweep directory, is fixed when the server starts); nothing reads YAML from a request.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from stargate.catalog import Catalog
from stargate.enums import Fabric, Topology
from stargate.errors import InputError

__all__ = ["create_app"]

MAX_BODY_BYTES = 16 * 1024
MAX_GPUS = 10_000_000
MAX_SECONDS = 20.0


class DesignBody(BaseModel):
    """``/api/design``: as ``stargate design``."""

    model_config = ConfigDict(extra="forbid")

    accelerator: str
    gpus: Annotated[int, Field(gt=0, le=MAX_GPUS)] | None = None
    budget: float | str | None = None
    power: float | str | None = None
    fabric: Fabric = Fabric.INFINIBAND
    system: str | None = None
    energy: str = "grid-us"
    systems_per_rack: Annotated[int, Field(gt=0)] | None = None
    cooling: str | None = None


class FabricBody(BaseModel):
    """``/api/fabric``: as ``stargate fabric``."""

    model_config = ConfigDict(extra="forbid")

    gpus: Annotated[int, Field(gt=0, le=MAX_GPUS)]
    fabric: Fabric = Fabric.INFINIBAND
    accelerator: str = "h100"
    topology: Topology = Topology.RAIL_OPTIMIZED
    oversubscription: list[float] = [1.0]
    planes: Annotated[int, Field(ge=1, le=8)] = 1
    switch: str | None = None
    compare: bool = False


class TrainBody(BaseModel):
    """``/api/train``: as ``stargate train``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """A preset name (config files are not read from requests)."""
    accelerator: str
    gpus: Annotated[int, Field(gt=0, le=MAX_GPUS)]
    seq_len: Annotated[int, Field(gt=0, le=1_048_576)] = 8192
    global_batch: Annotated[int, Field(gt=0, le=10_000_000)] = 2048
    precision: str = "bf16"
    fabric: Fabric = Fabric.INFINIBAND
    tp: int | None = None
    pp: int | None = None
    dp: int | None = None
    cp: int | None = None
    ep: int | None = None
    vp: int | None = None
    mbs: int | None = None
    recompute: str | None = None
    sharding: str | None = None


class DashboardBody(BaseModel):
    """``/api/dashboard``: one phase designed and planned, with its charts."""

    model_config = ConfigDict(extra="forbid")

    accelerator: str = "gb200"
    fabric: Fabric = Fabric.INFINIBAND
    sizing: str = Field("budget", pattern=r"^(budget|power|gpus)$")
    value: Annotated[float, Field(gt=0)] = 10e9
    model: str = Field("llama3.1-405b", pattern=r"^[a-z0-9][a-z0-9._-]*$")
    year: Annotated[int, Field(ge=2000, le=2100)] = 2027


def _unprocessable(e: InputError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": [{"loc": ["body", e.field], "msg": e.allowed,
                                                               "input": e.value if isinstance(e.value, (int, float, str)) else str(e.value)}]})


async def _run(fn: Any, *args: Any) -> Any:
    """Run core work off the event loop, within the per-request time cap."""
    return await asyncio.wait_for(run_in_threadpool(fn, *args), timeout=MAX_SECONDS)


@cache
def _builtin_plan() -> dict[str, Any]:
    from stargate.plan import builtin_scenario, run_plan

    return run_plan(builtin_scenario(), Catalog.load()).model_dump(mode="json")


def _design(body: DesignBody) -> dict[str, Any]:
    from stargate.cluster.design import design_cluster
    from stargate.scenario import DesignRequest, validate

    raw = {"accelerator": body.accelerator, "gpus": body.gpus, "budget_usd": body.budget, "power_w": body.power,
           "fabric": body.fabric, "system": body.system, "energy_source": body.energy,
           "systems_per_rack": body.systems_per_rack, "cooling": body.cooling}
    try:
        req = validate(DesignRequest, {k: v for k, v in raw.items() if v is not None})
        d = design_cluster(req, Catalog.load())
    except InputError as e:  # name the body's field, as the CLI names its option
        names = {"budget_usd": "budget", "power_w": "power", "energy_source": "energy"}
        raise InputError(names.get(e.field, e.field), e.value, e.allowed) from None
    if d.gpus > MAX_GPUS:
        raise InputError("budget" if body.budget else "power", body.budget or body.power, f"a size under {MAX_GPUS:,} GPUs")
    return d.model_dump(mode="json")


def _fabric(body: FabricBody) -> dict[str, Any]:
    from stargate.fabric.report import fabric_report

    raw = body.model_dump(exclude={"compare"}, exclude_none=True)
    return fabric_report(raw, Catalog.load(), body.compare)


def _train(body: TrainBody) -> dict[str, Any]:
    from stargate.scenario import validate
    from stargate.training.job import TrainRequest, train
    from stargate.training.presets import preset

    preset(body.model)  # a preset name only: requests never name files
    workload = {k: getattr(body, k) for k in ("accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric")}
    rest = body.model_dump(exclude=set(workload) | {"model"}, exclude_none=True)
    return train(validate(TrainRequest, {"model": body.model, "workload": workload, **rest}), Catalog.load())


def _dashboard(body: DashboardBody) -> dict[str, Any]:
    from stargate.plan import run_plan
    from stargate.report.charts import plan_charts
    from stargate.report.html import largest_fabric, summary_cards
    from stargate.scenario import Scenario, validate

    sizing = {"budget": "budget_usd", "power": "power_w", "gpus": "gpus"}[body.sizing]
    value: Any = int(body.value) if body.sizing == "gpus" else body.value
    phase = {"name": "Design", "year": body.year, "accelerator": body.accelerator, "fabric": body.fabric,
             sizing: value, "model": body.model}
    scenario = validate(Scenario, {"name": "dashboard", "phases": [phase]})
    cat = Catalog.load()
    plan = run_plan(scenario, cat).model_dump(mode="json")
    if plan["phases"][0]["gpus"] > MAX_GPUS:
        raise InputError("value", body.value, f"a size under {MAX_GPUS:,} GPUs")
    charts = plan_charts(plan, largest_fabric(plan, cat))
    keep = ("capex", "power", "step", "goodput", "scaling", "fabric")
    p = plan["phases"][0]
    return {"cards": summary_cards(plan) + [("MFU", "—" if p["mfu"] is None else f"{100 * p['mfu']:.0f}%"),
                                            ("goodput", f"{100 * p['goodput']:.0f}%")],
            "phase": p, "charts": {k: v for k, v in charts.items() if k in keep}}


def create_app(sweep_dir: Path | None = None) -> FastAPI:
    """The dashboard and API; ``sweep_dir`` (fixed at start-up) feeds the ``/pareto`` page."""
    app = FastAPI(title="Stargate", version=__import__("stargate").__version__,
                  description="Planner and simulator for AI supercomputers: design, fabric, training and plan API.")

    @app.middleware("http")
    async def cap_body(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length and int(length) > MAX_BODY_BYTES:
            return JSONResponse(status_code=413, content={"detail": f"request body over {MAX_BODY_BYTES} bytes"})
        return await call_next(request)

    @app.exception_handler(InputError)
    async def input_error(_: Request, e: InputError) -> JSONResponse:
        return _unprocessable(e)

    @app.exception_handler(asyncio.TimeoutError)
    async def too_slow(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"computation over {MAX_SECONDS:g} s; ask for less"})

    @app.get("/api/plan")
    async def api_plan() -> dict[str, Any]:
        return await _run(_builtin_plan)

    @app.post("/api/design")
    async def api_design(body: DesignBody) -> dict[str, Any]:
        return await _run(_design, body)

    @app.post("/api/fabric")
    async def api_fabric(body: FabricBody) -> dict[str, Any]:
        return await _run(_fabric, body)

    @app.post("/api/train")
    async def api_train(body: TrainBody) -> dict[str, Any]:
        return await _run(_train, body)

    @app.post("/api/dashboard")
    async def api_dashboard(body: DashboardBody) -> dict[str, Any]:
        return await _run(_dashboard, body)

    from stargate.web.pages import add_pages

    add_pages(app, sweep_dir)
    return app
