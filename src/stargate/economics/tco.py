"""Total cost of ownership per accelerator-hour.

Straight-line depreciation, no cost of capital: IT capex over the IT life, facility and power
infrastructure capex over the facility life, plus a year of opex, divided by the accelerator
hours in a year (every hour of every owned accelerator, busy or not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stargate.breakdown import Breakdown
from stargate.catalog.schema import Finance
from stargate.economics.capex import Capex
from stargate.economics.opex import HOURS_PER_YEAR, Opex

__all__ = ["Tco", "tco_usd_per_gpu_hour"]


@dataclass(frozen=True, slots=True)
class Tco(Breakdown):
    """Cost per accelerator-hour by category (USD per GPU-hour)."""

    it_depreciation: Any
    facility_depreciation: Any
    energy: Any
    maintenance: Any


def tco_usd_per_gpu_hour(capex: Capex, opex: Opex, gpus: Any, finance: Finance) -> Tco:
    """Yearly cost of owning and running the cluster, per accelerator-hour.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> fin = Catalog.load().finance()
    >>> c = Capex(8760.0 * fin.it_life_years, 0, 0, 0, 0, 0)
    >>> tco_usd_per_gpu_hour(c, Opex(0, 0, 0), 1, fin).it_depreciation
    1.0
    """
    hours = gpus * HOURS_PER_YEAR
    return Tco(
        it_depreciation=capex.it / finance.it_life_years / hours,
        facility_depreciation=capex.site / finance.facility_life_years / hours,
        energy=opex.energy / hours,
        maintenance=(opex.it_maintenance + opex.facility_maintenance) / hours,
    )
