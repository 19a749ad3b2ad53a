"""Pictures of how sure a plan is: P10–P90 error bars, fan charts and tornado charts, as Plotly figure dicts.

A phase of a plan run with ``--uncertainty`` carries ``ranges``: ``{headline: {"p10", "p50", "p90"}}``,
a nested headline dotted (``serving.usd_per_million_tokens``). This module draws them three ways:

- :func:`band_trace`: a trace of P50 markers whose whiskers span P10–P90 (``error_y``: ``p90 − p50`` up,
  ``p50 − p10`` down), laid over a chart's point-answer bars or markers, which stay as they are;
- :func:`fan_chart`: one headline over the phases, the P10–P90 band shaded, the P50 dashed and the point
  answer marked;
- :func:`tornado_chart`: the one-at-a-time swings of one headline (``stargate sensitivity``'s rows), largest
  on top, each bar running from the headline with the input at its P10 to the headline with it at its P90,
  through the point answer.

A plan without ranges draws none of these, and :mod:`stargate.report.charts` draws exactly what it drew before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stargate.report.plan_ranges import HEADLINES as TEXT
from stargate.report.plan_ranges import range_cell

__all__ = ["HEADLINES", "REPORT_SAMPLES", "TOP_INPUTS", "Headline", "band_trace", "chart_id", "fan_chart", "fan_charts", "point_at",
           "range_at", "tornado_chart", "tornado_charts", "value_at"]

Fig = dict[str, Any]
Layout = Callable[..., dict[str, Any]]

TOP_INPUTS = 12
"""Most inputs a tornado chart shows (those with the largest swings)."""
REPORT_SAMPLES = 500
"""Samples the report draws unless told (``stargate report --uncertainty N``): the built-in plan's ranges take
well under a second, and the P10 and P90 of 500 Latin hypercube samples move by a few per cent between seeds."""

BAND_COLOR = "#1f77b4"
BAND_FILL = "rgba(31, 119, 180, 0.22)"
WHISKER_COLOR = "#222222"
LOW_COLOR, HIGH_COLOR = "#4c78a8", "#e45756"


@dataclass(frozen=True, slots=True)
class Headline:
    """How one headline figure is drawn: its axis title and axis; its values are written as the terminal
    writes them (:data:`stargate.report.plan_ranges.HEADLINES`)."""

    label: str
    """What a reader sees (axis titles, chart titles)."""
    log: bool
    """Draw it on a log axis over the phases (it spans decades from the first phase to the last)."""
    tickformat: str = ""
    """Plotly tick format of its axis (``.0%`` for fractions)."""
    tickprefix: str = ""


HEADLINES: dict[str, Headline] = {
    "capex_usd": Headline("capex (USD)", True, tickprefix="$"),
    "facility_power_w": Headline("facility power (W)", True),
    "gpus": Headline("GPUs", True),
    "peak_flops": Headline("peak (dense 16-bit FLOP/s)", True),
    "mfu": Headline("MFU", False, tickformat=".0%"),
    "goodput": Headline("goodput", False, tickformat=".0%"),
    "largest_model_params": Headline("largest model (parameters)", True),
    "gpt4_class_days": Headline("GPT-4-class training (days)", True),
    "tco_usd_per_gpu_hour": Headline("TCO per GPU-hour (USD)", False, tickprefix="$"),
    "serving.usd_per_million_tokens": Headline("$ per million tokens served", True, tickprefix="$"),
    "serving.tokens_per_day": Headline("tokens served per day", True),
}
"""The headlines the pictures know, in the order they are drawn; a headline not listed is not drawn."""


def _fmt(key: str) -> Callable[[float], str]:
    """How one value of a headline is written (the terminal's way)."""
    return TEXT[key][1] if key in TEXT else (lambda v: f"{v:,.4g}")


def value_at(obj: Mapping[str, Any] | None, key: str) -> float | None:
    """The value of a (dotted) headline key in a phase or an answer; None where it is absent or null.

    Examples
    --------
    >>> value_at({"gpus": 8, "serving": {"usd_per_million_tokens": 0.2}}, "serving.usd_per_million_tokens")
    0.2
    >>> value_at({"serving": None}, "serving.usd_per_million_tokens") is None
    True
    """
    cur: Any = obj
    for part in key.split("."):
        if not isinstance(cur, Mapping) or cur.get(part) is None:
            return None
        cur = cur[part]
    return float(cur) if isinstance(cur, int | float) and not isinstance(cur, bool) else None


def point_at(phase: Mapping[str, Any], key: str) -> float | None:
    """A phase's point answer of a headline: its own figure, else its design's (``tco_usd_per_gpu_hour``).

    Examples
    --------
    >>> point_at({"design": {"tco_usd_per_gpu_hour": 2.5}}, "tco_usd_per_gpu_hour")
    2.5
    """
    v = value_at(phase, key)
    return v if v is not None else value_at(phase.get("design"), key)


def range_at(phase: Mapping[str, Any], key: str) -> dict[str, float] | None:
    """The phase's P10 / P50 / P90 of a headline, or None (no ranges, or none for that headline)."""
    r = (phase.get("ranges") or {}).get(key)
    if not r or any(r.get(q) is None or not math.isfinite(r[q]) for q in ("p10", "p50", "p90")):
        return None
    return {q: float(r[q]) for q in ("p10", "p50", "p90")}


def chart_id(prefix: str, key: str) -> str:
    """An id for a headline's chart that is safe in HTML ids and CSS selectors.

    Examples
    --------
    >>> chart_id("fan", "serving.usd_per_million_tokens")
    'fan-serving-usd_per_million_tokens'
    """
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _hover(phases: Sequence[Mapping[str, Any]], rs: Sequence[dict[str, float] | None], key: str) -> list[str]:
    """Each phase's ``<short name>: P50 a (b–c)``, empty where it has no range."""
    return [f"{str(p.get('name', '')).split(':')[0]}: P50 {range_cell(key, r)}" if r else ""
            for p, r in zip(phases, rs, strict=True)]


def band_trace(x: Sequence[Any], phases: Sequence[Mapping[str, Any]], key: str, scale: float = 1.0,
               axis: str = "y", **extra: Any) -> dict[str, Any] | None:
    """P50 markers with P10–P90 whiskers of one headline, one per phase, to lay over a chart's point answers.

    Parameters
    ----------
    x : sequence
        Where each phase is drawn on the chart's other axis (category labels, years, values).
    phases : sequence of dict
        The phases, each with its ``ranges``.
    key : str
        The headline (``facility_power_w``).
    scale : float
        Multiplies the values, as the chart scales its point answers (``1e-6`` for MW).
    axis : str
        ``"y"`` for vertical whiskers, ``"x"`` for horizontal ones (then ``x`` holds the other coordinate).
    **extra
        More trace attributes (``yaxis="y2"``).

    Returns
    -------
    dict or None
        The trace; None when no phase has a range for ``key`` (the chart stays as it was).

    Examples
    --------
    >>> t = band_trace(["P1"], [{"ranges": {"gpus": {"p10": 90.0, "p50": 100.0, "p90": 120.0}}}], "gpus")
    >>> t["y"], t["error_y"]["array"], t["error_y"]["arrayminus"]
    ([100.0], [20.0], [10.0])
    """
    rs = [range_at(p, key) for p in phases]
    if not any(rs):
        return None
    mid = [r["p50"] * scale if r else None for r in rs]
    other = "x" if axis == "y" else "y"
    return {"type": "scatter", "mode": "markers", "name": "P10–P90", axis: mid, other: list(x),
            "marker": {"symbol": "line-ew-open" if axis == "y" else "line-ns-open", "size": 14,
                       "color": WHISKER_COLOR, "line": {"width": 2}},
            f"error_{axis}": {"type": "data", "symmetric": False, "color": WHISKER_COLOR, "thickness": 1.5, "width": 7,
                              "array": [(r["p90"] - r["p50"]) * scale if r else None for r in rs],
                              "arrayminus": [(r["p50"] - r["p10"]) * scale if r else None for r in rs]},
            "hovertext": _hover(phases, rs, key), "hoverinfo": "text", **extra}


def fan_chart(x: Sequence[Any], phases: Sequence[Mapping[str, Any]], key: str, layout: Layout) -> Fig | None:
    """One headline over the phases: the P10–P90 band shaded, the P50 dashed, the point answer marked.

    ``layout`` is the charts' common layout function (title, keyword overrides); None when no phase has a
    range for ``key``.

    Examples
    --------
    >>> ph = [{"name": "P1", "capex_usd": 1e9, "ranges": {"capex_usd": {"p10": 0.8e9, "p50": 1.0e9, "p90": 1.3e9}}},
    ...       {"name": "P2", "capex_usd": 9e9, "ranges": {"capex_usd": {"p10": 7e9, "p50": 9.1e9, "p90": 12e9}}}]
    >>> fig = fan_chart(["P1", "P2"], ph, "capex_usd", lambda title, **kw: {"title": title, **kw})
    >>> [t["name"] for t in fig["data"]], fig["data"][1]["fill"]
    (['P10', 'P10–P90', 'P50', 'point answer'], 'tonexty')
    """
    rs = [range_at(p, key) for p in phases]
    if not any(rs):
        return None
    h, fmt = HEADLINES.get(key, Headline(key, False)), _fmt(key)
    xs = list(x)

    def q(name: str) -> list[float | None]:
        return [r[name] if r else None for r in rs]

    text = _hover(phases, rs, key)
    points = [point_at(p, key) for p in phases]
    data = [
        {"type": "scatter", "mode": "lines", "name": "P10", "x": xs, "y": q("p10"), "line": {"width": 0, "color": BAND_COLOR},
         "showlegend": False, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "name": "P10–P90", "x": xs, "y": q("p90"), "fill": "tonexty",
         "fillcolor": BAND_FILL, "line": {"width": 0, "color": BAND_COLOR}, "hovertext": text, "hoverinfo": "text"},
        {"type": "scatter", "mode": "lines", "name": "P50", "x": xs, "y": q("p50"),
         "line": {"dash": "dash", "color": BAND_COLOR}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines+markers", "name": "point answer", "x": xs, "y": points,
         "line": {"color": WHISKER_COLOR, "width": 1}, "marker": {"color": WHISKER_COLOR, "size": 7},
         "hovertext": [fmt(v) if v is not None else "" for v in points], "hoverinfo": "text"},
    ]
    yaxis = {"title": {"text": h.label + (" (log)" if h.log else "")}, "tickformat": h.tickformat, "tickprefix": h.tickprefix}
    if h.log:
        yaxis["type"] = "log"
    return {"data": data, "layout": layout(f"{h.label}: P10–P90 by phase", yaxis=yaxis, hovermode="x unified")}


def fan_charts(plan: Mapping[str, Any], x: Sequence[Any], layout: Layout) -> dict[str, Fig]:
    """The fan chart of every known headline some phase has a range for, by chart id (``fan-capex_usd``)."""
    phases = plan.get("phases", [])
    figs = {chart_id("fan", key): fan_chart(x, phases, key, layout) for key in HEADLINES}
    return {k: v for k, v in figs.items() if v is not None}


def _shown(rows: Sequence[Mapping[str, Any]], top: int) -> list[Mapping[str, Any]]:
    """The rows that move the headline at all (finite, non-zero swing), largest swing first, at most ``top``."""
    moving = [r for r in rows if r.get("swing") is not None and math.isfinite(r["swing"]) and r["swing"] > 0]
    return sorted(moving, key=lambda r: -r["swing"])[:top]


def _labels(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each row's input label, made unique with its key where two inputs share a label (a category axis
    would draw them as one bar)."""
    names = [str(r["input"]) for r in rows]
    return [f"{n} ({r.get('key', i)})" if names.count(n) > 1 else n for i, (n, r) in enumerate(zip(names, rows, strict=True))]


def _input_hover(r: Mapping[str, Any], fmt: Callable[[float], str], side: str) -> str:
    total = r.get("sobol_total")
    sobol = "—" if total is None else f"{total:.2f}"
    return (f"{r['input']} at its {side}: {fmt(r['output_at_low' if side == 'P10' else 'output_at_high'])}<br>"
            f"band P10–P90: {r['low']:,.4g}–{r['high']:,.4g}" + (f" ({r['basis']})" if r.get("basis") else "")
            + f"<br>swing {fmt(r['swing'])}, Sobol total {sobol}")


def tornado_chart(key: str, rows: Sequence[Mapping[str, Any]], point: float, layout: Layout,
                  top: int = TOP_INPUTS, phase: str = "") -> Fig | None:
    """The tornado of one headline: the inputs that move it most, largest swing on top.

    Parameters
    ----------
    key : str
        The headline (``capex_usd``).
    rows : sequence of dict
        ``stargate sensitivity``'s rows for it: ``input``, ``low``, ``high``, ``output_at_low``,
        ``output_at_high``, ``swing``, ``sobol_total`` (None without Sobol indices), ``basis``.
    point : float
        The headline's point answer: every bar starts there.
    layout : callable
        The charts' common layout function.
    top : int
        Most inputs drawn.
    phase : str
        The phase's name, for the title.

    Returns
    -------
    dict or None
        Two bar traces (the input at its P10, at its P90), one bar each per input shown; None when no
        input moves the headline.

    Examples
    --------
    >>> rows = [{"input": "switch price", "low": 0.9, "high": 1.1, "output_at_low": 99.0, "output_at_high": 101.0,
    ...          "swing": 2.0, "sobol_total": 0.01},
    ...         {"input": "chip price", "low": 8.0, "high": 12.5, "output_at_low": 80.0, "output_at_high": 125.0,
    ...          "swing": 45.0, "sobol_total": 0.99}]
    >>> fig = tornado_chart("capex_usd", rows, 100.0, lambda title, **kw: kw)
    >>> fig["data"][0]["y"], fig["data"][0]["base"], fig["data"][0]["x"], fig["data"][1]["x"]
    (['chip price', 'switch price'], [100.0, 100.0], [-20.0, -1.0], [25.0, 1.0])
    """
    shown = _shown(rows, top)
    if not shown:
        return None
    h, fmt = HEADLINES.get(key, Headline(key, False)), _fmt(key)
    labels = _labels(shown)
    traces = [{"type": "bar", "orientation": "h", "name": f"input at its {side}", "y": labels,
               "x": [r[out] - point for r in shown], "base": [point] * len(shown), "marker": {"color": color},
               "hovertext": [_input_hover(r, fmt, side) for r in shown], "hoverinfo": "text"}
              for side, out, color in (("P10", "output_at_low", LOW_COLOR), ("P90", "output_at_high", HIGH_COLOR))]
    moving = sum(1 for r in rows if r.get("swing") and math.isfinite(r["swing"]))
    where = f" ({phase.split(':')[0]})" if phase else ""
    title = f"{h.label}{where}: what moves it most (top {len(shown)} of {moving} inputs)"
    lay = layout(title, barmode="overlay", height=140 + 30 * len(shown),
                 yaxis={"autorange": "reversed", "automargin": True},
                 xaxis={"title": {"text": f"{h.label}, point answer {fmt(point)}"}, "tickformat": h.tickformat,
                        "tickprefix": h.tickprefix},
                 shapes=[{"type": "line", "x0": point, "x1": point, "yref": "paper", "y0": 0, "y1": 1,
                          "line": {"color": WHISKER_COLOR, "width": 1.5}}])
    return {"data": traces, "layout": lay}


def tornado_charts(sensitivity: Mapping[str, Any], phase: Mapping[str, Any], layout: Layout,
                   top: int = TOP_INPUTS) -> dict[str, Fig]:
    """The tornado of every headline of :data:`HEADLINES` in a sensitivity answer (``{"headlines": {key: rows}}``),
    by chart id (``tornado-capex_usd``); the point answers are the answer's ``points``, else the phase's own figures."""
    heads = sensitivity.get("headlines") or {}
    points = sensitivity.get("points") or {}
    out: dict[str, Fig] = {}
    for key in HEADLINES:
        point = points.get(key, point_at(phase, key))
        if key not in heads or point is None:
            continue
        fig = tornado_chart(key, heads[key], point, layout, top, str(phase.get("name", "")))
        if fig is not None:
            out[chart_id("tornado", key)] = fig
    return out
