"""Propagation: push Latin hypercube samples of every uncertain input through a vectorized model.

A :class:`Model` is the chain of one answer with its uncertain inputs exposed: it takes arrays of input
values (one entry per sample, keyed by :attr:`Uncertain.key <stargate.uncertainty.bands.Uncertain.key>`;
an input left out stays at its point) and returns arrays of its headline figures. The chain is the one the
point answer runs, evaluated on numpy arrays, so a sample costs what one more element of an array costs;
the discrete choices of the point answer (the parallelism layout, the serving deployment, the fabric's
topology) are held fixed while the continuous chain is re-evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stargate.uncertainty.bands import Uncertain
from stargate.uncertainty.sampling import latin_hypercube, values

__all__ = ["DEFAULT_SAMPLES", "MAX_SAMPLES", "Model", "Ranges", "percentiles", "propagate"]

DEFAULT_SAMPLES = 1000
"""Samples of ``--uncertainty`` given without a number."""
MAX_SAMPLES = 1_000_000
"""Most samples one propagation draws."""

Evaluate = Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Model:
    """An answer's chain with its uncertain inputs.

    Examples
    --------
    >>> import numpy as np
    >>> price = Uncertain("price", "price", 10.0, 8.0, 12.5, "estimate")
    >>> m = Model((price,), lambda v: {"cost_usd": 3.0 * v["price"]})
    >>> m.point()["cost_usd"].tolist()
    [30.0]
    """

    inputs: tuple[Uncertain, ...]
    """The uncertain inputs, each with its band."""
    evaluate: Evaluate
    """Arrays of input values by key (missing keys at their points) → arrays of headline figures."""
    meta: dict[str, Any] = field(default_factory=dict)
    """What the answer adds to its ``uncertainty`` block (what was held fixed, the model intervals used)."""

    def at(self, chosen: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Headlines at the given values, every other input at its point, as float arrays."""
        n = len(next(iter(chosen.values()))) if chosen else 1
        full = {b.key: np.full(n, b.point) for b in self.inputs}
        full.update({k: np.asarray(v, dtype=float) for k, v in chosen.items()})
        out = self.evaluate(full)
        return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in out.items()}

    def point(self) -> dict[str, np.ndarray]:
        """Headlines with every input at its point (arrays of one)."""
        return self.at({})

    def widened(self, factors: Mapping[str, float]) -> Model:
        """The model with the bands of the inputs named in ``factors`` (by key) widened by each factor."""
        inputs = tuple(b.widened(factors[b.key]) if b.key in factors else b for b in self.inputs)
        return Model(inputs, self.evaluate, self.meta)


@dataclass(frozen=True)
class Ranges:
    """P10 / P50 / P90 of every headline, and how they were drawn."""

    ranges: dict[str, dict[str, float]]
    """``{headline: {"p10", "p50", "p90"}}``: the ``ranges`` object of the command contracts."""
    samples: int
    seed: int
    inputs: tuple[Uncertain, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def block(self) -> dict[str, Any]:
        """The ``uncertainty`` block answers carry beside ``ranges``: sampling scheme, seed and inputs."""
        return {"samples": self.samples, "seed": self.seed,
                "sampling": "Latin hypercube (McKay et al. 1979; numpy PCG64, seeded), split-lognormal bands read as P10-P90",
                "inputs": [b.as_dict() for b in self.inputs], **self.meta}


def percentiles(samples: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """P10, P50 and P90 of each array (non-finite samples ignored; none finite gives nulls).

    Examples
    --------
    >>> percentiles({"x": np.arange(11.0)})
    {'x': {'p10': 1.0, 'p50': 5.0, 'p90': 9.0}}
    """
    out: dict[str, dict[str, float]] = {}
    for k, v in samples.items():
        a = np.asarray(v, dtype=float)
        a = a[np.isfinite(a)]
        if a.size == 0:
            continue
        p10, p50, p90 = np.percentile(a, [10.0, 50.0, 90.0])
        out[k] = {"p10": float(p10), "p50": float(p50), "p90": float(p90)}
    return out


def propagate(model: Model, n: int = DEFAULT_SAMPLES, seed: int = 0,
              progress: Callable[[int, int], None] | None = None, chunk: int | None = None) -> Ranges:
    """P10 / P50 / P90 of the model's headlines over ``n`` Latin hypercube samples of its inputs.

    Parameters
    ----------
    model : Model
        The chain and its uncertain inputs.
    n : int
        Samples (1 to :data:`MAX_SAMPLES`).
    seed : int
        The same seed gives the same samples and the same ranges.
    progress : callable, optional
        Called with (samples done, samples) after each chunk.
    chunk : int, optional
        Samples evaluated at once (all of them by default).

    Examples
    --------
    >>> price = Uncertain("price", "price", 10.0, 8.0, 12.5, "estimate")
    >>> r = propagate(Model((price,), lambda v: {"cost_usd": 3.0 * v["price"]}), n=2000, seed=1)
    >>> lo, hi = r.ranges["cost_usd"]["p10"], r.ranges["cost_usd"]["p90"]
    >>> round(lo, 1), round(hi, 1)
    (24.0, 37.5)
    """
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"samples must be 1 to {MAX_SAMPLES:,}")
    u = latin_hypercube(n, len(model.inputs), seed)
    vals = values(model.inputs, u)
    step = chunk or n
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, n, step):
        sl = slice(start, min(n, start + step))
        out = model.at({k: v[sl] for k, v in vals.items()}) if vals else model.at({"": np.zeros(sl.stop - sl.start)})
        for k, v in out.items():
            parts.setdefault(k, []).append(v)
        if progress is not None:
            progress(sl.stop, n)
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    return Ranges(percentiles(joined), n, seed, model.inputs, dict(model.meta))
