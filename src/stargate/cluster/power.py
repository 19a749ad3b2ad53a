"""IT power of a cluster, split by what draws it.

Capacity is planned on nameplate (maximum) power: the accelerators at TDP, the rest of each
system (CPUs, memory, NVLink switches, fans, power conversion) as the system's maximum power
less its accelerators, plus the scale-out network, storage, and the CPU, management and service
IT beside the accelerator systems (a catalog fraction of the systems' power; Epoch AI 2025-12-18
puts all IT at 1.14x server power). Energy is billed on typical power: systems at their typical
training draw, the CPU and management halls in proportion, network and storage as at capacity.
Facility power is IT power at its peak draw times the design (peak) PUE (DESIGN.md glossary):
the peak draw is the nameplate, except for systems whose draw while training was measured
(``power_peak_measured_w``: a DGX H100 peaks at 8.48 kW of its 10.2 kW, Latif et al. 2025), so a
site's grid connection is sized on what it draws while its halls and racks are built for the
nameplate. Facility energy is typical IT power times the annual PUE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stargate.breakdown import Breakdown
from stargate.catalog.schema import Accelerator, System

__all__ = ["ItPower", "it_power_w", "peak_it_power_w", "typical_it_power_w"]


@dataclass(frozen=True, slots=True)
class ItPower(Breakdown):
    """IT power by consumer (W)."""

    accelerators: Any
    rest_of_servers: Any
    network: Any
    storage: Any
    cpu_and_management: Any = 0.0
    """CPU, management and service IT beside the accelerator systems (head and control-plane
    nodes, schedulers, data preparation, out-of-band network)."""


def it_power_w(
    n_systems: Any,
    system: System,
    accelerator: Accelerator,
    network_w: Any,
    storage_w_per_gpu: float,
    support_fraction: float = 0.0,
) -> ItPower:
    """Design (nameplate) IT power of ``n_systems`` systems; works on numpy arrays too.

    ``network_w`` is the whole scale-out fabric's power (from :mod:`stargate.fabric`);
    ``support_fraction`` the CPU and management IT as a fraction of the systems' power.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> cat = Catalog.load()
    >>> p = it_power_w(4, cat.system("dgx-h100"), cat.accelerator("h100"), 0.0, 0.0)
    >>> p.accelerators + p.rest_of_servers
    40800.0
    """
    gpus = n_systems * system.gpus_per_system
    accelerators = gpus * accelerator.tdp_w
    return ItPower(
        accelerators=accelerators,
        rest_of_servers=n_systems * system.power_max_w - accelerators,
        network=network_w,
        storage=gpus * storage_w_per_gpu,
        cpu_and_management=n_systems * system.power_max_w * support_fraction,
    )


def peak_it_power_w(
    n_systems: Any, system: System, network_w: Any, storage_w_per_gpu: float, support_fraction: float = 0.0
) -> Any:
    """IT power at its peak draw while training (W): what the facility's grid connection carries.

    The systems at their measured training peak (the nameplate where none is published), the CPU
    and management halls in proportion, network and storage as at capacity.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> s = Catalog.load().system("dgx-h100")
    >>> peak_it_power_w(2, s, 0.0, 0.0) == 2 * s.power_peak_measured_w
    True
    """
    return _drawn_it_power_w(n_systems, system, system.power_peak_w, network_w, storage_w_per_gpu, support_fraction)


def typical_it_power_w(
    n_systems: Any, system: System, network_w: Any, storage_w_per_gpu: float, support_fraction: float = 0.0
) -> Any:
    """Average IT power under training load (W): what the energy bill is computed on.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> s = Catalog.load().system("dgx-h100")
    >>> typical_it_power_w(2, s, 0.0, 0.0, 0.5) == 2 * s.power_typical_w * 1.5
    True
    """
    return _drawn_it_power_w(n_systems, system, system.power_typical_w, network_w, storage_w_per_gpu, support_fraction)


def _drawn_it_power_w(
    n_systems: Any, system: System, system_w: float, network_w: Any, storage_w_per_gpu: float, support_fraction: float
) -> Any:
    """IT power with each system drawing ``system_w``: the CPU and management halls in proportion,
    network and storage as at capacity."""
    gpus = n_systems * system.gpus_per_system
    return n_systems * system_w * (1.0 + support_fraction) + network_w + gpus * storage_w_per_gpu
