"""Inputs: what the user asks for, as typed, frozen pydantic models.

A :class:`DesignRequest` describes one cluster to size; a :class:`Scenario` is a named list of
phases, each a design request with a name and a year. Quantities accept SI numbers or strings
with units (``power_w: "5 GW"``). :func:`validate` turns pydantic's errors into the project's
one-line :class:`~stargate.errors.InputError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, model_validator

from stargate.enums import Cooling, Fabric, Topology
from stargate.errors import InputError
from stargate.inputs import (
    INPUT_CONFIG,
    MAX_BATCH,
    MAX_GPUS,
    MAX_POWER_W,
    MAX_SCALE_OUT_BITS_PER_S,
    MAX_SEQ_LEN,
    MAX_SITE_FIBER_PAIRS,
    MAX_USD,
    MIN_SCALE_OUT_BITS_PER_S,
    SITE_FIBER_PAIRS,
    allowed_text,
)
from stargate.units import Bits_per_s, Count, SeqLen, SiteDistance, Watts, parse_usd

if TYPE_CHECKING:
    from stargate.catalog import Catalog

__all__ = ["DesignRequest", "Phase", "Scenario", "ServingWorkload", "check_availability", "validate"]

Usd = Annotated[float, BeforeValidator(lambda v: parse_usd(v, "budget_usd")), Field(gt=0, le=MAX_USD)]
_CONFIG = INPUT_CONFIG



class EnergyShare(BaseModel):
    """One source's share of a phase's energy."""

    model_config = _CONFIG

    source: str
    """Energy source id from the catalog."""
    share: Annotated[float, Field(gt=0, le=1)]
    """Fraction of the phase's energy it supplies."""


class DesignRequest(BaseModel):
    """One cluster to design: an accelerator and exactly one way to size it.

    Examples
    --------
    >>> DesignRequest(accelerator="h100", gpus=1024).sizing
    'gpus'
    >>> DesignRequest(accelerator="gb200", power_w="5 GW").power_w
    5000000000.0
    """

    model_config = _CONFIG

    accelerator: str
    """Accelerator id or alias from the catalog (``gb200``, ``h100-sxm-80g``)."""
    gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)] | None = None
    """Size by accelerator count (rounded up to whole systems)."""
    budget_usd: Usd | None = None
    """Size by capital budget: the largest whole-system cluster whose capex fits (USD)."""
    power_w: Annotated[Watts, Field(le=MAX_POWER_W)] | None = None
    """Size by facility power cap: the largest cluster whose facility power fits (W)."""
    system: str | None = None
    """System id to buy the accelerators in; default: the accelerator's usual system."""
    fabric: Fabric = Fabric.INFINIBAND
    """Scale-out network family."""
    topology: Topology = Topology.RAIL_OPTIMIZED
    """Scale-out topology."""
    pod_gpus: Annotated[Count, Field(gt=0, le=MAX_GPUS)] | None = None
    """Non-blocking pod size of the scale-out fabric; ``taper`` applies above the pods."""
    scale_out_bits_per_s: Annotated[Bits_per_s, Field(ge=MIN_SCALE_OUT_BITS_PER_S, le=MAX_SCALE_OUT_BITS_PER_S)] | None = None
    """Scale-out line rate per GPU instead of the accelerator's usual one (bit/s; Microsoft's
    Fairwater gives each GB200 800 Gbit/s where NVIDIA's NVL72 reference has 400)."""
    taper: Annotated[float, Field(ge=1.0, le=64.0)] = 1.0
    """Down/up ratio above each pod (Meta's 24k H100 clusters: 7); needs ``pod_gpus``."""
    energy_source: str = "grid-us"
    """Energy source id that prices the electricity."""
    energy_mix: tuple[EnergyShare, ...] = ()
    """Energy sources and their shares; when given, it prices the electricity instead of ``energy_source``."""
    systems_per_rack: Annotated[int, Field(gt=0, le=1000)] | None = None
    """Systems per rack; default: the system's reference packing."""
    cooling: Cooling | None = None
    """Force a cooling technology; default: the cheapest whose rack limit fits."""
    storage: str = "default"
    """Storage provisioning id."""
    finance: str = "default"
    """Maintenance and depreciation assumptions id."""
    wacc_per_year: Annotated[float, Field(ge=0, le=0.5)] | None = None
    """Cost of capital (fraction per year) instead of the finance entry's WACC: ~0.08 for a
    hyperscaler, 0.10-0.15 for a neocloud; 0 gives straight-line depreciation."""
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    """Year the cluster is built: its parts must ship by then, and the fabric designer chooses
    among the switches on sale (default: none, any part; the fabric takes the accelerator's year)."""

    @model_validator(mode="after")
    def _one_sizing(self) -> DesignRequest:
        given = [k for k in ("gpus", "budget_usd", "power_w") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of gpus, budget_usd, power_w (got {', '.join(given) or 'none'})"
            )
        return self

    @model_validator(mode="after")
    def _mix_adds_up(self) -> DesignRequest:
        if self.energy_mix and abs(sum(e.share for e in self.energy_mix) - 1.0) > 1e-6:
            raise ValueError(f"energy_mix shares must add up to 1 (got {sum(e.share for e in self.energy_mix):g})")
        return self

    @property
    def mix(self) -> list[tuple[str, float]]:
        """The energy mix as ``(source id, share)`` pairs (``energy_source`` alone by default)."""
        return [(e.source, e.share) for e in self.energy_mix] or [(self.energy_source, 1.0)]

    @property
    def sizing(self) -> str:
        """Which sizing the request uses: ``gpus``, ``budget`` or ``power``."""
        if self.gpus is not None:
            return "gpus"
        return "budget" if self.budget_usd is not None else "power"


class Reported(BaseModel):
    """Figures the public reporting gives for a phase, kept to compare with the model's answer."""

    model_config = _CONFIG

    source: str = Field(min_length=3)
    """Where the figures were reported."""
    capex_usd: Usd | None = None
    """Reported cost of the phase (USD)."""
    gpus: Annotated[float, Field(gt=0, le=1e9)] | None = None
    """Reported number of accelerators."""
    power_w: Watts | None = None
    """Reported power (W)."""
    notes: str = ""
    """What exactly was reported (ranges, hedges)."""


class Phase(DesignRequest):
    """One phase of a build-out: a named, dated design request and what it should train."""

    name: str
    """Phase name, as the plan reports it."""
    year: Annotated[int, Field(ge=2000, le=2100)]
    """Year the phase comes online."""
    site: str = ""
    """Where the phase is built."""
    sites: Annotated[int, Field(ge=1, le=64)] = 1
    """Sites one training job spans (joined in a ring of fibre links)."""
    site_distance_m: SiteDistance = 100e3
    """Fibre route between adjacent sites (m; or a length such as ``"1500 km"``)."""
    site_fiber_pairs: Annotated[Count, Field(ge=1, le=MAX_SITE_FIBER_PAIRS)] = SITE_FIBER_PAIRS
    """Fibre pairs of each link between the sites (``fabric --fiber-pairs`` for one fabric)."""
    model: str = "llama3.1-405b"
    """Frontier-scale model on which the phase's MFU is predicted (preset or config.json)."""
    seq_len: Annotated[SeqLen, Field(gt=0, le=MAX_SEQ_LEN)] = 8192
    """Sequence length of that training run."""
    global_batch: Annotated[Count, Field(gt=0, le=MAX_BATCH)] = 2048
    """Global batch (sequences) of that training run."""
    precision: str = Field("bf16", pattern=r"^(bf16|fp16|fp8|mxfp8|nvfp4)$")
    """Matmul precision of that training run."""
    training_days: Annotated[float, Field(gt=0, le=36_500)] = 100.0
    """Training time for the largest compute-optimal model the phase can train."""
    hot_spare_fraction: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Share of the phase's GPUs kept idle as warm spares, so that a failed domain is replaced
    without waiting for repair; None sizes the pool from the failure rates (Little's law,
    :mod:`stargate.reliability.spares`), 0 keeps none (every restart then waits for a node to be
    provisioned). Spares do no training."""
    recovery: str | None = Field(None, min_length=1, max_length=64)
    """Recovery strategy the phase's jobs use (a catalog ``recovery`` id: ``storage-restart``,
    ``memory-restart``, ``elastic``); None lets the plan take the best."""
    reported: Reported | None = None
    """What the public reporting says about this phase."""
    serving_share: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Share of the phase's GPUs that serve the scenario's ``serving`` workload (rounded down to
    whole scale-up domains); the rest train, and the training figures use only them. None: the
    phase trains on all its GPUs, and its serving figures say what all of them would serve."""


class ServingWorkload(BaseModel):
    """The reference serving workload on which every phase's serving capacity is stated.

    The defaults are the built-in scenario's (``scenarios/stargate.yaml`` gives the reasons): a
    GPT-4-class mixture-of-experts model, 1,024 prompt and 1,024 generated tokens, 25 tokens/s per
    user and a 2 s time to first token, in fp8. Giving ``tpot_s`` drops the default ``tokens_per_user``.

    Examples
    --------
    >>> ServingWorkload().tokens_per_user, ServingWorkload(tpot_s=0.05).tokens_per_user
    (25.0, None)
    """

    model_config = _CONFIG

    model: str = Field("deepseek-v3", min_length=1, max_length=4096)
    """Model served (preset name or config.json path)."""
    input_tokens: Annotated[Count, Field(gt=0, le=MAX_SEQ_LEN)] = 1024
    """Mean prompt length (tokens)."""
    output_tokens: Annotated[Count, Field(gt=0, le=MAX_SEQ_LEN)] = 1024
    """Mean generated length (tokens)."""
    tokens_per_user: Annotated[float, Field(gt=0, le=10_000)] | None = 25.0
    """Interactivity: generated tokens per second each user sees (at the 99th percentile, the
    inverse of a TPOT limit); None: no limit."""
    tpot_s: Annotated[float, Field(gt=0, le=3600)] | None = None
    """Interactivity as a limit on the 99th-percentile time per output token (s), instead of ``tokens_per_user``."""
    ttft_s: Annotated[float, Field(gt=0, le=3600)] | None = 2.0
    """Limit on the 99th-percentile time to first token (s); None: no limit."""
    precision: Literal["bf16", "fp8", "fp4"] = "fp8"
    """Format of the served weights and activations; a phase whose accelerator has no matrix units
    for it serves at the next wider format it has (fp4, then fp8, then bf16), and says so."""

    @model_validator(mode="before")
    @classmethod
    def _tpot_replaces_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("tpot_s") is not None and "tokens_per_user" not in data:
            return {**data, "tokens_per_user": None}
        return data

    @model_validator(mode="after")
    def _one_interactivity(self) -> ServingWorkload:
        if self.tpot_s is not None and self.tokens_per_user is not None:
            raise ValueError("give the interactivity once: tokens_per_user or tpot_s, not both")
        return self


class Scenario(BaseModel):
    """A build-out: a named list of phases in year order."""

    model_config = _CONFIG

    name: str
    """Scenario name."""
    description: str = ""
    """What the scenario represents, with the sources of its reported figures."""
    decided_year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    """Year the plan is committed: power must be contracted from then on (lead-time warnings)."""
    reported_total_capex_usd: Usd | None = None
    """Reported cost of the whole build-out, to compare with the phases' total."""
    reported_total_source: str = ""
    """Where the total was reported."""
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]
    """Phases in year order."""
    serving: ServingWorkload = ServingWorkload()
    """Reference serving workload: every phase states what it serves of it (tokens per day, users,
    $ per million tokens)."""

    @model_validator(mode="after")
    def _years_in_order(self) -> Scenario:
        years = [p.year for p in self.phases]
        if years != sorted(years):
            raise ValueError(f"phase years must not decrease (got {years})")
        return self


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, origin: str = "") -> M:
    """Validate ``data`` into ``model``; the first problem becomes a one-line InputError.

    Examples
    --------
    >>> validate(DesignRequest, {"accelerator": "h100", "gpus": 8}).gpus
    8
    """
    try:
        return model.model_validate(data)
    except InputError:
        raise
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "input"
        if origin:
            loc = f"{origin}: {loc}"
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, InputError) and cause.field.startswith(f"{loc.rsplit(': ', 1)[-1]}."):
            loc = f"{origin}: {cause.field}" if origin else cause.field  # a validator named the field inside
        value = cause.value if isinstance(cause, InputError) else err.get("input")
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        raise InputError(loc, value, allowed_text(err)) from None


def check_availability(scenario: Scenario, catalog: Catalog) -> None:
    """Every phase uses parts that ship by its year, else a one-line :class:`InputError`.

    A part is available from its ``year`` in the catalog (first volume shipments); a system
    without a year of its own ships with its accelerator. The error names the phase and the
    field the scenario wrote (``accelerator``, or ``system`` when the system is the later part).

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> sc = Scenario(name="demo", phases=[{"name": "P1", "year": 2026, "accelerator": "rubin-ultra", "gpus": 144}])
    >>> check_availability(sc, Catalog.load())
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: scenario demo: phase 'P1'.accelerator: 'rubin-ultra' is not allowed; \
expected a part available by 2026, the phase's year (rubin-ultra-1tb ships from 2027)
    """
    for phase in scenario.phases:
        check_parts_by_year(phase, catalog, f"scenario {scenario.name}: phase '{phase.name}'.", "the phase's year")


def check_parts_by_year(request: DesignRequest, catalog: Catalog, where: str = "", what: str = "the build year") -> None:
    """The request's accelerator and system ship by its ``year`` (no year: any part), else a
    one-line :class:`InputError` naming the field as written, prefixed by ``where``.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> check_parts_by_year(DesignRequest(accelerator="h100", gpus=8, year=2024), Catalog.load())
    """
    if request.year is None:
        return
    try:
        acc = catalog.accelerator(request.accelerator)
        system = catalog.system(request.system or acc.default_system)
    except InputError as e:
        raise InputError(f"{where}{e.field}", e.value, e.allowed) from None
    parts = [("accelerator", request.accelerator, acc.id, acc.year)]
    parts.append(("system", request.system or system.id, system.id, system.year or acc.year))
    for field, written, part, year in parts:
        if year > request.year:
            raise InputError(f"{where}{field}", written,
                             f"a part available by {request.year}, {what} ({part} ships from {year})")