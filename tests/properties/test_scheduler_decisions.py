"""Which write of a pod is its binding (`scheduler_decisions.fresh_binding`), which the binding
properties judge with every taint of the node: a later write that keeps a fresh binding's shape
— the graceful deletion of a pod its partitioned node never started — is not the binding (the
false-alarm campaign's finding at seed 2, hypothesis, catalogue/db-failover.yaml)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Partition, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select
from kubeprop.properties.scheduler_decisions import fresh_binding

DB_FAILOVER = Path(__file__).resolve().parents[1] / "model" / "data" / "catalogue" / "db-failover.yaml"
DB_0 = ObjectKey("pods", "default", "db-0")


def _take(model: ClusterModel, state: ClusterState, wanted: Callable[[Action], bool]) -> ClusterState:
    act = next(a for a in actions(model, state) if wanted(a))
    return step(model, state, act)


def _named(name: str) -> Callable[[Action], bool]:
    return lambda act: type(act).__name__ == name


def _drain(model: ClusterModel, state: ClusterState) -> ClusterState:
    """Deliver every pending watch event."""
    while any(_named("Deliver")(a) for a in actions(model, state)):
        state = _take(model, state, _named("Deliver"))
    return state


def _bound_then_tainted() -> tuple[ClusterModel, ClusterState, ClusterState]:
    """db-0 bound to worker-2; worker-2 partitioned, marked Unknown a minute later and tainted
    unreachable:NoSchedule: (model, the state the binding is written in, the tainted state)."""
    loaded = load_scenario(DB_FAILOVER)
    faults = attrs.evolve(loaded.spec.faults, partition=1)
    model = build_model(attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=faults)))
    state = _drain(model, _take(model, initial_state(model), _named("Reconcile")))
    state = _take(model, state, lambda a: _named("Schedule")(a) and getattr(a, "node", "") == "worker-2")
    bound = _take(model, state, _named("Bind"))
    state = _take(model, bound, lambda a: a == Partition(node="worker-2"))
    while not any(_named("MonitorNodeHealth")(a) for a in actions(model, state)):
        state = _take(model, state, _named("Tick"))
    state = _drain(model, _take(model, state, _named("MonitorNodeHealth")))
    return model, bound, _take(model, state, _named("SyncNoScheduleTaints"))


def test_the_binding_write_is_fresh_and_a_later_deletion_is_not() -> None:
    model, bound, tainted = _bound_then_tainted()
    pod = bound.store.get(DB_0)
    assert isinstance(pod, Pod) and fresh_binding(bound, pod)
    deleted = step(model, tainted, UserStep(0))
    pod = deleted.store.get(DB_0)
    # the deletion leaves the pod bound, Pending, with one condition, and at the store's revision
    assert isinstance(pod, Pod) and pod.metadata.deletion_timestamp is not None
    assert pod.metadata.resource_version == str(deleted.store.revision) and len(pod.status.conditions) == 1
    assert not fresh_binding(deleted, pod)


def test_a_taint_added_after_the_binding_is_not_held_against_it_when_the_pod_is_deleted() -> None:
    model, _, tainted = _bound_then_tainted()
    node = tainted.store.get(ObjectKey("nodes", "", "worker-2"))
    assert node is not None and any(t.key == "node.kubernetes.io/unreachable" for t in node.spec.taints)
    deleted = step(model, tainted, UserStep(0))
    props = select(["bindings-respect-hard-constraints", "scheduler-decisions-sound"])
    assert first_violation(model, tainted, props) is None
    assert first_violation(model, deleted, props) is None
