"""Catalog entries for running the machine: training frameworks' fitted defaults, failure rates,
recovery strategies, warm spares, and the serving benchmarks' workloads with their sourced figures.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from stargate.catalog.entry import Entry, Fraction, Positive
from stargate.inputs import INPUT_CONFIG, MAX_CATALOG_NUMBER


class TrainingDefaults(Entry):
    """Fitted overlap factors and memory reserves of training frameworks."""

    tp_comm_exposed: Fraction
    """Fraction of tensor-parallel communication not hidden behind compute."""
    ep_comm_exposed: Fraction
    """Fraction of expert-parallel all-to-all not hidden behind compute."""
    framework_overhead_bytes: Annotated[float, Field(ge=0)]
    """Memory every GPU loses to the CUDA context, communication buffers and fragmentation (bytes)."""
    eager_launch_s_per_layer: Annotated[float, Field(ge=0, le=0.01)] = 0.0
    """CPU time to launch one transformer layer's kernels, forward and backward, for one micro-batch, in a
    framework without CUDA graphs: the layer cannot run faster than this (s)."""
    unfused_memory_factor: Annotated[float, Field(ge=1, le=5)] = 1.0
    """Memory-bound traffic of eager (unfused) elementwise kernels over fused ones (each op re-reads its inputs)."""
    moe_layer_overhead_s: Annotated[float, Field(ge=0, le=0.02)] = 0.0
    """Fixed time per MoE layer per micro-batch under dropless routing: the host synchronisation on the token
    counts and the launches around it (s)."""
    sm80_peak_fraction: Annotated[float, Field(gt=0, le=1)] = 1.0
    """Fraction of a Hopper-or-later chip's dense peak that Ampere-ISA (mma.sync) GEMM kernels reach, where a
    framework's build has no kernels for the chip (``gemm_isa: sm80`` in ``framework_features.yaml``)."""
    prediction_interval: dict[str, tuple[float, float]] = {}  # noqa: RUF012 - a pydantic field, copied per instance
    """Per class of job (``dense``/``moe`` × ``16bit``/``lowp``), the 10th and 90th percentiles of
    ``measured / predicted`` tokens/s per GPU over the leave-one-source-out predictions of the runs file:
    a prediction's 80% interval is the prediction times these."""
    straggler_cv: Annotated[float, Field(ge=0, le=0.1)] = 0.0
    """Coefficient of variation of one GPU's step time (jitter: clocks, OS noise, network): a synchronous
    step waits for the slowest of N GPUs, about ``1 + cv·sqrt(2 ln N)`` times the mean (the expected
    maximum of N normal variables, e.g. David & Nagaraja, *Order Statistics*, 3rd ed., §10.5)."""
    sustained_clock: Annotated[float, Field(gt=0.5, le=1)] = 1.0
    """Compute-bound speed in a long training run over the measured kernel tables (short CUDA-graph bursts
    at boost clocks)."""
    triton_attention_factor: Annotated[float, Field(ge=1, le=4)] = 1.0
    """Time of the Triton FlashAttention kernel (forward + backward) over FlashAttention-2's, where a
    framework uses it (``attention: triton`` in ``framework_features.yaml``); bounded by Dao 2023
    (FlashAttention-2, arXiv:2307.08691, §4.1: FlashAttention-2 is 1.3-2.5x faster than FlashAttention in Triton)."""
    fa2_forward_peak_fraction: Annotated[float, Field(gt=0, le=1)] = 0.35
    """Best forward fraction of the 16-bit peak FlashAttention-2 reaches on chips newer than Ampere
    (Shah et al. 2024, FlashAttention-3, arXiv:2407.08608: 'only 35% utilization on the H100')."""


class FailureRate(Entry):
    """Unexpected job interruptions caused by one component class, per GPU-hour."""

    interruptions_per_gpu_hour: Annotated[float, Field(ge=0)]
    """Interruptions per GPU-hour of the cluster (each scales with the GPU count)."""
    needs_repair: bool = True
    """Whether the failure takes hardware out of service until it is swapped or repaired (a GPU,
    HBM, host or NIC fault) rather than clearing on restart (software, a rerouted link); only these
    count when sizing the warm spares."""


class Recovery(Entry):
    """A recovery strategy: what a failure and a checkpoint cost, and how restarts grow with size.

    The restart (the job-wide stall per failure) follows ``restart_s(N) = restart_base_s +
    restart_per_doubling_s x log2(N)`` for a job of ``N`` GPUs.
    """

    checkpoint_bytes_per_param: Positive = 14.0
    """Checkpoint bytes per model parameter (weights and optimizer state)."""
    checkpoint: Literal["storage", "memory", "none"] = "storage"
    """Where the job checkpoints: the storage system, host memory of the node and its peers, or
    nowhere (state is recovered from a healthy data-parallel replica)."""
    failure_domain: Literal["gpu", "node", "nvlink-domain", "replica"] = "node"
    """What a failure takes out of the job and what is restarted or replaced: one GPU, its node,
    its NVLink (scale-up) domain, or its whole data-parallel replica."""
    elastic: bool = False
    """Whether the rest of the job keeps training while the failed domain is replaced (only the
    failed replica restarts); otherwise the whole job stops for the restart."""
    restart_base_s: Annotated[float, Field(ge=0)]
    """Constant part of the restart law (s)."""
    restart_per_doubling_s: Annotated[float, Field(ge=0)] = 0.0
    """Restart time added per doubling of the job's GPUs (s)."""
    rejoin_s: Annotated[float, Field(ge=0)] = 0.0
    """Elastic strategies: time the failed replica stays out before it trains again (s)."""
    write_cap_bytes_per_s: Positive | None = None
    """Storage checkpoints: the file system's aggregate write bandwidth cap (bytes/s)."""
    memory_write_bw_bytes_per_s_per_gpu: Positive | None = None
    """In-memory checkpoints: each GPU's snapshot bandwidth to host memory (bytes/s)."""
    confidence: Literal["high", "medium", "low"] = "medium"
    """How far the strategy's numbers can be trusted."""


class Spares(Entry):
    """Warm spares: idle GPUs bought with a phase so that a failed domain is replaced at once."""

    return_s: Positive
    """Time a failed domain stays out of the pool (swap from stock, re-validation) (s)."""
    margin_sigmas: Annotated[float, Field(ge=0, le=10)] = 3.0
    """Spares beyond the mean number of domains out, in standard deviations of that Poisson count."""
    provision_s: Annotated[float, Field(ge=0)]
    """Without spares: time to find and provision a replacement node, added to every restart (s)."""
    confidence: Literal["high", "medium", "low"] = "low"
    """How far the numbers can be trusted."""


class Figure(BaseModel):
    """One published (or estimated) number of a serving benchmark, with where it comes from."""

    model_config = INPUT_CONFIG

    value: Annotated[float, Field(ge=0, le=MAX_CATALOG_NUMBER)] | None
    """The number in the unit its field names (tokens or seconds); null where no source gives it."""
    source: str = Field(min_length=3)
    """Document, file or thread the number is read from, or how it was estimated."""
    date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """Date of the source (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    confidence: Literal["measured", "documented", "estimate", "not_found"]
    """``measured`` (read from logs of runs), ``documented`` (stated by the benchmark's owners),
    ``estimate`` (derived here, the source says how), ``not_found`` (no source found: value null)."""

    @model_validator(mode="after")
    def _null_iff_not_found(self) -> Figure:
        if (self.value is None) != (self.confidence == "not_found"):
            raise ValueError("value is null exactly when confidence is not_found")
        return self


class ServingBenchmark(Entry):
    """A serving benchmark's workload: dataset, prompt and output lengths and latency limits.

    Latency limits are on the 99th percentile of time to first token (TTFT) and time per output
    token (TPOT); a scenario the benchmark does not define has no limit (null).
    """

    suite: Literal["mlperf", "inferencex"]
    """Who defines the benchmark: MLPerf Inference (datacenter) or SemiAnalysis InferenceX."""
    model: str = Field(min_length=1)
    """Hugging Face id of the reference model."""
    dataset: str = Field(min_length=1)
    """Dataset in words (MLPerf: as the rules name it)."""
    samples: int | None = Field(None, ge=1)
    """Samples in the performance dataset; null where prompts are generated."""
    lengths_fixed_per_run: bool = False
    """Whether every request of a run has the same prompt and output length (random-token prompts),
    so the lengths are a property of each run rather than of the benchmark."""
    input_tokens_mean: Figure
    """Mean prompt length (tokens)."""
    input_tokens_max: Figure
    """Largest prompt length the dataset or rules allow (tokens)."""
    output_tokens_mean: Figure
    """Mean generated length (tokens): the reference tokens per sample."""
    output_tokens_max: Figure
    """Largest generated length (``max_new_tokens`` / ``max_output_len``, tokens)."""
    output_tokens_cv: Figure | None = None
    """Spread of the generated lengths over the dataset: standard deviation over mean (of the reference outputs)."""
    server_ttft_p99_s: Figure | None = None
    """Server scenario: limit on p99 time to first token (s)."""
    server_tpot_p99_s: Figure | None = None
    """Server scenario: limit on p99 time per output token (s)."""
    interactive_ttft_p99_s: Figure | None = None
    """Interactive scenario: limit on p99 time to first token (s)."""
    interactive_tpot_p99_s: Figure | None = None
    """Interactive scenario: limit on p99 time per output token (s)."""

    @model_validator(mode="after")
    def _mean_within_max(self) -> ServingBenchmark:
        for what in ("input", "output"):
            mean, most = getattr(self, f"{what}_tokens_mean").value, getattr(self, f"{what}_tokens_max").value
            if mean is not None and most is not None and mean > most:
                raise ValueError(f"{what}_tokens_mean must not exceed {what}_tokens_max")
        return self
