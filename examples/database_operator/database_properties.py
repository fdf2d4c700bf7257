"""The Database operator's own properties, as plain functions over cluster states.

Each property takes a `ClusterState` (or two, for a transition) and returns None when it holds,
else a message naming the objects involved. They read only `state.store` (the API server's
truth), never a component's cache. Three kinds, by when they are meant to hold:

- `ALWAYS`: on every reachable state (safety);
- `SETTLED`: once the cluster is quiet (`kubeprop.model.cluster.drive.settle` stopped without running out
  of steps; later, the engines' quiescent states): convergence;
- `TRANSITIONS`: over every step (before, after).

`check(properties, state)` runs a group and returns the messages of those that fail.

The state properties are also registered as kubeprop properties (`REGISTERED`: the `ALWAYS` ones as
safety properties, the `SETTLED` ones as convergence properties), so the engines check them: the
scenario names this module under `properties:`, or run
`PYTHONPATH=examples/database_operator kubeprop check … --properties database_properties`.
Transition properties have no engine counterpart yet; the test checks them along a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
from database_operator import KIND, RESOURCE, children_keys, controlled_by, credentials_data, spec_of

from kubeprop.model.api.objects import CustomObject, Secret, StatefulSet
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Kind, Needs, Property, as_property, register

StateProperty = Callable[[ClusterState], "str | None"]
TransitionProperty = Callable[[ClusterState, ClusterState], "str | None"]


def databases(state: ClusterState) -> Iterator[CustomObject]:
    """Every Database in the store, in key order."""
    for obj in state.store.list(RESOURCE):
        if isinstance(obj, CustomObject) and obj.info.kind == KIND:
            yield obj


def _status(db: CustomObject) -> Mapping[str, Any]:
    return db.status if isinstance(db.status, Mapping) else {}


def _missing_children(state: ClusterState, db: CustomObject) -> list[str]:
    out = []
    for key in children_keys(db):
        obj = state.store.get(key)
        if obj is None:
            out.append(f"{key} is missing")
        elif not controlled_by(obj, db):
            out.append(f"{key} is not controlled by Database {db.metadata.namespace}/{db.metadata.name}")
    return out


def every_database_has_its_children(state: ClusterState) -> str | None:
    """SETTLED: every live Database has its Service, Secret and StatefulSet, each controlled by it."""
    problems = [p for db in databases(state) if db.metadata.deletion_timestamp is None
                for p in _missing_children(state, db)]
    return "; ".join(problems) or None


def ready_database_has_its_children(state: ClusterState) -> str | None:
    """ALWAYS: a Database whose status says Ready has all its children, controlled by it (the
    operator never reports Ready before it has seen them)."""
    problems = [p for db in databases(state) if _status(db).get("phase") == "Ready"
                for p in _missing_children(state, db)]
    return "; ".join(f"Ready but {p}" for p in problems) or None


def children_are_controlled_by_their_database(state: ClusterState) -> str | None:
    """ALWAYS: a child that exists, named after a Database, is controlled by that Database (only
    the operator creates these names in this scenario)."""
    problems = []
    for db in databases(state):
        for key in children_keys(db):
            obj = state.store.get(key)
            if obj is not None and not controlled_by(obj, db):
                problems.append(f"{key} exists but is not controlled by Database {db.metadata.name}")
    return "; ".join(problems) or None


def credentials_secret_is_stable(state: ClusterState) -> str | None:
    """ALWAYS: a Database's credentials Secret, whenever it exists, holds exactly the credentials
    derived from the Database's UID (so it never changes while the Database lives)."""
    problems = []
    for db in databases(state):
        secret = state.store.get(children_keys(db)[1])
        if isinstance(secret, Secret) and controlled_by(secret, db) and dict(secret.data) != credentials_data(db):
            problems.append(f"secret {secret.metadata.namespace}/{secret.metadata.name} holds other credentials "
                            f"than Database {db.metadata.name}'s")
    return "; ".join(problems) or None


def credentials_never_change(before: ClusterState, after: ClusterState) -> str | None:
    """TRANSITION: a credentials Secret that exists before and after a step (same UID) has the
    same data after it."""
    problems = []
    for db in databases(after):
        key = children_keys(db)[1]
        old, new = before.store.get(key), after.store.get(key)
        if isinstance(old, Secret) and isinstance(new, Secret) and old.metadata.uid == new.metadata.uid \
                and old.data != new.data:
            problems.append(f"secret {key} changed its data")
    return "; ".join(problems) or None


def database_status_matches_statefulset(state: ClusterState) -> str | None:
    """SETTLED: each Database's status describes its current spec and StatefulSet: observedGeneration
    is the Database's generation, readyReplicas the StatefulSet's, and the phase is Ready exactly
    when that equals `spec.replicas`."""
    problems = []
    for db in databases(state):
        status = _status(db)
        sts = state.store.get(children_keys(db)[2])
        ready = sts.status.ready_replicas if isinstance(sts, StatefulSet) else 0
        replicas, _ = spec_of(db)
        want = {"phase": "Ready" if ready == replicas else "Pending", "readyReplicas": ready,
                "observedGeneration": db.metadata.generation}
        wrong = {k: (status.get(k), v) for k, v in want.items() if status.get(k) != v}
        if wrong:
            detail = ", ".join(f"{k} is {got!r}, expected {exp!r}" for k, (got, exp) in sorted(wrong.items()))
            problems.append(f"Database {db.metadata.namespace}/{db.metadata.name}: {detail}")
    return "; ".join(problems) or None


ALWAYS: tuple[StateProperty, ...] = (
    ready_database_has_its_children, children_are_controlled_by_their_database, credentials_secret_is_stable,
)
SETTLED: tuple[StateProperty, ...] = (every_database_has_its_children, database_status_matches_statefulset)
TRANSITIONS: tuple[TransitionProperty, ...] = (credentials_never_change,)


def check(properties: Sequence[StateProperty], state: ClusterState) -> list[str]:
    """`name: message` for every property of `properties` that fails on `state`."""
    out = []
    for prop in properties:
        message = prop(state)
        if message is not None:
            out.append(f"{prop.__name__}: {message}")
    return out


def _registered(prop: StateProperty, kind: Kind) -> Property:
    """`prop` as a registered kubeprop property named after the function (`ready-database-has-…`),
    its docstring's first sentence as the statement; it needs a Database to be about."""
    def check_(model: ClusterModel, state: ClusterState) -> str | None:
        return prop(state)

    doc = (prop.__doc__ or "").split(":", 1)[-1].strip().split(". ")[0].replace("\n", " ")
    made = as_property(prop.__name__.replace("_", "-"), " ".join(doc.split()), "examples/database_operator",
                       kind, check_, needs=Needs((RESOURCE,)))
    return register(attrs.evolve(made, source=__name__))


REGISTERED: tuple[Property, ...] = (*(_registered(p, "safety") for p in ALWAYS),
                                    *(_registered(p, "convergence") for p in SETTLED))
"""The state properties as kubeprop properties (registered on import)."""
