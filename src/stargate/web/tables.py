"""The dashboard's tables of one planned phase, as rows of formatted text: its breakdowns (capex, IT
power, step time), its sites and the links between them, and the training job's plans.

The numbers are formatted here, by the project's formatters, so that the page shows what the CLI and
the report show; the browser only lays the rows out.
"""

from __future__ import annotations

from typing import Any

from stargate.units import format_quantity, format_usd

__all__ = ["breakdown_rows", "multisite_rows", "phase_tables", "plan_rows", "time_to_train_rows"]

Row = list[str]


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def breakdown_rows(parts: dict[str, float], total: float, fmt: Any) -> list[Row]:
    """One row per part (label, amount, share of ``total``), largest first, then the total.

    Examples
    --------
    >>> breakdown_rows({"network": 1e9, "accelerators": 3e9}, 4e9, format_usd)
    [['accelerators', '$3.0B', '75.0%'], ['network', '$1.0B', '25.0%'], ['total', '$4.0B', '100.0%']]
    """
    rows = [[k.replace("_", " "), fmt(v), _share(v, total)] for k, v in sorted(parts.items(), key=lambda kv: -kv[1])]
    return rows + [["total", fmt(total), _share(total, total)]]


def multisite_rows(phase: dict[str, Any]) -> list[Row]:
    """The sites of a multi-site phase, the links between them, their cost and what they add to a step
    (empty for one site).

    Examples
    --------
    >>> multisite_rows({"multisite": None})
    []
    """
    ms = phase.get("multisite")
    if not ms:
        return []
    link = ms["link"]
    step = (phase.get("reference_job") or {}).get("step_time_s") or 0.0
    added = ms["added_step_time_s"]
    return [
        ["sites", f"{ms['sites']} × {ms['gpus_per_site']:,} GPUs"],
        ["distance between sites", format_quantity(link["distance_m"], "m")],
        ["links", (f"{ms['links']}{' (a ring)' if ms['links'] > 2 else ''}, each {link['fiber_pairs']} fibre pairs × {link['wavelengths']} "
                   f"wavelengths of {link['optic']}, {format_quantity(link['capacity_bits_per_s'], 'bit/s')}")],
        ["link latency", f"{1e3 * link['latency_s']:.2f} ms one way"],
        ["cost of the links", (f"{format_usd(ms['links_capex_usd'])} "
                               f"({_share(ms['links_capex_usd'], phase['capex_usd'])} of the phase's capex)")],
        ["one link's cost", ", ".join(f"{k.replace('_', ' ')} {format_usd(v)}" for k, v in link["capex_breakdown_usd"].items())],
        ["power of the links", format_quantity(ms["links_power_w"], "W")],
        ["sites one job spans", str(ms["sites_per_job"])],
        ["added step time", f"{format_quantity(added, 's')} ({_share(added, step)} of the step)" if step else "—"],
    ]


def plan_rows(train: dict[str, Any] | None) -> dict[str, Any]:
    """The training job's best plan and its alternatives: layout, GPUs, step time, throughput, MFU, memory.

    Examples
    --------
    >>> plan_rows(None)
    {'columns': [], 'rows': []}
    """
    if not train or not train.get("parallelism"):
        return {"columns": [], "rows": []}
    columns = ["#", "tp", "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding", "GPUs used", "step time",
               "tokens/s per GPU", "MFU", "memory per GPU"]
    plans = [train] + [a for a in train.get("alternatives", []) if a.get("parallelism") != train["parallelism"]]
    rows = []
    for i, p in enumerate(plans, 1):
        par = p["parallelism"]
        rows.append([str(i), *(str(par[k]) for k in ("tp", "pp", "dp", "cp", "ep", "vp", "mbs", "recompute", "sharding")),
                     f"{p.get('gpus_used', train['gpus']):,}", f"{p['step_time_s']:.3g} s",
                     f"{p['tokens_per_s_per_gpu']:,.0f}", f"{100 * p['mfu']:.1f}%",
                     format_quantity(p["memory_per_gpu_bytes"], "B")])
    return {"columns": columns, "rows": rows}


def time_to_train_rows(train: dict[str, Any] | None) -> list[Row]:
    """The training job's time and cost to train its token budget (empty without one).

    Examples
    --------
    >>> time_to_train_rows({"time_to_train": {"tokens": 1e12, "tokens_basis": "given", "days": 15.86,
    ...     "gpu_hours": 24368.1, "cost_usd": 46059.0, "basis": "steady state"}})[:2]
    [['tokens', '1e+12 (given)'], ['days to train', '15.9']]
    """
    t = (train or {}).get("time_to_train")
    if not t:
        return []
    return [["tokens", f"{t['tokens']:.3g} ({t['tokens_basis']})"], ["days to train", f"{t['days']:,.1f}"],
            ["GPU-hours", f"{t['gpu_hours']:,.0f}"], ["cost at the TCO per GPU-hour", format_usd(t["cost_usd"])],
            ["basis", t["basis"]]]


def phase_tables(phase: dict[str, Any], train: dict[str, Any] | None) -> dict[str, Any]:
    """Every table of the dashboard for one phase and its training job.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> p = run_plan(builtin_scenario()).model_dump(mode="json")["phases"][0]
    >>> t = phase_tables(p, None)
    >>> t["capex"][-1][0], t["capex"][-1][2]
    ('total', '100.0%')
    """
    d = phase["design"]
    capex = dict(d["capex_breakdown_usd"])
    if phase.get("multisite"):
        capex["inter-site links"] = phase["multisite"]["links_capex_usd"]
    job = train or phase.get("reference_job")
    step = breakdown_rows({k: v for k, v in job["breakdown_s"].items() if v > 1e-6 * job["step_time_s"]}, job["step_time_s"],
                          lambda v: format_quantity(v, "s")) if job else []
    return {"capex": breakdown_rows(capex, phase["capex_usd"], format_usd),
            "power": breakdown_rows(d["it_power_breakdown_w"], d["it_power_w"], lambda v: format_quantity(v, "W"))
            + [[f"facility (IT × PUE {d['design_pue']:.2f})", format_quantity(d["facility_power_w"], "W"), ""]],
            "step": step, "multisite": multisite_rows(phase), "plans": plan_rows(train),
            "time_to_train": time_to_train_rows(train)}
