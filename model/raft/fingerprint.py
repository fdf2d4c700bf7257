"""64-bit fingerprints of Raft states that every process computes alike.

An explicit-state engine that spreads its visited set over worker processes (TLC's fingerprint
set, Stateright's sharded `DashMap`) must give a state the same fingerprint in every process.
Python's `hash()` of a `str` (and of objects hashed through one) is salted per process
(PYTHONHASHSEED), and `hash(None)` is derived from an address before Python 3.12, so neither may
reach a fingerprint. The hash of an `int` is its value modulo 2⁶¹−1, and the hash of a tuple or
frozenset is a fixed function (xxHash-style for tuples) of its items' hashes: on the same
interpreter build those are equal in every process, whatever the salt.

`RaftState` is made of ints, tuples and frozensets of int tuples only, except for the client
history (call/return events name operations by strings and `Op`s) and the pending ReadIndex
requests (which name a key). `fingerprint` therefore hashes the state itself when it has no
history — the hot path of every configuration without clients — and otherwise hashes a copy in
which those two fields are rewritten as ints (each string as the first 8 bytes of its BLAKE2b
digest), memoised per distinct history. The fingerprint never leaves the run that computed it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import attrs

from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import RaftState

__all__ = ["canonical", "fingerprint"]

_NONE_CODE = -(1 << 62)
"""What None becomes in a canonical value (no int field of the model takes this value)."""


@lru_cache(maxsize=4096)
def _str_code(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)


def canonical(value: object) -> object:
    """`value` with every str, `Op` and None replaced by ints: a value whose `hash()` is the same
    in every process. Raises TypeError on anything else that is not an int, tuple or frozenset."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return _str_code(value)
    if isinstance(value, tuple):
        return tuple(canonical(v) for v in value)
    if isinstance(value, Op):
        return tuple(canonical(v) for v in attrs.astuple(value))
    if value is None:
        return _NONE_CODE
    if isinstance(value, frozenset):
        return frozenset(canonical(v) for v in value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


@lru_cache(maxsize=65536)
def _canonical_cached(value: tuple[object, ...]) -> object:
    return canonical(value)


def fingerprint(state: RaftState) -> int:
    """The state's 64-bit fingerprint (see the module docstring); equal states have equal
    fingerprints in every process of one interpreter build."""
    if not state.history:
        return hash(state)
    return hash((*state[:15], _canonical_cached(state.history), _canonical_cached(state.reads), *state[17:]))
