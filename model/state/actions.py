"""Actions: every step the cluster can take, as immutable values.

An action carries every nondeterministic choice *by value* (pod key, node name, probe outcome),
prints as one human line (`Schedule(pod=default/backend-7f9c-x2k, node=worker-3)`), and
serialises to JSON by value (`to_json` / `action_from_json`), so a counterexample file stays
meaningful when the enumeration order changes.

Action classes subclass `Action` (which registers them by name); `cluster.step` dispatches on
the class.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, cast

import attrs

from kubeprop.model.errors import InputError

ACTION_TYPES: dict[str, type[Any]] = {}


class ActionError(InputError, ValueError):
    """A JSON action that does not decode (unknown action, missing or mistyped field)."""


class Action:
    """Base of every action class: registration by class name, and the one-line `str`.

    Subclasses are `@attrs.frozen(order=True)` classes whose fields are str, int, bool or tuples
    of those (what JSON can carry by value).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ACTION_TYPES[cls.__name__] = cls

    def __str__(self) -> str:
        parts = [f"{f.name}={_fmt(getattr(self, f.name))}" for f in attrs.fields(cast(Any, type(self)))]
        return f"{type(self).__name__}({', '.join(parts)})"

    def sort_key(self) -> tuple[str, tuple[Any, ...]]:
        """A total order over actions of all classes (class name, then fields)."""
        return type(self).__name__, attrs.astuple(cast(Any, self))


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def to_json(act: Action) -> dict[str, Any]:
    """The action as JSON data: `{"action": Name, field: value, …}`."""
    out: dict[str, Any] = {"action": type(act).__name__}
    for field in attrs.fields(cast(Any, type(act))):
        value = getattr(act, field.name)
        out[field.name] = list(value) if isinstance(value, tuple) else value
    return out


def action_from_json(data: Any) -> Action:
    """Rebuild an action from `to_json` output; ActionError names what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        raise ActionError("an action must be an object with a string field 'action'")
    name = data["action"]
    cls = ACTION_TYPES.get(name)
    if cls is None:
        raise ActionError(f"unknown action {name!r}; known: {', '.join(sorted(ACTION_TYPES))}")
    hints = _field_types(cls)
    kwargs: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name not in data:
            if field.default is attrs.NOTHING:
                raise ActionError(f"{name}: missing field {field.name!r}")
            continue
        kwargs[field.name] = _convert(name, field.name, hints[field.name], data[field.name])
    extra = set(data) - {"action"} - {f.name for f in attrs.fields(cls)}
    if extra:
        raise ActionError(f"{name}: unknown field(s) {', '.join(sorted(extra))}")
    try:
        result: Action = cls(**kwargs)
    except ValueError as err:  # a field's validator (`ContainerExit.exit_code`: 0–255)
        raise ActionError(f"{name}: {err}") from None
    return result


_FIELD_TYPES: dict[str, dict[str, Any]] = {}


def _field_types(cls: type[Action]) -> dict[str, Any]:
    """An action class's field types (`typing.get_type_hints`), worked out once per class name: a
    long trace reads thousands of actions of a few classes (trial18: 88,000 old-form actions spent
    19 s here)."""
    found = _FIELD_TYPES.get(cls.__qualname__ + "@" + cls.__module__)
    if found is None:
        found = _FIELD_TYPES[cls.__qualname__ + "@" + cls.__module__] = typing.get_type_hints(cls)
    return found


def _convert(action_name: str, field: str, tp: Any, value: Any) -> Any:
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list):
            raise ActionError(f"{action_name}.{field}: expected a list")
        (item_tp, _) = typing.get_args(tp)
        return tuple(_convert(action_name, field, item_tp, v) for v in value)
    checks: dict[Any, Callable[[Any], bool]] = {
        str: lambda v: isinstance(v, str),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        bool: lambda v: isinstance(v, bool),
    }
    check = checks.get(tp)
    if check is not None and not check(value):
        raise ActionError(f"{action_name}.{field}: expected {tp.__name__}, got {value!r}")
    return value


# --- time, user workload, faults -------------------------------------------------------------


@attrs.frozen(order=True)
class Tick(Action):
    """The clock advances by the scenario's tick; enabled only while a timer is pending."""

    seconds: int


@attrs.frozen(order=True)
class UserStep(Action):
    """The next workload step of the scenario (kubectl apply/scale/set image/delete)."""

    index: int


@attrs.frozen(order=True)
class Quiesce(Action):
    """Faults stop for good; convergence is judged from here on."""


@attrs.frozen(order=True)
class CrashNode(Action):
    """A node loses power: its kubelet stops and every container on it dies."""

    node: str


@attrs.frozen(order=True)
class RestartNode(Action):
    """A crashed node boots: the kubelet starts with no containers and relists."""

    node: str


@attrs.frozen(order=True)
class Partition(Action):
    """The network between a node and the control plane is cut (both directions)."""

    node: str


@attrs.frozen(order=True)
class Heal(Action):
    """A partition ends."""

    node: str


@attrs.frozen(order=True)
class CrashContainer(Action):
    """A running container of a pod exits unexpectedly (the kubelet will restart it with backoff)."""

    node: str
    pod: str
    container: str


@attrs.frozen(order=True)
class CrashComponent(Action):
    """A control-plane process crashes, losing its memory (caches, queues, assume cache, expectations)."""

    component: str


@attrs.frozen(order=True)
class CrashDuringReconcile(Action):
    """The controller manager crashes while a worker of `controller` reconciles `key`: after the
    first `sent` requests of the reconcile reached the API server, before the others. Upstream a
    sync sends its API calls one after another and nothing makes them atomic (e.g. the ReplicaSet
    controller's creates in `slowStartBatch`, `pkg/controller/replicaset/replica_set.go`), so a
    process can die between two of them; what it wrote stays, what it meant to write next and
    everything in memory is lost. The model takes the requests in the reconcile's order, so a crash
    leaves a prefix of them written (`slowStartBatch` sends a batch's creates concurrently, so any
    subset may land; they differ only in their generated names, so any k of them is the first k).
    Enabled for a queued key whose reconcile would send more than one request; drawn from the
    `componentCrash` budget."""

    controller: str
    key: str
    sent: int


@attrs.frozen(order=True)
class RestartComponent(Action):
    """A crashed component starts again: it relists and resyncs."""

    component: str


@attrs.frozen(order=True)
class DropWatch(Action):
    """A component's watch on one resource breaks; the reflector must relist (maybe 410 Gone)."""

    component: str
    resource: str


@attrs.frozen(order=True)
class FailNextRequest(Action):
    """The component's next API request fails (500, 429, or a timeout that still applied the write)."""

    component: str
    code: int


INJECTED_FAULTS: dict[type[Action], str] = {
    CrashNode: "node_crash", Partition: "partition", CrashContainer: "container_crash",
    CrashComponent: "component_crash", CrashDuringReconcile: "component_crash", DropWatch: "watch_drop",
    FailNextRequest: "request_failure",
}
"""The faults drawn from the scenario's fault budget (enabled only before `Quiesce`), each with the
budget kind (`kubeprop.model.fault_kinds.FaultCounts` field) it spends; the other fault kinds are
actions of their own modules (`kubeprop.model.cluster.maintenance`, `restore`, `overload`,
`environment`)."""


# --- informers ------------------------------------------------------------------------------


@attrs.frozen(order=True)
class Deliver(Action):
    """The next watch event of `resource` reaches `component`'s informer cache."""

    component: str
    resource: str
    revision: int


@attrs.frozen(order=True)
class Relist(Action):
    """A component's reflector lists `resource` afresh, replacing that part of its cache."""

    component: str
    resource: str
