"""The commands that answer one question each: ``design`` (a cluster), ``fabric`` (its scale-out network),
``train`` (a training job) and ``infer`` (serving capacity), with the option names their errors are
re-addressed to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from stargate.cli.shell import (
    CatalogOpt,
    CsvOpt,
    JsonOpt,
    ScaleOutOpt,
    SeedOpt,
    UncertaintyOpt,
    _as_typed,
    _emit,
    _emit_csv,
    _ranged_text,
    _samples_bar,
    _uncertainty_options,
)
from stargate.enums import Cooling, Fabric, Topology

_DESIGN_OPTIONS = {
    "accelerator": "--accelerator", "gpus": "--gpus", "budget_usd": "--budget", "power_w": "--power",
    "fabric": "--fabric", "system": "--system", "energy_source": "--energy",
    "systems_per_rack": "--systems-per-rack", "cooling": "--cooling", "wacc_per_year": "--wacc", "year": "--year",
    "scale_out_bits_per_s": "--scale-out",
}


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
    _sizing_option(gpus, budget, power)
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


def _sizing_option(gpus: str | None, budget: str | None, power: str | None) -> str:
    """The one sizing option given (``--gpus``, ``--budget`` or ``--power``); none or several is an error."""
    from stargate.errors import InputError

    sized = [opt for opt, v in (("--gpus", gpus), ("--budget", budget), ("--power", power)) if v is not None]
    if len(sized) != 1:
        raise InputError("sizing", ", ".join(sized) or "none", "exactly one of --gpus, --budget, --power")
    return sized[0]


def _finish(answer: Any, as_json: bool, as_csv: bool, samples: int, seed: int, render: Any,
            model: Callable[[], Any]) -> None:
    """Print an answer: as CSV rows, or as JSON or text, with its ranges over ``samples`` draws of ``model()``
    when asked (``model`` is called only then)."""
    if as_csv:
        return _csv_answer(answer, as_json)
    if samples:
        from stargate.uncertainty.options import with_ranges

        bar, tick = _samples_bar(samples)
        with bar:
            answer = with_ranges(answer, model(), samples, seed, tick)
    _emit(answer, as_json, _ranged_text(render))


def _csv_answer(answer: Any, as_json: bool) -> None:
    from stargate.report.export import answer_rows

    _emit_csv(answer_rows(answer), as_json)


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
    _finish(report, as_json, as_csv, n, s, render_fabric, lambda: fabric_model(validate(FabricRequest, given), cat))


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

    def sampled() -> Any:  # the sampled model is imported and built only for --uncertainty
        from stargate.uncertainty.training import train_model

        return train_model(request, cat, result)

    _finish(result, as_json, as_csv, n, s, render_train, sampled)


_TRAIN_OPTIONS = {f: "--" + f.replace("_", "-") for f in (
    "model", "accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric", "framework", "fp8_recipe", "tp",
    "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding", "tokens", "top_k", "moe_load_imbalance")}


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
    sizing = _sizing_option(gpus, budget, power)
    if tpot is not None and tokens_per_user is not None:
        raise InputError("--tokens-per-user", tokens_per_user, "either --tpot or --tokens-per-user, not both")
    options = {**_INFER_OPTIONS, "gpus": sizing}  # the core's GPU count: the sizing option given
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

    def sampled() -> Any:  # the sampled model is imported and built only for --uncertainty
        from stargate.uncertainty.serving import infer_model

        return infer_model(request, cat, result, ranges)

    _finish(result, as_json, as_csv, n, s, render_infer, sampled)


_INFER_OPTIONS = {
    **{f: "--" + f.replace("_", "-") for f in ("model", "accelerator", "input_tokens", "output_tokens", "output_tokens_cv",
                                              "tokens_per_user", "precision", "kv_dtype", "disaggregated", "framework",
                                              "fabric")},
    "gpus": "--gpus", "budget_usd": "--budget", "power_w": "--power", "ttft_s": "--ttft", "tpot_s": "--tpot",
    "scale_out_bits_per_s": "--scale-out", "energy_source": "--energy",
}
