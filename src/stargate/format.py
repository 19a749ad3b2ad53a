"""Numbers for people: the one place where an SI float becomes text.

Every readable output (the terminal summaries, the HTML report, the web pages' server-side
cells) formats its figures here, so a figure reads the same everywhere and is rounded once:

- a quantity takes the SI prefix of its value *after* rounding to the digits shown, so exactly
  1 GW, or 999.9999 MW, prints ``1 GW`` and never ``1e+03 MW`` or ``1000 MW``;
- dollars print with a scale letter (``$10.0B``), counts with thousands separators
  (``49,152``) or, for large counts such as tokens and parameters, with a scale letter
  (``15.6T``), durations in days (``45.2 days``).

Pint's :meth:`~pint.Quantity.to_compact` and ``humanize.metric`` both choose the prefix
before rounding, which is what printed ``1e+03 MW`` for 1 GW; pint also costs about 0.6 s to
build its registry, which no summary should pay. So the prefix is chosen here on the rounded
value; the tests check the result against pint's ``to_compact`` of that rounded value, and that
:func:`stargate.units.parse_quantity` reads every printed figure back within the precision shown.
"""

from __future__ import annotations

import math

__all__ = [
    "format_bound",
    "format_carbon_t",
    "format_count",
    "format_days",
    "format_energy_mwh",
    "format_percent",
    "format_quantity",
    "format_scaled_count",
    "format_share",
    "format_usd",
    "round_significant",
]

_SI_PREFIXES = ((24, "Y"), (21, "Z"), (18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""),
                (-3, "m"), (-6, "µ"), (-9, "n"), (-12, "p"))
_LARGEST_PREFIX = {"m": 3, "s": 0}
"""Units read in one prefix at most: distances in km (``40,000 km``, not ``40 Mm``), times in seconds."""
_COUNT_SCALES = ((12, "T"), (9, "B"), (6, "M"), (3, "k"))
"""Scale letters of counts: the same letters :func:`stargate.units.parse_count` reads (B is 10^9)."""
_USD_SCALES = tuple(reversed(_COUNT_SCALES))


def round_significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits (what ``:.{digits}g`` prints).

    Examples
    --------
    >>> round_significant(999.9999e6, 3)
    1000000000.0
    >>> round_significant(2634.0, 3)
    2630.0
    """
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def _exponent(value: float) -> int:
    """Power of ten of ``value``'s leading digit (``value`` finite and non-zero)."""
    return math.floor(math.log10(abs(value)))


def _mantissa(x: float, digits: int) -> str:
    """``x`` (already rounded) with ``digits`` significant digits in positional notation, never
    scientific, trailing zeros dropped, thousands separated: ``100`` not ``1e+02``."""
    decimals = max(0, digits - 1 - _exponent(x)) if x else 0
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_quantity(value: float, unit: str, digits: int = 3) -> str:
    """Format an SI float with the SI prefix that suits it, rounded to ``digits`` significant digits.

    The prefix is chosen after rounding, so an exact power of 1000 takes the larger prefix
    (``1 GW``, not ``1000 MW``). Lengths take at most ``k`` and times no prefix above one
    (``40,000 km``, ``3,600 s``). Values outside the prefixes (below 1 p, above 1000 Y) print
    in scientific notation with the bare unit.

    Parameters
    ----------
    value : float
        The quantity in the SI unit ``unit`` (W, B, B/s, bit/s, FLOP/s, Wh, s, m).
    unit : str
        The unit's symbol, printed after the prefix.
    digits : int
        Significant digits shown.

    Returns
    -------
    str
        ``"<number> <prefix><unit>"``, such as ``"2.63 kW"``.

    Examples
    --------
    >>> [format_quantity(w, "W") for w in (1e9, 999.9999e6, 320e6, 2634.0, 0.0)]
    ['1 GW', '1 GW', '320 MW', '2.63 kW', '0 W']
    >>> format_quantity(3.35e12, "B/s"), format_quantity(2.73e-6, "s"), format_quantity(4e7, "m")
    ('3.35 TB/s', '2.73 µs', '40,000 km')
    """
    rounded = round_significant(value, digits)
    if rounded == 0 or not math.isfinite(rounded):
        return f"{rounded:g} {unit}"
    exponent = min(_exponent(rounded), _LARGEST_PREFIX.get(unit, 24) + 2)
    for power, prefix in _SI_PREFIXES:
        if power <= exponent < power + 3:
            return f"{_mantissa(rounded / 10.0**power, digits)} {prefix}{unit}"
    return f"{rounded:.{digits - 1}e} {unit}"


def format_usd(value: float, decimals: int = 1) -> str:
    """Format US dollars with a scale letter (k, M, B, T) and ``decimals`` places, rounded before the
    scale is chosen; amounts under $1,000 print with cents.

    Examples
    --------
    >>> format_usd(1.234e11)
    '$123.4B'
    >>> format_usd(1e10)
    '$10.0B'
    >>> format_usd(999.97e9)
    '$1.0T'
    >>> format_usd(-2.5e6)
    '-$2.5M'
    >>> format_usd(2.634)
    '$2.63'
    """
    if not math.isfinite(value):
        return f"${value}"
    sign, size = ("-" if value < 0 else ""), abs(value)
    if round(size, 2) < 1000:
        return f"{sign}${size:,.2f}"
    for power, letter in _USD_SCALES[:-1]:
        scaled = round(size / 10.0**power, decimals)
        if scaled < 1000:
            return f"{sign}${scaled:,.{decimals}f}{letter}"
    return f"{sign}${size / 1e12:,.{decimals}f}T"


def format_count(value: float) -> str:
    """A whole count with thousands separators.

    Examples
    --------
    >>> format_count(49152)
    '49,152'
    >>> format_count(1.0e6)
    '1,000,000'
    """
    return f"{round(value):,}"


def format_scaled_count(value: float, digits: int = 3) -> str:
    """A large count (tokens, parameters) with a scale letter, k, M, B (10^9) or T, and ``digits``
    significant digits; counts under 1,000 print whole.

    Examples
    --------
    >>> format_scaled_count(15.6e12)
    '15.6T'
    >>> format_scaled_count(405e9)
    '405B'
    >>> format_scaled_count(999.96e9)
    '1T'
    >>> format_scaled_count(812)
    '812'
    """
    rounded = round_significant(value, digits)
    if not math.isfinite(rounded):
        return f"{rounded}"
    for power, letter in _COUNT_SCALES:
        if abs(rounded) >= 10.0**power:
            return _mantissa(rounded / 10.0**power, digits) + letter
    return f"{rounded:,.0f}"


def format_days(days: float, decimals: int = 1) -> str:
    """A duration in days.

    Examples
    --------
    >>> format_days(45.23)
    '45.2 days'
    >>> format_days(1.0)
    '1.0 day'
    """
    text = f"{days:,.{decimals}f}"
    return f"{text} day" if text in ("1", "1." + "0" * decimals) else f"{text} days"


def format_energy_mwh(mwh: float) -> str:
    """Energy given in MWh (the project's energy unit) as watt-hours with an SI prefix.

    Examples
    --------
    >>> format_energy_mwh(2.32e6), format_energy_mwh(39_200.0)
    ('2.32 TWh', '39.2 GWh')
    """
    return format_quantity(1e6 * mwh, "Wh")


def format_carbon_t(tonnes: float) -> str:
    """Emissions in tonnes of CO2-equivalent with an SI prefix.

    Examples
    --------
    >>> format_carbon_t(850_000.0), format_carbon_t(4.38e6)
    ('850 kt CO2e', '4.38 Mt CO2e')
    """
    return format_quantity(tonnes, "t") + " CO2e"


def format_share(fraction: float) -> str:
    """A share as a percentage with the digits a small share needs.

    Examples
    --------
    >>> format_share(0.4712), format_share(0.032), format_share(0.000218)
    ('47.1%', '3.2%', '0.022%')
    """
    pct = 100 * fraction
    return f"{pct:.1f}%" if pct >= 0.1 or pct == 0 else f"{pct:.2g}%"


def format_percent(fraction: float, decimals: int = 0) -> str:
    """A fraction as a percentage.

    Examples
    --------
    >>> format_percent(0.4237)
    '42%'
    >>> format_percent(0.4237, 1)
    '42.4%'
    """
    return f"{100 * fraction:.{decimals}f}%"


# Unit of an SI float by the suffix of its field's name (the project's naming rule), for errors and tables.
_UNIT_BY_SUFFIX = (("_bits_per_s", "bit/s"), ("_bytes_per_s", "B/s"), ("_flops", "FLOP/s"), ("_bytes", "B"),
                   ("_w", "W"), ("_m", "m"), ("_s", "s"))


def format_bound(value: float, field: str) -> str:
    """A figure of field ``field`` in its unit, as read from the field's name (``power_w``: W;
    ``budget_usd``: dollars; ``distance_m``: m, ...); a plain number, thousands separated, for a
    name without a unit. Errors use it to word a bound as the user would type it.

    Examples
    --------
    >>> format_bound(1e12, "power_w"), format_bound(1e13, "budget_usd"), format_bound(4e7, "distance_m")
    ('1 TW', '$10.0T', '40,000 km')
    >>> format_bound(25.6e12, "scale_out_bits_per_s"), format_bound(30_000_000, "gpus")
    ('25.6 Tbit/s', '30,000,000')
    >>> format_bound(0.0, "power_w")
    '0'
    """
    if value == 0:
        return "0"
    if field.endswith("_usd"):
        return format_usd(value)
    for suffix, unit in _UNIT_BY_SUFFIX:
        if field.endswith(suffix):
            return format_quantity(value, unit)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"
