"""Schema of the hardware, facility and energy catalog.

Every entry is a frozen pydantic model. Quantities are plain floats in SI base units and the
field name carries the unit (``tdp_w``, ``hbm_bytes``); a user's catalog file may also write
them as quantity strings (``"700 W"``, ``"80 GiB"``, ``"400 Gbit/s"``), which
:mod:`stargate.units` converts at load time. Every entry carries the ``source`` and ``date``
of its numbers; numbers that come from a different source than the entry's main one (prices,
above all) carry their own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stargate.catalog.bands import FieldClass, SourcedBand, check_bands
from stargate.enums import Cooling, EnergyKind, Fabric, MediaKind, Precision
from stargate.inputs import INPUT_CONFIG, MAX_CATALOG_INT, MAX_CATALOG_NUMBER
from stargate.units import Bits_per_s, Bytes, Bytes_per_s, Flop_per_s, Watts

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=64)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class Entry(BaseModel):
    """Fields shared by every catalog entry: identity and provenance."""

    model_config = INPUT_CONFIG

    id: Id
    """Canonical identifier, lower case (``h100-sxm-80g``)."""
    name: str
    """Human-readable name."""
    source: str = Field(min_length=3)
    """Where the entry's numbers come from: document, page or paper, enough to find it again."""
    date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """Date of the source (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    notes: str = ""
    """Caveats: what is derived, estimated, or disputed."""
    confidence: Literal["high", "medium", "low"] | None = None
    """How far the entry's numbers can be trusted: ``high`` (vendor datasheet or documentation),
    ``medium`` (vendor announcement or several consistent reports), ``low`` (estimates, unreleased
    parts, single third-party reports). Unset on entries not yet graded."""
    bands: dict[str, SourcedBand] = {}
    """Sourced lows and highs (P10, P90) of the numbers on which sources disagree, by field name
    (``field.key`` for a number in a mapping, ``peak_flops_per_s.bf16``); each contains the entry's value."""
    field_confidence: dict[str, FieldClass] = {}
    """Confidence class of a numeric field where it differs from the entry's grade (``datasheet``,
    ``vendor``, ``estimate``, ``assumption``; half-widths in ``stargate.uncertainty.bands.CLASSES``)."""

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        """Every number of an entry within bounds (:data:`~stargate.inputs.MAX_CATALOG_NUMBER`)."""
        for v in value.values() if isinstance(value, dict) else (value if isinstance(value, tuple) else (value,)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            limit = MAX_CATALOG_INT if isinstance(v, int) else MAX_CATALOG_NUMBER
            if abs(v) > limit:
                raise ValueError(f"a number of magnitude at most {limit:.0e}")
        return value

    @model_validator(mode="after")
    def _bands_fit(self) -> Entry:
        check_bands(self)
        return self

    def __hash__(self) -> int:
        """Hash of the entry's numbers without its bands (mappings), so that an entry without other
        mappings stays usable as a cache key; equal entries still hash equal."""
        return hash(tuple(v for k, v in self.__dict__.items() if k not in ("bands", "field_confidence")))


class Priced(Entry):
    """An entry with a price estimate that has its own provenance."""

    price_usd: Positive
    """Price estimate in US dollars (no vendor publishes list prices; these are estimates)."""
    price_source: str = Field(min_length=3)
    """Where the price estimate comes from, or how it was derived."""
    price_date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """Date of the price source."""


class Accelerator(Priced):
    """One accelerator chip (GPU, TPU, or other AI accelerator)."""

    aliases: tuple[str, ...] = ()
    """Short names that resolve to this entry (``h100``)."""
    vendor: str
    """Chip vendor."""
    year: int = Field(ge=2010, le=2040)
    """Year of first volume availability (first volume shipments): a scenario phase before it cannot use the chip."""
    peak_flops_per_s: dict[Precision, Flop_per_s]
    """Dense peak FLOP/s of the matrix units per precision (no 2:4 sparsity)."""
    hbm_bytes: Bytes
    """HBM capacity as the vendor states it (bytes, SI)."""
    hbm_usable_bytes: Bytes | None = None
    """HBM capacity visible to software where it differs from ``hbm_bytes``."""
    hbm_bw_bytes_per_s: Bytes_per_s
    """HBM bandwidth (bytes/s)."""
    tdp_w: Watts
    """Board power of the chip (W)."""
    scale_up_tech: str
    """Scale-up interconnect (NVLink4, ICI, Infinity Fabric, ...)."""
    scale_up: Id
    """Id of the scale-up technology entry (``scale_up`` section): latency, efficiency, topology."""
    scale_up_bw_bytes_per_s_bidir: Bytes_per_s
    """Scale-up bandwidth per chip, both directions added (bytes/s)."""
    scale_up_domain: int = Field(ge=1)
    """Chips in one scale-up domain (8 for an HGX board, 72 for an NVL72 rack)."""
    scale_out_bw_bits_per_s: Bits_per_s
    """Typical scale-out (NIC) line rate per chip, one direction (bit/s)."""
    default_system: Id
    """Id of the system (server or rack) this chip is usually bought in."""
    estimated_fields: tuple[str, ...] = ()
    """Fields whose value is derived or estimated rather than published; ``notes`` explains."""
    achieved_matmul_fraction: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    """Share of the dense datasheet peak the chip's own GEMM libraries reach on large shapes, where
    measured. A chip without kernel tables borrows another chip's; with this figure its compute is
    scaled by measured, not datasheet, throughput (``achieved_source`` says where it comes from)."""
    achieved_hbm_fraction: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    """Share of the datasheet HBM bandwidth a streaming kernel reaches, where measured (as above)."""
    achieved_source: str = ""
    """Where the achieved fractions come from."""

    @model_validator(mode="after")
    def _has_16bit_peak(self) -> Accelerator:
        if Precision.BF16 not in self.peak_flops_per_s and Precision.FP16 not in self.peak_flops_per_s:
            raise ValueError("peak_flops_per_s needs a bf16 or fp16 entry")
        return self

    @property
    def peak_16bit_flops_per_s(self) -> float:
        """Dense 16-bit peak: bf16 where the chip has it, else fp16."""
        p = self.peak_flops_per_s
        return p.get(Precision.BF16, p.get(Precision.FP16, 0.0))


class System(Priced):
    """The unit that is bought and racked: an 8-GPU server or a whole NVL72 rack."""

    vendor: str
    """System vendor or platform owner."""
    accelerator: Id
    """Id of the accelerator the system holds."""
    gpus_per_system: int = Field(ge=1)
    """Accelerators per system."""
    power_max_w: Watts
    """Maximum (nameplate) power of one system; capacity is planned on it (W)."""
    power_typical_w: Watts
    """Typical power under training load; energy is billed on it (W)."""
    power_peak_measured_w: Watts | None = None
    """Highest power one system was measured to draw while training (W), where a measurement is
    published. The site's grid connection (facility power) is sized on it; critical IT capacity,
    rack power and the halls' construction stay at the nameplate ``power_max_w``. Default: the
    nameplate."""
    rack_units: int = Field(ge=1)
    """Height of one system in rack units (a whole-rack system gives the rack height)."""
    systems_per_rack: int = Field(ge=1)
    """Systems per rack in the vendor's reference design."""
    cooling_required: Cooling
    """Least capable cooling technology the system supports."""
    year: int | None = Field(None, ge=2010, le=2040)
    """Year of first volume shipments of the system; default: its accelerator's year."""
    rest_of_system_usd: Annotated[float, Field(ge=0)]
    """Price of everything in the system but its accelerators (USD): CPUs, memory, boards,
    NVLink switches, chassis, in-rack power and cooling parts."""
    price_usd: Positive
    """Price of the whole system (USD): its accelerators at their catalog price plus
    ``rest_of_system_usd``. The catalog derives it, so a new chip price re-prices the system; a
    file may give it instead of ``rest_of_system_usd``, which is then the price less the chips."""

    @model_validator(mode="after")
    def _typical_below_max(self) -> System:
        if self.power_typical_w > self.power_max_w:
            raise ValueError("power_typical_w must not exceed power_max_w")
        peak = self.power_peak_measured_w
        if peak is not None and not self.power_typical_w <= peak <= self.power_max_w:
            raise ValueError("power_peak_measured_w must lie between power_typical_w and power_max_w")
        return self

    @property
    def power_peak_w(self) -> float:
        """Peak draw under training: the measured peak where published, else the nameplate (W)."""
        return self.power_max_w if self.power_peak_measured_w is None else self.power_peak_measured_w


Confidence = Literal["high", "medium", "low"]
"""How far a number can be trusted: ``high`` = vendor, company or paper; ``medium`` = reputable
analyst or press; ``low`` = secondary source or an estimate derived here."""


class CoolingTech(Entry):
    """A rack cooling technology and what a facility built for it costs and spends.

    A site is sized on its design (peak) PUE: the power it must be able to take on the hottest
    hour at full IT load. Its energy is billed on the annual PUE (``pue``), the year's average.
    """

    id: Cooling
    rack_limit_w: Watts
    """Highest rack power the technology removes (W)."""
    build_cost_usd_per_w: Positive
    """Facility construction cost per watt of critical IT capacity (USD/W, i.e. $M/MW)."""
    pue: Annotated[float, Field(ge=1.0, le=3.0)]
    """Annual (energy-weighted) power usage effectiveness: facility energy / IT energy over a year."""
    design_pue: Annotated[float, Field(ge=1.0, le=3.0)] | None = None
    """Design (peak) PUE: facility power / IT power at full load on a design day; the facility
    power a site must be built for. Defaults to ``pue`` when not given."""
    dc_distribution_v: Annotated[float, Field(gt=0, le=1500)] | None = None
    """Voltage of DC power distribution to the racks where the technology comes with it (800 V DC)."""
    confidence: Confidence | None = None
    """Confidence in the entry's numbers."""

    @model_validator(mode="after")
    def _design_at_least_annual(self) -> CoolingTech:
        if self.design_pue is not None and self.design_pue < self.pue:
            raise ValueError("design_pue must not be below the annual pue")
        return self

    @property
    def peak_pue(self) -> float:
        """The PUE facility power is sized on: ``design_pue``, else the annual ``pue``."""
        return self.design_pue if self.design_pue is not None else self.pue


class Storage(Entry):
    """Training storage provisioned per accelerator."""

    capacity_bytes_per_gpu: Bytes
    """Usable capacity per accelerator (bytes)."""
    write_bw_bytes_per_s_per_gpu: Bytes_per_s
    """Sustained aggregate write bandwidth per accelerator (bytes/s)."""
    price_usd_per_tb: Positive
    """Installed price per terabyte (10^12 bytes) of usable capacity (USD/TB)."""
    power_w_per_tb: Positive
    """Power per terabyte of usable capacity, servers and drives included (W/TB)."""


class EnergySource(Entry):
    """A source of power for the campus."""

    kind: EnergyKind
    """Grid, gas, nuclear restart, small modular reactor, solar plus storage."""
    region: str = ""
    """Region where the price applies, where the source gives one."""
    price_usd_per_mwh: Positive
    """Delivered energy price (USD/MWh)."""
    carbon_kg_per_mwh: Annotated[float, Field(ge=0)]
    """Carbon intensity (kg CO2e per MWh, i.e. g/kWh)."""
    lead_time_years: Annotated[float, Field(ge=0)]
    """Typical years from commitment to delivered power."""
    infra_capex_usd_per_w: Annotated[float, Field(ge=0)]
    """What the campus itself builds to take the power (substation, interconnect, or an
    on-site plant), per watt of facility power (USD/W)."""
    on_site: bool = False
    """Whether the campus owns the plant (behind the meter): its capital is then in
    ``infra_capex_usd_per_w`` and the energy price is fuel plus O&M only."""
    heat_rate_btu_per_kwh: Annotated[float, Field(gt=3000, lt=20000)] | None = None
    """Fuel burned per kWh generated (Btu/kWh), for a fuelled on-site plant."""
    fuel_usd_per_mmbtu: Annotated[float, Field(gt=0, lt=100)] | None = None
    """Fuel price (USD per million Btu), for a fuelled on-site plant."""
    om_usd_per_mwh: Annotated[float, Field(ge=0, lt=200)] | None = None
    """Operations and maintenance of an on-site plant per MWh generated (fixed O&M spread over
    the year's output plus variable O&M)."""
    confidence: Confidence | None = None
    """Confidence in the entry's numbers."""

    @model_validator(mode="after")
    def _fuel_price_adds_up(self) -> EnergySource:
        parts = (self.heat_rate_btu_per_kwh, self.fuel_usd_per_mmbtu, self.om_usd_per_mwh)
        if any(p is not None for p in parts):
            if any(p is None for p in parts):
                raise ValueError("heat_rate_btu_per_kwh, fuel_usd_per_mmbtu and om_usd_per_mwh go together")
            expected = self.fuel_cost_usd_per_mwh + self.om_usd_per_mwh  # type: ignore[operator]
            if abs(self.price_usd_per_mwh - expected) > 0.02 * expected:
                raise ValueError(f"price_usd_per_mwh must be fuel + O&M = {expected:.1f} USD/MWh for an on-site plant")
        return self

    @property
    def fuel_cost_usd_per_mwh(self) -> float:
        """Fuel cost per MWh generated: heat rate (Btu/kWh) x fuel price (USD/MMBtu) / 1000; 0 without fuel."""
        if self.heat_rate_btu_per_kwh is None or self.fuel_usd_per_mmbtu is None:
            return 0.0
        return self.heat_rate_btu_per_kwh * self.fuel_usd_per_mmbtu / 1000.0


class Finance(Entry):
    """Maintenance rates and depreciation periods used for opex and TCO."""

    it_maintenance_fraction_per_year: Fraction
    """Yearly IT maintenance and support, as a fraction of IT capex."""
    facility_maintenance_fraction_per_year: Fraction
    """Yearly facility operations and maintenance, as a fraction of facility capex."""
    it_life_years: Positive
    """Depreciation period of servers, network and storage (years)."""
    facility_life_years: Positive
    """Depreciation period of the building and power infrastructure (years)."""
    wacc_per_year: Annotated[float, Field(ge=0, le=0.5)] = 0.0
    """Weighted average cost of capital (fraction per year): capex is recovered as an annuity
    at this rate over each asset's life (0 = straight-line depreciation, no cost of capital)."""
    owner_costs_fraction_of_build: Annotated[float, Field(ge=0, le=0.5)] = 0.0
    """Owner's costs on top of the facility's construction cost per watt (design, permits,
    commissioning, insurance, owner-held contingency), as a fraction of it: construction cost
    guides quote hard costs only."""
    confidence: Confidence | None = None
    """Confidence in the entry's numbers."""


class ItOverhead(Entry):
    """IT that is neither accelerator systems, scale-out fabric nor training storage."""

    support_fraction_of_systems: Annotated[float, Field(ge=0, le=1)]
    """CPU, management and service IT (head and control-plane nodes, schedulers, data
    preparation, out-of-band network) as a fraction of the accelerator systems' power."""
    confidence: Confidence | None = None
    """Confidence in the entry's numbers."""


class Switch(Priced):
    """A scale-out switch (one box; a chassis counts as one)."""

    vendor: str
    """Switch vendor."""
    fabric: Fabric
    """Fabric family it serves."""
    year: int = Field(ge=2010, le=2040)
    """Year of first shipment."""
    capacity_bits_per_s: Bits_per_s
    """Switching capacity, one direction (bit/s): ports x port speed."""
    port_speeds_bits_per_s: tuple[Bits_per_s, ...] = Field(min_length=1)
    """Port speeds the switch can run (by breakout); its radix at a speed is capacity / speed."""
    power_w: Watts
    """Typical power of the switch without its optics (W)."""
    latency_s: Annotated[float, Field(gt=0)]
    """Port-to-port latency (s)."""
    in_network_reduction: bool = False
    """Whether the switch reduces data in the network (SHARP-class) for all-reduce."""
    max_ports: int | None = Field(None, ge=1, le=4096)
    """Most logical ports the box exposes by breakout (its cages x lanes per cage); the radix at a
    speed is ``min(capacity / speed, max_ports)``. None: capacity / speed at every listed speed."""
    optics: str = Field("pluggable", pattern=r"^(pluggable|cpo)$")
    """Switch-side optics: pluggable cages, or co-packaged optical engines (``cpo`` media only)."""


class Nic(Priced):
    """A scale-out network adapter: one per accelerator; a multi-plane fabric splits its ports
    into the planes by breakout media."""

    vendor: str
    """NIC vendor."""
    fabrics: tuple[Fabric, ...] = Field(min_length=1)
    """Fabric families the NIC speaks."""
    speed_bits_per_s: Bits_per_s
    """Line rate of the adapter, one direction (bit/s)."""
    power_w: Watts
    """Typical power of the adapter without its optics (W)."""


class Media(Priced):
    """A link medium: a cable assembly (DAC, AEC, AOC) or a pluggable or co-packaged optic.

    ``price_usd`` and ``power_w`` are per *end* for transceivers (one module), and per cable
    assembly (both ends) for cables. A twin-port module serves ``links_per_end`` links.
    """

    kind: MediaKind
    """Cable or optic family."""
    speed_bits_per_s: Bits_per_s
    """Total rate of one end (bit/s): 800 Gbit/s for a twin-port 2x400G module."""
    links_per_end: int = Field(ge=1, le=8)
    """Links one end serves (2 for a twin-port module or a 1-to-2 splitter cable)."""
    lanes: int | None = Field(None, ge=1, le=16)
    """Electrical/optical lanes of one end; it breaks out into up to this many slower links (an
    800G DR8 module serves 4 x 200G or 8 x 100G links). None: no breakout beyond ``links_per_end``."""
    reach_m: Annotated[float, Field(gt=0)]
    """Longest supported link (m)."""
    power_w: Annotated[float, Field(ge=0)]
    """Power per module (transceiver) or per cable assembly (cable), in W."""
    propagation_s_per_m: Annotated[float, Field(gt=0)]
    """Signal propagation delay (s/m): ~4.5 ns/m in copper, ~5 ns/m in fibre."""

    @property
    def is_cable(self) -> bool:
        """Cable assemblies carry both ends; transceivers are bought per end plus fibre."""
        return self.kind in (MediaKind.DAC, MediaKind.AEC, MediaKind.AOC)


class ScaleUpTech(Entry):
    """A scale-up interconnect family (NVLink generation, ICI, Infinity Fabric, ...)."""

    topology: str = Field(pattern=r"^(switched|torus|mesh)$")
    """How the chips of a domain are joined: through switches, as a torus, or as a full mesh."""
    latency_s: Annotated[float, Field(gt=0)]
    """Latency of one step of a collective inside the domain (s)."""
    link_efficiency: Fraction
    """Fraction of the per-direction bandwidth a large collective achieves inside the domain."""
    in_network_reduction: bool = False
    """Whether the domain's switches reduce data themselves (NVLink SHARP, NVLS)."""


class FloorPlan(Entry):
    """How racks stand in the hall: sets the cable lengths, and so copper or optics per tier."""

    rack_width_m: Positive
    """Width of one rack (m)."""
    row_pitch_m: Positive
    """Distance between the centres of adjacent rows, aisle included (m)."""
    racks_per_row: int = Field(ge=1)
    """Racks in one row."""
    slack_m: Annotated[float, Field(ge=0)]
    """Length every cable between racks adds to the straight distance: up to the tray, down, loops (m)."""
    in_rack_m: Annotated[float, Field(gt=0)]
    """Length of a cable that stays inside one rack (m)."""
    fiber_usd_per_m: Annotated[float, Field(ge=0)]
    """Installed structured fibre per metre of link, for transceiver links (USD/m)."""


class FabricDefaults(Entry):
    """Which switch and NIC a fabric family uses by default, per per-plane port speed."""

    id: Fabric
    switch_by_speed: dict[str, Id]
    """Port speed in Gbit/s (as a string key, "400") -> default switch id."""
    nic_by_speed: dict[str, Id]
    """Per-GPU line rate in Gbit/s -> default NIC id."""
    switches: tuple[Id, ...] = ()
    """Switches the designer may choose among by cost at equal per-GPU bandwidth (with the
    defaults); each only for accelerators that ship no earlier than it."""
    collective_latency_s: Annotated[float, Field(gt=0)]
    """Software latency of one step of a collective across the fabric (NCCL-class; s)."""
    link_efficiency: Fraction
    """Fraction of line rate a large collective achieves on one link (protocol overheads)."""


class WanOptic(Priced):
    """A coherent DWDM optic carrying one wavelength between sites (per end)."""

    rate_bits_per_s: Bits_per_s
    """Line rate of one wavelength (bit/s)."""
    reach_m: Annotated[float, Field(gt=0)]
    """Longest amplified route the optic's signal crosses without regeneration (m); a longer link
    regenerates every wavelength (two optics back to back) at least every ``reach_m``."""
    power_w: Annotated[float, Field(ge=0)]
    """Power of one end (W)."""
    channel_spacing_hz: Annotated[float, Field(gt=0)]
    """Optical spectrum one wavelength occupies on the DWDM grid (Hz)."""


class WanDefaults(Entry):
    """Fibre and line-system assumptions for links between sites."""

    spectrum_hz_per_fiber_pair: Annotated[float, Field(gt=0)]
    """Usable DWDM spectrum of one fibre pair (Hz): channels = spectrum / channel spacing."""
    fiber_pair_usd_per_m: Annotated[float, Field(ge=0)]
    """Cost of one fibre pair per metre of route, built or leased for the life of the link (USD/m)."""
    amplifier_spacing_m: Annotated[float, Field(gt=0)]
    """Longest fibre span between amplifiers (m): a route of ``d`` metres has
    ``ceil(d / spacing) - 1`` in-line amplifier (ILA) sites."""
    amplifier_usd_per_fiber_pair: Annotated[float, Field(ge=0)]
    """One in-line amplifier site's cost per fibre pair it amplifies, both directions, its share
    of the hut included (USD)."""
    regenerator_latency_s: Annotated[float, Field(ge=0)] = 0.0
    """Latency one optical-electrical-optical regeneration adds: a receiver's and a transmitter's
    DSP and FEC (s)."""
    propagation_s_per_m: Annotated[float, Field(gt=0)]
    """Propagation delay in fibre (s/m): about 5 microseconds per km."""
    latency_s: Annotated[float, Field(ge=0)]
    """Fixed latency per collective step across sites beyond propagation: switching, DSP, software (s)."""
    link_efficiency: Fraction
    """Fraction of the wavelengths' line rate a bulk transfer achieves."""


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
    prediction_interval: dict[str, tuple[float, float]] = {}
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


class CatalogData(BaseModel):
    """A whole catalog, or a user's overlay file with any subset of its sections."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    accelerators: tuple[Accelerator, ...] = ()
    systems: tuple[System, ...] = ()
    cooling: tuple[CoolingTech, ...] = ()
    storage: tuple[Storage, ...] = ()
    energy_sources: tuple[EnergySource, ...] = ()
    finance: tuple[Finance, ...] = ()
    it_overhead: tuple[ItOverhead, ...] = ()
    switches: tuple[Switch, ...] = ()
    nics: tuple[Nic, ...] = ()
    media: tuple[Media, ...] = ()
    floor_plans: tuple[FloorPlan, ...] = ()
    fabrics: tuple[FabricDefaults, ...] = ()
    scale_up: tuple[ScaleUpTech, ...] = ()
    wan_optics: tuple[WanOptic, ...] = ()
    wan: tuple[WanDefaults, ...] = ()
    training: tuple[TrainingDefaults, ...] = ()
    failure_rates: tuple[FailureRate, ...] = ()
    recovery: tuple[Recovery, ...] = ()
    spares: tuple[Spares, ...] = ()
    serving_benchmarks: tuple[ServingBenchmark, ...] = ()


KINDS: dict[str, type[Entry]] = {
    "accelerators": Accelerator,
    "systems": System,
    "cooling": CoolingTech,
    "storage": Storage,
    "energy_sources": EnergySource,
    "finance": Finance,
    "it_overhead": ItOverhead,
    "switches": Switch,
    "nics": Nic,
    "media": Media,
    "floor_plans": FloorPlan,
    "fabrics": FabricDefaults,
    "scale_up": ScaleUpTech,
    "wan_optics": WanOptic,
    "wan": WanDefaults,
    "training": TrainingDefaults,
    "failure_rates": FailureRate,
    "recovery": Recovery,
    "spares": Spares,
    "serving_benchmarks": ServingBenchmark,
}
"""Catalog sections and the model of their entries."""
