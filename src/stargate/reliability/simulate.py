"""A seeded Monte Carlo of a whole training run, to check the analytic goodput.

The run is ``segments`` segments of ``tau`` seconds of work plus a ``delta`` checkpoint write.
Interruptions arrive as a Poisson process (exponential gaps, mean ``M``): a segment is retried
until it completes; each failed attempt costs the time until the failure (an exponential
truncated at the segment length) plus the restart ``R``. Everything is drawn with numpy at once
(geometric numbers of failed attempts per segment, then their truncated times), so a run of a
hundred thousand segments takes milliseconds. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["simulate_goodput"]


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
