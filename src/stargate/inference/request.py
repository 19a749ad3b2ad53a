"""What a serving question asks: a model on N accelerators, a workload and its latency limits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, model_validator

from stargate.enums import Fabric
from stargate.inputs import INPUT_CONFIG, MAX_GPUS, MAX_SEQ_LEN
from stargate.units import Count, parse_count

__all__ = ["PRECISIONS", "ServingRequest"]

PRECISIONS = ("bf16", "fp8", "fp4")
"""Weight and activation formats of the served model's linear layers (``fp4``: NVFP4 on NVIDIA, MXFP4 on AMD)."""
MAX_LATENCY_S = 3600.0
"""Longest latency limit accepted (one hour)."""

Latency = Annotated[float, Field(gt=0, le=MAX_LATENCY_S)]


def _mean_tokens(value: object, info: ValidationInfo) -> float:
    """A mean length: any finite number (294.45), or a count as a string (``"1k"``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float(parse_count(value, info.field_name or "value"))


MeanTokens = Annotated[float, BeforeValidator(_mean_tokens), Field(gt=0, le=MAX_SEQ_LEN)]


class ServingRequest(BaseModel):
    """One serving deployment to size: which model, on what, for which requests, under which limits.

    Examples
    --------
    >>> r = ServingRequest(accelerator="h200", gpus=8, input_tokens=1024, output_tokens=1024, tpot_s=0.05)
    >>> r.tpot_limit_s
    0.05
    >>> ServingRequest(accelerator="h200", gpus=8, input_tokens=1024, output_tokens=1024,
    ...                tokens_per_user=50).tpot_limit_s
    0.02
    """

    model_config = INPUT_CONFIG

    accelerator: str
    """Accelerator id or alias."""
    gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)]
    """Accelerators serving the model (all replicas together)."""
    input_tokens: MeanTokens
    """Mean prompt length (tokens)."""
    output_tokens: MeanTokens
    """Mean generated length (tokens)."""
    output_tokens_cv: Annotated[float, Field(ge=0.0, le=100.0)] = 0.0
    """Spread of the generated lengths (standard deviation over mean; 0: every request generates the mean).
    Long requests stay in flight longer, so the tokens being generated sit, on average, at a context of
    ``I + O·(1 + cv²)/2`` (length-biased sampling), not ``I + O/2``: more KV cache to read and hold."""
    ttft_s: Latency | None = None
    """Limit on the time to first token (s, at the 99th percentile); none: no limit."""
    tpot_s: Latency | None = None
    """Limit on the time per output token after the first (s, at the 99th percentile); none: no limit."""
    tokens_per_user: Annotated[float, Field(gt=0, le=1e6)] | None = None
    """Interactivity as output tokens per second each user sees (the inverse of a TPOT limit)."""
    precision: Literal["bf16", "fp8", "fp4"] = "fp8"
    """Format of the linear layers' weights and activations."""
    kv_dtype: Literal["bf16", "fp8"] | None = None
    """KV-cache format; default: fp8 when the weights are fp8 or fp4, else bf16."""
    disaggregated: Literal["auto", "yes", "no"] = "auto"
    """Prefill and decode on separate GPU pools (``yes``), on the same replicas (``no``), or whichever serves more (``auto``)."""
    framework: Literal["trtllm", "vllm", "sglang", "other"] = "trtllm"
    """Serving engine, whose measured per-step overhead applies (``docs/calibration.md``)."""
    fabric: Fabric = Fabric.INFINIBAND
    """Scale-out network family between scale-up domains."""
    scale_out_bits_per_s: Annotated[float, Field(gt=0, le=1e15)] | None = None
    """Override of the per-GPU NIC rate (bit/s); default: the accelerator's."""
    max_replica_gpus: Annotated[int, Field(gt=0, le=MAX_GPUS)] | None = None
    """Largest replica considered (GPUs); default: the whole deployment."""
    speculative_tokens: Annotated[int, Field(ge=0, le=8)] = 0
    """Draft tokens per decode step (speculative decoding with a one-layer draft head: MTP, EAGLE); 0: off."""
    acceptance_rate: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.85
    """Chance that each draft token is accepted (DeepSeek-V3 report, arXiv:2412.19437 §5.4.3: 85-90% for its MTP head)."""
    software_year: Annotated[float, Field(ge=2020.0, le=2040.0)] | None = None
    """When the serving software was released (decimal year, 2025.7 = September 2025): kernels and engines get
    faster every year (``calibration.yaml``: ``software_speedup_per_year``); default: the measured kernel
    tables' date, the newest software the model knows."""
    replica_gpus: Annotated[int, Field(gt=0, le=MAX_GPUS)] | None = None
    """GPUs of each replica (``tp x pp``); default: the search picks."""
    concurrency: Annotated[Count, Field(gt=0, le=1_000_000_000)] | None = None
    """Requests in flight in the whole deployment (closed-loop clients); default: the search picks the batch."""

    @model_validator(mode="after")
    def _one_interactivity(self) -> ServingRequest:
        if self.tpot_s is not None and self.tokens_per_user is not None:
            raise ValueError("give the interactivity once: tpot_s or tokens_per_user, not both")
        return self

    @property
    def tpot_limit_s(self) -> float | None:
        """The TPOT limit, from ``tpot_s`` or ``1 / tokens_per_user``."""
        if self.tokens_per_user is not None:
            return 1.0 / self.tokens_per_user
        return self.tpot_s

    @property
    def decode_context_tokens(self) -> float:
        """Mean context of a generated token: ``I + O·(1 + cv²)/2`` (each request weighted by its length)."""
        return self.input_tokens + self.output_tokens * (1.0 + self.output_tokens_cv ** 2) / 2.0

    @property
    def kv_cache_dtype(self) -> str:
        """KV-cache format in effect."""
        return self.kv_dtype or ("bf16" if self.precision == "bf16" else "fp8")
