"""What every answering command takes for its ranges: ``--uncertainty [N]``, ``--seed S`` and typed ranges.

The shells (CLI, Python API, web API, scenario files) read these the same way through the functions
here: :func:`samples` and :func:`seed` read the two options, :func:`typed_ranges` turns ``LOW..HIGH``
sizing values (``--budget 90e9..110e9``, ``--power "4.5 GW..5.5 GW"``, ``--gpus 90000..110000``) into
their midpoints, which the point answer uses, and uniform inputs for the Monte Carlo, and
:func:`with_ranges` adds the ``ranges`` and ``uncertainty`` objects of the command contracts to an answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from stargate.errors import InputError
from stargate.inputs import MAX_GPUS, MAX_POWER_W, MAX_USD
from stargate.uncertainty.bands import Uncertain, from_range
from stargate.uncertainty.propagate import DEFAULT_SAMPLES, MAX_SAMPLES, Model, propagate
from stargate.units import format_quantity, format_usd, parse_count, parse_quantity, parse_range, parse_usd

__all__ = ["MAX_SEED", "PROGRESS_CHUNK", "SIZING_RANGES", "midpoint_notes", "samples", "seed", "typed_ranges",
           "with_ranges"]

MAX_SEED = 2**32 - 1
"""Largest seed (numpy's seed range)."""
PROGRESS_CHUNK = 20_000
"""Samples evaluated between two updates of a progress bar."""


def _power(value: Any, field: str) -> float:
    return parse_quantity(value, "power", field)


SIZING_RANGES: dict[str, tuple[Callable[[Any, str], float], float, Callable[[float], str]]] = {
    "gpus": (parse_count, MAX_GPUS, lambda x: f"{x:,.0f} GPUs"),
    "budget_usd": (parse_usd, MAX_USD, format_usd),
    "power_w": (_power, MAX_POWER_W, lambda x: format_quantity(x, "W")),
}
"""Sizing fields that take a range: how one side is read, the largest value, how a value is written."""


def samples(value: Any, field: str = "--uncertainty") -> int:
    """Samples of ``--uncertainty``: a whole number from 0 (off) to :data:`MAX_SAMPLES`; None is off.

    Examples
    --------
    >>> samples("10k"), samples(None), samples(0)
    (10000, 0, 0)
    """
    return _whole(value, field, MAX_SAMPLES, f"a number of samples from 1 to {MAX_SAMPLES:,} (0: off; bare: {DEFAULT_SAMPLES:,})")


def seed(value: Any, field: str = "--seed") -> int:
    """The seed of the samples: a whole number from 0 to :data:`MAX_SEED`.

    Examples
    --------
    >>> seed("42"), seed(None)
    (42, 0)
    """
    return _whole(value, field, MAX_SEED, f"a whole number from 0 to {MAX_SEED:,}")


def _whole(value: Any, field: str, most: int, allowed: str) -> int:
    """A count from 0 to ``most`` (None: 0), read as counts are."""
    n = 0 if value is None else parse_count(value, field)
    if not 0 <= n <= most:
        raise InputError(field, value, allowed)
    return n


def typed_ranges(data: Mapping[str, Any], options: Mapping[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Uncertain]]:
    """The sizing values typed as ``LOW..HIGH`` replaced by their midpoints, and their uniform inputs.

    Parameters
    ----------
    data : mapping
        Request fields as typed (``{"budget_usd": "90e9..110e9", ...}``).
    options : mapping, optional
        The option each field was typed as (``{"budget_usd": "--budget"}``): the input's name.

    Examples
    --------
    >>> point, ranges = typed_ranges({"accelerator": "gb200", "budget_usd": "90e9..110e9"}, {"budget_usd": "--budget"})
    >>> point["budget_usd"], ranges["budget_usd"].low, ranges["budget_usd"].key
    (100000000000.0, 90000000000.0, '--budget')
    """
    point, ranges = dict(data), {}
    for field, (read, most, fmt) in SIZING_RANGES.items():
        value = data.get(field)
        ends = parse_range(value, read, field)
        if ends is None:
            continue
        low, high = ends
        if not 0 < low <= high <= most:
            raise InputError(field, value, f"LOW..HIGH between 0 (excluded) and {fmt(most)}")
        band = from_range((options or {}).get(field, field), float(low), float(high))
        ranges[field] = band
        point[field] = math.ceil(band.point) if field == "gpus" else band.point
    return point, ranges


def midpoint_notes(ranges: Mapping[str, Uncertain], sampled: bool) -> list[str]:
    """What an answer says about the ranges it was given.

    Examples
    --------
    >>> midpoint_notes({"budget_usd": from_range("--budget", 90e9, 110e9)}, sampled=False)
    ['--budget $90.0B..$110.0B: the point answer is at its midpoint, $100.0B (add --uncertainty for the range of answers)']
    """
    out = []
    for field, band in ranges.items():
        fmt = SIZING_RANGES[field][2]
        then = "the ranges sample it uniformly" if sampled else "add --uncertainty for the range of answers"
        out.append(f"{band.label} {fmt(band.low)}..{fmt(band.high)}: the point answer is at its midpoint, {fmt(band.point)} ({then})")
    return out


def with_ranges(answer: dict[str, Any], model: Model, n: int, seed: int = 0,
                progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """``answer`` with the ``ranges`` (P10/P50/P90 of every headline) and ``uncertainty`` objects of ``n`` samples.

    Examples
    --------
    >>> from stargate.uncertainty.bands import Uncertain
    >>> m = Model((Uncertain("price", "p", 10.0, 8.0, 12.5, "estimate"),), lambda v: {"cost_usd": 3 * v["p"]})
    >>> out = with_ranges({"cost_usd": 30.0}, m, 500, seed=1)
    >>> out["ranges"]["cost_usd"]["p10"] < 30.0 < out["ranges"]["cost_usd"]["p90"], out["uncertainty"]["samples"]
    (True, 500)
    """
    r = propagate(model, n, seed, progress=progress, chunk=PROGRESS_CHUNK if progress is not None else None)
    return {**answer, "ranges": r.ranges, "uncertainty": r.block()}
