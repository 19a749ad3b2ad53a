"""The web server's work, run in worker processes (:mod:`stargate.web.work`): plain functions of
validated request bodies that return JSON-ready dicts or HTML text.

Nothing here reads a path taken from a request: model names are checked to be presets before a
task is sent (and the workers run in an empty directory); the only path, the sweep directory, is
fixed when the server starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stargate.catalog import Catalog
from stargate.catalog.schema import Priced
from stargate.errors import InputError
from stargate.inputs import MAX_USD
from stargate.web.bodies import (
    MAX_GPUS,
    DashboardBody,
    DesignBody,
    DesignFields,
    FabricBody,
    InferBody,
    PriceFields,
    TrainBody,
    TrainFields,
)

__all__ = ["DASHBOARD_SAMPLES", "builtin_plan", "builtin_sensitivity", "dashboard", "dashboard_cards", "design", "fabric", "infer", "pareto_load",
           "pareto_page", "priced_catalog", "scenario_page", "train"]

def builtin_plan() -> dict[str, Any]:
    """The built-in scenario's plan, exactly as ``stargate plan --json``."""
    from stargate.plan import builtin_scenario, run_plan

    return run_plan(builtin_scenario(), Catalog.load()).model_dump(mode="json")


def builtin_sensitivity() -> dict[str, Any]:
    """The built-in scenario's last phase: for every headline the inputs that move it most, one at a time
    (``stargate sensitivity --json`` without Sobol indices, which the tornado does not need), and the
    tornado charts drawn from them (``charts``, by id)."""
    from stargate.plan import builtin_scenario, run_plan
    from stargate.report.charts import how_sure_charts
    from stargate.uncertainty.plan import plan_sensitivity

    sc, cat = builtin_scenario(), Catalog.load()
    plan = run_plan(sc, cat)
    answer = plan_sensitivity(sc, cat, plan, with_sobol=False)
    return {**answer, "charts": how_sure_charts(plan.model_dump(mode="json"), answer)}


def priced_catalog(accelerator: str, system: str | None, prices: PriceFields) -> Catalog:
    """The shipped catalog with the request's prices laid over it, as a ``--catalog`` file would lay them
    (``accelerator_price`` on the accelerator's entry, ``system_price`` on the system it is bought in).

    Examples
    --------
    >>> cat = priced_catalog("h100", None, PriceFields(accelerator_price="$20k"))
    >>> cat.accelerator("h100").price_usd
    20000.0
    """
    from stargate.units import parse_usd

    cat = Catalog.load()
    if prices.accelerator_price is None and prices.system_price is None:
        return cat
    acc = cat.accelerator(accelerator)
    overlay: dict[str, list[dict[str, Any]]] = {}
    parts: list[tuple[str, str, Priced]] = [("accelerators", "accelerator_price", acc),
                                            ("systems", "system_price", cat.system(system or acc.default_system))]
    for kind, field, entry in parts:
        value = getattr(prices, field)
        if value is not None:
            usd = parse_usd(value, field)
            if not 0 < usd <= MAX_USD:
                raise InputError(field, value, f"a price above $0 and at most {MAX_USD:.0e} USD")
            overlay[kind] = [{"id": entry.id, "price_usd": usd, "price_source":
                              f"set with the request (the catalog's: ${entry.price_usd:,.0f}, {entry.price_source})"}]
    try:
        return cat.overlaid(overlay, "prices")
    except InputError as e:  # a cross-check of the catalog's: blame the price the request gave last
        field = "system_price" if prices.system_price is not None else "accelerator_price"
        raise InputError(field, getattr(prices, field), f"prices the catalog accepts: {e.field.removeprefix('prices: ')} "
                                                        f"must be {e.allowed}") from None


def _design_fields(body: DesignFields) -> dict[str, Any]:
    """The request's design options under the core's names (None left out)."""
    raw = {"fabric": body.fabric, "system": body.system, "energy_source": body.energy,
           "systems_per_rack": body.systems_per_rack, "cooling": body.cooling, "wacc_per_year": body.wacc,
           "scale_out_bits_per_s": body.scale_out}
    return {k: v for k, v in raw.items() if v is not None}


def design(body: DesignBody) -> dict[str, Any]:
    """``/api/design``: one cluster, as ``stargate design --json``."""
    from stargate.scenario import DesignRequest, check_parts_by_year, validate
    from stargate.uncertainty.design import design_answer
    from stargate.uncertainty.options import typed_ranges

    cat = priced_catalog(body.accelerator, body.system, body)
    raw = {"accelerator": body.accelerator, "gpus": body.gpus, "budget_usd": body.budget, "power_w": body.power,
           "year": body.year, **_design_fields(body)}
    point, ranges = typed_ranges({k: v for k, v in raw.items() if v is not None}, {"budget_usd": "budget", "power_w": "power"})
    req = validate(DesignRequest, point)
    check_parts_by_year(req, cat)
    d = design_answer(req, cat, ranges, body.uncertainty, body.seed)
    if d.gpus > MAX_GPUS:
        raise InputError("budget_usd" if body.budget is not None else "power_w", body.budget or body.power,
                         f"a size under {MAX_GPUS:,} GPUs (this one buys {d.gpus:,})")
    return d.model_dump(mode="json")


def fabric(body: FabricBody) -> dict[str, Any]:
    """``/api/fabric``: the scale-out network, as ``stargate fabric --json``."""
    from stargate.fabric.design import FabricRequest
    from stargate.fabric.report import fabric_report
    from stargate.scenario import validate
    from stargate.uncertainty.design import fabric_model
    from stargate.uncertainty.options import with_ranges

    raw = body.model_dump(exclude={"compare", "uncertainty", "seed"}, exclude_none=True)
    if body.uncertainty and body.compare:
        raise InputError("uncertainty", body.uncertainty, "0 with compare (ranges are for one fabric)")
    cat = Catalog.load()
    report = fabric_report(raw, cat, body.compare)
    if not body.uncertainty:
        return report
    return with_ranges(report, fabric_model(validate(FabricRequest, raw), cat), body.uncertainty, body.seed)


def train(body: TrainBody, catalog: Catalog | None = None, **workload_extra: Any) -> dict[str, Any]:
    """``/api/train``: one training job, as ``stargate train --json`` (``body.model`` is a preset name);
    ``workload_extra`` adds workload fields the body has not (the dashboard's scale-out rate)."""
    from stargate.scenario import validate
    from stargate.training.job import TrainRequest
    from stargate.training.job import train as train_job
    from stargate.training.rules import check_fp8_recipe, check_framework

    workload = {k: getattr(body, k) for k in ("accelerator", "gpus", "seq_len", "global_batch", "precision", "fabric")}
    chosen = {k: getattr(body, k) for k in ("framework", "fp8_recipe", "moe_load_imbalance") if getattr(body, k) is not None}
    rest = body.model_dump(include=set(TrainFields.model_fields) - set(chosen), exclude_none=True)
    if "framework" in chosen:
        check_framework(chosen["framework"])
    extra = {k: v for k, v in workload_extra.items() if v is not None}
    request = validate(TrainRequest, {"model": body.model, "workload": {**workload, **chosen, **extra}, **rest})
    check_fp8_recipe(request.workload.precision, request.workload.fp8_recipe)
    cat = catalog or Catalog.load()
    answer = train_job(request, cat)
    if not body.uncertainty:
        return answer
    from stargate.uncertainty.options import with_ranges
    from stargate.uncertainty.training import train_model

    return with_ranges(answer, train_model(request, cat, answer), body.uncertainty, body.seed)


def infer(body: InferBody) -> dict[str, Any]:
    """``/api/infer``: serving capacity, as ``stargate infer --json`` (``body.model`` is a preset name)."""
    from stargate.answers import infer_request
    from stargate.serving import infer as serve

    request = infer_request(body.model_dump(exclude_none=True, exclude={"uncertainty", "seed"}))
    if request.gpus is None:  # sized by budget or power: the design's GPU count, held to the server's bound
        from stargate.serving import design_for

        built = design_for(request, Catalog.load()).gpus
        if built > MAX_GPUS:
            key = "budget" if body.budget is not None else "power"
            raise InputError(key, getattr(body, key), f"a size under {MAX_GPUS:,} GPUs (this one buys {built:,})")
    cat = Catalog.load()
    answer = serve(request, cat)
    if not body.uncertainty:
        return answer
    from stargate.uncertainty.options import with_ranges
    from stargate.uncertainty.serving import infer_model

    return with_ranges(answer, infer_model(request, cat, answer), body.uncertainty, body.seed)


def _days(value: float | str) -> float:
    """Training time in days: a plain number is days, a string with a unit is read as a time (``"6 months"``)."""
    from stargate.units import parse_quantity

    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return parse_quantity(value, "time", "training_days") / 86400
    return value


def _phase(body: DashboardBody) -> dict[str, Any]:
    """The dashboard's request as one scenario phase (the core's names; quantities as typed)."""
    from stargate.units import parse_quantity

    sizing = {"budget": "budget_usd", "power": "power_w", "gpus": "gpus"}[body.sizing]
    value: Any = body.value
    if body.sizing == "gpus" and isinstance(value, float):
        if value != int(value) or value > MAX_GPUS:
            raise InputError("gpus", body.value, f"a whole number of GPUs up to {MAX_GPUS:,}")
        value = int(value)
    return {"name": "Design", "year": body.year, "accelerator": body.accelerator, sizing: value, "model": body.model,
            "seq_len": body.seq_len, "global_batch": body.global_batch, "precision": body.precision,
            "training_days": _days(body.training_days), "sites": body.sites,
            "site_distance_m": parse_quantity(body.site_distance, "length", "site_distance"), **_design_fields(body)}


def _job(body: DashboardBody, phase: dict[str, Any], cat: Catalog) -> dict[str, Any] | None:
    """One of the phase's training jobs (its GPUs and batch) under the request's training options, as
    ``stargate train --json``; None when the model fits no plan on the phase and no option was given."""
    from stargate.units import parse_quantity

    ref = phase["reference_job"]
    options = body.model_dump(include=set(TrainFields.model_fields), exclude_none=True)
    if ref is None and not options:
        return None
    gpus, batch = (ref["gpus"], ref["global_batch"]) if ref else (phase["job_gpus"], body.global_batch)
    job = TrainBody(model=body.model, accelerator=body.accelerator, gpus=gpus, seq_len=body.seq_len,
                    global_batch=batch, precision=body.precision, fabric=body.fabric, **options)
    scale_out = None if body.scale_out is None else parse_quantity(body.scale_out, "bits_per_s", "scale_out")
    return train(job, cat, scale_out_bits_per_s=scale_out)


DASHBOARD_SAMPLES = 200
"""Samples behind the P10–P90 whiskers of the dashboard's charts (a few tenths of a second per request)."""


def dashboard(body: DashboardBody) -> dict[str, Any]:
    """``/api/dashboard``: one phase designed and planned, its summary cards and charts (with the phase's
    P10–P90 of :data:`DASHBOARD_SAMPLES` samples as whiskers), one of its training jobs under the request's
    training options, the sources of its numbers and its warnings."""
    from stargate.plan import run_plan
    from stargate.report.charts import plan_charts
    from stargate.report.html import largest_fabric, used_sources
    from stargate.scenario import Scenario, validate
    from stargate.uncertainty.plan import ranged_plan
    from stargate.web.tables import phase_tables

    cat = priced_catalog(body.accelerator, body.system, body)
    scenario = validate(Scenario, {"name": "dashboard", "phases": [_phase(body)]})
    point = run_plan(scenario, cat)
    if point.phases[0].gpus > MAX_GPUS:
        raise InputError("gpus" if body.sizing == "gpus" else f"{body.sizing}", body.value,
                         f"a size under {MAX_GPUS:,} GPUs (this one buys {point.phases[0].gpus:,})")
    plan = ranged_plan(scenario, cat, point, DASHBOARD_SAMPLES).model_dump(mode="json")
    p = plan["phases"][0]
    job = _job(body, p, cat)
    charts = plan_charts(plan, largest_fabric(plan, cat))
    keep = ("capex", "power", "step", "goodput", "scaling", "fabric", "serving")
    return {"cards": dashboard_cards(p), "phase": p, "train": job, "tables": phase_tables(p, job),
            "charts": {k: v for k, v in charts.items() if k in keep},
            "sources": used_sources(plan, cat), "prices": _prices(p, cat),
            "warnings": p["warnings"] + (job or {}).get("notes", [])}


def _prices(phase: dict[str, Any], cat: Catalog) -> list[dict[str, Any]]:
    """The accelerator's and the system's price as used, with where each comes from."""
    d = phase["design"]
    parts: list[tuple[str, Priced]] = [("accelerator", cat.accelerator(d["accelerator"])), ("system", cat.system(d["system"]))]
    return [{"kind": kind, "id": e.id, "price_usd": e.price_usd, "source": e.price_source, "date": e.price_date}
            for kind, e in parts]


def dashboard_cards(p: dict[str, Any]) -> list[tuple[str, str]]:
    """The dashboard's headline cards of one planned phase: label and formatted value.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> cards = dict(dashboard_cards(run_plan(builtin_scenario()).model_dump(mode="json")["phases"][0]))
    >>> [k in cards for k in ("TCO per GPU-hour", "racks", "kW per rack", "cooling")]
    [True, True, True, True]
    """
    from stargate.report.html import phase_rows
    from stargate.units import format_quantity, format_usd

    d = p["design"]
    cards = [("GPUs", f"{p['gpus']:,}"), ("capex", format_usd(p["capex_usd"])),
             ("facility power", format_quantity(p["facility_power_w"], "W")),
             ("TCO per GPU-hour", f"${d['tco_usd_per_gpu_hour']:.2f}"), ("racks", f"{d['racks']:,}"),
             ("kW per rack", f"{d['kw_per_rack']:.0f} kW"), ("cooling", d["cooling"].replace("_", " ")),
             ("peak (16-bit)", format_quantity(p["peak_flops"], "FLOP/s")),
             ("opex per year", format_usd(d["opex_usd_per_year"])),
             ("MFU", "—" if p["mfu"] is None else f"{100 * p['mfu']:.0f}%")]
    world = ("facility power per GPU", "PUE design / annual", "network share of capex", "fabric", "power infrastructure",
             "cost of capital per GPU-hour", "parallel plan", "jobs × GPUs", "goodput", "restart / warm spares",
             "largest model", "GPT-4-class days")
    return cards + [(label, cell(p)) for label, cell in phase_rows() if label in world]


def scenario_page(name: str) -> str:
    """The report page of a built-in scenario, with Plotly.js served by the app rather than inline."""
    from stargate.plan import builtin_scenario, run_plan
    from stargate.report.html import plotly_js, render_report

    cat = Catalog.load()
    html = render_report(run_plan(builtin_scenario(name), cat).model_dump(mode="json"), cat)
    # The app serves Plotly.js itself: swap the inline copy for a reference (a 3.5 MB page becomes 0.1 MB).
    return html.replace(f"<script>{plotly_js()}</script>", '<script src="/static/plotly.min.js"></script>')


def pareto_load(sweep_dir: Path, fingerprint: str) -> dict[str, Any]:
    """Read the sweep in ``sweep_dir`` into this worker's memory for the ``/pareto`` page; its row count."""
    from stargate.web.fronts import loaded

    return {"rows": loaded(sweep_dir, fingerprint)[0].num_rows}


def pareto_page(sweep_dir: Path, fingerprint: str, objectives: str | None = None, group_by: str | None = None,
                where: str | None = None) -> dict[str, Any]:
    """The ``/pareto`` page of the sweep in ``sweep_dir`` (:func:`stargate.web.fronts.fronts_page`)."""
    from stargate.web.fronts import fronts_page

    return fronts_page(sweep_dir, fingerprint, objectives, group_by, where)
