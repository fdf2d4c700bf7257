"""Immutable, hashable mappings for API objects and model states.

Kubernetes objects are full of string maps (labels, annotations, ConfigMap data, resource lists).
Model states must be hashable and compare by value, so every map in the model is a `FrozenMap`:
a read-only `Mapping` whose items are kept sorted by key, whose hash is cached, and whose
iteration order is therefore the same in every process (no dependence on insertion order or on
Python's salted string hash).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
_FIRST = itemgetter(0)


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A sorted, immutable, hashable mapping.

    Keys must be mutually orderable (in practice: strings). Two FrozenMaps are equal iff they hold
    the same items; a FrozenMap also compares equal to a plain dict with the same items, but only
    FrozenMaps are hashable.

    `_data` is a dict built in key order, so iterating it gives the sorted order too; the
    read paths go straight to it (the `Mapping` mixins would go through `__getitem__` item by
    item), and `set`/`delete` keep the order without sorting again (the hot path of every step).
    `get` is `_data.get` itself, bound when the map is made (a slot, not a method: the most asked
    read of the model's maps costs no call of Python).
    """

    __slots__ = ("_data", "_hash", "_items", "get")

    _data: dict[K, V]
    _items: tuple[tuple[K, V], ...]
    _hash: int | None

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        if type(items) is dict:  # the common case first: no ABC check, keys already unique
            ordered = tuple(sorted(items.items(), key=_FIRST))
            data = dict(ordered)
        elif isinstance(items, FrozenMap):
            ordered, data = items._items, items._data
        else:
            pairs = items.items() if isinstance(items, Mapping) else items
            ordered = tuple(sorted(pairs, key=_FIRST))
            data = dict(ordered)
            if len(data) != len(ordered):  # repeated keys: the last one wins, as in dict()
                ordered = tuple(sorted(data.items(), key=_FIRST))
                data = dict(ordered)
        _SET_ITEMS(self, ordered)
        _SET_DATA(self, data)
        _SET_GET(self, data.get)
        _SET_HASH(self, None)

    @classmethod
    def _sorted(cls, data: dict[K, V]) -> FrozenMap[K, V]:
        """A FrozenMap of `data`, whose insertion order is already the key order (not copied)."""
        new: FrozenMap[K, V] = object.__new__(cls)
        _SET_ITEMS(new, tuple(data.items()))
        _SET_DATA(new, data)
        _SET_GET(new, data.get)
        _SET_HASH(new, None)
        return new

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrozenMap is immutable")

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    if TYPE_CHECKING:  # (at run time `get` is the slot: `_data.get`, bound when the map is made)
        @overload
        def get(self, key: K) -> V | None: ...

        @overload
        def get(self, key: K, default: V | T) -> V | T: ...

        def get(self, key: K, default: Any = None) -> Any: ...

    def keys(self) -> KeysView[K]:
        return self._data.keys()

    def values(self) -> ValuesView[V]:
        return self._data.values()

    def items(self) -> ItemsView[K, V]:
        return self._data.items()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(self._items)
            _SET_HASH(self, h)
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, FrozenMap):
            if self._hash is not None and other._hash is not None and self._hash != other._hash:
                return False
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({dict(self._items)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._items,))

    def sorted_items(self) -> tuple[tuple[K, V], ...]:
        """The items in key order (the canonical order used for fingerprints and output)."""
        return self._items

    def differing_keys(self, other: FrozenMap[K, V]) -> list[K]:
        """The keys whose values in `self` and `other` are not the very same objects (a missing
        key's value counting as None), each once, in no particular order."""
        mine, theirs = self._data, other._data
        out = [key for key, value in mine.items() if theirs.get(key) is not value]
        out += [key for key, value in theirs.items() if value is not None and key not in mine]
        return out

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """A copy with `key` bound to `value` (`self` when it already is)."""
        data = self._data
        if key in data:
            if data[key] is value:
                return self
            data = dict(data)
            data[key] = value  # same position: still in key order
            return FrozenMap._sorted(data)
        items = self._items
        at = bisect_left(items, cast(Any, key), key=_FIRST)
        return FrozenMap._sorted(dict((*items[:at], (key, value), *items[at:])))

    def delete(self, key: K) -> FrozenMap[K, V]:
        """A copy without `key` (unchanged if absent)."""
        if key not in self._data:
            return self
        data = dict(self._data)
        del data[key]
        return FrozenMap._sorted(data)

    def update(self, other: Mapping[K, V]) -> FrozenMap[K, V]:
        """A copy with every item of `other` added or replaced."""
        data = dict(self._data)
        data.update(other)
        return FrozenMap(data)


_SET_ITEMS, _SET_DATA, _SET_HASH, _SET_GET = (
    cast(Any, FrozenMap.__dict__[s]).__set__ for s in ("_items", "_data", "_hash", "get"))
"""The slots' own setters: they write the slots of an instance being built without going through
`__setattr__` (which refuses, the map being immutable) and cost less than `object.__setattr__`."""

EMPTY: FrozenMap[Any, Any] = FrozenMap()


def frozen_map(items: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None) -> FrozenMap[Any, Any]:
    """Build a FrozenMap, treating None as empty (an attrs converter for optional maps)."""
    if items is None:
        return FrozenMap()
    if isinstance(items, FrozenMap):
        return items
    return FrozenMap(items)
