"""Predict measured serving runs (``inference_runs.csv`` format) and measure the error.

A row is a model served on ``num_gpus`` accelerators under a scenario (``shared/validation/inference_README.md``):

- ``offline``: every query at once, no latency limit — compared with the most tokens/s the search finds;
- ``server`` and ``interactive``: Poisson arrivals under p99 TTFT and TPOT limits — compared with the most
  tokens/s among the points whose predicted p99 latencies meet the row's limits;
- ``concurrency_sweep``: closed-loop clients at a fixed concurrency against one engine on all the row's
  GPUs — compared with the most tokens/s among the layouts of that size at that many requests in flight.

The model is the shipped preset of the row's Hugging Face id where one exists (:data:`PRESETS`), else the
row's architecture columns (SwiGLU FFNs, as every model in the file has). Mean prompt and output lengths
come from the row, else from the benchmark's documented workload (catalog ``serving_benchmarks``), and so
does the spread of the generated lengths (``output_tokens_cv``: a long request stays in flight longer).
Empty settings take documented defaults, each listed with the row: weights ``fp8``; KV cache ``fp8``
below 16-bit weights; ``disaggregated`` decided by the search. Measured columns are never inputs.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError, clip
from stargate.inference.context import ServingContext, resolve_serving
from stargate.inference.request import ServingRequest
from stargate.inference.search import Points, points, raw_points
from stargate.inference.serve import best_index, p99_latencies
from stargate.inputs import write_text_atomic
from stargate.training.model import ModelSpec
from stargate.training.presets import preset
from stargate.training.validate import _model, _reason, read_runs

__all__ = ["PRESETS", "ServingRow", "is_serving_file", "predict_serving_row", "read_runs", "summarize_serving",
           "validate_serving", "write_serving_predictions"]

PRESETS = {
    "meta-llama/Llama-2-70b-chat-hf": "llama2-70b", "meta-llama/Llama-2-70b-hf": "llama2-70b",
    "meta-llama/Llama-3.1-8B-Instruct": "llama3.1-8b", "meta-llama/Llama-3.1-405B-Instruct": "llama3.1-405b",
    "mistralai/Mixtral-8x7B-Instruct-v0.1": "mixtral-8x7b", "deepseek-ai/DeepSeek-R1": "deepseek-v3",
    "openai/gpt-oss-120b": "gpt-oss-120b",
}
"""Hugging Face ids of the file → shipped presets (DeepSeek-R1 has DeepSeek-V3's architecture, its config.json)."""
SOFTWARE_YEAR = {"mlperf_inf_v4.1": 2024.66, "mlperf_inf_v5.0": 2025.25, "mlperf_inf_v5.1": 2025.69,
                 "mlperf_inf_v6.0": 2026.25, "mlperf_inf_v6.1": 2026.69, "inferencex_experimental": 2026.5}
"""When each source's software was current: MLPerf Inference publication dates (v4.1 2024-08-28, v5.0 2025-04-02,
v5.1 2025-09-09, MLCommons press releases); v6.0 and v6.1 at the same six-monthly cadence (April and September
2026); the InferenceX sweep mid-2026 (its repository commit)."""
SPECULATIVE = {("deepseek-r1", "interactive"): (3, 2026.0)}
"""Draft tokens of the speculative decoding the submitters ran, and from when: where the MLPerf rules allow it
(inference_rules.adoc, appendix "Speculative Decoding", ``speculative-num-steps=3``) and the published
configurations use it. DeepSeek-R1 Interactive from its first round (v6.0; NVIDIA's v6.0 and v6.1 configurations
run its MTP head with three draft tokens, ``num_nextn_predict_layers: 3``). GPT-OSS-120B Interactive is allowed it
from the rules change of 2026-05-18 (mlcommons/inference_policies commit 4c1dc9c), but NVIDIA's v6.1
configurations for it (GB200 and GB300 NVL72, TensorRT-LLM and Dynamo: ``closed/NVIDIA/configs/gpt_oss_120b/*/
*/Interactive/*gen*.yaml``) set no ``speculative_config``, and its v6.1 GB300 result (9,296 tokens/s per GPU)
equals its v6.0 one (9,406) decoded one token per step: it decodes one token per step here."""
_PRECISION = {"nvfp4": "fp4", "mxfp4": "fp4", "fp8": "fp8", "int8": "fp8", "bf16": "bf16"}
_FRAMEWORK = {"trtllm": "trtllm", "dynamo": "trtllm", "vllm": "vllm", "sglang": "sglang"}
_SERVING_COLUMNS = ("scenario", "measured_tokens_per_s", "output_tokens_mean")
PRED_COLUMNS = ("run_id", "predicted_tokens_per_s", "predicted_tokens_per_s_per_gpu", "predicted_ttft_s",
                "predicted_tpot_s", "meets_limits")
"""Columns of ``stargate validate --out`` for a serving runs file (DESIGN.md contract), then the extras."""


def is_serving_file(header: list[str]) -> bool:
    """Whether a runs file's header is a serving runs file's (it has a scenario and measured serving throughput)."""
    return all(c in header for c in _SERVING_COLUMNS)


@dataclass
class ServingRow:
    """One row's prediction, or the reason it was skipped."""

    run_id: str
    source_id: str
    accelerator: str
    model: str
    scenario: str
    benchmark: str = ""
    framework: str = ""
    skipped: str = ""
    defaults: list[str] = field(default_factory=list)
    predicted_tokens_per_s: float = math.nan
    predicted_tokens_per_s_per_gpu: float = math.nan
    predicted_ttft_s: float = math.nan
    """Predicted p99 TTFT at the chosen point."""
    predicted_tpot_s: float = math.nan
    """Predicted p99 TPOT at the chosen point."""
    meets_limits: bool = False
    measured_tokens_per_s_per_gpu: float = math.nan
    deployment: str = ""

    @property
    def error(self) -> float:
        """Relative error of tokens/s per GPU (prediction / measurement - 1)."""
        return self.predicted_tokens_per_s_per_gpu / self.measured_tokens_per_s_per_gpu - 1

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (NaN becomes ``None``)."""
        out: dict[str, Any] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                               for k, v in self.__dict__.items()}
        out["error"] = self.error if math.isfinite(self.error) else None
        return out


def _blank(row: dict[str, str]) -> ServingRow:
    def cell(k: str) -> str:
        return clip(str(row.get(k) or ""), 80)
    return ServingRow(cell("run_id"), cell("source_id"), cell("accelerator"), cell("model"), cell("scenario"),
                      benchmark=cell("benchmark"), framework=cell("framework"))


def _float(row: dict[str, str], key: str) -> float | None:
    v = row.get(key, "").strip()
    if not v:
        return None
    x = float(v)
    if not math.isfinite(x):
        raise ValueError(f"{key}: {v!r} is not a finite number")
    return x


def row_model(row: dict[str, str]) -> ModelSpec:
    """The served model: the preset of the row's Hugging Face id, else its architecture columns (SwiGLU)."""
    name = row.get("model", "")
    if name in PRESETS:
        return preset(PRESETS[name])
    if row.get("attention_kind") == "hybrid_linear":
        raise ValueError("linear-attention (hybrid_linear) layers are not modelled")
    return _model({**row, "ffn_kind": "swiglu"}).model_copy(update={"name": name or "run"})


def _workload(row: dict[str, str], catalog: Catalog, taken: list[str]) -> tuple[float, float, float]:
    """Mean prompt and output lengths (the row's, else the benchmark's) and the output lengths' spread."""
    bench = row.get("benchmark", "")
    doc = benchmark_workload(bench, catalog)
    lengths = []
    for col, key in (("input_tokens_mean", "input_tokens_mean"), ("output_tokens_mean", "output_tokens_mean")):
        v = _float(row, col)
        if v is None:
            v = doc.get(key)
            if v is None:
                raise ValueError(f"no {col} in the row and none documented for benchmark {bench!r}")
            taken.append(f"{col}={v:g} ({bench})")
        lengths.append(float(v))
    return lengths[0], lengths[1], float(doc.get("output_tokens_cv") or 0.0)


def benchmark_workload(benchmark: str, catalog: Catalog) -> dict[str, Any]:
    """The documented mean input and output lengths of an MLPerf benchmark (catalog ``serving_benchmark``)."""
    try:
        entry = catalog.serving_benchmark(benchmark)
    except InputError:
        return {}
    cv = entry.output_tokens_cv.value if entry.output_tokens_cv is not None else None
    return {"input_tokens_mean": entry.input_tokens_mean.value, "output_tokens_mean": entry.output_tokens_mean.value,
            "output_tokens_cv": cv}


def speculative_tokens(row: dict[str, str]) -> int:
    """Draft tokens the submitters of the row's benchmark and scenario ran in the row's round (:data:`SPECULATIVE`).

    Examples
    --------
    >>> speculative_tokens({"benchmark": "deepseek-r1", "scenario": "interactive", "source_id": "mlperf_inf_v5.1"})
    0
    >>> speculative_tokens({"benchmark": "deepseek-r1", "scenario": "interactive", "source_id": "mlperf_inf_v6.1"})
    3
    >>> speculative_tokens({"benchmark": "gpt-oss-120b", "scenario": "interactive", "source_id": "mlperf_inf_v6.1"})
    0
    """
    k, since = SPECULATIVE.get((row.get("benchmark", ""), row.get("scenario", "")), (0, 0.0))
    year = SOFTWARE_YEAR.get(row.get("source_id", ""))
    return k if year is None or year >= since else 0


def request_of(row: dict[str, str], catalog: Catalog) -> tuple[ServingRequest, list[str]]:
    """The serving request a row describes, and the defaults taken for its empty settings."""
    taken: list[str] = []
    inp, out, cv = _workload(row, catalog, taken)
    prec = _PRECISION.get(row.get("precision", ""))
    if prec is None:
        prec = "fp8"
        taken.append("precision=fp8")
    kv = row.get("kv_cache_dtype", "") or None
    if kv is None:
        taken.append("kv_cache_dtype=" + ("bf16" if prec == "bf16" else "fp8"))
    dis = {"y": "yes", "n": "no"}.get(row.get("disaggregated", ""), "auto")
    conc = _float(row, "concurrency") if row.get("scenario") == "concurrency_sweep" else None
    limits = row.get("scenario") in ("server", "interactive")
    req = ServingRequest(
        accelerator=row.get("accelerator", ""), gpus=int(float(row.get("num_gpus") or 0)), input_tokens=inp,
        output_tokens=out, output_tokens_cv=cv, ttft_s=_float(row, "ttft_limit_s") if limits else None,
        tpot_s=_float(row, "tpot_limit_s") if limits else None, precision=prec, kv_dtype=kv,  # type: ignore[arg-type]
        disaggregated=dis, framework=_FRAMEWORK.get(row.get("framework", ""), "other"),  # type: ignore[arg-type]
        speculative_tokens=speculative_tokens(row),
        software_year=SOFTWARE_YEAR.get(row.get("source_id", "")), concurrency=int(conc) if conc else None, replica_gpus=int(float(row.get("num_gpus") or 0)) if conc else None,
    )
    return req, taken


def predict_serving_row(row: dict[str, str], catalog: Catalog, constants: dict[str, Any] | None = None,
                        cache: dict[Any, Any] | None = None) -> ServingRow:
    """Predict one row (raises on a row that cannot be read).

    ``cache`` keeps each distinct deployment's kernel times (:func:`~stargate.inference.search.raw_points`)
    between calls: rows that differ only in scenario or limits, and refits that change only the
    constants, reuse them.
    """
    res = _blank(row)
    res.measured_tokens_per_s_per_gpu = _float(row, "measured_tokens_per_s_per_gpu") or math.nan
    model = row_model(row)
    req, res.defaults = request_of(row, catalog)
    ctx = resolve_serving(model, req, catalog, constants)
    key = (model, req.model_copy(update={"ttft_s": None, "tpot_s": None}))
    raw = cache.get(key) if cache is not None else None
    if raw is None:
        raw = raw_points(ctx)
        if cache is not None:
            cache[key] = raw
    p = points(ctx, raw)
    i, met = best_index(p, req.ttft_s, req.tpot_s, ctx)
    _fill(res, p, i, met, req, ctx)
    return res


def _fill(res: ServingRow, p: Points, i: int, met: bool, req: ServingRequest, ctx: ServingContext) -> None:
    per_gpu = float(p.tokens_per_s_per_gpu[i]) if met else 0.0
    res.predicted_tokens_per_s_per_gpu = per_gpu
    res.predicted_tokens_per_s = per_gpu * req.gpus
    res.predicted_ttft_s, res.predicted_tpot_s = p99_latencies(float(p.ttft_s[i]), float(p.tpot_s[i]), ctx)
    res.meets_limits = met
    lay = p.layout
    res.deployment = (f"tp{int(lay.tp[i])} pp{int(lay.pp[i])} ep{int(lay.ep[i])}{' adp' if lay.adp[i] else ''} "
                      f"batch {int(p.batch[i])}{' disagg' if p.disaggregated[i] else ''}")


def validate_serving(rows: list[dict[str, str]], catalog: Catalog | None = None,
                     constants: dict[str, Any] | None = None, cache: dict[Any, Any] | None = None) -> list[ServingRow]:
    """Predict every row; a row that cannot be read is skipped with the reason, the others go on."""
    cat = catalog or Catalog.load()
    cache = {} if cache is None else cache
    out = []
    for row in rows:
        try:
            out.append(predict_serving_row(row, cat, constants, cache))
        except (ValueError, ArithmeticError, TypeError) as err:  # InputError is a ValueError
            r = _blank(row)
            r.skipped = f"not predicted: {_reason(err)}"
            out.append(r)
    return out


def _stats(rs: list[ServingRow]) -> dict[str, float]:
    errs = np.abs([r.error for r in rs])
    return {"rows": len(rs), "median_abs_error": float(np.median(errs)), "p90_abs_error": float(np.percentile(errs, 90)),
            "max_abs_error": float(errs.max()), "mean_error": float(statistics.fmean(r.error for r in rs))}


FAMILIES = {"h100": "NVIDIA Hopper", "h200": "NVIDIA Hopper", "gh200": "NVIDIA Hopper", "b200": "NVIDIA Blackwell",
            "b300": "NVIDIA Blackwell", "gb200": "NVIDIA Blackwell", "gb300": "NVIDIA Blackwell",
            "rtx-pro-6000": "NVIDIA Blackwell", "l40s": "NVIDIA Ada", "vr200": "NVIDIA Rubin", "mi300x": "AMD CDNA3",
            "mi325x": "AMD CDNA3", "mi350x": "AMD CDNA4", "mi355x": "AMD CDNA4", "mi350p": "AMD CDNA4"}
"""Accelerator family of each id prefix in the runs file (the targets are stated per family)."""


def family(accelerator: str) -> str:
    """The accelerator family of a runs-file id (``h200-141g`` → ``NVIDIA Hopper``)."""
    for prefix in sorted(FAMILIES, key=len, reverse=True):
        if accelerator.startswith(prefix + "-") or accelerator == prefix:
            return FAMILIES[prefix]
    return "other"


def summarize_serving(results: list[ServingRow], trust: dict[str, str] | None = None) -> dict[str, Any]:
    """Median, p90 and max absolute error of tokens/s per GPU: overall, by source, family, accelerator, model, scenario."""
    scored = [r for r in results if not r.skipped and math.isfinite(r.measured_tokens_per_s_per_gpu)]
    out: dict[str, Any] = {"kind": "serving", "predicted": sum(1 for r in results if not r.skipped),
                           "skipped": sum(1 for r in results if r.skipped), "with_measurement": len(scored)}
    if not scored:
        return out
    out["overall"] = _stats(scored)
    if trust is not None:
        a = [r for r in scored if trust.get(r.run_id) == "A"]
        if a:
            out["trust_a"] = _stats(a)
    keys = {"by_source": lambda r: r.source_id, "by_family": lambda r: family(r.accelerator),
            "by_accelerator": lambda r: r.accelerator, "by_model": lambda r: r.benchmark or r.model,
            "by_scenario": lambda r: r.scenario}
    for name, key in keys.items():
        groups = sorted({key(r) for r in scored})
        out[name] = {g: _stats([r for r in scored if key(r) == g]) for g in groups}
    return out


def write_serving_predictions(results: list[ServingRow], path: Path | str) -> None:
    """Write the serving PRED columns (then error, deployment, defaults, skip reason) to ``path``."""
    from stargate.report.export import csv_text

    extra = ("measured_tokens_per_s_per_gpu", "error", "deployment", "defaults", "skipped")
    rows = []
    for r in results:
        d = r.as_dict()
        d["defaults"] = "; ".join(r.defaults)
        rows.append({k: d.get(k) for k in PRED_COLUMNS + extra})
    cols = list(PRED_COLUMNS + extra)
    write_text_atomic(Path(path), csv_text([cols] + [[row[k] for k in cols] for row in rows]), "--out")
