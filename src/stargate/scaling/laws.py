"""Scaling laws: the loss a model of ``N`` parameters reaches on ``D`` tokens, and the best split
of a compute budget.

Parametric fit ``L(N, D) = E + A / N^alpha + B / D^beta`` (Hoffmann et al. 2022, "Training
Compute-Optimal Large Language Models", eq. 2, approach 3), with training compute
``C = 6 N D``. Minimising ``L`` at fixed ``C`` gives, in closed form (their eq. 4),

``N_opt = G (C/6)^(beta/(alpha+beta))``, ``D_opt = G^-1 (C/6)^(alpha/(alpha+beta))``,
``G = (alpha A / (beta B))^(1/(alpha+beta))``.

Two published constant sets: Hoffmann et al. 2022 (the original Chinchilla fit) and Besiroglu et
al. 2024 ("Chinchilla Scaling: A replication attempt", arXiv:2404.10102, Table 1), whose refit of
the same data corrects the original's and implies about 20 tokens per parameter at scale. For a
mixture-of-experts model, ``N`` is the active parameter count: a simplification, since routed
models reach a lower loss than dense ones of the same active size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stargate.errors import InputError

__all__ = ["LAWS", "ScalingLaw", "compute_optimal", "gpu_days", "loss"]


@dataclass(frozen=True, slots=True)
class ScalingLaw:
    """Constants of ``L = E + A/N^alpha + B/D^beta``."""

    name: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str


LAWS = {
    "chinchilla": ScalingLaw("chinchilla", 1.69, 406.4, 410.7, 0.34, 0.28,
                             "Hoffmann et al. 2022, arXiv:2203.15556, eq. 10 (approach 3)"),
    "besiroglu2024": ScalingLaw("besiroglu2024", 1.8172, 482.01, 2085.43, 0.3478, 0.3658,
                                "Besiroglu et al. 2024, arXiv:2404.10102, Table 1"),
}


def _law(name: str) -> ScalingLaw:
    if name not in LAWS:
        raise InputError("scaling_law", name, f"one of {', '.join(LAWS)}")
    return LAWS[name]


def loss(params: Any, tokens: Any, law: str = "chinchilla") -> Any:
    """Predicted loss (nats per token) of ``params`` parameters trained on ``tokens`` tokens.

    Examples
    --------
    >>> round(float(loss(70e9, 1.4e12)), 3)  # Chinchilla itself
    1.937
    """
    c = _law(law)
    return c.E + c.A / np.asarray(params, dtype=float) ** c.alpha + c.B / np.asarray(tokens, dtype=float) ** c.beta


def compute_optimal(flops: Any, law: str = "chinchilla") -> tuple[Any, Any]:
    """Parameters and tokens that minimise the loss for a training compute of ``flops`` (C = 6 N D).

    Examples
    --------
    >>> n, d = compute_optimal(5.76e23)  # Chinchilla's budget
    >>> round(float(n) / 1e9), round(float(d) / 1e12, 1)
    (32, 3.0)
    """
    c = _law(law)
    g = (c.alpha * c.A / (c.beta * c.B)) ** (1 / (c.alpha + c.beta))
    half = np.asarray(flops, dtype=float) / 6.0
    n = g * np.power(half, c.beta / (c.alpha + c.beta))  # the ufunc for one value too: the same rounding as on arrays
    return n, half / n


def gpu_days(params: float, tokens: float, flops_per_s_per_gpu: float) -> float:
    """GPU-days to train ``params`` on ``tokens`` at a sustained ``flops_per_s_per_gpu`` (C = 6 N D).

    Examples
    --------
    >>> round(gpu_days(70e9, 1.4e12, 400e12))
    17014
    """
    return 6.0 * params * tokens / flops_per_s_per_gpu / 86400.0
