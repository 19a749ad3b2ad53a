"""Documented kernel and runtime features of a training framework release (``framework_features.yaml``).

They switch physical terms of the step-time model on or off — FlashAttention-2 kernels on chips newer
than Ampere, the CPU launch floor of eager execution, unfused elementwise kernels, tensor-parallel
communication overlap, dropless MoE routing — so that a framework or release changes a prediction
only through what its documentation says it does, never through a free multiplier.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

from stargate.errors import InputError
from stargate.inputs import load_yaml

__all__ = ["Features", "features", "fp8_recipe_of", "workload_features"]


@dataclass(frozen=True)
class Features:
    """What one framework release does (see ``framework_features.yaml`` for each field's meaning)."""

    framework: str
    gemm_isa: str
    attention: str
    cuda_graphs: bool
    fused_elementwise: bool
    tp_comm_overlap: bool
    moe_routing: str
    source: str
    grad_reduce_bytes: float = 4.0
    ep_comm_overlap: bool = False
    zero3_unit_params: float = 0.0
    pipeline_schedule: str = "1f1b"
    fp8_recipe: str = "delayed"
    selective_gemm_share: float = 0.0


@cache
def _table() -> dict[str, dict]:
    text = (resources.files("stargate.training") / "framework_features.yaml").read_text(encoding="utf-8")
    return {f["id"]: f for f in load_yaml(text, "framework_features.yaml")["frameworks"]}


@cache
def features(framework: str, version: str = "", moe_routing: str | None = None) -> Features:
    """The documented features of ``framework`` at release ``version`` (empty: the newest).

    Examples
    --------
    >>> f = features("llm-foundry")
    >>> f.attention, f.cuda_graphs, f.fused_elementwise
    ('triton', False, False)
    >>> features("megatron-bridge", "26.04").attention
    'native'
    """
    table = _table()
    if framework not in table:
        raise InputError("framework", framework, f"one of {', '.join(table)}")
    entry = table[framework]
    chosen = entry["releases"][-1]
    for release in entry["releases"]:
        if release["until"] and version and version <= str(release["until"]):
            chosen = release
            break
    given = {f.name for f in fields(Features)} - {"framework", "source", "moe_routing"}
    return Features(framework=framework, source=str(entry["source"]), moe_routing=moe_routing or chosen["moe_routing"],
                    **{k: v for k, v in chosen.items() if k in given})


def workload_features(workload: Any) -> Features:
    """The features of a workload's framework release, with the workload's own settings laid over them.

    Examples
    --------
    >>> from stargate.training.context import Workload
    >>> w = Workload(accelerator="h100", gpus=8, seq_len=4096, global_batch=8, framework="megatron-bridge", ep_comm_overlap=True)
    >>> workload_features(w).ep_comm_overlap, features("megatron-bridge").ep_comm_overlap
    (True, False)
    """
    f = features(workload.framework, workload.framework_version, workload.moe_routing)
    changes = {k: v for k, v in (("ep_comm_overlap", workload.ep_comm_overlap), ("cuda_graphs", workload.cuda_graphs))
               if v is not None}
    return replace(f, **changes) if changes else f


def fp8_recipe_of(workload: Any) -> str | None:
    """The scaling recipe a workload's low-precision GEMMs run: its own, else its framework's documented
    default for FP8 (MXFP8 and NVFP4 name their own recipe); ``None`` for 16-bit work.

    Examples
    --------
    >>> from stargate.training.context import Workload
    >>> w = Workload(accelerator="h100", gpus=8, seq_len=4096, global_batch=8, precision="fp8", framework="megatron-bridge")
    >>> fp8_recipe_of(w), fp8_recipe_of(w.model_copy(update={"framework": "megatron"}))
    ('current', 'delayed')
    """
    if workload.precision in ("bf16", "fp16"):
        return None
    if workload.fp8_recipe:
        return workload.fp8_recipe
    if workload.precision in ("mxfp8", "nvfp4"):
        return workload.precision
    return features(workload.framework, workload.framework_version).fp8_recipe
