"""Catalog entries for the hardware that is bought: accelerators, the systems that hold them,
scale-out switches, NICs and link media, scale-up interconnects, and the DWDM optics between sites.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from stargate.catalog.entry import Entry, Fraction, Id, Positive, Priced
from stargate.enums import Cooling, Fabric, MediaKind, Precision
from stargate.units import Bits_per_s, Bytes, Bytes_per_s, Flop_per_s, Watts


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
    same_die_as: Id | None = None
    """Catalog id of the part built on the same silicon at the die's full power (the H100 NVL's: the H100 SXM);
    a part with less board power per datasheet FLOP than it runs its compute-bound work at a lower clock
    (:func:`stargate.kernels.source.power_clock_factor`). None: the chip's own datasheet peak is sustained."""

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
