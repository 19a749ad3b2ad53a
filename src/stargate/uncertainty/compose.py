"""Composition: an answer's own uncertain inputs on top of the cluster design's.

Training and serving answers price their GPU-hours and their power with a designed cluster
(:func:`stargate.cluster.design.design_cluster`). Their uncertainty models take the design model's inputs
(prices, power, PUE, energy price, finance) as they are, rather than listing them again, and add their own
(a performance model's cross-validated interval): :func:`with_design` joins the two, and the answer's
chain reads the design's sampled headlines (``tco_usd_per_gpu_hour``, ``facility_power_w``, ``gpus``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from stargate.catalog import Catalog
from stargate.errors import InputError
from stargate.scenario import DesignRequest
from stargate.uncertainty.bands import Uncertain
from stargate.uncertainty.propagate import MAX_SAMPLES, Model, propagate

__all__ = ["MAX_SEED", "check_sampling", "design_part", "ranged", "with_design"]

MAX_SEED = 2**32 - 1
"""Largest seed of a propagation."""

Chain = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


def design_part(request: DesignRequest, catalog: Catalog) -> Model:
    """The design model of the cluster an answer is priced on (:func:`stargate.uncertainty.design.design_model`)."""
    from stargate.uncertainty.design import design_model

    return design_model(request, catalog)


def with_design(inputs: tuple[Uncertain, ...], design: Model | None, chain: Chain, meta: dict[str, Any]) -> Model:
    """A model whose inputs are ``inputs`` and the design's, and whose headlines are ``chain(values, design)``.

    ``chain`` receives every input's values by key and the design's headlines at those values (an empty
    mapping without a design model: the answer's costs then stay at their points). The design's own
    ``meta`` (what it holds fixed) is kept under ``design``.

    Examples
    --------
    >>> r = Uncertain("model ratio", "model/x", 1.0, 0.8, 1.2, "cross-validated")
    >>> m = with_design((r,), None, lambda v, d: {"tokens_per_s": 100.0 * v["model/x"]}, {})
    >>> m.at({"model/x": np.array([0.8, 1.2])})["tokens_per_s"].tolist()
    [80.0, 120.0]
    """
    if design is None:
        return Model(inputs, lambda v: chain(v, {}), {**meta, "design_inputs": "none: costs held at the point answer's"})
    evaluate = design.evaluate

    def run(values: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        return chain(values, evaluate(values))

    return Model(inputs + design.inputs, run, {**meta, "design": design.meta})


def check_sampling(samples: Any, seed: Any) -> tuple[int, int]:
    """``samples`` and ``seed`` as whole numbers within their bounds, else an :class:`InputError` naming them.

    Examples
    --------
    >>> check_sampling(1000, 7)
    (1000, 7)
    >>> check_sampling(0, 0)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: uncertainty: 0 is not allowed; expected a whole number of samples from 1 to 1,000,000
    """
    for name, value, low, high, what in (("uncertainty", samples, 1, MAX_SAMPLES, "a whole number of samples"),
                                         ("seed", seed, 0, MAX_SEED, "a whole number")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
            raise InputError(name, value, f"{what} from {low:,} to {high:,}")
    return int(samples), int(seed)


def ranged(answer: Mapping[str, Any], model: Model, samples: int, seed: int,
           progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """``answer`` with the ``ranges`` of its headlines over ``samples`` seeded draws and their ``uncertainty`` block.

    Examples
    --------
    >>> r = Uncertain("model ratio", "model/x", 1.0, 0.8, 1.25, "cross-validated")
    >>> m = with_design((r,), None, lambda v, d: {"tokens_per_s": 100.0 * v["model/x"]}, {})
    >>> out = ranged({"tokens_per_s": 100.0}, m, 1000, 0)
    >>> round(out["ranges"]["tokens_per_s"]["p10"]), round(out["ranges"]["tokens_per_s"]["p90"])
    (80, 125)
    """
    samples, seed = check_sampling(samples, seed)
    result = propagate(model, samples, seed, progress, chunk=max(1, min(samples, 10_000)))
    return {**answer, "ranges": result.ranges, "uncertainty": result.block()}
