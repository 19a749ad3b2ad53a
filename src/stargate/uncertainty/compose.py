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

from stargate.uncertainty.bands import Uncertain
from stargate.uncertainty.propagate import Model

__all__ = ["with_design"]

Chain = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


def with_design(inputs: tuple[Uncertain, ...], design: Model, chain: Chain, meta: dict[str, Any]) -> Model:
    """A model whose inputs are ``inputs`` and the design's, and whose headlines are ``chain(values, design)``:
    ``chain`` receives every input's values by key and the design's headlines at those values. The design's
    own ``meta`` (what it holds fixed) is kept under ``design``.

    Examples
    --------
    >>> price = Uncertain("GPU-hour price", "usd", 2.0, 1.6, 2.5, "estimate")
    >>> design = Model((price,), lambda v: {"tco_usd_per_gpu_hour": v["usd"]})
    >>> ratio = Uncertain("model ratio", "model/x", 1.0, 0.8, 1.25, "cross-validated")
    >>> m = with_design((ratio,), design, lambda v, d: {"usd_per_token": d["tco_usd_per_gpu_hour"] / v["model/x"]}, {})
    >>> [b.key for b in m.inputs], m.at({"model/x": np.array([0.8]), "usd": np.array([2.5])})["usd_per_token"].tolist()
    (['model/x', 'usd'], [3.125])
    """
    evaluate = design.evaluate

    def run(values: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        return chain(values, evaluate(values))

    return Model(inputs + design.inputs, run, {**meta, "design": design.meta})
