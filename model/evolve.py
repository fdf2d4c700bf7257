"""`evolve`: `attrs.evolve` for the model's frozen slotted classes, without going through `__init__`.

A step copies a few of its objects with one or two fields changed (`ClusterState`, `ObjectMeta`,
a controller's queue, a pod's status…), tens of thousands of times a second. `attrs.evolve` looks
the class's fields up, reads every field into a dictionary of changes and calls the class with it:
its `__init__` parses the keywords and sets every slot through `object.__setattr__`. For a class
whose `__init__` only assigns its fields (no validators, no `__attrs_pre_init__` or
`__attrs_post_init__`, every field an `__init__` argument under its own name, no `__new__` of its
own), that is the same as a new empty instance whose slots are copied from the old one, the
changed ones taken from the changes (through the field's converter, as `__init__` would), and the
cached hash (`cache_hash=True`) cleared. `evolve` does exactly that, with a function generated once
per class that sets each slot through its descriptor; it is 3× cheaper for the model's classes.

Converters: `__init__` passes every value through its field's converter, the unchanged ones too.
For `frozen_map` (the model's converter of maps) that is the identity on its own results — an
unchanged value was converted when the instance was made — so it is applied to the changed values
only; any other converter is applied to every value, as `__init__` does.

Any other class (validators, hooks, a custom `__init__` or `__new__`, dict-based instances,
`attrs.Converter`s that take the instance), and changes that name no field, go to `attrs.evolve`
itself, which raises its own errors. `tests/model/test_evolve.py` checks over every attrs class
of the model that both give equal instances, with the very same field values, and the same hash.
For type checkers `evolve` *is* `attrs.evolve` (whose plugin checks the changed fields' names and
types).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MemberDescriptorType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from kubeprop.model.frozen import frozen_map

T = TypeVar("T")

IDEMPOTENT_CONVERTERS: frozenset[Any] = frozenset({frozen_map})
"""Converters `c` with `c(c(x)) is c(x)` for every `x`: an unchanged field keeps its value
without calling them again (`frozen_map` returns a `FrozenMap` it is given)."""

_HASH_SLOT = "_attrs_cached_hash"
"""The slot attrs keeps a `cache_hash=True` class's hash in (None until first computed)."""

Evolver = Callable[[Any, dict[str, Any]], Any]
_EVOLVERS: dict[type, Evolver | None] = {}
"""Class → its generated copier, or None where `attrs.evolve` itself is used."""


def _fast_evolve(inst: T, /, **changes: Any) -> T:
    """A copy of `inst` with `changes` (see the module's docstring); the same as `attrs.evolve`."""
    cls = type(inst)
    try:
        copier = _EVOLVERS[cls]
    except KeyError:
        copier = _EVOLVERS[cls] = _evolver(cls)
    if copier is None:
        return cast(T, attrs.evolve(cast(Any, inst), **changes))
    return copier(inst, changes)  # type: ignore[no-any-return]


def _slot(cls: type, name: str) -> Any:
    """The member descriptor of slot `name` (None if `name` is no plain slot of `cls`)."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            return found if isinstance(found, MemberDescriptorType) else None
    return None


def _plain(cls: type) -> bool:
    """Whether `cls`'s `__init__` only assigns its fields (what `_evolver` reproduces)."""
    if not attrs.has(cls) or any("__dict__" in klass.__dict__ for klass in cls.__mro__):  # instances with a dict
        return False
    if "__attrs_attrs__" not in cls.__dict__ or "__init__" not in cls.__dict__:  # a subclass attrs did not make
        return False
    if cls.__new__ is not object.__new__ or "__attrs_init__" in cls.__dict__:  # a new or an init of its own
        return False
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return False
    return all(f.init and f.alias == f.name and f.validator is None and not isinstance(f.converter, attrs.Converter)
               and _slot(cls, f.name) is not None for f in attrs.fields(cls))


def _evolver(cls: type) -> Evolver | None:
    """A function `(inst, changes) -> copy` for `cls`, generated from its fields; None if `cls`
    is not `_plain`."""
    if not _plain(cls):
        return None
    fields = attrs.fields(cls)
    names = {f.name for f in fields}
    space: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_names": names, "_evolve": attrs.evolve}
    lines = ["def evolve(inst, changes):",
             "    if not changes.keys() <= _names:",
             "        return _evolve(inst, **changes)",
             "    new = _new(_cls)"]
    for i, f in enumerate(fields):
        space[f"_set{i}"] = _slot(cls, f.name).__set__
        if f.converter is None:
            lines.append(f"    _set{i}(new, changes[{f.name!r}] if {f.name!r} in changes else inst.{f.name})")
        else:
            space[f"_convert{i}"] = f.converter
            idempotent = any(f.converter is c for c in IDEMPOTENT_CONVERTERS)
            unchanged = f"inst.{f.name}" if idempotent else f"_convert{i}(inst.{f.name})"
            changed = f"_convert{i}(changes[{f.name!r}])"
            lines.append(f"    _set{i}(new, {changed} if {f.name!r} in changes else {unchanged})")
    hash_slot = _slot(cls, _HASH_SLOT)
    if hash_slot is not None:
        space["_set_hash"] = hash_slot.__set__
        lines.append("    _set_hash(new, None)")
    lines.append("    return new")
    exec("\n".join(lines), space)  # code generated from the class's own field names only
    return space["evolve"]  # type: ignore[no-any-return]


if TYPE_CHECKING:
    from attrs import evolve as evolve
else:
    evolve = _fast_evolve
