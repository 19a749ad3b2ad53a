"""The commands on a scenario's plan: ``plan`` (every phase through the whole chain), ``sensitivity``
(what moves a phase's headlines), ``report`` (the HTML report) and ``compare`` (designs, plans or
training jobs side by side); the scenario, its typed ranges and the report and workbook files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from stargate.cli.shell import (
    CatalogOpt,
    CsvOpt,
    JsonOpt,
    SamplesDaskLocalOpt,
    SamplesSchedulerOpt,
    SeedOpt,
    UncertaintyOpt,
    _as_typed,
    _emit,
    _emit_csv,
    _require,
    _samples_bar,
    _uncertainty_options,
)
from stargate.cli.sweeps import _dask_backend


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
    scheduler: SamplesSchedulerOpt = None,
    dask_local: SamplesDaskLocalOpt = None,
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
    from stargate.dask_client import require_for_samples

    workers = _dask_backend(scheduler, dask_local)
    require_for_samples(n, scheduler, dask_local)
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
    scheduler: SamplesSchedulerOpt = None,
    dask_local: SamplesDaskLocalOpt = None,
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
