"""Which write of a pod is its binding (`scheduler_decisions.fresh_binding`), which the binding
properties judge with every taint of the node: a later write that keeps a fresh binding's shape
— the graceful deletion of a pod its partitioned node never started — is not the binding (the
false-alarm campaign's finding at seed 2, hypothesis, catalogue/db-failover.yaml); and which
PodScheduled=True is a binding's (`bound_at`): the kubelet writes one too, with its first status
of a pod created with spec.nodeName, which no scheduler judged (the campaign's finding at seed 4,
hypothesis, variants/spread.yaml)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.nodelifecycle import SyncNoScheduleTaints
from kubeprop.model.kubelet.component import StartPod, SyncPodStatus
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.filters import find_untolerated_taint
from kubeprop.model.state.actions import Action, CrashNode, Partition, RestartNode, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select
from kubeprop.properties.scheduler_decisions import bound_at, fresh_binding

DB_FAILOVER = Path(__file__).resolve().parents[1] / "model" / "data" / "catalogue" / "db-failover.yaml"
DB_0 = ObjectKey("pods", "default", "db-0")
SPREAD = DB_FAILOVER.parents[1] / "variants" / "spread.yaml"
BATCH = ObjectKey("pods", "default", "batch")
"""spread.yaml's pod created with spec.nodeName: worker-2."""


def _take(model: ClusterModel, state: ClusterState, wanted: Callable[[Action], bool]) -> ClusterState:
    act = next(a for a in actions(model, state) if wanted(a))
    return step(model, state, act)


def _tick(model: ClusterModel, state: ClusterState, avoid: tuple[type[Action], ...] = ()) -> ClusterState:
    """One `Tick`, once the prompt work that holds the clock is done (docs/engines.md, Time): the
    fair run's control-plane actions (no recovery, no user step, none of `avoid`) until it is enabled."""
    policy = FairPolicy(recover=False, avoid=avoid)
    for _ in range(200):
        enabled = actions(model, state)
        tick = next((a for a in enabled if isinstance(a, Tick)), None)
        if tick is not None:
            return step(model, state, tick)
        act = policy.choose([a for a in enabled if not isinstance(a, Tick)])
        assert act is not None, "no Tick and no prompt work left"
        policy.taken(act)
        state = step(model, state, act)
    raise AssertionError("the clock stayed held for 200 steps")


def _named(name: str) -> Callable[[Action], bool]:
    return lambda act: type(act).__name__ == name


def _drain(model: ClusterModel, state: ClusterState) -> ClusterState:
    """Deliver every pending watch event."""
    while any(_named("Deliver")(a) for a in actions(model, state)):
        state = _take(model, state, _named("Deliver"))
    return state


def _volume_step(act: Action) -> bool:
    return _named("Bind")(act) or _named("Deliver")(act) or _named("ProvisionVolume")(act) or (
        _named("Reconcile")(act) and getattr(act, "controller", "") == "persistentvolume-binder")


def _bind(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The scheduler's binding of db-0, after its PreBind: db-0's claim gets the selected node,
    the provisioner creates its volume and the PV controller binds them; then the Bind write."""
    for _ in range(50):
        state = _take(model, state, _volume_step)
        pod = state.store.get(DB_0)
        if isinstance(pod, Pod) and pod.spec.node_name:
            return state
    raise AssertionError("db-0 was not bound within 50 steps")


def _bound_then_tainted() -> tuple[ClusterModel, ClusterState, ClusterState]:
    """db-0 bound to worker-2; worker-2 partitioned, marked Unknown a minute later and tainted
    unreachable:NoSchedule: (model, the state the binding is written in, the tainted state)."""
    loaded = load_scenario(DB_FAILOVER)
    faults = attrs.evolve(loaded.spec.faults, partition=1)
    model = build_model(attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=faults)))
    state = _drain(model, _take(model, initial_state(model), _named("Reconcile")))
    state = _take(model, state, lambda a: _named("Schedule")(a) and getattr(a, "node", "") == "worker-2")
    bound = _bind(model, state)
    state = _take(model, bound, lambda a: a == Partition(node="worker-2"))
    while not any(_named("MonitorNodeHealth")(a) for a in actions(model, state)):
        state = _tick(model, state)
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


def _with_node_crash(path: Path) -> ClusterModel:
    loaded = load_scenario(path)
    faults = attrs.evolve(loaded.spec.faults, node_crash=1)
    return build_model(attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=faults)))


def _kubelet_status_on_tainted_node() -> tuple[ClusterModel, ClusterState]:
    """The Deployment controller's first sync (its progress deadline keeps time moving); worker-2
    crashes before its kubelet started the pre-bound batch pod; the node lifecycle controller marks
    it Unknown and taints it unreachable:NoSchedule; a tick later worker-2 reboots, and its kubelet
    starts batch and writes its first status of it (time passes only while the node is down: a
    kubelet that is up writes its status promptly, docs/engines.md, Time)."""
    model = _with_node_crash(SPREAD)
    state = _take(model, initial_state(model), lambda a: a == Reconcile(controller="deployment", key="default/web"))
    state = _take(model, state, lambda a: a == CrashNode(node="worker-2"))
    while not any(_named("MonitorNodeHealth")(a) for a in actions(model, state)):
        state = _tick(model, state)
    state = _drain(model, _take(model, state, _named("MonitorNodeHealth")))
    state = _take(model, state, lambda a: a == SyncNoScheduleTaints(node="worker-2"))
    state = _tick(model, state)  # while worker-2 is down: its kubelet's first status comes later
    state = _take(model, state, lambda a: a == RestartNode(node="worker-2"))
    state = _take(model, state, lambda a: a == StartPod(node="worker-2", pod="default/batch"))
    return model, _take(model, state, lambda a: a == SyncPodStatus(node="worker-2", pod="default/batch"))


def test_a_pod_created_on_its_node_is_no_binding_though_its_kubelet_sets_pod_scheduled() -> None:
    model, state = _kubelet_status_on_tainted_node()
    pod, node = state.store.get(BATCH), state.store.get(ObjectKey("nodes", "", "worker-2"))
    assert isinstance(pod, Pod) and node is not None and pod.status.phase == "Running"
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    taint = next(t for t in node.spec.taints if t.key == "node.kubernetes.io/unreachable")
    # the kubelet's PodScheduled comes a tick after the taint, which the pod does not tolerate:
    # read as a binding's, it would blame the scheduler for a pod it never judged
    assert scheduled.status == "True" and taint.effect == "NoSchedule"
    assert taint.time_added is not None and taint.time_added < (scheduled.last_transition_time or 0)
    assert find_untolerated_taint((taint,), pod.spec.tolerations) == taint
    props = select(["bindings-respect-hard-constraints", "scheduler-decisions-sound"])
    assert first_violation(model, state, props) is None
    assert bound_at(pod) is None


def test_a_binding_is_known_by_its_pod_scheduled_before_the_kubelets_first_status() -> None:
    model = _with_node_crash(SPREAD)
    state = initial_state(model)
    while not any(_named("Bind")(a) for a in actions(model, state)):
        state = _take(model, state, lambda a: type(a).__name__ in ("Reconcile", "Deliver", "Schedule"))
    bound = _take(model, state, _named("Bind"))
    key = next(k for k, p in bound.store.objects.items()
               if isinstance(p, Pod) and p.metadata.resource_version == str(bound.store.revision))
    pod = bound.store.get(key)
    assert isinstance(pod, Pod) and bound_at(pod) == bound.clock
    # the kubelet's first status, a tick later (the node down meanwhile: a kubelet that is up writes
    # it promptly), keeps the binding's time
    node = pod.spec.node_name
    state = _tick(model, _take(model, bound, lambda a: a == CrashNode(node=node)))
    state = _drain(model, _take(model, state, lambda a: a == RestartNode(node=node)))
    name = f"{key.namespace}/{key.name}"
    state = _take(model, state, lambda a: _named("StartPod")(a) and getattr(a, "pod", "") == name)
    state = _take(model, state, lambda a: _named("SyncPodStatus")(a) and getattr(a, "pod", "") == name)
    started = state.store.get(key)
    assert isinstance(started, Pod) and any(c.type == "Initialized" for c in started.status.conditions)
    assert bound_at(started) == bound.clock < state.clock
