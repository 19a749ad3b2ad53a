"""Recovery strategies and the goodput each gives a job, with its additive breakdown.

Every strategy is a catalog entry (``recovery`` in ``reliability.yaml``, each with its sources):

* ``storage-restart``: checkpoints to the storage system, whose aggregate write bandwidth is the
  per-GPU provisioning times the GPUs but no more than the file system's cap; a failure stops the
  whole job, which rolls back to the last checkpoint (Llama 3 practice).
* ``memory-restart``: each GPU snapshots its model-parallel shard of the state to host memory and a
  peer (Gemini); a failure stops the job while a spare replaces the failed NVLink domain, and
  the job resumes from memory.
* ``elastic``: no rollback; the failed data-parallel replica drops out, the others go on after a
  short stall, and the replica rejoins from a healthy peer (FT-HSDP, TorchFT).

The restart (job-wide stall per failure) follows ``R(N) = R0 + r log2(N)``
(:func:`restart_s`). The checkpointing strategies use Daly's (2006) model at his optimal interval
(:mod:`stargate.reliability.checkpoint`); the elastic one a renewal argument: each failure stalls
the job ``R`` and then removes ``g / N`` of its capacity for ``rejoin_s``, so
``goodput = M / (M + R) x (1 - g rejoin / (N M))``. Every result is split into parts that add up
to one (:class:`GoodputBreakdown`): goodput, lost work, restart, checkpoint stalls, spares idle.
Without warm spares every restart (or rejoin) also waits the spares entry's ``provision_s``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stargate.breakdown import Breakdown
from stargate.catalog import Catalog
from stargate.catalog.schema import Recovery
from stargate.errors import InputError
from stargate.reliability.checkpoint import daly_interval
from stargate.reliability.failures import interruptions

__all__ = ["GoodputBreakdown", "StrategyResult", "best_strategy", "evaluate", "restart_s", "strategy_ids"]


@dataclass(frozen=True, slots=True)
class GoodputBreakdown(Breakdown):
    """Where a job's wall time (GPUs bought for it, spares included) goes; the parts sum to 1."""

    goodput: float
    """Useful training."""
    lost_work: float
    """Work redone after rolling back to the last checkpoint."""
    restart: float
    """Job-wide stalls per failure, and capacity out while a failed replica rejoins."""
    checkpoint: float
    """Training stalled while a checkpoint is written."""
    spares_idle: float
    """Warm-spare GPUs waiting for a failure."""


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """The goodput one recovery strategy gives one job, and what it is made of."""

    strategy: str
    name: str
    failure_domain: str
    failure_domain_gpus: int
    goodput: float
    breakdown: GoodputBreakdown
    restart_s: float
    checkpoint_bytes: float
    write_s: float
    interval_s: float
    """Work between checkpoints (s); 0 when the strategy does not checkpoint."""
    mtbf_s: float
    spare_fraction: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (the breakdown as ``{part: fraction}``)."""
        out = asdict(self)
        out["breakdown"] = self.breakdown.as_dict()
        return out


def strategy_ids(catalog: Catalog) -> list[str]:
    """Ids of the catalog's recovery strategies."""
    return [e.id for e in catalog.entries("recovery")]


def restart_s(rec: Recovery, gpus: int) -> float:
    """Job-wide stall per failure for a job of ``gpus`` GPUs: ``R0 + r log2(gpus)``.

    Examples
    --------
    >>> cat = Catalog.load()
    >>> round(restart_s(cat.get("recovery", "storage-restart"), 100_000))  # Meta, arXiv:2602.00277
    600
    >>> round(restart_s(cat.get("recovery", "elastic"), 100_000))
    180
    """
    return rec.restart_base_s + rec.restart_per_doubling_s * math.log2(max(gpus, 1))


def _write_s(rec: Recovery, ckpt_bytes: float, gpus: int, shard_gpus: int, storage_bw_per_gpu: float) -> float:
    if rec.checkpoint == "storage":
        return ckpt_bytes / min(storage_bw_per_gpu * gpus, rec.write_cap_bytes_per_s or math.inf)
    if rec.checkpoint == "memory":
        return ckpt_bytes / max(min(shard_gpus, gpus), 1) / (rec.memory_write_bw_bytes_per_s_per_gpu or math.inf)
    return 0.0


def _scalar(*parts: Any) -> tuple[Any, ...]:
    """Parts as floats when they are 0-d (one job), else as arrays (one per sample)."""
    return tuple(float(p) if np.ndim(p) == 0 else p for p in parts)


def _daly_parts(tau: Any, delta: float, restart: float, mtbf: Any) -> tuple[Any, Any, Any, Any]:
    """Goodput, lost work, restart, checkpoint per wall second of Daly's segment (sum 1; arrays of ``mtbf`` too)."""
    with np.errstate(over="ignore", invalid="ignore"):
        fails = np.expm1((tau + delta) / mtbf)  # expected failed attempts per segment
        wall = (mtbf + restart) * fails
    ok = np.isfinite(wall) & (wall > 0)
    w = np.where(ok, wall, 1.0)
    return _scalar(np.where(ok, tau / w, 0.0), np.where(ok, (mtbf * fails - tau - delta) / w, 1.0),
                   np.where(ok, restart * fails / w, 0.0), np.where(ok, delta / w, 0.0))


def _elastic_parts(stall: float, rejoin: float, replica_frac: float, mtbf: Any) -> tuple[Any, Any, Any, Any]:
    running = mtbf / (mtbf + stall)
    out = np.minimum(replica_frac * rejoin / mtbf, 1.0)  # mean share of the job's replicas out
    return _scalar(running * (1 - out), 0.0, 1 - running * (1 - out), 0.0)


def evaluate(rec: Recovery, gpus: int, params: float, catalog: Catalog, *, storage: str = "default",
             replica_gpus: int = 8, domain_gpus: int = 8, spare_fraction: float = 0.0,
             spares: bool = True, mtbf_s: Any = None) -> StrategyResult | None:
    """Goodput of strategy ``rec`` for a job of ``gpus`` GPUs training ``params`` parameters.

    ``replica_gpus``: GPUs of one data-parallel replica (tp x pp x cp); ``domain_gpus``: of an
    NVLink domain; ``spare_fraction``: share of the job's GPUs (spares included) kept as warm
    spares; ``spares``: whether there are any (else each restart waits for provisioning).
    ``mtbf_s``: the job's mean time between interruptions, by default from the catalog's failure
    rates (:func:`~stargate.reliability.failures.interruptions`); an array of them (samples of
    uncertain failure rates) gives the goodput and its breakdown as arrays.
    None when the strategy cannot run (elastic with a single replica).

    Examples
    --------
    >>> cat = Catalog.load()
    >>> r = evaluate(cat.get("recovery", "storage-restart"), 16384, 405e9, cat)  # Llama 3
    >>> round(r.goodput, 3), round(r.restart_s), round(r.breakdown.total, 12)
    (0.93, 574, 1.0)
    >>> m = r.mtbf_s * np.array([0.5, 1.0, 2.0])  # failures twice as often, as often, half as often
    >>> [round(float(g), 3) for g in evaluate(cat.get("recovery", "storage-restart"), 16384, 405e9, cat, mtbf_s=m).goodput]
    [0.878, 0.93, 0.959]
    """
    if rec.elastic and replica_gpus >= gpus:
        return None
    mtbf = interruptions(gpus, catalog).mtbf_s if mtbf_s is None else mtbf_s
    wait = 0.0 if spares else catalog.get("spares", "default", "spares").provision_s  # type: ignore[attr-defined]
    ckpt = params * rec.checkpoint_bytes_per_param
    stall = restart_s(rec, gpus) + (0.0 if rec.elastic else wait)
    delta = tau = 0.0
    if rec.elastic:
        parts = _elastic_parts(stall, rec.rejoin_s + wait, replica_gpus / gpus, mtbf)
    else:
        delta = _write_s(rec, ckpt, gpus, replica_gpus, catalog.storage(storage).write_bw_bytes_per_s_per_gpu)
        tau = daly_interval(delta, mtbf)
        parts = _daly_parts(tau, delta, stall, mtbf)
    keep = 1.0 - spare_fraction
    good, lost, stalled, writing = (p * keep for p in parts)
    bd = GoodputBreakdown(good, lost, stalled, writing, spare_fraction)
    domain = {"gpu": 1, "node": min(domain_gpus, 8), "nvlink-domain": domain_gpus, "replica": replica_gpus}
    return StrategyResult(rec.id, rec.name, rec.failure_domain, domain[rec.failure_domain], bd.goodput, bd, stall,
                          ckpt, delta, tau, mtbf, spare_fraction)


def best_strategy(gpus: int, params: float, catalog: Catalog, allowed: Sequence[str] | str | None = None,
                  field: str = "recovery", **kw: Any) -> tuple[StrategyResult, dict[str, float]]:
    """The allowed strategy with the highest goodput, and every feasible one's goodput.

    ``allowed``: a strategy id or list of ids (None: all of the catalog's); an unknown id is
    bad input named ``field``. Keywords are :func:`evaluate`'s.

    Examples
    --------
    >>> best, all_ = best_strategy(16384, 405e9, Catalog.load())
    >>> best.strategy, sorted(all_)
    ('elastic', ['elastic', 'memory-restart', 'storage-restart'])
    """
    ids = strategy_ids(catalog)
    wanted = ids if allowed is None else [allowed] if isinstance(allowed, str) else list(allowed)
    for w in wanted:
        if w not in ids:
            raise InputError(field, w, f"one of {', '.join(ids)}")
    results = [r for w in wanted if (r := evaluate(catalog.get("recovery", w), gpus, params, catalog, **kw))]  # type: ignore[arg-type]
    if not results:  # only elastic allowed on a single-replica job: fall back to a restart
        results = [r for w in ids if (r := evaluate(catalog.get("recovery", w), gpus, params, catalog, **kw))]  # type: ignore[arg-type]
    best = max(results, key=lambda r: r.goodput)
    return best, {r.strategy: r.goodput for r in results}
