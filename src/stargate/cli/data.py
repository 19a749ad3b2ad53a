"""The commands on the project's data and services: ``validate`` (predictions against runs and
reference clusters files), ``serve`` (the web dashboard), ``schema`` (JSON Schemas of the input files)
and ``catalog list`` / ``catalog show``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from stargate.cli.shell import CatalogOpt, JsonOpt, _emit, _require, _stderr_console, _write_rows_csv


def validate_cmd(
    runs: Annotated[Path, typer.Argument(help="Runs CSV: training (published_runs.csv format), serving (inference_runs.csv format), or a reference clusters CSV (clusters.csv).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write per-row predictions to this CSV.")] = None,
    cv: Annotated[str | None, typer.Option(
        "--cv", help="Also refit without each source (or accelerator generation) and predict it: source or generation.",
        metavar="source|generation")] = None,
    full_rows: Annotated[bool, typer.Option("--rows", help="The full per-row table: defaults taken, skip reasons, bands, sources.")] = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict every row of a training or serving runs file and report the error on tokens/s per GPU; for a
    reference clusters file, reproduce every row and report ours against its published band."""
    from stargate.catalog import Catalog
    from stargate.inputs import check_writable
    from stargate.report.terminal import render_validation
    from stargate.training.crossval import add_cross_validation, check_cv
    from stargate.training.validate import read_runs, summarize, validate_runs, write_predictions

    if cv is not None:
        check_cv(cv)
    if out is not None:
        check_writable(out, "--out")
    if _is_clusters(runs):
        return _validate_clusters(runs, out, cv, Catalog.load(catalog), as_json, full_rows)
    rows, cat = read_runs(runs), Catalog.load(catalog)
    if _is_serving(rows):
        return _validate_serving(rows, out, cv, cat, as_json, full_rows)
    results = validate_runs(rows, cat)
    if out is not None:
        write_predictions(results, out)
    report = {"summary": summarize(results), "rows": [r.as_dict() for r in results]}
    if cv is not None:
        bar, tick = _fits_bar(f"cross-validation by {cv}", show=sys.stderr.isatty() or not as_json)
        with bar:
            report = add_cross_validation(report, rows, cv, cat, tick)
    _emit(report, as_json, lambda r: render_validation(r, full_rows))


def _is_clusters(path: Path) -> bool:
    """Whether a file's header is a clusters file's (reference clusters, not training runs)."""
    import csv

    from stargate.inputs import read_text_file
    from stargate.references.clusters import is_clusters_file

    text = read_text_file(path, "runs")
    first = text.splitlines()[0] if text else ""  # any line ending: \n, \r\n or a bare \r
    try:
        header = next(csv.reader([first]), [])
    except csv.Error:  # not a CSV header this reader can take: the runs reader words the error
        return False
    return is_clusters_file(header)


def _is_serving(rows: list[dict[str, str]]) -> bool:
    """Whether a runs file is a serving runs file (inference_runs.csv format), by its columns."""
    from stargate.inference.validate import is_serving_file

    return bool(rows) and is_serving_file(list(rows[0]))


def _validate_serving(rows: list[dict[str, str]], out: Path | None, cv: str | None, cat: Any, as_json: bool,
                      full_rows: bool) -> None:
    """Predict every row of a serving runs file; with ``--cv source``, the leave-one-source-out figures beside."""
    from stargate.errors import InputError
    from stargate.inference.validate import summarize_serving, validate_serving, write_serving_predictions
    from stargate.report.terminal import render_validation

    if cv is not None and cv != "source":
        raise InputError("--cv", cv, "source (a serving runs file has no training generations to leave out)")
    results = validate_serving(rows, cat)
    trust = {r.get("run_id", ""): r.get("trust", "") for r in rows}
    if out is not None:
        write_serving_predictions(results, out)
    report: dict[str, Any] = {"kind": "serving", "summary": summarize_serving(results, trust),
                              "rows": [r.as_dict() for r in results]}
    if cv is not None:
        from stargate.inference.calibration import cross_validate

        bar, tick = _fits_bar("cross-validation by source", show=sys.stderr.isatty() or not as_json)
        with bar:
            held = cross_validate(rows, cat, tick)
        report.update(cv_by="source", cross_validated=summarize_serving(held, trust))
        for row, h in zip(report["rows"], held, strict=True):
            d = h.as_dict()
            row.update(cv_predicted_tokens_per_s_per_gpu=d["predicted_tokens_per_s_per_gpu"], cv_error=d["error"])
    _emit(report, as_json, lambda r: render_validation(r, full_rows))


def _validate_clusters(path: Path, out: Path | None, cv: str | None, cat: Any, as_json: bool, full_rows: bool = False) -> None:
    """Reproduce every row of a clusters file and report ours against the published band."""
    from stargate.errors import InputError
    from stargate.references.clusters import read_clusters
    from stargate.references.metrics import check_clusters
    from stargate.report.terminal import render_clusters

    if cv is not None:
        raise InputError("--cv", cv, "nothing for a clusters file (it holds no fitted figures)")
    checks = [c.as_dict() for c in check_clusters(read_clusters(path), cat)]
    report = {"kind": "clusters", "rows": checks, "summary": {"rows": len(checks), "inside": sum(c["inside"] for c in checks)}}
    if out is not None:
        _write_rows_csv(checks, out)
    _emit(report, as_json, lambda r: render_clusters(r, full_rows))


def _fits_bar(title: str, show: bool) -> tuple[Any, Any]:
    """A progress bar on stderr (hidden unless ``show``) and its ``tick(done, total, what)``, counting fits."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from stargate.errors import clip

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("fits"),
                   TimeElapsedColumn(), console=_stderr_console(), disable=not show, transient=True)
    task = bar.add_task(escape(title), total=None)

    def tick(done: int, total: int, what: str) -> None:
        bar.update(task, completed=done, total=total, description=escape(f"{title}: {clip(what, 60)}"))

    return bar, tick


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    sweep: Annotated[Path | None, typer.Option(help="A sweep results directory for the /pareto page.")] = None,
) -> None:
    """Serve the web dashboard and the JSON API (http://127.0.0.1:8000/)."""
    _require("'stargate serve'", "web")
    if sweep is not None:
        _require("--sweep", "sweep")
    from stargate.web.server import bind, run_server

    if sweep is not None:
        from stargate.sweep.store import connect

        connect(sweep)  # fail now, with one line, if it is not a sweep directory
    sock = bind(host, port)  # a bad --host or --port, or a busy port: one line, exit 2
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Stargate dashboard on http://{shown}:{port}/ (API docs at /docs)", err=True)
    run_server(sock, host, sweep)


def schema(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="scenario or catalog (an overlay for --catalog).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write it to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of a scenario or catalog file, for an editor's completion and checks."""
    from stargate.inputs import write_text_atomic
    from stargate.schemas import schema_text

    text = schema_text(kind)
    if output is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(output, text, "--output")


def catalog_list(
    kind: Annotated[str | None, typer.Argument(help="Section, e.g. accelerators, systems, switches, media (all when left out).")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List catalog entries, all sections or one."""
    from stargate.catalog import Catalog
    from stargate.catalog.schema import KINDS
    from stargate.report.terminal import render_catalog_list

    cat = Catalog.load(catalog)
    kinds = [Catalog.kind(kind)] if kind else list(KINDS)
    listing = {k: [e.model_dump(mode="json") for e in cat.entries(k)] for k in kinds}
    for s in listing.get("systems", []):  # a system without a year of its own ships with its accelerator
        s["year"] = s["year"] or cat.accelerator(s["accelerator"]).year
    _emit(listing, as_json, render_catalog_list)


def catalog_show(
    entry_id: Annotated[str, typer.Argument(
        metavar="[KIND/]ID", help="Entry id or accelerator alias; KIND/ID for an id several sections use (finance/default).")],
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one catalog entry with every number and its source."""
    from stargate.catalog import Catalog
    from stargate.catalog.bands import entry_bands
    from stargate.report.terminal import render_entry

    kind, entry = Catalog.load(catalog).find(entry_id)
    # "section" names the catalog section even where an entry has a "kind" field of its own (media, energy sources);
    # "bands" holds every uncertain number's P10-P90 and its basis (the entry's sourced bands among them)
    _emit({"kind": kind, **entry.model_dump(mode="json"), "section": kind, "bands": entry_bands(entry, kind)},
          as_json, render_entry)
