"""Stable fingerprints of model values (cluster states above all).

A fingerprint identifies a state across processes and machines: counterexample files record
one per step so that replay notices when the model changed (a STALE trace), and file names are
derived from them. Python's `hash()` is salted per process for strings, so it is never used
here. Instead every value has a canonical encoding, hashed with BLAKE2b:

- None, bool, int, str, float, Fraction: a type tag and the value's bytes (so `1`, `True`,
  `"1"` and `1.0` all differ);
- tuples and lists: their elements in order; FrozenMaps and dicts: their items in key order
  (FrozenMap's own sorted order; dicts sorted by the keys' canonical digests);
- frozensets and sets: their elements sorted by canonical digest;
- attrs classes: the class name and every field that takes part in equality, in definition
  order (fields declared `eq=False` are left out, so equal values have equal fingerprints); a
  field whose metadata says `fingerprint="omit-if-default"` is left out while it holds its
  default, so state added to a class later does not change the fingerprints of states that do
  not use it (recorded traces stay valid);
- `Quantity`: its exact numeric value only (its `==` ignores the display format, so must we).

The encoding is a Merkle tree: a container's digest covers its children's digests. Consecutive
states share most of their immutable parts, so digests of frozen attrs instances, FrozenMaps and
tuples are memoised by object identity (the memo keeps a reference to each object, so an id is
never reused while cached); the memo is cleared when it reaches `MEMO_LIMIT` entries.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from fractions import Fraction
from typing import Any

import attrs

from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import FrozenMap

DIGEST_BYTES = 16
MEMO_LIMIT = 400_000
"""Entries kept in the identity memo before it is cleared (bounds memory, not correctness)."""

_MEMO: dict[int, tuple[Any, bytes]] = {}
_FIELDS: dict[type, tuple[str, ...] | None] = {}
_OMITTED: dict[type, dict[str, Any]] = {}
_LEN = struct.Struct("<I")


class FingerprintError(TypeError):
    """A value of a type the canonical encoding does not know (the message names the path)."""


def _blake(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).digest()


def _scalar(tag: bytes, payload: bytes) -> bytes:
    return tag + _LEN.pack(len(payload)) + payload


def _fields(cls: type) -> tuple[str, ...] | None:
    """The equality fields of a frozen attrs class (None if `cls` is not one)."""
    if cls in _FIELDS:
        return _FIELDS[cls]
    names: tuple[str, ...] | None = None
    if attrs.has(cls):
        names = tuple(f.name for f in attrs.fields(cls) if f.eq)
        _OMITTED[cls] = {f.name: f.default for f in attrs.fields(cls)
                         if f.eq and f.metadata.get("fingerprint") == "omit-if-default"}
    _FIELDS[cls] = names
    return names


def _frozen(cls: type) -> bool:
    return getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"


def _leaf(value: Any) -> bytes | None:
    """The encoding of a scalar, or None for containers."""
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"B1" if value else b"B0"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, int):
        return _scalar(b"I", str(value).encode())
    if isinstance(value, str):
        return _scalar(b"S", value.encode("utf-8", "surrogatepass"))
    if isinstance(value, float):
        return _scalar(b"F", value.hex().encode())
    if isinstance(value, Fraction):
        return _scalar(b"R", f"{value.numerator}/{value.denominator}".encode())
    if isinstance(value, Quantity):
        exact = value.as_fraction()
        return _scalar(b"Q", f"{exact.numerator}/{exact.denominator}".encode())
    if isinstance(value, bytes):
        return _scalar(b"Y", value)
    return None


def _part(value: Any) -> bytes:
    """What a container writes for one child: a scalar inline, a sub-container's digest."""
    leaf = _leaf(value)
    if leaf is not None:
        return leaf
    return b"H" + digest(value)


def digest(value: Any) -> bytes:
    """The 16-byte canonical digest of `value`."""
    leaf = _leaf(value)
    if leaf is not None:
        return _blake(leaf)
    key = id(value)
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    out = _blake(_container(value))
    cls = type(value)
    if isinstance(value, tuple | FrozenMap | frozenset) or (_fields(cls) is not None and _frozen(cls)):
        if len(_MEMO) >= MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[key] = (value, out)
    return out


def _container(value: Any) -> bytes:
    cls = type(value)
    names = _fields(cls)
    if names is not None:
        parts = [_scalar(b"A", cls.__name__.encode())]
        omitted = _OMITTED.get(cls)
        for name in names:
            if omitted and name in omitted and getattr(value, name) == omitted[name]:
                continue
            parts.append(_scalar(b"f", name.encode()))
            parts.append(_part(getattr(value, name)))
        return b"".join(parts)
    if isinstance(value, FrozenMap):
        parts = [b"M", _LEN.pack(len(value))]
        for k, v in value.sorted_items():
            parts += [_part(k), _part(v)]
        return b"".join(parts)
    if isinstance(value, dict):
        pairs = sorted((_part(k), _part(v)) for k, v in value.items())
        return b"M" + _LEN.pack(len(pairs)) + b"".join(k + v for k, v in pairs)
    if isinstance(value, tuple | list):
        return b"T" + _LEN.pack(len(value)) + b"".join(_part(v) for v in value)
    if isinstance(value, frozenset | set):
        return b"Z" + _LEN.pack(len(value)) + b"".join(sorted(_part(v) for v in value))
    raise FingerprintError(f"cannot fingerprint a value of type {cls.__module__}.{cls.__qualname__}: {value!r:.80}")


def fingerprint(value: Any, hex_digits: int = 16) -> str:
    """The value's fingerprint as `hex_digits` hex digits (16 = 64 bits by default)."""
    if not 1 <= hex_digits <= 2 * DIGEST_BYTES:
        raise ValueError(f"hex_digits must be 1..{2 * DIGEST_BYTES}")
    return digest(value).hex()[:hex_digits]


def clear_memo() -> None:
    """Forget memoised digests (tests; or to release memory after a long run)."""
    _MEMO.clear()
