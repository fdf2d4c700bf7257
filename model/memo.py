"""Memos by identity: a value computed from some objects of a state, reused while the very same
objects come back — for the model's costly derived values (a scheduler's `NodeInfo`, a template's
hash, a kubelet's pod map) and the properties' checks.

A successor state shares every object a step did not write with its parent (`FrozenMap.set`
keeps the other values; the store keeps the other objects), so a check that works object by
object — a pod's binding, a node's pods, one object's validity — finds almost all of its answers
by identity: a dictionary look-up by `id` and an `is` check, where a memo by value would hash and
compare whole API objects. The memo holds the objects of each key alive, so an `id` is never
reused while its entry exists; an object equal to, but not the same as, one seen before is simply
computed again. Nothing here outlives the process or depends on Python's salted `hash()`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from operator import is_
from typing import Any, Generic, TypeVar

T = TypeVar("T")

LIMIT = 4096
"""Entries kept per memo before it is cleared (bounded memory)."""

INTERN_LIMIT = 16_384
"""Values an `Interner` keeps before it forgets them all (bounded memory: each keeps an API
object alive)."""

_UNSEEN: Any = object()


class IdentityMemo(Generic[T]):
    """Values by the identity of the objects they were computed from (see the module's docstring)."""

    __slots__ = ("entries", "limit")

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.entries: dict[Any, tuple[tuple[object, ...], T]] = {}

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()

    def get(self, objects: tuple[object, ...], compute: Callable[..., T], *args: Any, values: Hashable = None) -> T:
        """The value remembered for exactly `objects` (the same objects, in the same order) and
        the plain `values` (compared by value: a count, a name), else `compute(*args)`, remembered."""
        key = (values, *map(id, objects))
        found = self.entries.get(key)
        if found is not None and all(map(is_, found[0], objects)):  # (same key: same length)
            return found[1]
        value = compute(*args)
        if len(self.entries) >= self.limit:
            self.entries.clear()
        self.entries[key] = (objects, value)
        return value

    def get1(self, obj: object, compute: Callable[..., T], *args: Any) -> T:
        """`get((obj,), compute)` for one object, a little cheaper."""
        found = self.entries.get(id(obj), _UNSEEN)
        if found is not _UNSEEN and found[0][0] is obj:
            return found[1]  # type: ignore[no-any-return]
        value = compute(*args)
        if len(self.entries) >= self.limit:
            self.entries.clear()
        self.entries[id(obj)] = ((obj,), value)
        return value


class LastValues(Generic[T]):
    """The values computed for the last few keys, each key a tuple of objects compared by identity
    (many consecutive states share them: a step elsewhere changes none)."""

    __slots__ = ("keep", "recent")

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self.recent: list[tuple[tuple[object, ...], T]] = []

    def get(self, objects: tuple[object, ...], compute: Callable[..., T], *args: Any) -> T:
        """The value for exactly `objects` if among the last few, else `compute(*args)`, remembered."""
        size = len(objects)
        for seen, value in self.recent:
            if len(seen) == size and all(map(is_, seen, objects)):
                return value
        return self._remember(objects, compute(*args))

    def get1(self, obj: object, compute: Callable[..., T], *args: Any) -> T:
        """`get((obj,), compute)` for one object, a little cheaper (a hot path's memo)."""
        for seen, value in self.recent:
            if seen[0] is obj and len(seen) == 1:
                return value
        return self._remember((obj,), compute(*args))

    def _remember(self, objects: tuple[object, ...], value: T) -> T:
        self.recent.insert(0, (objects, value))
        del self.recent[self.keep:]
        return value


class RecentThenByValue(Generic[T]):
    """Values by a key tuple of state parts: the last `keep` keys checked by identity (the parts a
    step did not write are the very same objects, so this costs a few `is` checks), then, with
    `by_value`, every key (up to `limit`, then forgotten) by value — a state reached again along
    another path (equal parts, other objects) is not computed again. Keys of one memo have one
    length. For `kubeprop.model.cluster.incremental` (enabled actions) and
    `kubeprop.properties.explore.incremental` (property verdicts)."""

    __slots__ = ("keep", "limit", "recent", "values")

    def __init__(self, keep: int, limit: int, by_value: bool) -> None:
        self.keep, self.limit = keep, limit
        self.recent: list[tuple[tuple[Any, ...], T]] = []
        self.values: dict[tuple[Any, ...], T] | None = {} if by_value else None

    def get(self, key: tuple[Any, ...], compute: Callable[..., T], *args: Any) -> T:
        """The value remembered for `key`, else `compute(*args)`, remembered. (A recent key whose
        first part is another object is passed over before comparing the rest.)"""
        if key:
            first = key[0]
            for seen, found in self.recent:
                if seen[0] is first and all(map(is_, seen, key)):
                    return found
        elif self.recent:  # (keys of one memo have one length: every empty key is this one)
            return self.recent[0][1]
        values = self.values
        found = _UNSEEN if values is None else values.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = compute(*args)
            if values is not None:
                if len(values) >= self.limit:
                    values.clear()
                values[key] = found
        self.recent.insert(0, (key, found))
        del self.recent[self.keep:]
        return found


class Interner(Generic[T]):
    """Hash-consing: each value given back as the first equal value met (up to `limit` of them,
    then forgotten), so that equal values built along different paths of a search become the very
    same object. Whatever compares them afterwards — a memo by value, a `FrozenMap` holding them,
    two states — stops at identity instead of comparing them field by field, and the memos by
    identity above find them. No value changes, only which of two equal objects a state holds:
    within a search, equal values are one value (as the memos by value and the fingerprints of
    visited states already take them). A `Quantity`'s display format is not part of its value, so
    of two objects equal but for how a quantity is written (`1Gi`, `1073741824`) a state holds the
    one met first, and what is computed from their encoding (a pod-template-hash) follows it —
    as a state reached both ways is already one visited state."""

    __slots__ = ("limit", "values")

    def __init__(self, limit: int = INTERN_LIMIT) -> None:
        self.limit = limit
        self.values: dict[T, T] = {}

    def __call__(self, value: T) -> T:
        found = self.values.get(value)
        if found is not None:
            return found
        if len(self.values) >= self.limit:
            self.values.clear()
        self.values[value] = value
        return value


INTERNERS: list[Interner[Any]] = []
"""The active interners, innermost last, pushed for the duration of a search (by
`kubeprop.model.cluster.incremental.memoised`, with its other memos): outside any, nothing is
interned, so what one search met never reaches another."""


def intern(value: T) -> T:
    """`value`, or the equal value the active interner met first (see `Interner`)."""
    return INTERNERS[-1](value) if INTERNERS else value
