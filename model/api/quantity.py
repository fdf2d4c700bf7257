"""Kubernetes resource quantities ("100m", "1.5", "128Mi", "1e3") with exact arithmetic.

Resource requests, limits, quota and node allocatable are all `resource.Quantity` values upstream
(`staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go`, `suffix.go`, `amount.go`). The
model needs them to parse, compare, add and print exactly like upstream so that scheduling and
quota decisions, and the manifests we print in counterexamples, agree with a real cluster.

Values are kept as exact `Fraction`s (never floats). Like upstream `ParseQuantity`, a parsed
value is rounded *up* (away from zero) to a multiple of 1n = 1e-9 ("0.1n" -> "1n", "1.5n" ->
"2n"), so every `Quantity` is an integer number of nano-units. Equality, ordering and the hash
depend only on the numeric value; the format (`BinarySI`, `DecimalSI`, `DecimalExponent`) is
remembered only for printing, exactly as upstream `Cmp`/`Equal` ignore it.

Deliberate deviations from upstream (all outside realistic manifests):

* `str()` always gives the canonical form (`CanonicalizeBytes`). Upstream `String()` echoes the
  input text when it "looks" canonical, so `ParseQuantity("+1").String()` is `"+1"` and
  `"1E3"` stays `"1E3"`; the model prints `"1"` and `"1e3"`.
* Upstream prints a DecimalSI value above 999E with no suffix at all (e.g. `1000E` prints as
  `"1"`, a wrong value) and a BinarySI value of 1024Ei or more likewise; the model instead keeps
  the largest suffix (`"1000E"`, `"1024Ei"`). A BinarySI value above 2^63-1 (reachable only by
  addition) is printed in DecimalSI so that re-parsing does not hit the BinarySI cap below.
* Upstream parses a decimal exponent as int64 and truncates it to int32. The model rejects
  exponents above `MAX_EXPONENT` (values beyond 10^4096) with `QuantityError`; tiny values with
  very negative exponents are handled exactly (they round up to 1n like upstream).
* `value()` and `milli_value()` return unbounded Python ints; upstream silently overflows int64.
"""

from __future__ import annotations

import enum
import re
from fractions import Fraction
from typing import Final

from kubeprop.model.errors import InputError

__all__ = ["MAX_EXPONENT", "Quantity", "QuantityError", "QuantityFormat"]


class QuantityFormat(enum.StrEnum):
    """How a quantity is printed (upstream `resource.Format`)."""

    DECIMAL_EXPONENT = "DecimalExponent"  # 12e6
    BINARY_SI = "BinarySI"  # 12Mi
    DECIMAL_SI = "DecimalSI"  # 12M


class QuantityError(InputError, ValueError):
    """A string that upstream `resource.ParseQuantity` rejects."""


# Upstream ErrFormatWrong quotes this regular expression (quantity.go splitREString).
_SPLIT_RE: Final = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_SUFFIX_CHARS: Final = frozenset("eEinumkKMGTP")
_DIGITS: Final = frozenset("0123456789")
_EXPONENT_RE: Final = re.compile(r"[+-]?[0-9]+")
_VALID_SUFFIXES: Final = "Ki Mi Gi Ti Pi Ei, n u m k M G T P E, none, or e<int>/E<int>"

# suffix.go newSuffixer: suffix -> (base, exponent, format).
_DEC_SUFFIXES: Final = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DEC_BY_EXP: Final = {e: s for s, e in _DEC_SUFFIXES.items()}
_BIN_BY_POWER: Final = {e // 10: s for s, e in _BIN_SUFFIXES.items()}

NANO: Final = 10**9
MAX_INT64: Final = 2**63 - 1
# Largest decimal exponent the model accepts in "<n>e<exp>" (see module docstring).
MAX_EXPONENT: Final = 4096
# CPython refuses int<->str conversions of more than ~4300 digits; we convert in chunks.
_CHUNK: Final = 1000


def _digits_to_int(digits: str) -> int:
    """Convert a string of ASCII digits of any length to an int."""
    value = 0
    for i in range(0, len(digits), _CHUNK):
        chunk = digits[i : i + _CHUNK]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _int_to_digits(value: int) -> str:
    """Convert an int of any size to decimal text (inverse of `_digits_to_int`)."""
    if value < 0:
        return "-" + _int_to_digits(-value)
    block = 10**_CHUNK
    parts: list[str] = []
    while value >= block:
        value, low = divmod(value, block)
        parts.append(f"{low:0{_CHUNK}d}")
    parts.append(str(value))
    return "".join(reversed(parts))


def _format_error(text: str) -> QuantityError:
    return QuantityError(
        f"invalid quantity {text!r}: quantities must match the regular expression '{_SPLIT_RE}' "
        f"(a signed decimal number such as 1, 1.5, .5 or -2, then an optional suffix: {_VALID_SUFFIXES})"
    )


def _suffix_error(text: str, suffix: str) -> QuantityError:
    return QuantityError(
        f"invalid quantity {text!r}: unable to parse quantity's suffix {suffix!r}; "
        f"valid suffixes are {_VALID_SUFFIXES} (case-sensitive: 'Mi' not 'mi', 'k' not 'K')"
    )


def _scan_digits(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _DIGITS:
        pos += 1
    return pos


def _scan(text: str) -> tuple[bool, str, str, str]:
    """Split `text` into (positive, numerator digits, fraction digits, suffix).

    A transcription of upstream `parseQuantityString` (quantity.go), including its leniencies:
    an empty number counts as 0, so "+", "-", "." and a bare suffix such as "Mi" parse as zero.
    """
    end = len(text)
    positive, pos = True, 0
    if end and text[0] in "+-":
        positive, pos = text[0] == "+", 1
    while pos < end and text[pos] == "0":  # strip leading zeros
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    num_end = _scan_digits(text, pos)
    num = text[pos:num_end] or "0"
    pos, denom = num_end, ""
    if pos < end and text[pos] == ".":
        denom_end = _scan_digits(text, pos + 1)
        denom, pos = text[pos + 1 : denom_end], denom_end
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    if _scan_digits(text, pos) < end:
        raise _format_error(text)
    return positive, num, denom, text[suffix_start:]


def _interpret(text: str, suffix: str) -> tuple[int, int, QuantityFormat]:
    """Map a suffix to (base, exponent, format) like upstream `suffixHandler.interpret`."""
    if suffix in _DEC_SUFFIXES:
        return 10, _DEC_SUFFIXES[suffix], QuantityFormat.DECIMAL_SI
    if suffix in _BIN_SUFFIXES:
        return 2, _BIN_SUFFIXES[suffix], QuantityFormat.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE" and _EXPONENT_RE.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])  # upstream strconv.ParseInt(s[1:], 10, 64)
        if exponent < -MAX_INT64 - 1:
            raise _suffix_error(text, suffix)
        if exponent > MAX_EXPONENT:
            raise QuantityError(
                f"invalid quantity {text!r}: exponent {exponent} is larger than the model supports "
                f"(at most e{MAX_EXPONENT})"
            )
        return 10, exponent, QuantityFormat.DECIMAL_EXPONENT
    raise _suffix_error(text, suffix)


def _ceil_nano(magnitude: Fraction) -> Fraction:
    """Round a non-negative value up to a multiple of 1e-9 (upstream inf.RoundUp at Nano scale)."""
    nanos = -((-magnitude.numerator * NANO) // magnitude.denominator)
    return Fraction(nanos, NANO)


def _magnitude(digits: str, frac_digits: int, base: int, exponent: int) -> Fraction:
    """The exact, nano-rounded magnitude of `digits` * 10^-frac_digits * base^exponent."""
    mantissa = _digits_to_int(digits)
    if mantissa == 0:
        return Fraction(0)
    if base == 10 and exponent - frac_digits + len(digits.lstrip("0")) <= -9:
        return Fraction(1, NANO)  # strictly below 1n: rounds up to 1n without a huge power
    scale: Fraction = Fraction(base) ** exponent
    return _ceil_nano(Fraction(mantissa, 10**frac_digits) * scale)


def _ceil_away(value: Fraction) -> int:
    """Round to an integer away from zero (upstream `Value()`/`ScaledValue` rounding)."""
    magnitude = -((-abs(value.numerator)) // value.denominator)
    return magnitude if value >= 0 else -magnitude


def _decimal_parts(value: Fraction) -> tuple[int, int]:
    """(mantissa, exponent) with exponent a multiple of 3 and as large as possible (AsCanonicalBytes)."""
    mantissa, exponent = int(value * NANO), -9
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def _format_decimal(value: Fraction, fmt: QuantityFormat) -> str:
    mantissa, exponent = _decimal_parts(value)
    if fmt is QuantityFormat.DECIMAL_EXPONENT:
        suffix = f"e{exponent}" if exponent else ""
    else:
        if exponent > 18:  # upstream has no suffix beyond E (see module docstring)
            mantissa, exponent = mantissa * 10 ** (exponent - 18), 18
        suffix = _DEC_BY_EXP[exponent]
    return _int_to_digits(mantissa) + suffix


def _format_binary(value: int) -> str:
    """Base-1024 canonical form of an integer (AsCanonicalBase1024Bytes), capped at the Ei suffix."""
    magnitude, power = abs(value), 0
    while magnitude >= 1024 and magnitude % 1024 == 0 and power < 6:
        magnitude //= 1024
        power += 1
    sign = "-" if value < 0 else ""
    return sign + _int_to_digits(magnitude) + (_BIN_BY_POWER[power] if power else "")


class Quantity:
    """An exact Kubernetes resource quantity (upstream `resource.Quantity`).

    Immutable and hashable; `==`, `<` and `hash` use the numeric value only. Build one with
    `Quantity.parse`, `from_int`, `from_milli` or `zero`; the constructor rounds `value` up to
    a whole number of nano-units like upstream parsing does.
    """

    __slots__ = ("_format", "_value")

    _value: Fraction
    _format: QuantityFormat

    def __init__(self, value: Fraction | int, fmt: QuantityFormat = QuantityFormat.DECIMAL_SI) -> None:
        exact = Fraction(value)
        rounded = _ceil_nano(abs(exact))
        object.__setattr__(self, "_value", rounded if exact >= 0 else -rounded)
        object.__setattr__(self, "_format", QuantityFormat(fmt))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Quantity is immutable")

    def __reduce__(self) -> tuple[type[Quantity], tuple[Fraction, str]]:
        return (Quantity, (self._value, self._format.value))

    # -- construction -------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str | int) -> Quantity:
        """Parse like upstream `resource.ParseQuantity` (quantity.go); raise QuantityError if invalid.

        An int is parsed as its decimal text. Values are rounded up to 1n; a BinarySI value is
        capped at 2^63-1 in magnitude, and a BinarySI value strictly between 0 and 1 in
        magnitude becomes DecimalSI, both as upstream.
        """
        if isinstance(text, bool) or not isinstance(text, str | int):
            raise QuantityError(f"a quantity must be a string or an int, not {type(text).__name__}")
        text = str(text)
        if not text:
            raise _format_error(text)
        positive, num, denom, suffix = _scan(text)
        base, exponent, fmt = _interpret(text, suffix)
        magnitude = _magnitude(num + denom, len(denom), base, exponent)
        if fmt is QuantityFormat.BINARY_SI:
            magnitude = min(magnitude, Fraction(MAX_INT64))
            if 0 < magnitude < 1:
                fmt = QuantityFormat.DECIMAL_SI
        return cls(magnitude if positive else -magnitude, fmt)

    @classmethod
    def from_int(cls, value: int, fmt: QuantityFormat = QuantityFormat.DECIMAL_SI) -> Quantity:
        """An integer quantity (upstream `NewQuantity`)."""
        return cls(value, fmt)

    @classmethod
    def from_milli(cls, milli: int, fmt: QuantityFormat = QuantityFormat.DECIMAL_SI) -> Quantity:
        """`milli`/1000 (upstream `NewMilliQuantity`), e.g. CPU millicores."""
        return cls(Fraction(milli, 1000), fmt)

    @classmethod
    def zero(cls) -> Quantity:
        """The zero quantity (DecimalSI)."""
        return cls(0)

    # -- accessors ----------------------------------------------------------------------

    @property
    def format(self) -> QuantityFormat:
        """The format used for printing (ignored by comparisons)."""
        return self._format

    def as_fraction(self) -> Fraction:
        """The exact numeric value."""
        return self._value

    def value(self) -> int:
        """The value rounded to an integer away from zero (upstream `Value()`: 1500m -> 2)."""
        return _ceil_away(self._value)

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (upstream `MilliValue()`)."""
        return _ceil_away(self._value * 1000)

    def is_zero(self) -> bool:
        """True iff the value is 0 (upstream `IsZero`)."""
        return self._value == 0

    def sign(self) -> int:
        """-1, 0 or 1 (upstream `Sign`)."""
        return (self._value > 0) - (self._value < 0)

    # -- arithmetic (upstream Add/Sub/Neg: exact; a zero receiver takes the other's format) --

    def _result_format(self, other: Quantity) -> QuantityFormat:
        return other._format if self.is_zero() else self._format

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self._value + other._value, self._result_format(other))

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self._value - other._value, self._result_format(other))

    def __neg__(self) -> Quantity:
        return Quantity(-self._value, self._format)

    # -- comparison (upstream Cmp: by value only) ------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        return hash((self._value.numerator, self._value.denominator))

    def __lt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value < other._value

    def __le__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value <= other._value

    def __gt__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value > other._value

    def __ge__(self, other: Quantity) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._value >= other._value

    # -- printing -----------------------------------------------------------------------

    def __str__(self) -> str:
        """Canonical form (upstream `CanonicalizeBytes`): "1.5" -> "1500m", "1024Mi" -> "1Gi"."""
        value, fmt = self._value, self._format
        if value == 0:
            return "0"
        if fmt is QuantityFormat.BINARY_SI and (
            -1024 < value < 1024 or value.denominator != 1 or abs(value) > MAX_INT64
        ):
            fmt = QuantityFormat.DECIMAL_SI  # avoid rounding / the BinarySI cap on re-parse
        if fmt is QuantityFormat.BINARY_SI:
            return _format_binary(value.numerator)
        return _format_decimal(value, fmt)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"
