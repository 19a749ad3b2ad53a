"""Step time of a training job, with its named, additive breakdown — vectorized over plans.

For every candidate plan (:class:`~stargate.training.plans.Plans`), with ``m`` micro-batches per
pipeline per step and ``N = tp·pp·cp·dp`` GPUs sharing the work evenly:

- **compute** — every GEMM, attention call, routed-expert GEMM and memory-bound pass of the slowest
  pipeline stage, timed from measured kernels by shape (:func:`stargate.training.compute.compute_times`),
  with the eager-launch floor and dropless-MoE fixed cost as **overhead**; recompute repeats the forward
  the framework's policy drops;
- **pipeline bubble** — ``(pp-1) / (m·vp)`` of the compute (Narayanan et al. 2021, eqs. 1-2); DualPipe
  ``(pp/2-1) / m`` (DeepSeek-V3 report, Table 2); plus the wait for the slowest of ``N`` jittered GPUs;
- **tensor-parallel** all-reduce (or reduce-scatter + all-gather with SP; the same bytes) of the
  layer activations, 4 per layer per micro-batch (6 with full recompute), on the scale-up domain,
  of which a fitted fraction is exposed where the framework overlaps it (all of it elsewhere);
- **context-parallel** ring exchange of keys and values, exposed where it exceeds attention compute;
- **expert-parallel** all-to-all, dispatch and combine in both passes, on the levels it crosses: a
  fitted fraction exposed inside the NVLink domain, all of it across the fabric, none where the
  framework overlaps it with another micro-batch;
- **pipeline send/recv** of activations on the fill and drain path;
- **data-parallel** gradient reduce-scatter (all-reduce without sharding) overlapped with the last
  micro-batch's backward pass, and the parameter all-gather overlapped with the first forward;
  experts' gradients over their own group; under ZeRO-3 per-unit gathers overlap the whole compute;
- **communication contention** — hidden communication slows the compute by the SMs it holds;
- **optimizer** — the Adam update, memory-bound over the GPU's shard of the optimizer state.

``mfu`` is model FLOPs (:meth:`ModelSpec.model_flops_per_token`: 6·N plus attention, no
recompute) per second over the dense 16-bit peak; ``hfu`` counts recomputed FLOPs too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate import kernels
from stargate.breakdown import Breakdown
from stargate.fabric.collectives import Level, collective_time
from stargate.fabric.placement import fabric_level, scale_up_level
from stargate.training.compute import compute_times
from stargate.training.context import TrainingContext
from stargate.training.features import workload_features
from stargate.training.memory import Memory, memory_per_gpu
from stargate.training.plans import Plans

__all__ = ["Estimate", "StepTime", "estimate"]

BF16 = 2.0
# Share of the SMs communication kernels hold while they overlap compute, which the compute loses for
# that long: DeepSeek-V3 (arXiv:2412.19437, §3.2.2) dedicates 20 of the H800's 132 SMs to keep its
# InfiniBand and NVLink all-to-all saturated.
COMM_SM_SHARE = 20 / 132


@dataclass(frozen=True, slots=True)
class StepTime(Breakdown):
    """Seconds per optimizer step, by cause."""

    compute: Any
    overhead: Any
    recompute: Any
    pipeline_bubble: Any
    tp_comm: Any
    cp_comm: Any
    ep_comm: Any
    pp_comm: Any
    dp_comm: Any
    comm_contention: Any
    """Compute slowed by the SMs that overlapped communication holds (``COMM_SM_SHARE`` of its time)."""
    optimizer: Any


@dataclass(frozen=True, slots=True)
class Estimate:
    """Everything estimated for a set of plans (arrays, one element per plan)."""

    plans: Plans
    micro_batches: np.ndarray
    step: StepTime
    memory: Memory
    fits: np.ndarray
    tokens_per_s_per_gpu: np.ndarray
    mfu: np.ndarray
    hfu: np.ndarray

    @property
    def step_time_s(self) -> np.ndarray:
        """Total seconds per step."""
        return self.step.total


def _dense_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..k-1 for the distinct values of a non-negative integer array.

    Small values are counted into a lookup table (no sorting); above 2^20 (a data-parallel degree or
    pipeline stride on millions of GPUs) the values are sorted instead, so memory never grows with them.
    """
    top = int(values.max(initial=0))
    if top >= 1 << 20:
        uniq, inverse = np.unique(values, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64), len(uniq)
    present = np.zeros(top + 1, dtype=bool)
    present[values] = True
    return (np.cumsum(present) - 1)[values], int(present.sum())


def _per_unique(fn: Any, *cols: np.ndarray) -> np.ndarray:
    """``fn(*cols)`` computed once per distinct row of ``cols`` and spread back to every candidate.

    Plans share few distinct (tp, cp, mbs, ...) tuples, so collectives are costed on those only.
    ``fn`` may return several results stacked on a leading axis; each is spread back.
    The distinct rows are found by counting, not sorting: O(n) for a million candidates.
    """
    ints = [np.asarray(c).astype(np.int64) for c in cols]
    key, space = np.zeros(len(ints[0]), dtype=np.int64), 1
    for c in ints:
        code, k = _dense_codes(c)
        key, space = key * k + code, space * k
    if space <= 1 << 24:
        present = np.zeros(space, dtype=bool)
        present[key] = True
        inverse = (np.cumsum(present) - 1)[key]
        first = np.empty(int(present.sum()), dtype=np.int64)
        first[inverse] = np.arange(len(key))
    else:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return np.asarray(fn(*(c[first] for c in ints)), dtype=float)[..., inverse]


def _group_levels(ctx: TrainingContext, size: np.ndarray, stride: np.ndarray) -> list[Level]:
    """A group of ``size`` ranks whose neighbours are ``stride`` apart: domain level, then fabric."""
    domain = float(ctx.scale_up_domain)
    inner = np.clip(np.floor(domain / stride), 1, size)
    outer = np.maximum(size / inner, 1)
    up = scale_up_level(ctx.accelerator, ctx.catalog, 1)
    switch = ctx.fabric.switch
    fab = fabric_level(ctx.catalog, ctx.workload.fabric, ctx.scale_out_bits_per_s, 1, 3, switch.latency_s)
    # Ranks of one domain each drive their own NIC; a group that fits a domain never uses the fabric.
    return [Level(inner, up.bw_bytes_per_s, up.latency_s), Level(outer, fab.bw_bytes_per_s, fab.latency_s)]


def _comm_times(ctx: TrainingContext, plans: Plans, micro: np.ndarray, t_busy: Any, t_attn: Any,
                layers: Any) -> dict[str, Any]:
    """Exposed communication of the slowest pipeline stage (``layers`` layers) per step, by kind."""
    m, s = ctx.model, ctx.workload.seq_len
    tp, pp, cp = plans.tp, plans.pp, plans.cp

    def ar_tp(tp_: np.ndarray, mbs: np.ndarray, cp_: np.ndarray) -> Any:
        act = mbs * s / cp_ * m.hidden_size * BF16
        return collective_time("all_reduce", act, _group_levels(ctx, tp_, np.ones_like(tp_)), "ring")[0]

    # Tensor parallel: 4 all-reduce-equivalents per layer per micro-batch (6 with full recompute).
    t_ar = _per_unique(ar_tp, plans.tp, plans.mbs, plans.cp)
    count = np.where(plans.recompute == 2, 6.0, 4.0) * layers * micro
    feats = workload_features(ctx.workload)
    tp_total = np.where(tp > 1, t_ar * count, 0.0)
    tp_comm = tp_total * (ctx.defaults.tp_comm_exposed if feats.tp_comm_overlap else 1.0)

    def kv_cp(cp_: np.ndarray, tp_: np.ndarray, mbs: np.ndarray) -> Any:
        kv = mbs * s / cp_ * 2 * m.kv_heads * m.dim * BF16 / tp_
        return collective_time("send_recv", kv, _group_levels(ctx, cp_, tp_))[0]

    # Context parallel: keys and values go round the ring, forward once and backward twice.
    t_kv = _per_unique(kv_cp, plans.cp, plans.tp, plans.mbs)
    cp_total = np.where(cp > 1, 3 * (cp - 1) * t_kv * layers * micro, 0.0)
    cp_comm = np.maximum(0.0, cp_total - 3 * t_attn)
    ep_comm = ep_total = np.zeros(len(plans))
    if m.moe is not None:
        k = m.moe.top_k

        def a2a(ep_: np.ndarray, tp_: np.ndarray, mbs: np.ndarray, cp_: np.ndarray) -> Any:
            buf = mbs * s / cp_ / tp_ * k * m.hidden_size * BF16
            levels = _group_levels(ctx, ep_, tp_)
            # Inside the NVLink domain a share of it hides behind the expert GEMMs (fitted); across the
            # fabric the dispatch waits on the slowest NIC and stays exposed — unless the framework
            # schedules it against another micro-batch's compute (DualPipe-style), which hides it all.
            exposed = 0.0 if feats.ep_comm_overlap else np.where(levels[1].members > 1, 1.0, ctx.defaults.ep_comm_exposed)
            t = collective_time("all_to_all", buf * ctx.workload.moe_load_imbalance, levels)[0]
            return np.stack([t, t * exposed])

        # Expert parallel: dispatch and combine all-to-alls, forward and backward, per MoE layer.
        t_a2a, t_a2a_exposed = _per_unique(a2a, plans.ep, plans.tp, plans.mbs, plans.cp)
        moe_layers = m.moe_layers / m.n_layers * layers
        ep_total = np.where(plans.ep > 1, 4 * t_a2a * moe_layers * micro, 0.0)
        ep_comm = np.where(plans.ep > 1, 4 * t_a2a_exposed * moe_layers * micro, 0.0)

    def p2p(pp_: np.ndarray, stride: np.ndarray, mbs: np.ndarray, cp_: np.ndarray, div: np.ndarray) -> Any:
        act = mbs * s / cp_ * m.hidden_size * BF16 / div
        return collective_time("send_recv", act, _group_levels(ctx, pp_, stride))[0]

    # Pipeline: activations cross each stage boundary on the fill and drain path.
    stride = plans.tp * plans.cp * plans.dp
    t_p2p = _per_unique(p2p, plans.pp, stride, plans.mbs, plans.cp, np.where(plans.sp == 1, plans.tp, 1))
    pp_comm = np.where(pp > 1, 2 * (pp - 1) * t_p2p, 0.0)
    dp_comm, dp_total = _dp_comm(ctx, plans, micro, t_busy, layers)
    hidden = (tp_total - tp_comm) + (cp_total - cp_comm) + (ep_total - ep_comm) + (dp_total - dp_comm)
    return {"tp": tp_comm, "cp": cp_comm, "ep": ep_comm, "pp": pp_comm, "dp": dp_comm,
            "contention": COMM_SM_SHARE * np.maximum(hidden, 0.0)}


def _dp_comm(ctx: TrainingContext, plans: Plans, micro: np.ndarray, t_busy: Any, layers: Any = None) -> tuple[Any, Any]:
    """Data-parallel gradient reduction and parameter gathering, exposed beyond what hides behind compute.

    Dense gradients are reduced over the ``dp·cp`` replicas; routed-expert gradients over the expert
    data-parallel group (``dp·cp·tp / ep`` ranks, ``ep`` apart: Megatron-Core's expert parallel groups
    with expert tensor parallel 1), which crosses the scale-out fabric as soon as ``ep`` fills the
    NVLink domain. Gradients travel in the framework's reduce precision (fp32 in Megatron-Core,
    NeMo and torchtitan by default), parameters are gathered in bf16.
    """
    m = ctx.model
    layers = m.n_layers / plans.pp if layers is None else layers  # on the slowest stage
    expert = float(m.moe_layers * m.moe.experts * m.expert_params) if m.moe else 0.0
    feats = workload_features(ctx.workload)
    grad_bytes = feats.grad_reduce_bytes
    layer_params = (m.params_total - expert) / m.n_layers

    def times(group: np.ndarray, stride: np.ndarray, div: np.ndarray, pp_: np.ndarray, share: float) -> Any:
        # Reduce-scatter and all-gather run as rings: NCCL's logarithmic PAT algorithm serves only one
        # GPU per node (NCCL 2.23 release notes). ZeRO-3/FSDP gathers and reduces in units — one layer
        # (FSDP wrapping), or the framework's prefetch bucket — each paying the ring's latency.
        levels, params = _group_levels(ctx, group, stride), share / div
        unit = np.minimum(params, feats.zero3_unit_params or layer_params / np.maximum(div / pp_, 1))
        units = np.ceil(params / np.maximum(unit, 1.0))
        return np.stack([collective_time("reduce_scatter", params * grad_bytes, levels, "ring")[0],
                         collective_time("all_reduce", params * grad_bytes, levels)[0],
                         collective_time("all_gather", params * BF16, levels, "ring")[0],
                         collective_time("reduce_scatter", unit * grad_bytes, levels, "ring")[0] * units,
                         collective_time("all_gather", unit * BF16, levels, "ring")[0] * units])

    group = plans.dp * plans.cp
    t = _per_unique(lambda g, st, d, p_: times(g, st, d, p_, m.params_total - expert), group, plans.tp, plans.tp * plans.pp, plans.pp)
    if expert:
        etp = np.where(plans.ep > 1, 1, plans.tp)  # expert tensor parallel: 1 under EP, else the TP group
        egroup = np.maximum(group * plans.tp // (plans.ep * etp), 1)
        t = t + _per_unique(lambda g, st, d, p_: times(g, st, d, p_, expert), egroup, plans.ep * etp, plans.pp * plans.ep * etp, plans.pp)
    t_rs, t_ar, t_ag, z_rs, z_ag = t
    per_mb = t_busy / micro
    sharded = np.where(plans.sharding == 0, np.maximum(0.0, t_ar - per_mb * 2 / 3),
                       np.maximum(0.0, t_rs - per_mb * 2 / 3) + np.maximum(0.0, t_ag - per_mb / 3))
    zero3 = np.maximum(0.0, micro * (2 * z_ag + z_rs) - t_busy) + z_ag / np.maximum(layers, 1)
    total = np.where(plans.sharding == 3, micro * (2 * z_ag + z_rs), np.where(plans.sharding == 0, t_ar, t_rs + t_ag))
    return np.where(plans.sharding == 3, zero3, sharded), total


def estimate(ctx: TrainingContext, plans: Plans) -> Estimate:
    """Step time, memory and throughput of every plan in ``plans`` for the job in ``ctx``.

    Examples
    --------
    >>> from stargate.training.context import Workload, resolve_context
    >>> from stargate.training.presets import preset
    >>> ctx = resolve_context(preset("llama3.1-8b"), Workload(accelerator="h100", gpus=8, seq_len=8192, global_batch=64))
    >>> e = estimate(ctx, Plans.one(tp=1, dp=8, mbs=1, recompute="none", sharding="zero1"))
    >>> bool(0 < e.mfu[0] < 1)
    True
    """
    w, m = ctx.workload, ctx.model
    micro = np.maximum(w.global_batch // (plans.dp * plans.mbs), 1)
    tokens = float(w.global_batch * w.seq_len)
    ct = compute_times(ctx, plans, micro, _per_unique)
    t_compute, t_recompute, t_attn = ct.total, ct.recompute, ct.attention_fwd
    t_busy = t_compute + t_recompute
    pp, vp = plans.pp, plans.vp
    stages = pp - 1.0
    if workload_features(w).pipeline_schedule == "dualpipe":
        stages = np.maximum(pp / 2.0 - 1.0, 0.0)  # DualPipe: (PP/2 - 1) bubbles (DeepSeek-V3 report, Table 2)
    bubble = stages / (micro * vp) * t_busy
    comm = _comm_times(ctx, plans, micro, t_busy, t_attn, ct.stage_layers)
    shard = np.where(plans.sharding >= 1, (plans.dp * plans.cp), 1.0)
    opt_bytes = 36.0 * (m.params_total / plans.gpus) * (plans.dp * plans.cp) / shard
    t_opt = opt_bytes / kernels.stream_bw_bytes_per_s(ctx.accelerator.id, catalog=ctx.catalog)
    # A synchronous step waits for the slowest GPU: the expected maximum of N jittered step times.
    straggle = ctx.defaults.straggler_cv * np.sqrt(2.0 * np.log(np.maximum(plans.gpus, 2.0)))
    t_sync = straggle * (t_busy + bubble)
    step = StepTime(t_compute - ct.overhead, ct.overhead + t_sync, t_recompute, bubble, comm["tp"], comm["cp"], comm["ep"],
                    comm["pp"], comm["dp"], comm["contention"], t_opt)
    mem = memory_per_gpu(m, plans, w.seq_len, micro, precision=w.precision, framework=w.framework,
                         accelerator=ctx.accelerator, offload_layers=w.activation_offload_layers)
    total = step.total
    gpus = plans.gpus
    model_flops = m.model_flops_per_token(w.seq_len) * tokens
    hw_flops = model_flops + np.where(plans.recompute == 2, 2.0 * m.matmul_params_active * tokens, 0.0)
    return Estimate(
        plans, micro, step, mem, mem.total <= ctx.hbm_usable_bytes, tokens / total / gpus,
        model_flops / total / (gpus * ctx.peak_16bit_flops_per_s), hw_flops / total / (gpus * ctx.peak_16bit_flops_per_s),
    )
