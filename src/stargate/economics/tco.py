"""Total cost of ownership per accelerator-hour.

Capex is recovered as an annuity at the finance entry's weighted average cost of capital
(WACC) ``w`` over each asset's life ``n``: the capital-recovery factor

    CRF(w, n) = w (1 + w)^n / ((1 + w)^n - 1)        (CRF(0, n) = 1 / n)

(e.g. NREL, "Simple Levelized Cost of Energy" documentation; any engineering-economics text).
IT capex is recovered over the IT life, facility and power infrastructure over the facility
life. The yearly charge is split into straight-line depreciation (capex / life, the parts the
breakdown always had) and ``capital_cost``, the return the capital earns on top (the annuity
less depreciation). Opex is added, and the sum is divided by the accelerator-hours in a year
(every hour of every owned accelerator, busy or not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.breakdown import Breakdown
from stargate.catalog.schema import Finance
from stargate.economics.capex import Capex
from stargate.economics.opex import HOURS_PER_YEAR, Opex

__all__ = ["Tco", "capital_recovery_factor", "tco_usd_per_gpu_hour"]


@dataclass(frozen=True, slots=True)
class Tco(Breakdown):
    """Cost per accelerator-hour by category (USD per GPU-hour)."""

    it_depreciation: Any
    facility_depreciation: Any
    energy: Any
    maintenance: Any
    capital_cost: Any = 0.0
    """Return on the capital tied up in IT and site at the WACC: the annuity less straight-line depreciation."""


def capital_recovery_factor(wacc: Any, years: float) -> Any:
    """Yearly payment that repays 1 USD over ``years`` at interest ``wacc`` per year.

    Examples
    --------
    >>> round(capital_recovery_factor(0.10, 5), 4)
    0.2638
    >>> capital_recovery_factor(0.0, 4)
    0.25
    >>> capital_recovery_factor(5e-324, 4)  # a rate too small for 1 + rate to differ from 1: no division by zero
    0.25
    """
    if np.ndim(wacc):  # one rate per sample: each through the scalar formula, so a sample at the point is the point
        return np.array([capital_recovery_factor(float(w), years) for w in np.ravel(wacc)]).reshape(np.shape(wacc))
    if wacc == 0:
        return 1.0 / years
    # wacc / (1 - (1 + wacc)^-years), with log1p/expm1 so that a tiny rate keeps its digits
    return wacc / -math.expm1(-years * math.log1p(wacc))


def tco_usd_per_gpu_hour(capex: Capex, opex: Opex, gpus: Any, finance: Finance) -> Tco:
    """Yearly cost of owning and running the cluster, per accelerator-hour.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> fin = Catalog.load().finance()
    >>> c = Capex(8760.0 * fin.it_life_years, 0, 0, 0, 0, 0)
    >>> t = tco_usd_per_gpu_hour(c, Opex(0, 0, 0), 1, fin)
    >>> t.it_depreciation
    1.0
    >>> round(t.it_depreciation + t.capital_cost, 4) == round(fin.it_life_years * capital_recovery_factor(
    ...     fin.wacc_per_year, fin.it_life_years), 4)
    True
    """
    hours = gpus * HOURS_PER_YEAR
    w = finance.wacc_per_year
    it_dep = capex.it / finance.it_life_years
    site_dep = capex.site / finance.facility_life_years
    # The return on capital: the annuity less straight-line depreciation (exactly 0 at w = 0).
    it_return = capex.it * (capital_recovery_factor(w, finance.it_life_years) - 1.0 / finance.it_life_years)
    site_return = capex.site * (capital_recovery_factor(w, finance.facility_life_years) - 1.0 / finance.facility_life_years)
    return Tco(
        it_depreciation=it_dep / hours,
        facility_depreciation=site_dep / hours,
        energy=opex.energy / hours,
        maintenance=(opex.it_maintenance + opex.facility_maintenance) / hours,
        capital_cost=(it_return + site_return) / hours,
    )
