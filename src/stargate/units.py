"""Quantities at the edges: parse ``"5 GW"``, ``"400 Gbit/s"``, ``"80 GiB"`` into SI floats.

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
from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo

from stargate.errors import InputError

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

_NUMBER = r"[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d{1,4})?"
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
    number = float(match["number"])
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


def format_quantity(value: float, unit: str, digits: int = 3) -> str:
    """Format an SI float with an SI prefix: ``format_quantity(5e9, "W")`` gives ``'5 GW'``.

    Examples
    --------
    >>> format_quantity(5e9, "W")
    '5 GW'
    >>> format_quantity(40800.0, "W")
    '40.8 kW'
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    prefixes = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


def format_usd(value: float) -> str:
    """Format dollars with a short scale word.

    Examples
    --------
    >>> format_usd(1.234e11)
    '$123.4B'
    """
    for scale, word in [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]:
        if abs(value) >= scale:
            return f"${value / scale:,.1f}{word}"
    return f"${value:,.2f}"


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
