"""Properties: named, documented checks over cluster states, and the registry engines read.

A property has a name, a one-line statement, the upstream rule it encodes, and a check. A safety
property's check takes (model, state) and returns None (holds) or a `Violation` naming the objects
involved. Users add properties as plain functions with the `@safety(...)` decorator or by building
`Property` values (docs/properties.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import attrs

from kubeprop.model.errors import UnknownName
from kubeprop.model.state.cluster import ClusterModel, ClusterState

Kind = Literal["safety", "convergence"]


@attrs.frozen
class Violation:
    """Why a property fails in a state: a sentence, and the objects involved (`kind ns/name`)."""

    property: str
    message: str
    objects: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.property}: {self.message}"


Check = Callable[[ClusterModel, ClusterState], "Violation | None"]


@attrs.frozen
class Property:
    """A named property. `kind` is safety (checked on every state) or convergence (checked on
    the states a fair, fault-free run settles in)."""

    name: str
    statement: str
    upstream: str
    check: Check = attrs.field(eq=False, repr=False)
    kind: Kind = "safety"
    needs_recovery: bool = True
    """Convergence only: True when the property can be expected only once the environment
    recovers (partitions heal, crashed nodes boot); False when the control plane alone must bring
    it about, so it is also judged on the continuation where nothing recovers."""
    reads: tuple[str, ...] | None = None
    """The `ClusterState` fields the check reads (`store` meaning the stored objects), so that an
    engine may reuse its verdict while they are unchanged; None: anything (always re-evaluated)."""

    def __call__(self, model: ClusterModel, state: ClusterState) -> Violation | None:
        return self.check(model, state)


PROPERTIES: dict[str, Property] = {}


def register(prop: Property) -> Property:
    """Add a property to the registry (a later one with the same name replaces it)."""
    PROPERTIES[prop.name] = prop
    return prop


CheckResult = str | tuple[str, tuple[str, ...]] | None
"""What a property function returns: None (holds), a message, or (message, objects involved)."""
CheckFn = Callable[[ClusterModel, ClusterState], CheckResult]


def as_property(name: str, statement: str, upstream: str, kind: Kind, fn: CheckFn, *, needs_recovery: bool = True,
                reads: tuple[str, ...] | None = None) -> Property:
    """Wrap a plain function returning a CheckResult as a Property."""

    def check(model: ClusterModel, state: ClusterState) -> Violation | None:
        result = fn(model, state)
        if result is None:
            return None
        if isinstance(result, tuple):
            message, objects = result
            return Violation(name, message, tuple(objects))
        return Violation(name, result)

    return Property(name, statement, upstream, check, kind, needs_recovery, reads)


def safety(name: str, statement: str, upstream: str, *, reads: tuple[str, ...] | None = None
           ) -> Callable[[CheckFn], Property]:
    """Decorator: a function returning a CheckResult becomes a registered safety property."""
    return lambda fn: register(as_property(name, statement, upstream, "safety", fn, reads=reads))


def convergence(name: str, statement: str, upstream: str, *, needs_recovery: bool = True,
                reads: tuple[str, ...] | None = None) -> Callable[[CheckFn], Property]:
    """Decorator: a function returning a CheckResult becomes a registered convergence property,
    judged where a fair, fault-free run settles (also where the environment never recovers, with
    `needs_recovery=False`)."""
    return lambda fn: register(as_property(name, statement, upstream, "convergence", fn,
                                           needs_recovery=needs_recovery, reads=reads))


def select(names: Iterable[str | Property] | None = None, kind: Kind | None = None) -> tuple[Property, ...]:
    """Properties by name of a registered one, or given as `Property` values (which are used as they
    are, never registered); all registered ones when `names` is None; optionally only of one kind.
    An unknown name raises `UnknownName` listing the valid ones."""
    from kubeprop.properties import convergence as _convergence  # noqa: F401  (registers the built-in properties)
    from kubeprop.properties import invariants as _invariants  # noqa: F401
    from kubeprop.properties import scheduler_decisions as _scheduling  # noqa: F401  (Z3-checked scheduler decisions)

    if names is None:
        chosen = list(PROPERTIES.values())
    else:
        chosen = []
        for name in names:
            if isinstance(name, Property):
                chosen.append(name)
                continue
            if name not in PROPERTIES:
                raise UnknownName(f"unknown property {name!r}; valid: {', '.join(sorted(PROPERTIES))}")
            chosen.append(PROPERTIES[name])
    return tuple(p for p in chosen if kind is None or p.kind == kind)


def first_violation(model: ClusterModel, state: ClusterState, props: Iterable[Property]) -> Violation | None:
    """The first property (in the given order) that fails in `state`."""
    for prop in props:
        violation = prop(model, state)
        if violation is not None:
            return violation
    return None
