"""A plan's serving rows (terminal, HTML report, dashboard) and its throughput-interactivity chart.

Both take the phase's ``serving`` dict (:mod:`stargate.capacity`) and the plan's
``serving_workload``, so the terminal, the report and the dashboard say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stargate.format import format_count, format_percent, format_scaled_count, format_usd

__all__ = ["frontier_chart", "serving_rows", "workload_text"]

Cell = Callable[[dict[str, Any] | None], str]


def _interactivity(workload: dict[str, Any]) -> str:
    if workload.get("tokens_per_user"):
        return f"{workload['tokens_per_user']:g} tokens/s"
    if workload.get("tpot_s"):
        return f"{1 / workload['tpot_s']:.3g} tokens/s"
    return "any speed"


def _deployment(s: dict[str, Any]) -> str:
    d = s["deployment"]
    layout = " ".join(f"{k}{d[k]}" for k in ("tp", "pp", "ep") if d[k] > 1) or "1 GPU"
    split = f"prefill:decode {d['prefill_decode_split']}" if d["disaggregated"] else "aggregated"
    return f"{layout}, batch {d['batch']:,}, {split}"


def _gpus(s: dict[str, Any]) -> str:
    if s["serving_share"] >= 1.0:
        return f"all {format_count(s['serving_gpus'])} GPUs"
    return f"{format_count(s['serving_gpus'])} GPUs ({format_percent(s['serving_share'])})"


def _opt(cell: Callable[[dict[str, Any]], str]) -> Cell:
    return lambda s: "—" if s is None else cell(s)


def workload_text(workload: dict[str, Any] | None) -> str:
    """The reference serving workload in words.

    Examples
    --------
    >>> workload_text({"model": "deepseek-v3", "input_tokens": 1024, "output_tokens": 1024,
    ...                "tokens_per_user": 25.0, "ttft_s": 2.0, "precision": "fp8"})
    'deepseek-v3, 1024 prompt and 1024 generated tokens, 25 tokens/s per user, TTFT ≤ 2 s (p99), fp8'
    """
    w = workload or {}
    ttft = f", TTFT ≤ {w['ttft_s']:g} s (p99)" if w.get("ttft_s") else ""
    return (f"{w.get('model', '')}, {w.get('input_tokens', 0):g} prompt and {w.get('output_tokens', 0):g} generated "
            f"tokens, {_interactivity(w)} per user{ttft}, {w.get('precision', '')}")


def serving_rows(workload: dict[str, Any] | None) -> list[tuple[str, Cell]]:
    """Label and cell function (of a phase's ``serving`` dict or None) of each serving row.

    Examples
    --------
    >>> rows = serving_rows({"model": "deepseek-v3", "input_tokens": 1024, "output_tokens": 1024,
    ...                      "tokens_per_user": 25.0, "ttft_s": 2.0})
    >>> rows[0][0], rows[2][0], rows[3][1]({"usd_per_million_tokens": 0.212})
    ('serving deepseek-v3', '  users at 25 tokens/s', '$0.21')
    >>> rows[1][1](None)
    '—'
    """
    w = workload or {}
    return [
        (f"serving {w.get('model', '')}", _opt(_gpus)),
        ("  tokens per day", _opt(lambda s: format_scaled_count(s["tokens_per_day"]))),
        (f"  users at {_interactivity(w)}", _opt(lambda s: format_scaled_count(s["users"]))),
        ("  $ per million tokens", _opt(lambda s: format_usd(s["usd_per_million_tokens"]))),
        ("  tokens/s per GPU", _opt(lambda s: format_scaled_count(s["tokens_per_s_per_gpu"]))),
        ("  tokens/s per MW", _opt(lambda s: format_scaled_count(s["tokens_per_mw"]))),
        ("  deployment", _opt(_deployment)),
    ]


def frontier_chart(plan: dict[str, Any], layout: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Tokens/s per GPU against tokens/s per user, one line per accelerator of the plan (its first
    phase's frontier), the chosen point of each marked; ``layout`` is the charts' common layout.

    Examples
    --------
    >>> from stargate.plan import builtin_scenario, run_plan
    >>> fig = frontier_chart(run_plan(builtin_scenario()).model_dump(mode="json"), lambda title, **kw: kw)
    >>> [t["name"] for t in fig["data"] if t.get("showlegend", True)]
    ['v100-32g (bf16)', 'a100-80g (bf16)', 'h100-sxm-80g (fp8)', 'gb200-186g (fp8)', 'rubin-288g (fp8)']
    """
    from stargate.report.uncertainty import band_trace

    data: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for p in plan["phases"]:
        s = p.get("serving")
        if not s or p["accelerator"] in seen:
            continue
        seen[p["accelerator"]] = p
        f = s["frontier"]
        data.append({"type": "scatter", "mode": "lines+markers", "name": f"{p['accelerator']} ({s['precision']})",
                     "x": [q["tokens_per_s_per_user"] for q in f], "y": [q["tokens_per_s_per_gpu"] for q in f],
                     "hovertemplate": "%{y:,.4g} tokens/s per GPU at %{x:,.3g} tokens/s per user<extra>%{fullData.name}</extra>"})
        data.append({"type": "scatter", "mode": "markers", "showlegend": False, "name": f"{p['accelerator']} chosen",
                     "x": [s["tokens_per_s_per_user"]], "y": [s["tokens_per_s_per_gpu"]],
                     "marker": {"symbol": "star", "size": 14, "color": "black"}, "hoverinfo": "skip"})
    band = band_trace([p["serving"]["tokens_per_s_per_user"] for p in seen.values()], list(seen.values()),
                      "serving.tokens_per_s_per_gpu", name="tokens/s per GPU P10–P90")
    data += [band] if band else []
    w = plan.get("serving_workload") or {}
    title = (f"Serving {w.get('model', '')} ({w.get('input_tokens', 0):g} in, {w.get('output_tokens', 0):g} out): "
             "throughput against interactivity (star: the plan's point)")
    return {"data": data, "layout": layout(title, xaxis={"type": "log", "title": {"text": "tokens/s per user (log)"}},
                                           yaxis={"type": "log", "title": {"text": "tokens/s per GPU (log)"}})}
