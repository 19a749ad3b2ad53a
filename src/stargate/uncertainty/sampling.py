"""Seeded Latin hypercube samples of uncertain inputs.

Each input's unit interval is cut into ``n`` equal strata and every stratum is drawn exactly once
(McKay, Beckman & Conover, Technometrics 21, 1979); the columns are paired at random. A uniform
variate ``u`` becomes a value by the input's quantile function: for a ``lognormal`` band, ``point · exp(z · s)`` with ``z = Φ⁻¹(u)`` and ``s = ln(high/point) / 1.2816`` above
the point, ``ln(point/low) / 1.2816`` below it (1.2816 = Φ⁻¹(0.9), so ``low`` and ``high`` are the P10 and
P90); for a ``uniform`` range, ``low + u · (high − low)``. ``u`` is kept within [0.001, 0.999]: no draw goes
past the 0.1st or 99.9th percentile of its band, nor past the number's ``floor`` or ``ceiling`` (a PUE's 1, an
efficiency's 1). A band of zero width gives the point exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stargate.uncertainty.bands import Uncertain

__all__ = ["U_CLIP", "Z90", "latin_hypercube", "values"]

Z90 = 1.2815515655446004
"""Φ⁻¹(0.9): the standard normal's 90th percentile."""
U_CLIP = 1e-3
"""Draws are kept within [U_CLIP, 1 − U_CLIP] of each band's distribution."""


def latin_hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` Latin hypercube points in ``[0, 1)^d``, the same for the same seed.

    McKay, Beckman & Conover's construction: each column is a random permutation of the ``n`` strata
    ``[i/n, (i+1)/n)`` with one uniform draw inside each (numpy's PCG64 generator, seeded). It is the
    design :class:`scipy.stats.qmc.LatinHypercube` draws by default; it is written here because importing
    ``scipy.stats`` costs a command more time (0.7 s) than drawing a million samples does.

    Examples
    --------
    >>> u = latin_hypercube(10, 2, seed=1)
    >>> u.shape, sorted((u[:, 0] * 10).astype(int).tolist()) == list(range(10))
    ((10, 2), True)
    """
    rng = np.random.default_rng(seed)
    strata = rng.permuted(np.tile(np.arange(n, dtype=float), (d, 1)), axis=1).T
    return np.asarray((strata + rng.random((n, d))) / n)


def values(inputs: Sequence[Uncertain], u: np.ndarray) -> dict[str, np.ndarray]:
    """Values of each input (by key) at the uniform variates ``u`` (shape ``(n, len(inputs))``).

    Examples
    --------
    >>> from stargate.uncertainty.bands import Uncertain
    >>> b = Uncertain("price", "p", 100.0, 80.0, 125.0, "estimate")
    >>> v = values([b], np.array([[0.1], [0.5], [0.9]]))["p"]
    >>> [round(float(x), 6) for x in v]
    [80.0, 100.0, 125.0]
    """
    from scipy.special import ndtri

    u = np.clip(np.asarray(u, dtype=float), U_CLIP, 1.0 - U_CLIP)
    out: dict[str, np.ndarray] = {}
    for j, b in enumerate(inputs):
        col = u[:, j]
        if b.shape == "uniform":
            out[b.key] = b.low + col * (b.high - b.low)
            continue
        if b.point <= 0 or b.low <= 0:
            out[b.key] = np.full_like(col, b.point)
            continue
        z = ndtri(col)
        s = np.where(z >= 0.0, math.log(b.high / b.point) / Z90, math.log(b.point / b.low) / Z90)
        out[b.key] = b.point * np.exp(z * s)
    for b in inputs:
        if b.floor is not None or b.ceiling is not None:  # a PUE below 1, an efficiency above 1: the bound instead
            out[b.key] = np.clip(out[b.key], -np.inf if b.floor is None else b.floor, np.inf if b.ceiling is None else b.ceiling)
    return out
