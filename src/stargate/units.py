"""Quantities at the edges: parse ``"5 GW"``, ``"400 Gbit/s"``, ``"80 GiB"`` into SI floats.

Counts (accelerators, tokens, sequence lengths, batches) are read here too, by
:func:`parse_count`: ``"100k"``, ``"1.5M"``, ``"15T"``, ``"1e5"``, ``"49,152"``. Formatting
for output lives in :mod:`stargate.format` (re-exported here as :func:`format_quantity` and
:func:`format_usd`).

Inside Stargate every quantity is a plain float in SI base units, and the name says the unit
(``power_w``, ``hbm_bytes``). Pint is used only here, to read what people type and to print
what they read. Its unit registry takes about 0.4 s to build, so it is built on first use:
catalog files and CLI options given as plain numbers never pay for it.

Bits and bytes are distinct (``byte = 8 bit``), SI and IEC prefixes are exact (``GB`` is
10^9 bytes, ``GiB`` is 2^30 bytes), and a floating-point operation is its own dimension
(``flop``), so ``"989 TFLOP/s"`` cannot be mistaken for a frequency.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo

from stargate.errors import InputError
from stargate.format import format_quantity, format_usd
from stargate.inputs import MAX_SITE_DISTANCE_M

__all__ = [
    "DIMENSIONS", "MAX_QUANTITY_CHARS", "MAX_RANGE_CHARS", "Bits_per_s", "Bytes", "Bytes_per_s", "Count", "Flop_per_s", "Seconds", "SeqLen",
    "SiteDistance", "TokenCount", "Watts", "format_quantity", "format_usd", "parse_count", "parse_quantity", "parse_range",
    "parse_usd",
]

# Dimension name -> (pint unit the SI float is expressed in, example shown in errors).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "power": ("watt", "5 GW"),
    "energy": ("joule", "1.2 TWh"),
    "bytes": ("byte", "80 GiB"),
    "bytes_per_s": ("byte / second", "3.35 TB/s"),
    "bits_per_s": ("bit / second", "400 Gbit/s"),
    "flop_per_s": ("flop / second", "989 TFLOP/s"),
    "time": ("second", "100 days"),
    "length": ("meter", "2 km"),
}


@cache
def _registry() -> Any:
    import pint

    ureg: pint.UnitRegistry = pint.UnitRegistry()
    ureg.define("flop = [flop] = FLOP")
    ureg.define("flops = flop / second = FLOPS")
    return ureg


MAX_QUANTITY_CHARS = 64
"""Longest quantity string read; anything longer is refused before it is parsed."""

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d{1,4})?"
_TERM = r"[^\W\d]+(?:\s*(?:\^|\*\*)\s*-?\d)?"
_QUANTITY = re.compile(rf"\s*(?P<number>{_NUMBER})\s*(?P<unit>{_TERM}(?:\s*[/*·]\s*{_TERM}|\s+{_TERM})*)?\s*")


def parse_quantity(value: Any, dimension: str, field: str = "value") -> float:
    """Convert a number or a quantity string to a float in the SI unit of ``dimension``.

    A string is ``<number> [<unit>]`` and nothing else: no arithmetic, no exponent on a unit
    beyond one digit, at most :data:`MAX_QUANTITY_CHARS` characters, so reading a value can
    never take more than microseconds (pint would otherwise evaluate ``9**9**9 W``).

    Parameters
    ----------
    value : float, int or str
        A plain number (taken to be in SI base units already) or a string such as
        ``"5 GW"``; a numeric string (``"1e9"``) is a plain number.
    dimension : str
        One of the keys of :data:`DIMENSIONS`.
    field : str
        Name reported in the error when the value cannot be read.

    Returns
    -------
    float
        The value in the SI base unit of the dimension (W, bytes, bytes/s, bit/s, ...).

    Raises
    ------
    InputError
        If the string does not parse, has the wrong dimension, or is not finite.

    Examples
    --------
    >>> parse_quantity("5 GW", "power")
    5000000000.0
    >>> parse_quantity("80 GiB", "bytes")
    85899345920.0
    >>> parse_quantity("400 Gbit/s", "bytes_per_s")
    50000000000.0
    >>> parse_quantity("9**9**9 W", "power")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: value: '9**9**9 W' is not allowed; expected a finite '<number> <unit>' like '5 GW' (no arithmetic)
    """
    unit, example = DIMENSIONS[dimension]
    if isinstance(value, bool):
        raise InputError(field, value, f"a number or a quantity like '{example}'")
    try:
        if isinstance(value, (int, float)):
            out = float(value)
        elif isinstance(value, str):
            out = _parse_string(value, unit, example, field)
        else:
            raise InputError(field, value, f"a number or a quantity like '{example}'")
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        raise InputError(field, value, f"a finite number or a quantity like '{example}'")
    return out


def _parse_string(text: str, unit: str, example: str, field: str) -> float:
    if len(text) > MAX_QUANTITY_CHARS:
        raise InputError(field, text, f"a quantity of at most {MAX_QUANTITY_CHARS} characters like '{example}'")
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise InputError(field, text, f"a finite '<number> <unit>' like '{example}' (no arithmetic)")
    number = float(match["number"].replace(",", ""))
    if match["unit"] is None:
        return number
    import pint

    try:
        factor = _registry().Quantity(1.0, match["unit"].replace("·", "*")).to(unit).magnitude
    except pint.DimensionalityError:
        got = f"{_registry().Unit(match['unit'].replace('·', '*')):~}" or "no unit"
        raise InputError(field, text, f"a quantity in {unit} like '{example}', not in {got}") from None
    except Exception:  # noqa: BLE001 - pint raises many kinds of errors for unknown units
        raise InputError(field, text, f"a quantity like '{example}' with a known unit") from None
    return number * float(factor)


def _si(dimension: str) -> BeforeValidator:
    def convert(value: Any, info: ValidationInfo) -> float:
        return parse_quantity(value, dimension, info.field_name or "value")

    return BeforeValidator(convert)


# Pydantic field types: a positive SI float, written in a file as a number or a quantity string.
Watts = Annotated[float, _si("power"), Field(gt=0)]
Bytes = Annotated[float, _si("bytes"), Field(gt=0)]
Bytes_per_s = Annotated[float, _si("bytes_per_s"), Field(gt=0)]
Bits_per_s = Annotated[float, _si("bits_per_s"), Field(gt=0)]
Flop_per_s = Annotated[float, _si("flop_per_s"), Field(gt=0)]
Seconds = Annotated[float, _si("time"), Field(gt=0)]
"""A duration (s), written as a number of seconds or a time string (``"200 ms"``, ``"0.2 s"``)."""


def site_distance_m(value: Any) -> float:
    """A fibre route between two sites in metres, from metres or a length string; InputError
    (echoing ``value``) unless it is longer than 0 and at most
    :data:`~stargate.inputs.MAX_SITE_DISTANCE_M`.

    Examples
    --------
    >>> site_distance_m("1500 km")
    1500000.0
    """
    metres = parse_quantity(value, "length", "site_distance")
    if not 0 < metres <= MAX_SITE_DISTANCE_M:
        raise InputError("site_distance", value, f"a fibre route longer than 0 and at most {MAX_SITE_DISTANCE_M / 1e3:,.0f} km")
    return metres


SiteDistance = Annotated[float, BeforeValidator(site_distance_m)]
"""Fibre route between two sites (m), written as metres or a length string (``"1500 km"``)."""


_USD_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "t": 1e12}


def parse_usd(value: Any, field: str = "budget_usd") -> float:
    """Read a dollar amount: a number, or a string like ``"100e9"``, ``"$100B"``, ``"250M"``.

    Pint has no currencies, so this is the one quantity read here by hand: an optional ``$``,
    a number, and an optional scale letter (k, M, B or bn, T).

    Examples
    --------
    >>> parse_usd("$100B")
    100000000000.0
    >>> parse_usd(2.5e9)
    2500000000.0
    """
    allowed = "US dollars as a number or like '100e9', '$100B', '250M'"
    if isinstance(value, bool):
        raise InputError(field, value, allowed)
    if isinstance(value, (int, float)):
        out = float(value) if not isinstance(value, int) or value.bit_length() < 1024 else math.inf
    elif isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("$").strip().lower()
        number = text.rstrip("kmbnt ")
        scale = text[len(number):].strip()
        if len(text) > MAX_QUANTITY_CHARS:
            raise InputError(field, value, allowed)
        try:
            out = float(number) * _USD_SCALE[scale]
        except (ValueError, KeyError):
            raise InputError(field, value, allowed) from None
    else:
        raise InputError(field, value, allowed)
    if not math.isfinite(out):
        raise InputError(field, value, allowed)
    return out


_COUNT_SCALE = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12,
                "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_BINARY = {"k": "Ki", "K": "Ki", "M": "Mi", "G": "Gi", "B": "Gi", "T": "Ti"}
_COUNT = re.compile(r"(?a)\s*(?:(?P<grouped>\d{1,3}(?:,\d{3})+)|(?P<number>\d+(?:\.\d+)?|\.\d+)"
                    r"(?:[eE]\+?(?P<exp>\d{1,2}))?)\s*(?P<scale>[KMGT]i|[kKMGBT])?\s*")
COUNT_EXAMPLES = "49152, 49,152, 100k, 1.5M, 15T or 1e5"
"""What a count may look like, as error messages word it."""


def parse_count(value: Any, field: str = "value", binary_k: bool = False) -> int:
    """Read a count: a whole number, or a string with thousands separators, an exponent or a scale letter.

    ``k``/``K`` is a thousand, ``M`` a million, ``B`` or ``G`` a billion (10^9), ``T`` a trillion;
    ``Ki``, ``Mi``, ``Gi``, ``Ti`` are powers of 1024. Sequence lengths follow their own field's
    convention (an "8k context" is 8,192 tokens), so with ``binary_k`` the plain letters are powers
    of 1024 too. Thousands separators are commas in groups of three (``49,152``; ``1,5`` is refused
    as ambiguous). The number may have a decimal point when the scale makes it whole (``1.5M``);
    an exponent has at most two digits and takes no scale letter (``1e5``, not ``1e5k``). Nothing
    else is read: no sign, no arithmetic (``10**5``), no ``nan`` or ``inf``, no letters between digits
    (``1k1``). Bounds (at least 1, at most the field's maximum) are the caller's.

    Parameters
    ----------
    value : int, float or str
        What the user gave; a float must be whole.
    field : str
        Name reported in the error.
    binary_k : bool
        Read ``k``, ``M``, ``G``/``B``, ``T`` as powers of 1024 (sequence lengths).

    Returns
    -------
    int
        The count.

    Raises
    ------
    InputError
        If the value is not a whole count written as above.

    Examples
    --------
    >>> [parse_count(x) for x in ("100k", "1e5", "15T", "1.5M", "49,152", 49152, 1.0e5)]
    [100000, 100000, 15000000000000, 1500000, 49152, 49152, 100000]
    >>> parse_count("8k", "seq_len", binary_k=True), parse_count("128Ki")
    (8192, 131072)
    >>> parse_count("1k1", "--gpus")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --gpus: '1k1' is not allowed; expected a whole number like 49152, 49,152, 100k, 1.5M, 15T or 1e5
    """
    allowed = f"a whole number like {COUNT_EXAMPLES}"
    if isinstance(value, bool):
        raise InputError(field, value, allowed)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise InputError(field, value, allowed)
        return int(value)
    if not isinstance(value, str) or len(value) > MAX_QUANTITY_CHARS:
        raise InputError(field, value, allowed)
    match = _COUNT.fullmatch(value)
    if match is None or (match["exp"] and match["scale"]):
        raise InputError(field, value, allowed)
    from decimal import Decimal

    number = Decimal((match["grouped"] or match["number"]).replace(",", "")).scaleb(int(match["exp"] or 0))
    letter = match["scale"] or ""
    scale = _COUNT_SCALE[_BINARY.get(letter, letter) if binary_k else letter]
    count = number * scale
    if count != count.to_integral_value():
        raise InputError(field, value, f"a whole number (it is {count.normalize():f}); like {COUNT_EXAMPLES}")
    return int(count)


def _count(binary_k: bool = False, as_float: bool = False) -> BeforeValidator:
    def convert(value: Any, info: ValidationInfo) -> int | float:
        count = parse_count(value, info.field_name or "value", binary_k)
        return float(count) if as_float else count

    return BeforeValidator(convert)


# Pydantic field types of counts, written as a number or a string such as "100k" (bounds at the use site).
Count = Annotated[int, _count()]
SeqLen = Annotated[int, _count(binary_k=True)]
TokenCount = Annotated[float, _count(as_float=True)]


MAX_RANGE_CHARS = 2 * MAX_QUANTITY_CHARS + 2
"""Longest range string read (``LOW..HIGH``, each side a quantity)."""
_LEADING_NUMBER = re.compile(r"\s*\$?\s*[+-]?[\d.,_]*(?:[eE][+-]?\d+)?")


def parse_range(value: Any, read: Callable[[Any, str], float], field: str = "value") -> tuple[float, float] | None:
    """Read ``LOW..HIGH`` (``"90e9..110e9"``, ``"4.5 GW..5.5 GW"``), each side by ``read``; None when ``value``
    is not a range (no ``..`` in it).

    Both sides are written with the same unit (or none), each side is read as the option reads one value
    (no arithmetic, bounded length), and LOW is at most HIGH.

    Examples
    --------
    >>> parse_range("4.5 GW..5.5 GW", lambda v, f: parse_quantity(v, "power", f), "--power")
    (4500000000.0, 5500000000.0)
    >>> parse_range("$90B..$110B", parse_usd, "--budget")
    (90000000000.0, 110000000000.0)
    >>> parse_range("1e5", parse_usd) is None
    True
    >>> parse_range("4.5 GW..5500 MW", lambda v, f: parse_quantity(v, "power", f), "--power")
    Traceback (most recent call last):
    ...
    stargate.errors.InputError: --power: '4.5 GW..5500 MW' is not allowed; expected LOW..HIGH with the same unit on both sides, like '4.5 GW..5.5 GW'
    """
    if not isinstance(value, str) or ".." not in value:
        return None
    shape = "LOW..HIGH: two values joined by '..' (like '90e9..110e9' or '4.5 GW..5.5 GW')"
    sides = value.split("..")
    if len(value) > MAX_RANGE_CHARS or len(sides) != 2 or "..." in value or not all(s.strip() for s in sides):
        raise InputError(field, value, shape)
    try:
        low, high = (read(s.strip(), field) for s in sides)
    except InputError as e:
        raise InputError(field, value, f"LOW..HIGH, each side {e.allowed}") from None
    if len({" ".join(_LEADING_NUMBER.sub("", s, count=1).split()).lower() for s in sides}) != 1:
        raise InputError(field, value, "LOW..HIGH with the same unit on both sides, like '4.5 GW..5.5 GW'")
    if not low <= high:
        raise InputError(field, value, "LOW..HIGH with LOW at most HIGH")
    return low, high
