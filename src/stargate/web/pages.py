"""HTML pages of the web app: the dashboard, the serving page, built-in scenarios, a sweep's Pareto front, Plotly.js.

The scenario pages are computed once, in a worker process, and then served from memory. The Pareto
page (:mod:`stargate.web.fronts`) is computed in a worker of its own, which keeps the sweep's results
in memory while the sweep's files do not change; each choice of objectives, grouping and filter is
computed once and then served from memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from stargate.catalog import Catalog
from stargate.enums import Cooling
from stargate.errors import InputError, clip
from stargate.sweep.filters import MAX_TEXT_CHARS
from stargate.web import tasks
from stargate.web.safety import ErrorMessage
from stargate.web.work import Memo, WorkerPool

__all__ = ["PARETO_SECONDS", "add_pages", "builtin_scenarios", "sweep_fingerprint"]

PARETO_SECONDS = 120.0
"""Most compute time the Pareto page of a sweep may take (the first request of a sweep state loads it)."""
MAX_FINGERPRINT_FILES = 100_000
_JSON_ERROR = {"application/json": {"schema": ErrorMessage.model_json_schema()}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such scenario, or no sweep", "content": _JSON_ERROR},
    503: {"description": "Still being computed, or busy; retry", "content": _JSON_ERROR},
}


@cache
def builtin_scenarios() -> tuple[str, ...]:
    """Names of the scenarios shipped with Stargate."""
    folder = resources.files("stargate") / "scenarios"
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")))


def sweep_fingerprint(sweep_dir: Path) -> str:
    """A digest of the names, sizes and modification times of a sweep directory's files: it changes
    when the sweep does (resumed, extended, repaired), and costs a directory listing."""
    h = hashlib.sha256()
    count = 0
    for root, dirs, files in os.walk(sweep_dir):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):  # a writer's lock or temporary file, not results
                continue
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            rel = os.path.relpath(os.path.join(root, name), sweep_dir)
            h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            count += 1
            if count >= MAX_FINGERPRINT_FILES:
                return h.hexdigest()
    return h.hexdigest()


@cache
def _plotly_gzip() -> bytes:
    """Plotly.js compressed once (gzip), for the browsers that accept it."""
    import gzip

    from stargate.report.html import plotly_js

    return gzip.compress(plotly_js().encode(), compresslevel=6, mtime=0)


def add_pages(app: FastAPI, sweep_dir: Path | None, pool: WorkerPool) -> None:
    """Register the HTML pages and the Plotly.js route on ``app``; their work runs in ``pool``."""
    from stargate.report.html import environment, plotly_js
    from stargate.training.presets import preset_names

    scenarios = Memo(pool, max_keys=len(builtin_scenarios()))
    # One process keeps the sweep loaded; a request may wait for it to finish loading.
    fronts = WorkerPool(1, max_wait_seconds=PARETO_SECONDS) if sweep_dir is not None else None
    app.state.pareto_pool = fronts

    def warm() -> None:
        if fronts is not None and sweep_dir is not None:
            fronts.submit(tasks.pareto_load, sweep_dir, sweep_fingerprint(sweep_dir), seconds=PARETO_SECONDS)

    app.state.pareto_warm = warm
    pareto_pages = Memo(fronts or pool, max_keys=64)

    @cache
    def dashboard_page() -> str:
        from stargate.training.rules import frameworks

        cat = Catalog.load()
        choices = {"accelerators": [a.id for a in cat.entries("accelerators")], "models": preset_names(),
                   "systems": [s.id for s in cat.entries("systems")],
                   "energy": [e.id for e in cat.entries("energy_sources")], "cooling": [c.value for c in Cooling],
                   "frameworks": list(frameworks()), "precisions": ["bf16", "fp16", "fp8", "mxfp8", "nvfp4"]}
        return environment().get_template("dashboard.html").render(
            **choices, has_sweep=sweep_dir is not None, chart_ids=["capex", "power", "step", "goodput", "scaling", "fabric", "serving"])

    @app.get("/", response_class=HTMLResponse)
    async def dashboard() -> str:
        return dashboard_page()

    @cache
    def serving_page() -> str:
        cat = Catalog.load()
        return environment().get_template("infer.html").render(
            accelerators=[a.id for a in cat.entries("accelerators")], models=preset_names(),
            chosen=[cat.accelerator(a).id for a in ("h200", "gb200", "mi355x")], precisions=["bf16", "fp8", "fp4"])

    @app.get("/infer", response_class=HTMLResponse)
    async def serving() -> str:
        return serving_page()

    @app.get("/scenario/{name}", response_class=HTMLResponse, responses=_NOT_FOUND)
    async def scenario(name: str) -> str:
        if name not in builtin_scenarios():
            raise HTTPException(status_code=404, detail=f"no built-in scenario {clip(repr(name))}; "
                                                        f"built-in: {', '.join(builtin_scenarios())}")
        return await scenarios.get(name, tasks.scenario_page, name)

    @app.get("/pareto", response_class=HTMLResponse, responses={**_NOT_FOUND, 422: {"description": "A bad choice"}})
    async def pareto(
        objectives: Annotated[str | None, Query(max_length=MAX_TEXT_CHARS, description="As `--objectives`.")] = None,
        group_by: Annotated[str | None, Query(max_length=MAX_TEXT_CHARS, description="As `--group-by`.")] = None,
        where: Annotated[str | None, Query(max_length=MAX_TEXT_CHARS, description="As `--where`.")] = None,
    ) -> HTMLResponse:
        if sweep_dir is None or fronts is None:
            raise HTTPException(status_code=404, detail="no sweep: start the server with `stargate serve --sweep DIR`")
        key = await anyio.to_thread.run_sync(sweep_fingerprint, sweep_dir)
        # One worker holds the sweep in memory (loaded once per sweep state); each choice is computed once.
        try:
            answer = await pareto_pages.get((key, objectives, group_by, where), tasks.pareto_page, sweep_dir, key,
                                            objectives, group_by, where, seconds=PARETO_SECONDS, limit=PARETO_SECONDS)
        except InputError as e:  # damaged or foreign results: the server's state, not the request's fault
            raise HTTPException(status_code=503, detail=f"the sweep's results cannot be shown: {e}") from None
        page = json.loads(answer)
        return HTMLResponse(page["html"], status_code=page["status"])

    # The dashboard's script and style sheet (package files, fixed at start-up; no request names a file).
    app.mount("/static/app", StaticFiles(directory=str(resources.files("stargate.web") / "static")), name="static-app")

    @app.get("/static/plotly.min.js", response_class=Response,
             responses={200: {"description": "Plotly.js", "content": {"application/javascript": {}}}})
    async def plotly(request: Request) -> Response:
        headers = {"Cache-Control": "max-age=86400", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):  # 4.8 MB as 1.4 MB, compressed once
            packed = await anyio.to_thread.run_sync(_plotly_gzip)
            return Response(packed, media_type="application/javascript", headers=headers | {"Content-Encoding": "gzip"})
        js = await anyio.to_thread.run_sync(plotly_js)  # read once, then cached
        return Response(js, media_type="application/javascript", headers=headers)
