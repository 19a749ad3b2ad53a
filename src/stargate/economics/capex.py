"""Capital cost of a cluster, by category.

- accelerators: the chips, at the catalog's per-chip estimate;
- rest_of_servers: the systems' price less their chips (CPUs, memory, boards, NVLink
  switches, chassis, in-rack power and cooling parts);
- network: the scale-out fabric (NICs, switches, optics, cables);
- storage: training storage at its installed price per TB;
- facility: construction per watt of critical IT capacity, by cooling technology
  (Cushman & Wakefield's cost per MW of critical load is the basis; see the catalog), plus the
  owner's costs that guide leaves out (design, permits, commissioning, contingency);
- power_infrastructure: what the campus builds to take its power (substation and
  interconnect, or an on-site plant), per watt of facility power.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stargate.breakdown import Breakdown
from stargate.catalog.schema import Accelerator, CoolingTech, EnergySource, System

__all__ = ["Capex", "capex_usd"]


@dataclass(frozen=True, slots=True)
class Capex(Breakdown):
    """Capital cost by category (USD)."""

    accelerators: Any
    rest_of_servers: Any
    network: Any
    storage: Any
    facility: Any
    power_infrastructure: Any

    @property
    def it(self) -> Any:
        """IT equipment: what depreciates over the IT life."""
        return self.accelerators + self.rest_of_servers + self.network + self.storage

    @property
    def site(self) -> Any:
        """Building and power infrastructure: what depreciates over the facility life."""
        return self.facility + self.power_infrastructure


def capex_usd(
    n_systems: Any,
    system: System,
    accelerator: Accelerator,
    network_usd: Any,
    storage_usd_per_gpu: float,
    it_power_w: Any,
    facility_power_w: Any,
    cooling: CoolingTech,
    energy: EnergySource,
    owner_costs_fraction: float = 0.0,
) -> Capex:
    """Capex of ``n_systems`` systems; works on numpy arrays of candidates too.

    Parameters
    ----------
    network_usd : float or ndarray
        Capex of the whole scale-out fabric.
    storage_usd_per_gpu : float
        Storage capex per accelerator.
    it_power_w, facility_power_w : float or ndarray
        Design IT power and facility power of the cluster.
    owner_costs_fraction : float
        Owner's (soft) costs as a fraction of the facility's construction cost.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> cat = Catalog.load()
    >>> c = capex_usd(1, cat.system("dgx-h100"), cat.accelerator("h100"), 0.0, 0.0, 0.0, 0.0,
    ...               cat.cooling("air"), cat.energy_source("grid-us"))
    >>> c.total == cat.system("dgx-h100").price_usd
    True
    """
    gpus = n_systems * system.gpus_per_system
    chips = gpus * accelerator.price_usd
    return Capex(
        accelerators=chips,
        rest_of_servers=n_systems * system.rest_of_system_usd,
        network=network_usd,
        storage=gpus * storage_usd_per_gpu,
        facility=it_power_w * cooling.build_cost_usd_per_w * (1.0 + owner_costs_fraction),
        power_infrastructure=facility_power_w * energy.infra_capex_usd_per_w,
    )
