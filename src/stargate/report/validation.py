"""Validation for people: ``stargate validate``'s summaries of a runs file (the error on tokens/s per GPU
overall, by source and by accelerator, in-sample and cross-validated, then one line per row) and of a
reference clusters file (ours against each published band).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from stargate.errors import clip
from stargate.format import format_count, format_percent
from stargate.report.tables import _console, _figure, _safe, one_line_table, print_labelled


def render_validation(report: dict[str, Any], rows: bool = False) -> None:
    """Print the summary first (row counts, overall error, error by source and by accelerator), then one
    line per row; with ``rows``, the full per-row table (defaults taken, why a row was skipped).
    With cross-validation (``cross_validated``), its figures beside the in-sample ones."""
    report = _safe(report)
    c = _console()
    cv = report.get("cross_validated")
    s = report["summary"]
    c.print(f"predicted {s['predicted']} rows, skipped {s['skipped']}; with a measurement {s['with_measurement']}")
    for label, summary in (("in-sample", s), *(((f"leave-one-{report.get('cv_by')}-out", cv),) if cv else ())):
        o = summary.get("overall")
        if o:
            c.print(f"[bold]tokens/s per GPU, {label}: median |error| {format_percent(o['median_abs_error'], 1)}, "
                    f"p90 {format_percent(o['p90_abs_error'], 1)}, max {format_percent(o['max_abs_error'], 1)}, "
                    f"mean {100 * o['mean_error']:+.1f}%[/]")
    if s.get("trust_a"):
        o = s["trust_a"]
        c.print(f"[bold]trust A rows: median |error| {format_percent(o['median_abs_error'], 1)}, "
                f"p90 {format_percent(o['p90_abs_error'], 1)}[/]")
    for key in ("by_source", "by_family", "by_model", "by_scenario", "by_accelerator"):
        if key in s:
            _print_error_table(c, key, s[key], cv.get(key, {}) if cv else None, report.get("cv_by", ""))
    c.print(_validation_rows(report["rows"], bool(cv), rows, c.width))
    if not rows:
        c.print("[dim]defaults taken and reasons for skipped rows: --rows (or --json)[/]")


def _validation_rows(rows: list[dict[str, Any]], cv: bool, full: bool, width: int) -> Table:
    """Per-row predictions: one line each, or (``full``) with the defaults taken and the reasons for skips."""
    cols = ["run", "source", "accelerator", "measured", "predicted", "error", *(("CV error",) if cv else ())]
    cells_by_row = []
    for r in rows:
        measured = r["measured_tokens_per_s_per_gpu"]
        pred = r["predicted_tokens_per_s_per_gpu"]
        cells = [r["run_id"], r["source_id"], r["accelerator"], "" if measured is None else format_count(measured),
                 "skipped" if pred is None else format_count(pred), "" if r["error"] is None else f"{100 * r['error']:+.1f}%"]
        if cv:
            cells.append(f"{100 * r['cv_error']:+.1f}%" if r.get("cv_error") is not None else "")
        if full:
            cells.append(r["skipped"] or "; ".join(r["defaults"]))
        cells_by_row.append(cells)
    title = "Rows: tokens/s per GPU"
    if not full:
        return one_line_table(title, cols, cells_by_row, flexible=1, width=width, left=3)
    t = Table(title=title, title_justify="left")
    for i, col in enumerate([*cols, "defaults taken / skipped"]):
        t.add_column(col, justify="left" if i < 3 or col.startswith("defaults") else "right", overflow="fold")
    for cells in cells_by_row:
        t.add_row(*cells)
    return t


def render_clusters(report: dict[str, Any], rows: bool = False) -> None:
    """Print how many reference checks land inside their published band, then one line per check (ours,
    published, inside or not); with ``rows``, the full table with each band and its source."""
    report = _safe(report)
    c = _console()
    s = report["summary"]
    c.print(f"[bold]{s['inside']} of {s['rows']} checks inside their published band[/]")
    title = "Reference clusters: ours vs published"
    cols = ["row", "what", *(["metric"] if rows else []), "variant", "ours", "published", *(["band"] if rows else []), "",
            *(["source (full in --json)"] if rows else [])]
    lines = []
    for r in report["rows"]:
        unit = r["unit"]
        cells = [r["ref_id"], r["what"], *([r["metric"]] if rows else []), r["variant"], _figure(r["ours"], unit),
                 _figure(r["published"], unit)]
        if rows:
            cells.append(f"{_figure(r['low'], unit)}–{_figure(r['high'], unit)}")
        cells.append("[green]inside[/]" if r["inside"] else "[red]outside[/]")
        if rows:
            cells.append(f"{clip(r['source'].split(';')[0], 48)} ({r['date']})")
        lines.append(cells)
    if rows:
        t = Table(title=title, title_justify="left")
        for col in cols:
            t.add_column(col, overflow="fold", justify="right" if col in ("ours", "published", "band") else "left")
        for cells in lines:
            t.add_row(*cells)
    else:
        t = one_line_table(title, cols, lines, flexible=1, width=c.width, left=3)
    c.print(t)
    if not rows:
        c.print("[dim]bands and sources: --rows (or --json)[/]")


def _print_error_table(c: Console, key: str, stats: dict[str, Any], cv: dict[str, Any] | None, cv_by: str) -> None:
    """Error statistics by source or accelerator; cross-validated columns beside them when given."""
    title = key.replace("_", " ") + (f" (in-sample | leave-one-{cv_by}-out)" if cv is not None else "")
    cols = ["rows", "median |err|", "p90 |err|", "max |err|", "mean err"]
    if cv is not None:
        cols += ["CV median |err|", "CV p90 |err|", "CV mean err"]
    rows = {}
    for name, st in stats.items():
        cells = [str(st["rows"]), format_percent(st["median_abs_error"], 1), format_percent(st["p90_abs_error"], 1),
                 format_percent(st["max_abs_error"], 1), f"{100 * st['mean_error']:+.1f}%"]
        if cv is not None:
            h = cv.get(name)
            cells += ([format_percent(h["median_abs_error"], 1), format_percent(h["p90_abs_error"], 1),
                       f"{100 * h['mean_error']:+.1f}%"] if h else ["", "", ""])
        rows[name] = cells
    c.print(title)
    print_labelled(c, cols, rows, min_cell=7)
