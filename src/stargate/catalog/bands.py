"""How sure a catalog number is: sourced bands where sources disagree, and per-field confidence classes.

A catalog entry carries a ``confidence`` grade for its numbers as a whole. Two optional mappings
refine it field by field:

- ``bands``: a sourced low and high for a number on which sources disagree (street prices of a chip,
  a switch's price, a facility's cost per watt, a failure rate), keyed by the numeric field's name
  (a number inside a mapping field is ``field.key``: ``peak_flops_per_s.bf16``); the entry's own value
  lies inside it;
- ``field_confidence``: the class of a field that differs from its entry's grade (a datasheet chip whose
  scale-out rate is derived is ``estimate`` on that field).

:func:`stargate.uncertainty.bands.catalog_band` reads both, so ``stargate catalog show`` and the
propagation of uncertainty read the same band.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from stargate.errors import InputError
from stargate.inputs import INPUT_CONFIG, MAX_CATALOG_NUMBER

__all__ = ["FieldClass", "SourcedBand", "check_bands", "entry_bands", "numeric_fields"]

FieldClass = Literal["datasheet", "vendor", "estimate", "assumption"]
"""Confidence class of one field (half-widths in :data:`stargate.uncertainty.bands.CLASSES`)."""

_Number = Annotated[float, Field(ge=-MAX_CATALOG_NUMBER, le=MAX_CATALOG_NUMBER)]


class SourcedBand(BaseModel):
    """A low and a high of one catalog number, read as its P10 and P90, where sources disagree.

    Examples
    --------
    >>> SourcedBand(low=25000, high=40000, source="street estimates", date="2026").high
    40000.0
    """

    model_config = INPUT_CONFIG

    low: _Number
    """Lowest credible value the sources give (the P10), in the field's own unit."""
    high: _Number
    """Highest credible value the sources give (the P90), in the field's own unit."""
    source: str = Field(min_length=3)
    """The sources of the low and the high: documents, pages or reports, enough to find them again."""
    date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """Date of the newest of those sources (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""

    @model_validator(mode="after")
    def _ordered(self) -> SourcedBand:
        if self.low > self.high:
            raise InputError("high", self.high, f"a high no lower than the low ({self.low:g})")
        return self


def numeric_fields(entry: BaseModel) -> dict[str, float]:
    """Every number of an entry by the key a band uses: plain numeric fields, and ``field.key`` for a
    mapping of numbers; unset optional fields and flags are not numbers.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> nums = numeric_fields(Catalog.load().accelerator("h100"))
    >>> nums["tdp_w"], nums["peak_flops_per_s.bf16"]
    (700.0, 989400000000000.0)
    """
    out: dict[str, float] = {}
    for name in type(entry).model_fields:
        value = getattr(entry, name)
        if isinstance(value, dict):
            out.update({f"{name}.{_key(k)}": float(v) for k, v in value.items() if _is_number(v)})
        elif _is_number(value):
            out[name] = float(value)
    return out


def _key(k: Any) -> str:
    return str(getattr(k, "value", k))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_bands(entry: BaseModel) -> None:
    """Refuse a sourced band or a field class that names no number of the entry, and a band that does not
    contain the entry's own value.

    Raises
    ------
    InputError
        Naming ``bands.FIELD`` (or ``field_confidence.FIELD``), the value and what is allowed.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> h100 = Catalog.load().accelerator("h100")
    >>> check_bands(h100)
    >>> bad = h100.model_copy(update={"bands": {"price_usd": SourcedBand(low=1, high=2, source="x y", date="2026")}})
    >>> check_bands(bad)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: bands.price_usd: '1..2' is not allowed; expected a low and a high around the entry's \
price_usd (27,500)
    """
    numbers = numeric_fields(entry)
    known = ", ".join(sorted(numbers))
    for mapping in ("bands", "field_confidence"):
        for name in getattr(entry, mapping, None) or {}:
            if name not in numbers:
                raise InputError(f"{mapping}.{name}", name, f"a numeric field of the entry: {known}")
    for name, band in (getattr(entry, "bands", None) or {}).items():
        value = numbers[name]
        if not band.low <= value <= band.high or not math.isfinite(value):
            raise InputError(f"bands.{name}", f"{band.low:g}..{band.high:g}",
                             f"a low and a high around the entry's {name} ({value:,.6g})")


def entry_bands(entry: BaseModel, kind: str) -> dict[str, dict[str, Any]]:
    """The P10–P90 band of every uncertain number of an entry, as ``stargate catalog show`` reports it.

    Every float field (and every number in a mapping of floats) has a band; integers (counts, years) are
    exact unless a sourced band or a field class names them. The band is
    :func:`stargate.uncertainty.bands.catalog_band`'s, the one propagation samples.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> b = entry_bands(Catalog.load().accelerator("h100"), "accelerators")
    >>> b["price_usd"]["p10"], b["price_usd"]["p90"], b["price_usd"]["basis"]
    (25000.0, 36000.0, 'sourced')
    >>> b["tdp_w"]["basis"], round(b["tdp_w"]["p90"], 1)
    ('datasheet', 721.0)
    """
    from stargate.uncertainty.bands import catalog_band

    named = set(getattr(entry, "bands", None) or {}) | set(getattr(entry, "field_confidence", None) or {})
    out: dict[str, dict[str, Any]] = {}
    for name, value in numeric_fields(entry).items():
        root = name.split(".", 1)[0]
        if not isinstance(_raw(entry, name), float) and name not in named and root not in named:
            continue
        band = catalog_band(entry, kind, name, value=value)
        row: dict[str, Any] = {"point": band.point, "p10": band.low, "p90": band.high}
        sourced = (getattr(entry, "bands", None) or {}).get(name)
        if sourced is None:
            row["basis"] = band.basis
        else:
            row.update(basis="sourced", source=sourced.source, date=sourced.date)
        out[name] = row
    return out


def _raw(entry: BaseModel, name: str) -> Any:
    """The value of ``field`` or ``field.key`` as the entry holds it (int or float)."""
    field, _, key = name.partition(".")
    value = getattr(entry, field)
    return next((v for k, v in value.items() if _key(k) == key), None) if key else value
