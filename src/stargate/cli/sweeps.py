"""The sweep commands: ``sweep`` (a design space into Parquet files), ``query`` (SQL over its results)
and ``pareto`` (its non-dominated designs), with the worker options (``--processes``, ``--scheduler``,
``--dask-local``) that choose where the work runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from stargate.cli.shell import DaskLocalOpt, JsonOpt, SchedulerOpt, _emit, _require, _stderr_console, _write_rows_csv


def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec YAML (axes, fixed, constraints, objectives).")],
    out: Annotated[Path, typer.Option("--out", help="Results directory; re-running on it resumes.")],
    processes: Annotated[
        str | None, typer.Option(help="Local worker processes, 1 to 256 (default 1: in this process).", metavar="<int>")
    ] = None,
    scheduler: SchedulerOpt = None,
    dask_local: DaskLocalOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Run a sweep larger than the spec's max_points.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a design-space sweep into Parquet files (resumable; damaged or foreign chunks are recomputed)."""
    _require("'stargate sweep'", "sweep")
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from stargate.errors import InputError, clip
    from stargate.inputs import MAX_YAML_BYTES, load_yaml, read_text_file
    from stargate.scenario import validate
    from stargate.sweep.engine import run_sweep
    from stargate.sweep.spec import SweepSpec

    procs, workers = _sweep_backend(processes, scheduler, dask_local)
    text = read_text_file(spec, "spec", MAX_YAML_BYTES)
    sw = validate(SweepSpec, load_yaml(text, f"spec {spec.name}"), f"spec {spec.name}")
    sw.check()
    if sw.size > sw.max_points and not yes:
        raise InputError("spec", f"{sw.size:,} points", f"at most max_points={sw.max_points:,} without --yes")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
               TimeElapsedColumn(), TimeRemainingColumn())
    bar = Progress(*columns, console=_stderr_console(), disable=as_json)
    task = bar.add_task(escape(f"sweep {clip(sw.name, 60)} ({sw.size:,} points)"), total=None)

    def tick(done: int, total: int) -> None:
        if not bar.live.is_started:  # shown once chunks arrive: an error before that stays one line
            bar.start()
        bar.update(task, completed=done, total=total)

    def warn(message: str) -> None:
        bar.console.print(f"stargate: warning: {clip(message, 600)}", markup=False, highlight=False, soft_wrap=True)

    try:
        counts = run_sweep(sw, out, procs, scheduler, workers, tick, warn)
    finally:
        if bar.live.is_started:
            bar.stop()
    _emit(counts, as_json, lambda c: typer.echo(
        f"{c['points']:,} points in {c['chunks']} chunks: {c['computed']} computed, {c['skipped']} already done"
        + (f", {len(c['repaired'])} recomputed after failing verification" if c["repaired"] else "")
        + f" -> {clip(str(out), 200)}"))


def _sweep_backend(processes: str | None, scheduler: str | None, dask_local: str | None) -> tuple[int, int]:
    """``--processes`` and ``--dask-local`` as whole numbers from 1 to 256, and at most one backend."""
    from stargate.errors import InputError
    from stargate.sweep.engine import check_options

    if processes is not None and (scheduler is not None or dask_local is not None):
        raise InputError("--processes", processes, "no --processes with --scheduler or --dask-local (Dask's workers run the chunks)")
    procs = _workers("--processes", processes) if processes is not None else 1
    workers = _dask_backend(scheduler, dask_local)
    check_options(procs, scheduler, workers)
    if scheduler is not None or dask_local is not None:
        _require("--scheduler" if scheduler is not None else "--dask-local", "dask")
    return procs, workers


def _workers(option: str, text: str) -> int:
    """A number of worker processes as typed: a whole number from 1 to 256."""
    import re

    from stargate.dask_client import MAX_WORKERS
    from stargate.errors import InputError

    if not re.fullmatch(r"\s*[+-]?\d{1,9}\s*", text) or not 1 <= int(text) <= MAX_WORKERS:
        raise InputError(option, text, f"a whole number from 1 to {MAX_WORKERS}")
    return int(text)


def _dask_backend(scheduler: str | None, dask_local: str | None) -> int:
    """Local Dask workers of ``--dask-local`` (0 without), the options checked (the dask extra is for the
    caller to require: a sweep at once, a Monte Carlo only with samples)."""
    from stargate.dask_client import check_backend
    from stargate.errors import InputError

    if scheduler is not None and dask_local is not None:
        raise InputError("--dask-local", dask_local, "either --scheduler or --dask-local, not both")
    workers = _workers("--dask-local", dask_local) if dask_local is not None else 0
    check_backend(scheduler, workers)
    return workers


def query(
    results: Annotated[Path, typer.Argument(metavar="DIR", help="Sweep results directory.")],
    sql: Annotated[str, typer.Argument(help="One read-only SQL query over the table `results`.")],
    as_json: JsonOpt = False,
) -> None:
    """Run DuckDB SQL over a sweep's verified results (table `results`); it reads no other file."""
    _require("'stargate query'", "sweep")
    from stargate.report.terminal import render_rows
    from stargate.sweep.query import json_rows, run_query

    rows = run_query(results, sql)
    _emit(json_rows(rows) if as_json else rows, as_json, render_rows)


def pareto(
    results: Annotated[Path, typer.Argument(metavar="DIR", help="Sweep results directory.")],
    objectives: Annotated[str, typer.Option(help="Columns to minimise, comma-separated; prefix - to maximise.")] = "capex_usd,time_to_train_s,facility_power_w",
    where: Annotated[str | None, typer.Option(
        "--where", help="Keep designs meeting COLUMN OP VALUE conditions, comma-separated: "
                        "'accelerator=gb200|gb300,gpus_built>=100000,capex_usd<$50B'.")] = None,
    group_by: Annotated[str | None, typer.Option(
        "--group-by", help="One front per value of these columns, comma-separated, or 'none'; "
                           "default: model and training_tokens when the sweep varies them.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the front to this CSV.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The non-dominated designs of a sweep (feasible ones that meet its constraints), one front per group."""
    _require("'stargate pareto'", "sweep")
    from stargate.errors import InputError
    from stargate.report.terminal import render_front
    from stargate.sweep.pareto import open_front, parse_objectives
    from stargate.sweep.query import json_rows

    options = {"objectives": "--objectives", "where": "--where", "group_by": "--group-by"}
    bar, tick = _steps_bar("pareto", show=not as_json)
    try:
        objs = parse_objectives(objectives)
        front = open_front(results, objs, where, group_by, tick)
    except InputError as e:
        raise InputError(options.get(e.field, e.field), e.value, e.allowed) from None
    finally:
        if bar.live.is_started:
            bar.stop()
    if out is not None:
        _write_rows_csv(front.rows, out)
    _emit(json_rows(front.rows) if as_json else front, as_json, render_front)


def _steps_bar(title: str, show: bool) -> tuple[Any, Any]:
    """A transient progress bar on a terminal's stderr, shown once work starts, and its ``tick(what, done, total)``."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = _stderr_console()
    show = show and console.is_terminal  # transient: on a pipe or a file it would only leave a blank line
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, disable=not show, transient=True)
    task = bar.add_task(escape(title), total=None)

    def tick(what: str, done: int, total: int) -> None:
        if show and not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total, description=escape(f"{title}: {what}"))

    return bar, tick
