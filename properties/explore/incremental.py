"""Cheaper checks for the engines: a property is re-evaluated only when what it reads changed.

A property may declare the `ClusterState` fields its check reads (`Property.reads`; `objects`
means the stored objects, `store` the whole store with its revision and event log, `FIELD:KEY` one
entry of a map such as `controllers:endpoints`, and a name of `registry.DERIVED_READS` a value
computed from the state, such as whether the controller manager's caches are caught up). `Checker`
keeps, per property, the verdicts it computed with those fields, and reuses one when the fields
are the same (the common case: most actions — watch deliveries, scheduling decisions,
a kubelet's local steps — write nothing a property reads). A property that declares nothing is
evaluated on every state. The verdict is the property's own on that state: only *when* it is
computed changes, never *what* (tests/properties/explore/test_incremental.py compares the two on
random runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import attrs

from kubeprop.model.memo import RecentThenByValue
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import DERIVED_READS, Property, Violation

KEEP = 4
"""Verdicts per property checked by identity before the by-value lookup."""
LIMIT = 4096
"""Verdicts kept per property before its memo is cleared (bounded memory: each keeps the parts of
a state it was computed from alive)."""

PartsFn = Callable[[ClusterState], tuple[Any, ...]]


def _part(name: str) -> Callable[[ClusterState], Any]:
    if name == "objects":
        return lambda state: state.store.objects
    derived = DERIVED_READS.get(name)
    if derived is not None:
        return _last(derived.value)
    names = [a.name for a in attrs.fields(ClusterState)]
    field, _, entry = name.partition(":")
    if field not in names:
        raise ValueError(f"unknown state part {name!r} in a property's `reads`; valid: objects, "
                         f"{', '.join(names)}, FIELD:KEY (one entry of a map), {', '.join(sorted(DERIVED_READS))}")
    if entry:
        return lambda state: getattr(state, field).get(entry)
    return lambda state: getattr(state, name)


def _last(fn: Callable[[ClusterState], Any]) -> Callable[[ClusterState], Any]:
    """`fn`, remembering its value for the last state (several properties read it of one state)."""
    seen: list[Any] = [None, None]

    def value(state: ClusterState) -> Any:
        if seen[0] is not state:
            seen[:] = [state, fn(state)]
        return seen[1]

    return value


def parts_function(reads: Sequence[str] | None) -> PartsFn | None:
    """A function giving the parts of a state that `reads` names, as a tuple (None when the
    property reads anything)."""
    if reads is None:
        return None
    getters = tuple(_part(name) for name in reads)
    if all(name not in DERIVED_READS and ":" not in name for name in reads):  # plain fields: one C call
        # one name gives the bare value, not a 1-tuple (typeshed's overload for `*names` says tuple)
        get: Callable[[ClusterState], Any] = attrgetter(*("store.objects" if name == "objects" else name
                                                          for name in reads))
        return get if len(reads) > 1 else lambda state: (get(state),)
    return lambda state: tuple([get(state) for get in getters])


class _Memo:
    """One property's verdicts by the parts of the state each was computed from: the last few
    checked by identity (unchanged parts of a successor are the very same objects, so this costs a
    few `is` checks), then all of them (up to `LIMIT`) by value unless `by_value` is off."""

    __slots__ = ("memo", "parts_fn", "prop")

    def __init__(self, prop: Property, by_value: bool) -> None:
        self.prop = prop
        self.parts_fn = parts_function(prop.reads)
        self.memo: RecentThenByValue[Violation | None] = RecentThenByValue(KEEP, LIMIT, by_value)

    def verdict(self, model: ClusterModel, state: ClusterState) -> Violation | None:
        if self.parts_fn is None:
            return self.prop(model, state)
        return self.memo.get(self.parts_fn(state), self.prop, model, state)


class Checker:
    """The first violated property of a state, like `registry.first_violation`, with each verdict
    reused while the parts of the state its property reads are unchanged.

    `by_value=False` keeps only the identity memo: the breadth-first searches check each state
    once, and the by-value hits they get are parts equal to, but not the same objects as, parts
    checked before (a state read back from the spilled frontier is a new object), whose deep
    comparison costs about what the property does — while the memo kept the parts of thousands
    of states alive (issue 17: 17 MB at 100,000 states of web.yaml)."""

    def __init__(self, model: ClusterModel, properties: Sequence[Property], by_value: bool = True) -> None:
        self.model = model
        self.memos = tuple(_Memo(p, by_value) for p in properties)
        self._calls = tuple((m.parts_fn, m.memo.get, m.prop.check) for m in self.memos)
        """Each memo's parts function, look-up and check (`_Memo.verdict` without its call)."""

    def violation(self, state: ClusterState) -> Violation | None:
        """The first property (in the given order) that fails in `state`."""
        model = self.model
        for parts_fn, get, check in self._calls:
            found = check(model, state) if parts_fn is None else get(parts_fn(state), check, model, state)
            if found is not None:
                return found
        return None
