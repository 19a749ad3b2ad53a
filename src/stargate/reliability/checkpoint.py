"""Checkpoints and goodput: how much of the wall time is useful training.

The job runs segments of ``tau`` seconds of work, each followed by a blocking checkpoint write of
``delta`` seconds (checkpoint bytes over the cluster's storage write bandwidth). Interruptions arrive at
exponential intervals of mean ``M``; a segment is retried until it completes, and each failed
attempt costs the time until the failure plus a restart ``R``. The expected wall time of a segment
is then exactly ``(M + R) (exp((tau + delta) / M) - 1)`` (Daly 2006, eq. 15, without failures
during the restart itself), so

``goodput = tau / ((M + R) (exp((tau + delta) / M) - 1))``,

which for ``tau`` much shorter than ``M`` is Young's (1974) first-order
``tau / (tau + delta) x (1 - ((tau + delta) / 2 + R) / M)``. The interval that maximises it is Daly's ``tau = sqrt(2 delta M) [1 + sqrt(delta / 2M) / 3 +
(delta / 2M) / 9] - delta`` for ``delta < 2M`` (else ``M``). Warm spares let a restart proceed
without waiting for repair; the spare GPUs themselves do no training, so they cost goodput in
proportion (``spare_fraction``). The recovery strategies that checkpoint
(:mod:`stargate.reliability.strategies`) use this model with their own write time and restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Goodput", "daly_interval", "goodput", "optimal_goodput"]


def daly_interval(delta_s: float, mtbf_s: Any) -> Any:
    """Daly's (2006) optimal checkpoint interval (s of work between checkpoints; arrays of ``mtbf_s`` too).

    Examples
    --------
    >>> round(daly_interval(300, 86400) / 60)  # Daly's example: delta 5 min, M 24 h
    117
    >>> [round(float(t) / 60) for t in daly_interval(300, np.array([86400.0, 100.0]))]  # M under delta / 2: M
    [117, 2]
    """
    m = np.asarray(mtbf_s, dtype=float)
    x = delta_s / (2 * m)
    with np.errstate(invalid="ignore"):
        tau = np.sqrt(2 * delta_s * m) * (1 + np.sqrt(x) / 3 + x / 9) - delta_s
    out = np.where(delta_s >= 2 * m, m, tau)
    return float(out) if out.ndim == 0 else out


def goodput(interval_s: Any, delta_s: float, restart_s: float, mtbf_s: float, spare_fraction: float = 0.0) -> Any:
    """Fraction of wall time spent on useful training (arrays of intervals too).

    Examples
    --------
    >>> round(float(goodput(3600, 60, 600, 11100)), 3)
    0.788
    """
    tau = np.asarray(interval_s, dtype=float)
    with np.errstate(over="ignore"):  # a failure far more often than a checkpoint: expm1 -> inf, goodput -> 0
        return tau / ((mtbf_s + restart_s) * np.expm1((tau + delta_s) / mtbf_s)) * (1 - spare_fraction)


@dataclass(frozen=True, slots=True)
class Goodput:
    """The best checkpoint interval and what it gives."""

    checkpoint_bytes: float
    write_s: float
    interval_s: float
    goodput: float
    mtbf_s: float
    restart_s: float


def optimal_goodput(checkpoint_bytes: float, write_bw_bytes_per_s: float, restart_s: float, mtbf_s: float,
                    spare_fraction: float = 0.0) -> Goodput:
    """Checkpoint write time, Daly's interval, and the goodput at that interval.

    Examples
    --------
    >>> g = optimal_goodput(6.5e12, 2e12, 600, 11100)  # 405B, Llama 3 storage, 16k GPUs
    >>> round(g.interval_s), round(g.goodput, 3)
    (266, 0.926)
    """
    delta = checkpoint_bytes / write_bw_bytes_per_s
    tau = daly_interval(delta, mtbf_s)
    return Goodput(checkpoint_bytes, delta, tau, float(goodput(tau, delta, restart_s, mtbf_s, spare_fraction)),
                   mtbf_s, restart_s)
