"""Request bodies of the JSON API: named like the CLI options, every number finite and bounded.

The bounds are part of the published OpenAPI schema, so a client (or a fuzzer) can see them. They
never refuse a real question (the largest machines planned today have about a million
accelerators); they exist so that no request can make the server work for long. The core checks
its own inputs again; these models only add what a server needs on top.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from stargate.enums import Cooling, Fabric, Topology
from stargate.errors import InputError
from stargate.inputs import MAX_BATCH, MAX_PARALLEL, MAX_USD
from stargate.uncertainty.options import MAX_SEED
from stargate.units import MAX_RANGE_CHARS, parse_count

__all__ = ["BODY_CONFIG", "MAX_BODY_SAMPLES", "MAX_GPUS", "MAX_SEQ_LEN", "DashboardBody", "DesignBody", "FabricBody",
           "InferBody", "PriceFields", "RangeFields", "TrainBody", "TrainFields"]

BODY_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)
"""Every body: no unknown fields, every float finite (``NaN``/``Infinity`` are a 422, never a 500)."""

MAX_GPUS = 10_000_000
"""Most accelerators one request may size (the core allows more; a server answers smaller questions)."""
MAX_SEQ_LEN = 1_048_576
"""Longest training sequence a request may ask for (tokens)."""
MAX_POWER_W = 1e12
"""Largest power cap a request may give (W), as the core's."""

Id = Annotated[str, Field(min_length=1, max_length=64)]
"""A catalog id or alias: short text, looked up in the shipped catalog, never a path."""
Quantity = Annotated[str, Field(min_length=1, max_length=64)]
"""A quantity string, ``<number> <unit>`` (``"5 GW"``, ``"$10B"``); parsed by :mod:`stargate.units`."""
Preset = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
"""A model preset name (config files are never read from requests)."""
Count = Annotated[str, Field(min_length=1, max_length=32)]
"""A count as text, read by :func:`stargate.units.parse_count` (``"100k"``, ``"49,152"``, ``"1e5"``)."""


def _count_at_most(limit: int, binary_k: bool = False) -> AfterValidator:
    """A count given as text read like the CLI's, and held to the same bound as a number."""

    def read(value: int | str, info: ValidationInfo) -> int:
        if isinstance(value, int):
            return value
        count = parse_count(value, info.field_name or "value", binary_k)
        if not 0 < count <= limit:
            raise InputError(info.field_name or "value", value, f"a whole number from 1 to {limit:,}")
        return count

    return AfterValidator(read)


Gpus = Annotated[Annotated[int, Field(gt=0, le=MAX_GPUS)] | Count, _count_at_most(MAX_GPUS)]
"""Accelerators: a number, or text such as ``"100k"``."""
Degree = Annotated[Annotated[int, Field(gt=0, le=MAX_PARALLEL)] | Count, _count_at_most(MAX_PARALLEL)]
"""A parallel degree: a number, or text such as ``"8"`` or ``"1e1"``."""
MAX_BODY_BATCH = min(MAX_BATCH, 10_000_000)
"""Largest global batch a request may ask for (sequences)."""
SeqLen = Annotated[Annotated[int, Field(gt=0, le=MAX_SEQ_LEN)] | Count, _count_at_most(MAX_SEQ_LEN, True)]
"""Sequence length (tokens): a number, or text such as ``"8k"`` (8,192: k is 1,024 for sequence lengths)."""
Batch = Annotated[Annotated[int, Field(gt=0, le=MAX_BODY_BATCH)] | Count, _count_at_most(MAX_BODY_BATCH)]
"""Global batch (sequences): a number, or text such as ``"2k"``."""
Usd = Annotated[float, Field(gt=0, le=MAX_USD)] | Quantity
"""US dollars, as a number or a string such as ``"$10B"`` or ``"30k"`` (read by :func:`stargate.units.parse_usd`)."""
SizingRange = Annotated[str, Field(min_length=4, max_length=MAX_RANGE_CHARS, pattern=r"^[^.]*[^.]\.\.[^.][^.]*$")]
"""A sizing typed as a range, ``"LOW..HIGH"`` (``"90e9..110e9"``, ``"4.5 GW..5.5 GW"``): answered at its midpoint,
sampled uniformly with ``uncertainty``."""
MAX_BODY_SAMPLES = 100_000
"""Most samples one request may ask for (the core allows more; a server answers smaller questions)."""


class RangeFields(BaseModel):
    """Ranges of the headlines: ``--uncertainty N`` and ``--seed S``."""

    model_config = BODY_CONFIG

    uncertainty: Annotated[int, Field(ge=0, le=MAX_BODY_SAMPLES)] = 0
    """Latin hypercube samples of every uncertain input (0: none): the answer adds ``ranges`` (P10/P50/P90)."""
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    """Seed of the samples: the same seed, the same ranges."""


class PriceFields(BaseModel):
    """Prices laid over the catalog for one request, as a ``--catalog`` overlay file would."""

    model_config = BODY_CONFIG

    accelerator_price: Usd | None = None
    """Price of one accelerator (USD) instead of the catalog's (``"$30k"``)."""
    system_price: Usd | None = None
    """Price of one system, the server or rack the accelerators are bought in (USD), instead of the catalog's."""


class DesignFields(PriceFields):
    """Design inputs beyond the sizing, as ``stargate design``'s options."""

    fabric: Fabric = Fabric.INFINIBAND
    """Scale-out network family."""
    system: Id | None = None
    """System id; default: the accelerator's usual system."""
    energy: Id = "grid-us"
    """Energy source id (``stargate catalog list energy_sources``)."""
    systems_per_rack: Annotated[int, Field(gt=0, le=1000)] | None = None
    """Systems per rack; default: the system's reference packing."""
    cooling: Cooling | None = None
    """Force a cooling technology; default: the cheapest whose rack limit fits."""
    wacc: Annotated[float, Field(ge=0, le=0.5)] | None = None
    """Cost of capital per year as a fraction (0.08); default: the finance entry's."""
    scale_out: Annotated[float, Field(gt=0, le=1e13)] | Quantity | None = None
    """Scale-out rate per GPU instead of the accelerator's, in bit/s or as ``"800 Gbit/s"``."""


class DesignBody(DesignFields, RangeFields):
    """``/api/design``: as ``stargate design`` (exactly one of ``gpus``, ``budget``, ``power``), with
    optional per-request prices."""

    model_config = BODY_CONFIG

    accelerator: Id
    gpus: SizingRange | Gpus | None = None
    """Accelerators, as a number or as typed (``"100k"`` where the core reads count suffixes; ``"90k..110k"``)."""
    budget: SizingRange | Usd | None = None
    """US dollars, as a number or a string such as ``"$10B"`` (or ``"$9B..$11B"``)."""
    power: SizingRange | Annotated[float, Field(gt=0, le=MAX_POWER_W)] | Quantity | None = None
    """Facility power cap, in watts or as a string such as ``"1 GW"`` (or ``"0.9 GW..1.1 GW"``)."""
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    """Year the cluster is built: its parts must ship by then."""

    @model_validator(mode="after")
    def _one_sizing(self) -> DesignBody:
        given = [k for k in ("gpus", "budget", "power") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"exactly one of gpus, budget, power (got {', '.join(given) or 'none'})")
        return self


class FabricBody(RangeFields):
    """``/api/fabric``: as ``stargate fabric``."""

    model_config = BODY_CONFIG

    gpus: Gpus
    fabric: Fabric = Fabric.INFINIBAND
    accelerator: Id = "h100"
    topology: Topology = Topology.RAIL_OPTIMIZED
    oversubscription: Annotated[list[Annotated[float, Field(ge=1.0, le=1024.0)]],
                                Field(min_length=1, max_length=6)] = [1.0]
    planes: Annotated[int, Field(ge=1, le=8)] | None = None
    switch: Id | None = None
    compare: bool = False


class TrainFields(BaseModel):
    """Training options beyond the job's size, as ``stargate train``'s; parallelism degrees left out are searched."""

    model_config = BODY_CONFIG

    framework: Annotated[str, Field(max_length=40)] | None = None
    """Training framework whose rules and defaults apply (``megatron``, ``nemo``, ``nemo-2``, ``megatron-bridge``,
    ``torchtitan``, ``llm-foundry``, ``deepspeed``, ``hai-llm``); default: ``megatron``."""
    fp8_recipe: Annotated[str, Field(max_length=16)] | None = None
    """Low-precision scaling recipe (``tensor``, ``delayed``, ``current``, ``rowwise``, ``block``, ``mxfp8`` with
    ``fp8``/``mxfp8``; ``nvfp4`` with ``nvfp4``); default: the framework's."""
    moe_load_imbalance: Annotated[float, Field(ge=1.0, le=8.0)] | None = None
    """MoE: tokens on the most loaded expert-parallel rank over the mean; default 1 (balanced)."""
    tp: Degree | None = None
    """Tensor parallel (searched if left out)."""
    pp: Degree | None = None
    """Pipeline parallel."""
    dp: Degree | None = None
    """Data parallel."""
    cp: Degree | None = None
    """Context parallel."""
    ep: Degree | None = None
    """Expert parallel."""
    vp: Degree | None = None
    """Virtual pipeline stages per rank."""
    mbs: Degree | None = None
    """Micro-batch size (sequences)."""
    recompute: Annotated[str, Field(max_length=16)] | None = None
    """``none``, ``selective`` or ``full``."""
    sharding: Annotated[str, Field(max_length=16)] | None = None
    """``none``, ``zero1``, ``zero2`` or ``zero3``."""
    tokens: Annotated[float, Field(gt=0, le=1e18)] | Count | None = None
    """Token budget to train (``15e12``, or ``"15T"`` where the core reads count suffixes); default: 20 per parameter."""
    top_k: Annotated[int, Field(ge=1, le=20)] | None = None
    """Plans to report (default 3)."""
    use_subset: bool = False
    """When no plan uses every GPU, run on the largest subset one fits on (else such a count is refused
    with the nearest counts that work)."""


class TrainBody(TrainFields):
    """``/api/train``: as ``stargate train``; parallelism degrees left out are searched."""

    model: Preset
    """Model preset name (config files are never read from requests)."""
    accelerator: Id
    """Accelerator id or alias."""
    gpus: Gpus
    """Accelerators the job uses."""
    seq_len: SeqLen = 8192
    """Sequence length (tokens)."""
    global_batch: Batch = 2048
    """Global batch (sequences)."""
    precision: Annotated[str, Field(max_length=16)] = "bf16"
    """``bf16``, ``fp16``, ``fp8``, ``mxfp8`` or ``nvfp4``."""
    fabric: Fabric = Fabric.INFINIBAND
    """Scale-out network family."""


class DashboardBody(DesignFields, TrainFields):
    """``/api/dashboard``: one phase designed and planned, with its charts, and one of its training jobs
    under the training options given. Every quantity may be a number or a string with its unit."""

    model_config = BODY_CONFIG

    accelerator: Id = "gb200"
    """Accelerator id or alias."""
    sizing: str = Field("budget", pattern=r"^(budget|power|gpus)$", max_length=6)
    """What ``value`` is: ``budget`` (USD), ``power`` (facility W) or ``gpus``."""
    value: Annotated[float, Field(gt=0, le=MAX_USD)] | Quantity = 10e9
    """US dollars, watts or accelerators, as ``sizing`` says: a number or a string with its unit
    (``"$10B"``, ``"1 GW"``, ``"300 MW"``)."""
    model: Preset = "llama3.1-405b"
    """Model preset the phase trains."""
    year: Annotated[int, Field(ge=2000, le=2100)] = 2027
    """Year the phase comes online."""
    seq_len: SeqLen = 8192
    """Sequence length (tokens)."""
    global_batch: Batch = 2048
    """Global batch of the phase's training run (sequences); jobs take at most a frontier batch each."""
    precision: Annotated[str, Field(max_length=16)] = "bf16"
    """``bf16``, ``fp16``, ``fp8``, ``mxfp8`` or ``nvfp4``."""
    training_days: Annotated[float, Field(gt=0, le=36_500)] | Quantity = 100.0
    """Training time for the largest compute-optimal model, in days or as ``"6 months"``."""
    sites: Annotated[int, Field(ge=1, le=64)] = 1
    """Sites one training job may span (joined in a ring of fibre links)."""
    site_distance: Annotated[float, Field(gt=0, le=40_000e3)] | Quantity = 100e3
    """Fibre route between adjacent sites, in metres or as ``"1500 km"``."""


MAX_LATENCY_S = 3600.0
"""Longest latency limit a request may give (s), as the core's."""
Tokens = Annotated[float, Field(gt=0, le=MAX_SEQ_LEN)] | Count
"""A mean length in tokens: a number (``294.45``), or text such as ``"1k"``."""
Latency = Annotated[float, Field(gt=0, le=MAX_LATENCY_S)] | Quantity
"""A latency limit, in seconds or as a time such as ``"200 ms"``."""


class InferBody(BaseModel):
    """``/api/infer``: as ``stargate infer`` (exactly one of ``gpus``, ``budget``, ``power``; ``tpot`` or
    ``tokens_per_user``, not both)."""

    model_config = BODY_CONFIG

    model: Preset
    """Model preset name (config files are never read from requests)."""
    accelerator: Id
    """Accelerator id or alias."""
    gpus: Gpus | None = None
    """Accelerators serving (all replicas together)."""
    budget: Usd | None = None
    """Or size the machine by its capital budget: US dollars, as a number or a string such as ``"$1B"``."""
    power: Annotated[float, Field(gt=0, le=MAX_POWER_W)] | Quantity | None = None
    """Or size the machine by its facility power cap, in watts or as a string such as ``"100 MW"``."""
    input_tokens: Tokens
    """Mean prompt length (tokens)."""
    output_tokens: Tokens
    """Mean generated length (tokens)."""
    ttft: Latency | None = None
    """Limit on the time to first token at p99; none: no limit."""
    tpot: Latency | None = None
    """Limit on the time per output token at p99; none: no limit."""
    tokens_per_user: Annotated[float, Field(gt=0, le=1e6)] | None = None
    """Interactivity as output tokens per second each user sees (instead of ``tpot``)."""
    precision: Annotated[str, Field(max_length=16)] = "fp8"
    """``bf16``, ``fp8`` or ``fp4`` (the chip must have matrix units for it)."""
    kv_dtype: Annotated[str, Field(max_length=16)] | None = None
    """``bf16`` or ``fp8``; default: fp8 unless the weights are bf16."""
    disaggregated: Annotated[str, Field(max_length=16)] = "auto"
    """``yes`` (separate prefill and decode pools), ``no`` or ``auto``."""
    framework: Annotated[str, Field(max_length=16)] = "trtllm"
    """``trtllm``, ``vllm``, ``sglang`` or ``other``."""
    fabric: Fabric = Fabric.INFINIBAND
    """Scale-out network family."""
    scale_out: Annotated[float, Field(gt=0, le=1e13)] | Quantity | None = None
    """Scale-out rate per GPU instead of the accelerator's, in bit/s or as ``"800 Gbit/s"``."""
    energy: Id = "grid-us"
    """Energy source id of the designed cluster (its price enters the TCO)."""

    @model_validator(mode="after")
    def _one_of_each(self) -> InferBody:
        given = [k for k in ("gpus", "budget", "power") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"exactly one of gpus, budget, power (got {', '.join(given) or 'none'})")
        if self.tpot is not None and self.tokens_per_user is not None:
            raise ValueError("either tpot or tokens_per_user, not both")
        return self
