"""Schema of the hardware, facility and energy catalog: the whole catalog (:class:`CatalogData`) and its
sections (:data:`KINDS`).

Every entry is a frozen pydantic model. Quantities are plain floats in SI base units and the
field name carries the unit (``tdp_w``, ``hbm_bytes``); a user's catalog file may also write
them as quantity strings (``"700 W"``, ``"80 GiB"``, ``"400 Gbit/s"``), which
:mod:`stargate.units` converts at load time. Every entry carries the ``source`` and ``date``
of its numbers; numbers that come from a different source than the entry's main one (prices,
above all) carry their own.

The entry models live by concept in :mod:`stargate.catalog.entry` (what every entry has),
:mod:`~stargate.catalog.hardware`, :mod:`~stargate.catalog.site` and :mod:`~stargate.catalog.operations`;
every one of them is importable from here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from stargate.catalog.entry import Confidence, Entry, Fraction, Id, Positive, Priced
from stargate.catalog.hardware import Accelerator, Media, Nic, ScaleUpTech, Switch, System, WanOptic
from stargate.catalog.operations import FailureRate, Figure, Recovery, ServingBenchmark, Spares, TrainingDefaults
from stargate.catalog.site import (
    CoolingTech,
    EnergySource,
    FabricDefaults,
    Finance,
    FloorPlan,
    ItOverhead,
    Storage,
    WanDefaults,
)

__all__ = [
    "KINDS", "Accelerator", "CatalogData", "Confidence", "CoolingTech", "EnergySource", "Entry", "FabricDefaults",
    "FailureRate", "Figure", "Finance", "FloorPlan", "Fraction", "Id", "ItOverhead", "Media", "Nic", "Positive",
    "Priced", "Recovery", "ScaleUpTech", "ServingBenchmark", "Spares", "Storage", "Switch", "System",
    "TrainingDefaults", "WanDefaults", "WanOptic",
]


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
