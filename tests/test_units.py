"""Unit parsing at the edges: exact SI/IEC and bit/byte conversions, typed errors."""

import math

import pytest

from stargate.errors import InputError
from stargate.units import format_quantity, format_usd, parse_quantity, parse_usd


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("5 GW", "power", 5e9),
        ("300 MW", "power", 3e8),
        ("80 GiB", "bytes", 80 * 2**30),  # IEC: exact powers of two
        ("80 GB", "bytes", 80e9),  # SI
        ("400 Gbit/s", "bits_per_s", 400e9),
        ("400 Gbit/s", "bytes_per_s", 50e9),  # 8 bits per byte
        ("3.35 TB/s", "bytes_per_s", 3.35e12),
        ("989.4 TFLOP/s", "flop_per_s", 989.4e12),
        (700, "power", 700.0),  # plain numbers are already SI
        ("1e9", "power", 1e9),
    ],
)
def test_parse_quantity_converts_exactly(text, dimension, expected):
    assert math.isclose(parse_quantity(text, dimension), expected, rel_tol=1e-12)


@pytest.mark.parametrize(("text", "fragment"), [("5 GB", "not in GB"), ("five", "like '5 GW'"), ("nan", "finite")])
def test_parse_quantity_rejects_with_field_and_value(text, fragment):
    with pytest.raises(InputError) as e:
        parse_quantity(text, "power", "power")
    assert e.value.field == "power" and e.value.value == text
    assert fragment in str(e.value)


@pytest.mark.parametrize(
    ("text", "expected"), [("100e9", 1e11), ("$100B", 1e11), ("250M", 2.5e8), ("$1.5 bn", 1.5e9), (42, 42.0)]
)
def test_parse_usd(text, expected):
    assert parse_usd(text) == expected


@pytest.mark.parametrize("text", ["lots", "100X", "", True])
def test_parse_usd_rejects(text):
    with pytest.raises(InputError):
        parse_usd(text)


def test_format_round_trips_through_parse():
    for value in (5e9, 40800.0, 1.25e15):
        assert math.isclose(parse_quantity(format_quantity(value, "W", digits=12), "power"), value, rel_tol=1e-9)
    assert format_usd(1.234e11) == "$123.4B"
