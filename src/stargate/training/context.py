"""What a training estimate needs, resolved once: model, chip, efficiencies, network, workload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field

from stargate.catalog import Catalog
from stargate.catalog.schema import Accelerator, TrainingDefaults
from stargate.enums import Fabric, Precision, Topology
from stargate.errors import InputError
from stargate.fabric.design import FabricPlan, FabricRequest, plan_fabric
from stargate.inputs import INPUT_CONFIG, MAX_BATCH, MAX_GPUS, MAX_SEQ_LEN
from stargate.kernels import KernelSource, kernel_source
from stargate.training.model import ModelSpec
from stargate.units import Count, SeqLen

__all__ = ["PRECISIONS", "TrainingContext", "Workload", "resolve_context"]

# Matmul number format -> the catalog's peak it runs at.
PRECISIONS = {"bf16": Precision.BF16, "fp16": Precision.FP16, "fp8": Precision.FP8, "mxfp8": Precision.FP8,
              "nvfp4": Precision.FP4}


class Workload(BaseModel):
    """One training job's size and hardware, independent of its parallel plan."""

    model_config = INPUT_CONFIG

    accelerator: str
    """Accelerator id or alias."""
    gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)]
    """Accelerators the job uses."""
    seq_len: Annotated[SeqLen, Field(gt=0, le=MAX_SEQ_LEN)]
    """Training sequence length (tokens)."""
    global_batch: Annotated[Count, Field(gt=0, le=MAX_BATCH)]
    """Sequences per optimizer step."""
    precision: str = Field("bf16", pattern=r"^(bf16|fp16|fp8|mxfp8|nvfp4)$")
    """Number format of the matrix multiplications."""
    fabric: Fabric = Fabric.INFINIBAND
    """Scale-out network family."""
    topology: Topology = Topology.RAIL_OPTIMIZED
    """Scale-out topology."""
    scale_out_bits_per_s: Annotated[float, Field(gt=0, le=1e15)] | None = None
    """Override of the per-GPU NIC rate (bit/s); default: the accelerator's."""
    scale_up_domain: Annotated[int, Field(gt=0, le=MAX_GPUS)] | None = None
    """Override of the scale-up domain size; default: the accelerator's."""
    framework: str = Field("megatron", pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")
    """Training framework whose documented behaviour (memory buffers, overlap, divisibility rules) applies:
    ``megatron`` (Megatron-LM/Core), ``megatron-bridge``, ``nemo``, ``torchtitan``, ``llm-foundry``, ``deepspeed``."""
    framework_version: str = Field("", max_length=40)
    """The framework's release, where its documented features depend on it (empty: the newest known)."""
    fp8_recipe: str | None = Field(None, pattern=r"^(tensor|delayed|current|rowwise|block|mxfp8|nvfp4)$")
    """Low-precision scaling recipe (``tensor``/``delayed``/``current`` per-tensor, ``rowwise``, ``block``,
    ``mxfp8``, ``nvfp4``); default: the framework's documented default for the precision."""
    moe_routing: str | None = Field(None, pattern=r"^(dropless|capacity)$")
    """MoE token routing: ``dropless`` or ``capacity`` (capacity factor, tokens over it dropped);
    default: the framework's documented default."""
    ep_comm_overlap: bool | None = None
    """Expert-parallel all-to-all overlapped with another micro-batch's compute (Megatron-Core
    ``moe_a2a_overlap``, DeepSeek's DualPipe); default: the framework's documented default."""
    moe_load_imbalance: float = Field(1.0, ge=1.0, le=8.0)
    """Tokens on the most loaded expert-parallel rank over the mean (1.0: balanced, as in force-balanced
    benchmarks); the routed-expert GEMMs and the all-to-all wait for that rank."""
    activation_offload_layers: int = Field(0, ge=0, le=1_000_000)
    """Layers whose saved activations are offloaded to host memory (Megatron-Core ``cpu_offloading_num_layers``):
    they hold no GPU memory; the copies overlap compute."""
    cuda_graphs: bool | None = None
    """Layers captured in CUDA graphs (no CPU launch floor per layer); default: the framework's."""


@dataclass(frozen=True)
class TrainingContext:
    """Resolved inputs of the performance model."""

    model: ModelSpec
    workload: Workload
    accelerator: Accelerator
    kernel_source: KernelSource
    """Which measured kernel tables the chip's times come from, and how they are scaled."""
    defaults: TrainingDefaults
    fabric: FabricPlan
    catalog: Catalog
    peak_matmul_flops_per_s: float
    """Dense peak at the job's matmul precision."""
    peak_16bit_flops_per_s: float
    hbm_usable_bytes: float
    scale_up_domain: int
    scale_out_bits_per_s: float

    @property
    def calibrated(self) -> bool:
        """Whether the chip's kernel times were measured on it (not borrowed from another chip)."""
        return self.kernel_source.measured


def resolve_context(model: ModelSpec, workload: Workload, catalog: Catalog | None = None) -> TrainingContext:
    """Look up everything the estimate needs for ``model`` on ``workload``."""
    cat = catalog or Catalog.load()
    acc = cat.accelerator(workload.accelerator)
    prec = PRECISIONS[workload.precision]
    peak16 = acc.peak_16bit_flops_per_s
    peak = acc.peak_flops_per_s.get(prec)
    if peak is None:
        raise InputError("precision", workload.precision, f"a precision {acc.id} has a peak for "
                         f"({', '.join(p.value for p in acc.peak_flops_per_s)})")
    fabric = plan_fabric(FabricRequest(gpus=workload.gpus, fabric=workload.fabric, accelerator=acc.id,
                                       topology=workload.topology), cat)
    defaults = cat.get("training", "default", "training")
    usable = acc.hbm_usable_bytes or acc.hbm_bytes
    return TrainingContext(
        model, workload, acc, kernel_source(acc.id, cat), defaults, fabric, cat, peak, peak16, usable,  # type: ignore[arg-type]
        workload.scale_up_domain or acc.scale_up_domain, workload.scale_out_bits_per_s or acc.scale_out_bw_bits_per_s,
    )
