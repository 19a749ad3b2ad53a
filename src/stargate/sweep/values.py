"""Every value of a sweep spec checked before any work: types, finiteness, bounds, known names.

A sweep that fails on its 40,000th point with a traceback has wasted the 39,999 before it, so
:func:`check_values` looks at every axis value and fixed field first and names the first bad one
the way the user wrote it (``axes.gpus[0]``, ``axes.budget_usd.start``, ``fixed.model``):

- names (accelerator, energy source, model, fabric, topology, precision) must be known to the
  catalog, the model presets (or be a readable ``config.json``) or the enumerations;
- whole numbers (``gpus``, ``seq_len``, ``global_batch``, ``sites``) must be integers (or
  integral floats) within :data:`INT_BOUNDS`; booleans are not numbers;
- other numbers must be finite and within :data:`FLOAT_BOUNDS`; a numeric string such as
  ``"1e9"`` (which YAML reads as a string) is read as a number, nothing else is;
- an axis may not repeat a value (two points would share a ``design_id``), and a range must
  have distinct values within the bounds.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from stargate.errors import InputError
from stargate.inputs import MAX_BATCH, MAX_GPUS, MAX_POWER_W, MAX_SEQ_LEN, MAX_TOKENS, MAX_USD

if TYPE_CHECKING:
    from stargate.sweep.spec import SweepSpec

__all__ = ["FLOAT_BOUNDS", "INT_BOUNDS", "MAX_NAME_CHARS", "check_values"]

INT_BOUNDS: dict[str, tuple[int, int]] = {
    "gpus": (1, MAX_GPUS), "seq_len": (1, MAX_SEQ_LEN), "global_batch": (1, MAX_BATCH), "sites": (1, 64),
    "serving_input_tokens": (1, MAX_SEQ_LEN), "serving_output_tokens": (1, MAX_SEQ_LEN),
}
"""Inclusive bounds of the whole-number fields (the same as the CLI's, :mod:`stargate.inputs`)."""
FLOAT_BOUNDS: dict[str, tuple[float, float, str]] = {
    "budget_usd": (0.0, MAX_USD, "US dollars"), "power_w": (0.0, MAX_POWER_W, "watts"),
    "training_days": (0.0, 36_500.0, "days"), "training_tokens": (-1.0, MAX_TOKENS, "tokens (0: 20 per active parameter)"),
    "site_distance_m": (0.0, 4e7, "metres"), "serving_tokens_per_user": (0.0, 10_000.0, "tokens/s per user"),
    "serving_ttft_s": (0.0, 3600.0, "seconds"),
}
"""Exclusive lower and inclusive upper bounds of the other numeric fields, and their unit."""
MAX_NAME_CHARS = 200
"""Longest name (accelerator, model, ...) accepted."""
PRECISIONS = ("bf16", "fp16", "fp8", "mxfp8", "nvfp4")

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(field: str, value: Any) -> float:
    """``value`` as a finite float, or an error naming ``field``."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(field, value, _allowed(field.split(".")[1].split("[")[0]))
    if isinstance(value, int) and abs(value) > 10**18:
        raise InputError(field, value, _allowed(field.split(".")[1].split("[")[0]))
    if not math.isfinite(value):
        raise InputError(field, value, "a finite number")
    return float(value)


def _allowed(key: str) -> str:
    if key in INT_BOUNDS:
        first, last = INT_BOUNDS[key]
        return f"a whole number from {first:,} to {last:,}"
    lo, hi, unit = FLOAT_BOUNDS[key]
    low = "0" if lo == -1.0 else "above 0"
    return f"a number of {unit} from {low} to {hi:g}"


def _numeric(field: str, key: str, value: Any, ranged: bool = False) -> float:
    x = _number(field, value)
    if key in INT_BOUNDS:
        first, last = INT_BOUNDS[key]
        if not first <= x <= last or (not ranged and x != int(x)):
            raise InputError(field, value, _allowed(key))
        return x
    lo, hi, _ = FLOAT_BOUNDS[key]
    if not (x > lo if lo != -1.0 else x >= 0) or x > hi:
        raise InputError(field, value, _allowed(key))
    return x


def _name(field: str, key: str, value: Any) -> str:
    from stargate.enums import Fabric, Topology

    choices = {"fabric": [f.value for f in Fabric], "topology": [t.value for t in Topology], "precision": PRECISIONS,
               "serving_precision": ("bf16", "fp8", "fp4")}
    if key in choices:
        if value not in choices[key]:
            raise InputError(field, value, f"one of {', '.join(choices[key])}")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_CHARS:
        what = ("a model preset name or a config.json path" if key.endswith("model")
                else f"an {key.replace('_', ' ')} id")
        raise InputError(field, value, f"{what} (text of at most {MAX_NAME_CHARS} characters)")
    try:
        _lookup(key, value)
    except InputError as e:
        raise InputError(field, value, e.allowed) from None
    return value


def _lookup(key: str, value: str) -> None:
    from stargate.catalog import Catalog

    if key == "accelerator":
        Catalog.load().accelerator(value)
    elif key == "energy_source":
        Catalog.load().energy_source(value)
    elif key in ("model", "serving_model"):
        from stargate.training.presets import load_model

        load_model(value)


def _check_axis(key: str, values: Any) -> None:
    from stargate.sweep.spec import NUMERIC, Range, _plain

    if isinstance(values, Range):
        if key not in NUMERIC:
            raise InputError(f"axes.{key}", "a range", f"a list of {key.replace('_', ' ')} names")
        for end in ("start", "stop"):
            _numeric(f"axes.{key}.{end}", key, getattr(values, end), ranged=True)
        if values.scale == "log" and min(values.start, values.stop) <= 0:
            raise InputError(f"axes.{key}.start", values.start, "positive start and stop for a log range")
        if values.num > 1 and values.start == values.stop:
            raise InputError(f"axes.{key}.stop", values.stop, "a stop different from start when num > 1")
        seen = [_plain(v) for v in values.values()]
        if len(set(seen)) != len(seen):
            raise InputError(f"axes.{key}.num", values.num, "fewer points: values closer than 12 significant digits repeat")
        return
    seen_at: dict[Any, int] = {}
    for i, v in enumerate(values):
        field = f"axes.{key}[{i}]"
        canon = _plain(_numeric(field, key, v)) if key in NUMERIC else _name(field, key, v)
        if canon in seen_at:
            raise InputError(field, v, f"a value not already in the axis (it repeats axes.{key}[{seen_at[canon]}])")
        seen_at[canon] = i


def check_values(spec: SweepSpec) -> None:
    """Check every axis value and fixed field of ``spec``; the first bad one raises.

    Raises
    ------
    InputError
        Naming the value's place in the spec (``axes.gpus[0]``, ``fixed.model``).

    Examples
    --------
    >>> from stargate.sweep.spec import SweepSpec
    >>> check_values(SweepSpec(name="t", axes={"accelerator": ["h100"], "gpus": ["abc"]}))
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: axes.gpus[0]: 'abc' is not allowed; expected a whole number from 1 to 30,000,000
    """
    from stargate.sweep.spec import NUMERIC

    if len(spec.name) > MAX_NAME_CHARS or not spec.name.strip():
        raise InputError("name", spec.name, f"a sweep name of 1 to {MAX_NAME_CHARS} characters")
    for key, values in spec.axes.items():
        _check_axis(key, values)
    for key, value in spec.fixed.items():
        if isinstance(value, (list, dict)):
            raise InputError(f"fixed.{key}", value, "a single value (put a list of values under axes)")
        if key in NUMERIC:
            _numeric(f"fixed.{key}", key, value)
        else:
            _name(f"fixed.{key}", key, value)
