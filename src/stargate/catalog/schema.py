"""Schema of the hardware, facility and energy catalog.

Every entry is a frozen pydantic model. Quantities are plain floats in SI base units and the
field name carries the unit (``tdp_w``, ``hbm_bytes``); a user's catalog file may also write
them as quantity strings (``"700 W"``, ``"80 GiB"``, ``"400 Gbit/s"``), which
:mod:`stargate.units` converts at load time. Every entry carries the ``source`` and ``date``
of its numbers; numbers that come from a different source than the entry's main one (prices,
above all) carry their own.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stargate.enums import Cooling, EnergyKind, Fabric, Precision
from stargate.units import Bits_per_s, Bytes, Bytes_per_s, Flop_per_s, Watts

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=64)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class Entry(BaseModel):
    """Fields shared by every catalog entry: identity and provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

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
    """Year of first volume availability."""
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
    rack_units: int = Field(ge=1)
    """Height of one system in rack units (a whole-rack system gives the rack height)."""
    systems_per_rack: int = Field(ge=1)
    """Systems per rack in the vendor's reference design."""
    cooling_required: Cooling
    """Least capable cooling technology the system supports."""

    @model_validator(mode="after")
    def _typical_below_max(self) -> System:
        if self.power_typical_w > self.power_max_w:
            raise ValueError("power_typical_w must not exceed power_max_w")
        return self


class CoolingTech(Entry):
    """A rack cooling technology and what a facility built for it costs and spends."""

    id: Cooling
    rack_limit_w: Watts
    """Highest rack power the technology removes (W)."""
    build_cost_usd_per_w: Positive
    """Facility construction cost per watt of critical IT capacity (USD/W, i.e. $M/MW)."""
    pue: Annotated[float, Field(ge=1.0, le=3.0)]
    """Power usage effectiveness: facility power / IT power."""


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


class NetworkEstimate(Entry):
    """Per-GPU scale-out network cost and power, before a topology is modelled."""

    id: Fabric
    capex_usd_per_gbps: Positive
    """Network capex (NICs, switches, optics, cables) per Gbit/s of per-GPU scale-out rate."""
    power_w_per_gbps: Positive
    """Network power (NICs, switches, optics) per Gbit/s of per-GPU scale-out rate."""


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


class CatalogData(BaseModel):
    """A whole catalog, or a user's overlay file with any subset of its sections."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    accelerators: tuple[Accelerator, ...] = ()
    systems: tuple[System, ...] = ()
    cooling: tuple[CoolingTech, ...] = ()
    storage: tuple[Storage, ...] = ()
    network_estimates: tuple[NetworkEstimate, ...] = ()
    energy_sources: tuple[EnergySource, ...] = ()
    finance: tuple[Finance, ...] = ()


KINDS: dict[str, type[Entry]] = {
    "accelerators": Accelerator,
    "systems": System,
    "cooling": CoolingTech,
    "storage": Storage,
    "network_estimates": NetworkEstimate,
    "energy_sources": EnergySource,
    "finance": Finance,
}
"""Catalog sections and the model of their entries."""
