"""How often a job is interrupted, by cause, as a function of its size.

Every component class in the catalog (``failure_rates``) interrupts the job at a rate
proportional to the GPUs it spans (one GPU, HBM stack, host share, NIC, switch share per GPU), and
a failure anywhere interrupts the job (what it then costs depends on the recovery strategy,
:mod:`stargate.reliability.strategies`), so the job's rate is ``N x sum(rates)`` and its mean
time between interruptions ``1 / rate``. At 131,072 GPUs that is 1,390 s, inside the band of
Kokolis et al. (arXiv:2410.21680: 828 s projected from Meta's A100 clusters; 500-1,500 s). With the Llama 3 rates, 16,384 GPUs see 419 interruptions
in 54 days (one every 3.1 hours), 100,000 GPUs one every 30 minutes, 1,000,000 GPUs one every
3 minutes: the assumption printed with every plan is that component reliability stays at the 2024
H100 level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.catalog import Catalog

__all__ = ["Interruptions", "interruptions", "mtbf_s"]


@dataclass(frozen=True, slots=True)
class Interruptions:
    """Unexpected interruptions of one job."""

    gpus: int
    per_hour: float
    by_cause_per_hour: dict[str, float]
    mtbf_s: float
    """Mean time between interruptions of the job (s)."""


def interruptions(gpus: int, catalog: Catalog | None = None, spare_fraction: float = 0.0) -> Interruptions:
    """Interruption rate and mean time between interruptions of a job on ``gpus`` GPUs.

    ``spare_fraction`` is unused (warm spares shorten the restart, :mod:`.strategies`, not the rate);
    it stays for callers of the earlier signature.

    Examples
    --------
    >>> i = interruptions(16384)
    >>> round(i.per_hour * 24 * 54)  # Llama 3: 419 unexpected interruptions in 54 days
    419
    >>> round(i.mtbf_s / 3600, 1)
    3.1
    """
    cat = catalog or Catalog.load()
    by_cause = {f.id: gpus * f.interruptions_per_gpu_hour for f in cat.entries("failure_rates")}  # type: ignore[attr-defined]
    return Interruptions(gpus, sum(by_cause.values()), by_cause, mtbf_s(by_cause.values()))


def mtbf_s(per_hour_by_cause: Iterable[Any]) -> Any:
    """Mean time between interruptions (s) of a job interrupted at these rates per hour, one per cause
    (arrays of sampled rates too); no interruptions at all: infinite.

    Examples
    --------
    >>> mtbf_s([1.0, 3.0]), mtbf_s([0.0])
    (900.0, inf)
    >>> mtbf_s([np.array([1.0, 0.5]), np.array([3.0, 1.5])]).tolist()
    [900.0, 1800.0]
    """
    rate = sum(per_hour_by_cause)
    if np.ndim(rate) == 0:
        return 3600.0 / rate if rate else float("inf")
    with np.errstate(divide="ignore"):
        return 3600.0 / np.asarray(rate, dtype=float)
