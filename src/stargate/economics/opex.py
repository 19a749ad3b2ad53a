"""Operating cost per year: energy at the source's price, and maintenance.

Energy is the typical IT power times the annual PUE over a year of 8,760 hours, at the energy
source's delivered price (for an on-site plant the campus owns, fuel plus O&M: its capital is in
capex). Maintenance is a yearly fraction of IT capex (support contracts, spares,
repairs) plus a yearly fraction of facility capex (operations and upkeep of the building and
its power and cooling plant), both from the catalog's ``finance`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stargate.breakdown import Breakdown
from stargate.catalog.schema import EnergySource, Finance
from stargate.economics.capex import Capex

__all__ = ["HOURS_PER_YEAR", "Opex", "energy_mwh_per_year", "opex_usd_per_year"]

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, slots=True)
class Opex(Breakdown):
    """Operating cost per year by category (USD/year)."""

    energy: Any
    it_maintenance: Any
    facility_maintenance: Any


def energy_mwh_per_year(typical_facility_power_w: Any) -> Any:
    """Energy drawn in a year at a constant average facility power (MWh).

    Examples
    --------
    >>> energy_mwh_per_year(1e6)
    8760.0
    """
    return typical_facility_power_w * HOURS_PER_YEAR / 1e6


def opex_usd_per_year(typical_facility_power_w: Any, energy: EnergySource, capex: Capex, finance: Finance) -> Opex:
    """Yearly operating cost.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> cat = Catalog.load()
    >>> c = Capex(0, 0, 0, 0, 0, 0)
    >>> round(opex_usd_per_year(1e6, cat.energy_source("grid-us"), c, cat.finance()).energy)
    706056
    """
    return Opex(
        energy=energy_mwh_per_year(typical_facility_power_w) * energy.price_usd_per_mwh,
        it_maintenance=capex.it * finance.it_maintenance_fraction_per_year,
        facility_maintenance=capex.site * finance.facility_maintenance_fraction_per_year,
    )
