"""Mixture-of-experts layer time by shape, parallel split and chip.

Measured (``moe.parquet``): one fused MoE layer on one GPU holding one rank of a (``tp``, ``ep``)
split — routing/top-k, token permutation, the grouped gate+up and down GEMMs, activation,
un-permutation and the weighted top-k sum, plus activation quantization for quantized dtypes. The
router GEMM and any all-to-all or all-reduce are **not** included. Shipped for balanced routing,
gated (SwiGLU) experts, the fastest measured kernel per shape.

A layer whose ``(hidden, inter, topk, experts, tp, ep)`` is in the table is interpolated in log2
over the token count (the nominal FLOP/s is held past the largest measured count, 16,384). Any
other layer is timed as its grouped-GEMM equivalent from :func:`~stargate.kernels.gemm_time_s` —
the local experts that receive tokens, ``m_e`` tokens each, as one GEMM of ``m_e`` rows against
their weights side by side (gate+up ``(m_e, active·2·inter/tp, hidden)``, down
``(m_e, active·hidden, inter/tp)``) — times the measured ratio of layer time to that equivalent for
the nearest measured config (log2 of hidden, inter/tp, experts/ep, topk) at the same token count,
which carries routing, permutation and activation costs. Leaving each model out of the H100 and B200
tables in turn, this reproduces its measured times (16 tokens or more) within a median of 3-23%,
90th percentile 13% to 3.4x; the tails are BF16 and NVFP4 shapes at few tokens per expert. :func:`moe_is_measured` says which path is
used. Chips without an MoE table for the dtype (A100, whose legacy table has only power-law
routing) borrow H100's ratios.

Power-law routing (``distribution="power_law_1.01"`` or ``"power_law_1.2"``) multiplies the balanced
time by the median measured slowdown at the same expert-parallel size and token count.

No layer is faster than reading the weights of the experts it touches from HBM at the chip's datasheet
bandwidth (:func:`weight_floor_s`). Some measured entries are: 2-4% of the balanced-routing rows on H100 to
GB300, 6% on RTX PRO 6000 and 21% on L40S, small shapes whose weights a benchmark loop re-reads from L2
(down to 0.24x the floor), and B200's and GB200's NVFP4 Mixtral 8x7B shapes at 2 to 128 tokens on
TensorRT-LLM-Gen's min-latency kernel (down to 0.33x, where B300's CUTLASS rows sit at 1.8x it). A served
model's other layers evict those weights, so measured times and the ratios derived from them are held at the
floor.

The min-latency kernel, measured on B200 and GB200 only, is in the tables up to 128 tokens, the most the
engine runs it on (``scripts/build_kernel_tables.py``, ``MIN_LATENCY_MAX_TOKENS``); above, B200 and GB200 use
CUTLASS like every other chip.

A 4-bit (``nvfp4``) expert layer whose shape the chip's NVFP4 table lacks, but its MXFP4 table
(:data:`MXFP4`) holds, is timed from that exact-shape measurement rather than extrapolated from other
shapes: GPT-OSS's layer on the Blackwell chips, the format and backend the engine serves OpenAI's MXFP4
checkpoint with (TensorRT-LLM ``_torch/model_config.py``: ``get_mxfp4_quant_algo`` gives W4A8_MXFP4_MXFP8 on
SM100 and above, ``resolve_moe_backend`` TRTLLM-Gen on SM100/SM103 and CUTLASS on SM120, the backends
AIConfigurator's collector measured them with). Chips that borrow another's tables keep the extrapolation
in their own format.

An MXFP4 expert layer served weight-only (``weight_only_fp4``: 4-bit weights, 16-bit activations, on a chip
without FP4 units) is timed from the chip's ``w4a16_mxfp4`` measurement (:data:`W4A16`) where it holds the
shape: GPT-OSS's layers on H100 and H200, the format the engine serves that checkpoint's experts in on Hopper
(TensorRT-LLM ``get_mxfp4_quant_algo`` gives W4A16_MXFP4 below SM100; vLLM's Hopper path is its Marlin or
Triton MXFP4 kernel, also weight-only). The table measures expert-parallel splits only (2 to 128 ranks for
GPT-OSS-120B's layer on Hopper): a split of ``tp·ep`` ranks is timed at the measured FLOP rate of the
expert-parallel split of as many ranks, else of the nearest measured count, applied to its own FLOPs per rank
(balanced routing gives each of ``n`` ranks ``1/n`` of the layer's weight bytes and FLOPs), so that every
layout of the layer is timed on the same measurement. Other layers keep the 8-bit timing, with the floor at
4-bit weight bytes; as for MXFP4, chips that borrow another's tables keep their own format's timing.

Engines: the tables above are TensorRT-LLM's kernels. vLLM and SGLang run the same layers with their own
kernels, which AIConfigurator measured too (``tables.moe(chip, dtype, engine)``, balanced routing): with
``engine="vllm"`` or ``"sglang"`` a layer whose shape the engine's table holds is timed on it (the same rules:
its own dtype, the MXFP4 rows for a 4-bit layer, :data:`W4A16` for a weight-only one), any other on
TensorRT-LLM's. Power-law routing multiplies by TensorRT-LLM's median factors for every engine.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.kernels import tables
from stargate.kernels.gemm import OPERAND_BYTES, gemm_time_s
from stargate.kernels.grid import bracket, memoize_scalars, positive, result
from stargate.kernels.source import PRECISION, KernelSource, resolve

__all__ = ["DISTRIBUTIONS", "MXFP4", "W4A16", "moe_flops", "moe_is_measured", "moe_time_s", "weight_floor_s"]

MXFP4 = "w4a8_mxfp4"
"""Table of MXFP4 experts with MXFP8 activations (``scripts/build_kernel_tables.py``, ``MOE_DTYPES``)."""

W4A16 = "w4a16_mxfp4"
"""Table of MXFP4 experts with 16-bit activations: weight-only 4-bit (``scripts/build_kernel_tables.py``)."""

DISTRIBUTIONS = ("balanced", "power_law_1.01", "power_law_1.2")
"""Routing distributions: balanced, or power-law expert load with exponent 1.01 or 1.2 (AIConfigurator)."""


def moe_flops(tokens, hidden, inter, topk, tp=1, ep=1) -> np.ndarray:
    """Nominal FLOPs of one GPU's share of a gated MoE layer:
    ``2 · tokens · topk · hidden · (inter / tp) · 3 / ep`` (gate, up and down matmuls).

    Examples
    --------
    >>> float(moe_flops(1, 1, 1, 1))
    6.0
    """
    t = np.asarray(tokens, dtype=float)
    return 2.0 * t * topk * hidden * (inter / tp) * 3.0 / ep


def _config(hidden, inter, topk, experts, tp, ep) -> tuple[int, ...]:
    names = ("hidden", "inter", "topk", "experts", "tp", "ep")
    cfg = tuple(int(positive(n, v, integer=True)) for n, v in zip(names, (hidden, inter, topk, experts, tp, ep),
                                                                   strict=True))
    if cfg[2] > cfg[3]:
        raise InputError("topk", topk, f"at most experts ({experts})")
    if cfg[3] % cfg[5]:
        raise InputError("ep", ep, f"a divisor of experts ({experts})")
    return cfg


def moe_is_measured(chip: str, dtype: str, hidden, inter, topk, experts, tp=1, ep=1, *,
                    weight_only_fp4: bool = False, engine: str = "trtllm", catalog: Catalog | None = None) -> bool:
    """True when the layer's shape and split are in the measured table of the chip used for ``chip``.

    Examples
    --------
    >>> moe_is_measured("h100", "fp8_block", 7168, 2048, 8, 256, 1, 8)  # DeepSeek-V3, EP 8
    True
    >>> moe_is_measured("h100", "bf16", 5000, 2048, 8, 256)
    False
    >>> moe_is_measured("h100", "fp8", 2880, 2880, 4, 128, 2, 1, weight_only_fp4=True)  # GPT-OSS on Hopper, TP 2
    True
    """
    src = resolve(chip, catalog)
    dtype = tables.dtype_name("dtype", dtype, tables.MOE_DTYPES)
    return _measured(src, dtype, _config(hidden, inter, topk, experts, tp, ep), weight_only_fp4, engine)[1] is not None


def _measured(src: KernelSource, dtype: str, cfg: tuple[int, ...], weight_only_fp4: bool = False,
              engine: str = "trtllm") -> tuple[dict | None, int | None, str]:
    """The table, row and dtype that time ``cfg`` from a measurement (row None: extrapolated).

    On the chip that measured them, ``engine``'s own table first (:data:`~stargate.kernels.tables.ENGINES`,
    the shape measured as that engine runs it), then TensorRT-LLM's; in each, a weight-only 4-bit layer looks
    in :data:`W4A16` (:func:`_rank_twin`), any other layer at its own ``dtype``, and a 4-bit layer without an
    NVFP4 row at its exact shape in :data:`MXFP4`. Otherwise TensorRT-LLM's table of ``dtype`` with row None."""
    engines = (engine, "trtllm") if engine in tables.ENGINES and src.measured else ("trtllm",)
    for eng in engines:
        if weight_only_fp4 and src.measured and (w4 := tables.moe(src.chip, W4A16, eng)) is not None:
            row = _rank_twin(w4, cfg)
            if row is not None:
                return w4, row, W4A16
        table = tables.moe(src.chip, dtype, eng)
        if table is not None and cfg in table["index"]:
            return table, table["index"][cfg], dtype
        if dtype == "nvfp4" and src.measured:
            exact = tables.moe(src.chip, MXFP4, eng)
            if exact is not None and cfg in exact["index"]:
                return exact, exact["index"][cfg], MXFP4
    return tables.moe(src.chip, dtype), None, dtype


def _rank_twin(table: dict, cfg: tuple[int, ...]) -> int | None:
    """Row of ``table`` timing ``cfg`` by its rank count: the layer's exact row, else the expert-parallel split
    (``tp`` 1) of the same layer whose rank count is nearest ``tp·ep`` in log2 (the smaller on a tie), None when
    the layer is not measured. Its measured FLOP rate is applied to ``cfg``'s own FLOPs per rank, so the time
    scales with the per-rank share (balanced routing gives each of ``n`` ranks ``1/n`` of the experts' bytes
    and FLOPs at any token count)."""
    if cfg in table["index"]:
        return table["index"][cfg]
    hidden, inter, topk, experts, tp, ep = cfg
    same = [(abs(np.log2(c[5] / (tp * ep))), c[5], i) for i, c in enumerate(table["configs"].tolist())
            if tuple(c[:4]) == (hidden, inter, topk, experts) and c[4] == 1]
    return min(same)[2] if same else None


def weight_floor_s(chip: str, dtype: str, tokens, cfg: tuple[int, ...]) -> np.ndarray:
    """Seconds to read the weights of the local experts ``tokens`` touch, at the measured chip's HBM bandwidth.

    ``min(tokens·topk/ep, experts/ep)`` experts (balanced routing), ``3·hidden·inter/tp`` weights each
    (gate, up, down) at the dtype's operand bytes, over the datasheet bandwidth: a bound no kernel beats.

    Examples
    --------
    >>> cfg = (4096, 14336, 2, 8, 1, 1)  # Mixtral 8x7B: every expert touched at 64 tokens
    >>> round(float(weight_floor_s("b200", "nvfp4", 64, cfg)) * 1e6)  # 8 experts x 176M weights x 0.5 B / 8 TB/s
    88
    """
    return _expert_weight_bytes(tokens, dtype, cfg) / resolve(chip).source_hbm_bw_bytes_per_s


def _active_experts(tokens, cfg: tuple[int, ...]) -> np.ndarray:
    """Local experts that receive tokens under balanced routing: ``min(tokens·topk/ep, experts/ep)``, at least 1."""
    _, _, topk, experts, _, ep = cfg
    return np.clip(np.asarray(tokens, dtype=float) * topk / ep, 1.0, experts / ep)


def _expert_weight_bytes(tokens, dtype: str, cfg: tuple[int, ...]) -> np.ndarray:
    """Bytes of the weights (gate, up, down: ``3·hidden·inter/tp`` each) of the local experts ``tokens`` touch."""
    hidden, inter, _, _, tp, _ = cfg
    return _active_experts(tokens, cfg) * 3.0 * hidden * inter / tp * OPERAND_BYTES[dtype]


def _grouped_gemm_s(chip: str, dtype: str, tokens: np.ndarray, cfg: tuple[int, ...]) -> float | np.ndarray:
    """Grouped-GEMM equivalent on ``chip`` (a measured chip name): the ``active`` local experts that
    receive tokens, ``m_e`` tokens each, as one GEMM of ``m_e`` rows against their weights side by
    side — gate+up ``(m_e, active·2·inter/tp, hidden)`` and down ``(m_e, active·hidden, inter/tp)``:
    the FLOPs and weight bytes of the grouped GEMM, in one launch."""
    hidden, inter, topk, _, tp, ep = cfg
    routed = tokens * topk / ep  # token-expert assignments on this rank, balanced
    active = _active_experts(tokens, cfg)
    m_e = np.maximum(routed / active, 1.0)
    up = gemm_time_s(chip, dtype, m_e, active * 2.0 * inter / tp, hidden)
    down = gemm_time_s(chip, dtype, m_e, active * hidden, inter / tp)
    return up + down


def _features(cfg) -> np.ndarray:
    """Shape of one rank's experts: log2 of hidden, inter / tp, experts / ep, topk."""
    c = np.asarray(cfg, dtype=float)
    return np.log2(np.stack([c[..., 0], c[..., 1] / c[..., 4], c[..., 3] / c[..., 5], c[..., 2]], axis=-1))


@lru_cache(maxsize=64)
def _ratios(chip: str, dtype: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Measured layer time over its grouped-GEMM equivalent for every measured config of ``chip``:
    (chip measured on, config features [C, 4], log2 tokens [T], log2 ratio [C, T]). Chips without an
    MoE table for ``dtype`` borrow H100's (same dtype where measured there, else bf16)."""
    table = tables.moe(chip, dtype)
    if table is None:
        return _ratios("h100_sxm", dtype if tables.moe("h100_sxm", dtype) is not None else "bf16")
    tokens = table["tokens"]
    ratio = np.empty(table["log2"].shape)
    for i, cfg in enumerate(table["configs"].tolist()):
        measured = moe_flops(tokens, cfg[0], cfg[1], cfg[2], cfg[4], cfg[5]) / (np.exp2(table["log2"][i]) * 1e12)
        measured = np.maximum(measured, weight_floor_s(chip, dtype, tokens, tuple(cfg)))
        ratio[i] = np.log2(measured / _grouped_gemm_s(chip, dtype, tokens, tuple(cfg)))
    return chip, _features(table["configs"]), np.log2(tokens), ratio


def _fallback_s(chip: str, dtype: str, tokens: np.ndarray, cfg: tuple[int, ...]) -> np.ndarray:
    """Grouped-GEMM equivalent times the measured/equivalent ratio of the nearest measured config
    (in log2 of hidden, inter / tp, experts / ep and topk) at the same token count."""
    _, feats, log_tokens, ratio = _ratios(chip, dtype)
    j = int(np.argmin(np.linalg.norm(feats - _features(cfg), axis=1)))
    return _grouped_gemm_s(chip, dtype, tokens, cfg) * np.exp2(np.interp(np.log2(tokens), log_tokens, ratio[j]))


def _power_law(chip: str, dtype: str, distribution: str, tokens: np.ndarray, ep: int) -> np.ndarray:
    for c, d in ((chip, dtype), ("h100_sxm", dtype), ("h100_sxm", "bf16")):
        table = tables.moe(c, d)
        if table is not None and distribution in table["power_laws"]:
            break
    if table is None:  # the shipped tables always hold H100's bf16 power laws
        raise RuntimeError(f"the kernel tables have no MoE {distribution} routing")
    eps, factor = table["power_laws"][distribution]
    e0, e1, we = bracket(np.log2(eps.astype(float)), np.log2(float(ep)))
    t0, t1, wt = bracket(np.log2(table["tokens"]), np.log2(tokens))
    lf = np.log2(factor)
    return np.exp2((1 - we) * ((1 - wt) * lf[e0, t0] + wt * lf[e0, t1]) + we * ((1 - wt) * lf[e1, t0] + wt * lf[e1, t1]))


@memoize_scalars
def moe_time_s(chip: str, dtype: str, tokens, hidden, inter, topk, experts, tp=1, ep=1,
               distribution: str = "balanced", *, weight_only_fp4: bool = False, engine: str = "trtllm",
               catalog: Catalog | None = None) -> float | np.ndarray:
    """Seconds of one MoE layer forward on one GPU of a (``tp``, ``ep``) split.

    Parameters
    ----------
    chip : str
        Measured chip or catalog accelerator id/alias.
    dtype : str
        ``bf16``, ``fp8``, ``fp8_block`` or ``nvfp4`` (expert weights and activations).
    tokens : float or array_like
        Tokens entering the layer (before routing; each goes to ``topk`` experts across all ranks).
    hidden, inter, topk, experts : int
        Model hidden size, full expert FFN size (before the TP split), experts per token, experts.
    tp, ep : int
        Tensor- and expert-parallel degree of the MoE layer: this GPU holds ``experts / ep`` experts
        of intermediate size ``inter / tp``.
    distribution : str
        One of :data:`DISTRIBUTIONS`.
    weight_only_fp4 : bool
        The experts' weights are MXFP4, served weight-only (a chip without FP4 units): 4-bit weight bytes, and
        the :data:`W4A16` measurement where it holds the shape.
    engine : str
        Serving engine: ``trtllm`` (TensorRT-LLM's kernels, the default tables) or one of
        :data:`~stargate.kernels.tables.ENGINES`, whose own measured layer is used where it holds the shape.

    Returns
    -------
    float or numpy.ndarray
        Seconds, excluding the router GEMM and the all-to-all / all-reduce.

    Examples
    --------
    >>> t = moe_time_s("h100", "fp8_block", 8192, 7168, 2048, 8, 256, 1, 8)
    >>> round(float(moe_flops(8192, 7168, 2048, 8, 1, 8)) / t / 1e12) > 100
    True
    """
    src = resolve(chip, catalog)
    dtype = tables.dtype_name("dtype", dtype, tables.MOE_DTYPES)
    if distribution not in DISTRIBUTIONS:
        raise InputError("distribution", distribution, f"one of {', '.join(DISTRIBUTIONS)}")
    tok = positive("tokens", tokens)
    cfg = _config(hidden, inter, topk, experts, tp, ep)
    table, row, law = _measured(src, dtype, cfg, weight_only_fp4, engine)
    flop = moe_flops(tok, cfg[0], cfg[1], cfg[2], cfg[4], cfg[5])
    if table is not None and row is not None:
        t = flop / (np.exp2(np.interp(np.log2(tok), np.log2(table["tokens"]), table["log2"][row])) * 1e12)
    else:
        tables.gemm(src.chip, dtype)  # a dtype without GEMMs on this chip is an error, as for gemm_time_s
        t = _fallback_s(src.chip, dtype, tok, cfg)
    weights = _expert_weight_bytes(tok, "nvfp4" if weight_only_fp4 else dtype, cfg)
    t = np.maximum(t, weights / src.source_hbm_bw_bytes_per_s)  # the weight floor on the measured chip, before scaling
    if distribution != "balanced":
        t = t * _power_law(src.chip, law, distribution, tok, cfg[5])
    if not src.measured:
        hidden, _, topk, _, _, ep = cfg
        t = src.scale(PRECISION[dtype], t, flop, weights + 4.0 * tok * topk / ep * hidden)
    return result(t, tokens)
