"""Enumerations shared by the catalog, the inputs and the CLI (kept free of heavy imports)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Cooling", "EnergyKind", "Fabric", "MediaKind", "Precision", "Topology"]


class Cooling(StrEnum):
    """Rack cooling technologies, ordered from least to most capable."""

    AIR = "air"
    REAR_DOOR = "rear_door"
    DIRECT_LIQUID = "direct_liquid"
    DIRECT_LIQUID_HD = "direct_liquid_hd"
    DIRECT_LIQUID_800VDC = "direct_liquid_800vdc"


class Precision(StrEnum):
    """Number formats of the matrix units; peak figures are dense (never 2:4 sparse)."""

    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    FP4 = "fp4"


class Fabric(StrEnum):
    """Scale-out network families."""

    INFINIBAND = "infiniband"
    ETHERNET = "ethernet"


class EnergyKind(StrEnum):
    """Kinds of power supply a campus can contract or build."""

    GRID = "grid"
    GAS = "gas"
    NUCLEAR_RESTART = "nuclear_restart"
    SMR = "smr"
    SOLAR_STORAGE = "solar_storage"


class MediaKind(StrEnum):
    """Kinds of link media, from cheapest and shortest to longest reach."""

    DAC = "dac"
    AEC = "aec"
    AOC = "aoc"
    OPTIC_MULTIMODE = "optic_multimode"
    OPTIC_SINGLEMODE = "optic_singlemode"
    CPO = "cpo"


class Topology(StrEnum):
    """Scale-out topologies."""

    FAT_TREE = "fat-tree"
    RAIL_OPTIMIZED = "rail-optimized"
