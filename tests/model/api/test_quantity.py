"""Tests for kubeprop.model.api.quantity against upstream resource.Quantity behaviour (quantity.go)."""

from __future__ import annotations

import pickle
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.quantity import Quantity, QuantityError, QuantityFormat
from kubeprop.model.api.strategies import quantities, quantity_strings

BIN, DEC, EXP = QuantityFormat.BINARY_SI, QuantityFormat.DECIMAL_SI, QuantityFormat.DECIMAL_EXPONENT

# (input, canonical output, format, exact value)
CANONICAL = [
    ("0", "0", DEC, Fraction(0)),
    ("100m", "100m", DEC, Fraction(1, 10)),
    ("1.5", "1500m", DEC, Fraction(3, 2)),
    ("1000m", "1", DEC, Fraction(1)),
    ("128Mi", "128Mi", BIN, Fraction(128 * 2**20)),
    ("1536Mi", "1536Mi", BIN, Fraction(1536 * 2**20)),
    ("1024Mi", "1Gi", BIN, Fraction(2**30)),
    ("1.5Gi", "1536Mi", BIN, Fraction(3 * 2**29)),
    ("0.5Gi", "512Mi", BIN, Fraction(2**29)),
    ("1G", "1G", DEC, Fraction(10**9)),
    ("1e3", "1e3", EXP, Fraction(1000)),
    ("1E3", "1e3", EXP, Fraction(1000)),
    ("1e+3", "1e3", EXP, Fraction(1000)),
    ("12e4", "120e3", EXP, Fraction(120000)),
    ("1.5e3", "1500", EXP, Fraction(1500)),
    ("5e-1", "500e-3", EXP, Fraction(1, 2)),
    ("1e-3", "1e-3", EXP, Fraction(1, 1000)),
    ("+1", "1", DEC, Fraction(1)),
    ("-1", "-1", DEC, Fraction(-1)),
    ("-1.5", "-1500m", DEC, Fraction(-3, 2)),
    ("1n", "1n", DEC, Fraction(1, 10**9)),
    ("1u", "1u", DEC, Fraction(1, 10**6)),
    ("1k", "1k", DEC, Fraction(1000)),
    ("1000", "1k", DEC, Fraction(1000)),
    ("1Ki", "1Ki", BIN, Fraction(1024)),
    ("-1Ki", "-1Ki", BIN, Fraction(-1024)),
    ("1023Ki", "1023Ki", BIN, Fraction(1023 * 1024)),
    ("1Ti", "1Ti", BIN, Fraction(2**40)),
    ("1Pi", "1Pi", BIN, Fraction(2**50)),
    ("1Ei", "1Ei", BIN, Fraction(2**60)),
    ("1P", "1P", DEC, Fraction(10**15)),
    ("1E", "1E", DEC, Fraction(10**18)),
    ("1000E", "1000E", DEC, Fraction(10**21)),
    # BinarySI below 1024 is printed as DecimalSI; fractional BinarySI too (CanonicalizeBytes).
    ("1000Mi", "1000Mi", BIN, Fraction(1000 * 2**20)),
    ("0.1Ki", "102400m", BIN, Fraction(512, 5)),
    ("1.1Ki", "1126400m", BIN, Fraction(5632, 5)),
    ("512", "512", DEC, Fraction(512)),
    # Sub-nano precision is rounded up (away from zero) to the next 1n at parse time.
    ("0.1n", "1n", DEC, Fraction(1, 10**9)),
    ("1.5n", "2n", DEC, Fraction(2, 10**9)),
    ("-1.5n", "-2n", DEC, Fraction(-2, 10**9)),
    ("1e-5000", "1e-9", EXP, Fraction(1, 10**9)),
    ("0.0000000001", "1n", DEC, Fraction(1, 10**9)),
    # BinarySI magnitude is capped at 2^63-1.
    ("8Ei", "9223372036854775807", BIN, Fraction(2**63 - 1)),
    # Upstream's scanner treats an empty number as 0 (parseQuantityString).
    ("-", "0", DEC, Fraction(0)),
    (".", "0", DEC, Fraction(0)),
    ("Mi", "0", BIN, Fraction(0)),
    ("1.", "1", DEC, Fraction(1)),
    (".5", "500m", DEC, Fraction(1, 2)),
    ("007", "7", DEC, Fraction(7)),
]


@pytest.mark.parametrize(("text", "canonical", "fmt", "value"), CANONICAL)
def test_parse_and_canonical_form(text: str, canonical: str, fmt: QuantityFormat, value: Fraction) -> None:
    q = Quantity.parse(text)
    assert q.as_fraction() == value
    assert q.format is fmt
    assert str(q) == canonical
    assert Quantity.parse(canonical) == q


INVALID = ["", "1.5.5", "Mi5", "1 Mi", "1mi", "1e", "1K", "1ki", "1i", ".5i", "1e3i", "aoeu", "1e+", "1-"]
INVALID += ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "-3.01e-", " 1", "1 ", "1Mi ", "1e1.5", "1e99999", "\u0661"]


@pytest.mark.parametrize("text", INVALID)
def test_rejects_what_upstream_rejects(text: str) -> None:
    with pytest.raises(QuantityError) as excinfo:
        Quantity.parse(text)
    message = str(excinfo.value)
    assert repr(text) in message
    assert "Ki" in message or "regular expression" in message or "exponent" in message


def test_error_message_says_what_is_valid() -> None:
    with pytest.raises(QuantityError, match="'Mi' not 'mi'"):
        Quantity.parse("1mi")
    with pytest.raises(QuantityError, match="regular expression"):
        Quantity.parse("1.5.5")
    assert isinstance(QuantityError("x"), ValueError)


def test_parse_int_and_type_errors() -> None:
    assert Quantity.parse(3) == Quantity.from_int(3)
    with pytest.raises(QuantityError):
        Quantity.parse(True)
    with pytest.raises(QuantityError):
        Quantity.parse(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        ("1500m", 2, 1500),
        ("1.1", 2, 1100),
        ("-1.5", -2, -1500),
        ("1n", 1, 1),
        ("-1n", -1, -1),
        ("2Ki", 2048, 2048000),
    ],
)
def test_value_and_milli_value_round_away_from_zero(text: str, value: int, milli: int) -> None:
    q = Quantity.parse(text)
    assert q.value() == value
    assert q.milli_value() == milli


def test_constructors_and_arithmetic_formats() -> None:
    assert Quantity.zero().is_zero() and str(Quantity.zero()) == "0"
    assert Quantity.from_milli(250) == Quantity.parse("250m")
    assert str(Quantity.from_milli(1500)) == "1500m"
    assert str(Quantity.from_int(2048, BIN)) == "2Ki"
    assert str(Quantity.parse("1Gi") + Quantity.parse("512Mi")) == "1536Mi"
    assert str(Quantity.parse("1") - Quantity.parse("250m")) == "750m"
    assert str(-Quantity.parse("1Gi")) == "-1Gi"
    # Upstream Add/Sub: a zero receiver adopts the other operand's format.
    assert (Quantity.zero() + Quantity.parse("1Gi")).format is BIN
    assert (Quantity.parse("1") + Quantity.parse("1Ki")).format is DEC
    assert Quantity.parse("-1").sign() == -1 and Quantity.parse("0").sign() == 0


def test_equality_ignores_format_and_is_hashable() -> None:
    assert Quantity.parse("1Ki") == Quantity.parse("1024")
    assert len({Quantity.parse("1Ki"), Quantity.parse("1024"), Quantity.parse("1.024k")}) == 1
    assert Quantity.parse("1") != 1
    assert pickle.loads(pickle.dumps(Quantity.parse("1.5Gi"))) == Quantity.parse("1536Mi")
    with pytest.raises(AttributeError):
        Quantity.parse("1").x = 1
    assert repr(Quantity.parse("1.5")) == "Quantity('1500m')"


def test_sum_above_binary_cap_still_round_trips() -> None:
    big = Quantity.parse("4Ei") + Quantity.parse("4Ei")
    assert big.as_fraction() == 2**63
    assert Quantity.parse(str(big)) == big


@settings(max_examples=300, deadline=None)
@given(quantities())
def test_round_trip(q: Quantity) -> None:
    text = str(q)
    again = Quantity.parse(text)
    assert again == q
    assert str(Quantity.parse(str(again))) == str(again)


@settings(max_examples=200, deadline=None)
@given(quantity_strings())
def test_parse_format_parse_is_stable(text: str) -> None:
    once = str(Quantity.parse(text))
    assert str(Quantity.parse(once)) == once


@settings(max_examples=200, deadline=None)
@given(quantities(), quantities())
def test_ordering_matches_numeric_value(a: Quantity, b: Quantity) -> None:
    fa, fb = a.as_fraction(), b.as_fraction()
    assert (a < b) == (fa < fb)
    assert (a <= b) == (fa <= fb)
    assert (a > b) == (fa > fb)
    assert (a == b) == (fa == fb)
    if a == b:
        assert hash(a) == hash(b)


@settings(max_examples=200, deadline=None)
@given(quantities(), quantities(), quantities())
def test_addition_is_exact(a: Quantity, b: Quantity, c: Quantity) -> None:
    assert (a + b).as_fraction() == a.as_fraction() + b.as_fraction()
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert (a - b) + b == a
    assert a + (-a) == Quantity.zero()


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_from_milli_matches_milli_value(milli: int) -> None:
    q = Quantity.from_milli(milli)
    assert q.milli_value() == milli
    assert Quantity.parse(str(q)) == q
