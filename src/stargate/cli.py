"""The ``stargate`` command line: a thin shell over the core.

Heavy libraries (pydantic, numpy, pint, the catalog) are imported inside the commands, so
``stargate --help`` stays fast. Bad input of any kind ends with one line on stderr naming the
field, the value and what is allowed, and exit code 2; an internal error exits 1.
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
from stargate.enums import Cooling, Fabric, Topology

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


_DESIGN_OPTIONS = {
    "accelerator": "--accelerator", "gpus": "--gpus", "budget_usd": "--budget", "power_w": "--power",
    "fabric": "--fabric", "system": "--system", "energy_source": "--energy",
    "systems_per_rack": "--systems-per-rack", "cooling": "--cooling", "wacc_per_year": "--wacc", "year": "--year",
    "scale_out_bits_per_s": "--scale-out",
}


@app.command()
def design(
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias (see `stargate catalog list accelerators`).")],
    gpus: Annotated[str | None, typer.Option(help="Size by number of accelerators: 100000, 100k, 1e5.", metavar="<int>")] = None,
    budget: Annotated[str | None, typer.Option(help="Size by capital budget in USD: 100e9, '$100B'.")] = None,
    power: Annotated[str | None, typer.Option(help="Size by facility power cap: '5 GW', '300 MW'.")] = None,
    fabric: Annotated[Fabric, typer.Option(help="Scale-out network family.")] = Fabric.INFINIBAND,
    system: Annotated[str | None, typer.Option(help="System id; default: the accelerator's usual system.")] = None,
    energy: Annotated[str, typer.Option(help="Energy source id (see `stargate catalog list energy_sources`).")] = "grid-us",
    systems_per_rack: Annotated[
        str | None, typer.Option(help="Systems per rack; default: reference packing.", metavar="<int>")
    ] = None,
    cooling: Annotated[Cooling | None, typer.Option(help="Force a cooling technology.")] = None,
    wacc: Annotated[
        str | None,
        typer.Option(help="Cost of capital per year as a fraction (0.08); default: the finance entry's.", metavar="<float>"),
    ] = None,
    year: Annotated[str | None, typer.Option(
        help="Year the cluster is built: its parts must ship by then; the network uses the switches on sale.",
        metavar="<int>")] = None,
    scale_out: ScaleOutOpt = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    uncertainty: UncertaintyOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Design one cluster, sized by exactly one of --gpus, --budget or --power (or a range of one: 90e9..110e9)."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.report.terminal import render_design
    from stargate.scenario import DesignRequest, validate
    from stargate.uncertainty.design import design_answer
    from stargate.uncertainty.options import typed_ranges

    raw = {
        "accelerator": accelerator, "gpus": gpus, "budget_usd": budget, "power_w": power, "fabric": fabric,
        "system": system, "energy_source": energy, "systems_per_rack": systems_per_rack, "cooling": cooling,
        "wacc_per_year": wacc, "year": year, "scale_out_bits_per_s": scale_out,
    }
    sizes = {"gpus": gpus, "budget": budget, "power": power}
    sized = [k for k, v in sizes.items() if v is not None]
    if len(sized) != 1:
        got = ", ".join(f"--{k}" for k in sized) or "none"
        raise InputError("sizing", got, "exactly one of --gpus, --budget, --power")
    n, s = _uncertainty_options(uncertainty, seed, as_csv)
    bar, tick = _samples_bar(n)
    try:
        point, ranges = typed_ranges({k: v for k, v in raw.items() if v is not None}, _DESIGN_OPTIONS)
        request = validate(DesignRequest, point)
        with bar:
            result = design_answer(request, Catalog.load(catalog), ranges, n, s, tick)
    except InputError as e:
        raise _as_typed(e, _DESIGN_OPTIONS, raw) from None
    if as_csv:
        return _csv_answer(result, as_json)
    _emit(result, as_json, _ranged_text(render_design))


def _as_typed(e: Any, options: dict[str, str], typed: dict[str, Any]) -> Any:
    """The error re-addressed to the user: the option they wrote (``--budget``, not ``budget_usd``)
    and the value as they typed it (``1e-9``, not a reformatted ``$0``)."""
    from stargate.errors import InputError

    head = e.field.removeprefix("workload.").split(".")[0]
    if head not in options:
        return e
    value = typed.get(head)
    return InputError(options[head], value if isinstance(value, str) else e.value, e.allowed)


@app.command()
def plan(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML; default: the built-in Stargate scenario.")] = None,
    builtin: Annotated[str | None, typer.Option(help="A built-in scenario by name (stargate, stargate-amd-ethernet, ...).")] = None,
    scaling_law: Annotated[str, typer.Option(help="besiroglu2024 (default) or chinchilla.")] = "besiroglu2024",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also write the HTML report to this file.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    xlsx: Annotated[Path | None, typer.Option(
        "--xlsx", help="Also write an Excel workbook: one sheet per table and the sources (docs/export.md).")] = None,
    uncertainty: UncertaintyOpt = None,
    seed: SeedOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Evaluate the --uncertainty samples on this running Dask scheduler: tcp://HOST:PORT.")] = None,
    dask_local: Annotated[str | None, typer.Option(
        help="Evaluate the --uncertainty samples on a local Dask cluster of this many workers (1 to 256).",
        metavar="<int>")] = None,
) -> None:
    """Run the whole chain for every phase of a scenario (a phase's budget, power or GPUs may be a range: 90e9..110e9)."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.inputs import check_writable
    from stargate.plan import run_plan
    from stargate.report.terminal import render_plan

    n, s = _uncertainty_options(uncertainty, seed, as_csv)
    dask = _samples_dask(n, scheduler, dask_local)
    sc, ranges = _scenario_ranges(scenario, builtin)
    if output is not None:
        check_writable(output, "--output")
    if as_csv:
        _emit_csv(None, as_json)
    if xlsx is not None:
        check_writable(xlsx, "--xlsx")
    cat = Catalog.load(catalog)
    try:
        result = run_plan(sc, cat, scaling_law)
    except InputError as e:
        raise _as_typed(e, {"scaling_law": "--scaling-law"}, {"scaling_law": scaling_law}) from None
    result = _plan_ranges(sc, cat, result, n, s, scaling_law, ranges, dask)
    if output is not None:
        _write_report(result, cat, output)
    if xlsx is not None:
        _write_workbook(result, cat, xlsx)
    if as_csv:
        from stargate.report.export import plan_rows

        return _emit_csv(plan_rows(result), as_json)
    _emit(result, as_json, _render_ranged_plan if n else render_plan)


def _plan_ranges(sc: Any, cat: Any, result: Any, n: int, seed: int, law: str, ranges: list[Any],
                 dask: tuple[str | None, int] = (None, 0)) -> Any:
    """The plan with its typed ranges noted and, with ``n`` samples, its ranges (on Dask with ``dask``:
    ``(scheduler, local workers)``); a progress bar on a terminal's stderr."""
    if not n and not any(ranges):
        return result
    from stargate.uncertainty.plan import ranged_plan

    bar, tick = _samples_bar(n, "plan uncertainty", n * len(sc.phases))
    with bar:
        return ranged_plan(sc, cat, result, n, seed, tick, law=law, ranges=ranges, scheduler=dask[0], dask_local=dask[1])


def _samples_dask(n: int, scheduler: str | None, dask_local: str | None) -> tuple[str | None, int]:
    """``--scheduler`` / ``--dask-local`` of a command whose ``--uncertainty`` samples they evaluate."""
    from stargate.errors import InputError

    workers = _dask_backend(scheduler, dask_local)
    if not n and (scheduler is not None or dask_local is not None):
        option, value = ("--scheduler", scheduler) if scheduler is not None else ("--dask-local", dask_local)
        raise InputError(option, value, "only with --uncertainty N (Dask's workers evaluate its samples)")
    return scheduler, workers


def _render_ranged_plan(result: Any) -> None:
    """A plan's summary, then its phases' headlines as P50 (P10–P90)."""
    from stargate.report.plan_ranges import render_plan_ranges
    from stargate.report.terminal import render_plan

    render_plan(result)
    render_plan_ranges(result)


def _scenario_ranges(path: Path | None, builtin: str | None) -> tuple[Any, list[Any]]:
    """The scenario (as :func:`_scenario`) and the sizing ranges its phases type (``budget_usd: 90e9..110e9``)."""
    from stargate.plan import read_scenario
    from stargate.uncertainty.plan import scenario_with_ranges

    if path is None or builtin is not None:
        sc = _scenario(path, builtin)
        return sc, [{} for _ in sc.phases]
    return scenario_with_ranges(*read_scenario(path))


@app.command()
def sensitivity(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML; default: the built-in Stargate scenario.")] = None,
    builtin: Annotated[str | None, typer.Option(help="A built-in scenario by name (stargate, stargate-amd-ethernet, ...).")] = None,
    phase: Annotated[str | None, typer.Option(help="The phase, by number (1: the first) or name; default: the last.")] = None,
    samples: Annotated[str | None, typer.Option(
        help="Base samples N of the Sobol design, a power of two from 16 to 65536 (default 512): N x (inputs + 2) "
             "evaluations.", metavar="<int>")] = None,
    seed: Annotated[str | None, typer.Option(help="Seed of the Sobol design (default 0).", metavar="<int>")] = None,
    no_sobol: Annotated[bool, typer.Option("--no-sobol", help="One-at-a-time swings only (no SALib needed).")] = False,
    scaling_law: Annotated[str, typer.Option(help="besiroglu2024 (default) or chinchilla.")] = "besiroglu2024",
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which uncertain inputs move each headline of a plan's phase most: one-at-a-time swings and Sobol indices."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.plan import run_plan
    from stargate.report.plan_ranges import render_sensitivity
    from stargate.uncertainty.options import seed as read_seed
    from stargate.uncertainty.plan import phase_index, plan_sensitivity, sobol_base

    base = sobol_base(samples) if samples is not None else 512
    s = read_seed(seed)
    if not no_sobol:
        _require("'stargate sensitivity' (or --no-sobol)", "uncertainty")
    sc, ranges = _scenario_ranges(scenario, builtin)
    cat = Catalog.load(catalog)
    try:
        result = run_plan(sc, cat, scaling_law)
    except InputError as e:
        raise _as_typed(e, {"scaling_law": "--scaling-law"}, {"scaling_law": scaling_law}) from None
    i = phase_index(result, phase)
    _emit(plan_sensitivity(sc, cat, result, i, base, s, not no_sobol, scaling_law, ranges[i]), as_json, render_sensitivity)


def _write_workbook(result: Any, cat: Any, path: Path) -> None:
    from stargate.inputs import write_bytes_atomic
    from stargate.report.export import plan_workbook
    from stargate.report.html import used_sources

    plan = result.model_dump(mode="json")
    write_bytes_atomic(path, plan_workbook(plan, used_sources(plan, cat)), "--xlsx")


def _csv_answer(answer: Any, as_json: bool) -> None:
    from stargate.report.export import answer_rows

    _emit_csv(answer_rows(answer), as_json)


def _scenario(path: Path | None, builtin: str | None) -> Any:
    """The scenario file, or a built-in scenario; both at once is an error."""
    from stargate.errors import InputError
    from stargate.plan import builtin_scenario, load_scenario

    if path is not None and builtin is not None:
        raise InputError("--builtin", builtin, "either a scenario file or --builtin, not both")
    if path is not None:
        return load_scenario(path)
    try:
        return builtin_scenario(builtin or "stargate")
    except InputError as e:
        raise InputError("--builtin", builtin, e.allowed) from None


def _write_report(result: Any, cat: Any, output: Path, others: list[tuple[str, dict[str, Any]]] | None = None,
                  label: str = "", sensitivity: dict[str, Any] | None = None) -> None:
    from stargate.inputs import write_text_atomic
    from stargate.report.html import render_report

    plan = result if isinstance(result, dict) else result.model_dump(mode="json")
    comparison = None
    if others:  # the report's plan first, then the others, with deltas against it
        from stargate.compare import compare

        comparison = compare([(label, plan), *others])
    write_text_atomic(output, render_report(plan, cat, comparison=comparison, sensitivity=sensitivity), "--output")


def _plans_to_compare(paths: list[Path], cat: Any) -> list[tuple[str, dict[str, Any]]]:
    """``report --compare`` files as ``(file name, plan JSON)``: scenarios are planned, saved plans read."""
    from stargate.answers import load_answer
    from stargate.errors import InputError

    plans = []
    for path in paths:
        kind, answer = load_answer(path, cat, "--compare")
        if kind != "plan":
            raise InputError("--compare", str(path), f"a scenario YAML or the JSON of `plan --json` (this is a {kind})")
        plans.append((path.name, answer))
    return plans


@app.command()
def report(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML; default: the built-in Stargate scenario.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path("report.html"),
    builtin: Annotated[str | None, typer.Option(help="A built-in scenario by name.")] = None,
    compare: Annotated[list[Path] | None, typer.Option(
        "--compare", metavar="FILE", help="Another scenario YAML (or `plan --json` file) to set beside this plan, with the deltas "
                          "and what accounts for them.")] = None,
    catalog: CatalogOpt = None,
    uncertainty: Annotated[str | None, typer.Option(
        "--uncertainty", metavar="[N]", help="Samples of the Monte Carlo behind the report's P10–P90 whiskers, fan charts "
                                             "and tornados (its How sure section): 500 unless given, 1000 when given "
                                             "bare, 0 leaves them out.")] = None,
    seed: SeedOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Evaluate the --uncertainty samples on this running Dask scheduler: tcp://HOST:PORT.")] = None,
    dask_local: Annotated[str | None, typer.Option(
        help="Evaluate the --uncertainty samples on a local Dask cluster of this many workers (1 to 256).",
        metavar="<int>")] = None,
) -> None:
    """Write a self-contained, offline HTML report of a plan (charts, tables, sources, and how sure each figure is)."""
    from stargate.catalog import Catalog
    from stargate.inputs import check_writable
    from stargate.plan import DEFAULT_LAW, run_plan
    from stargate.report.uncertainty import REPORT_SAMPLES

    n, s = _uncertainty_options(str(REPORT_SAMPLES) if uncertainty is None else uncertainty, seed)
    dask = _samples_dask(n, scheduler, dask_local)
    sc, ranges = _scenario_ranges(scenario, builtin)
    check_writable(output, "--output")
    cat = Catalog.load(catalog)
    others = _plans_to_compare(compare or [], cat)
    point = run_plan(sc, cat)
    result = _plan_ranges(sc, cat, point, n, s, DEFAULT_LAW, ranges, dask)
    sensitivity = _last_phase_sensitivity(sc, cat, point, s, ranges[-1]) if n else None
    _write_report(result, cat, output, others, scenario.name if scenario else (builtin or "stargate"), sensitivity)
    typer.echo(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB)")


def _last_phase_sensitivity(sc: Any, cat: Any, point: Any, seed: int, ranges: Any) -> dict[str, Any]:
    """The report's tornados: the last phase's inputs ranked, with Sobol indices where the uncertainty extra is installed."""
    from stargate.errors import MissingExtra
    from stargate.extras import require
    from stargate.uncertainty.plan import plan_sensitivity

    try:
        require("Sobol indices", "uncertainty")
        sobol = True
    except MissingExtra:
        sobol = False
    return plan_sensitivity(sc, cat, point, seed=seed, with_sobol=sobol, ranges=ranges or None)


@app.command()
def fabric(
    gpus: Annotated[str, typer.Option(help="Accelerators on the fabric: 49152, 49,152, 100k.", metavar="<int>")],
    fabric: Annotated[Fabric, typer.Option(help="Fabric family.")] = Fabric.INFINIBAND,
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias: sets the per-GPU rate.")] = "h100",
    topology: Annotated[Topology, typer.Option(help="Rail-optimized Clos or classic fat-tree.")] = Topology.RAIL_OPTIMIZED,
    oversubscription: Annotated[str, typer.Option(help="Down/up ratio per tier from the leaf up: '1' or '1,3'.")] = "1",
    planes: Annotated[
        str | None, typer.Option(help="Planes each GPU's NIC is split over (default: the cheapest).", metavar="<int>")] = None,
    switch: Annotated[str | None, typer.Option(help="Switch id; default: the cheapest of the family's switches.")] = None,
    tiers: Annotated[str | None, typer.Option(help="Force the number of tiers.", metavar="<int>")] = None,
    pod_gpus: Annotated[
        str | None, typer.Option(help="GPUs of a non-blocking pod (24k); the tier above is tapered.", metavar="<int>")] = None,
    taper: Annotated[str | None, typer.Option(help="Down/up ratio above each pod (with --pod-gpus; Meta: 7).")] = None,
    year: Annotated[str | None, typer.Option(
        help="Year the fabric is built: the switches on sale by then (default: the accelerator's first year).",
        metavar="<int>")] = None,
    scale_out: ScaleOutOpt = None,
    compare: Annotated[bool, typer.Option("--compare", help="InfiniBand and Ethernet side by side.")] = False,
    sharp: Annotated[bool, typer.Option("--sharp", help="In-network reduction (SHARP/NVLS) where the switches have it.")] = False,
    sites: Annotated[str | None, typer.Option(help="Spread the job over this many sites.", metavar="<int>")] = None,
    site_distance: Annotated[
        str | None, typer.Option(help="Fibre route between adjacent sites (with --sites; default '100 km').")] = None,
    fiber_pairs: Annotated[
        str | None, typer.Option(help="Fibre pairs per site link (with --sites; default 4).", metavar="<int>")] = None,
    gradient: Annotated[
        str | None, typer.Option(help="Gradient of one replica, reduced every step (with --sites; default '810 GB').")] = None,
    model_parallel: Annotated[
        str | None, typer.Option(help="GPUs one replica spans (default: a scale-up domain).", metavar="<int>")
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    uncertainty: UncertaintyOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Design the scale-out network: tiers, switches, links, optics, cost, power, bandwidth."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.fabric.design import FabricRequest
    from stargate.fabric.report import fabric_report
    from stargate.report.terminal import render_fabric
    from stargate.scenario import validate
    from stargate.uncertainty.design import fabric_model
    from stargate.uncertainty.options import with_ranges

    raw = {
        "gpus": gpus, "fabric": fabric, "accelerator": accelerator, "topology": topology, "planes": planes,
        "switch": switch, "tiers": tiers, "sharp": sharp, "pod_gpus": pod_gpus, "taper": taper, "year": year,
        "scale_out_bits_per_s": scale_out, "oversubscription": [x.strip() for x in oversubscription.split(",")],
    }
    site = {"sites": sites, "distance": site_distance or "100 km", "fiber_pairs": fiber_pairs or "4",
            "gradient": gradient or "810 GB", "model_parallel": model_parallel} if sites is not None else None
    if sites is None:
        _refuse_ignored({"--site-distance": site_distance, "--fiber-pairs": fiber_pairs, "--gradient": gradient,
                         "--model-parallel": model_parallel}, "only with --sites (it describes the site links)")
    if compare and switch is not None:
        raise InputError("--switch", switch, "no --switch with --compare (each family uses its own switch)")
    typed = {**raw, "oversubscription": oversubscription, "distance_m": site_distance, "site_distance": site_distance,
             "fiber_pairs": fiber_pairs, "gradient_bytes": gradient, "model_parallel": model_parallel}
    n, s = _uncertainty_options(uncertainty, seed, as_csv)
    if n and (compare or sites is not None):
        raise InputError("--uncertainty", uncertainty or "", "one fabric: not with --compare or --sites")
    try:
        cat = Catalog.load(catalog)
        given = {k: v for k, v in raw.items() if v is not None}
        report = fabric_report(given, cat, compare, site)
    except InputError as e:
        raise _as_typed(e, _FABRIC_OPTIONS, typed) from None  # "oversubscription.1": the one --oversubscription
    if as_csv:
        return _csv_answer(report, as_json)
    if n:
        bar, tick = _samples_bar(n)
        with bar:
            report = with_ranges(report, fabric_model(validate(FabricRequest, given), cat), n, s, tick)
    _emit(report, as_json, _ranged_text(render_fabric))


def _refuse_ignored(options: dict[str, Any], allowed: str) -> None:
    """Options given where they have no effect are an error, not silently ignored."""
    from stargate.errors import InputError

    for name, value in options.items():
        if value is not None:
            raise InputError(name, value, allowed)


_FABRIC_OPTIONS = {
    "gpus": "--gpus", "fabric": "--fabric", "accelerator": "--accelerator", "topology": "--topology",
    "planes": "--planes", "switch": "--switch", "tiers": "--tiers", "pod_gpus": "--pod-gpus", "taper": "--taper", "sites": "--sites",
    "year": "--year", "scale_out_bits_per_s": "--scale-out",
    "distance_m": "--site-distance", "site_distance": "--site-distance", "fiber_pairs": "--fiber-pairs",
    "gradient_bytes": "--gradient", "model_parallel": "--model-parallel", "oversubscription": "--oversubscription",
}


@app.command(name="train")
def train_cmd(
    model: Annotated[str, typer.Option(help="Model preset name or path to a Hugging Face config.json.")],
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias.")],
    gpus: Annotated[str, typer.Option(help="Accelerators the job uses: 16384, 16k, 1e5.", metavar="<int>")],
    seq_len: Annotated[str, typer.Option(help="Sequence length (tokens); here k is 1,024: 8k = 8192.", metavar="<int>")],
    global_batch: Annotated[str, typer.Option(help="Global batch (sequences): 2048, 2k.", metavar="<int>")],
    precision: Annotated[str, typer.Option(help="bf16, fp16, fp8, mxfp8 or nvfp4.")] = "bf16",
    fabric: Annotated[Fabric, typer.Option(help="Scale-out network family.")] = Fabric.INFINIBAND,
    framework: Annotated[str | None, typer.Option(
        help="Training framework whose parallelism rules, memory buffers and kernels apply: megatron, nemo, nemo-2, "
             "megatron-bridge, torchtitan, llm-foundry, deepspeed or hai-llm (default: megatron).")] = None,
    fp8_recipe: Annotated[str | None, typer.Option(
        help="Low-precision scaling recipe: tensor, delayed, current, rowwise, block or mxfp8 with --precision fp8 or "
             "mxfp8; nvfp4 with --precision nvfp4 (default: the framework's).")] = None,
    moe_load_imbalance: Annotated[str | None, typer.Option(
        help="MoE: tokens on the most loaded expert-parallel rank over the mean, 1 to 8 (default 1: balanced, as in "
             "force-balanced benchmarks).", metavar="<float>")] = None,
    tp: Annotated[str | None, typer.Option(help="Tensor parallel (searched if left out).", metavar="<int>")] = None,
    pp: Annotated[str | None, typer.Option(help="Pipeline parallel.", metavar="<int>")] = None,
    dp: Annotated[str | None, typer.Option(help="Data parallel.", metavar="<int>")] = None,
    cp: Annotated[str | None, typer.Option(help="Context parallel.", metavar="<int>")] = None,
    ep: Annotated[str | None, typer.Option(help="Expert parallel.", metavar="<int>")] = None,
    vp: Annotated[str | None, typer.Option(help="Virtual pipeline stages per rank.", metavar="<int>")] = None,
    mbs: Annotated[str | None, typer.Option(help="Micro-batch size (sequences).", metavar="<int>")] = None,
    recompute: Annotated[str | None, typer.Option(help="none, selective or full.")] = None,
    sharding: Annotated[str | None, typer.Option(help="none, zero1, zero2 or zero3.")] = None,
    tokens: Annotated[str | None, typer.Option(help="Token budget to train: 15T, 1.5e13 (default: 20 per parameter).")] = None,
    top_k: Annotated[str, typer.Option(help="Plans to report.", metavar="<int>")] = "3",
    use_subset: Annotated[bool, typer.Option(
        "--use-subset", help="When no plan uses every GPU, run on the largest subset one fits on and report the idle "
                             "GPUs (without it such a count is refused with the nearest counts that work).")] = False,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    uncertainty: UncertaintyOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Estimate one training job; parallelism options left out are searched."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.report.terminal import render_train
    from stargate.scenario import validate
    from stargate.training.job import TrainRequest, train
    from stargate.training.rules import check_fp8_recipe, check_framework

    workload = {"accelerator": accelerator, "gpus": gpus, "seq_len": seq_len, "global_batch": global_batch,
                "precision": precision, "fabric": fabric}
    chosen = {"framework": framework, "fp8_recipe": fp8_recipe}
    workload.update({k: v.strip().lower() for k, v in chosen.items() if v is not None})
    if moe_load_imbalance is not None:
        workload["moe_load_imbalance"] = moe_load_imbalance
    opts = {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vp": vp, "mbs": mbs, "recompute": recompute,
            "sharding": sharding, "tokens": tokens, "top_k": top_k}
    raw = {"model": model, "workload": workload, "use_subset": use_subset,
           **{k: v for k, v in opts.items() if v is not None}}
    n, s = _uncertainty_options(uncertainty, seed, as_csv)
    try:
        if "framework" in workload:
            check_framework(workload["framework"])
        request = validate(TrainRequest, raw)
        check_fp8_recipe(request.workload.precision, request.workload.fp8_recipe)
        cat = Catalog.load(catalog)
        result = train(request, cat)
    except InputError as e:
        raise _as_typed(e, _TRAIN_OPTIONS, {"model": model, **workload, **chosen, **opts}) from None
    if as_csv:
        return _csv_answer(result, as_json)
    if n:
        from stargate.uncertainty.options import with_ranges
        from stargate.uncertainty.training import train_model

        bar, tick = _samples_bar(n)
        with bar:
            result = with_ranges(result, train_model(request, cat, result), n, s, tick)
    _emit(result, as_json, _ranged_text(render_train))


_TRAIN_OPTIONS = {f: "--" + f.replace("_", "-") for f in (
    "model", "accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric", "framework", "fp8_recipe", "tp",
    "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding", "tokens", "top_k", "moe_load_imbalance")}


@app.command(name="infer")
def infer_cmd(
    model: Annotated[str, typer.Option(help="Model preset name or path to a Hugging Face config.json.")],
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias.")],
    input_tokens: Annotated[str, typer.Option(help="Mean prompt length (tokens): 1024, 1k, 294.45.", metavar="<tokens>")],
    output_tokens: Annotated[str, typer.Option(help="Mean generated length (tokens): 1024, 1k.", metavar="<tokens>")],
    gpus: Annotated[str | None, typer.Option(help="Accelerators serving (all replicas): 8, 1k, 1e5.", metavar="<int>")] = None,
    output_tokens_cv: Annotated[str | None, typer.Option(
        help="Spread of the generated lengths, standard deviation over mean (0: all equal; DeepSeek-R1's MLPerf set 1.25).",
        metavar="<float>")] = None,
    budget: Annotated[str | None, typer.Option(help="Or size the machine by capital budget: '$1B', 250e6.")] = None,
    power: Annotated[str | None, typer.Option(help="Or size the machine by facility power cap: '100 MW'.")] = None,
    ttft: Annotated[str | None, typer.Option(help="Time-to-first-token limit at p99: '500 ms', 0.5 (s).")] = None,
    tpot: Annotated[str | None, typer.Option(help="Time-per-output-token limit at p99: '50 ms', 0.05 (s).")] = None,
    tokens_per_user: Annotated[str | None, typer.Option(
        help="Interactivity as output tokens/s each user sees (instead of --tpot): 20.", metavar="<float>")] = None,
    precision: Annotated[str, typer.Option(help="Weights and activations: bf16, fp8 or fp4.")] = "fp8",
    kv_dtype: Annotated[str | None, typer.Option(help="KV cache: bf16 or fp8 (default: fp8 unless --precision bf16).")] = None,
    disaggregated: Annotated[str, typer.Option(
        help="Prefill and decode on separate GPU pools: yes, no or auto (whichever serves more).")] = "auto",
    framework: Annotated[str, typer.Option(help="Serving engine: trtllm, vllm, sglang or other.")] = "trtllm",
    fabric: Annotated[Fabric, typer.Option(help="Scale-out network family.")] = Fabric.INFINIBAND,
    scale_out: ScaleOutOpt = None,
    energy: Annotated[str, typer.Option(help="Energy source of the designed cluster (its price enters the TCO).")] = "grid-us",
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    uncertainty: UncertaintyOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Serving capacity: the best deployment under the latency limits, the throughput–interactivity frontier,
    users, tokens per MW and dollars per million tokens. The machine is --gpus, or sized by --budget or --power
    (or a range of one: 0.9e9..1.1e9)."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.report.serving import render_infer
    from stargate.scenario import validate
    from stargate.serving import InferRequest, infer
    from stargate.uncertainty.options import midpoint_notes, typed_ranges

    raw = {"model": model, "accelerator": accelerator, "gpus": gpus, "budget_usd": budget, "power_w": power,
           "input_tokens": input_tokens, "output_tokens": output_tokens, "output_tokens_cv": output_tokens_cv,
           "ttft_s": ttft, "tpot_s": tpot,
           "tokens_per_user": tokens_per_user, "precision": precision, "kv_dtype": kv_dtype,
           "disaggregated": disaggregated, "framework": framework, "fabric": fabric, "scale_out_bits_per_s": scale_out,
           "energy_source": energy}
    sized = [opt for opt, v in (("--gpus", gpus), ("--budget", budget), ("--power", power)) if v is not None]
    if len(sized) != 1:
        raise InputError("sizing", ", ".join(sized) or "none", "exactly one of --gpus, --budget, --power")
    if tpot is not None and tokens_per_user is not None:
        raise InputError("--tokens-per-user", tokens_per_user, "either --tpot or --tokens-per-user, not both")
    options = {**_INFER_OPTIONS, "gpus": sized[0]}  # the core's GPU count: the sizing option given
    typed = {**raw, "gpus": gpus or budget or power}
    n, s = _uncertainty_options(uncertainty, seed, as_csv)
    try:
        point, ranges = typed_ranges({k: v for k, v in raw.items() if v is not None}, _INFER_OPTIONS)
        request = validate(InferRequest, point)
        cat = Catalog.load(catalog)
        result = infer(request, cat)
    except InputError as e:
        raise _as_typed(e, options, typed) from None
    if ranges:
        result = {**result, "notes": [*result["notes"], *midpoint_notes(ranges, bool(n))]}
    if as_csv:
        return _csv_answer(result, as_json)
    if n:
        from stargate.uncertainty.options import with_ranges
        from stargate.uncertainty.serving import infer_model

        bar, tick = _samples_bar(n)
        with bar:
            result = with_ranges(result, infer_model(request, cat, result, ranges), n, s, tick)
    _emit(result, as_json, _ranged_text(render_infer))


_INFER_OPTIONS = {
    **{f: "--" + f.replace("_", "-") for f in ("model", "accelerator", "input_tokens", "output_tokens", "output_tokens_cv",
                                              "tokens_per_user", "precision", "kv_dtype", "disaggregated", "framework",
                                              "fabric")},
    "gpus": "--gpus", "budget_usd": "--budget", "power_w": "--power", "ttft_s": "--ttft", "tpot_s": "--tpot",
    "scale_out_bits_per_s": "--scale-out", "energy_source": "--energy",
}


@app.command(name="validate")
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


@app.command()
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
    """Local Dask workers of ``--dask-local`` (0 without), the options checked and the dask extra required
    when either is given."""
    from stargate.dask_client import check_backend
    from stargate.errors import InputError

    if scheduler is not None and dask_local is not None:
        raise InputError("--dask-local", dask_local, "either --scheduler or --dask-local, not both")
    workers = _workers("--dask-local", dask_local) if dask_local is not None else 0
    check_backend(scheduler, workers)
    if scheduler is not None or dask_local is not None:
        _require("--scheduler" if scheduler is not None else "--dask-local", "dask")
    return workers


def _require(what: str, extra: str) -> None:
    """Exit with one line naming the extra when ``what`` needs one that is not installed."""
    from stargate.extras import require

    require(what, extra)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@app.command()
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


@app.command()
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


def _write_rows_csv(rows: list[dict[str, Any]], out: Path) -> None:
    """Rows of equal keys as a CSV file (empty for no rows), through the one CSV writer and an atomic
    write; an unwritable path is bad input."""
    from stargate.inputs import write_text_atomic
    from stargate.report.export import csv_text

    table = [list(rows[0]), *(list(r.values()) for r in rows)] if rows else []
    write_text_atomic(out, csv_text(table), "--out")


@app.command(name="compare")
def compare_cmd(
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="FILE", show_default=False, help="Scenario YAML, a design or training request YAML, or the JSON that "
                                  "`stargate design`, `train` or `plan --json` wrote.")] = None,
    design: Annotated[list[str] | None, typer.Option(
        "--design", metavar="KEY=VALUE,...", help="A design as `stargate design` options: 'accelerator=gb200,budget=10e9,fabric=ethernet'.")] = None,
    train: Annotated[list[str] | None, typer.Option(
        "--train", metavar="KEY=VALUE,...", help="A training job as `stargate train` options: "
                        "'model=llama3.1-70b,accelerator=h100,gpus=1024,seq-len=8192,global-batch=512'.")] = None,
    builtin: Annotated[list[str] | None, typer.Option(
        "--builtin", metavar="NAME", help="A built-in scenario by name (planned).")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Two or more designs, plans or training jobs side by side, with deltas against the first and what
    accounts for each (capex by category, power by consumer, step time by component). The first is
    the base: files first, then --design, --train and --builtin in the order given."""
    from stargate.answers import collect
    from stargate.catalog import Catalog
    from stargate.compare import compare
    from stargate.report.comparison import render_comparison
    from stargate.report.export import comparison_rows

    if as_csv:
        _emit_csv(None, as_json)
    result = compare(collect(files or [], design or [], train or [], builtin or [], Catalog.load(catalog)))
    if as_csv:
        return _emit_csv(comparison_rows(result), as_json)
    _emit(result, as_json, render_comparison)


@app.command()
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


@app.command()
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


@catalog_app.command("list")
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


@catalog_app.command("show")
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
