"""Catalog entries for the site around the hardware: cooling technologies, training storage, energy
sources, finance, IT overhead, the floor plan, and the defaults of fabric families and of links
between sites.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from stargate.catalog.entry import Confidence, Entry, Fraction, Id, Positive
from stargate.enums import Cooling, EnergyKind, Fabric
from stargate.units import Bytes, Bytes_per_s, Watts


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
