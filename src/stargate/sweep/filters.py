"""Filters and groupings over a sweep's result columns, as typed on the command line or in a URL.

``--where`` is a comma-separated list of conditions ``COLUMN OP VALUE``, all of which must hold:

- ``OP`` is one of ``=`` (or ``==``), ``!=``, ``<``, ``<=``, ``>``, ``>=``;
- on a text column (``accelerator``, ``model``, ...) only ``=`` and ``!=``, and the value is one
  of the column's values, or several separated by ``|`` (``accelerator=gb200|gb300``);
- on a number column the value is a number (``gpus_built>=100000``, ``1e5``), or a quantity in
  the column's unit: dollars for ``*_usd`` (``capex_usd<$50B``), power for ``*_w``
  (``facility_power_w<=1 GW``), time for ``*_s`` (``time_to_train_s<90 days``), length for
  ``*_m`` (``site_distance_m<=200 km``);
- on a true/false column (``fits``) the value is ``true`` or ``false``.

The text is never evaluated: it is split into conditions, each column is checked against the
results' columns, each value is read into a number, a name or a truth value, and the conditions
are applied to an Arrow table by pyarrow's compute functions (no SQL is written from them).
``--group-by`` is a comma-separated list of columns, or ``none``. Bad input is an
:class:`~stargate.errors.InputError` naming the condition as typed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from stargate.errors import InputError, clip

__all__ = ["MAX_ALTERNATIVES", "MAX_CONDITIONS", "MAX_GROUP_COLUMNS", "MAX_TEXT_CHARS", "Condition", "column_kind",
           "parse_group_by", "parse_where", "where_mask"]

MAX_TEXT_CHARS = 2_000
"""Longest ``--where`` or ``--group-by`` text accepted."""
MAX_CONDITIONS = 32
"""Most conditions one ``--where`` may hold."""
MAX_ALTERNATIVES = 256
"""Most ``|``-separated values one condition may hold."""
MAX_GROUP_COLUMNS = 8
"""Most columns one ``--group-by`` may name."""

_TERM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*(<=|>=|!=|==|=|<|>)\s*(\S(?:.*\S)?)\s*", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_WHERE_ALLOWED = ("conditions COLUMN OP VALUE separated by commas, OP one of = != < <= > >=, "
                  "e.g. 'accelerator=gb200|gb300,gpus_built>=100000'")
_UNITS = (("_usd", "usd"), ("_w", "power"), ("_s", "time"), ("_m", "length"))
_NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL"}


@dataclass(frozen=True)
class Condition:
    """One condition of a ``--where`` text: ``column op values`` (several values: any of them)."""

    column: str
    """A result column."""
    op: str
    """One of ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``."""
    values: tuple[Any, ...]
    """The values, read in the column's type (float, str or bool)."""
    text: str
    """The condition as typed, for error messages."""


def column_kind(duckdb_type: str) -> str:
    """``"number"``, ``"bool"`` or ``"text"`` for a DuckDB column type.

    Examples
    --------
    >>> column_kind("DOUBLE"), column_kind("BOOLEAN"), column_kind("VARCHAR"), column_kind("DECIMAL(18,3)")
    ('number', 'bool', 'text', 'number')
    """
    base = duckdb_type.split("(")[0].upper()
    return "number" if base in _NUMERIC else "bool" if base == "BOOLEAN" else "text"


def _check_text(field: str, text: str) -> str:
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS or not text.isprintable():
        raise InputError(field, text, f"printable text of at most {MAX_TEXT_CHARS:,} characters")
    return text


def _columns_hint(types: dict[str, str]) -> str:
    return clip(", ".join(types), 300)


def _read_value(column: str, kind: str, text: str, term: str) -> Any:
    """One value of a condition, read in its column's type and unit."""
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise InputError("where", term, f"true or false for {column}")
        return text.lower() == "true"
    if kind == "text":
        return text
    from stargate.units import parse_quantity, parse_usd

    dimension = next((d for suffix, d in _UNITS if column.endswith(suffix)), None)
    try:
        if dimension == "usd":
            return parse_usd(text, "where")
        if dimension is not None:
            return parse_quantity(text, dimension, "where")
        if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
            raise InputError("where", text, "a finite number")
        return float(text)
    except InputError as e:
        unit = {"usd": " or dollars like '$50B'", "power": " or a power like '1 GW'",
                "time": " or a time like '90 days'", "length": " or a length like '200 km'"}.get(dimension or "", "")
        raise InputError("where", term, f"a finite number{unit} for {column}") from e


def _condition(term: str, types: dict[str, str]) -> Condition:
    m = _TERM.fullmatch(term)
    if m is None:
        raise InputError("where", term.strip(), _WHERE_ALLOWED)
    column, op, value = m.group(1), "=" if m.group(2) == "==" else m.group(2), m.group(3)
    if column not in types:
        raise InputError("where", term.strip(), f"a condition on a result column ({_columns_hint(types)})")
    kind = column_kind(types[column])
    if kind != "number" and op not in ("=", "!="):
        raise InputError("where", term.strip(), f"= or != on {column} (a {kind} column); < <= > >= compare numbers")
    parts = value.split("|") if kind == "text" or op in ("=", "!=") else [value]
    if len(parts) > MAX_ALTERNATIVES or any(not p.strip() for p in parts):
        raise InputError("where", term.strip(), f"1 to {MAX_ALTERNATIVES} non-empty values separated by |")
    values = tuple(_read_value(column, kind, p.strip(), term.strip()) for p in parts)
    return Condition(column, op, values, term.strip())


def parse_where(text: str | None, types: dict[str, str]) -> list[Condition]:
    """The conditions of a ``--where`` text, checked against the result columns ``types`` (name -> DuckDB type).

    Examples
    --------
    >>> types = {"accelerator": "VARCHAR", "capex_usd": "DOUBLE", "fits": "BOOLEAN"}
    >>> [(c.column, c.op, c.values) for c in parse_where("accelerator=gb200|h100, capex_usd<$50B", types)]
    [('accelerator', '=', ('gb200', 'h100')), ('capex_usd', '<', (50000000000.0,))]
    >>> parse_where("accelerator<gb200", types)
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: where: 'accelerator<gb200' is not allowed; expected = or != on accelerator (a text column); < <= > >= compare numbers
    """
    if text is None or not _check_text("where", text).strip():
        return []
    terms = text.split(",")
    if len(terms) > MAX_CONDITIONS:
        raise InputError("where", text, f"at most {MAX_CONDITIONS} conditions separated by commas")
    if any(not t.strip() for t in terms):
        raise InputError("where", text, _WHERE_ALLOWED + " (this has an empty condition)")
    return [_condition(t, types) for t in terms]


def where_mask(table: Any, conditions: list[Condition]) -> Any:
    """Which rows of the Arrow ``table`` meet every condition (a boolean array; null where a value is null).

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"model": ["a", "b", "c", None], "mfu": [0.3, 0.5, 0.6, 0.7]})
    >>> where_mask(t, [Condition("model", "!=", ("a", "b"), ""), Condition("mfu", ">", (0.4,), "")]).to_pylist()
    [False, False, True, None]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    compare = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
               ">=": pc.greater_equal}
    mask = pa.array([True] * table.num_rows) if not conditions else None
    for c in conditions:
        column = table.column(c.column)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            column = pc.cast(column, pa.float64())  # values are floats: 12456 and 1.5 compare alike
        if len(c.values) > 1:
            hit = pc.is_in(column, value_set=pa.array(c.values, type=column.type))
            hit = pc.if_else(pc.is_null(column), None, hit)  # as SQL: null is in no list, nor out of it
            one = pc.invert(hit) if c.op == "!=" else hit
        else:
            one = compare[c.op](column, pa.scalar(c.values[0], type=column.type))
        mask = one if mask is None else pc.and_kleene(mask, one)
    return mask


def parse_group_by(text: str | None, types: dict[str, str]) -> list[str] | None:
    """The columns of a ``--group-by`` text; ``None`` when it is not given (the default grouping
    applies), ``[]`` for ``none``.

    Examples
    --------
    >>> types = {"model": "VARCHAR", "training_tokens": "DOUBLE"}
    >>> parse_group_by("model, training_tokens", types), parse_group_by("none", types), parse_group_by(None, types)
    (['model', 'training_tokens'], [], None)
    """
    if text is None:
        return None
    allowed = f"none, or 1 to {MAX_GROUP_COLUMNS} result columns separated by commas ({_columns_hint(types)})"
    if _check_text("group_by", text).strip().lower() == "none":
        return []
    names = [n.strip() for n in text.split(",")]
    if len(names) > MAX_GROUP_COLUMNS or any(not n for n in names):
        raise InputError("group_by", text, allowed)
    for n in names:
        if n not in types:
            raise InputError("group_by", n, allowed)
        if names.count(n) > 1:
            raise InputError("group_by", text, f"each column once ({n} is named twice)")
    return names
