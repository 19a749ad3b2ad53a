"""The serving search: every replica layout and batch at once, aggregated and disaggregated.

Continuous batching (Orca, Yu et al. OSDI 2022; chunked prefill, Agrawal et al. 2024, Sarathi-Serve)
in closed form. A replica of ``tp·pp`` GPUs keeps ``B`` sequences in flight, ``B/pp`` per stage.
Each stage iteration generates ``B/pp`` tokens and so retires ``B/(pp·O)`` requests, whose prompts
(``I`` tokens each) must be prefilled in the same iterations:

- aggregated: ``t_iter = t_decode(B/pp) + B/(pp·O) · t_prefill_per_request``; TPOT = ``pp·t_iter``;
  tokens/s per replica = ``B / TPOT``; TTFT = the prompt's prefill through all stages plus one iteration;
- disaggregated (DistServe, Zhong et al. OSDI 2024; Splitwise, Patel et al. ISCA 2024): decode
  replicas run ``t_iter = t_decode``; prefill replicas send each prompt's KV cache (``I`` tokens) over
  the scale-out network; both pools are whole replicas, split where their rates balance (rounded down
  and up, the better kept), and serve the smaller of their rates (:func:`_pools`).

A batch is feasible when weights plus the KV cache of ``B`` sequences of mean context ``I + O(1+cv²)/2``
(paged allocation; ``cv`` the spread of generated lengths, long requests being in flight longer) fit in HBM
less the reserve. With a fixed ``concurrency`` (closed-loop clients) each client waits out its request's TTFT
before generating, so the deployment serves ``O·TPOT / (TTFT + O·TPOT)`` of the open-arrival rate
(:func:`_cycle_share`). Software older than the kernel tables, and software for an architecture released shortly
before it, run slower (:func:`software_age_factor`, :func:`maturity_factor`). A point meets the limits when its mean TPOT and TTFT
times the measured p99/mean ratios (``calibration.yaml``) are within them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.errors import InputError
from stargate.inference.context import ServingContext
from stargate.inference.kv import kv_bytes_per_sequence, kv_claim_per_sequence, kv_ranks, weight_bytes_per_gpu
from stargate.inference.request import ServingRequest
from stargate.inference.step import Layouts, forward_s

__all__ = ["NO_PIPELINE", "Points", "RawPoints", "accepted_tokens", "layouts", "maturity_factor", "points", "raw_points",
           "software_age_factor"]

_POW2 = 2.0 ** np.arange(0, 7)  # tp up to 64
_PP = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
_WIDE = 2.0 ** np.arange(1, 9)  # expert-parallel groups up to 256 GPUs
NO_PIPELINE = {("trtllm", "gpt_oss"): "TensorRT-LLM runs GPT-OSS on one pipeline stage"}
"""(engine, Hugging Face ``model_type``) pairs whose engine implementation has no pipeline parallelism. TensorRT-LLM's
GPT-OSS model asserts it (``tensorrt_llm/_torch/models/modeling_gpt_oss.py``: "Pipeline parallelism is not
supported", NVIDIA/TensorRT-LLM PR #7911, 2025-09-22; still so after its MoE refactor); the 67 MLPerf Inference
v6.0 GPT-OSS-120B configurations that set it all run ``pipeline_parallelism: 1``."""
BATCHES = np.unique(np.round(2.0 ** np.arange(0, 14.01, 0.25)))
"""Sequences in flight per replica: 1 ... 16,384 in steps of 2^(1/4), fine enough that a point sits within
19% of any latency limit (operators load a deployment up to its limit, MLPerf submitters within a few %)."""


def layouts(ctx: ServingContext) -> Layouts:
    """Every replica layout that fits the deployment (before memory checks).

    Pipeline stages only where the engine's implementation of the model has them (:data:`NO_PIPELINE`).

    Examples
    --------
    >>> from stargate.inference.context import resolve_serving
    >>> from stargate.inference.request import ServingRequest
    >>> from stargate.training.presets import preset
    >>> req = ServingRequest(accelerator="b200", gpus=8, input_tokens=1024, output_tokens=1024, framework="vllm")
    >>> sorted({int(p) for p in layouts(resolve_serving(preset("gpt-oss-120b"), req)).pp})
    [1, 2, 4, 8]
    >>> trt = req.model_copy(update={"framework": "trtllm"})
    >>> sorted({int(p) for p in layouts(resolve_serving(preset("gpt-oss-120b"), trt)).pp})
    [1]
    """
    gpus = ctx.request.gpus
    cap = min(gpus, ctx.request.max_replica_gpus or gpus)
    moe = ctx.model.moe
    single = NO_PIPELINE.get((ctx.request.framework, ctx.model.model_type))
    stages = 1.0 if single else float(ctx.model.n_layers)
    rows = []
    for tp in _POW2[_POW2 <= min(ctx.scale_up_domain, cap)]:
        for pp in _PP[(_PP * tp <= cap) & (_PP <= stages)]:
            if moe is None:
                rows.append((tp, pp, 1.0, False))
                continue
            for ep in _POW2[(_POW2 <= tp) & (_POW2 <= moe.experts)]:
                rows.append((tp, pp, ep, False))
            if tp > 1 and tp <= moe.experts:
                rows.append((tp, pp, tp, True))
    if moe is not None:  # wide expert parallelism across domains, attention data-parallel (DeepSeek-V3 §3.4)
        for tp in _WIDE[(_WIDE > ctx.scale_up_domain) & (_WIDE <= min(cap, moe.experts))]:
            rows.append((tp, 1.0, tp, True))
    fixed = ctx.request.replica_gpus
    if fixed is not None:
        rows = [r for r in rows if r[0] * r[1] == fixed]
        if not rows:
            raise InputError("replica_gpus", fixed, f"a power of two up to {cap} whose tensor part fits the "
                             f"{ctx.scale_up_domain}-GPU scale-up domain" + (f" ({single})" if single else ""))
    a = np.array(rows, dtype=object)
    return Layouts(a[:, 0].astype(float), a[:, 1].astype(float), a[:, 2].astype(float), a[:, 3].astype(bool))


@dataclass(frozen=True)
class Points:
    """Candidate deployments (arrays of equal length): a decode layout and batch, with its prefill."""

    layout: Layouts
    batch: np.ndarray
    """Sequences in flight per decode replica."""
    disaggregated: np.ndarray
    prefill_layout: Layouts
    """Layout of the prefill replicas (the decode layout itself when aggregated)."""
    tpot_s: np.ndarray
    """Mean time per output token."""
    ttft_s: np.ndarray
    """Mean time to first token."""
    tokens_per_s_per_gpu: np.ndarray
    """Output tokens per second per GPU of the deployment (idle GPUs counted)."""
    prefill_share: np.ndarray
    """Share of the GPUs in prefill replicas (0 when aggregated)."""
    kv_bytes_per_gpu: np.ndarray
    weight_bytes_per_gpu: np.ndarray
    decode_step_s: np.ndarray
    prefill_s: np.ndarray
    """Prefill time of one prompt batch through all stages."""
    prefill_time_share: np.ndarray
    """Share of the GPU time spent on prefill (the input tokens' share of the cost)."""

    def take(self, idx: Any) -> Points:
        """The points at ``idx``."""
        kw: dict[str, Any] = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            kw[k] = v.take(idx) if isinstance(v, Layouts) else v[idx]
        return Points(**kw)

    @property
    def tokens_per_s_per_user(self) -> np.ndarray:
        """Output tokens per second each user sees, ``1 / TPOT``."""
        return 1.0 / self.tpot_s


@dataclass(frozen=True)
class RawPoints:
    """Every layout and batch with its memory and its forward times split into compute and communication.

    Independent of the fitted constants, so that a refit re-assembles the points without re-timing kernels.
    """

    layout: Layouts
    batch: np.ndarray
    kv_bytes_per_gpu: np.ndarray
    weight_bytes_per_gpu: np.ndarray
    decode: tuple[np.ndarray, np.ndarray]
    """One decode iteration of ``batch/pp`` sequences per stage: (compute, communication) seconds."""
    prefill: tuple[np.ndarray, np.ndarray]
    """One prompt batch per stage (``prefill_seqs`` prompts): (compute, communication) seconds."""
    first: tuple[np.ndarray, np.ndarray]
    """One prompt alone per stage: (compute, communication) seconds."""
    prefill_seqs: float
    tokens_per_step: float
    """Tokens each sequence gains per decode step (1 without speculative decoding)."""


def _grid(ctx: ServingContext) -> tuple[Layouts, np.ndarray]:
    lay = layouts(ctx)
    conc = ctx.request.concurrency
    if conc is not None:  # the given requests in flight, shared by the replicas
        batch = np.ceil(conc / np.floor(ctx.request.gpus / lay.gpus))
        keep = batch >= lay.pp * np.where(lay.adp, lay.tp, 1.0)
        return lay.take(keep), batch[keep]
    n, nb = len(lay.tp), len(BATCHES)
    idx = np.repeat(np.arange(n), nb)
    batch = np.tile(BATCHES, n)
    lay = lay.take(idx)
    keep = batch >= lay.pp * np.where(lay.adp, lay.tp, 1.0)  # every stage (and attention rank) has a sequence
    return lay.take(keep), batch[keep]


def _split(st: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(st.compute, dtype=float), np.asarray(st.communication, dtype=float)


def software_age_factor(ctx: ServingContext) -> float:
    """Time multiplier of software older (> 1) or newer (< 1) than the measured kernel tables.

    ``(1 + r) ** (table year - software year)``, ``r`` the fitted yearly speedup of serving software.

    Examples
    --------
    >>> from stargate.inference.context import resolve_serving
    >>> from stargate.inference.request import ServingRequest
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_serving(preset("llama3.1-8b"), ServingRequest(accelerator="h100", gpus=1, input_tokens=512,
    ...                       output_tokens=128))
    >>> software_age_factor(ctx)
    1.0
    """
    year = ctx.request.software_year
    if year is None:
        return 1.0
    r = float(ctx.constants["software_speedup_per_year"])
    return float((1.0 + r) ** (float(ctx.constants["kernel_tables_year"]) - year))


def maturity_factor(ctx: ServingContext) -> float:
    """Time multiplier of serving software for an architecture released shortly before it: ``1 + m·exp(-age/τ)``.

    Kernels, fused MoE paths, communication overlap and expert-parallel layouts for a new architecture are
    tuned for months after its release (``docs/calibration.md``, "Serving"), so the whole engine step is
    slower: compute, communication and the fixed step time. ``age`` is the software's date less the architecture's
    (:attr:`~stargate.training.model.ModelSpec.architecture_since`, at least 0); ``m`` and ``τ`` are fitted
    (``calibration.yaml``). Without a software date (planning ahead) or a release date, the software is taken
    as mature: 1.

    Examples
    --------
    >>> from stargate.inference.context import resolve_serving
    >>> from stargate.inference.request import ServingRequest
    >>> from stargate.training.presets import preset
    >>> req = ServingRequest(accelerator="b200", gpus=8, input_tokens=1024, output_tokens=1024)
    >>> maturity_factor(resolve_serving(preset("deepseek-v3"), req))  # no software date: mature
    1.0
    >>> on = {"maturity_slowdown": 0.5, "maturity_time_years": 0.5}  # shipped off (0); these for the example
    >>> maturity_factor(resolve_serving(preset("deepseek-v3"), req.model_copy(update={"software_year": 2024.98}),
    ...                                 constants=on))  # software of the architecture's release day: 1 + m
    1.5
    """
    year, since = ctx.request.software_year, ctx.model.architecture_since
    if year is None or since is None:
        return 1.0
    m = float(ctx.constants["maturity_slowdown"])
    tau = float(ctx.constants["maturity_time_years"])
    return float(1.0 + m * np.exp(-max(year - since, 0.0) / tau))


def raw_points(ctx: ServingContext) -> RawPoints:
    """Memory and forward times of every layout and batch (the expensive, constant-free part of :func:`points`)."""
    req = ctx.request
    lay, batch = _grid(ctx)
    w = weight_bytes_per_gpu(ctx.model, req.precision, lay.tp, lay.pp, lay.ep, lay.adp) * np.ones_like(lay.tp)
    seq = kv_claim_per_sequence(ctx.model, req.decode_context_tokens, ctx.kv_dtype, req.framework)
    kv = batch * seq / (lay.pp * kv_ranks(ctx.model, lay.tp, lay.adp))
    # no point is timed whose weights alone overflow the chip
    keep = w < ctx.hbm_usable_bytes
    lay, batch, kv, w = lay.take(keep), batch[keep], kv[keep], w[keep]
    per_stage = batch / lay.pp
    prompt = float(req.input_tokens)
    seqs = float(max(1.0, np.floor(float(ctx.constants["prefill_chunk_tokens"]) / prompt)))
    k, q = req.speculative_tokens, 1.0 + req.speculative_tokens
    dec = _split(forward_s(ctx, lay, per_stage * q, per_stage, kv_len=req.decode_context_tokens, queries=q))
    if k:  # the draft head: one layer per draft token (DeepSeek-V3's MTP module, EAGLE's draft layer)
        one = _split(forward_s(ctx, lay, per_stage, per_stage, kv_len=req.decode_context_tokens))
        dec = (dec[0] + k * one[0] / ctx.model.n_layers * lay.pp, dec[1] + k * one[1] / ctx.model.n_layers * lay.pp)
    return RawPoints(
        lay, batch, kv, w, dec, _split(forward_s(ctx, lay, seqs * prompt, seqs, prompt_len=prompt)),
        _split(forward_s(ctx, lay, prompt, 1.0, prompt_len=prompt)), seqs, accepted_tokens(req),
    )


def accepted_tokens(req: ServingRequest) -> float:
    """Tokens per decode step with ``k`` draft tokens each accepted with chance ``a`` (the first rejection
    ends the run; the verifier adds one): ``(1 - a^(k+1)) / (1 - a)`` (Leviathan et al. 2023, eq. 1).

    Examples
    --------
    >>> from stargate.inference.request import ServingRequest
    >>> r = ServingRequest(accelerator="h200", gpus=8, input_tokens=1, output_tokens=1, speculative_tokens=3,
    ...                    acceptance_rate=0.5)
    >>> accepted_tokens(r)  # 1 + 0.5 + 0.25 + 0.125
    1.875
    """
    a, k = req.acceptance_rate, req.speculative_tokens
    return float((1.0 - a ** (k + 1)) / (1.0 - a))


def points(ctx: ServingContext, raw: RawPoints | None = None) -> Points:
    """Every feasible deployment point: aggregated for all layouts and batches, disaggregated where allowed.

    ``raw`` (from :func:`raw_points`) is reused when given: only the constants of ``ctx`` are applied.

    Raises
    ------
    InputError
        When the model's weights and KV cache fit on no layout of the deployment's GPUs.
    """
    req = ctx.request
    raw = raw if raw is not None else raw_points(ctx)
    ok = raw.weight_bytes_per_gpu + raw.kv_bytes_per_gpu <= ctx.hbm_usable_bytes - ctx.memory_reserve_bytes
    if not ok.any():
        raise InputError("gpus", req.gpus, f"enough {ctx.accelerator.id} GPUs to hold {ctx.model.name} in "
                         f"{req.precision} with its KV cache (weights alone: {ctx.model.params_total * 1e-9:,.0f}B parameters)")
    lay, batch, kv, w = raw.layout.take(ok), raw.batch[ok], raw.kv_bytes_per_gpu[ok], raw.weight_bytes_per_gpu[ok]
    f = float(ctx.constants["compute_factor"]) * (1.0 if ctx.calibrated else float(ctx.constants["borrowed_factor"]))
    f *= software_age_factor(ctx)
    mat = maturity_factor(ctx)
    over = ctx.step_overhead_s
    t_dec, t_pf, t_first = ((c[ok] * f + m[ok] + over) * mat for c, m in (raw.decode, raw.prefill, raw.first))
    pf_seqs = np.full(len(batch), raw.prefill_seqs)
    per_stage = batch / lay.pp
    use = np.floor(req.gpus / lay.gpus) * lay.gpus / req.gpus
    out: list[Points] = []
    tau = raw.tokens_per_step
    if req.disaggregated != "yes":
        t_fill = per_stage * tau / req.output_tokens * t_pf / pf_seqs
        t_iter = t_dec + t_fill
        tpot = lay.pp * t_iter / tau
        ttft = lay.pp * t_first + t_iter
        out.append(Points(lay, batch, np.zeros(len(batch), bool), lay, tpot, ttft,
                          batch / tpot * _cycle_share(req, ttft, tpot) / lay.gpus * use, np.zeros(len(batch)), kv, w,
                          t_dec, lay.pp * t_pf, t_fill / t_iter))
    if req.disaggregated != "no":
        dis = _disaggregated(ctx, lay, batch, kv, w, t_dec, t_pf, pf_seqs, tau)
        if dis is not None:
            out.append(dis)
    if not out:
        raise InputError("disaggregated", req.disaggregated, f"a split of {req.gpus} GPUs into a prefill and a decode "
                         "pool that each hold the model, or 'no'")
    return _concat(out)


def _disaggregated(ctx: ServingContext, lay: Layouts, batch: np.ndarray, kv: np.ndarray, w: np.ndarray,
                   t_dec: np.ndarray, t_pf: np.ndarray, pf_seqs: np.ndarray, tau: float) -> Points | None:
    req = ctx.request
    # the prefill pool's layout: the most prompts per GPU-second among those that fit at batch 1 and meet the TTFT limit
    ttft_pf = lay.pp * t_pf
    rate = pf_seqs / t_pf / lay.gpus
    limit = req.ttft_s / float(ctx.constants["ttft_p99_over_mean"]) if req.ttft_s else np.inf
    good = ttft_pf <= limit
    j = int(np.argmax(np.where(good, rate, -1.0))) if good.any() else int(np.argmin(ttft_pf))
    pf = lay.take(np.array([j]))
    room = lay.gpus + pf.gpus[0] <= req.gpus
    if not room.any():
        return None
    lay, batch, kv, w, t_dec = lay.take(room), batch[room], kv[room], w[room], t_dec[room]
    tpot = lay.pp * t_dec / tau
    per_gpu, share = _pools(req.gpus, lay.gpus, batch / tpot, float(pf.gpus[0]), req.output_tokens * rate[j] * pf.gpus[0])
    kv_seq = kv_bytes_per_sequence(ctx.model, req.input_tokens, ctx.kv_dtype)
    move = kv_seq / (ctx.scale_out_bytes_per_s * np.minimum(lay.gpus, pf.gpus[0]))
    n = len(batch)
    ttft = ttft_pf[j] + move
    return Points(lay, batch, np.ones(n, bool), pf.take(np.zeros(n, int)), tpot, ttft,
                  per_gpu * _cycle_share(req, ttft, tpot), share, kv, w, t_dec, np.full(n, ttft_pf[j]), share)


def _cycle_share(req: ServingRequest, ttft_s: Any, tpot_s: Any) -> Any:
    """Share of a closed-loop client's cycle spent generating: ``O·TPOT / (TTFT + O·TPOT)``; 1 for open arrivals.

    With a fixed ``concurrency`` each client sends its next request when the last one ends, so a slot spends
    the request's TTFT waiting for its first token, not generating (Little's law over the client's cycle:
    tokens/s = clients · O / (TTFT + O·TPOT)). Open arrivals (no ``concurrency``) keep the engine's batch full.

    Examples
    --------
    >>> from stargate.inference.request import ServingRequest
    >>> r = ServingRequest(accelerator="h200", gpus=8, input_tokens=8192, output_tokens=1024, concurrency=64)
    >>> round(_cycle_share(r, 2.0, 0.02), 3)  # 20.48 s of generating in a 22.48 s cycle
    0.911
    >>> _cycle_share(r.model_copy(update={"concurrency": None}), 2.0, 0.02)
    1.0
    """
    if req.concurrency is None:
        return 1.0
    gen = req.output_tokens * tpot_s
    return gen / (ttft_s + gen)


def _pools(gpus: int, g_dec: np.ndarray, dec_replica: np.ndarray, g_pf: float, pf_replica: float) -> tuple[np.ndarray, np.ndarray]:
    """Tokens/s per GPU and prefill share of the best whole-replica split of ``gpus`` into decode replicas
    (``g_dec`` GPUs, ``dec_replica`` tokens/s each) and prefill replicas (``g_pf`` GPUs, ``pf_replica``
    tokens/s of prompts each): the pools serve ``min`` of their rates. The fractional balance point is
    rounded down and up in prefill replicas, and the better of the two kept.

    Examples
    --------
    >>> per_gpu, share = _pools(8, np.array([2.0]), np.array([1000.0]), 1.0, 1000.0)
    >>> per_gpu.tolist(), share.tolist()  # 2 prefill GPUs feed 3 decode replicas (6 GPUs): 2,000 tokens/s
    ([250.0], [0.25])
    """
    balance = gpus * (dec_replica / g_dec) / (dec_replica / g_dec + pf_replica / g_pf) / g_pf  # prefill replicas
    best, best_share = np.zeros_like(dec_replica), np.zeros_like(dec_replica)
    for n_pf in (np.maximum(np.floor(balance), 1.0), np.maximum(np.ceil(balance), 1.0)):
        n_dec = np.floor((gpus - n_pf * g_pf) / g_dec)
        served = np.where(n_dec >= 1, np.minimum(n_dec * dec_replica, n_pf * pf_replica), 0.0) / gpus
        better = served > best
        best, best_share = np.where(better, served, best), np.where(better, n_pf * g_pf / gpus, best_share)
    return best, best_share


def _concat(parts: list[Points]) -> Points:
    if len(parts) == 1:
        return parts[0]
    fields = Points.__dataclass_fields__
    kw: dict[str, Any] = {}
    for k in fields:
        vals = [getattr(p, k) for p in parts]
        if isinstance(vals[0], Layouts):
            kw[k] = Layouts(*(np.concatenate([getattr(v, a) for v in vals]) for a in ("tp", "pp", "ep", "adp")))
        else:
            kw[k] = np.concatenate(vals)
    return Points(**kw)
