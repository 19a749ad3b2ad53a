"""A seeded Monte Carlo of a whole training run, to check the analytic goodput of every strategy.

Checkpointing strategies (:func:`simulate_goodput`): the run is ``segments`` segments of ``tau``
seconds of work plus a ``delta`` checkpoint write. Interruptions arrive as a Poisson process
(exponential gaps, mean ``M``): a segment is retried until it completes; each failed attempt costs
the time until the failure (an exponential truncated at the segment length) plus the restart
``R``. Everything is drawn with numpy at once (geometric numbers of failed attempts per segment,
then their truncated times), so a run of a hundred thousand segments takes milliseconds.

Elastic strategies (:func:`simulate_elastic`): failures arrive at exponential gaps of running
time; each stalls the whole job ``R`` and takes ``g / N`` of its capacity out for an exponential
time of mean ``rejoin``. :func:`simulate_strategy` runs the one that fits a
:class:`~stargate.reliability.strategies.StrategyResult`. Deterministic for a given seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["simulate_elastic", "simulate_goodput", "simulate_strategy"]


def simulate_goodput(interval_s: float, delta_s: float, restart_s: float, mtbf_s: float, work_s: float,
                     seed: int = 0, spare_fraction: float = 0.0) -> float:
    """Useful work over wall time for one simulated run of ``work_s`` seconds of training.

    Examples
    --------
    >>> round(float(simulate_goodput(3600, 60, 600, 11100, 100 * 86400, seed=1)), 2)
    0.79
    """
    rng = np.random.default_rng(seed)
    segments = int(np.ceil(work_s / interval_s))
    seg = interval_s + delta_s
    p_fail = 1.0 - np.exp(-seg / mtbf_s)
    failures = rng.geometric(1.0 - p_fail, size=segments) - 1  # failed attempts before each success
    total = int(failures.sum())
    # Time to failure given that it falls inside the segment: inverse CDF of a truncated exponential.
    u = rng.random(total)
    lost = -mtbf_s * np.log1p(-u * p_fail)
    wall = segments * seg + lost.sum() + total * restart_s
    return segments * interval_s / wall * (1 - spare_fraction)


def simulate_elastic(stall_s: float, rejoin_s: float, replica_fraction: float, mtbf_s: float, run_s: float,
                     seed: int = 0, spare_fraction: float = 0.0) -> float:
    """Useful work over wall time for ``run_s`` seconds of running time of an elastic job.

    Examples
    --------
    >>> round(float(simulate_elastic(180, 180, 128 / 57344, 3181, 100 * 86400, seed=1)), 3)
    0.946
    """
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(mtbf_s, size=int(3 * run_s / mtbf_s) + 100)
    n = int(np.searchsorted(np.cumsum(gaps), run_s))  # failures within the running time
    out = rng.exponential(rejoin_s, size=n).sum() * replica_fraction  # job-seconds of capacity lost
    return (run_s - min(out, run_s)) / (run_s + n * stall_s) * (1 - spare_fraction)


def simulate_strategy(result: Any, replica_fraction: float, rejoin_s: float, work_s: float, seed: int = 0) -> float:
    """Simulated goodput of a :class:`~stargate.reliability.strategies.StrategyResult`'s job.

    ``replica_fraction`` and ``rejoin_s`` matter only for an elastic strategy (no checkpoint interval).
    """
    if result.interval_s > 0:
        return simulate_goodput(result.interval_s, result.write_s, result.restart_s, result.mtbf_s, work_s, seed,
                                result.spare_fraction)
    return simulate_elastic(result.restart_s, rejoin_s, replica_fraction, result.mtbf_s, work_s, seed,
                            result.spare_fraction)
