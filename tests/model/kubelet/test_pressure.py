"""Node-pressure eviction's node condition: the MemoryPressure condition the kubelet reports for the
transition period, the eviction manager's admission refusing BestEffort pods meanwhile, the node
lifecycle controller's `memory-pressure:NoSchedule` taint (`kubeprop.model.kubelet.eviction`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.core import TAINT_NODE_MEMORY_PRESSURE
from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import Container, Node, ObjectKey, Pod, PodSpec, ResourceRequirements, Toleration
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.logs import crash_node
from kubeprop.model.kubelet.pressure import PRESSURE_REJECTION, best_effort, pressure_rejection
from kubeprop.model.kubelet.status import REJECTED_PREFIX
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "kubelet" / "pressure"
NODE = "worker-1"


def pod(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None, priority: int | None = None,
        tolerations: tuple[Toleration, ...] = (), init: bool = False) -> Pod:
    resources = ResourceRequirements(requests={k: Quantity.parse(v) for k, v in (requests or {}).items()},
                                     limits={k: Quantity.parse(v) for k, v in (limits or {}).items()})
    plain, sized = Container(name="c", image="x:1"), Container(name="s", image="x:1", resources=resources)
    spec = PodSpec(containers=(plain,), init_containers=(sized,), priority=priority, tolerations=tolerations) if init \
        else PodSpec(containers=(sized,), priority=priority, tolerations=tolerations)
    return Pod(metadata=ObjectMeta(name="p", namespace="default"), spec=spec)


def test_best_effort_is_qos_best_effort() -> None:
    """`qos.go` GetPodQOS: any positive cpu or memory request or limit, of a container or an init
    container, makes a pod Burstable or Guaranteed; zero amounts and other resources do not."""
    assert best_effort(pod())
    assert best_effort(pod(requests={"cpu": "0", "memory": "0"}, limits={"ephemeral-storage": "1Gi"}))
    assert not best_effort(pod(requests={"cpu": "100m"}))
    assert not best_effort(pod(limits={"memory": "64Mi"}))
    assert not best_effort(pod(requests={"memory": "64Mi"}, init=True))


def test_admit_under_memory_pressure() -> None:
    """`eviction_manager.go` Admit: only BestEffort pods are refused, unless critical or tolerating
    the memory-pressure taint; nothing is refused without pressure."""
    assert pressure_rejection(pod(), ()) is None
    assert pressure_rejection(pod(), ("MemoryPressure",)) == PRESSURE_REJECTION
    assert PRESSURE_REJECTION == ("Evicted", "The node had condition: [MemoryPressure]. ")
    assert pressure_rejection(pod(requests={"cpu": "100m"}), ("MemoryPressure",)) is None
    assert pressure_rejection(pod(priority=2000000000), ("MemoryPressure",)) is None
    assert pressure_rejection(pod(priority=1999999999), ("MemoryPressure",)) == PRESSURE_REJECTION
    exists = Toleration(key=TAINT_NODE_MEMORY_PRESSURE, operator="Exists", effect="NoSchedule")
    assert pressure_rejection(pod(tolerations=(exists,)), ("MemoryPressure",)) is None
    assert pressure_rejection(pod(tolerations=(Toleration(operator="Exists"),)), ("MemoryPressure",)) is None
    other = Toleration(key="node.kubernetes.io/disk-pressure", operator="Exists", effect="NoSchedule")
    assert pressure_rejection(pod(tolerations=(other,)), ("MemoryPressure",)) == PRESSURE_REJECTION
    no_execute = Toleration(key=TAINT_NODE_MEMORY_PRESSURE, operator="Exists", effect="NoExecute")
    assert pressure_rejection(pod(tolerations=(no_execute,)), ("MemoryPressure",)) == PRESSURE_REJECTION


def _evicted(parameters: dict[str, object] | None = None) -> tuple[ClusterModel, ClusterState]:
    """pressure-be settled, then its one memory-pressure eviction."""
    model = build_model(load_scenario(DATA / "be.yaml"), parameters=parameters)
    state = settle(model, initial_state(model)).state
    pressure = [a for a in actions(model, state) if isinstance(a, kl.MemoryPressure)]
    assert len(pressure) == 1
    return model, step(model, state, pressure[0])


def _node(state: ClusterState) -> Node:
    node = state.store.get(ObjectKey("nodes", "", NODE))
    assert isinstance(node, Node)
    return node


def _pressure_status(state: ClusterState) -> str | None:
    cond = find_condition(_node(state).status.conditions, "MemoryPressure")
    return None if cond is None else cond.status


def _tainted(state: ClusterState) -> bool:
    return any(t.key == TAINT_NODE_MEMORY_PRESSURE and t.effect == "NoSchedule" for t in _node(state).spec.taints)


def _running(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods") if isinstance(p, Pod) and p.status.phase == "Running"]


def test_best_effort_replacement_waits_out_the_transition_period() -> None:
    """trial7's pressure-be, along the fair run after the eviction: while the condition holds (5 min
    from the eviction) no BestEffort pod runs on the node — a replacement bound before the taint is
    refused at admission (Failed, Evicted, "Pod was rejected: The node had condition:
    [MemoryPressure]. "), later ones stay pending on the taint —; the kubelet posts
    MemoryPressure=True and the node is tainted; once the period is over the condition turns False,
    the taint goes and a replacement runs."""
    model, state = _evicted()
    assert kl.UpdateNodeStatus(NODE) in actions(model, state)
    run = settle(model, state)
    assert not run.exhausted
    seen_true = seen_taint = False
    for act in run.trace:
        state = step(model, state, act)
        if state.clock < 300:
            assert not _running(state), (act, state.clock)
            seen_true = seen_true or _pressure_status(state) == "True"
            seen_taint = seen_taint or _tainted(state)
    assert seen_true and seen_taint
    assert state.clock == 300 and _pressure_status(state) == "False" and not _tainted(state)
    assert [p.status.phase for p in _running(state)] == ["Running"]
    rejected = [p for p in state.store.list("pods")
                if isinstance(p, Pod) and p.status.message.startswith(REJECTED_PREFIX)]
    assert rejected, "the fair run binds the first replacement before the taint: the kubelet refuses it"
    assert {(p.status.phase, p.status.reason, p.status.message) for p in rejected} == {
        ("Failed", "Evicted", "Pod was rejected: The node had condition: [MemoryPressure]. ")}
    cond = find_condition(_node(state).status.conditions, "MemoryPressure")
    assert cond is not None and cond.reason == "KubeletHasSufficientMemory" and cond.last_transition_time == 300


def test_condition_reports_insufficient_memory() -> None:
    """`setters.go` MemoryPressureCondition: True, KubeletHasInsufficientMemory, moved at the post."""
    model, state = _evicted()
    state = step(model, state, kl.UpdateNodeStatus(NODE))
    cond = find_condition(_node(state).status.conditions, "MemoryPressure")
    assert cond is not None and (cond.status, cond.reason, cond.message) == (
        "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
    assert kl.UpdateNodeStatus(NODE) not in actions(model, state)


@pytest.mark.parametrize("period", [60, 600])
def test_transition_period_is_a_parameter(period: int) -> None:
    """`evictionPressureTransitionPeriodSeconds`: the condition ends that long after the eviction
    (a timer: `Tick` runs up to it), and the replacement runs then."""
    model, state = _evicted({"evictionPressureTransitionPeriodSeconds": period})
    end = settle(model, state, max_ticks=100).state
    assert end.clock == period and _pressure_status(end) == "False" and len(_running(end)) == 1


def test_node_power_loss_forgets_the_pressure() -> None:
    """The eviction manager's memory (`nodeConditionsLastObservedAt`) is lost with the node; the
    budget spent is not."""
    model, state = _evicted()
    k = kl.kubelet_state(state, NODE)
    assert k.memory_pressure_at == 0 and kl.next_timer(model, state) == 300
    crashed = crash_node(k)
    assert crashed.memory_pressure_at is None and crashed.pressure_events == 1


def test_no_pressure_no_new_field_in_states() -> None:
    """Scenarios without memory pressure keep their states: the field stays at its default and
    is left out of the fingerprint."""
    model = build_model(load_scenario(DATA / "be.yaml"), parameters={"memoryPressureEvents": 0})
    state = settle(model, initial_state(model)).state
    assert all(k.memory_pressure_at is None for k in state.kubelets.values())
    assert not any(isinstance(a, kl.MemoryPressure | kl.UpdateNodeStatus) for a in actions(model, state))


def _pressured_states(seed: int) -> list[ClusterState]:
    """States of random runs of pressure-mixed from its settled state: a first eviction, then
    anything (the second eviction, the partition, the timer running out, the taint coming and going)."""
    import random

    model = build_model(load_scenario(DATA / "mixed.yaml"))
    rng, settled, out = random.Random(seed), settle(model, initial_state(model)).state, []
    for first in (a for a in actions(model, settled) if isinstance(a, kl.MemoryPressure)):
        state = step(model, settled, first)
        for _ in range(60):
            out.append(state)
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
    return out


def test_footprints_and_enabled_cache_stay_sound_under_pressure() -> None:
    """Actions the footprints call independent commute (the kubelet's admission and status post
    now read its pressure and the clock), and the enabled-actions cache answers like `actions`."""
    import random

    from commuting import assert_commute, independent_pairs

    from kubeprop.model.cluster import compose
    from kubeprop.model.cluster.footprint import Footprints
    from kubeprop.model.cluster.incremental import EnabledCache

    model = build_model(load_scenario(DATA / "mixed.yaml"))
    footprints, cache, rng, checked = Footprints(model), EnabledCache(model), random.Random(11), 0
    # time passes only where no prompt work holds the clock (docs/engines.md, Time), so few of these
    # states enable a Tick: two seeds' runs, so that Ticks are among the pairs checked
    states = _pressured_states(4) + _pressured_states(6)
    kinds = {type(a).__name__ for s in states for a in actions(model, s)}
    assert {"UpdateNodeStatus", "SyncNoScheduleTaints", "Tick", "StartPod"} <= kinds
    for state in states:
        enabled = actions(model, state)
        assert cache.actions(state) == tuple(a for c in compose.COMPONENTS for a in c.enabled(model, state))
        pairs = independent_pairs(footprints, enabled)
        checked += assert_commute(model, state, rng.sample(pairs, min(3, len(pairs))))
    assert checked > 50
