"""Collective communication cost on a hierarchical network, vectorized over sizes.

A group of ``p`` ranks is placed on nested *levels*: ``m_1`` ranks share a scale-up domain,
``m_2`` domains share the scale-out fabric, ``m_3`` sites share a wide-area link, and
``p = m_1 m_2 ...``. Each level has a per-rank bandwidth (one direction, bytes/s, after protocol
efficiency and oversubscription), a per-step latency, and whether its switches reduce data in the
network (SHARP-class). Costs follow the alpha-beta model (Hockney 1994; Thakur, Rabenseifner &
Gropp 2005, "Optimization of Collective Communication Operations in MPICH"):

- **ring** (NCCL's rings, pipelined over all levels): all-reduce moves ``2 (p-1)/p * n`` bytes
  per rank through the bottleneck, where level ``i`` offers ``B_i * m_1 ... m_{i-1}`` per rank
  (each of the ``m_1 ... m_{i-1}`` ranks below a level-i link carries only its share of the
  ring's crossing), in ``2 (p-1)`` steps;
- **tree** (NCCL's double binary trees): the same bytes without the ``(p-1)/p`` saving, in
  ``2 sum_i ceil(log2 m_i)`` steps — the choice for small messages at scale;
- **in-network reduction** (SHARP / NVLS): each rank sends ``n`` and receives ``n`` once:
  ``n / B`` plus a pass up and down the switch tree;
- reduce-scatter and all-gather: half a ring or tree all-reduce (``(p-1)/p * n`` bytes in
  ``p-1`` steps, or ``n`` bytes in ``log2 p`` steps as NCCL's PAT algorithm does at scale);
- all-to-all: the ``(p - m_1)/p`` share of the buffer that leaves the domain crosses the outer
  level at its own per-rank bandwidth, the rest moves inside the domain, both at once;
- send/recv: one message over the outermost level the pair spans.

``algorithm="auto"`` takes, per message size, the fastest algorithm available (as NCCL's tuner
does); in-network reduction is available only where every crossed level has it, which the
caller sets when the user asks for SHARP on hardware that has it. Sizes ``n`` are the per-rank buffer as nccl-tests reports ``size``; bus bandwidth follows
nccl-tests' definition (all-reduce: ``algbw * 2 (p-1)/p``; the others ``algbw * (p-1)/p``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Level", "bus_bandwidth", "collective_time"]

COLLECTIVES = ("all_reduce", "reduce_scatter", "all_gather", "all_to_all", "send_recv")


@dataclass(frozen=True, slots=True)
class Level:
    """One level of a group's placement."""

    members: Any
    """Group members joined at this level per parent (int, or an array of candidates)."""
    bw_bytes_per_s: Any
    """Bandwidth per rank at this level, one direction, after efficiency (bytes/s; float or array)."""
    latency_s: Any
    """Latency of one algorithm step across this level (s)."""
    in_network_reduction: bool = False
    """Whether this level's switches can reduce (SHARP, NVLS)."""


def _size(levels: tuple[Level, ...]) -> Any:
    p: Any = 1
    for lv in levels:
        p = p * np.asarray(lv.members, dtype=float)
    return p


def _ring_bw(levels: tuple[Level, ...]) -> Any:
    """Bottleneck per-rank bandwidth of a ring laid out level by level."""
    below: Any = 1.0  # float, then an array once a level's members are
    best: Any = np.inf
    for lv in levels:
        m = np.asarray(lv.members, dtype=float)
        # A level with one member is not crossed: it does not limit the ring.
        best = np.minimum(best, np.where(m > 1, lv.bw_bytes_per_s * below, np.inf))
        below = below * m
    return np.where(np.isinf(best), np.asarray(levels[0].bw_bytes_per_s, dtype=float), best)


def _steps_latency(levels: tuple[Level, ...], ring: bool) -> Any:
    """Latency of one pass: ring steps at the slowest crossed level, or tree depth per level."""
    if ring:
        worst: Any = 0.0
        for lv in levels:
            worst = np.maximum(worst, np.where(np.asarray(lv.members) > 1, lv.latency_s, 0.0))
        return (_size(levels) - 1) * worst
    depth = 0.0
    for lv in levels:
        depth = depth + np.ceil(np.log2(np.maximum(np.asarray(lv.members, dtype=float), 1))) * lv.latency_s
    return depth


def _all_reduce(n: Any, levels: tuple[Level, ...]) -> dict[str, Any]:
    p = _size(levels)
    bw = _ring_bw(levels)
    out = {
        "ring": 2 * (p - 1) / p * n / bw + 2 * _steps_latency(levels, ring=True),
        "tree": 2 * n / bw + 2 * _steps_latency(levels, ring=False),
    }
    crossed = [lv for lv in levels[1:] if np.any(np.asarray(lv.members) > 1)] or list(levels)
    if all(lv.in_network_reduction for lv in crossed):
        out["in_network"] = n / bw + 2 * _steps_latency(levels, ring=False)
    return {k: np.where(p > 1, v, 0.0) for k, v in out.items()}


def _all_to_all(n: Any, levels: tuple[Level, ...]) -> Any:
    p = _size(levels)
    inner = np.asarray(levels[0].members, dtype=float)
    t_in = (inner - 1) / p * n / levels[0].bw_bytes_per_s
    t_out = 0.0
    if len(levels) > 1:
        outer = levels[-1]
        t_out = (p - inner) / p * n / np.minimum.reduce([np.asarray(lv.bw_bytes_per_s, dtype=float) for lv in levels[1:]])
        lat = (p - 1) * outer.latency_s
    else:
        lat = (p - 1) * levels[0].latency_s
    return np.where(p > 1, np.maximum(t_in, t_out) + lat, 0.0)


def collective_time(
    collective: str, message_bytes: Any, levels: tuple[Level, ...] | list[Level], algorithm: str = "auto"
) -> tuple[Any, Any]:
    """Time of one collective, and the algorithm it used; vectorized over sizes and members.

    Parameters
    ----------
    collective : str
        ``all_reduce``, ``reduce_scatter``, ``all_gather``, ``all_to_all`` or ``send_recv``.
    message_bytes : float or ndarray
        Per-rank buffer in bytes (nccl-tests ``size``).
    levels : sequence of Level
        The group's placement, innermost level first.
    algorithm : str
        ``auto`` (fastest per size), ``ring``, ``tree`` or ``in_network``.

    Returns
    -------
    (ndarray, ndarray)
        Seconds, and the name of the algorithm used, per size.

    Examples
    --------
    >>> nvlink = Level(8, 360e9, 3e-6)
    >>> t, alg = collective_time("all_reduce", 2**30, [nvlink], "ring")
    >>> round(float(bus_bandwidth("all_reduce", 2**30, 8, t)) / 1e9)  # 360 less the 14 steps' latency
    357
    """
    levels = tuple(levels)
    n = np.asarray(message_bytes, dtype=float)
    if collective not in COLLECTIVES:
        raise ValueError(f"collective must be one of {COLLECTIVES}, not {collective!r}")
    if collective == "all_to_all":
        t = _all_to_all(n, levels)
        return t, np.full(np.shape(t), "direct")
    if collective == "send_recv":
        crossed = [lv for lv in levels if np.any(np.asarray(lv.members) > 1)] or [levels[0]]
        lv = crossed[-1]
        t = n / lv.bw_bytes_per_s + lv.latency_s
        return t, np.full(np.shape(t), "direct")
    options = _all_reduce(n, levels)
    if collective in ("reduce_scatter", "all_gather"):
        # Rings, or at scale logarithmic-latency trees (NCCL 2.23's PAT algorithm); no in-network reduction.
        options = {k: v for k, v in options.items() if k != "in_network"}
    if algorithm != "auto":
        if algorithm not in options:
            raise ValueError(f"algorithm {algorithm!r} is not available here: {sorted(options)}")
        options = {algorithm: options[algorithm]}
    names = list(options)
    stack = np.stack(np.broadcast_arrays(*options.values()))
    best = np.argmin(stack, axis=0)
    t = np.take_along_axis(stack, best[None], axis=0)[0]
    if collective in ("reduce_scatter", "all_gather"):
        t = t / 2  # half an all-reduce: one pass of the same algorithm
    return t, np.asarray(names)[best]


def bus_bandwidth(collective: str, message_bytes: Any, ranks: Any, time_s: Any) -> Any:
    """nccl-tests bus bandwidth (bytes/s) from a time: ``algbw`` times the collective's factor.

    Examples
    --------
    >>> float(bus_bandwidth("all_reduce", 1e9, 2, 1.0))
    1000000000.0
    """
    p = np.asarray(ranks, dtype=float)
    alg = np.asarray(message_bytes, dtype=float) / np.asarray(time_s, dtype=float)
    factor = 2 * (p - 1) / p if collective == "all_reduce" else (p - 1) / p
    return alg * (factor if collective != "send_recv" else 1.0)
