"""Charts of a plan, as Plotly figure dicts: the same figures in the HTML report and the dashboard.

Each function takes the plan's JSON (``Plan.model_dump(mode="json")``, what ``stargate plan
--json`` prints) and returns a figure as a plain dict (``{"data": [...], "layout": {...}}``), so
the report embeds it and the dashboard's browser code draws it with the same Plotly.js.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from plotly.colors import qualitative

from stargate.format import format_quantity, format_usd
from stargate.report.uncertainty import band_trace, fan_charts, range_at, tornado_charts
from stargate.scaling.laws import LAWS, compute_optimal, loss

__all__ = ["how_sure_charts", "plan_charts"]

Fig = dict[str, Any]

COLORWAY = [*qualitative.D3, "#393B79", "#E7BA52", "#637939", "#AD494A"]
"""Fourteen distinct colours (D3's ten, then four of its category20b), so that no stack of a breakdown
repeats a colour (the step-time breakdown has eleven parts)."""


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 380,
            "legend": {"orientation": "h", "y": -0.2}, "colorway": COLORWAY, **extra}


def _names(plan: dict[str, Any]) -> list[str]:
    """Short phase labels for axes: the name before any colon, and the year."""
    return [f"{p['name'].split(':')[0]} ({p['year']})" for p in plan["phases"]]


def _with_ranges(data: list[dict[str, Any]], *traces: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The chart's traces and the P10–P90 traces laid over them (those a plan without ranges has none of)."""
    return data + [t for t in traces if t is not None]


def _total_text(phase: dict[str, Any], total: float, range_key: str) -> str:
    """A phase's total above its stacked bar, with its P10–P90 under it when the phase has that range."""
    r = range_at(phase, range_key)
    return format_usd(total) + (f"<br>{format_usd(r['p10'])}–{format_usd(r['p90'])}" if r else "")


def _stacked(plan: dict[str, Any], key: str, title: str, unit: str, scale: float, range_key: str = "") -> Fig:
    """One bar per phase, stacked by category as shares of the phase's total (phases that differ by
    decades stay readable), the amounts in the hover and each phase's total above its bar (with its
    P10–P90 when the phase has the range ``range_key``)."""
    names = _names(plan)
    parts = [part for part in plan["phases"][0]["design"][key]
             if any(p["design"][key][part] for p in plan["phases"])]
    data: list[dict[str, Any]] = [
        {"type": "bar", "name": part.replace("_", " "), "x": names,
         "y": [p["design"][key][part] / scale for p in plan["phases"]],
         "hovertemplate": f"%{{x}}<br>{part.replace('_', ' ')}: %{{y:,.3g}} {unit} (%{{percent:.1%}})<extra></extra>"}
        for part in parts]
    # both stacks are in USD
    totals = [_total_text(p, sum(p["design"][key].values()), range_key) for p in plan["phases"]]
    data.append({"type": "scatter", "mode": "text", "x": names, "y": [100.0] * len(names), "showlegend": False,
                 "text": totals, "textposition": "top center", "hoverinfo": "skip"})
    top = 122 if any("<br>" in t for t in totals) else 112  # room for the P10–P90 line
    what = "total and its P10–P90" if top > 112 else "total"
    return {"data": data, "layout": _layout(f"{title} ({what} above each bar)", barmode="stack",
                                            barnorm="percent",
                                            yaxis={"title": {"text": "share of the phase's total (%)"},
                                                   "range": [0, top], "ticksuffix": "%"})}


def capex_chart(plan: dict[str, Any]) -> Fig:
    """Capex per phase, stacked by category."""
    return _stacked(plan, "capex_breakdown_usd", "Capex by category", "billion USD", 1e9, "capex_usd")


def opex_chart(plan: dict[str, Any]) -> Fig:
    """Opex per year per phase, stacked by category."""
    return _stacked(plan, "opex_breakdown_usd_per_year", "Opex per year by category", "million USD per year", 1e6,
                    "opex_usd_per_year")


def power_chart(plan: dict[str, Any]) -> Fig:
    """Facility power per phase (log axis: phases span decades), with rack density and the cooling chosen."""
    names = _names(plan)
    ph = plan["phases"]
    layout = _layout("Power and cooling",
                     yaxis={"title": {"text": "facility power (MW, log)"}, "type": "log", "dtick": 1},
                     yaxis2={"title": {"text": "rack density (kW per rack)", "standoff": 8}, "overlaying": "y",
                             "side": "right", "rangemode": "tozero", "showgrid": False, "tickmode": "auto", "nticks": 6,
                             "automargin": True})
    layout["margin"]["r"] = 70
    return {"data": _with_ranges([
        {"type": "bar", "name": "facility power (MW)", "x": names, "y": [p["facility_power_w"] / 1e6 for p in ph],
         "text": [p["design"]["cooling"].replace("_", " ") for p in ph], "textposition": "outside",
         "textangle": 0, "cliponaxis": False},
        {"type": "scatter", "mode": "lines+markers", "name": "kW per rack", "x": names,
         "y": [p["design"]["kw_per_rack"] for p in ph], "yaxis": "y2"},
    ], band_trace(names, ph, "facility_power_w", 1e-6, name="facility power P10–P90")), "layout": layout}


def fabric_chart(fabric: dict[str, Any]) -> Fig:
    """The scale-out fabric drawn by tiers: switches per tier, links between them."""
    tiers = fabric["switches_by_tier"]
    labels = ["leaf" if i == 0 else "core" if i == len(tiers) - 1 and i > 1 else "spine" if i == 1 else f"tier {i + 1}"
              for i in range(len(tiers))]
    labels = [f"{lab}: {n:,} switches" for lab, n in zip(labels, tiers, strict=True)]
    ys = list(range(1, len(tiers) + 1))
    data = [{"type": "bar", "orientation": "h", "x": tiers, "y": labels, "name": "switches",
             "text": [f"{n:,}" for n in tiers], "textposition": "auto"},
            {"type": "scatter", "mode": "text", "x": [max(tiers) * 0.5] * len(ys), "y": labels,
             "text": [f"{links:,} links up ({media})" for links, media in
                      zip(fabric["links_by_tier"], fabric["media_by_tier"], strict=True)],
             "textposition": "middle right", "showlegend": False}]
    title = (f"Fabric: {fabric['gpus']:,} GPUs, {fabric['fabric']} on {fabric['switch']} "
             f"({fabric['switch_radix']} ports), {fabric['tiers']} tiers")
    layout = _layout(title, height=140 + 60 * len(tiers), yaxis={"autorange": "reversed"}, showlegend=False,
                     xaxis={"rangemode": "tozero", "title": {"text": "switches per tier"}})
    layout["margin"]["l"] = 190
    return {"data": data, "layout": layout}


def step_chart(plan: dict[str, Any]) -> Fig:
    """Step-time breakdown of each phase's reference training job, with its parallel plan."""
    names, jobs = [], []
    for p, n in zip(plan["phases"], _names(plan), strict=True):
        if p["reference_job"]:
            names.append(n)
            jobs.append(p["reference_job"])
    parts = [part for part in (jobs[0]["breakdown_s"] if jobs else []) if any(j["breakdown_s"][part] > 0 for j in jobs)]
    data = [{"type": "bar", "name": part.replace("_", " "), "x": names, "y": [j["breakdown_s"][part] for j in jobs],
             "hovertext": [", ".join(f"{k}={v}" for k, v in j["parallelism"].items()) for j in jobs]} for part in parts]
    return {"data": data, "layout": _layout("Training step time of the reference model", barmode="stack",
                                            yaxis={"title": {"text": "seconds per step"}})}


def scaling_chart(plan: dict[str, Any], law: str = "besiroglu2024") -> Fig:
    """Loss of the compute-optimal model against training compute, each phase marked."""
    c = np.logspace(20, 29, 60)
    n, d = compute_optimal(c, law)
    ph = [p for p in plan["phases"] if p["usable_flops"]]
    return {"data": _with_ranges([
        {"type": "scatter", "mode": "lines", "name": f"compute-optimal loss ({law})", "x": c.tolist(),
         "y": loss(n, d, law).tolist()},
        {"type": "scatter", "mode": "markers+text", "name": "phases (usable compute)", "x": [p["usable_flops"] for p in ph],
         "y": [p["largest_model_loss"] for p in ph], "text": [p["name"].split(":")[0] for p in ph],
         # alternate above and below the curve, so that the labels of phases close in compute do not pile up
         "textposition": ["top right" if i % 2 == 0 else "bottom left" for i in range(len(ph))], "marker": {"size": 11}},
    ], band_trace([p["largest_model_loss"] for p in ph], ph, "usable_flops", axis="x", name="usable compute P10–P90")),
        "layout": _layout(f"Scaling law: {LAWS[law].source}",
                         xaxis={"type": "log", "title": {"text": "training compute (FLOP, log)"}, "exponentformat": "power"},
                         yaxis={"title": {"text": "loss (nats/token)"}})}


def goodput_chart(plan: dict[str, Any]) -> Fig:
    """Where each phase's GPU-time goes under the recovery strategy the plan took (stacked, sums to 1)."""
    names = [f"{n}<br>{p['reliability'].get('strategy', '')}" for p, n in zip(plan["phases"], _names(plan), strict=True)]
    parts = ("goodput", "lost_work", "restart", "checkpoint", "spares_idle")
    data = [{"type": "bar", "name": part.replace("_", " "), "x": names,
             "y": [p["reliability"].get("goodput_breakdown", {}).get(part, 0.0) for p in plan["phases"]]}
            for part in parts]
    data[0] |= {"text": [f"{100 * y:.1f}%" for y in data[0]["y"]], "textposition": "inside"}  # the goodput, on its bar
    data = _with_ranges(data, band_trace(names, plan["phases"], "goodput", name="goodput P10–P90"))
    return {"data": data, "layout": _layout("Goodput and what the rest of the GPU-time goes to", barmode="stack",
                                            yaxis={"title": {"text": "share of GPU-time"}, "range": [0, 1],
                                                   "tickformat": ".0%"}, xaxis={"tickangle": 0})}


def roadmap_chart(plan: dict[str, Any]) -> Fig:
    """The build-out over time: GPUs per phase (bubble size: facility power)."""
    ph = plan["phases"]
    power = np.array([p["facility_power_w"] for p in ph])
    years = [p["year"] for p in ph]
    band = band_trace(years, ph, "gpus", name="GPUs P10–P90", showlegend=False)  # the title says what it is
    return {"data": _with_ranges([{"type": "scatter", "mode": "markers+text", "x": years,
                      "y": [p["gpus"] for p in ph], "text": [p["name"].split(":")[0] for p in ph],
                      "textposition": "top center",
                      "marker": {"size": (10 + 40 * np.sqrt(power / power.max())).tolist()},
                      "hovertext": [f"{p['accelerator']}, {format_usd(p['capex_usd'])}, {format_quantity(p['facility_power_w'], 'W')}"
                                    for p in ph]}], band),
            "layout": _layout("Roadmap: GPUs per phase (size: facility power" + ("; whiskers: P10–P90)" if band else ")"),
                              yaxis={"type": "log", "title": {"text": "GPUs (log)"}}, xaxis={"title": {"text": "year"}})}


def plan_charts(plan: dict[str, Any], fabric: dict[str, Any] | None = None) -> dict[str, Fig]:
    """Every chart of a plan, by id (the fabric chart when a fabric design is given)."""
    charts = {"roadmap": roadmap_chart(plan), "capex": capex_chart(plan), "opex": opex_chart(plan),
              "power": power_chart(plan), "step": step_chart(plan), "scaling": scaling_chart(plan),
              "goodput": goodput_chart(plan)}
    if fabric is not None:
        charts["fabric"] = fabric_chart(fabric)
    charts["serving"] = serving_chart(plan)
    return charts


def how_sure_charts(plan: dict[str, Any], sensitivity: dict[str, Any] | None = None) -> dict[str, Fig]:
    """The "How sure" charts of a plan, by id: a fan chart of each headline over the phases (when the
    phases carry ranges) and, given a sensitivity answer (``stargate sensitivity --json``: ``phase``,
    ``headlines``), a tornado chart of each headline for that phase."""
    charts = fan_charts(plan, _names(plan), _layout)
    if sensitivity:
        name = sensitivity.get("phase")
        phase = next((p for p in plan["phases"] if p["name"] == name), plan["phases"][-1])
        charts |= tornado_charts(sensitivity, phase, _layout)
    return charts


def serving_chart(plan: dict[str, Any]) -> Fig:
    """Throughput against interactivity of the plan's reference serving workload, one line per accelerator."""
    from stargate.report.plan_serving import frontier_chart

    return frontier_chart(plan, _layout)
