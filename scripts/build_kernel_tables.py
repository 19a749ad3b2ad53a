"""Build the compact kernel tables shipped in ``src/stargate/kernels/data/``.

Reads the measured kernel tables of NVIDIA AIConfigurator (Apache-2.0) as extracted to
``../shared/kernels/<system>/*.parquet`` (see that folder's README) and writes, per chip, one
``<chip>.npz`` of small integer and float arrays, plus the manifest ``kernels.yaml`` (source,
versions, devices, row counts, caveats, NOTICE) and a copy of the Apache-2.0 licence. The package
reads only these files at run time.

What is kept (everything else is dropped, with the reason in the manifest and docs/kernels.md):

- ``gemm``: dtypes bf16, fp8, fp8_block, nvfp4 on the aligned m grid (1..16 and multiples of 16;
  the m+1 "unaligned" probes are left out), rows flagged ``slower_than_larger_m`` dropped.
- ``ctx`` (prefill attention): window 0, BF16 attention with BF16 KV (``bf16``) and FP8 attention
  with FP8 KV (``fp8``); TRT-LLM kernels for head_dim 64/128/192/256, FlashInfer for 512.
- ``gen`` (decode attention): window 0, BF16 and FP8 KV cache; rows flagged ``exceeds_mem_bw``
  dropped.
- ``moe_vllm``, ``moe_sglang``: the same MoE layer as each of those engines runs it, measured by AIConfigurator
  with the engine's own kernels (:data:`ENGINES`; read from an AIConfigurator checkout, ``--aic``).
- ``moe``: dtypes bf16, fp8, fp8_block, nvfp4, w4a8_mxfp4 and w4a16_mxfp4 (:data:`MOE_DTYPES`); balanced routing, gated
  (SwiGLU) layers, the fastest kernel per shape that the engine can
  run at that token count (TensorRT-LLM-Gen's min-latency MoE, measured on B200 and GB200 only, serves
  at most 128 tokens: :data:`MIN_LATENCY_MAX_TOKENS`); the effect of power-law routing as a median
  factor per expert-parallel size and token count.
- ``nccl`` (half) and ``trtllm`` all-reduce latencies; ``memory`` (FP8 ``scale_matrix`` pass)
  latency against bytes moved, and the streaming bandwidth of the large passes.

Encoding: rates are stored as ``round(log2(rate) * 512)`` in int16 (TFLOP/s for GEMM, attention
and MoE; GB/s for decode), first-differenced along axis 0 so that they compress; the relative
rounding error is at most 2**(1/1024) - 1 = 6.8e-4 (about one float16 ulp), far below the
run-to-run noise of the measurements. Cells without a measurement are filled (interpolated in log
space along the measured axes, the edge value held beyond them) and marked in a packed
``measured`` bit mask. The ``.npz`` members are LZMA-compressed; ``numpy.load`` reads them.

Run: ``python scripts/build_kernel_tables.py --aic AICONFIGURATOR_CHECKOUT [--src ../shared/kernels]
[--out src/stargate/kernels/data]`` (needs numpy, pyarrow, pyyaml, packaging).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "kernels"
OUT = ROOT / "src" / "stargate" / "kernels" / "data"
SCALE = 1024  # log2 quantisation steps per octave
FORMAT = 1

# chip -> catalog accelerator ids it serves; the first is the measured device itself.
CHIPS = {
    "a100_sxm": ["a100-80g", "a100-40g"],
    "h100_sxm": ["h100-sxm-80g", "h800-80g", "h100-hbm2e-96g-500w"],
    "h200_sxm": ["h200-141g"],
    "b200_sxm": ["b200-180g"],
    "b300_sxm": ["b300-288g"],
    "gb200": ["gb200-186g"],
    "gb300": ["gb300-288g"],
    "l40s": ["l40s-48g"],
    "rtx_pro_6000_server": ["rtx-pro-6000-bse-96g"],
}
GEMM_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block", "nvfp4": "nvfp4"}
ATTN_DTYPES = {("bfloat16", "bfloat16"): "bf16", ("fp8", "fp8"): "fp8"}
KV_DTYPES = {"bfloat16": "bf16", "fp8": "fp8"}
MOE_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block", "nvfp4": "nvfp4",
              "w4a8_mxfp4_mxfp8": "w4a8_mxfp4", "w4a16_mxfp4": "w4a16_mxfp4"}
"""MoE formats kept. ``w4a8_mxfp4`` (MXFP4 experts, MXFP8 activations) is measured only for GPT-OSS's layer
(and one DeepSeek-V4 shape on RTX PRO 6000), on the Blackwell chips, with the backend TensorRT-LLM's serving
picks for GPT-OSS (TRTLLM-Gen on SM100/SM103, CUTLASS on SM120: AIConfigurator ``collector/trtllm/collect_moe.py``
at 095f58a); the engine serves an MXFP4 checkpoint's experts in that format on those chips
(``tensorrt_llm/_torch/model_config.py``, ``get_mxfp4_quant_algo``). ``w4a16_mxfp4`` (MXFP4 experts, BF16
activations: weight-only) is measured for GPT-OSS's layers on H100, H200 and the Blackwell chips; it is the
format the engine serves that checkpoint's experts in on Hopper, which has no FP4 units (``get_mxfp4_quant_algo``
gives W4A16_MXFP4 below SM100)."""
MOE_GATED = ("moe_torch_flow_cutlass", "deepgemm", "moe_torch_flow_min_latency", "moe_torch_flow")
ENGINES = ("vllm", "sglang")
"""Engines whose own MoE kernels AIConfigurator measured (``systems/data/<system>/moe/<engine>/<version>``): their
tables ship beside TensorRT-LLM's (``moe_<engine>.<dtype>``), newest complete version per chip, balanced routing,
the fastest kernel the engine offers per shape. Read from an AIConfigurator checkout (``--aic``) at the commit
of ``../shared/kernels`` (the shared extraction holds TensorRT-LLM's tables only)."""
AIC_DATA = "aic-core/src/aiconfigurator_core/systems/data"
MIN_LATENCY = "moe_torch_flow_min_latency"
MIN_LATENCY_MAX_TOKENS = 128
"""Largest MoE input (tokens) TensorRT-LLM's min-latency (TRT-LLM-Gen) MoE serves. AIConfigurator's own
TRT-LLM estimator reads those rows only for gated NVFP4 layers of at most 128 tokens and the standard
(CUTLASS) rows above (``aic-core/rust/aiconfigurator-core/src/operators/moe.rs``, "num_tokens <= 128",
mirroring Python's ``MoE._query_moe_table``; the SDK docs: "An explicit moe_torch_flow_min_latency requires
gated NVFP4 and at most 128 tokens after attention-DP gathering"; ai-dynamo/aiconfigurator at 095f58a,
2026-08-21). Its collector measures the path on SM100 (B200, GB200) only, at every token count."""
NCCL_OPS = ("all_reduce", "all_gather", "reduce_scatter", "alltoall")
POWER_LAWS = ("power_law_1.01", "power_law_1.2")


def read(path: Path, where=None) -> dict[str, np.ndarray]:
    """Columns of a Parquet file as numpy arrays, rows filtered by ``where(columns) -> mask``."""
    t = pq.read_table(path)
    cols = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}
    if where is not None:
        keep = where(cols)
        cols = {c: v[keep] for c, v in cols.items()}
    return cols


def encode(log2_values: np.ndarray) -> np.ndarray:
    """int16 log2 steps of 1/SCALE, first-differenced along axis 0 (see the module docstring)."""
    q = np.round(log2_values * SCALE).astype(np.int32)
    if np.abs(q).max() >= 2**15:
        raise ValueError("log2 value out of the int16 range")
    return np.diff(q, axis=0, prepend=0).astype(np.int16)


def fill_axis(a: np.ndarray, axis: int, coords: np.ndarray) -> np.ndarray:
    """Fill NaN cells of ``a`` along ``axis`` by linear interpolation over ``coords`` (log2 of the
    axis values), holding the edge value beyond the measured range; all-NaN lines stay NaN."""
    a = np.moveaxis(a.copy(), axis, -1)
    flat = a.reshape(-1, a.shape[-1])
    for line in flat:
        ok = ~np.isnan(line)
        if ok.any() and not ok.all():
            line[~ok] = np.interp(coords[~ok], coords[ok], line[ok])
    return np.moveaxis(flat.reshape(a.shape), -1, axis)


def fill(a: np.ndarray, axes_coords: list[np.ndarray], order: list[int]) -> np.ndarray:
    """Fill along each axis in ``order`` in turn; every cell must be filled at the end."""
    for axis in order:
        a = fill_axis(a, axis, axes_coords[axis])
    if np.isnan(a).any():
        raise ValueError("table has cells no measurement reaches")
    return a


def put(out: dict, prefix: str, values: np.ndarray, measured: np.ndarray) -> None:
    out[f"{prefix}.log2"] = encode(values)
    out[f"{prefix}.measured"] = np.packbits(measured.ravel())


def grid(keys: list[np.ndarray], value: np.ndarray):
    """Dense array over the sorted unique values of each key column; NaN where no row."""
    axes = [np.unique(k) for k in keys]
    idx = tuple(np.searchsorted(ax, k) for ax, k in zip(axes, keys, strict=True))
    a = np.full([len(ax) for ax in axes], np.nan)
    a[idx] = value
    return axes, a


def build_gemm(folder: Path, out: dict, stats: dict) -> None:
    rows = read(folder / "gemm.parquet")
    stats["gemm"] = {"rows": len(rows["m"]), "dropped_slower_than_larger_m": int(rows["slower_than_larger_m"].sum())}
    m = rows["m"]
    aligned = (m <= 16) | (m % 16 == 0)
    for src, name in GEMM_DTYPES.items():
        sel = (rows["dtype"] == src) & aligned & ~rows["slower_than_larger_m"]
        if not sel.any():
            continue
        # the axes come from every row of the dtype, so a dropped row leaves a hole, not a gap
        allrows = (rows["dtype"] == src) & aligned
        axes = [np.unique(rows[c][allrows]) for c in ("m", "n", "k")]
        idx = tuple(np.searchsorted(ax, rows[c][sel]) for ax, c in zip(axes, ("m", "n", "k"), strict=True))
        a = np.full([len(ax) for ax in axes], np.nan)
        a[idx] = np.log2(rows["tflops"][sel].astype(np.float64))
        measured = ~np.isnan(a)
        a = fill(a, [np.log2(ax) for ax in axes], [0, 2, 1])
        for c, ax in zip("mnk", axes, strict=True):
            out[f"gemm.{name}.{c}"] = ax.astype(np.int32)
        put(out, f"gemm.{name}", a, measured)
    probes = unaligned_penalty(rows)
    if probes:
        stats["gemm"]["unaligned_m_plus_1_time_ratio_median"] = probes


def unaligned_penalty(rows: dict) -> dict:
    """Median time(m+1) / time(m) per dtype over m >= 256 (the m+1 probes not shipped)."""
    res = {}
    for src, name in GEMM_DTYPES.items():
        d = rows["dtype"] == src
        key = {(a, b, c): t for a, b, c, t in zip(rows["m"][d], rows["n"][d], rows["k"][d], rows["latency_ms"][d],
                                                  strict=True)}
        r = [t / key[(a - 1, b, c)] for (a, b, c), t in key.items() if a > 256 and a % 16 == 1 and (a - 1, b, c) in key]
        if r:
            res[name] = round(float(np.median(r)), 3)
    return res


def pair_table(rows: dict, sel: np.ndarray, xcol: str, value: np.ndarray, out: dict, prefix: str) -> None:
    """Attention table over (head pair, batch, x): pairs of (query heads, kv heads) as measured."""
    hq, hkv = rows["num_heads"][sel], rows["num_kv_heads"][sel]
    pair_code = hq.astype(np.int64) * 1000 + hkv
    keys = [pair_code, rows["batch_size"][sel], rows[xcol][sel]]
    axes, a = grid(keys, value[sel])
    measured = ~np.isnan(a)
    a = fill(a, [np.arange(len(axes[0]), dtype=float), np.log2(axes[1]), np.log2(axes[2] + (xcol == "kv_len"))],
             [1, 2])
    out[f"{prefix}.pairs"] = np.stack([axes[0] // 1000, axes[0] % 1000], axis=1).astype(np.int16)
    out[f"{prefix}.batch"] = axes[1].astype(np.int32)
    out[f"{prefix}.{'seq' if xcol == 'seq_len' else 'kv_len'}"] = axes[2].astype(np.int32)
    put(out, prefix, a, measured)


def _by_head_dim(rows: dict, base: np.ndarray, axis: str, values: np.ndarray, out: dict, prefix: str) -> int:
    """One pair table per head dimension under ``prefix`` (and the list of head dimensions); rows kept."""
    dims = sorted(set(rows["head_dim"][base].tolist()))
    kept = 0
    for d in dims:
        sel = base & (rows["head_dim"] == d)
        pair_table(rows, sel, axis, values, out, f"{prefix}.d{d}")
        kept += int(sel.sum())
    if dims:
        out[f"{prefix}.head_dims"] = np.array(dims, dtype=np.int32)
    return kept


def build_context(folder: Path, out: dict, stats: dict) -> None:
    rows = read(folder / "context_attention.parquet")
    kept = 0
    for (attn, kv), name in ATTN_DTYPES.items():
        base = (rows["attn_dtype"] == attn) & (rows["kv_cache_dtype"] == kv) & (rows["window_size"] == 0)
        kept += _by_head_dim(rows, base, "seq_len", np.log2(rows["tflops"].astype(np.float64)), out, f"ctx.{name}")
    stats["context_attention"] = {"rows": len(rows["seq_len"]), "rows_kept": kept}


def build_generation(folder: Path, out: dict, stats: dict) -> None:
    rows = read(folder / "generation_attention.parquet")
    kept = 0
    for kv, name in KV_DTYPES.items():
        base = (rows["kv_cache_dtype"] == kv) & (rows["window_size"] == 0) & (rows["attn_dtype"] == "bfloat16")
        base &= ~rows["exceeds_mem_bw"]
        kept += _by_head_dim(rows, base, "kv_len", np.log2(rows["kv_read_GBps"].astype(np.float64)), out, f"gen.{name}")
    stats["generation_attention"] = {"rows": len(rows["kv_len"]), "rows_kept": kept,
                                     "dropped_exceeds_mem_bw": int(rows["exceeds_mem_bw"].sum())}


MOE_KEYS = ("hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size")


def moe_nominal_tflops(r: dict) -> np.ndarray:
    flop = 2.0 * r["num_tokens"] * r["topk"] * r["hidden_size"] * (r["inter_size"] / r["moe_tp_size"]) * 3
    return flop / r["moe_ep_size"] / (r["latency_ms"] * 1e-3) / 1e12


def fastest(rows: dict, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (config, tokens) the fastest kernel: returns config rows [C, 6], tokens axis, latency [C, T]."""
    cfg = np.stack([rows[k][sel] for k in MOE_KEYS], axis=1).astype(np.int64)
    configs, ci = np.unique(cfg, axis=0, return_inverse=True)
    tokens, ti = np.unique(rows["num_tokens"][sel], return_inverse=True)
    lat = np.full((len(configs), len(tokens)), np.inf)
    np.minimum.at(lat, (ci.ravel(), ti), rows["latency_ms"][sel])
    return configs, tokens, lat


def build_moe(folder: Path, out: dict, stats: dict) -> None:
    rows = read(folder / "moe.parquet", lambda c: np.isin(c["kernel_source"], MOE_GATED)
                & ((c["kernel_source"] != MIN_LATENCY) | (c["num_tokens"] <= MIN_LATENCY_MAX_TOKENS)))
    st = {"rows": int(pq.ParquetFile(folder / "moe.parquet").metadata.num_rows), "kept": 0}
    for src, name in MOE_DTYPES.items():
        sel = (rows["moe_dtype"] == src) & (rows["distribution"] == "balanced")
        if not sel.any():
            continue
        configs, tokens, lat = moe_table(rows, sel, out, f"moe.{name}")
        st["kept"] += int(np.isfinite(lat).sum())
        for dist in POWER_LAWS:
            factor = power_law_factor(rows, src, dist, configs, tokens, lat)
            if factor is not None:
                out[f"moe.{name}.{dist}.ep"] = factor[0].astype(np.int32)
                out[f"moe.{name}.{dist}.factor"] = factor[1].astype(np.float32)
    stats["moe"] = st


def moe_table(rows: dict, sel: np.ndarray, out: dict, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Write the balanced-routing MoE table of rows ``sel`` under ``prefix``: configs, tokens and log2 nominal
    TFLOP/s of the fastest kernel per (config, tokens), gaps filled along tokens. Returns configs, tokens, latency."""
    configs, tokens, lat = fastest(rows, sel)
    cols = {k: configs[:, i][:, None] for i, k in enumerate(MOE_KEYS)}
    with np.errstate(divide="ignore"):  # unmeasured cells (infinite latency) are NaN, then filled
        rate = moe_nominal_tflops({**cols, "num_tokens": tokens[None, :], "latency_ms": lat})
        a = np.where(np.isfinite(lat), np.log2(rate), np.nan)
    measured = ~np.isnan(a)
    a = fill(a, [np.arange(len(configs), dtype=float), np.log2(tokens)], [1])
    out[f"{prefix}.configs"] = configs.astype(np.int32)
    out[f"{prefix}.tokens"] = tokens.astype(np.int32)
    put(out, prefix, a, measured)
    return configs, tokens, lat


def engine_version(aic: Path, chip: str, engine: str) -> str | None:
    """Newest version directory of ``engine``'s MoE data for ``chip`` whose ``moe_perf`` table is complete."""
    base = aic / AIC_DATA / chip / "moe" / engine
    if not base.is_dir():
        return None
    for d in sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: Version(p.name), reverse=True):
        meta = d / "collection_meta.yaml"
        if (d / "moe_perf.parquet").is_file() and meta.is_file():
            status = (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("tables", {}).get("moe_perf", {})
            if status.get("status") == "complete":
                return d.name
    return None


def build_engine_moe(aic: Path, chip: str, out: dict, stats: dict) -> None:
    """Each engine's own MoE tables (:data:`ENGINES`) for ``chip``, in the dtypes of :data:`MOE_DTYPES`."""
    for engine in ENGINES:
        version = engine_version(aic, chip, engine)
        if version is None:
            continue
        path = aic / AIC_DATA / chip / "moe" / engine / version / "moe_perf.parquet"
        rows = read(path)
        rows["latency_ms"] = rows.pop("latency").astype(np.float64)
        st = {"version": version, "source_path": str(path.relative_to(aic)), "rows": len(rows["latency_ms"]), "kept": 0}
        for src, name in MOE_DTYPES.items():
            sel = (rows["moe_dtype"] == src) & (rows["distribution"] == "balanced") & (rows["latency_ms"] > 0)
            if sel.any():
                lat = moe_table(rows, sel, out, f"moe_{engine}.{name}")[2]
                st["kept"] += int(np.isfinite(lat).sum())
        stats[f"moe_{engine}"] = st


def power_law_factor(rows, src, dist, configs, tokens, lat_bal):
    """Median over configs of latency(power law) / latency(balanced), per (ep size, token count)."""
    sel = (rows["moe_dtype"] == src) & (rows["distribution"] == dist)
    if not sel.any():
        return None
    cfg_pl, tok_pl, lat_pl = fastest(rows, sel)
    index = {tuple(c): i for i, c in enumerate(configs)}
    eps = np.unique(configs[:, 5])
    ratios: dict[tuple[int, int], list[float]] = {}
    for j, c in enumerate(cfg_pl):
        i = index.get(tuple(c))
        if i is None:
            continue
        for t_pl, tok in enumerate(tok_pl):
            t_b = np.searchsorted(tokens, tok)
            if t_b < len(tokens) and tokens[t_b] == tok and np.isfinite(lat_pl[j, t_pl]) and np.isfinite(lat_bal[i, t_b]):
                ratios.setdefault((c[5], t_b), []).append(lat_pl[j, t_pl] / lat_bal[i, t_b])
    f = np.full((len(eps), len(tokens)), np.nan)
    for (ep, t), r in ratios.items():
        f[np.searchsorted(eps, ep), t] = np.median(r)
    f = fill(np.log2(f), [np.log2(eps), np.log2(tokens)], [1, 0])
    return eps, 2.0 ** f


def build_nccl(folder: Path, out: dict, stats: dict) -> None:
    rows = read(folder / "nccl.parquet", lambda c: c["nccl_dtype"] == "half")
    gpus, sizes = np.unique(rows["num_gpus"]), np.unique(rows["message_bytes"])
    out["nccl.gpus"], out["nccl.bytes"] = gpus.astype(np.int32), sizes.astype(np.int64)
    for op in NCCL_OPS:
        sel = rows["op"] == op
        _, a = grid([rows["num_gpus"][sel], rows["message_bytes"][sel]], np.log2(rows["latency_ms"][sel] * 1e-3))
        a = fill(a, [np.log2(gpus), np.log2(sizes)], [1])
        out[f"nccl.{op}.latency_s"] = (2.0 ** a).astype(np.float32)
    rows = read(folder / "trtllm_allreduce.parquet")
    gpus, sizes = np.unique(rows["num_gpus"]), np.unique(rows["message_bytes"])
    _, a = grid([rows["num_gpus"], rows["message_bytes"]], np.log2(rows["latency_ms"] * 1e-3))
    a = fill(a, [np.log2(gpus), np.log2(sizes)], [1])
    out["trtllm.gpus"], out["trtllm.bytes"] = gpus.astype(np.int32), sizes.astype(np.int64)
    out["trtllm.all_reduce.latency_s"] = (2.0 ** a).astype(np.float32)


def build_memory(folder: Path, out: dict, stats: dict) -> None:
    path = folder / "quantize.parquet"
    if not path.exists():
        return
    rows = read(path, lambda c: (c["op"] == "scale_matrix") & (c["latency_ms"] > 0))
    b, t = rows["bytes_moved"].astype(np.float64), rows["latency_ms"] * 1e-3
    # one point per octave of bytes moved: the median latency, made non-decreasing in size
    octave = np.floor(np.log2(b)).astype(int)
    edges = np.unique(octave)
    size = np.array([np.exp2(np.median(np.log2(b[octave == o]))) for o in edges])
    lat = np.maximum.accumulate([np.median(t[octave == o]) for o in edges])
    big = b >= 2**30
    stream = float(np.median(b[big] / t[big]))
    out["memory.bytes"], out["memory.latency_s"] = size, lat.astype(np.float64)
    out["memory.stream_bw_bytes_per_s"] = np.array(stream)
    stats["memory"] = {"rows": len(b), "stream_bw_bytes_per_s": round(stream, -7),
                       "stream_rule": "median of bytes_moved / latency over scale_matrix rows with >= 1 GiB moved"}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An ``.npz`` whose members are LZMA-compressed (``numpy.load`` reads it; deflate is ~25% larger)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as z:
        for name, a in sorted(arrays.items()):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2026, 8, 21, 0, 0, 0))  # reproducible bytes
            info.compress_type = zipfile.ZIP_LZMA
            with z.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(a), allow_pickle=False)


def sources(src: Path) -> dict:
    res: dict = {}
    with (src / "sources.csv").open() as f:
        for r in csv.DictReader(f):
            res.setdefault(r["system"], {})[r["table"] + ("" if r["table"] != "quantize" else
                                                          ":" + Path(r["source_path"]).stem)] = r
    return res


def manifest(src: Path, all_stats: dict) -> dict:
    srcs = sources(src)
    commit = next(iter(srcs["h100_sxm"].values()))["mirror_head"]
    chips = {}
    for chip, accs in CHIPS.items():
        s = srcs[chip]
        chips[chip] = {
            "serves": accs,
            "device": s["gemm"]["device"],
            "trtllm_version": s["gemm"]["row_version"],
            "nccl_version": s["nccl"]["row_version"],
            "provenance": s["gemm"]["provenance"],
            "tables": {k: {"source_path": v["source_path"], "last_commit": v["last_commit"], "rows": int(v["rows"]),
                           "status": v["status"]} for k, v in s.items()},
            "derived": all_stats[chip],
            "notes": NOTES.get(chip, []),
        }
    return {
        "format": FORMAT,
        "source": {
            "name": "NVIDIA AIConfigurator measured performance database",
            "repository": "https://github.com/ai-dynamo/aiconfigurator",
            "commit": commit,
            "date": "2026-08-21",
            "licence": "Apache-2.0",
            "licence_file": "LICENSE-Apache-2.0.txt",
            "extracted_by": "shared/kernels/build.py (this project)",
            "built_by": "scripts/build_kernel_tables.py",
        },
        "encoding": f"rates as round(log2(rate) * {SCALE}) int16, first-differenced along axis 0; TFLOP/s for "
                    "gemm, ctx and moe, GB/s for gen; unmeasured cells filled in log space, marked in packed "
                    "'measured' bits; npz members LZMA-compressed",
        "log2_steps_per_octave": SCALE,
        "notice": NOTICE.format(commit=commit),
        "caveats": CAVEATS,
        "chips": chips,
    }


NOTES = {
    "a100_sxm": [
        ("No quantize table (legacy collector): memory-bound times and the streaming bandwidth use h100_sxm's curve "
         "scaled by the HBM-bandwidth ratio of the two datasheets."),
        ("No balanced-routing MoE table (power-law rows only): MoE layers use the grouped-GEMM equivalent on A100 "
         "GEMMs times h100_sxm's measured-over-equivalent ratios."),
        "GEMM m <= 8192 and prefill attention only for BF16, head_dim 128, seq_len >= 16.",
    ],
    "gb200": ["Collectives measured on 2 and 4 GPUs of one compute tray only; larger NVL72 groups are extrapolated."],
    "gb300": ["Collectives measured on 2 and 4 GPUs of one compute tray only; larger NVL72 groups are extrapolated."],
    "l40s": [
        ("PCIe card without NVLink: collectives run over PCIe Gen4 x16 (32 GB/s per direction), measured on 2-8 "
         "GPUs of one server."),
        ("Collectives come from the legacy NCCL 2.27.3 collector (the newest complete NCCL directory for this "
         "system), older than the 2.29.2 of the other collected chips. Its 8-GPU all-reduce bus bandwidth is "
         "1.5-2.1 GB/s (about 5-7% of the PCIe Gen4 one-way rate); the server's PCIe topology (switches, CPU "
         "sockets, peer-to-peer) was not recorded, so these times describe that server, not PCIe at its best."),
        "The TRT-LLM all-reduce rows carry version 1.0.0 inside a 1.3.0rc20 directory (legacy provenance).",
        "Ada Lovelace: no FP4, so no nvfp4 GEMM or MoE tables.",
    ],
    "rtx_pro_6000_server": [
        ("PCIe card without NVLink (RTX PRO 6000 Blackwell Server Edition): collectives run over PCIe Gen5 x16 "
         "(64 GB/s per direction), measured on 2-8 GPUs of one server."),
        "GDDR7, not HBM: memory-bound kernels stream at about 1.6 TB/s.",
    ],
}

NOTICE = """\
The kernel tables in this folder (*.npz) are derived from data files of NVIDIA AIConfigurator
(https://github.com/ai-dynamo/aiconfigurator, commit {commit}), licensed under the
Apache License, Version 2.0 (copy in LICENSE-Apache-2.0.txt). The source files carry the header

    SPDX-FileCopyrightText: Copyright (c) 2025-2026 NVIDIA CORPORATION & AFFILIATES. All rights reserved.
    SPDX-License-Identifier: Apache-2.0

Changes made: one TensorRT-LLM and one NCCL version selected per system, columns renamed and
derived (this project's shared/kernels/build.py); rows and columns subset, measured latencies
turned into rates on dense grids stored as quantised log2 values, unmeasured cells filled by
interpolation, power-law MoE rows summarised as median factors (scripts/build_kernel_tables.py).
No AIConfigurator code is copied.
"""

CAVEATS = [
    ("Inference kernels, forward only (TensorRT-LLM): training backward GEMMs are looked up as forward GEMMs of the "
     "transposed shapes (dgrad (m,k,n), wgrad (n,k,m)); operand layouts and FP8 training recipes (E5M2 gradients) "
     "differ, so their efficiency can differ."),
    ("Attention backward is a different kernel, not measured here; stargate applies a documented factor "
     "(FlashAttention-2, arXiv:2307.08691). Prefill attention times include RoPE and the KV-cache write."),
    "Quantized GEMMs (fp8, fp8_block, nvfp4) include the dynamic activation quantization.",
    ("Collectives are within one NVLink domain only: 2-8 GPUs (GB200/GB300: 2 and 4); 8-GPU all-reduce on "
     "H100/H200/B200/B300 uses NVLink SHARP, so its bus bandwidth can reach the one-way NVLink bandwidth."),
    ("Clocks, power limits and temperature were not recorded; times are means of back-to-back CUDA-graph replays "
     "with warm caches; sustained training clocks may be lower."),
    ("A100 tables come from the legacy TRT-LLM 1.0.0 collector: GEMM m <= 8192, bf16 only of the shipped dtypes, "
     "prefill attention bf16 head_dim 128 only, no balanced MoE and no quantize table."),
    ("Not shipped: GEMM rows flagged slower_than_larger_m and the m+1 (unaligned) probes; decode rows flagged "
     "exceeds_mem_bw (A100: KV read faster than HBM); sliding-window prefill and decode rows (a documented "
     "equivalence is used instead); BF16-attention-with-FP8-KV prefill rows (FP8 math in practice); non-gated and "
     "MXFP4 MoE rows and power-law MoE rows (kept as median factors); int8 NCCL rows; other GEMM dtypes of A100."),
    ("MoE tables moe_vllm and moe_sglang are the same layers as vLLM and SGLang run them, with their own kernels, "
     "measured by the same collector (versions and source files per chip under 'derived'); balanced routing only, "
     "the fastest kernel each engine offers per shape; their power-law routing uses TensorRT-LLM's median factors."),
    ("Shapes not measured: GEMM n/k 28672 or 53248 (interpolated), prefill seq_len > 16384, NCCL messages > 512 MiB, "
     "8-GPU collectives on GB200/GB300."),
]


class _Dumper(yaml.SafeDumper):
    """Safe dumper that writes multi-line strings as literal blocks."""


_Dumper.add_representer(str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--src", type=Path, default=SRC)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--aic", type=Path, required=True,
                    help="checkout of github.com/ai-dynamo/aiconfigurator at the commit of ../shared/kernels "
                         "(095f58a), for the engines' own MoE tables")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    all_stats = {}
    for chip in CHIPS:
        folder, out, stats = args.src / chip, {}, {}
        for step in (build_gemm, build_context, build_generation, build_moe, build_nccl, build_memory):
            step(folder, out, stats)
        build_engine_moe(args.aic, chip, out, stats)
        write_npz(args.out / f"{chip}.npz", out)
        all_stats[chip] = stats
        print(f"{chip}: {(args.out / f'{chip}.npz').stat().st_size / 1e3:.0f} kB")
    shutil.copyfile(args.src / "LICENSE-Apache-2.0.txt", args.out / "LICENSE-Apache-2.0.txt")
    text = yaml.dump(manifest(args.src, all_stats), Dumper=_Dumper, sort_keys=False, width=110, allow_unicode=True)
    (args.out / "kernels.yaml").write_text("# Generated by scripts/build_kernel_tables.py; do not edit.\n" + text,
                                           encoding="utf-8")
    total = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"total {total / 1e6:.2f} MB in {args.out}")


if __name__ == "__main__":
    main()
