"""Parallel plans as numpy arrays: one element per candidate.

Every training estimate works on a :class:`Plans` of equal-length arrays of whole numbers (stored
as float64, exact far beyond any GPU count, so the arithmetic needs no conversions), so that one
plan and a million candidate plans take the same code path. Codes: ``recompute`` 0 none,
1 selective, 2 full; ``sharding`` 0 none, 1 zero1, 2 zero2, 3 zero3; ``sp`` 0/1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["RECOMPUTE", "SHARDING", "Plans"]

RECOMPUTE = ("none", "selective", "full")
SHARDING = ("none", "zero1", "zero2", "zero3")


@dataclass(frozen=True, slots=True)
class Plans:
    """Candidate parallel plans (all arrays of the same length).

    Examples
    --------
    >>> p = Plans.one(tp=8, pp=4, dp=2)
    >>> int(p.gpus[0]), len(p)
    (64, 1)
    """

    tp: np.ndarray
    pp: np.ndarray
    dp: np.ndarray
    cp: np.ndarray
    ep: np.ndarray
    vp: np.ndarray
    mbs: np.ndarray
    recompute: np.ndarray
    sharding: np.ndarray
    sp: np.ndarray

    @classmethod
    def one(cls, *, tp: int = 1, pp: int = 1, dp: int = 1, cp: int = 1, ep: int = 1, vp: int = 1, mbs: int = 1,
            recompute: str = "none", sharding: str = "zero1", sp: bool | None = None) -> Plans:
        """A single plan from named values (sequence parallelism defaults to on with TP)."""
        sp_on = (tp > 1) if sp is None else (sp and tp > 1)
        vals = {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vp": vp, "mbs": mbs,
                "recompute": RECOMPUTE.index(recompute), "sharding": SHARDING.index(sharding), "sp": int(sp_on)}
        return cls(**{k: np.array([v], dtype=float) for k, v in vals.items()})

    def __len__(self) -> int:
        return len(self.tp)

    @property
    def gpus(self) -> np.ndarray:
        """GPUs per plan: ``tp * pp * cp * dp`` (expert parallelism re-partitions them)."""
        return self.tp * self.pp * self.cp * self.dp

    def take(self, index: Any) -> Plans:
        """The plans at ``index`` (a mask or indices)."""
        return Plans(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def row(self, i: int) -> dict[str, Any]:
        """Plan ``i`` as named, readable values."""
        out: dict[str, Any] = {f.name: int(getattr(self, f.name)[i]) for f in fields(self)}
        out["recompute"] = RECOMPUTE[out["recompute"]]
        out["sharding"] = SHARDING[out["sharding"]]
        out["sp"] = bool(out["sp"])
        return out
