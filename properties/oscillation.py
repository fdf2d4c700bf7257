"""Cycle properties: what must not go round forever once faults stop.

A cycle property judges one period of a lasso (`Cycle`: the states and actions of a fair cycle
the cluster can repeat forever after `Quiesce`, `kubeprop.properties.explore.lasso`) and names
what oscillates. The built-ins:

- `replicas-stable`: no workload's desired replica count goes down and up again forever;
- `no-eviction-loop`: no pod is evicted from a node while a replacement of the same owner is
  scheduled back onto that node, forever;
- `no-flapping-writes`: no object's spec, labels or annotations are written with alternating values;
- `drains-complete`: a node drain does not stay blocked forever;
- `settles` (checked last, the catch-all): reconciliation settles — no fair cycle keeps writing
  to the API.

Users add their own with `@cycle_property(name, statement, upstream)` on a function
`(model, cycle) -> CheckResult`, like the state properties of `kubeprop.properties.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import ApiObject, Deployment, ObjectKey, Pod, ReplicaSet, StatefulSet
from kubeprop.model.errors import UnknownName
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, NamedCheck, Violation, first_found

__all__ = ["CYCLE_PROPERTIES", "Cycle", "CycleProperty", "cycle_property", "first_cycle_violation", "select_cycle"]


@attrs.frozen
class Cycle:
    """One period of a lasso: `states[0]` where it starts, `states[k]` after `actions[k-1]`; the
    last state has the same cycle key as the first."""

    states: tuple[ClusterState, ...]
    actions: tuple[Action, ...]

    @property
    def seconds(self) -> int:
        """Model time one period takes."""
        return self.states[-1].clock - self.states[0].clock

    def objects(self, resource: str) -> Iterable[tuple[int, ObjectKey, ApiObject]]:
        """(step, key, object) for every stored object of `resource` in every state of the period."""
        for i, state in enumerate(self.states):
            for key, obj in state.store.objects.sorted_items():
                if key.resource == resource:
                    yield i, key, obj


CycleCheck = Callable[[ClusterModel, Cycle], CheckResult]


@attrs.frozen
class CycleProperty(NamedCheck[ClusterModel, Cycle]):
    """A named property of cycles (kind "liveness": a lasso is its counterexample), called with
    (model, cycle)."""

    kind: str = "liveness"


CYCLE_PROPERTIES: dict[str, CycleProperty] = {}


def cycle_property(name: str, statement: str, upstream: str) -> Callable[[CycleCheck], CycleProperty]:
    """Decorator: a function `(model, cycle) -> CheckResult` becomes a registered cycle property."""

    def register(fn: CycleCheck) -> CycleProperty:
        prop = CycleProperty(name, statement, upstream, fn)
        CYCLE_PROPERTIES[name] = prop
        return prop

    return register


def select_cycle(names: Iterable[str | CycleProperty] | None = None) -> tuple[CycleProperty, ...]:
    """Cycle properties by name or value (all registered ones for None); `UnknownName` lists the valid names."""
    if names is None:
        return tuple(CYCLE_PROPERTIES.values())
    out = []
    for name in names:
        if isinstance(name, CycleProperty):
            out.append(name)
        elif name in CYCLE_PROPERTIES:
            out.append(CYCLE_PROPERTIES[name])
        else:
            raise UnknownName(f"unknown cycle property {name!r}; valid: {', '.join(sorted(CYCLE_PROPERTIES))}")
    return tuple(out)


def first_cycle_violation(model: ClusterModel, cycle: Cycle, props: Iterable[CycleProperty]) -> Violation | None:
    """The first property (in order) that the cycle violates."""
    return first_found(props, model, cycle)


_WORKLOADS = (("deployments.apps", "Deployment"), ("statefulsets.apps", "StatefulSet"),
              ("replicasets.apps", "ReplicaSet"))


def _owned_by_deployment(obj: ApiObject) -> bool:
    return any(ref.kind == "Deployment" and ref.controller for ref in obj.metadata.owner_references)


@cycle_property("replicas-stable", "No workload's desired replica count goes down and up again forever.",
                "pkg/controller/podautoscaler/horizontal.go (scale-down stabilisation exists to prevent flapping)")
def replicas_stable(model: ClusterModel, cycle: Cycle) -> CheckResult:
    for resource, kind in _WORKLOADS:
        seen: dict[ObjectKey, list[int]] = {}
        for _, key, obj in cycle.objects(resource):
            if isinstance(obj, Deployment | StatefulSet | ReplicaSet) and not (
                    isinstance(obj, ReplicaSet) and _owned_by_deployment(obj)):
                values = seen.setdefault(key, [])
                replicas = 1 if obj.spec.replicas is None else obj.spec.replicas
                if not values or values[-1] != replicas:
                    values.append(replicas)
        for key, values in seen.items():
            if len(set(values)) > 1:
                name = f"{kind} {key.namespace}/{key.name}"
                trail = " → ".join(str(v) for v in values)
                return (f"{name} oscillates: spec.replicas goes {trail} and round again every "
                        f"{len(cycle.actions)} steps ({cycle.seconds} s)", (name,))
    return None


def _evicted(before: ClusterState, after: ClusterState) -> list[Pod]:
    """Pods that the step marked for eviction (DisruptionTarget) or that left a node by eviction."""
    out = []
    for key, obj in after.store.objects.items():
        if not isinstance(obj, Pod) or key.resource != "pods":
            continue
        cond = find_condition(obj.status.conditions, "DisruptionTarget")
        old = before.store.get(key)
        old_cond = find_condition(old.status.conditions, "DisruptionTarget") if isinstance(old, Pod) else None
        if cond is not None and cond.status == "True" and (old_cond is None or old_cond.status != "True"):
            out.append(obj)
    return out


def _owner(pod: Pod) -> str:
    refs = [r for r in pod.metadata.owner_references if r.controller]
    return f"{refs[0].kind}/{pod.metadata.namespace}/{refs[0].name}" if refs else ""


@cycle_property("no-eviction-loop",
                "No pod is evicted from a node while a replacement is scheduled back onto the same node, forever.",
                "kubernetes-sigs/descheduler (DefaultEvictor nodeFit exists to avoid evicting pods that cannot "
                "go elsewhere); pkg/registry/core/pod/storage/eviction.go")
def no_eviction_loop(model: ClusterModel, cycle: Cycle) -> CheckResult:
    evicted: list[tuple[str, str, str]] = []
    bound: set[tuple[str, str]] = set()
    for before, after in zip(cycle.states, cycle.states[1:], strict=False):
        evicted += [(_owner(p), p.spec.node_name, f"{p.metadata.namespace}/{p.metadata.name}")
                    for p in _evicted(before, after) if _owner(p)]
        for key, obj in after.store.objects.items():
            if isinstance(obj, Pod) and obj.spec.node_name and _owner(obj):
                old = before.store.get(key)
                if not isinstance(old, Pod) or not old.spec.node_name:
                    bound.add((_owner(obj), obj.spec.node_name))
    for owner, node, pod in evicted:
        if (owner, node) in bound:
            return (f"Pod {pod} of {owner} is evicted from node {node} and a replacement is scheduled back onto "
                    f"{node}, every {len(cycle.actions)} steps ({cycle.seconds} s)", (f"Pod {pod}", f"Node {node}"))
    return None


def _shape(obj: ApiObject) -> tuple[Any, ...]:
    return (getattr(obj, "spec", None), obj.metadata.labels, obj.metadata.annotations)


@cycle_property("no-flapping-writes",
                "No object's spec, labels or annotations are written with alternating values forever.",
                "controllers fighting over a field (e.g. two writers of spec.replicas, taints or cordons)")
def no_flapping_writes(model: ClusterModel, cycle: Cycle) -> CheckResult:
    history: dict[ObjectKey, list[tuple[Any, ...]]] = {}
    for state in cycle.states:
        for key, obj in state.store.objects.items():
            if key.resource in ("pods", "events", "endpoints", "endpointslices.discovery.k8s.io"):
                continue
            shapes = history.setdefault(key, [])
            shape = _shape(obj)
            if not shapes or shapes[-1] != shape:
                shapes.append(shape)
    for key, shapes in sorted(history.items()):
        if len(shapes) > 2 and len(set(map(repr, shapes))) < len(shapes):
            return (f"{key} is written back and forth: {len(shapes) - 1} changes in one period of "
                    f"{len(cycle.actions)} steps ({cycle.seconds} s), returning to an earlier value", (str(key),))
    return None


@cycle_property("drains-complete", "A node drain finishes: it does not stay blocked forever.",
                "staging/src/k8s.io/kubectl/pkg/drain/drain.go (evictions retried on 429 until the budget allows)")
def drains_complete(model: ClusterModel, cycle: Cycle) -> CheckResult:
    blocked: set[str] | None = None
    for state in cycle.states:
        drains = state.addons.get("maintenance")
        nodes = set(getattr(drains, "draining", {}) or {})
        blocked = nodes if blocked is None else blocked & nodes
    if not blocked:
        return None
    node = sorted(blocked)[0]
    drain = cycle.states[-1].addons["maintenance"].draining[node]
    pending = ", ".join(getattr(drain, "pending", ())) or "its pods"
    return (f"the drain of node {node} never completes: evicting {pending} keeps failing (retried every "
            f"{model.parameter('drainRetrySeconds')} s, a cycle of {len(cycle.actions)} steps)",
            (f"Node {node}",))


def _written(cycle: Cycle) -> list[ObjectKey]:
    """The objects written (created, changed or deleted) along the cycle, in order."""
    keys: list[ObjectKey] = []
    for before, after in zip(cycle.states, cycle.states[1:], strict=False):
        if after.store.revision == before.store.revision:
            continue
        old, new = before.store.objects, after.store.objects
        keys += [k for k in sorted(set(old) | set(new)) if
                 (old.get(k).metadata.resource_version if k in old else None)  # type: ignore[union-attr]
                 != (new.get(k).metadata.resource_version if k in new else None)]  # type: ignore[union-attr]
    return keys


@cycle_property("settles", "Once faults stop, reconciliation settles: no fair cycle keeps writing to the API.",
                "the eventually-stable reconciliation pattern (Anvil, OSDI'24); SPIN non-progress cycles")
def settles(model: ClusterModel, cycle: Cycle) -> CheckResult:
    writes = _written(cycle)
    if not writes and cycle.states[-1].store.revision == cycle.states[0].store.revision:
        return None
    names = sorted({str(k) for k in writes})
    count = cycle.states[-1].store.revision - cycle.states[0].store.revision
    return (f"the cluster never settles: every {len(cycle.actions)} steps ({cycle.seconds} s) it writes "
            f"{count} times, to {', '.join(names[:6])}{' …' if len(names) > 6 else ''}", tuple(names[:6]))
