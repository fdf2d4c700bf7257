"""Disk and PID pressure on a cluster: which pod goes, the DiskPressure and PIDPressure conditions
for the transition period, the eviction manager's admission refusing every pod meanwhile, the node
lifecycle controller's `disk-pressure` / `pid-pressure` NoSchedule taints
(`kubeprop.model.kubelet.eviction`, `kubeprop.model.kubelet.pressure`).

Upstream: `pkg/kubelet/eviction/eviction_manager.go` synchronize (reclaimNodeLevelResources before
any ranking), Admit ("Conditions other than memory pressure reject all pods"), `helpers.go`
rankDiskPressureFunc, rankPIDPressure, signalToNodeCondition, nodeLowMessageFmt,
`pkg/kubelet/nodestatus/setters.go` DiskPressureCondition, PIDPressureCondition,
`node_lifecycle_controller.go` nodeConditionToTaintKeyStatusMap."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import Container, Node, ObjectKey, Pod, PodSpec, ResourceRequirements, Toleration
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.logs import crash_node
from kubeprop.model.kubelet.pressure import pressure_rejection
from kubeprop.model.kubelet.status import REJECTED_PREFIX
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "kubelet" / "pressure"
NODE = "worker-1"
DISK_TAINT, PID_TAINT = "node.kubernetes.io/disk-pressure", "node.kubernetes.io/pid-pressure"


def pod(requests: dict[str, str] | None = None, priority: int | None = None,
        tolerations: tuple[Toleration, ...] = ()) -> Pod:
    resources = ResourceRequirements(requests={k: Quantity.parse(v) for k, v in (requests or {}).items()})
    spec = PodSpec(containers=(Container(name="c", image="x:1", resources=resources),), priority=priority,
                   tolerations=tolerations)
    return Pod(metadata=ObjectMeta(name="p", namespace="default"), spec=spec)


def _settled(parameters: dict[str, object] | None = None) -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(DATA / "disk.yaml"), parameters=parameters)
    return model, settle(model, initial_state(model)).state


def _app(key: str) -> str:
    """`default/scratch-7d…-x` → `scratch`."""
    return key.split("/", 1)[1].rsplit("-", 2)[0]


def _node(state: ClusterState) -> Node:
    node = state.store.get(ObjectKey("nodes", "", NODE))
    assert isinstance(node, Node)
    return node


def _condition(state: ClusterState, type_: str) -> str | None:
    cond = find_condition(_node(state).status.conditions, type_)
    return None if cond is None else cond.status


def _tainted(state: ClusterState, key: str) -> bool:
    return any(t.key == key and t.effect == "NoSchedule" for t in _node(state).spec.taints)


def _running(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods") if isinstance(p, Pod) and p.status.phase == "Running"]


def _pressure(model: ClusterModel, state: ClusterState) -> set[Action]:
    return {a for a in actions(model, state) if isinstance(a, kl.DiskPressure | kl.DiskPressureReclaimed
                                                           | kl.PIDPressure | kl.MemoryPressure)}


def test_disk_pressure_evicts_the_pod_over_its_request() -> None:
    """For `*.available` only scratch (no ephemeral-storage request) can go — cache's 1Gi limit equals
    its request —; for `*.inodesFree` either (no pod requests inodes, both priority 0); or garbage
    collection relieves it. The old model had no disk pressure at all."""
    model, state = _settled()
    offered = _pressure(model, state)
    disk = {(_app(a.pod), a.resource, a.over_request) for a in offered if isinstance(a, kl.DiskPressure)}
    assert disk == {("scratch", "ephemeral-storage", True), ("scratch", "inodes", True), ("cache", "inodes", True)}
    assert kl.DiskPressureReclaimed(NODE) in offered
    assert not any(isinstance(a, kl.MemoryPressure | kl.PIDPressure) for a in offered)  # budgets 0


def _evict_scratch(model: ClusterModel, state: ClusterState) -> ClusterState:
    act = next(a for a in _pressure(model, state)
               if isinstance(a, kl.DiskPressure) and a.resource == "ephemeral-storage")
    return step(model, state, act)


def test_the_victim_is_evicted_for_ephemeral_storage() -> None:
    """The pod turns Failed, Evicted, "The node was low on resource: ephemeral-storage. " (`helpers.go`
    nodeLowMessageFmt with the signal's resource), and the budget is spent."""
    model, state = _settled()
    state = _evict_scratch(model, state)
    assert not _pressure(model, state)
    state = settle(model, state, allow_ticks=False).state
    evicted = [p for p in state.store.list("pods") if isinstance(p, Pod) and p.status.reason == "Evicted"
               and not p.status.message.startswith(REJECTED_PREFIX)]
    assert [(_app(f"default/{p.metadata.name}"), p.status.phase, p.status.message) for p in evicted] == [
        ("scratch", "Failed", "The node was low on resource: ephemeral-storage. ")]
    disruption = find_condition(evicted[0].status.conditions, "DisruptionTarget")
    assert disruption is not None and disruption.message == "The node was low on resource: ephemeral-storage. "


def test_every_replacement_waits_out_the_disk_pressure() -> None:
    """Along the fair run after the eviction: while DiskPressure holds (5 min) no pod runs anew on the
    node — scratch's Burstable replacement bound before the taint is refused at admission (Failed,
    Evicted, "The node had condition: [DiskPressure]. "; under memory pressure it would have been
    admitted), later ones wait on the taint —; the kubelet posts DiskPressure=True
    (KubeletHasDiskPressure) and the node is tainted disk-pressure:NoSchedule; then the condition
    turns False (KubeletHasNoDiskPressure), the taint goes and the replacement runs."""
    model, state = _settled()
    state = _evict_scratch(model, state)
    run = settle(model, state)
    assert not run.exhausted
    seen_true = seen_taint = False
    for act in run.trace:
        state = step(model, state, act)
        if state.clock < 300:
            assert [_app(f"default/{p.metadata.name}") for p in _running(state)] == ["cache"], (act, state.clock)
            seen_true = seen_true or _condition(state, "DiskPressure") == "True"
            seen_taint = seen_taint or _tainted(state, DISK_TAINT)
    assert seen_true and seen_taint
    assert state.clock == 300 and _condition(state, "DiskPressure") == "False" and not _tainted(state, DISK_TAINT)
    assert sorted(_app(f"default/{p.metadata.name}") for p in _running(state)) == ["cache", "scratch"]
    rejected = {(p.status.phase, p.status.reason, p.status.message) for p in state.store.list("pods")
                if isinstance(p, Pod) and p.status.message.startswith(REJECTED_PREFIX)}
    assert rejected == {("Failed", "Evicted", "Pod was rejected: The node had condition: [DiskPressure]. ")}
    cond = find_condition(_node(state).status.conditions, "DiskPressure")
    assert cond is not None and cond.reason == "KubeletHasNoDiskPressure" and cond.last_transition_time == 300


def test_garbage_collection_relieves_without_evicting_yet_the_condition_holds() -> None:
    """`reclaimNodeLevelResources` met the threshold: nothing evicted, both pods still run, but the
    node reports DiskPressure (KubeletHasDiskPressure, "kubelet has disk pressure") for the period."""
    model, state = _settled()
    state = step(model, state, kl.DiskPressureReclaimed(NODE))
    assert all(not r.evicted for r in kl.kubelet_state(state, NODE).pods.values())
    assert kl.next_timer(model, state) == state.clock + 300
    state = step(model, state, kl.UpdateNodeStatus(NODE))
    cond = find_condition(_node(state).status.conditions, "DiskPressure")
    assert cond is not None and (cond.status, cond.reason, cond.message) == (
        "True", "KubeletHasDiskPressure", "kubelet has disk pressure")
    assert len(_running(state)) == 2


def test_pid_pressure_takes_the_lowest_priority_and_reports_pid_pressure() -> None:
    """rankPIDPressure ignores requests: both pods (priority 0) may go. The victim's message names
    `pids`; the node reports PIDPressure (KubeletHasInsufficientPID) and is tainted pid-pressure."""
    model, state = _settled({"diskPressureEvents": 0, "pidPressureEvents": 1})
    offered = _pressure(model, state)
    assert {(type(a).__name__, _app(a.pod)) for a in offered if isinstance(a, kl.PIDPressure)} == {
        ("PIDPressure", "cache"), ("PIDPressure", "scratch")}
    assert len(offered) == 2
    victim = next(a for a in offered if isinstance(a, kl.PIDPressure) and _app(a.pod) == "cache")
    state = step(model, state, victim)
    assert kl.kubelet_state(state, NODE).pods[victim.pod].evicted_resource == "pids"
    state = step(model, state, kl.UpdateNodeStatus(NODE))
    cond = find_condition(_node(state).status.conditions, "PIDPressure")
    assert cond is not None and (cond.status, cond.reason, cond.message) == (
        "True", "KubeletHasInsufficientPID", "kubelet has insufficient PID available")
    assert _condition(state, "DiskPressure") == "False" and _condition(state, "MemoryPressure") == "False"
    state = settle(model, state, allow_ticks=False).state
    assert _tainted(state, PID_TAINT) and not _tainted(state, DISK_TAINT)


def test_admit_refuses_every_pod_under_a_condition_other_than_memory_alone() -> None:
    """`eviction_manager.go` Admit: under DiskPressure or PIDPressure, or memory with another, every
    pod is refused — Burstable, Guaranteed, BestEffort tolerating either taint — but a critical one;
    the message lists the conditions (Go's `%v` of the list)."""
    burstable = pod(requests={"cpu": "100m"})
    tolerating = pod(tolerations=(Toleration(operator="Exists"),))
    for conditions in (("DiskPressure",), ("PIDPressure",), ("MemoryPressure", "DiskPressure")):
        message = f"The node had condition: [{' '.join(conditions)}]. "
        assert pressure_rejection(burstable, conditions) == ("Evicted", message)
        assert pressure_rejection(tolerating, conditions) == ("Evicted", message)
        assert pressure_rejection(pod(priority=2000000000), conditions) is None
    assert pressure_rejection(burstable, ("MemoryPressure",)) is None
    assert pressure_rejection(tolerating, ("MemoryPressure",)) is None


def test_node_power_loss_forgets_the_conditions_not_the_budgets() -> None:
    model, state = _settled({"pidPressureEvents": 1})
    state = step(model, state, kl.DiskPressureReclaimed(NODE))
    pid = next(a for a in _pressure(model, state) if isinstance(a, kl.PIDPressure))
    state = step(model, state, pid)
    k = kl.kubelet_state(state, NODE)
    assert (k.disk_pressure_at, k.pid_pressure_at, k.disk_pressure_events, k.pid_pressure_events) == (
        state.clock, state.clock, 1, 1)
    crashed = crash_node(k)
    assert (crashed.disk_pressure_at, crashed.pid_pressure_at) == (None, None)
    assert (crashed.disk_pressure_events, crashed.pid_pressure_events) == (1, 1)


def test_budgets_default_to_none() -> None:
    """Without the new budgets nothing changes: no disk or PID action, the fields stay at their
    defaults (left out of fingerprints)."""
    model = build_model(load_scenario(DATA / "be.yaml"))
    state = settle(model, initial_state(model)).state
    assert not any(isinstance(a, kl.DiskPressure | kl.DiskPressureReclaimed | kl.PIDPressure)
                   for a in actions(model, state))
    assert all(k.disk_pressure_events == k.pid_pressure_events == 0 and k.disk_pressure_at is None
               for k in state.kubelets.values())


def _pressured_states(model: ClusterModel, seed: int) -> list[ClusterState]:
    """Random runs of pressure-mixed from its settled state through every other first disk or PID
    episode: anything after (the other kind's episode, the partition, the timers, the taints)."""
    import random

    rng, settled, out = random.Random(seed), settle(model, initial_state(model)).state, []
    for first in sorted(_pressure(model, settled), key=Action.sort_key)[::2]:
        out.append(settled)  # the step that spends a budget on one node changes the other's actions
        state = step(model, settled, first)
        for _ in range(40):
            out.append(state)
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
    return out


def test_footprints_and_enabled_cache_stay_sound_under_disk_and_pid_pressure() -> None:
    """Actions the footprints call independent commute (the episodes read every kubelet's share of
    their budget), and the enabled-actions cache answers like `actions` (it keys on each budget)."""
    import random

    from commuting import assert_commute, independent_pairs

    from kubeprop.model.cluster import compose
    from kubeprop.model.cluster.footprint import Footprints
    from kubeprop.model.cluster.incremental import EnabledCache

    model = build_model(load_scenario(DATA / "mixed.yaml"),
                        parameters={"memoryPressureEvents": 0, "diskPressureEvents": 1, "pidPressureEvents": 1})
    footprints, cache, rng, checked = Footprints(model), EnabledCache(model), random.Random(5), 0
    states = _pressured_states(model, 3)
    kinds = {type(a).__name__ for s in states for a in actions(model, s)}
    assert {"DiskPressure", "DiskPressureReclaimed", "PIDPressure", "UpdateNodeStatus", "StartPod"} <= kinds
    for state in states:
        enabled = actions(model, state)
        assert cache.actions(state) == tuple(a for c in compose.COMPONENTS for a in c.enabled(model, state))
        pairs = independent_pairs(footprints, enabled)
        checked += assert_commute(model, state, rng.sample(pairs, min(3, len(pairs))))
    assert checked > 50


def test_episodes_are_drawn_in_the_faults_lane() -> None:
    """Like `MemoryPressure`, the disk and PID episodes are the environment's bad luck, not the
    kubelet's own progress, in a counterexample's lanes."""
    from kubeprop.counterexamples.steps import lane_of

    for act in (kl.DiskPressure(NODE, "default/p", "inodes", True), kl.DiskPressureReclaimed(NODE),
                kl.PIDPressure(NODE, "default/p"), kl.MemoryPressure(NODE, "default/p", True)):
        assert lane_of(act) == "faults"
    assert lane_of(kl.UpdateNodeStatus(NODE)) == "kubelet worker-1"
