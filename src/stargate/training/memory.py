"""Memory per GPU: model states, activations, buffers — vectorized over candidate plans.

The peak of one GPU is taken on the most loaded pipeline rank (the first holds the input embedding
and the most micro-batches in flight, the second more layers when the split is uneven, the last the
output head and the logits), as the sum of the named, additive parts of :class:`Memory`. How each part is stored depends
on the training framework (``framework_defaults.yaml``, section ``memory``, one profile per framework,
each with its source); the mechanisms and their sources:

**Model states** (bytes per parameter of the GPU's stage; ``d`` the data-parallel group ``dp·cp``,
``d_e = tp·cp·dp/(ep·etp)`` for expert weights, which Megatron-LM also splits over the tensor-parallel
group by default — ``--expert-tensor-parallel-size`` defaults to ``tp`` in ``arguments.py`` — while
Megatron-Bridge's recipes set it to 1):

- *Megatron-Core* (``megatron``, ``nemo``, ``megatron-bridge``, ``mlperf-nemo``, ``megascale``): 16-bit
  weights, a contiguous main-gradient buffer, and the optimizer's fp32 main weights and two Adam
  moments (12 B). Megatron-LM's distributed optimizer table (docs/user-guide/features/
  dist_optimizer.md): bf16 weights with fp32 gradients 18 B, ``6 + 12/d`` distributed; fp16 weights with
  fp16 gradients 20 B, ``4 + 16/d`` — the extra ``4/d`` is the fp32 copy of the gradient shard made for
  the update, which exists only during the optimizer step (``zero_grad`` sets main grads to ``None``),
  when no activations are held, so it is not part of the peak modelled here.
  Megatron-LM turns on fp32 gradient accumulation for bf16 (``arguments.py``: "bfloat16 requires
  gradient accumulation and all-reduce to be done in fp32"); NeMo (launcher ``grad_sync_dtype: bf16``,
  NeMo 2 ``scripts/performance/helpers.py``) and Megatron-Bridge's performance recipes
  (``perf_recipes/_common.py``: ``grad_reduce_in_fp32 = False``) keep 16-bit gradients. ``zero1`` is the
  distributed optimizer, ``zero2`` shards the gradient buffer too, ``zero3`` (Megatron-FSDP) everything.
- *FSDP* (``torchtitan`` FSDP2, ``llm-foundry`` FSDP1): the sharded parameter is the fp32 master
  (4 B), its gradient fp32 (4 B), Adam 8 B, all divided by ``d`` under FULL_SHARD (``zero3``);
  SHARD_GRAD_OP (``zero2``) keeps the 16-bit unsharded weights from forward to backward.
- *DeepSpeed ZeRO* (fp16): 2 B weights, 2 B gradients, ``K = 12`` B of fp32 optimizer state
  (Rajbhandari et al. 2020, §3), sharded by stage; ZeRO-3 gathers parameters by submodule, at most
  ``stage3_max_live_parameters`` (1e9) at a time, and reduces gradients in ``reduce_bucket_size`` (5e8)
  buckets (DeepSpeed configuration defaults).
- *Low precision* (Transformer Engine): with the weights kept in 16 bits, TE caches each weight's
  FP8 copy and its transpose across the micro-batches of a step (Megatron-Core passes
  ``is_first_microbatch``): +2 B per parameter (MXFP8: ``2·(1 + 1/32)``, rowwise and columnwise with
  one E8M0 scale per 32; NVFP4: ``2·(0.5 + 1/16)``). Megatron-Bridge's FP8 and MXFP8 recipes store the
  parameters themselves in FP8 (``fp8_param_gather=True`` in ``training/mixed_precision.py``), so the
  16-bit copy is replaced by the two low-precision copies. On chips whose FP8 GEMMs take any layout
  (compute capability 10+, Blackwell: TE ``is_non_tn_fp8_gemm_supported``) one per-tensor FP8 buffer
  serves both passes, so no transpose is kept. torchao's Float8Linear (torchtitan) recasts every step.

**Activations** per token per layer, after Korthikanti et al. 2022 (arXiv:2205.05198, §4) with flash
attention (no ``s²`` term) and no dropout: the attention block stores the norm input ``2h`` and output
``2h``, the queries ``2·H·d``, keys ``2·K·d`` and values ``2·K·d_v`` that flash attention saves, and its
output ``2·H·d_v`` (the projection's input); multi-head latent attention (DeepSeek-V3) also stores its
compressed latents and their norms (``4·r_q + 4·r_kv + 2·d_r``). The MLP stores the norm input and
output ``4h``, the first GEMM's output ``2f`` (``4f`` gated: gate and up) kept for the activation
function, and the activation output ``2f``. With sequence parallelism all of it is divided by ``tp``;
without it the norm inputs and outputs (``8h``) stay whole on every tensor-parallel rank; PyTorch
DTensor tensor parallelism (torchtitan) also saves the all-gathered inputs of the column-parallel GEMMs
whole, where Transformer Engine saves its shard and gathers again in the backward pass. With
Transformer Engine FP8 the GEMM inputs are saved quantized (1 B; MXFP8 ``1 + 1/32``; NVFP4
``0.5 + 1/16``): the norm outputs and the activation output, and an FP8 copy beside the attention output
that flash attention keeps in 16 bits. MoE layers store, per routed copy (``top_k`` per token), the
permuted input ``2h`` and the expert's ``2f_e`` (``4f_e`` gated) and ``2f_e``, shared experts as a dense
MLP, and the router's fp32 logits and scores ``8E``; the routing probabilities are applied inside the
activation function (Megatron-Core ``experts.py``, weighted SwiGLU), so the expert output is not kept.
Context parallelism divides the tokens by ``cp``.

*Recompute*: ``full`` keeps each layer's input (``2h``, ÷ ``tp`` with SP) and re-materialises one layer at
a time (its activations for one micro-batch are a working buffer). ``selective`` is what the framework
calls selective: Megatron-LM/NeMo recompute the core attention only (``--recompute-granularity
selective``), which with flash attention stores nothing extra, so it saves no memory; Megatron-Bridge
recompute modules as its recipes list them (``mla_up_proj`` for MLA models: the Q/K/V up-projections
are dropped and recomputed; ``layernorm`` and ``moe_act`` for the others); torchtitan's per-op selective
checkpointing saves the block input, the outputs of attention and of every other matmul, and recomputes
the rest (``_save_list`` and the ``mm_count % 2`` rule of ``parallelize_llama.py``).

*Pipeline schedule*: rank ``r`` of the 1F1B schedule holds ``min(pp - r, m)`` micro-batches of its
``L/pp`` layers; of the interleaved schedule ``2·(pp-r-1) + (vp-1)·pp + 1`` chunks of ``L/(pp·vp)``
layers, which for the first rank is ``1 + (pp-1)/(pp·vp)`` times the 1F1B figure (Narayanan et al.
2021, §2.2; Megatron-Core ``get_num_warmup_microbatches``). When ``pp·vp`` does not divide ``L``,
Megatron-Core needs an uneven split (``--account-for-embedding-in-pipeline-split`` and
``--account-for-loss-in-pipeline-split``: the embedding and the loss count as one layer each), so the
first and last ranks carry a layer fewer and the second rank may hold the most.

**Logits** (last stage, one micro-batch): bytes per token per vocabulary entry on each
tensor-parallel rank (the vocabulary-parallel cross-entropy divides the vocabulary by ``tp``):
Megatron's unfused loss keeps 16-bit logits and an fp32 softmax computed and differentiated in place
(6 B); the fused cross-entropy kernels of Megatron-Bridge (``cross_entropy_fusion_impl="te"``) and
llm-foundry (``fused_crossentropy``, flash-attn's in-place backward) 2 B; torchtitan's
``cross_entropy(pred.float())`` keeps the fp32 log-softmax and, in the loss backward, its gradient and
the input gradient (12 B; ``train.py`` frees the 16-bit logits first).

**Buffers**: FSDP/ZeRO-3 gathers whole units: the unsharded 16-bit weights of the root unit
(embeddings) and two blocks (the running one and the prefetched one) and the unsharded gradients,
in the reduce dtype, of the output head and one block; torchtitan with pipelining does not reshard
after forward (``reshard_after_forward = False``) and accumulates unsharded gradients over the
micro-batches, so the whole stage is unsharded; the Transformer Engine userbuffers of
tensor-parallel communication overlap (one ``[s·b, h]`` buffer per overlapped GEMM,
``module/base.py initialize_ub``); an expert-parallel all-to-all's send and receive buffers for one
layer; the working set of one recomputed layer.

**Framework**: a fixed reserve per GPU for the CUDA context, the cuBLAS and Transformer Engine
workspaces and the NCCL communicators' buffers (an estimate by component, see docs/calibration.md
"Memory"). **Fragmentation**: the PyTorch caching allocator reserves more than it allocates
(``max_memory_reserved`` against ``max_memory_allocated``); 5% of the memory that changes during the
step (activations, logits, buffers) is added — the value with which the model follows torchtitan's
published peak reserved memory (benchmarks/llama3_h100_202412_torchtitan.md) within a few percent
where the configuration is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from stargate.breakdown import Breakdown
from stargate.training.model import ModelSpec
from stargate.training.plans import Plans
from stargate.training.rules import pp_split, stage_sizes

__all__ = ["Memory", "MemoryProfile", "activation_bytes_per_token_layer", "memory_per_gpu", "memory_profile"]

GIB = 2.0**30
LOW_PRECISION = ("fp8", "mxfp8", "nvfp4")
# Bytes of one saved GEMM input, and of one quantized weight copy, by matmul precision: FP8 1 B;
# MXFP8 adds one E8M0 scale per 32 values (OCP MX spec v1.0); NVFP4 is 4-bit with one FP8 scale per
# 16 values (NVIDIA Transformer Engine NVFP4 recipe).
_LOWP_BYTES = {"fp8": 1.0, "mxfp8": 1.0 + 1.0 / 32, "nvfp4": 0.5 + 1.0 / 16}


@dataclass(frozen=True, slots=True)
class Memory(Breakdown):
    """Memory per GPU on the most loaded pipeline stage (bytes); the parts add up to the total.

    ``weights``: the stage's parameters as the framework stores them (16-bit or low-precision copies;
    the sharded fp32 master under FSDP). ``gradients``: gradient buffers. ``optimizer``: fp32 master
    weights (where separate) and the two Adam moments. ``activations``: stored for the micro-batches
    in flight on the most loaded stage. ``logits``: output
    logits and loss buffers. ``buffers``: unsharded FSDP/ZeRO-3 units, tensor-parallel userbuffers,
    all-to-all buffers, the recompute working set. ``framework``: CUDA context, workspaces, NCCL.
    ``fragmentation``: caching-allocator reserve. Sources: the module docstring.
    """

    weights: Any
    gradients: Any
    optimizer: Any
    activations: Any
    logits: Any
    buffers: Any
    framework: Any
    fragmentation: Any


@dataclass(frozen=True)
class MemoryProfile:
    """How one framework stores its training state (``framework_defaults.yaml``, section ``memory``)."""

    framework: str
    states: str = "megatron"
    """``megatron`` (16-bit weights + main grads + fp32 optimizer), ``fsdp`` (fp32 sharded master), ``deepspeed``."""
    grad_bytes: float = 4.0
    """Bytes of a gradient in the main-gradient buffer with 16-bit (bf16) weights."""
    grad_bytes_fp16: float = 2.0
    """Bytes of a gradient with fp16 weights."""
    reduce_bytes: float = 4.0
    """FSDP: bytes of an unsharded gradient while it is reduce-scattered (the reduce dtype)."""
    lowp_params: tuple[str, ...] = ()
    """Precisions whose recipe stores the parameters themselves in low precision (no 16-bit copy)."""
    lowp_weight_cache: bool = True
    """Whether low-precision weight copies (and transposes) are kept across the step's micro-batches."""
    lowp_saved_inputs: bool = True
    """Whether low-precision GEMMs save their inputs quantized (Transformer Engine) or in 16 bits."""
    logits_bytes: float = 6.0
    """Bytes per token per vocabulary entry (per TP rank) at the loss peak."""
    selective: str = "core_attn"
    """What ``recompute=selective`` drops: ``core_attn``, ``bridge_modules`` or ``op_sac``."""
    tp_comm_buffers: float = 0.0
    """Userbuffers of ``[s·b, h]`` 16-bit elements for tensor-parallel communication overlap (with SP)."""
    pp_unsharded: bool = False
    """FSDP with pipelining keeps the stage unsharded through the step (torchtitan)."""
    expert_tp: bool = False
    """Whether expert weights are also split over the tensor-parallel group (Megatron-LM's default
    ``--expert-tensor-parallel-size`` = ``tp``) where the expert-parallel group allows it."""
    uneven_stages: bool = False
    """Whether a layer count that ``pp·vp`` does not divide is split with smaller first and last stages
    (Megatron-Core ``--account-for-embedding-in-pipeline-split`` / ``--account-for-loss-...``)."""
    sp_saves_gathered: bool = False
    """Whether sequence-parallel regions save the all-gathered (whole-sequence) GEMM inputs (DTensor TP)."""
    max_live_params: float = 0.0
    """ZeRO-3 gathering by submodule: at most this many parameters live (0: whole units, FSDP-style)."""
    reduce_bucket_params: float = 0.0
    """ZeRO gradient reduction bucket (elements), 16-bit."""
    fixed_bytes: float = 1.5 * GIB
    """CUDA context, cuBLAS/TE workspaces and NCCL buffers per GPU."""
    fragmentation: float = 0.05
    """Caching-allocator reserve as a fraction of activations, logits and buffers."""
    source: str = ""


@cache
def _profiles() -> dict[str, MemoryProfile]:
    from stargate.inputs import load_yaml

    text = (resources.files("stargate.training") / "framework_defaults.yaml").read_text(encoding="utf-8")
    doc = load_yaml(text, "framework_defaults.yaml")
    known = set(MemoryProfile.__dataclass_fields__)
    out: dict[str, MemoryProfile] = {}
    for entry in doc.get("memory", []) or []:
        values = {k: v for k, v in entry.items() if k in known}
        if "lowp_params" in values:
            values["lowp_params"] = tuple(values["lowp_params"] or ())
        for key in ("fixed_bytes", "max_live_params", "reduce_bucket_params"):
            if key in values:
                values[key] = float(values[key])
        out[entry["framework"]] = MemoryProfile(**values)
    return out


def memory_profile(framework: str) -> MemoryProfile:
    """The memory profile of ``framework`` (Megatron-LM's for frameworks without one).

    Examples
    --------
    >>> memory_profile("torchtitan").states
    'fsdp'
    >>> memory_profile("unknown-stack").framework
    'megatron'
    """
    profiles = _profiles()
    return profiles.get(framework) or profiles.get("megatron") or MemoryProfile("megatron")


def _expert_tp(prof: MemoryProfile, plans: Plans) -> np.ndarray:
    """Expert tensor-parallel size: ``tp`` where the framework splits experts over TP and ``ep``
    divides ``cp·dp`` (the expert groups must tile the stage's GPUs), else 1."""
    if not prof.expert_tp:
        return np.ones(len(plans))
    return np.where(np.mod(plans.cp * plans.dp, plans.ep) == 0, plans.tp, 1.0)


def _attention_bytes(model: ModelSpec, g: float, lowp: bool) -> dict[str, float]:
    """Bytes per token of one attention block's saved tensors (whole, before TP/SP), by name."""
    h, H, K = model.hidden_size, model.n_heads, model.kv_heads
    d, dv = model.dim, model.v_dim
    out = {"norm_in": 2.0 * h, "norm_out": g * h, "q": 2.0 * H * d, "k": 2.0 * K * d, "v": 2.0 * K * dv,
           "out": 2.0 * H * dv + (g * H * dv if lowp else 0.0), "latent": 0.0}
    if model.mla is not None:
        m = model.mla
        # q_layernorm and kv_layernorm inputs and outputs, the shared rotary key part.
        out["latent"] = 4.0 * m.q_lora_rank + 4.0 * m.kv_lora_rank + 2.0 * m.qk_rope_head_dim
    return out


def _ffn_bytes(width: float, gated: bool, g: float) -> tuple[float, float]:
    """(first GEMM's output kept for the activation function, activation output) per token."""
    return (4.0 if gated else 2.0) * width, g * width


def activation_bytes_per_token_layer(
    model: ModelSpec, plans: Plans, precision: str = "bf16", framework: str = "megatron",
) -> tuple[np.ndarray, np.ndarray]:
    """Bytes stored per token per layer: (dense-FFN layer, MoE layer), after TP/SP and recompute.

    Examples
    --------
    >>> m = ModelSpec(name="t", n_layers=2, hidden_size=1024, n_heads=8, ffn_hidden_size=4096, vocab_size=1000)
    >>> dense, _ = activation_bytes_per_token_layer(m, Plans.one())
    >>> int(dense[0]) == 32 * 1024   # Korthikanti et al. 2022 without dropout masks, f = 4h
    True
    """
    prof = memory_profile(framework)
    lowp = precision in LOW_PRECISION and prof.lowp_saved_inputs
    g = _LOWP_BYTES[precision] if lowp else 2.0
    h = model.hidden_size
    gated = model.ffn_kind == "swiglu"
    tp = plans.tp
    sp = plans.sp.astype(bool)
    att = _attention_bytes(model, g, lowp)
    norms = 2 * (att["norm_in"] + att["norm_out"])  # both norms' inputs and outputs
    attn_rest = att["q"] + att["k"] + att["v"] + att["out"] + att["latent"]

    def per_layer(ffn_sharded: float | np.ndarray, act_out: float | np.ndarray, mla_drop: float | np.ndarray,
                  op_sac: float | np.ndarray) -> np.ndarray:
        """Stored bytes: norms shard with SP only; everything else shards over TP."""
        norm_part = np.where(sp, norms / tp, norms)
        if prof.sp_saves_gathered:  # the gathered inputs of the column-parallel GEMMs, whole
            norm_part = norm_part + np.where(sp & (tp > 1), 2 * att["norm_out"] * (1 - 1 / tp), 0.0)
        none = norm_part + (attn_rest + ffn_sharded) / tp
        if prof.selective == "bridge_modules":
            # mla_up_proj for MLA models, layernorm + moe_act for the others (Megatron-Bridge recipes).
            if model.mla is not None:
                selective = none - mla_drop / tp
            else:
                selective = none - np.where(sp, 2 * att["norm_out"] / tp, 2 * att["norm_out"]) - act_out / tp
        elif prof.selective == "op_sac":
            selective = np.where(sp, 2.0 * h / tp, 2.0 * h) + op_sac / tp
        else:  # core attention only: with flash attention nothing more is stored to drop
            selective = none
        full = 2.0 * h / np.where(sp, tp, 1.0)
        return np.select([plans.recompute == 0, plans.recompute == 1], [none, selective], full)

    mla_drop = att["q"] + att["k"] + att["v"]  # the up-projections' outputs (MLA only)
    H, K, d = model.n_heads, model.kv_heads, model.dim
    f = float(model.ffn_hidden_size or 0)
    fc1, act = _ffn_bytes(f, gated, g)
    # torchtitan op-level SAC: attention output plus every other matmul's output (wq, wv, then w1,
    # w2 for SwiGLU / w1 for two-matrix MLPs).
    sac_attn = 2.0 * H * d + 2.0 * K * d + 2.0 * H * model.v_dim
    sac_dense = sac_attn + 2.0 * f + (2.0 * h if gated else 0.0)
    dense = per_layer(fc1 + act, act, mla_drop, sac_dense)
    if model.moe is None:
        return dense, dense
    moe = model.moe
    k, fe, E = moe.top_k, float(moe.expert_ffn), moe.experts
    efc1, eact = _ffn_bytes(fe, gated, g)
    # Each expert-TP rank receives its group's tokens whole (fc1 input) and computes 1/etp of the width.
    routed = k * (g * h * _expert_tp(prof, plans) + efc1 + eact)
    shared_fc1, shared_act = _ffn_bytes(moe.shared_experts * fe, gated, g)
    router = 8.0 * E
    moe_ffn = routed + shared_fc1 + shared_act + router
    sac_moe = sac_attn + k * (g * h + 2.0 * fe) + 2.0 * moe.shared_experts * fe + router
    return dense, per_layer(moe_ffn, k * eact + shared_act, mla_drop, sac_moe)


def _stage_params(model: ModelSpec, plans: Plans, etp: Any, heaviest: Any) -> tuple[Any, Any, Any]:
    """Parameters on one GPU of the stage holding the most layers (``heaviest``), with the embedding or
    output head of the first or last stage: (dense, experts, one block's unit)."""
    tp, pp, ep = plans.tp, plans.pp, plans.ep * etp
    expert_total = float(model.moe_layers * (model.moe.experts * model.expert_params if model.moe else 0))
    layers_dense = float(model.params_total) - expert_total - model.embedding_params
    emb = float(model.vocab_size * model.hidden_size)
    # The first stage holds the input embedding, the last the output head (V·h each, a tied head
    # being a second copy there); with one stage both are on it.
    share = heaviest / model.n_layers
    dense = layers_dense * share / tp + np.where(pp == 1, model.embedding_params, emb) / tp
    experts = expert_total * share / ep
    block = layers_dense / (model.n_layers * tp) + expert_total / (model.n_layers * ep)
    return dense, experts, block


def _states(prof: MemoryProfile, plans: Plans, params: Any, group: Any, precision: str,
            transpose: bool = True) -> tuple[Any, Any, Any]:
    """(weights, gradients, optimizer) bytes of ``params`` sharded over ``group`` by the plan's ZeRO stage."""
    s = plans.sharding
    if prof.states == "fsdp":
        # Sharded fp32 master (the parameter itself), fp32 gradient, two fp32 Adam moments; SHARD_GRAD_OP
        # keeps the 16-bit unsharded weights between forward and backward.
        weights = params * 4.0 / np.where(s >= 2, group, 1.0) + np.where(s == 2, 2.0 * params, 0.0)
        grads = params * 4.0 / np.where(s >= 2, group, 1.0)
        optim = params * 8.0 / np.where(s >= 1, group, 1.0)
        return weights, grads, optim
    if prof.states == "deepspeed":
        w, gr, opt = 2.0, prof.grad_bytes_fp16, 12.0
    else:
        w = 2.0
        gr = prof.grad_bytes_fp16 if precision == "fp16" else prof.grad_bytes
        # fp32 main weights and two moments; a 16-bit gradient shard's fp32 copy exists only during the
        # optimizer step (main grads are set to None by zero_grad), when no activations are held.
        opt = 12.0
    if precision in LOW_PRECISION and prof.lowp_weight_cache:
        # Rowwise and columnwise copies; per-tensor FP8 on chips whose FP8 GEMMs take any layout
        # (Blackwell) keeps a single buffer for both.
        copies = (1.0 if precision == "fp8" and not transpose else 2.0) * _LOWP_BYTES[precision]
        w = copies if precision in prof.lowp_params else w + copies
    weights = params * w / np.where(s >= 3, group, 1.0)
    grads = params * gr / np.where(s >= 2, group, 1.0)
    optim = params * opt / np.where(s >= 1, group, 1.0)
    return weights, grads, optim


def memory_per_gpu(
    model: ModelSpec, plans: Plans, seq_len: int, micro_batches: np.ndarray, fp8: bool = False,
    overhead_bytes: float | None = None, *, precision: str | None = None, framework: str = "megatron",
    accelerator: Any = None, offload_layers: int = 0,
) -> Memory:
    """Memory of the most loaded GPU for each plan.

    ``precision`` is the matmul number format (``bf16``, ``fp16``, ``fp8``, ``mxfp8``, ``nvfp4``; the
    older ``fp8`` flag means ``fp8``); ``framework`` selects the memory profile; ``accelerator`` (the
    catalog entry) tells whether per-tensor FP8 weights need a transposed copy; ``overhead_bytes``
    replaces the profile's fixed per-GPU reserve; ``offload_layers`` layers of each stage keep their
    saved activations in host memory.

    Examples
    --------
    >>> from stargate.training.plans import Plans
    >>> m = ModelSpec(name="t", n_layers=4, hidden_size=1024, n_heads=8, ffn_hidden_size=4096, vocab_size=1000)
    >>> mem = memory_per_gpu(m, Plans.one(sharding="none"), 2048, np.array([8]), overhead_bytes=0.0)
    >>> int(mem.weights[0] + mem.gradients[0] + mem.optimizer[0]) == 18 * m.params_total
    True
    """
    prec = precision or ("fp8" if fp8 else "bf16")
    prof = memory_profile(framework)
    tp, pp, cp, dp, ep, vp = plans.tp, plans.pp, plans.cp, plans.dp, plans.ep, plans.vp
    sp = plans.sp.astype(bool)
    h = float(model.hidden_size)
    n = len(plans)
    etp = _expert_tp(prof, plans)
    stages = _stage_layers(prof, model.n_layers, plans, framework)
    dense_p, expert_p, block_p = _stage_params(model, plans, etp, np.maximum(np.maximum(stages[0], stages[1]), stages[2]))
    group, expert_group = dp * cp, np.maximum(tp * cp * dp / (ep * etp), 1.0)
    transpose = not _any_layout_fp8(accelerator)
    wd, gd, od = _states(prof, plans, dense_p, group, prec, transpose)
    we, ge, oe = _states(prof, plans, expert_p, expert_group, prec, transpose)
    weights, grads, optim = wd + we, gd + ge, od + oe

    # Activations of the in-flight micro-batches.
    dense_act, moe_act = activation_bytes_per_token_layer(model, plans, prec, framework)
    moe_frac = model.moe_layers / model.n_layers
    per_token_layer = (1 - moe_frac) * dense_act + moe_frac * moe_act
    tokens = plans.mbs * seq_len / cp
    act_first, act_mid, act_last = _in_flight_layers(stages, pp, vp, micro_batches)
    per_mb = per_token_layer * tokens
    if offload_layers:  # activations of offloaded layers live in host memory (Megatron-Core CPU offloading)
        stage_layers = model.n_layers / pp
        per_mb = per_mb * (1.0 - np.minimum(offload_layers, stage_layers) / stage_layers)
    act_first, act_mid, act_last = per_mb * act_first, per_mb * act_mid, per_mb * act_last

    # Logits and loss on the last stage, one micro-batch.
    logits = tokens * model.vocab_size * prof.logits_bytes / tp

    # Buffers.
    full_layer, full_moe = activation_bytes_per_token_layer(model, Plans(**{**_plan_fields(plans), "recompute": np.zeros(n)}),
                                                            prec, framework)
    working = np.where(plans.recompute == 2, ((1 - moe_frac) * full_layer + moe_frac * full_moe) * tokens, 0.0)
    tp_ub = np.where((tp > 1) & sp, prof.tp_comm_buffers * tokens * h * 2.0, 0.0)
    a2a: float | np.ndarray = 0.0
    if model.moe is not None:
        a2a = np.where(ep > 1, 2.0 * tokens / np.where(sp, tp, 1.0) * model.moe.top_k * h * 2.0, 0.0)
    root_first = model.vocab_size * h / tp + np.where(pp == 1, (model.embedding_params - model.vocab_size * h) / tp, 0.0)
    head = model.vocab_size * h / tp
    if prof.states == "fsdp":
        unit_params = 2.0 * (root_first + 2.0 * block_p)
        unit_grads = prof.reduce_bytes * (head + block_p)
        gather = np.where(plans.sharding >= 3, unit_params + unit_grads, 0.0)
        if prof.pp_unsharded:
            stage = dense_p + expert_p
            gather = np.where((plans.sharding >= 3) & (pp > 1), (2.0 + prof.reduce_bytes) * stage, gather)
    elif prof.max_live_params > 0:  # DeepSpeed ZeRO-3 fetches submodules up to a live-parameter cap
        live = np.minimum(root_first + 2.0 * block_p, prof.max_live_params)
        gather = np.where(plans.sharding >= 3, 2.0 * live, 0.0) + np.where(plans.sharding >= 2, 2.0 * prof.reduce_bucket_params, 0.0)
    else:  # Megatron-FSDP: as FSDP, with 16-bit (or low-precision) parameter and gradient buffers
        wb = 2.0 if prec not in LOW_PRECISION else min(2.0, 2.0 * _LOWP_BYTES[prec])
        gather = np.where(plans.sharding >= 3, wb * (root_first + 2.0 * block_p) + 2.0 * (head + block_p), 0.0)
    buf = working + tp_ub + a2a + gather

    # The most loaded stage: the first (most micro-batches in flight), the second (with uneven
    # splits it has more layers) or the last (logits).
    first = np.maximum(act_first, act_mid) + np.where(pp == 1, logits, 0.0)
    last = act_last + logits
    use_last = last > first
    acts = np.where(use_last, act_last, np.maximum(act_first, act_mid)) * np.ones(n)
    lg = np.where(use_last | (pp == 1), logits, 0.0) * np.ones(n)
    buffers = buf * np.ones(n)
    fixed = prof.fixed_bytes if overhead_bytes is None else overhead_bytes
    return Memory(
        weights=weights * np.ones(n), gradients=grads * np.ones(n), optimizer=optim * np.ones(n),
        activations=acts, logits=lg, buffers=buffers, framework=np.full(n, float(fixed)),
        fragmentation=prof.fragmentation * (acts + lg + buffers),
    )


def _any_layout_fp8(accelerator: Any) -> bool:
    """Whether the chip's FP8 GEMMs accept non-TN layouts, so one FP8 copy of a weight serves both
    passes: NVIDIA compute capability 10.x and later (Transformer Engine ``is_non_tn_fp8_gemm_supported``),
    the generation that added FP4 tensor cores (Blackwell)."""
    if accelerator is None:
        return False
    peaks = getattr(accelerator, "peak_flops_per_s", {}) or {}
    return getattr(accelerator, "vendor", "") == "NVIDIA" and any(getattr(k, "value", k) == "fp4" for k in peaks)


def _stage_layers(prof: MemoryProfile, n_layers: int, plans: Plans, framework: str) -> tuple[Any, Any, Any]:
    """Layers on the first, second and last pipeline ranks: with ``prof.uneven_stages``, the framework's
    split (:func:`~stargate.training.rules.stage_sizes`; the second rank is a middle one); otherwise
    ``L/pp`` on each, the average the framework's near-equal split is costed at."""
    if not prof.uneven_stages:
        even = n_layers / plans.pp
        return even, even, even
    first, mid, last = stage_sizes(n_layers, plans.pp, plans.vp, pp_split(framework))
    return first.astype(float), np.where(plans.pp > 2, mid, last).astype(float), last.astype(float)


def _in_flight_layers(stages: tuple[Any, Any, Any], pp: Any, vp: Any, micro_batches: Any) -> tuple[Any, Any, Any]:
    """Layer-micro-batches of activations held by the first, second and last pipeline ranks, which hold
    ``stages`` layers.

    Megatron-Core's schedules: rank ``r`` of the non-interleaved 1F1B holds ``pp - r`` micro-batches
    (at most ``m``); of the interleaved schedule ``2·(pp - r - 1) + (vp - 1)·pp + 1`` model chunks of
    ``layers/vp`` layers (at most ``m·vp``) — for the first rank ``1 + (pp-1)/(pp·vp)`` times the
    non-interleaved figure (Narayanan et al. 2021, §2.2). With an uneven split the first and last
    ranks hold fewer layers than the middle ones.
    """
    m = np.maximum(micro_batches, 1)
    inter = vp > 1

    def chunks(r: Any) -> Any:
        c = np.where(inter, 2 * (pp - r - 1) + (vp - 1) * pp + 1, pp - r)
        return np.minimum(c, m * vp)

    edge, middle, end = stages
    first = chunks(0) * edge / vp
    second = np.where(pp > 2, chunks(1) * middle / vp, 0.0)
    last = chunks(pp - 1) * end / vp
    return first, second, last


def _plan_fields(plans: Plans) -> dict[str, Any]:
    return {name: getattr(plans, name) for name in Plans.__dataclass_fields__}
