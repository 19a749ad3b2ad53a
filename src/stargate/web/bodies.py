"""Request bodies of the JSON API: named like the CLI options, every number finite and bounded.

The bounds are part of the published OpenAPI schema, so a client (or a fuzzer) can see them. They
never refuse a real question (the largest machines planned today have about a million
accelerators); they exist so that no request can make the server work for long. The core checks
its own inputs again; these models only add what a server needs on top.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from stargate.enums import Fabric, Topology
from stargate.errors import InputError
from stargate.inputs import MAX_BATCH, MAX_PARALLEL, MAX_USD
from stargate.units import parse_count

__all__ = ["BODY_CONFIG", "MAX_GPUS", "MAX_SEQ_LEN", "DashboardBody", "DesignBody", "FabricBody", "TrainBody"]

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
Degree = Annotated[int, Field(gt=0, le=MAX_PARALLEL)]
CountText = Annotated[str, Field(min_length=1, max_length=32)]
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


Gpus = Annotated[Annotated[int, Field(gt=0, le=MAX_GPUS)] | CountText, _count_at_most(MAX_GPUS)]
"""Accelerators: a number, or text such as ``"100k"``."""
MAX_BODY_BATCH = min(MAX_BATCH, 10_000_000)
"""Largest global batch a request may ask for (sequences)."""


class DesignBody(BaseModel):
    """``/api/design``: as ``stargate design`` (exactly one of ``gpus``, ``budget``, ``power``)."""

    model_config = BODY_CONFIG

    accelerator: Id
    gpus: Gpus | None = None
    budget: Annotated[float, Field(gt=0, le=MAX_USD)] | Quantity | None = None
    """US dollars, as a number or a string such as ``"$10B"``."""
    power: Annotated[float, Field(gt=0, le=MAX_POWER_W)] | Quantity | None = None
    """Facility power cap, in watts or as a string such as ``"1 GW"``."""
    fabric: Fabric = Fabric.INFINIBAND
    system: Id | None = None
    energy: Id = "grid-us"
    systems_per_rack: Annotated[int, Field(gt=0, le=1000)] | None = None
    cooling: Id | None = None

    @model_validator(mode="after")
    def _one_sizing(self) -> DesignBody:
        given = [k for k in ("gpus", "budget", "power") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"exactly one of gpus, budget, power (got {', '.join(given) or 'none'})")
        return self


class FabricBody(BaseModel):
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


class TrainBody(BaseModel):
    """``/api/train``: as ``stargate train``; parallelism degrees left out are searched."""

    model_config = BODY_CONFIG

    model: Preset
    accelerator: Id
    gpus: Gpus
    seq_len: Annotated[Annotated[int, Field(gt=0, le=MAX_SEQ_LEN)] | CountText, _count_at_most(MAX_SEQ_LEN, True)] = 8192
    """Sequence length (tokens): a number, or text such as ``"8k"`` (8,192: k is 1,024 for sequence lengths)."""
    global_batch: Annotated[Annotated[int, Field(gt=0, le=MAX_BODY_BATCH)] | CountText, _count_at_most(MAX_BODY_BATCH)] = 2048
    """Global batch (sequences): a number, or text such as ``"2k"``."""
    precision: Annotated[str, Field(max_length=16)] = "bf16"
    fabric: Fabric = Fabric.INFINIBAND
    framework: Annotated[str, Field(max_length=40)] | None = None
    """Training framework whose rules and defaults apply (``megatron``, ``nemo``, ``nemo-2``, ``megatron-bridge``,
    ``torchtitan``, ``llm-foundry``, ``deepspeed``, ``hai-llm``); default: ``megatron``."""
    fp8_recipe: Annotated[str, Field(max_length=16)] | None = None
    """Low-precision scaling recipe (``tensor``, ``delayed``, ``current``, ``rowwise``, ``block``, ``mxfp8`` with
    ``fp8``/``mxfp8``; ``nvfp4`` with ``nvfp4``); default: the framework's."""
    moe_load_imbalance: Annotated[float, Field(ge=1.0, le=8.0)] | None = None
    """MoE: tokens on the most loaded expert-parallel rank over the mean; default 1 (balanced)."""
    tp: Degree | None = None
    pp: Degree | None = None
    dp: Degree | None = None
    cp: Degree | None = None
    ep: Degree | None = None
    vp: Degree | None = None
    mbs: Degree | None = None
    recompute: Annotated[str, Field(max_length=16)] | None = None
    sharding: Annotated[str, Field(max_length=16)] | None = None


class DashboardBody(BaseModel):
    """``/api/dashboard``: one phase designed and planned, with its charts."""

    model_config = BODY_CONFIG

    accelerator: Id = "gb200"
    fabric: Fabric = Fabric.INFINIBAND
    sizing: str = Field("budget", pattern=r"^(budget|power|gpus)$", max_length=6)
    value: Annotated[float, Field(gt=0, le=MAX_USD)] = 10e9
    """US dollars, watts or accelerators, as ``sizing`` says."""
    model: Preset = "llama3.1-405b"
    year: Annotated[int, Field(ge=2000, le=2100)] = 2027
