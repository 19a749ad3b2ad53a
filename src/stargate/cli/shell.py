"""The ``stargate`` command line's shell: the typer app, its entry point, and what every command shares.

Heavy libraries (pydantic, numpy, pint, the catalog) are imported inside the commands, so
``stargate --help`` stays fast. Bad input of any kind ends with one line on stderr naming the
field, the value and what is allowed, and exit code 2; an internal error exits 1. The shared
parts are here: the option types, the bare-value options, JSON and CSV output, errors re-addressed
to the option as typed, progress bars on stderr, and the extras a command needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from stargate import __version__

app = typer.Typer(
    name="stargate",
    help="Plan and simulate AI supercomputers: budget, power, chips, racks, cooling, cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
catalog_app = typer.Typer(help="Browse the hardware, facility and energy catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="Your own catalog YAML, laid over the shipped one (same schema)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print the answer as one CSV table on stdout (docs/export.md).")]
ScaleOutOpt = Annotated[str | None, typer.Option(
    help="Scale-out rate per GPU instead of the accelerator's: '800 Gbit/s' (Microsoft's Fairwater GB200).")]
UncertaintyOpt = Annotated[str | None, typer.Option(
    "--uncertainty", metavar="[N]",
    help="Monte Carlo over every uncertain input (Latin hypercube): N samples, 1000 when given bare; "
         "adds P10/P50/P90 ranges of the headlines.")]
SeedOpt = Annotated[str | None, typer.Option(
    "--seed", metavar="<int>", help="Seed of the --uncertainty samples (default 0): the same seed, the same ranges.")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Address of a running Dask scheduler: tcp://HOST:PORT.")]
DaskLocalOpt = Annotated[
    str | None, typer.Option(help="Start a local Dask cluster of this many workers (1 to 256).", metavar="<int>")]
SamplesSchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Evaluate the --uncertainty samples on this running Dask scheduler: tcp://HOST:PORT.")]
SamplesDaskLocalOpt = Annotated[str | None, typer.Option(
    "--dask-local", help="Evaluate the --uncertainty samples on a local Dask cluster of this many workers (1 to 256).",
    metavar="<int>")]
OPTIONAL_VALUES = {"--uncertainty": "1000"}
"""Options whose value may be left out, and the value they then take (``--uncertainty`` alone: 1000 samples)."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stargate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Plan and simulate AI supercomputers."""


def _emit_csv(rows: list[list[Any]] | None, as_json: bool) -> None:
    """Print a table as CSV on stdout (``--csv``); ``--csv`` with ``--json`` is bad input."""
    from stargate.errors import InputError
    from stargate.report.export import csv_text

    if as_json:
        raise InputError("--csv", "--json", "either --json or --csv, not both")
    if rows is not None:
        sys.stdout.write(csv_text(rows))


def _with_bare_values(args: list[str]) -> list[str]:
    """``args`` with the value of each :data:`OPTIONAL_VALUES` option filled in where it was left out
    (the option last, or followed by another option or a word that is not a number; ``nan`` and ``inf`` count
    as numbers, so that they are refused as values of the option)."""
    import re

    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg in OPTIONAL_VALUES and "--" not in args[:i]:
            following = args[i + 1] if i + 1 < len(args) else None
            if following is None or not re.match(r"[+-]?(\.?\d|nan$|inf)", following, re.IGNORECASE):
                out.append(OPTIONAL_VALUES[arg])
    return out


def _uncertainty_options(uncertainty: str | None, seed: str | None, as_csv: bool = False) -> tuple[int, int]:
    """Samples and seed of ``--uncertainty [N]`` and ``--seed S`` (0 samples: no ranges)."""
    from stargate.errors import InputError
    from stargate.uncertainty.options import samples
    from stargate.uncertainty.options import seed as read_seed

    n, s = samples(uncertainty), read_seed(seed)
    if n and as_csv:
        raise InputError("--csv", "--uncertainty", "either --csv or --uncertainty (ranges are in --json and the text)")
    return n, s


def _samples_bar(n: int, title: str = "uncertainty", work: int | None = None) -> tuple[Any, Any]:
    """A progress bar on stderr for ``n`` samples and its ``tick(done, total)``: shown on a terminal when the
    work (``n`` samples of one model, or ``work`` evaluations) is long."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from stargate.uncertainty.options import PROGRESS_CHUNK

    if not ((work or n) > PROGRESS_CHUNK and sys.stderr.isatty()):  # no bar at all: a disabled one may still print a newline
        return contextlib.nullcontext(), lambda done, total: None
    bar = Progress(TextColumn(title), BarColumn(), MofNCompleteColumn(), TextColumn("samples"), TimeElapsedColumn(),
                   console=_stderr_console(), transient=True)
    task = bar.add_task(title, total=n)

    def tick(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, tick


def _ranged_text(render: Any) -> Any:
    """``render`` followed by the answer's ranges, where it has them."""
    from stargate.report.terminal import print_ranges

    def show(answer: Any) -> None:
        render(answer)
        data = answer.model_dump(mode="json") if hasattr(answer, "model_dump") else answer
        if data.get("ranges"):
            print_ranges(data)

    return show


def _emit(obj: Any, as_json: bool, render: Any) -> None:
    if as_json:  # strict JSON: a non-finite number is a bug, never printed as NaN or Infinity
        data = obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj
        sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
    else:
        render(obj)


def _as_typed(e: Any, options: dict[str, str], typed: dict[str, Any]) -> Any:
    """The error re-addressed to the user: the option they wrote (``--budget``, not ``budget_usd``)
    and the value as they typed it (``1e-9``, not a reformatted ``$0``)."""
    from stargate.errors import InputError

    head = e.field.removeprefix("workload.").split(".")[0]
    if head not in options:
        return e
    value = typed.get(head)
    return InputError(options[head], value if isinstance(value, str) else e.value, e.allowed)


def _require(what: str, extra: str) -> None:
    """Exit with one line naming the extra when ``what`` needs one that is not installed."""
    from stargate.extras import require

    require(what, extra)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _write_rows_csv(rows: list[dict[str, Any]], out: Path) -> None:
    """Rows of equal keys as a CSV file (empty for no rows), through the one CSV writer and an atomic
    write; an unwritable path is bad input."""
    from stargate.inputs import write_text_atomic
    from stargate.report.export import csv_text

    table = [list(rows[0]), *(list(r.values()) for r in rows)] if rows else []
    write_text_atomic(out, csv_text(table), "--out")


def main() -> None:
    """Entry point: run the app, turning every error into one line and an exit code."""
    from stargate.errors import InputError, clip

    try:
        code = app(args=_with_bare_values(sys.argv[1:]), standalone_mode=False, prog_name="stargate")
    except InputError as e:
        _fail(str(e), 2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted", 130)
    except Exception as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # bare `stargate` or `stargate catalog`: show help
            sys.stdout.write(e.format_message() + "\n")  # type: ignore[attr-defined]
            sys.exit(0)
        if getattr(e, "exit_code", None) == 2 and hasattr(e, "format_message"):  # a usage error from the parser
            _fail(clip(" ".join(e.format_message().split()), 600), 2)
        if os.environ.get("STARGATE_DEBUG"):
            raise
        _fail(f"internal error: {type(e).__name__}: {clip(str(e), 400)} (set STARGATE_DEBUG=1 for a traceback)", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"stargate: error: {message}\n")
    sys.exit(code)
