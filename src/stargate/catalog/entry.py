"""What every catalog entry has: identity, provenance (``source``, ``date``), confidence and bands,
numbers within bounds; a priced entry's price with its own provenance; and the constrained types the
entries' fields share (``Id``, ``Positive``, ``Fraction``, ``Confidence``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from stargate.catalog.bands import FieldClass, SourcedBand, check_bands
from stargate.inputs import INPUT_CONFIG, MAX_CATALOG_INT, MAX_CATALOG_NUMBER

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=64)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class Entry(BaseModel):
    """Fields shared by every catalog entry: identity and provenance."""

    model_config = INPUT_CONFIG

    id: Id
    """Canonical identifier, lower case (``h100-sxm-80g``)."""
    name: str
    """Human-readable name."""
    source: str = Field(min_length=3)
    """Where the entry's numbers come from: document, page or paper, enough to find it again."""
    date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """Date of the source (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    notes: str = ""
    """Caveats: what is derived, estimated, or disputed."""
    confidence: Literal["high", "medium", "low"] | None = None
    """How far the entry's numbers can be trusted: ``high`` (vendor datasheet or documentation),
    ``medium`` (vendor announcement or several consistent reports), ``low`` (estimates, unreleased
    parts, single third-party reports). Unset on entries not yet graded."""
    bands: dict[str, SourcedBand] = {}
    """Sourced lows and highs (P10, P90) of the numbers on which sources disagree, by field name
    (``field.key`` for a number in a mapping, ``peak_flops_per_s.bf16``); each contains the entry's value."""
    field_confidence: dict[str, FieldClass] = {}
    """Confidence class of a numeric field where it differs from the entry's grade (``datasheet``,
    ``vendor``, ``estimate``, ``assumption``; half-widths in ``stargate.uncertainty.bands.CLASSES``)."""

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        """Every number of an entry within bounds (:data:`~stargate.inputs.MAX_CATALOG_NUMBER`)."""
        for v in value.values() if isinstance(value, dict) else (value if isinstance(value, tuple) else (value,)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            limit = MAX_CATALOG_INT if isinstance(v, int) else MAX_CATALOG_NUMBER
            if abs(v) > limit:
                raise ValueError(f"a number of magnitude at most {limit:.0e}")
        return value

    @model_validator(mode="after")
    def _bands_fit(self) -> Entry:
        check_bands(self)
        return self

    def __hash__(self) -> int:
        """Hash of the entry's numbers without its bands (mappings), so that an entry without other
        mappings stays usable as a cache key; equal entries still hash equal."""
        return hash(tuple(v for k, v in self.__dict__.items() if k not in ("bands", "field_confidence")))


class Priced(Entry):
    """An entry with a price estimate that has its own provenance."""

    price_usd: Positive
    """Price estimate in US dollars (no vendor publishes list prices; these are estimates)."""
    price_source: str = Field(min_length=3)
    """Where the price estimate comes from, or how it was derived."""
    price_date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    """Date of the price source."""


Confidence = Literal["high", "medium", "low"]
"""How far a number can be trusted: ``high`` = vendor, company or paper; ``medium`` = reputable
analyst or press; ``low`` = secondary source or an estimate derived here."""
