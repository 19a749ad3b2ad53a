"""The ``stargate`` command line: a thin shell over the core.

Heavy libraries (pydantic, numpy, pint, the catalog) are imported inside the commands, so
``stargate --help`` stays fast. Bad input of any kind ends with one line on stderr naming the
field, the value and what is allowed, and exit code 2; an internal error exits 1.
"""

from __future__ import annotations

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


def _emit(obj: Any, as_json: bool, render: Any) -> None:
    if as_json:
        data = obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        render(obj)


_DESIGN_OPTIONS = {
    "accelerator": "--accelerator", "gpus": "--gpus", "budget_usd": "--budget", "power_w": "--power",
    "fabric": "--fabric", "system": "--system", "energy_source": "--energy",
    "systems_per_rack": "--systems-per-rack", "cooling": "--cooling",
}


@app.command()
def design(
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias (see `stargate catalog list accelerators`).")],
    gpus: Annotated[str | None, typer.Option(help="Size by number of accelerators.", metavar="<int>")] = None,
    budget: Annotated[str | None, typer.Option(help="Size by capital budget in USD: 100e9, '$100B'.")] = None,
    power: Annotated[str | None, typer.Option(help="Size by facility power cap: '5 GW', '300 MW'.")] = None,
    fabric: Annotated[Fabric, typer.Option(help="Scale-out network family.")] = Fabric.INFINIBAND,
    system: Annotated[str | None, typer.Option(help="System id; default: the accelerator's usual system.")] = None,
    energy: Annotated[str, typer.Option(help="Energy source id (see `stargate catalog list energy_sources`).")] = "grid-us",
    systems_per_rack: Annotated[
        str | None, typer.Option(help="Systems per rack; default: reference packing.", metavar="<int>")
    ] = None,
    cooling: Annotated[Cooling | None, typer.Option(help="Force a cooling technology.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Design one cluster, sized by exactly one of --gpus, --budget or --power."""
    from stargate.catalog import Catalog
    from stargate.cluster.design import design_cluster
    from stargate.errors import InputError
    from stargate.report.terminal import render_design
    from stargate.scenario import DesignRequest, validate

    raw = {
        "accelerator": accelerator, "gpus": gpus, "budget_usd": budget, "power_w": power, "fabric": fabric,
        "system": system, "energy_source": energy, "systems_per_rack": systems_per_rack, "cooling": cooling,
    }
    sizes = {"gpus": gpus, "budget": budget, "power": power}
    sized = [k for k, v in sizes.items() if v is not None]
    if len(sized) != 1:
        got = ", ".join(f"--{k}" for k in sized) or "none"
        raise InputError("sizing", got, "exactly one of --gpus, --budget, --power")
    try:
        request = validate(DesignRequest, {k: v for k, v in raw.items() if v is not None})
        result = design_cluster(request, Catalog.load(catalog))
    except InputError as e:  # name the option the user typed, not the model field
        raise InputError(_DESIGN_OPTIONS.get(e.field, e.field), e.value, e.allowed) from None
    _emit(result, as_json, render_design)


@app.command()
def plan(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML; default: the built-in Stargate scenario.")] = None,
    builtin: Annotated[str | None, typer.Option(help="A built-in scenario by name (stargate, stargate-amd-ethernet, ...).")] = None,
    scaling_law: Annotated[str, typer.Option(help="besiroglu2024 (default) or chinchilla.")] = "besiroglu2024",
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole chain for every phase of a scenario."""
    from stargate.catalog import Catalog
    from stargate.plan import builtin_scenario, load_scenario, run_plan
    from stargate.report.terminal import render_plan

    sc = load_scenario(scenario) if scenario is not None else builtin_scenario(builtin or "stargate")
    _emit(run_plan(sc, Catalog.load(catalog), scaling_law), as_json, render_plan)


@app.command()
def fabric(
    gpus: Annotated[str, typer.Option(help="Accelerators on the fabric.", metavar="<int>")],
    fabric: Annotated[Fabric, typer.Option(help="Fabric family.")] = Fabric.INFINIBAND,
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias: sets the per-GPU rate.")] = "h100",
    topology: Annotated[Topology, typer.Option(help="Rail-optimized Clos or classic fat-tree.")] = Topology.RAIL_OPTIMIZED,
    oversubscription: Annotated[str, typer.Option(help="Down/up ratio per tier from the leaf up: '1' or '1,3'.")] = "1",
    planes: Annotated[str, typer.Option(help="Planes each GPU's scale-out rate is split over.", metavar="<int>")] = "1",
    switch: Annotated[str | None, typer.Option(help="Switch id; default: the family's switch for the link speed.")] = None,
    tiers: Annotated[str | None, typer.Option(help="Force the number of tiers.", metavar="<int>")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="InfiniBand and Ethernet side by side.")] = False,
    sharp: Annotated[bool, typer.Option("--sharp", help="In-network reduction (SHARP/NVLS) where the switches have it.")] = False,
    sites: Annotated[str | None, typer.Option(help="Spread the job over this many sites.", metavar="<int>")] = None,
    site_distance: Annotated[str, typer.Option(help="Fibre route between adjacent sites: '100 km'.")] = "100 km",
    fiber_pairs: Annotated[str, typer.Option(help="Fibre pairs per site link.", metavar="<int>")] = "4",
    gradient: Annotated[str, typer.Option(help="Gradient of one model replica, reduced every step: '810 GB'.")] = "810 GB",
    model_parallel: Annotated[
        str | None, typer.Option(help="GPUs one replica spans (default: a scale-up domain).", metavar="<int>")
    ] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Design the scale-out network: tiers, switches, links, optics, cost, power, bandwidth."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.fabric.report import fabric_report
    from stargate.report.terminal import render_fabric

    raw = {
        "gpus": gpus, "fabric": fabric, "accelerator": accelerator, "topology": topology, "planes": planes,
        "switch": switch, "tiers": tiers, "sharp": sharp,
        "oversubscription": [x.strip() for x in oversubscription.split(",")],
    }
    site = {"sites": sites, "distance": site_distance, "fiber_pairs": fiber_pairs, "gradient": gradient,
            "model_parallel": model_parallel} if sites else None
    try:
        report = fabric_report({k: v for k, v in raw.items() if v is not None}, Catalog.load(catalog), compare, site)
    except InputError as e:
        raise InputError(_FABRIC_OPTIONS.get(e.field, e.field), e.value, e.allowed) from None
    _emit(report, as_json, render_fabric)


_FABRIC_OPTIONS = {
    "gpus": "--gpus", "fabric": "--fabric", "accelerator": "--accelerator", "topology": "--topology",
    "planes": "--planes", "switch": "--switch", "tiers": "--tiers", "sites": "--sites",
    "distance_m": "--site-distance", "site_distance": "--site-distance", "fiber_pairs": "--fiber-pairs",
    "gradient_bytes": "--gradient", "model_parallel": "--model-parallel",
}
for _i in range(8):
    _FABRIC_OPTIONS[f"oversubscription.{_i}"] = "--oversubscription"
_FABRIC_OPTIONS["oversubscription"] = "--oversubscription"


@app.command(name="train")
def train_cmd(
    model: Annotated[str, typer.Option(help="Model preset name or path to a Hugging Face config.json.")],
    accelerator: Annotated[str, typer.Option(help="Accelerator id or alias.")],
    gpus: Annotated[str, typer.Option(help="Accelerators the job uses.", metavar="<int>")],
    seq_len: Annotated[str, typer.Option(help="Sequence length (tokens).", metavar="<int>")],
    global_batch: Annotated[str, typer.Option(help="Global batch (sequences).", metavar="<int>")],
    precision: Annotated[str, typer.Option(help="bf16, fp16, fp8, mxfp8 or nvfp4.")] = "bf16",
    fabric: Annotated[Fabric, typer.Option(help="Scale-out network family.")] = Fabric.INFINIBAND,
    tp: Annotated[str | None, typer.Option(help="Tensor parallel (searched if left out).", metavar="<int>")] = None,
    pp: Annotated[str | None, typer.Option(help="Pipeline parallel.", metavar="<int>")] = None,
    dp: Annotated[str | None, typer.Option(help="Data parallel.", metavar="<int>")] = None,
    cp: Annotated[str | None, typer.Option(help="Context parallel.", metavar="<int>")] = None,
    ep: Annotated[str | None, typer.Option(help="Expert parallel.", metavar="<int>")] = None,
    vp: Annotated[str | None, typer.Option(help="Virtual pipeline stages per rank.", metavar="<int>")] = None,
    mbs: Annotated[str | None, typer.Option(help="Micro-batch size (sequences).", metavar="<int>")] = None,
    recompute: Annotated[str | None, typer.Option(help="none, selective or full.")] = None,
    sharding: Annotated[str | None, typer.Option(help="none, zero1, zero2 or zero3.")] = None,
    tokens: Annotated[str | None, typer.Option(help="Token budget to train (default: 20 per parameter).")] = None,
    top_k: Annotated[str, typer.Option(help="Plans to report.", metavar="<int>")] = "3",
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Estimate one training job; parallelism options left out are searched."""
    from stargate.catalog import Catalog
    from stargate.errors import InputError
    from stargate.report.terminal import render_train
    from stargate.scenario import validate
    from stargate.training.job import TrainRequest, train

    workload = {"accelerator": accelerator, "gpus": gpus, "seq_len": seq_len, "global_batch": global_batch,
                "precision": precision, "fabric": fabric}
    opts = {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vp": vp, "mbs": mbs, "recompute": recompute,
            "sharding": sharding, "tokens": tokens, "top_k": top_k}
    raw = {"model": model, "workload": workload, **{k: v for k, v in opts.items() if v is not None}}
    try:
        result = train(validate(TrainRequest, raw), Catalog.load(catalog))
    except InputError as e:
        field = e.field.removeprefix("workload.")
        raise InputError("--" + field.replace("_", "-") if field in _TRAIN_FIELDS else field, e.value, e.allowed) from None
    _emit(result, as_json, render_train)


_TRAIN_FIELDS = {"model", "accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric", "tp", "pp", "dp",
                 "cp", "ep", "vp", "mbs", "recompute", "sharding", "tokens", "top_k"}


@app.command(name="validate")
def validate_cmd(
    runs: Annotated[Path, typer.Argument(help="Runs CSV in the published_runs.csv format.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write per-row predictions to this CSV.")] = None,
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict every row of a runs file and report the error on tokens/s per GPU."""
    from stargate.catalog import Catalog
    from stargate.report.terminal import render_validation
    from stargate.training.validate import read_runs, summarize, validate_runs, write_predictions

    results = validate_runs(read_runs(runs), Catalog.load(catalog))
    if out is not None:
        write_predictions(results, out)
    report = {"summary": summarize(results), "rows": [r.as_dict() for r in results]}
    _emit(report, as_json, render_validation)


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
    kinds = [kind] if kind else list(KINDS)
    listing = {k: [e.model_dump(mode="json") for e in cat.entries(k)] for k in kinds}
    _emit(listing, as_json, render_catalog_list)


@catalog_app.command("show")
def catalog_show(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id (or accelerator alias).")],
    catalog: CatalogOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one catalog entry with every number and its source."""
    from stargate.catalog import Catalog
    from stargate.report.terminal import render_entry

    kind, entry = Catalog.load(catalog).find(entry_id)
    _emit({"kind": kind, **entry.model_dump(mode="json")}, as_json, render_entry)


def main() -> None:
    """Entry point: run the app, turning every error into one line and an exit code."""
    from stargate.errors import InputError

    try:
        code = app(standalone_mode=False, prog_name="stargate")
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
            _fail(" ".join(e.format_message().split()), 2)
        if os.environ.get("STARGATE_DEBUG"):
            raise
        _fail(f"internal error: {type(e).__name__}: {e} (set STARGATE_DEBUG=1 for a traceback)", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"stargate: error: {message}\n")
    sys.exit(code)
