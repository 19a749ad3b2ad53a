"""Bands of uncertain inputs: a point value with its P10 and P90.

A band is read as an 80% interval: the true value is below ``low`` one time in ten and above ``high``
one time in ten. Catalog numbers take their band from, in order:

1. a sourced ``bands`` entry on the catalog entry (where sources disagree: their low and high);
2. the confidence class of the field: prices are estimates unless stated otherwise (no vendor publishes
   list prices), fields listed in ``estimated_fields`` are estimates, and every other field takes the
   class of its entry's ``confidence`` grade (:data:`GRADE_CLASS`).

The classes and their half-widths (:data:`CLASSES`) are documented and justified in ``docs/uncertainty.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

__all__ = ["CLASSES", "GRADE_CLASS", "Uncertain", "catalog_band", "class_of", "from_range"]

CLASSES: dict[str, float] = {
    "datasheet": 0.03,
    "vendor": 0.15,
    "estimate": 0.25,
    "assumption": 0.50,
}
"""Half-width of each confidence class's P10–P90 band, as a fraction of the point value: the band is
``point / (1 + w)`` to ``point × (1 + w)`` (symmetric in log space). ``datasheet``: vendor datasheets and
documentation (the gap between nameplate and parts as built: clocks, SKUs, firmware); ``vendor``:
announcements or several consistent reports; ``estimate``: analyst or press estimates, prices;
``assumption``: round assumptions and single third-party reports. Justified in ``docs/uncertainty.md``
from the spread of independent sources over the same numbers (which put ``vendor`` at 15%, not 10%)."""

GRADE_CLASS: dict[str | None, str] = {"high": "datasheet", "medium": "vendor", "low": "estimate", None: "estimate"}
"""Class of a catalog field from its entry's ``confidence`` grade; an ungraded entry is an estimate."""

PRICE_FIELDS = ("price_usd", "rest_of_system_usd")
"""Fields that are prices: estimates at best, whatever the grade of the entry's other numbers."""


@dataclass(frozen=True, slots=True)
class Uncertain:
    """One uncertain input: its point value and its P10–P90 band.

    Examples
    --------
    >>> u = Uncertain("accelerator price", "accelerator/h100-sxm-80g/price_usd", 27500.0, 22000.0, 34375.0, "estimate")
    >>> round(u.relative_width, 4)
    0.45
    >>> u.widened(0.0).low == u.widened(0.0).high == 27500.0
    True
    """

    label: str
    """What a user reads (``h100-sxm-80g price``)."""
    key: str
    """Where the number lives: ``kind/id/field`` for a catalog number, ``option`` for a typed range, or a
    model's name (``training.prediction_interval``)."""
    point: float
    """The value the point answer uses."""
    low: float
    """P10 (uniform ranges: the lower end)."""
    high: float
    """P90 (uniform ranges: the upper end)."""
    basis: str
    """Why this band: a class name (``estimate``), ``sourced: ...`` or ``range typed by the user``."""
    shape: Literal["lognormal", "uniform"] = "lognormal"
    """``lognormal``: low and high are P10 and P90 of a split lognormal through the point (each side its
    own spread); ``uniform``: every value between low and high equally likely (a range the user typed)."""
    floor: float | None = None
    """Least value the number can take (a PUE's 1, an efficiency's 0): no draw goes below it."""
    ceiling: float | None = None
    """Greatest value the number can take (an efficiency's 1): no draw goes above it."""

    @property
    def relative_width(self) -> float:
        """``(high - low) / point`` (0 for a zero point)."""
        return (self.high - self.low) / abs(self.point) if self.point else 0.0

    def widened(self, factor: float) -> Uncertain:
        """The band with each side's distance from the point multiplied by ``factor`` (0 collapses it).

        A lognormal band is widened in log space, so it never reaches zero or changes sign.
        """
        if self.shape == "uniform":
            return replace(self, low=self.point - factor * (self.point - self.low),
                           high=self.point + factor * (self.high - self.point))
        if self.point <= 0:
            return replace(self, low=self.point, high=self.point) if factor == 0 else self
        low = self.point * (self.low / self.point) ** factor if self.low > 0 else self.point
        high = self.point * (self.high / self.point) ** factor if self.high > 0 else self.point
        return replace(self, low=low, high=high)

    def as_dict(self) -> dict[str, Any]:
        """The band as JSON answers report it."""
        return {"input": self.label, "key": self.key, "point": self.point, "p10": self.low, "p90": self.high,
                "basis": self.basis, "shape": self.shape}


def class_of(entry: Any, field: str) -> str:
    """Confidence class of one numeric field of a catalog entry.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> acc = Catalog.load().accelerator("h100")
    >>> class_of(acc, "price_usd")
    'estimate'
    """
    overrides = getattr(entry, "field_confidence", None) or {}
    root = field.split(".", 1)[0]  # a number inside a mapping (peak_flops_per_s.bf16) takes its mapping's class
    for name in (field, root):
        if name in overrides:
            return str(overrides[name])
    if root in PRICE_FIELDS or root.endswith("_usd") or "_usd_per_" in root:
        return "estimate" if getattr(entry, "confidence", None) != "low" else "assumption"
    if root in (getattr(entry, "estimated_fields", ()) or ()):
        return "estimate"
    return GRADE_CLASS.get(getattr(entry, "confidence", None), "estimate")


def catalog_band(entry: Any, kind: str, field: str, value: float | None = None, label: str | None = None) -> Uncertain:
    """The band of one numeric field of a catalog entry (``value`` for a field nested in a mapping).

    Parameters
    ----------
    entry : catalog entry
        The pydantic entry (``Catalog.accelerator("h100")``).
    kind : str
        Its catalog section (``accelerator``, ``switch``, ...), for the key.
    field : str
        The field name; its sourced band, else its class, sets the band.
    value : float, optional
        The point value when the field is not a plain attribute (a price per precision, a mapping entry).
    label : str, optional
        What a user reads; ``"<id> <field>"`` by default.

    Examples
    --------
    >>> from stargate.catalog import Catalog
    >>> b = catalog_band(Catalog.load().accelerator("h100"), "accelerator", "tdp_w")
    >>> b.low < b.point == 700.0 < b.high
    True
    >>> eth = catalog_band(Catalog.load().get("fabrics", "ethernet"), "fabric", "link_efficiency")
    >>> eth.point, eth.high, eth.ceiling  # an efficiency's band stops at 1
    (0.98, 1.0, 1.0)
    >>> pue = catalog_band(Catalog.load().cooling("direct_liquid_hd"), "cooling", "design_pue")
    >>> round(pue.low, 3), pue.point, round(pue.high, 4)  # the class band on the overhead above 1: 0.27 ± 25%
    (1.216, 1.27, 1.3375)
    """
    point = float(getattr(entry, field) if value is None else value)
    key = f"{kind}/{entry.id}/{field}"
    floor, ceiling = _bounds(entry, field)
    sourced = (getattr(entry, "bands", None) or {}).get(field)
    if sourced is not None:
        low, high, basis = min(float(sourced.low), point), max(float(sourced.high), point), f"sourced: {sourced.source}"
    else:
        basis = class_of(entry, field)
        base = floor if floor is not None and 0.0 < floor < point else 0.0  # a PUE's class band is on its overhead
        low, high = base + (point - base) / (1.0 + CLASSES[basis]), base + (point - base) * (1.0 + CLASSES[basis])
    low = low if floor is None else max(low, min(floor, point))
    high = high if ceiling is None else min(high, max(ceiling, point))
    return Uncertain(label or f"{entry.id} {field}", key, point, low, high, basis, floor=floor, ceiling=ceiling)


def _bounds(entry: Any, field: str) -> tuple[float | None, float | None]:
    """The least and greatest value the entry's schema allows a field (``ge``/``gt``, ``le``/``lt``)."""
    info = getattr(type(entry), "model_fields", {}).get(field)
    found = list(getattr(info, "metadata", ()))
    for arg in get_args(getattr(info, "annotation", None)):  # an optional field: Annotated[float, Field(...)] | None
        found.extend(getattr(arg, "__metadata__", ()))
    floor = ceiling = None
    for m in (c for f in found for c in (getattr(f, "metadata", None) or (f,))):
        lower = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else getattr(m, "gt", None)
        upper = getattr(m, "le", None) if getattr(m, "le", None) is not None else getattr(m, "lt", None)
        floor = float(lower) if lower is not None else floor
        ceiling = float(upper) if upper is not None else ceiling
    return floor, ceiling


def from_range(option: str, low: float, high: float) -> Uncertain:
    """A range the user typed (``--budget 90e9..110e9``): uniform between its ends, the midpoint its point.

    Examples
    --------
    >>> from_range("--budget", 90e9, 110e9).point
    100000000000.0
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ValueError("a range needs finite ends, low <= high")
    return Uncertain(option, option, (low + high) / 2.0, low, high, "range typed by the user", "uniform")
