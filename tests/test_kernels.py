"""The kernel layer: measured tables reproduced at grid points, interpolation, extrapolation rules,
datasheet bounds, headline figures, borrowing, vectorization and input errors.

Tests marked ``raw`` compare against the Parquet tables in ``../shared/kernels`` and are skipped when
that folder is absent (the package itself never reads it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from stargate import kernels as K
from stargate.errors import InputError
from stargate.kernels import tables
from stargate.kernels.collectives import OPS, bus_factor
from stargate.kernels.moe import _fallback_s, weight_floor_s
from stargate.kernels.source import PRECISION, resolve

RAW = Path(__file__).resolve().parents[2] / "shared" / "kernels"
raw = pytest.mark.skipif(not RAW.is_dir(), reason="../shared/kernels (the raw Parquet tables) is absent")
CHIPS = tables.chips()
# log2 steps of 1/1024 octave: relative rounding <= 2**(1/2048) - 1 = 3.4e-4; the source's TFLOP/s and
# GB/s columns are float32 rounded to 14 significant bits (<= 6.1e-5). 5e-4 covers both.
RTOL = 5e-4
MIB = 2**20


def read(chip: str, table: str) -> dict[str, np.ndarray]:
    pq = pytest.importorskip("pyarrow.parquet")
    t = pq.read_table(RAW / chip / f"{table}.parquet")
    return {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}


# ----------------------------------------------------------------------------------------------
# shipped data


def test_manifest_has_source_licence_and_notice():
    m = K.manifest()
    assert m["source"]["licence"] == "Apache-2.0"
    assert len(m["source"]["commit"]) == 40
    assert "Apache License, Version 2.0" in m["notice"]
    data = Path(tables.__file__).parent / "data"
    assert "Apache License" in (data / "LICENSE-Apache-2.0.txt").read_text()
    # nine measured chips: the seven HGX/NVL72 parts and the two PCIe cards (L40S, RTX PRO 6000 Server Edition)
    assert set(m["chips"]) == {"a100_sxm", "h100_sxm", "h200_sxm", "b200_sxm", "b300_sxm", "gb200", "gb300", "l40s",
                               "rtx_pro_6000_server"}


def test_shipped_data_is_small():
    data = Path(tables.__file__).parent / "data"
    # about 0.3 MB per chip; nine chips since the L40S and RTX PRO 6000 tables shipped (2.5 MB measured); vLLM's
    # and SGLang's own MoE tables add about 0.1 MB per chip (3.3 MB measured)
    assert sum(p.stat().st_size for p in data.iterdir()) < 3.4e6


@pytest.mark.parametrize("chip", CHIPS)
def test_every_chip_serves_catalog_accelerators(chip, catalog):
    serves = K.manifest()["chips"][chip]["serves"]
    for acc in serves:
        catalog.accelerator(acc)
    src = K.kernel_source(serves[0])
    assert src.chip == chip and src.measured and src.borrowed_from == ""


# ----------------------------------------------------------------------------------------------
# grid points: shipped tables, then the raw Parquet


@pytest.mark.parametrize("chip", CHIPS)
def test_gemm_reproduces_shipped_grid_points(chip):
    rng = np.random.default_rng(0)
    for dtype in tables.GEMM_DTYPES:
        try:
            grid = tables.gemm(chip, dtype)
        except InputError:
            continue
        mask = tables.measured_mask(chip, f"gemm.{dtype}")
        idx = np.argwhere(mask)[rng.choice(int(mask.sum()), 500)]
        m, n, k = (np.exp2(grid.axes[a][idx[:, a]]).round() for a in range(3))
        rate = np.exp2(grid.values.reshape(mask.shape)[tuple(idx.T)]) * 1e12
        np.testing.assert_allclose(K.gemm_time_s(chip, dtype, m, n, k), 2 * m * n * k / rate, rtol=1e-12)


@raw
@pytest.mark.parametrize("chip", CHIPS)
def test_gemm_reproduces_raw_rows(chip):
    r = read(chip, "gemm")
    names = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block", "nvfp4": "nvfp4"}
    keep = np.isin(r["dtype"], list(names)) & ~r["slower_than_larger_m"] & ((r["m"] <= 16) | (r["m"] % 16 == 0))
    assert keep.sum() > 5000
    for src, dtype in names.items():
        sel = keep & (r["dtype"] == src)
        if sel.any():
            t = K.gemm_time_s(chip, dtype, r["m"][sel], r["n"][sel], r["k"][sel])
            np.testing.assert_allclose(t, r["latency_ms"][sel] * 1e-3, rtol=RTOL)


@raw
@pytest.mark.parametrize("chip", CHIPS)
def test_attention_reproduces_raw_rows(chip):
    r = read(chip, "context_attention")
    for (attn, kv), dtype in {("bfloat16", "bfloat16"): "bf16", ("fp8", "fp8"): "fp8"}.items():
        sel = (r["attn_dtype"] == attn) & (r["kv_cache_dtype"] == kv) & (r["window_size"] == 0)
        if not sel.any():
            continue
        t = K.attention_time_s(chip, r["batch_size"][sel], r["seq_len"][sel], r["num_heads"][sel],
                               r["num_kv_heads"][sel], r["head_dim"][sel], 0, dtype)
        np.testing.assert_allclose(t, r["latency_ms"][sel] * 1e-3, rtol=RTOL)


@raw
@pytest.mark.parametrize("chip", CHIPS)
def test_decode_attention_reproduces_raw_rows(chip):
    r = read(chip, "generation_attention")
    for kv, dtype in {"bfloat16": "bf16", "fp8": "fp8"}.items():
        sel = (r["kv_cache_dtype"] == kv) & (r["window_size"] == 0) & ~r["exceeds_mem_bw"]
        if not sel.any():
            continue
        t = K.decode_attention_time_s(chip, r["batch_size"][sel], r["kv_len"][sel], r["num_heads"][sel],
                                      r["num_kv_heads"][sel], r["head_dim"][sel], dtype)
        np.testing.assert_allclose(t, r["latency_ms"][sel] * 1e-3, rtol=RTOL)


@raw
@pytest.mark.parametrize("chip", [c for c in CHIPS if c != "a100_sxm"])
def test_moe_reproduces_fastest_raw_rows(chip):
    r = read(chip, "moe")
    gated = np.isin(r["kernel_source"], ["moe_torch_flow_cutlass", "deepgemm", "moe_torch_flow_min_latency",
                                         "moe_torch_flow"])
    sel = gated & (r["distribution"] == "balanced") & (r["moe_dtype"] == "bfloat16")
    best: dict[tuple, float] = {}
    cols = ("num_tokens", "hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size")
    for row in zip(*(r[c][sel] for c in cols), r["latency_ms"][sel], strict=True):
        best[row[:-1]] = min(best.get(row[:-1], np.inf), row[-1])
    keys = list(best)[::7]
    for tokens, *cfg in keys:
        assert K.moe_is_measured(chip, "bf16", *cfg)
        t = K.moe_time_s(chip, "bf16", tokens, *cfg)
        floor = float(weight_floor_s(chip, "bf16", tokens, tuple(cfg)))  # no layer beats reading its weights
        assert t == pytest.approx(max(best[(tokens, *cfg)] * 1e-3, floor), rel=RTOL)


@raw
@pytest.mark.parametrize("chip", ["b200_sxm", "gb200"])
def test_nvfp4_moe_uses_the_min_latency_kernel_only_up_to_128_tokens(chip):
    # TensorRT-LLM-Gen's min-latency MoE serves at most 128 tokens (AIConfigurator reads its rows only there);
    # above, the shipped time is the CUTLASS row's, even where the min-latency row measured faster.
    r = read(chip, "moe")
    cols = ("num_tokens", "hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size")
    sel = (r["distribution"] == "balanced") & (r["moe_dtype"] == "nvfp4") & (r["moe_tp_size"] == 1) & (r["moe_ep_size"] == 1)
    by_source: dict[str, dict[tuple, float]] = {"moe_torch_flow_cutlass": {}, "moe_torch_flow_min_latency": {}}
    for src, *row, lat in zip(r["kernel_source"][sel], *(r[c][sel] for c in cols), r["latency_ms"][sel], strict=True):
        if src in by_source:
            by_source[src][tuple(row)] = lat * 1e-3
    cutlass, fast = by_source.values()
    both = [k for k in fast if k in cutlass and k[1:3] == (7168, 2048)]  # DeepSeek-V3/R1's experts
    assert {k[0] for k in both} >= {64, 128, 1024, 4096}
    for tokens, *cfg in both:
        t = K.moe_time_s(chip, "nvfp4", tokens, *cfg)
        floor = float(weight_floor_s(chip, "nvfp4", tokens, tuple(cfg)))
        engine = min(cutlass[(tokens, *cfg)], fast[(tokens, *cfg)]) if tokens <= 128 else cutlass[(tokens, *cfg)]
        assert t == pytest.approx(max(engine, floor), rel=RTOL)
    assert any(fast[k] < 0.8 * cutlass[k] for k in both if k[0] > 128)  # the faster rows that are left out


def test_b200_and_b300_run_large_nvfp4_moe_layers_on_the_same_kernel():
    # Above 128 tokens both run CUTLASS: same HBM (8 TB/s) and B300 has 1.5x the FP4 math, so B200 is
    # never faster (before the fix B200's min-latency rows made it 1.7-2x faster at every size).
    ds = (7168, 2048, 8, 256, 1, 1)
    for tokens in (256, 1024, 4096, 16384):
        b200, b300 = K.moe_time_s("b200", "nvfp4", tokens, *ds), K.moe_time_s("b300", "nvfp4", tokens, *ds)
        assert b200 >= 0.97 * b300
    assert K.moe_time_s("b200", "nvfp4", 64, *ds) < 0.7 * K.moe_time_s("b300", "nvfp4", 64, *ds)


def _fastest_moe_rows(r, sel) -> dict[tuple, float]:
    """Fastest balanced-routing latency (s) per (tokens, hidden, inter, topk, experts, tp, ep) of the raw rows ``sel``."""
    cols = ("num_tokens", "hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size")
    sel = sel & (r["distribution"] == "balanced")
    best: dict[tuple, float] = {}
    for row in zip(*(r[c][sel] for c in cols), r["latency_ms"][sel], strict=True):
        best[row[:-1]] = min(best.get(row[:-1], np.inf), row[-1] * 1e-3)
    return best


@raw
@pytest.mark.parametrize("chip", ["b200_sxm", "b300_sxm", "gb200", "gb300", "rtx_pro_6000_server"])
def test_gpt_oss_experts_are_timed_on_their_own_mxfp4_measurement(chip):
    # GPT-OSS's expert layer (hidden 2,880, 128 experts, top 4) has no NVFP4 row on any chip; the engine serves
    # OpenAI's MXFP4 checkpoint as MXFP4 weights x MXFP8 activations on Blackwell, and AIConfigurator measured
    # exactly that layer there. The 4-bit layer is timed from those rows, not extrapolated from other shapes.
    r = read(chip, "moe")
    best = _fastest_moe_rows(r, (r["moe_dtype"] == "w4a8_mxfp4_mxfp8") & (r["hidden_size"] == 2880))
    assert len({k[1:] for k in best}) >= 2 and not (r["moe_dtype"][r["hidden_size"] == 2880] == "nvfp4").any()
    for tokens, *cfg in list(best)[::5]:
        assert K.moe_is_measured(chip, "nvfp4", *cfg)
        floor = float(weight_floor_s(chip, "nvfp4", tokens, tuple(cfg)))
        assert K.moe_time_s(chip, "nvfp4", tokens, *cfg) == pytest.approx(max(best[(tokens, *cfg)], floor), rel=RTOL)


def test_mxfp4_experts_stay_with_the_chip_that_measured_them():
    # A chip that borrows another's tables scales them in its own format; the exact-shape MXFP4 rows are the
    # measured chip's only. Shapes with an NVFP4 row keep it.
    gpt_oss = (2880, 2880, 4, 128, 1, 1)
    assert K.moe_is_measured("rtx-pro-6000", "nvfp4", *gpt_oss) and not K.moe_is_measured("mi355x", "nvfp4", *gpt_oss)
    assert not K.moe_is_measured("rtx-pro-6000", "fp8", *gpt_oss)  # only a 4-bit layer reads the MXFP4 rows
    mxfp4 = tables.moe("rtx_pro_6000_server", "w4a8_mxfp4")
    assert mxfp4 is not None and tables.moe("h100_sxm", "w4a8_mxfp4") is None
    ds = (7168, 2048, 8, 256, 1, 8)
    assert ds not in mxfp4["index"] and K.moe_is_measured("b200", "nvfp4", *ds)


@raw
@pytest.mark.parametrize("chip", ["h100_sxm", "h200_sxm"])
def test_weight_only_mxfp4_experts_on_hopper_are_timed_on_their_w4a16_measurement(chip):
    # Hopper has no FP4 units: the engine serves GPT-OSS's MXFP4 experts weight-only (4-bit weights, 16-bit
    # activations), the layer AIConfigurator measured as w4a16_mxfp4. Each measured expert-parallel row is
    # reproduced; a tensor-parallel split of as many ranks (same weight bytes and FLOPs per GPU) reads the same row.
    r = read(chip, "moe")
    best = _fastest_moe_rows(r, (r["moe_dtype"] == "w4a16_mxfp4") & (r["num_experts"] == 128))
    assert {k[-1] for k in best} >= {2, 4, 8} and all(k[-2] == 1 for k in best)
    for tokens, *cfg in list(best)[::7]:
        floor = float(weight_floor_s(chip, "nvfp4", tokens, tuple(cfg)))
        want = max(best[(tokens, *cfg)], floor)
        assert K.moe_time_s(chip, "fp8", tokens, *cfg, weight_only_fp4=True) == pytest.approx(want, rel=RTOL)
        twin = (*cfg[:4], cfg[5], 1)  # TP over the same number of ranks
        assert K.moe_time_s(chip, "fp8", tokens, *twin, weight_only_fp4=True) == pytest.approx(want, rel=RTOL)


def test_weight_only_mxfp4_rows_stay_with_the_chip_that_measured_them():
    gpt_oss_tp2 = (2880, 2880, 4, 128, 2, 1)
    assert K.moe_is_measured("h200", "fp8", *gpt_oss_tp2, weight_only_fp4=True)
    assert not K.moe_is_measured("h200", "fp8", *gpt_oss_tp2)  # 8-bit experts do not read the 4-bit rows
    assert not K.moe_is_measured("mi300x", "fp8", *gpt_oss_tp2, weight_only_fp4=True)  # borrowed tables
    # the weight-only layer's floor is its 4-bit weights: half the 8-bit layer's at the same shape
    ds = (7168, 2048, 8, 256, 1, 8)
    assert not K.moe_is_measured("h100", "fp8", *ds, weight_only_fp4=True)
    one = K.moe_time_s("h100", "fp8", 1, *ds, weight_only_fp4=True)
    assert one >= float(weight_floor_s("h100", "nvfp4", 1, ds)) * (1 - RTOL)


# The engines' own MoE tables are built from an AIConfigurator checkout (scripts/build_kernel_tables.py --aic);
# set AICONFIGURATOR_DIR to one at commit 095f58a to check every shipped row against its source.
AIC = Path(os.environ.get("AICONFIGURATOR_DIR", "/nonexistent"))
aic = pytest.mark.skipif(not (AIC / "aic-core").is_dir(), reason="AICONFIGURATOR_DIR (an AIConfigurator checkout) is unset")
GPT_OSS = (2880, 2880, 4, 128)


@aic
@pytest.mark.parametrize(("chip", "engine"), [("h100_sxm", "vllm"), ("h200_sxm", "sglang"), ("b200_sxm", "vllm")])
def test_engine_moe_tables_reproduce_the_engines_raw_rows(chip, engine):
    pq = pytest.importorskip("pyarrow.parquet")
    meta = K.manifest()["chips"][chip]["derived"][f"moe_{engine}"]
    t = pq.read_table(AIC / meta["source_path"])
    r = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}
    r["latency_ms"] = r["latency"]
    for src, name in (("fp8_block", "fp8_block"), ("w4a16_mxfp4", "w4a16_mxfp4")):
        best = _fastest_moe_rows(r, (r["moe_dtype"] == src) & (r["latency"] > 0))
        table = tables.moe(chip, name, engine)
        assert (table is not None) == bool(best)
        for tokens, *cfg in list(best)[::97]:
            rate = np.exp2(np.interp(np.log2(tokens), np.log2(table["tokens"]), table["log2"][table["index"][tuple(cfg)]]))
            assert float(K.moe_flops(tokens, cfg[0], cfg[1], cfg[2], cfg[4], cfg[5])) / (rate * 1e12) == pytest.approx(
                best[(tokens, *cfg)], rel=RTOL)


def test_engine_moe_tables_hold_the_layouts_each_engine_runs():
    # vLLM splits GPT-OSS's experts by tensor parallelism by default; its table measures those splits, which
    # TensorRT-LLM's (expert-parallel only on Hopper) lacks. Versions: the newest complete ones per chip.
    vllm, trt = tables.moe("h100_sxm", "w4a16_mxfp4", "vllm"), tables.moe("h100_sxm", "w4a16_mxfp4")
    for tp in (2, 4, 8):
        assert (*GPT_OSS, tp, 1) in vllm["index"] and (*GPT_OSS, tp, 1) not in trt["index"]
    derived = K.manifest()["chips"]["h100_sxm"]["derived"]
    assert (derived["moe_vllm"]["version"], derived["moe_sglang"]["version"]) == ("0.24.0", "0.5.14")
    assert tables.moe("h100_sxm", "w4a16_mxfp4", "other") is None  # only the engines measured have tables


def test_an_engine_uses_its_own_moe_kernel_only_where_measured():
    # vLLM 0.24.0 on H100 runs GPT-OSS-120B's layer at TP 8 on 4 tokens in 43.16 us (AIConfigurator
    # systems/data/h100_sxm/moe/vllm/0.24.0/moe_perf.parquet, balanced routing, fastest kernel); the weight floor
    # (16 local expert slices of 4-bit weights, 25 MB at 3.35 TB/s) is 7 us, below it.
    tp8 = (*GPT_OSS, 8, 1)
    t = K.moe_time_s("h100", "fp8", 4, *tp8, weight_only_fp4=True, engine="vllm")
    assert t == pytest.approx(43.1627e-6, rel=RTOL)
    assert K.moe_is_measured("h100", "fp8", *tp8, weight_only_fp4=True, engine="vllm")
    # TensorRT-LLM's kernel for the same split is its expert-parallel twin's rate: 82.03 us measured at EP 8
    # (../shared/kernels/h100_sxm/moe.parquet, w4a16_mxfp4, 4 tokens)
    assert K.moe_time_s("h100", "fp8", 4, *tp8, weight_only_fp4=True) == pytest.approx(82.032e-6, rel=RTOL)
    # engines without tables, borrowed chips and shapes an engine's table lacks: TensorRT-LLM's timing
    ds = (7168, 2048, 8, 256, 1, 8)
    for chip, dtype, cfg, wo in (("h100", "fp8", tp8, True), ("mi300x", "fp8", tp8, True), ("h100", "fp8", ds, False)):
        trt = K.moe_time_s(chip, dtype, 64, *cfg, weight_only_fp4=wo)
        assert K.moe_time_s(chip, dtype, 64, *cfg, weight_only_fp4=wo, engine="other") == trt
        if chip == "mi300x" or dtype == "fp8" and not wo:
            assert tables.moe("h100_sxm", "fp8", "sglang") is None or cfg not in tables.moe("h100_sxm", "fp8", "sglang")["index"]
            assert K.moe_time_s(chip, dtype, 64, *cfg, weight_only_fp4=wo, engine="sglang") == trt


@raw
@pytest.mark.parametrize("chip", CHIPS)
def test_collectives_reproduce_raw_rows(chip):
    r = read(chip, "nccl")
    sel = r["nccl_dtype"] == "half"
    for op in OPS:
        s = sel & (r["op"] == op)
        t = K.collective_time_s(chip, op, r["message_bytes"][s], r["num_gpus"][s])
        np.testing.assert_allclose(t, r["latency_ms"][s] * 1e-3, rtol=1e-6)
    r = read(chip, "trtllm_allreduce")
    t = K.collective_time_s(chip, "all_reduce", r["message_bytes"], r["num_gpus"], library="trtllm")
    np.testing.assert_allclose(t, r["latency_ms"] * 1e-3, rtol=1e-6)


@raw
@pytest.mark.parametrize("chip", [c for c in CHIPS if c != "a100_sxm"])
def test_stream_bandwidth_is_median_of_large_passes(chip):
    r = read(chip, "quantize")
    big = (r["op"] == "scale_matrix") & (r["bytes_moved"] >= 2**30)
    expect = np.median(r["bytes_moved"][big] / (r["latency_ms"][big] * 1e-3))
    assert K.stream_bw_bytes_per_s(chip) == pytest.approx(expect, rel=1e-9)


# ----------------------------------------------------------------------------------------------
# headline figures of the README (shared/kernels/README.md, inspect.py h100_sxm)


def test_headline_h100_gemm_bf16_8192_cubed():
    t = K.gemm_time_s("h100_sxm", "bf16", 8192, 8192, 8192)
    assert 2 * 8192**3 / t / 1e12 == pytest.approx(783, abs=1.0)


def test_headline_l40s_gemm_bf16_8192_cubed():
    # shared/kernels/summary.csv, l40s: bf16 GEMM m=n=k=8192 at 222.64 TFLOP/s (TRT-LLM 1.3.0rc20); the table
    # stores log2 steps of 1/1024 octave, so it reproduces the value within RTOL.
    src = K.kernel_source("l40s-48g")
    assert src.chip == "l40s" and src.measured
    t = K.gemm_time_s("l40s-48g", "bf16", 8192, 8192, 8192)
    assert 2 * 8192**3 / t / 1e12 == pytest.approx(222.64, rel=RTOL)


def test_headline_rtx_pro_6000_all_reduce_512_mib():
    # shared/kernels/summary.csv, rtx_pro_6000_server: 8-GPU NCCL all-reduce of 512 MiB at 24.68 GB/s bus
    # bandwidth over PCIe Gen5 (no NVLink); latencies are stored as float32.
    assert K.kernel_source("rtx-pro-6000").measured
    t = K.collective_time_s("rtx-pro-6000-bse-96g", "all_reduce", 512 * MIB, 8)
    assert 512 * MIB / t * bus_factor("all_reduce", 8) / 1e9 == pytest.approx(24.68, abs=0.01)


def test_headline_h100_context_attention_8k():
    t = K.attention_time_s("h100_sxm", 1, 8192, 32, 8, 128)
    assert float(K.attention_flops(1, 8192, 32, 128)) / t / 1e12 == pytest.approx(507, abs=1.0)


def test_headline_h100_all_reduce_512_mib():
    t = K.collective_time_s("h100_sxm", "all_reduce", 512 * MIB, 8)
    assert 512 * MIB / t * bus_factor("all_reduce", 8) / 1e9 == pytest.approx(445, abs=1.0)


# ----------------------------------------------------------------------------------------------
# datasheet bounds


@pytest.mark.parametrize("chip", CHIPS)
def test_every_shipped_rate_is_within_datasheet(chip, catalog):
    src = resolve(chip)
    for dtype in tables.GEMM_DTYPES:
        if f"gemm.{dtype}.log2" in tables._arrays(chip):
            assert np.exp2(tables.gemm(chip, dtype).values.max()) * 1e12 <= src.peak(PRECISION[dtype])
        moe = tables.moe(chip, dtype)
        if moe is not None:
            assert np.exp2(moe["log2"].max()) * 1e12 <= src.peak(PRECISION[dtype])
    for dtype in tables.ATTENTION_DTYPES:
        if f"ctx.{dtype}.head_dims" in tables._arrays(chip):
            peak = max(np.exp2(g.values.max()) for g in tables.context(chip, dtype)[1]) * 1e12
            assert peak <= src.peak(dtype)
    for kv in tables.KV_DTYPES:
        if f"gen.{kv}.head_dims" in tables._arrays(chip):
            rate = max(np.exp2(g.values.max()) for g in tables.generation(chip, kv)[1]) * 1e9
            # the stored log2 is rounded to 1/1024 octave, at most half a step above the measured rate: the
            # RTX PRO 6000's fastest kept decode row reads 1,791.875 GB/s of its 1,792 GB/s and is stored as 1,792.3
            assert rate <= src.hbm_bw_bytes_per_s * 2 ** (1 / 2048)
    assert K.stream_bw_bytes_per_s(chip) <= src.hbm_bw_bytes_per_s
    one_way = catalog.accelerator(src.accelerator).scale_up_bw_bytes_per_s_bidir / 2
    for library in ("nccl", "trtllm"):
        gpus, sizes, ops = tables.nccl(chip, library)
        for op, lat in ops.items():
            busbw = sizes[None, :] * bus_factor(op, gpus[:, None]) / lat
            # documented exception: 8-GPU all-reduce with NVLink SHARP reaches ~ the one-way NVLink bandwidth
            limit = 1.05 if op == "all_reduce" else 1.0
            assert busbw.max() <= limit * one_way, (library, op)


# ----------------------------------------------------------------------------------------------
# interpolation and extrapolation


def test_gemm_interpolation_lies_between_neighbours():
    rng = np.random.default_rng(1)
    grid = tables.gemm("h100_sxm", "fp8")
    lo, hi = [np.array([a[0] for a in grid.axes]), np.array([a[-1] for a in grid.axes])]
    x = rng.uniform(lo, hi, size=(2000, 3))
    m, n, k = np.exp2(x.T)
    rate = 2 * m * n * k / K.gemm_time_s("h100_sxm", "fp8", m, n, k)
    shape = [a.size for a in grid.axes]
    v = grid.values.reshape(shape)
    idx = [np.clip(np.searchsorted(a, x[:, i], side="right") - 1, 0, a.size - 2) for i, a in enumerate(grid.axes)]
    corners = np.stack([v[idx[0] + a, idx[1] + b, idx[2] + c] for a in (0, 1) for b in (0, 1) for c in (0, 1)])
    log_rate = np.log2(rate / 1e12)
    assert np.all(log_rate >= corners.min(0) - 1e-9) and np.all(log_rate <= corners.max(0) + 1e-9)


def test_attention_interpolation_between_sequence_lengths():
    s = np.array([4096, 5000, 6144])
    rate = K.attention_flops(2, s, 32, 128) / K.attention_time_s("b200", 2, s, 32, 8, 128) / 1e12
    assert min(rate[0], rate[2]) <= rate[1] <= max(rate[0], rate[2])


def test_gemm_beyond_grid_holds_efficiency_and_below_holds_time():
    e = K.gemm_efficiency("h100", "bf16", [32768, 65536, 131072], 8192, 8192)
    assert e[0] == pytest.approx(e[1], rel=1e-12) and e[1] == pytest.approx(e[2], rel=1e-12)
    assert K.gemm_efficiency("h100", "bf16", 8192, 200_000, 8192) == pytest.approx(
        K.gemm_efficiency("h100", "bf16", 8192, 65536, 8192), rel=1e-12)
    assert K.gemm_time_s("h100", "bf16", 64, 8, 4096) == K.gemm_time_s("h100", "bf16", 64, 32, 4096)
    assert K.gemm_time_s("b200", "nvfp4", 64, 4096, 64) == K.gemm_time_s("b200", "nvfp4", 64, 4096, 128)


def test_attention_beyond_16k_holds_efficiency():
    s = np.array([16384, 32768, 131072])
    rate = K.attention_flops(1, s, 16, 128) / K.attention_time_s("h200", 1, s, 16, 2, 128)
    np.testing.assert_allclose(rate, rate[0], rtol=1e-12)


def test_attention_window_equivalence():
    # window >= seq_len is full causal attention
    assert K.attention_time_s("h100", 1, 4096, 32, 8, 128, window=4096) == K.attention_time_s("h100", 1, 4096, 32, 8,
                                                                                               128)
    # continuous at window = seq_len / 2 (where the equivalent batch is the real one)
    a = K.attention_time_s("h100", 1, 8192, 32, 8, 128, window=4096)
    b = K.attention_time_s("h100", 1, 8192, 32, 8, 128, window=4097)
    assert a == pytest.approx(b, rel=2e-3)
    # a shorter window is faster
    w = np.array([128, 1024, 4096, 0])
    assert np.all(np.diff(K.attention_time_s("h100", 1, 16384, 32, 8, 128, window=w)) > 0)


@raw
def test_attention_window_equivalence_against_measured_windows():
    r = read("h100_sxm", "context_attention")
    for d, w, lo, hi in ((128, 8192, 0.9, 1.1), (64, 128, 0.6, 1.0)):
        sel = ((r["attn_dtype"] == "bfloat16") & (r["kv_cache_dtype"] == "bfloat16") & (r["head_dim"] == d)
               & (r["window_size"] == w) & (r["seq_len"] > w))
        t = K.attention_time_s("h100_sxm", r["batch_size"][sel], r["seq_len"][sel], r["num_heads"][sel],
                               r["num_kv_heads"][sel], d, w)
        assert lo < np.median(t / (r["latency_ms"][sel] * 1e-3)) < hi


def test_decode_window_reads_only_the_window():
    full = K.decode_attention_time_s("h100", 8, 4095, 32, 8, 128)
    assert K.decode_attention_time_s("h100", 8, 100_000, 32, 8, 128, window=4096) == pytest.approx(full, rel=1e-12)
    longer = K.decode_attention_time_s("h100", 8, [8191, 131071, 262143], 32, 8, 128)
    assert np.all(np.diff(longer) > 0)


def test_collectives_extrapolate_by_bus_bandwidth():
    t4 = K.collective_time_s("gb200", "all_gather", 64 * MIB, 4)
    t72 = K.collective_time_s("gb200", "all_gather", 64 * MIB, 72)
    assert t72 / t4 == pytest.approx(bus_factor("all_gather", 72) / bus_factor("all_gather", 4), rel=1e-12)
    t512, t2g = K.collective_time_s("h100", "all_reduce", [512 * MIB, 2048 * MIB], 8)
    assert t2g / t512 == pytest.approx(4.0, rel=1e-12)
    assert K.collective_time_s("h100", "all_reduce", 1e6, 1) == 0.0
    t = K.collective_time_s("h100", "alltoall", 64 * MIB, [2, 4, 6, 8])
    assert t[1] < t[2] < t[3] or t[1] > t[2] > t[3]  # 6 GPUs between 4 and 8


def test_memory_time_is_monotone_and_streams():
    b = np.logspace(2, 11, 50)
    t = K.memory_time_s("b200", b)
    assert np.all(np.diff(t) >= 0)
    assert 1e11 / K.memory_time_s("b200", 1e11) == pytest.approx(K.stream_bw_bytes_per_s("b200"), rel=0.02)
    assert K.memory_time_s("b200", 0) == 0.0


# ----------------------------------------------------------------------------------------------
# training helpers, MoE


def test_gemm_train_time_is_three_lookups():
    m, n, k = 4096, 14336, 4096
    expect = sum(K.gemm_time_s("h100", "fp8", *s) for s in ((m, n, k), (m, k, n), (n, k, m)))
    assert K.gemm_train_time_s("h100", "fp8", m, n, k) == pytest.approx(expect, rel=1e-12)


def test_attention_backward_factor_from_flashattention2():
    assert K.attention_backward_factor() == pytest.approx(2.5 * 0.73 / 0.63)
    f = K.attention_time_s("b200", 2, 4096, 16, 2, 128)
    assert K.attention_train_time_s("b200", 2, 4096, 16, 2, 128) == pytest.approx(f * (1 + 2.5 * 0.73 / 0.63))


def test_moe_fallback_is_close_to_measured_config():
    cfg = (7168, 2048, 8, 256, 1, 8)  # DeepSeek-V3 layer, EP 8
    assert K.moe_is_measured("h100", "fp8_block", *cfg)
    tokens = np.array([256.0, 4096.0, 16384.0])
    measured = K.moe_time_s("h100", "fp8_block", tokens, *cfg)
    ratio = _fallback_s("h100_sxm", "fp8_block", tokens, cfg) / measured
    np.testing.assert_allclose(ratio, 1.0, rtol=1e-9)  # nearest config is itself: exact
    near = K.moe_time_s("h100", "fp8_block", tokens, 7168, 2304, 8, 256, 1, 8)  # unmeasured inter size
    assert not K.moe_is_measured("h100", "fp8_block", 7168, 2304, 8, 256, 1, 8)
    assert np.all((near > measured) & (near < 1.5 * measured))


def test_moe_power_law_is_slower_at_many_tokens():
    args = ("h100", "bf16", 16384, 4096, 14336, 2, 8, 1, 8)
    assert K.moe_time_s(*args, "power_law_1.2") > K.moe_time_s(*args, "power_law_1.01") > K.moe_time_s(*args)


def test_moe_on_a100_uses_grouped_gemm():
    assert not K.moe_is_measured("a100", "bf16", 4096, 14336, 2, 8, 1, 8)
    assert K.moe_time_s("a100", "bf16", 4096, 4096, 14336, 2, 8, 1, 8) > K.moe_time_s("h100", "bf16", 4096, 4096,
                                                                                        14336, 2, 8, 1, 8)


# ----------------------------------------------------------------------------------------------
# borrowing


def test_borrowed_chip_scales_by_datasheet_ratios(catalog):
    src = K.kernel_source("mi355x")  # no measured fractions in the catalog: datasheet ratios
    mi, b200 = catalog.accelerator("mi355x"), catalog.accelerator("b200")
    assert src.chip == "b200_sxm" and "b200_sxm" in src.borrowed_from and "datasheet ratios" in src.borrowed_from
    # compute-bound GEMM: by the bf16 peak ratio (the memory-bound share of a 16K^3 GEMM is < 1%)
    ratio = K.gemm_time_s("b200", "bf16", 16384, 16384, 16384) / K.gemm_time_s("mi355x", "bf16", 16384, 16384, 16384)
    assert ratio == pytest.approx(mi.peak_flops_per_s["bf16"] / b200.peak_flops_per_s["bf16"], rel=0.01)
    # memory-bound: decode and streaming by the HBM ratio, collectives by the scale-up ratio
    hbm = mi.hbm_bw_bytes_per_s / b200.hbm_bw_bytes_per_s
    dec = K.decode_attention_time_s("b200", 64, 4095, 32, 8, 128) / K.decode_attention_time_s("mi355x", 64, 4095, 32,
                                                                                              8, 128)
    assert dec == pytest.approx(hbm, rel=1e-12)
    assert K.memory_time_s("b200", 1e9) / K.memory_time_s("mi355x", 1e9) == pytest.approx(hbm, rel=1e-12)
    comm = mi.scale_up_bw_bytes_per_s_bidir / b200.scale_up_bw_bytes_per_s_bidir
    c = K.collective_time_s("b200", "all_gather", 1e8, 8) / K.collective_time_s("mi355x", "all_gather", 1e8, 8)
    assert c == pytest.approx(comm, rel=1e-12)
    # a tiny-m GEMM is memory-bound: it scales (almost) by the HBM ratio
    tiny = K.gemm_time_s("b200", "bf16", 1, 8192, 8192) / K.gemm_time_s("mi355x", "bf16", 1, 8192, 8192)
    assert tiny == pytest.approx(hbm, rel=0.01)


def test_same_die_at_lower_power_runs_compute_at_a_proportional_clock(catalog):
    # Below the voltage knee dynamic power follows the clock: a GH100 at 400 W (H100 NVL), whose datasheet peak
    # (0.84x the SXM's) would take 70 + 630 x 0.845 = 602 W, sustains (400 - 70) / (602 - 70) = 0.62 of it; the
    # H200 NVL at 600 W has (nearly) the power its own lower clock needs; memory-bound work is not slowed.
    from stargate.kernels.source import power_clock_factor
    assert power_clock_factor(500, 700) == pytest.approx(430 / 630)
    assert power_clock_factor(700, 700) == power_clock_factor(800, 700, 1.0) == 1.0
    nvl, sxm = catalog.accelerator("h100-nvl-94g"), catalog.accelerator("h100-sxm-80g")
    assert nvl.same_die_as == sxm.id and catalog.accelerator("mi350x").same_die_as == "mi355x-288g"
    clock = power_clock_factor(nvl.tdp_w, sxm.tdp_w, nvl.peak_16bit_flops_per_s / sxm.peak_16bit_flops_per_s)
    assert clock == pytest.approx(330 / (630 * nvl.peak_16bit_flops_per_s / sxm.peak_16bit_flops_per_s))
    src = K.kernel_source("h100-nvl-94g")
    assert src.compute_scale["bf16"] == pytest.approx(clock * nvl.peak_16bit_flops_per_s / sxm.peak_16bit_flops_per_s)
    assert src.memory_scale == pytest.approx(nvl.hbm_bw_bytes_per_s / sxm.hbm_bw_bytes_per_s)
    assert "power-capped clock x0.62" in src.borrowed_from
    assert K.kernel_source("h200-nvl-141g").compute_scale["bf16"] > 0.99 * 835.5 / 989.4
    # the MI350X against the MI355X, the same die at 1,000 W and 2.2 GHz: 0.74 of its own datasheet peak
    mi350, mi355 = K.kernel_source("mi350x"), K.kernel_source("mi355x")
    assert mi350.compute_scale["fp8"] / mi355.compute_scale["fp8"] == pytest.approx(0.92 * 860 / (1260 * 0.92), rel=1e-9)


def test_borrowed_chip_with_measured_fractions_scales_by_measured_throughput(catalog):
    from stargate.kernels import tables

    mi = catalog.accelerator("mi300x")
    assert mi.achieved_matmul_fraction and mi.achieved_hbm_fraction and mi.achieved_source
    src = K.kernel_source("mi300x")
    assert src.chip == "h200_sxm" and "measured throughput" in src.borrowed_from
    # a large GEMM runs at the chip's measured rate over the tables' best measured H200 rate
    measured = mi.peak_flops_per_s["bf16"] * mi.achieved_matmul_fraction / (tables.gemm_best_tflops("h200_sxm", "bf16") * 1e12)
    ratio = K.gemm_time_s("h200", "bf16", 16384, 16384, 16384) / K.gemm_time_s("mi300x", "bf16", 16384, 16384, 16384)
    assert ratio == pytest.approx(measured, rel=0.02) and ratio < 1  # slower than an H200, its datasheet says 1.32x
    stream = mi.hbm_bw_bytes_per_s * mi.achieved_hbm_fraction / tables.memory_curve("h200_sxm")[2]
    assert K.memory_time_s("h200", 1e9) / K.memory_time_s("mi300x", 1e9) == pytest.approx(stream, rel=1e-12)


@pytest.mark.parametrize(("acc", "chip"), [
    ("h800", "h100_sxm"), ("a100-40g", "a100_sxm"), ("h100-hbm2e-96g-500w", "h100_sxm"), ("v100", "a100_sxm"),
    ("mi355x", "b200_sxm"), ("tpu-v7-ironwood", "b200_sxm"), ("trainium2", "h100_sxm"), ("gaudi3", "h100_sxm"),
    ("maia-100", "h100_sxm"), ("h100-nvl-94g", "h100_sxm"), ("gh200-144g", "h200_sxm"), ("mi350x", "b200_sxm"),
])
def test_borrowing_table(acc, chip):
    src = K.kernel_source(acc)
    assert src.chip == chip and not src.measured and chip in src.borrowed_from


def test_h800_differs_from_h100_only_in_scale_up():
    assert K.gemm_time_s("h800", "fp8", 4096, 4096, 4096) == K.gemm_time_s("h100", "fp8", 4096, 4096, 4096)
    assert K.collective_time_s("h800", "all_reduce", 1e8, 8) == pytest.approx(
        K.collective_time_s("h100", "all_reduce", 1e8, 8) * 900 / 400)


# ----------------------------------------------------------------------------------------------
# vectorization and errors


def test_vectorized_and_scalar_calls_agree():
    m = np.array([1, 17, 300, 4096, 30000])
    vec = K.gemm_time_s("gb300", "nvfp4", m, 7168, 2048)
    assert vec.shape == (5,)
    assert all(vec[i] == K.gemm_time_s("gb300", "nvfp4", int(v), 7168, 2048) for i, v in enumerate(m))
    s = np.array([[512], [8192]])
    grid = K.attention_time_s("h100", np.array([1, 4]), s, 8, 1, 128)
    assert grid.shape == (2, 2) and grid[1, 0] == K.attention_time_s("h100", 1, 8192, 8, 1, 128)
    dec = K.decode_attention_time_s("b300", [1, 64], 4095, 64, 8, 128, "fp8")
    assert dec[1] == K.decode_attention_time_s("b300", 64, 4095, 64, 8, 128, "fp8")
    assert isinstance(K.gemm_time_s("h100", "bf16", 1, 2, 3), float)


@pytest.mark.parametrize(("call", "field"), [
    (lambda: K.gemm_time_s("h1000", "bf16", 1, 1, 1), "chip"),
    (lambda: K.gemm_time_s("h100", "fp16", 1, 1, 1), "dtype"),
    (lambda: K.gemm_time_s("h100", "nvfp4", 1, 1, 1), "dtype"),
    (lambda: K.gemm_time_s("a100", "fp8", 1, 1, 1), "dtype"),
    (lambda: K.gemm_time_s("h100", "bf16", 0, 1, 1), "m"),
    (lambda: K.gemm_time_s("h100", "bf16", 1, [1, np.nan], 1), "n"),
    (lambda: K.attention_time_s("h100", 1, 4096, 8, 16, 128), "kv_heads"),
    (lambda: K.attention_time_s("h100", 1, 4096, 8, 8, 128, dtype="int8"), "dtype"),
    (lambda: K.attention_time_s("h100", 1, 4096, 8, 8, 128, window=64, causal=False), "window"),
    (lambda: K.decode_attention_time_s("h100", 1, -1, 8, 8, 128), "kv_len"),
    (lambda: K.decode_attention_time_s("h100", 1, 10, 8, 8, 128, kv_dtype="fp4"), "kv_dtype"),
    (lambda: K.moe_time_s("h100", "bf16", 10, 4096, 14336, 2, 8, 1, 3), "ep"),
    (lambda: K.moe_time_s("h100", "bf16", 10, 4096, 14336, 2, 8, distribution="zipf"), "distribution"),
    (lambda: K.collective_time_s("h100", "broadcast", 1e6, 8), "op"),
    (lambda: K.collective_time_s("h100", "all_gather", 1e6, 8, library="trtllm"), "op"),
    (lambda: K.collective_time_s("h100", "all_reduce", 1e6, 2.5), "gpus"),
    (lambda: K.memory_time_s("h100", -1.0), "bytes"),
    (lambda: K.gemm_time_s("maia-100", "fp8", 1, 1, 1), "dtype"),
    (lambda: K.decode_attention_time_s("a100", 1, 10, 8, 8, 128, kv_dtype="fp8"), "kv_dtype"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(InputError) as e:
        call()
    assert e.value.field == field


def test_no_moe_layer_beats_reading_its_weights():
    # B200's measured NVFP4 Mixtral 8x7B entries at 2-128 tokens sit below the HBM floor (8 experts x 3 x 4096
    # x 14336 weights x 0.5 B / 8 TB/s = 88 us); the shipped time is held at it, on every path and routing.
    cfg = (4096, 14336, 2, 8, 1, 1)
    floor = 8 * 3 * 4096 * 14336 * 0.5 / 8e12
    assert float(weight_floor_s("b200", "nvfp4", 64, cfg)) == pytest.approx(floor)
    for tokens in (16, 64, 512):
        assert K.moe_time_s("b200", "nvfp4", tokens, *cfg) >= floor * (1 - 1e-12)
    assert K.moe_time_s("b200", "nvfp4", 64, 4096, 14336, 2, 8, 1, 1) == pytest.approx(floor)  # was 68 us
    # an unmeasured shape (fallback path) is held too: gpt-oss-120b's experts at 64 tokens, all 128 touched
    go = (2880, 2880, 4, 128, 1, 1)
    assert K.moe_time_s("b200", "nvfp4", 64, *go) >= float(weight_floor_s("b200", "nvfp4", 64, go))
