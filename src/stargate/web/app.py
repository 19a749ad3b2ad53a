"""The web dashboard and JSON API (FastAPI): the same core, templates and charts as the CLI and report.

Pages: ``/`` the dashboard (every ``design`` and ``train`` option, quantities with their units; the
design, the training job, the breakdowns, sources and charts update; the form lives in the address,
designs can be compared side by side; ``docs/dashboard.md``), ``/infer`` the serving page (a model on one
or more chips: each throughput–interactivity frontier drawn, the best deployments in a table),
``/scenario/{name}`` a built-in scenario's
report, ``/pareto`` the Pareto front of the sweep the server was started with
(``stargate serve --sweep DIR``). API: ``GET /api/plan`` (the built-in scenario, as
``stargate plan --json``), ``GET /api/sensitivity`` (its last phase's tornados), ``POST /api/design``, ``/api/fabric``, ``/api/train``, ``/api/infer`` with JSON bodies
named like the CLI options, ``POST /api/dashboard`` (design + plan + training job + charts for the page);
OpenAPI at ``/openapi.json``, its Swagger UI at ``/docs`` and ReDoc at ``/redoc``, both served from
local files (no CDN: they work offline).

Safe by default (the threat model is in ``docs/security.md``):

- the CLI binds 127.0.0.1, and a server bound to loopback answers only to ``Host: localhost``,
  ``127.0.0.1`` or ``[::1]`` (no DNS rebinding);
- request bodies are capped as they arrive (``MAX_BODY_BYTES``, chunked or not) and must arrive
  within ``BODY_SECONDS``;
- every input is validated (every number finite and bounded, ``MAX_GPUS`` accelerators at most) and
  a bad one is an HTTP 422 in the OpenAPI schema's shape, naming the body's field and echoing its
  value, bounded;
- no request names a file: model names must be presets, checked before any work; the only path, the
  sweep directory, is fixed when the server starts;
- the core's work runs in worker processes (:mod:`stargate.web.work`) under a cap that holds
  (``MAX_SECONDS``, then the worker is killed and the request is a 503); the built-in plan, the
  scenario pages and the Pareto page are computed once and served from memory;
- answers are strict JSON: a non-finite number in an answer is a bug, reported as a 500 with a
  JSON body, never sent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from stargate.errors import InputError
from stargate.web import tasks
from stargate.web.bodies import MAX_GPUS, DashboardBody, DesignBody, FabricBody, InferBody, TrainBody
from stargate.web.safety import (
    BodyLimit,
    ErrorMessage,
    FieldError,
    HostAllowList,
    error_response,
    is_loopback,
    loopback_hosts,
    validation_error,
)
from stargate.web.work import MAX_SECONDS, Memo, WorkerPool, WorkError

__all__ = ["BODY_SECONDS", "MAX_BODY_BYTES", "MAX_GPUS", "MAX_SECONDS", "create_app"]

MAX_BODY_BYTES = 16 * 1024
"""Largest request body (bytes), counted as it arrives."""
BODY_SECONDS = 10.0
"""Most time a request body may take to arrive."""
SENSITIVITY_SECONDS = 60.0
"""Most compute time of ``GET /api/sensitivity``: the built-in plan and its last phase's swings, computed once for
every request (a few seconds on a busy machine; nothing in it comes from a request)."""

# How the core's field names map back to the body's: internal name -> body key(s), and the keys
# blamed when an error names no field of the body (the size, which every such error comes from).
_DESIGN_NAMES: dict[str, tuple[str, ...]] = {"energy_source": ("energy",), "wacc_per_year": ("wacc",), "scale_out_bits_per_s": ("scale_out",)}
_TRAIN_NAMES: dict[str, tuple[str, ...]] = {"parallelism": ("tp", "pp", "dp", "cp", "ep", "vp", "mbs", "gpus")}
_NAMES: dict[str, tuple[dict[str, tuple[str, ...]], tuple[str, ...]]] = {
    "design": ({"budget_usd": ("budget",), "power_w": ("power",), **_DESIGN_NAMES}, ("gpus", "budget", "power")),
    "fabric": ({}, ("gpus",)),
    "train": (_TRAIN_NAMES, ("gpus",)),
    "infer": ({"budget_usd": ("budget",), "power_w": ("power",), "ttft_s": ("ttft",), "tpot_s": ("tpot",),
               "energy_source": ("energy",), "scale_out_bits_per_s": ("scale_out",)}, ("gpus", "budget", "power")),
    "dashboard": ({"budget_usd": ("value",), "power_w": ("value",), "gpus": ("value",), "budget": ("value",),
                   "power": ("value",), "site_distance_m": ("site_distance",), **_DESIGN_NAMES,
                   "parallelism": _TRAIN_NAMES["parallelism"][:-1]}, ("value", "accelerator")),
}


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorMessage, "description": "Host not allowed, or a body that is not JSON"},
    408: {"model": ErrorMessage, "description": "Body not received in time"},
    413: {"model": ErrorMessage, "description": "Body over the size cap"},
    503: {"model": ErrorMessage, "description": "Over the compute cap, or busy; retry"},
}


def _field_error(e: InputError, route: str, sent: dict[str, Any]) -> FieldError:
    """The core's error as a 422 naming the body's field as the request wrote it, and its value as sent."""
    aliases, fallback = _NAMES[route]
    for part in reversed([p for p in re.split(r"[.:'\s]+", e.field) if p and not p.isdigit()]):
        for key in aliases.get(part, (part,)):
            if key in sent:
                return FieldError(["body", key], e.allowed, sent[key])
    for key in fallback:  # the error names an internal step: blame the size the request gave
        if key in sent:
            return FieldError(["body", key], str(e), sent[key])
    return FieldError(["body"], str(e), sent)


def _preset_only(name: str) -> str:
    """A model preset's name, or a 422 that says the same whether or not a file of that name exists."""
    from stargate.training.presets import preset_names

    names = preset_names()
    key = name.strip().lower()
    if key not in names:
        raise FieldError(["body", "model"], f"a model preset name: {', '.join(names)}", name)
    return key


def _json(data: bytes) -> Response:
    return Response(data, media_type="application/json")


def _add_api(app: FastAPI, pool: WorkerPool, plan: Memo) -> None:
    async def answer(route: str, fn: Callable[..., Any], body: BaseModel) -> Response:
        sent = body.model_dump(mode="json", exclude_unset=True)
        try:
            return _json(await pool.run(fn, body))
        except InputError as e:
            raise _field_error(e, route, sent) from None

    @app.get("/api/plan", response_model=dict[str, Any], responses=_ERRORS)
    async def api_plan() -> Response:
        """The built-in Stargate scenario: exactly ``stargate plan --json``."""
        return _json(await plan.get("plan", tasks.builtin_plan))

    @app.get("/api/sensitivity", response_model=dict[str, Any], responses=_ERRORS)
    async def api_sensitivity() -> Response:
        """The built-in Stargate scenario's last phase: the inputs that move each headline most, one at a time
        (``stargate sensitivity --json`` without Sobol indices), with the tornado charts (``charts``)."""
        return _json(await plan.get("sensitivity", tasks.builtin_sensitivity, seconds=SENSITIVITY_SECONDS))

    @app.post("/api/design", response_model=dict[str, Any], responses=_ERRORS)
    async def api_design(body: DesignBody) -> Response:
        """One cluster, as ``stargate design --json``."""
        return await answer("design", tasks.design, body)

    @app.post("/api/fabric", response_model=dict[str, Any], responses=_ERRORS)
    async def api_fabric(body: FabricBody) -> Response:
        """The scale-out network, as ``stargate fabric --json``."""
        return await answer("fabric", tasks.fabric, body)

    @app.post("/api/train", response_model=dict[str, Any], responses=_ERRORS)
    async def api_train(body: TrainBody) -> Response:
        """One training job, as ``stargate train --json``; ``model`` is a preset name."""
        return await answer("train", tasks.train, body.model_copy(update={"model": _preset_only(body.model)}))

    @app.post("/api/infer", response_model=dict[str, Any], responses=_ERRORS)
    async def api_infer(body: InferBody) -> Response:
        """Serving capacity, as ``stargate infer --json``; ``model`` is a preset name."""
        return await answer("infer", tasks.infer, body.model_copy(update={"model": _preset_only(body.model)}))

    @app.post("/api/dashboard", response_model=dict[str, Any], responses=_ERRORS)
    async def api_dashboard(body: DashboardBody) -> Response:
        """One phase designed and planned, with the dashboard's cards and charts."""
        return await answer("dashboard", tasks.dashboard, body.model_copy(update={"model": _preset_only(body.model)}))


def _add_errors(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)

    @app.exception_handler(FieldError)
    async def field_error(_: Request, e: FieldError) -> JSONResponse:
        return e.response()

    @app.exception_handler(InputError)
    async def input_error(_: Request, e: InputError) -> JSONResponse:
        return FieldError(["body"], str(e), e.value).response()

    @app.exception_handler(WorkError)
    async def work_error(_: Request, e: WorkError) -> JSONResponse:
        if e.status == 503:
            return error_response(503, {"detail": str(e)}, headers={"Retry-After": "2"})
        return error_response(e.status, {"detail": f"internal error: {e}"})


def create_app(sweep_dir: Path | None = None, host: str | None = None, workers: int | None = None) -> FastAPI:
    """The dashboard and API.

    Parameters
    ----------
    sweep_dir : Path, optional
        A sweep's results directory (fixed at start-up) for the ``/pareto`` page.
    host : str, optional
        The address the server is bound to; when it is loopback, only ``Host: localhost``,
        ``127.0.0.1`` and ``[::1]`` are answered. ``None`` (an app mounted elsewhere, or a test
        client) checks no Host.
    workers : int, optional
        Worker processes for the core's work (default: 2 to 4, by the CPU count).
    """
    pool = WorkerPool(workers)
    plan = Memo(pool, max_keys=2)  # the built-in plan and its last phase's sensitivity

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        plan.future("plan", tasks.builtin_plan)  # computed now, so that the first GET /api/plan never waits
        from stargate.catalog import Catalog
        from stargate.training.presets import preset_names

        Catalog.load(), preset_names()  # loaded before the first request, not in the event loop during one
        app.state.pareto_warm()  # the sweep read into the /pareto page's worker now, not on its first request
        with suppress(Exception):  # served once it is ready: no request races its first computation
            await plan.get("plan", tasks.builtin_plan)  # (an error is reported by GET /api/plan itself)
        try:
            yield
        finally:
            pool.close()
            if app.state.pareto_pool is not None:
                app.state.pareto_pool.close()

    # Swagger UI and ReDoc from the fastapi-offline package's files, served here: /docs works offline.
    app = FastAPIOffline(title="Stargate", version=__import__("stargate").__version__, lifespan=lifespan,
                         static_url="/static/docs",
                         description="Planner and simulator for AI supercomputers: design, fabric, training and plan API.")
    app.state.pool = pool
    _add_errors(app)
    _add_api(app, pool, plan)
    from stargate.web.pages import add_pages

    add_pages(app, sweep_dir, pool)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, max_seconds=BODY_SECONDS)
    if host is not None and is_loopback(host):
        app.add_middleware(HostAllowList, hosts=loopback_hosts(host))
    return app
