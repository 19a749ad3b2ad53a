"""The serving answer for people: ``stargate infer``'s terminal summary and its frontier table.

The summary fits 80 columns: the model and machine, the best deployment under the limits, its
throughput, latencies, users, memory and economics, then the throughput–interactivity frontier as a
small table (the chosen point in bold).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from stargate.format import format_count, format_quantity, format_scaled_count, format_usd

__all__ = ["MAX_FRONTIER_ROWS", "frontier_rows", "layout_text", "render_infer"]

MAX_FRONTIER_ROWS = 12
"""Most frontier points the terminal table shows (evenly picked, both ends kept)."""


def layout_text(d: dict[str, Any]) -> str:
    """A serving layout in one short cell: degrees above 1 (tp always), attention data parallelism.

    Examples
    --------
    >>> layout_text({"tp": 8, "pp": 1, "ep": 8, "attention_dp": True})
    'tp8 ep8 adp'
    >>> layout_text({"tp": 1, "pp": 2, "ep": 1, "attention_dp": False})
    'tp1 pp2'
    """
    degrees = " ".join(f"{k}{d[k]}" for k in ("tp", "pp", "ep") if d[k] > 1 or k == "tp")
    return degrees + (" adp" if d.get("attention_dp") else "")


def _deployment_lines(out: dict[str, Any]) -> list[str]:
    d = out["deployment"]
    per = f"{d['replica_gpus']} GPU{'s' if d['replica_gpus'] > 1 else ''} each"
    plural = "s" if d["replicas"] > 1 else ""
    line = f"deployment: {d['replicas']:,} replica{plural} of {layout_text(d)} ({per}), batch {d['batch']:,}"
    if d["disaggregated"]:
        split = f"  disaggregated: prefill:decode GPUs {d['prefill_decode_split']}, prefill {layout_text(d['prefill_layout'])}"
        return [line, split]
    return [line + ", aggregated"]


def _limits(req: dict[str, Any]) -> str:
    ttft = "none" if req["ttft_s"] is None else format_quantity(req["ttft_s"], "s")
    tpot = "none" if req["tpot_limit_s"] is None else format_quantity(req["tpot_limit_s"], "s")
    return f"limits at p99: TTFT {ttft}, TPOT {tpot}"


def frontier_rows(frontier: list[dict[str, Any]], most: int = MAX_FRONTIER_ROWS,
                  keep: int | None = None) -> list[dict[str, Any]]:
    """At most ``most`` points of the frontier, evenly spread, the first and last kept, and the point at index
    ``keep`` (the chosen one) in place of the spread point nearest it.

    Examples
    --------
    >>> [p["i"] for p in frontier_rows([{"i": i} for i in range(30)], 4)]
    [0, 10, 19, 29]
    >>> [p["i"] for p in frontier_rows([{"i": i} for i in range(30)], 4, keep=13)]
    [0, 13, 19, 29]
    """
    if len(frontier) <= most:
        return list(frontier)
    step = (len(frontier) - 1) / (most - 1)
    idx = [round(i * step) for i in range(most)]
    if keep is not None and keep not in idx:
        inner = range(1, most - 1) if most > 2 else range(most)
        idx[min(inner, key=lambda j: abs(idx[j] - keep))] = keep
    return [frontier[i] for i in sorted(idx)]


def _frontier_table(out: dict[str, Any]) -> Table:
    t = Table(title="Throughput–interactivity frontier (bold: the chosen point)", title_justify="left", box=None,
              pad_edge=False)
    for col in ("tok/s/user", "tok/s/GPU", "TTFT", "batch", "layout", "serving"):
        t.add_column(col, justify="left" if col in ("layout", "serving") else "right")
    chosen = (out["deployment"]["batch"], out["tokens_per_s_per_gpu"])
    at = next((i for i, p in enumerate(out["frontier"]) if (p["batch"], p["tokens_per_s_per_gpu"]) == chosen), None)
    for p in frontier_rows(out["frontier"], keep=at):
        bold = (p["batch"], p["tokens_per_s_per_gpu"]) == chosen
        t.add_row(f"{p['tokens_per_s_per_user']:,.1f}", f"{p['tokens_per_s_per_gpu']:,.0f}",
                  format_quantity(p["ttft_s"], "s"), f"{p['batch']:,}", layout_text({**p, "ep": 1}),
                  "disaggregated" if p["disaggregated"] else "aggregated", style="bold" if bold else None)
    return t


def _per_million(usd: float) -> str:
    """Dollars per million tokens: three significant digits (cents are too coarse at $0.1)."""
    return f"${usd:,.3g}" if usd < 1000 else format_usd(usd)


def render_infer(out: dict[str, Any], console: Console | None = None) -> None:
    """Print a serving answer (the JSON of ``stargate infer``) as a compact summary and the frontier."""
    from stargate.report.tables import _safe

    out = _safe(out)
    c = console or Console(highlight=False, emoji=False)
    req = out["request"]
    c.print(f"[bold]{out['model']}[/] ({format_scaled_count(out['params_total'])} parameters) on "
            f"{format_count(out['gpus'])} × {out['accelerator']}: {req['precision']}, {req['kv_dtype']} KV cache, "
            f"{req['framework']}")
    c.print(f"requests: {req['input_tokens']:,.0f} in + {req['output_tokens']:,.0f} out tokens; " + _limits(req)
            + ("" if out["meets_limits"] else " [bold red](not met)[/]"))
    for line in _deployment_lines(out):
        c.print(line)
    c.print(f"tokens/s: {out['tokens_per_s_per_gpu']:,.0f} per GPU, {out['tokens_per_s_per_replica']:,.0f} per replica, "
            f"{out['tokens_per_s']:,.0f} in all (output tokens)")
    c.print(f"latency: TTFT {format_quantity(out['ttft_s'], 's')} (p99 {format_quantity(out['ttft_p99_s'], 's')}), "
            f"TPOT {format_quantity(out['tpot_s'], 's')} (p99 {format_quantity(out['tpot_p99_s'], 's')})")
    c.print(f"users: {out['tokens_per_s_per_user']:,.1f} tokens/s each, {out['concurrent_users']:,.0f} at once "
            f"(KV cache holds {out['max_concurrency']:,}), {out['requests_per_s']:,.1f} req/s")
    c.print(f"memory per GPU: weights {out['weight_bytes_per_gpu'] / 2**30:.1f} GiB, KV cache "
            f"{out['kv_cache_bytes_per_gpu'] / 2**30:.1f} GiB ({out['kv_bytes_per_token'] / 2**10:,.0f} KiB per token)")
    c.print(f"power: {format_scaled_count(out['tokens_per_mw'])} tokens/s per MW of facility power "
            f"({format_quantity(out['facility_power_w'], 'W')} for {format_count(out['gpus'])} GPUs)")
    c.print(f"cost: {_per_million(out['usd_per_million_tokens'])} per million output tokens at "
            f"{format_usd(out['tco_usd_per_gpu_hour'])} per GPU-hour (TCO);")
    c.print(f"  by prefill's {out['prefill_time_share']:.0%} of GPU time: "
            f"{_per_million(out['usd_per_million_input_tokens'])}/M input, "
            f"{_per_million(out['usd_per_million_output_tokens'])}/M output")
    c.print(_frontier_table(out))
    for note in out["notes"]:
        c.print(f"[dim]note: {note}[/]")
