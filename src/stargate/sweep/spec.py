"""Sweep specifications: axes, fixed fields, constraints and objectives, expanded lazily.

A spec is YAML::

    name: small
    axes:                                   # the cross product of these is the sweep
      accelerator: [h100, gb200]
      fabric: [infiniband, ethernet]
      budget_usd: {start: 1e9, stop: 1e11, num: 5, scale: log}
    fixed: {model: llama3.1-70b, training_days: 100}
    constraints: ["facility_power_w <= 5e9", "fits"]
    objectives: [capex_usd, time_to_train_s, facility_power_w]

Point ``i`` of the sweep is decoded from ``i`` in mixed radix (the last axis fastest), so a chunk
of points is an index range and nothing is materialised before it is evaluated. A point's
``design_id`` hashes its field values, so it is the same for the same point in any spec.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from stargate.errors import InputError
from stargate.units import parse_count

__all__ = ["AXES", "SweepSpec", "design_ids", "points"]

# Every field a sweep point can set, with its default (None: required, or one of a sizing set).
AXES: dict[str, Any] = {
    "accelerator": None,
    "gpus": None,
    "budget_usd": None,
    "power_w": None,
    "fabric": "infiniband",
    "topology": "rail-optimized",
    "energy_source": "grid-us",
    "model": "llama3.1-70b",
    "seq_len": 8192,
    "global_batch": 2048,
    "precision": "bf16",
    "training_days": 100.0,
    "training_tokens": 0.0,
    "sites": 1,
    "site_distance_m": 100e3,
    # The reference serving workload of the serving columns (absent: a scenario's default workload,
    # :class:`~stargate.scenario.ServingWorkload`); None keeps them out of a point, and of its design_id.
    "serving_model": None,
    "serving_input_tokens": None,
    "serving_output_tokens": None,
    "serving_tokens_per_user": None,
    "serving_ttft_s": None,
    "serving_precision": None,
}
SERVING_AXES = {f"serving_{k}": k for k in ("model", "input_tokens", "output_tokens", "tokens_per_user", "ttft_s",
                                             "precision")}
"""Sweep fields of the reference serving workload, and the :class:`~stargate.scenario.ServingWorkload` field each sets."""
SIZING = ("gpus", "budget_usd", "power_w")
NUMERIC = {"gpus", "budget_usd", "power_w", "seq_len", "global_batch", "training_days", "training_tokens", "sites",
           "site_distance_m", "serving_input_tokens", "serving_output_tokens", "serving_tokens_per_user", "serving_ttft_s"}
COUNTS = {"gpus", "seq_len", "global_batch", "training_tokens", "sites", "serving_input_tokens", "serving_output_tokens"}
"""Fields whose values may be written as counts with a scale letter (``100k``, ``8k``, ``15T``)."""
MAX_POINTS = 10**10
"""Largest sweep, even with ``--yes``."""
MAX_CHUNKS = 10**7
"""Most chunks a sweep may have."""


class Range(BaseModel):
    """A numeric axis given as a range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: float
    stop: float
    num: Annotated[int, Field(ge=1, le=1_000_000)]
    scale: str = Field("linear", pattern=r"^(linear|log)$")

    def values(self) -> list[float]:
        if self.scale == "log":
            if self.start <= 0 or self.stop <= 0:
                raise ValueError("a log range needs positive start and stop")
            return list(np.geomspace(self.start, self.stop, self.num))
        return list(np.linspace(self.start, self.stop, self.num))


class SweepSpec(BaseModel):
    """A design-space sweep."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str
    """Sweep name."""
    axes: dict[str, list[Any] | Range]
    """Fields to vary: a list of values, or a numeric range."""
    fixed: dict[str, Any] = {}
    """Fields held constant."""
    constraints: list[str] = []
    """Conditions a design must meet: boolean DuckDB expressions over the result columns
    (``"facility_power_w <= 5e9"``, ``"fits"``); see :mod:`stargate.sweep.constraints`."""
    objectives: list[str] = ["capex_usd", "time_to_train_s", "facility_power_w"]
    """Columns to minimise (prefix ``-`` to maximise) for the Pareto front."""
    chunk_size: Annotated[int, Field(ge=1, le=1_000_000)] = 5000
    """Points per chunk: the unit of work, of storage and of resumption."""
    max_points: Annotated[int, Field(ge=1)] = 2_000_000
    """Size limit: a larger sweep needs ``--yes``."""

    @field_validator("axes", mode="before")
    @classmethod
    def _range_counts(cls, axes: Any) -> Any:
        """A count axis's range ends read like its listed values (``{start: 10k, stop: 1M}``)."""
        if not isinstance(axes, dict):
            return axes
        return {k: {**v, **{e: _range_end(k, e, v[e]) for e in ("start", "stop") if e in v}} if isinstance(v, dict) else v
                for k, v in axes.items()}

    @field_validator("axes")
    @classmethod
    def _axes(cls, axes: dict[str, Any]) -> dict[str, Any]:
        if not axes:
            raise ValueError("a sweep needs at least one axis")
        for key, values in axes.items():
            if key not in AXES:
                raise ValueError(f"unknown axis '{key}'; known: {', '.join(AXES)}")
            if isinstance(values, list) and not values:
                raise ValueError(f"axis '{key}' is empty")
        return {k: [_count(k, v) for v in vs] if isinstance(vs, list) else vs for k, vs in axes.items()}

    @field_validator("fixed")
    @classmethod
    def _fixed(cls, fixed: dict[str, Any]) -> dict[str, Any]:
        for key in fixed:
            if key not in AXES:
                raise ValueError(f"unknown fixed field '{key}'; known: {', '.join(AXES)}")
        return {k: _count(k, v) for k, v in fixed.items()}

    def values(self) -> dict[str, list[Any]]:
        """Each axis's values, in order."""
        return {k: (v.values() if isinstance(v, Range) else list(v)) for k, v in self.axes.items()}

    @property
    def size(self) -> int:
        """Number of points."""
        return math.prod(v.num if isinstance(v, Range) else len(v) for v in self.axes.values())

    def check(self) -> None:
        """Everything that can be checked before any work: exactly one sizing, an accelerator, every
        axis and fixed value (:func:`~stargate.sweep.values.check_values`), the size, the constraints
        (:func:`~stargate.sweep.constraints.compile_constraints`) and the objectives."""
        given = set(self.axes) | set(self.fixed)
        sizing = [s for s in SIZING if s in given]
        if len(sizing) != 1:
            raise InputError("sizing", ", ".join(sizing) or "none", "exactly one of gpus, budget_usd, power_w as an axis or fixed field")
        if "accelerator" not in given:
            raise InputError("accelerator", "missing", "an accelerator axis or fixed field")
        both = set(self.axes) & set(self.fixed)
        if both:
            raise InputError("fixed", min(both), "a field that is not also an axis")
        from stargate.sweep.constraints import compile_constraints
        from stargate.sweep.schema import result_columns
        from stargate.sweep.values import check_values

        check_values(self)
        if self.size > MAX_POINTS or -(-self.size // self.chunk_size) > MAX_CHUNKS:
            raise InputError("spec", f"{self.size:,} points in chunks of {self.chunk_size:,}",
                             f"at most {MAX_POINTS:,} points and {MAX_CHUNKS:,} chunks")
        columns = result_columns(self)
        compile_constraints(self.constraints, columns)
        for i, o in enumerate(self.objectives):
            if not isinstance(o, str) or columns.get(o.removeprefix("-")) not in ("double", "int64"):
                numeric = ", ".join(k for k, t in columns.items() if t in ("double", "int64"))
                raise InputError(f"objectives[{i}]", o, f"a numeric result column, '-' in front to maximise ({numeric})")


def points(spec: SweepSpec, start: int, stop: int) -> dict[str, np.ndarray]:
    """Field values of points ``start`` to ``stop`` (exclusive), one array per field.

    Examples
    --------
    >>> s = SweepSpec(name="t", axes={"accelerator": ["h100", "gb200"], "gpus": [8, 16, 32]})
    >>> points(s, 2, 5)["gpus"].tolist()
    [32.0, 8.0, 16.0]
    """
    values = spec.values()
    index = np.arange(start, stop, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for key in reversed(list(values)):
        vals = np.asarray(values[key], dtype=object if not _numeric(key) else float)
        out[key] = vals[index % len(vals)]
        index //= len(vals)
    n = stop - start
    for key, default in AXES.items():
        if key in out:
            continue
        value = spec.fixed.get(key, default)
        if value is not None:
            out[key] = np.full(n, value, dtype=object if not _numeric(key) else float)
    return {k: out[k] for k in AXES if k in out}


def _count(key: str, value: Any) -> Any:
    """A count field's text (``"100k"``, ``"15T"``) as its number, read as the CLI reads it; any other
    value as given, for :func:`~stargate.sweep.values.check_values` to check and name."""
    if key not in COUNTS or not isinstance(value, str):
        return value
    try:
        count = parse_count(value, key, binary_k=key == "seq_len")
    except InputError:
        return value
    return float(count) if key == "training_tokens" else count


def _range_end(key: str, end: str, value: Any) -> Any:
    """A range end of a count axis given as text, read as a count (``"10k"``); an unreadable one is
    an error naming ``axes.KEY.END``, as the listed values' errors name theirs."""
    if key not in COUNTS or not isinstance(value, str):
        return value
    return float(parse_count(value, f"axes.{key}.{end}", binary_k=key == "seq_len"))


def _numeric(key: str) -> bool:
    return key in NUMERIC


def design_ids(cols: dict[str, np.ndarray]) -> list[str]:
    """A stable id per point: a hash of its field values (the same point gets the same id in any spec)."""
    keys = list(cols)
    n = len(next(iter(cols.values())))
    out = []
    for i in range(n):
        canon = json.dumps({k: _plain(cols[k][i]) for k in keys}, sort_keys=True)
        out.append(hashlib.sha1(canon.encode()).hexdigest()[:16])
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return float(f"{float(v):.12g}")
    if isinstance(v, np.integer):
        return int(v)
    return v
