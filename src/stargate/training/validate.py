"""Predict published training runs and measure the error.

Reads any CSV in the format of ``shared/validation/README.md``. A row is predicted when it has
the model shape, the hardware, the parallel layout (tp, pp, dp) and the batch; otherwise it is
skipped with the reason. Empty settings take the documented default of the row's framework and
hardware (``training/framework_defaults.yaml``), and every default taken is listed with the row.
Measured columns are never inputs: they are read only to compute the error.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.enums import Fabric
from stargate.errors import InputError, clip, short_repr
from stargate.inputs import load_yaml, read_text_file, write_text_atomic
from stargate.training.context import Workload, resolve_context
from stargate.training.estimate import estimate
from stargate.training.model import MLA, ModelSpec, MoE
from stargate.training.plans import Plans

__all__ = ["RowResult", "predict_row", "read_runs", "summarize", "validate_runs", "write_predictions"]

REQUIRED = ("n_layers", "hidden_size", "n_heads", "vocab_size", "seq_len", "accelerator", "num_gpus", "tp", "pp",
            "dp", "global_batch_seqs")
# DeepSeek-V3's MLA (arXiv:2412.19437 §2.1.1): the runs file gives no ranks, and the MLA models in
# it (DeepSeek-V3, Kimi-K2) share these.
DEEPSEEK_MLA = MLA(q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128)
# GPT-OSS alternates 128-token sliding-window and full-attention layers (its config.json).
SLIDING_WINDOW, SLIDING_SHARE = 128, 0.5


@dataclass
class RowResult:
    """One row's prediction, or the reason it was skipped."""

    run_id: str
    source_id: str
    accelerator: str
    model: str
    skipped: str = ""
    defaults: list[str] = field(default_factory=list)
    predicted_tokens_per_s_per_gpu: float = float("nan")
    predicted_step_time_s: float = float("nan")
    predicted_mfu_pct: float = float("nan")
    predicted_memory_per_gpu_gib: float = float("nan")
    fits: bool = False
    measured_tokens_per_s_per_gpu: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (NaN becomes ``None``)."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = None if isinstance(v, float) and not np.isfinite(v) else v
        err = self.error
        out["error"] = float(err) if np.isfinite(err) else None
        return out

    @property
    def error(self) -> float:
        """Relative error of tokens/s per GPU (prediction / measurement - 1)."""
        return self.predicted_tokens_per_s_per_gpu / self.measured_tokens_per_s_per_gpu - 1


@cache
def _defaults() -> dict[str, dict[str, dict[str, Any]]]:
    text = (resources.files("stargate.training") / "framework_defaults.yaml").read_text(encoding="utf-8")
    doc = load_yaml(text, "framework_defaults.yaml")
    return {"framework": {f["id"]: f for f in doc["frameworks"]}, "hardware": {h["accelerator"]: h for h in doc["hardware"]},
            "architecture": {a["model_pattern"]: a for a in doc.get("architecture") or []}}


def _head_dim(row: dict[str, str]) -> tuple[int | None, str]:
    """A row's head dimension: its ``head_dim`` column, else its model family's published one (with the
    default named), else ``None`` (hidden_size / n_heads)."""
    import re

    given = _int(row, "head_dim")
    if given:
        return given, ""
    for a in _defaults()["architecture"].values():
        if re.search(a["model_pattern"], row.get("model", "")):
            return int(a["head_dim"]), f"head_dim={a['head_dim']} ({a['source'].split(':')[0]})"
    return None, ""


def _framework_defaults(row: dict[str, str]) -> dict[str, Any]:
    """The framework's defaults, with any per-model override its benchmark configs document."""
    import re

    fw = dict(_defaults()["framework"].get(row.get("framework", ""), {}))
    for o in fw.pop("model_overrides", []) or []:
        if not re.search(o["model_pattern"], row.get("model", ""), re.IGNORECASE):
            continue
        if o.get("accelerator_pattern") and not re.search(o["accelerator_pattern"], row.get("accelerator", "")):
            continue
        if o.get("precision_pattern") and not re.search(o["precision_pattern"], row.get("precision", "")):
            continue
        if o.get("version_pattern") and not re.search(o["version_pattern"], row.get("framework_version", "")):
            continue
        if o.get("dp_sharding_pattern") and not re.search(o["dp_sharding_pattern"], row.get("dp_sharding", "")):
            continue
        fw.update({k: v for k, v in o.items() if not k.endswith("_pattern") and k not in ("source", "note")})
    return fw


def read_runs(path: Path | str) -> list[dict[str, str]]:
    """Rows of a runs CSV."""
    p = Path(path)
    text = read_text_file(p, "runs")
    try:
        # Short rows get empty cells and cells past the header are dropped, so every value is a string.
        rows = [{k: v for k, v in r.items() if k is not None}
                for r in csv.DictReader(io.StringIO(text, newline=""), restval="")]
    except csv.Error as e:
        raise InputError("runs", str(p), f"a CSV file ({clip(str(e), 80)})") from None
    if not rows or "run_id" not in rows[0]:
        raise InputError("runs", str(p), "a CSV with the columns of shared/validation/README.md (run_id, ...)")
    return rows


def _int(row: dict[str, str], key: str) -> int | None:
    v = row.get(key, "").strip()
    return int(float(v)) if v else None


def _model(row: dict[str, str], head_dim: int | None = None) -> ModelSpec:
    moe = None
    if row.get("moe_experts", "").strip():
        moe = MoE(experts=_int(row, "moe_experts"), top_k=_int(row, "moe_top_k"), expert_ffn=_int(row, "moe_expert_ffn"),
                  shared_experts=_int(row, "moe_shared_experts") or 0, dense_layers=_int(row, "moe_dense_layers") or 0)
    kind = row.get("attention_kind", "")
    layers = _int(row, "n_layers") or 1
    ffn = _int(row, "ffn_hidden_size")
    return ModelSpec(
        name=row.get("model", "run"), n_layers=layers, hidden_size=_int(row, "hidden_size"), n_heads=_int(row, "n_heads"),
        head_dim=head_dim if kind != "mla" else None,
        n_kv_heads=_int(row, "n_kv_heads") if kind != "mla" else None, ffn_hidden_size=ffn if (moe is None or moe.dense_layers) else None,
        ffn_kind=row.get("ffn_kind") if row.get("ffn_kind") in ("gelu", "swiglu", "squared_relu") else "gelu",
        vocab_size=_int(row, "vocab_size"), mla=DEEPSEEK_MLA if kind == "mla" else None, moe=moe,
        sliding_window=SLIDING_WINDOW if kind == "sliding_window_mixed" else None,
        sliding_window_layers=int(layers * SLIDING_SHARE) if kind == "sliding_window_mixed" else 0,
        tied_embeddings=row.get("framework") == "llm-foundry",
    )


def _setting(row: dict[str, str], key: str, table: dict[str, Any], taken: list[str], fallback: Any) -> Any:
    v = row.get(key, "").strip()
    if v:
        return v
    value = table.get(key, fallback)
    taken.append(f"{key}={value}")
    return value


def _routing(row: dict[str, str], fw: dict[str, Any] | None = None) -> str | None:
    """MoE routing of a row: its ``moe_routing`` column when present, else what its model label says
    (the Megatron-Bridge tables name token-drop and dropless variants in the model column), else
    ``capacity`` where its recipe captures the whole iteration in one CUDA graph (fixed-size, padded
    expert buffers: no host synchronisation on token counts; Megatron-Bridge 26.08 recipes)."""
    given = row.get("moe_routing", "").strip().lower()
    if given in ("dropless", "capacity"):
        return given
    label = row.get("model", "").lower()
    if "tokendrop" in label or "token drop" in label:
        return "capacity"
    if "full_iteration" in ((fw or {}).get("cuda_graph_scope") or []):
        return "capacity"
    return "dropless" if "dropless" in label else None


def derived_measurement(row: dict[str, str]) -> tuple[float, str]:
    """Tokens/s per GPU from a row's published TFLOP/s (or MFU) by the source's own FLOP formula.

    Only where ``mfu_definition`` names a formula that needs nothing but the row's columns:
    Narayanan et al. 2021, eq. 3 (``96·B·s·l·h²·(1 + s/6h + V/16lh)`` per step, counting the
    full-recompute forward), and Megatron's model FLOPs without recompute (the same without the
    recomputed forward: ``72·B·s·l·h²·(1 + s/6h + V/12lh)``). Returns ``(nan, "")`` otherwise.

    Examples
    --------
    >>> row = {"mfu_definition": "TFLOP/s by Narayanan Eq.3 96*B*s*l*h^2*(1+s/6h+V/16lh)", "measured_tflops_per_gpu": "163",
    ...        "n_layers": "128", "hidden_size": "25600", "seq_len": "2048", "vocab_size": "51200"}
    >>> round(derived_measurement(row)[0], 1)
    20.0
    """
    import re

    definition = row.get("mfu_definition", "")
    try:
        layers, h, s, vocab = (float(row[k]) for k in ("n_layers", "hidden_size", "seq_len", "vocab_size"))
        tflops = float(row.get("measured_tflops_per_gpu", "") or "nan")
        if not np.isfinite(tflops):
            peak = re.search(r"peak (\d+(?:\.\d+)?)", definition)
            tflops = float(row.get("measured_mfu_pct", "") or "nan") / 100 * float(peak.group(1)) if peak else float("nan")
    except (KeyError, ValueError):
        return float("nan"), ""
    if "Narayanan Eq.3" in definition:
        per_token, how = 96 * layers * h * h * (1 + s / (6 * h) + vocab / (16 * layers * h)), "TFLOP/s by Narayanan et al. 2021 eq. 3"
    elif definition.startswith("Megatron model FLOPs, no recompute"):
        per_token, how = 72 * layers * h * h * (1 + s / (6 * h) + vocab / (12 * layers * h)), "MFU by Megatron's model FLOPs"
    else:
        return float("nan"), ""
    value = tflops * 1e12 / per_token
    return (value, how) if np.isfinite(value) and value > 0 else (float("nan"), "")


def predict_row(row: dict[str, str], catalog: Catalog) -> RowResult:
    """Predict one runs-file row (or say why not)."""
    res = RowResult(row.get("run_id", ""), row.get("source_id", ""), row.get("accelerator", ""), row.get("model", ""))
    missing = [k for k in REQUIRED if not row.get(k, "").strip()]
    if missing:
        res.skipped = f"missing {', '.join(missing)}"
        return res
    fw = _framework_defaults(row)
    hw = _defaults()["hardware"].get(row["accelerator"], {})
    taken: list[str] = []
    recompute = _setting(row, "recompute", fw, taken, "none")
    sharding = _setting(row, "dp_sharding", fw, taken, "zero1")
    vp = int(_setting(row, "vp", fw, taken, 1))
    mbs = int(_setting(row, "micro_batch_size", fw, taken, 1))
    if fw.get("pipeline_micro_batch_size") and (_int(row, "pp") or 1) > 1:
        # The framework pipelines its local batch in smaller micro-batches (torchtitan).
        mbs = int(fw["pipeline_micro_batch_size"])
        taken.append(f"pipeline micro-batch={mbs}")
    precision = _setting(row, "precision", fw, taken, "bf16")
    sp_raw = row.get("sequence_parallel", "").strip()
    tp = _int(row, "tp") or 1
    sp = (sp_raw == "true") if sp_raw else bool(fw.get("sequence_parallel", tp > 1))
    if not sp_raw and tp > 1:
        taken.append(f"sequence_parallel={str(sp).lower()}")
    fabric = row.get("fabric", "").strip()
    if fabric in ("", "unknown"):
        fabric = hw.get("fabric", "infiniband")
        taken.append(f"fabric={fabric}")
    gbps = row.get("scaleout_gbps_per_gpu", "").strip()
    if not gbps:
        gbps = str(hw.get("scaleout_gbps_per_gpu", ""))
        taken.append(f"scaleout_gbps_per_gpu={gbps or 'catalog'}")
    domain = _int(row, "scaleup_domain")
    degrees = {"tp": tp, "pp": _int(row, "pp") or 1, "dp": _int(row, "dp") or 1, "cp": _int(row, "cp") or 1,
               "ep": _int(row, "ep") or 1, "vp": vp, "micro_batch_size": mbs}
    for key, value in degrees.items():  # a negative degree would index the plan tables from their end
        if value < 1:
            raise ValueError(f"{key}: {value} is not a positive whole number")
    plan = Plans.one(tp=tp, pp=degrees["pp"], dp=degrees["dp"], cp=degrees["cp"], ep=degrees["ep"], vp=vp, mbs=mbs,
                     recompute=recompute, sharding=sharding, sp=sp)
    head_dim, head_note = _head_dim(row)
    res.defaults = taken + ([head_note] if head_note else [])
    workload = Workload(
        accelerator=row["accelerator"], gpus=int(plan.gpus[0]), seq_len=int(row["seq_len"]),
        global_batch=int(row["global_batch_seqs"]), precision=precision,
        fabric=Fabric.INFINIBAND if fabric == "infiniband" else Fabric.ETHERNET,
        scale_out_bits_per_s=float(gbps) * 1e9 if gbps else None, scale_up_domain=domain,
        framework=row.get("framework", "").strip() or "megatron", framework_version=row.get("framework_version", "").strip(),
        fp8_recipe=row.get("fp8_recipe", "").strip() or None, moe_routing=_routing(row, fw),
        ep_comm_overlap=fw.get("moe_a2a_overlap"), cuda_graphs=bool(fw["cuda_graph_scope"]) if "cuda_graph_scope" in fw else None,
        activation_offload_layers=_int(row, "cpu_offload_layers") or int(fw.get("cpu_offloading_num_layers") or 0),
    )
    try:
        e = estimate(resolve_context(_model(row, head_dim), workload, catalog), plan)
    except (InputError, ValueError) as err:
        res.skipped = f"cannot model: {_reason(err)}"
        return res
    res.predicted_tokens_per_s_per_gpu = float(e.tokens_per_s_per_gpu[0])
    res.predicted_step_time_s = float(e.step_time_s[0])
    res.predicted_mfu_pct = 100 * float(e.mfu[0])
    res.predicted_memory_per_gpu_gib = float(e.memory.total[0]) / 2**30
    res.fits = bool(e.fits[0])
    measured = row.get("measured_tokens_per_s_per_gpu", "").strip()
    res.measured_tokens_per_s_per_gpu = float(measured) if measured else float("nan")
    if not measured:
        res.measured_tokens_per_s_per_gpu, how = derived_measurement(row)
        if how:
            res.defaults.append(f"measured tokens/s per GPU derived from {how}")
    if measured and not (np.isfinite(res.measured_tokens_per_s_per_gpu) and res.measured_tokens_per_s_per_gpu > 0):
        res.measured_tokens_per_s_per_gpu = float("nan")
        res.skipped = f"measured_tokens_per_s_per_gpu: {clip(measured, 40)} is not a positive finite number"
    return res


PRED_COLUMNS = ("run_id", "predicted_tokens_per_s_per_gpu", "predicted_step_time_s", "predicted_mfu_pct",
                "predicted_memory_per_gpu_gib", "fits", "measured_tokens_per_s_per_gpu", "error", "skipped", "defaults")


def write_predictions(results: list[RowResult], path: Path | str) -> None:
    """Write the per-row predictions CSV (the ``stargate validate --out`` contract)."""
    buffer = io.StringIO()
    w = csv.writer(buffer)
    w.writerow(PRED_COLUMNS)
    for r in results:
        d = r.as_dict()
        d["defaults"] = ";".join(r.defaults)
        w.writerow(["" if d[c] is None else d[c] for c in PRED_COLUMNS])
    write_text_atomic(path, buffer.getvalue(), "--out")


def validate_runs(rows: list[dict[str, str]], catalog: Catalog | None = None) -> list[RowResult]:
    """Predict every row; a row that cannot be read is skipped with the reason, the others go on."""
    cat = catalog or Catalog.load()
    return [_predict_or_skip(r, cat) for r in rows]


def _predict_or_skip(row: dict[str, str], catalog: Catalog) -> RowResult:
    try:
        return predict_row(row, catalog)
    except (ValueError, ArithmeticError, TypeError) as err:  # a malformed row: a bad number, an unknown name
        run_id, source_id, accelerator, model = (clip(str(row.get(k) or ""), 80) for k in ("run_id", "source_id", "accelerator", "model"))
        res = RowResult(run_id, source_id, accelerator, model)
        res.skipped = f"bad row: {_reason(err)}"
        return res


def _reason(err: Exception) -> str:
    """One line saying why a row could not be predicted."""
    from pydantic import ValidationError

    from stargate.scenario import allowed_text

    if isinstance(err, ValidationError):
        first = err.errors()[0]
        if not first["loc"]:
            return clip(allowed_text(first), 240)
        loc = ".".join(str(p) for p in first["loc"])
        return clip(f"{loc}: {short_repr(first.get('input'), 60)} is not allowed; expected {allowed_text(first)}", 240)
    return clip(str(err), 240)


def summarize(results: list[RowResult]) -> dict[str, Any]:
    """Median, p90 and max absolute error of tokens/s per GPU, overall and by source."""
    def stats(rs: list[RowResult]) -> dict[str, float]:
        errs = np.abs([r.error for r in rs])
        return {"rows": len(rs), "median_abs_error": float(np.median(errs)), "p90_abs_error": float(np.percentile(errs, 90)),
                "max_abs_error": float(errs.max()), "mean_error": float(statistics.fmean(r.error for r in rs))}

    scored = [r for r in results if not r.skipped and np.isfinite(r.measured_tokens_per_s_per_gpu)]
    out: dict[str, Any] = {"predicted": sum(1 for r in results if not r.skipped), "skipped": sum(1 for r in results if r.skipped),
                           "with_measurement": len(scored)}
    if scored:
        out["overall"] = stats(scored)
        out["by_source"] = {s: stats([r for r in scored if r.source_id == s]) for s in sorted({r.source_id for r in scored})}
        out["by_accelerator"] = {a: stats([r for r in scored if r.accelerator == a]) for a in sorted({r.accelerator for r in scored})}
    return out

