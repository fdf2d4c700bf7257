"""The node lifecycle and taint eviction controllers, driven by hand-written action sequences."""

from __future__ import annotations

from typing import Any

import attrs
from cluster_harness import api, make_model
from nodelifecycle_harness import NODE, POD, at, node, partition, pod, pod_ready, running_pod, step

from kubeprop.model.api.meta import Condition, ObjectMeta, find_condition
from kubeprop.model.api.objects import Node, ObjectKey, Pod, Taint, Toleration
from kubeprop.model.api.server import Request
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.controllers import nodelifecycle_rules as rules
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kl
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, kubelet
from kubeprop.model.state.informer import start_informer


def test_nothing_to_do_on_a_healthy_cluster() -> None:
    model = make_model()
    state = running_pod(model)
    assert list(nlc.enabled(model, state)) == []
    assert nlc.next_timer(model, state) is None


def test_unreachable_node_marked_tainted_and_pods_evicted_after_toleration() -> None:
    model = make_model()
    state = partition(running_pod(model))
    assert nlc.next_timer(model, state) == 51  # nodeMonitorGracePeriod 50 s (v1.32+)
    assert nlc.MonitorNodeHealth() not in list(nlc.enabled(model, at(state, 50)))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    ready = find_condition(node(state).status.conditions, "Ready")
    assert ready is not None and (ready.status, ready.reason) == ("Unknown", "NodeStatusUnknown")
    assert ready.message == "Kubelet stopped posting node status."
    assert {c.type for c in node(state).status.conditions} >= {"MemoryPressure", "DiskPressure", "PIDPressure"}


def test_a_lost_nodes_pressure_conditions_read_unknown_with_the_reason_for_a_kubelet_gone_silent() -> None:
    """The kubelet posted its pressure conditions from registration on, so tryUpdateNodeHealth turns
    them Unknown with reason NodeStatusUnknown (`node_lifecycle_controller.go`); NodeStatusNeverUpdated
    is for a condition never posted. Before, the scenario's nodes were registered with Ready alone and
    a lost node's pressure conditions read NodeStatusNeverUpdated."""
    model = make_model()
    state = step(model, at(partition(running_pod(model)), 60), nlc.MonitorNodeHealth())
    for type_ in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        cond = find_condition(node(state).status.conditions, type_)
        assert cond is not None and (cond.status, cond.reason, cond.message) == (
            "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
        assert cond.last_transition_time == 60

    state = step(model, state, nlc.TaintNode(NODE))
    taint = next(t for t in node(state).spec.taints if t.effect == "NoExecute")
    assert (taint.key, taint.time_added) == ("node.kubernetes.io/unreachable", 60)
    state = step(model, state, nlc.SyncNoScheduleTaints(NODE))
    assert any(t.key == "node.kubernetes.io/unreachable" and t.effect == "NoSchedule" for t in node(state).spec.taints)

    state = step(model, state, nlc.MarkPodsNotReady(NODE))
    assert pod_ready(state) == "False"
    assert kl.kubelet_state(state, NODE).pods[POD].containers[0].running  # still running on the node

    state = step(model, state, nlc.ScheduleTaintEviction(POD))  # tolerationSeconds 300 from admission
    assert nlc.next_timer(model, state) == 360
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 350)))
    state = step(model, at(state, 360), nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp == 390
    cond = find_condition(pod(state).status.conditions, "DisruptionTarget")
    assert cond is not None and cond.reason == "DeletionByTaintManager"
    assert kl.kubelet_state(state, NODE).pods[POD].containers[0].running  # the partitioned node never hears


def test_pod_not_tolerating_a_no_execute_taint_is_evicted_at_once() -> None:
    model = make_model()
    state = running_pod(model)
    n = node(state)
    taint = Taint(key="dedicated", value="db", effect="NoExecute")
    tainted = attrs.evolve(n, spec=attrs.evolve(n.spec, taints=(taint,)))
    state = api(state, model, Request(verb="update", user=ADMIN, obj=tainted))
    assert list(nlc.enabled(model, state)) == [nlc.TaintEvictPod(POD)]
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp == 30


def test_zero_toleration_seconds_evicts_now() -> None:
    model = make_model()
    toleration = Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute",
                            toleration_seconds=0)
    state = partition(running_pod(model, tolerations=(toleration,)))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    state = step(model, state, nlc.TaintNode(NODE))
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp is not None


def test_ready_again_removes_the_taint_and_cancels_the_eviction() -> None:
    model = make_model()
    state = partition(running_pod(model))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    state = step(model, state, nlc.TaintNode(NODE))
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    state = attrs.evolve(state, partitioned=frozenset(), heartbeat_lost=FrozenMap(),
                         informers=state.informers.delete(kubelet(NODE)))
    state = step(model, at(state, 70), kl.UpdateNodeStatus(NODE), kl)
    state = step(model, state, nlc.UntaintNode(NODE))
    assert not any(t.effect == "NoExecute" for t in node(state).spec.taints)
    assert nlc.memory(state).evictions == FrozenMap()
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 400)))


def crash_between_node_and_pods(model: ClusterModel) -> ClusterState:
    state = partition(running_pod(model))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    # the controller manager crashes and restarts: its memory is reset
    state = attrs.evolve(state, controllers=state.controllers.set(nlc.NAME, nlc.initial_nodelifecycle_memory()))
    return step(model, at(state, 70), nlc.StartNodeLifecycle())


def test_transition_only_marking_loses_pods_after_a_crash() -> None:
    model = make_model(markPodsNotReadyOnTransitionOnly=True)
    state = crash_between_node_and_pods(model)
    assert not any(isinstance(a, nlc.MarkPodsNotReady) for a in nlc.enabled(model, state))
    assert pod_ready(state) == "True"  # kubernetes#50067: never marked


def test_transition_only_marking_without_a_crash() -> None:
    model = make_model(markPodsNotReadyOnTransitionOnly=True)
    state = partition(running_pod(model))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    state = step(model, state, nlc.MarkPodsNotReady(NODE))
    assert pod_ready(state) == "False"
    assert nlc.memory(state).pods_not_ready_pending == ()


def test_reconciling_marking_survives_a_crash() -> None:
    model = make_model(markPodsNotReadyOnTransitionOnly=False)
    state = crash_between_node_and_pods(model)
    state = step(model, state, nlc.MarkPodsNotReady(NODE))
    assert pod_ready(state) == "False"


def test_restarted_controller_gives_a_fresh_grace_period() -> None:
    model = make_model()
    state = partition(running_pod(model))
    state = attrs.evolve(at(state, 30), controllers=state.controllers.set(nlc.NAME, nlc.initial_nodelifecycle_memory()))
    state = step(model, state, nlc.StartNodeLifecycle())
    assert nlc.MonitorNodeHealth() not in list(nlc.enabled(model, at(state, 80)))
    assert nlc.next_timer(model, state) == 81


def test_zone_states_and_limiters() -> None:
    model = make_model()
    nodes = [node(running_pod(model), n) for n in model.nodes]

    def with_ready(n: Node, status: str) -> Node:
        ready = attrs.evolve(n.status.conditions[0], status=status)
        return attrs.evolve(n, status=attrs.evolve(n.status, conditions=(ready,)))

    down = [with_ready(n, "Unknown") for n in nodes]
    assert rules.all_fully_disrupted(down)
    zone_a_down = [with_ready(n, "Unknown") if n.metadata.labels["topology.kubernetes.io/zone"] == "zone-a" else n
                   for n in nodes]
    states = rules.zone_states(zone_a_down)
    assert states[":\x00:zone-a"] == ("FullDisruption", 3)
    assert states[":\x00:zone-b"] == ("Normal", 2)
    extra = attrs.evolve(nodes[0], metadata=attrs.evolve(nodes[0].metadata, name="worker-9"))
    partial = [*zone_a_down, extra]
    assert rules.zone_states(partial)[":\x00:zone-a"] == ("PartialDisruption", 4)
    # setLimiterInZone: a small zone in PartialDisruption stops, a large one slows to 0.01/s
    assert rules.limiter_period("PartialDisruption", 4) is None
    assert rules.limiter_period("PartialDisruption", 51) == 100
    assert rules.limiter_period("FullDisruption", 3) == rules.limiter_period("Normal", 3) == 10


def test_token_bucket_and_swap_limiter() -> None:
    """Burst 1: a token every period; SwapLimiter keeps an equal rate, drains a new bucket if
    the old one had no token, and qps 0 stops tainting."""
    bucket = rules.DEFAULT_TAINTER
    assert bucket.available(0)
    used = bucket.take(30)
    assert not used.available(39) and used.available(40)
    assert used.swap(10, 35) is used
    assert used.swap(100, 35) == rules.ZoneTainter(100, 135), "drained: the old bucket had no token"
    assert bucket.swap(100, 35) == rules.ZoneTainter(100, 0), "full: the old bucket had a token"
    assert not bucket.swap(None, 35).available(10**6)


def two_silent_nodes(model: ClusterModel, names: tuple[str, ...]) -> ClusterState:
    """Every node in `names` partitioned at t=0, the pass at t=60 has marked them Unknown."""
    state = running_pod(model)
    state = attrs.evolve(state, heartbeat_lost=FrozenMap({n: 0 for n in names}))
    return step(model, at(state, 60), nlc.MonitorNodeHealth())


def test_zone_tainter_takes_one_node_per_ten_seconds() -> None:
    """doNoExecuteTaintingPass under the zone's limiter (0.1 nodes/s, burst 1): of two nodes of
    zone-a gone silent together, one is tainted now, the other when the next token comes."""
    model = make_model()
    state = two_silent_nodes(model, ("worker-1", "worker-2"))
    taints = [a for a in nlc.enabled(model, state) if isinstance(a, nlc.TaintNode)]
    assert taints == [nlc.TaintNode("worker-1"), nlc.TaintNode("worker-2")]
    state = step(model, state, nlc.TaintNode("worker-2"))
    assert nlc.TaintNode("worker-1") not in list(nlc.enabled(model, state))
    assert nlc.next_timer(model, state) == 70
    assert nlc.TaintNode("worker-1") in list(nlc.enabled(model, at(state, 70)))


def test_full_disruption_removes_the_taints_in_the_same_pass() -> None:
    """handleDisruption runs at the end of the pass that marks the last node Unknown: the
    NoExecute taints come off every node and the tainters stop, before time can move on."""
    model = make_model()
    state = two_silent_nodes(model, ("worker-1",))
    state = step(model, state, nlc.TaintNode(NODE))
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    assert nlc.memory(state).evictions
    others = tuple(n for n in model.nodes if n != NODE)
    state = attrs.evolve(state, heartbeat_lost=state.heartbeat_lost.update({n: 100 for n in others}))
    assert nlc.MonitorNodeHealth() not in list(nlc.enabled(model, at(state, 150)))
    assert nlc.blocks_tick(model, at(state, 160))
    state = step(model, at(state, 160), nlc.MonitorNodeHealth())
    assert not nlc.blocks_tick(model, state)
    assert all(not any(t.effect == "NoExecute" for t in node(state, n).spec.taints) for n in model.nodes)
    assert nlc.memory(state).evictions == FrozenMap(), "the taint eviction is cancelled"
    assert not any(isinstance(a, nlc.TaintNode) for a in nlc.enabled(model, at(state, 500)))
    assert set(nlc.memory(state).zone_states.values()) == {"FullDisruption"}


def test_no_taint_eviction_during_full_disruption_in_the_cluster() -> None:
    """The issue's scenario on the composed cluster (correct model): worker-1 is cut off, marked
    Unknown and tainted (its pods' 300 s tolerations start running out), then worker-2 is cut off
    well before they do. Every schedule of time and the node lifecycle's actions (breadth-first,
    exhaustively) removes the taints when the zone becomes fully disrupted before any taint
    eviction fires: Tick waits for the due monitorNodeHealth pass, and handleDisruption runs in it."""
    from pathlib import Path

    from kubeprop.model.cluster.compose import actions, build_model, initial_state
    from kubeprop.model.cluster.compose import step as cluster_step
    from kubeprop.model.cluster.drive import settle
    from kubeprop.model.state.actions import Heal, Partition, Quiesce, Tick
    from kubeprop.properties.explore.bfs import Bounds, search

    data = Path(__file__).parents[1] / "data" / "variants" / "disruption.yaml"
    model = build_model(load_scenario(data), parameters={"instantCaches": True})
    state = settle(model, initial_state(model)).state
    state = cluster_step(model, state, Partition("worker-1"))
    state = settle(model, state, max_ticks=10, avoid=(Heal,)).state  # 100 s: marked, tainted
    worker1 = state.store.get(ObjectKey("nodes", "", "worker-1"))
    assert isinstance(worker1, Node) and any(t.effect == "NoExecute" for t in worker1.spec.taints)
    assert nlc.memory(state).evictions, "worker-1's pod is scheduled for eviction"
    fire = min(e.fire_at for e in nlc.memory(state).evictions.values())
    state = cluster_step(model, cluster_step(model, state, Partition("worker-2")), Quiesce())

    def lifecycle(a: Action) -> bool:
        return isinstance(a, Tick) or type(a).__module__.startswith("kubeprop.model.controllers.nodelifecycle")

    def successors(s: ClusterState) -> Any:
        for a in actions(model, s):
            if lifecycle(a) and s.clock <= fire + 20:
                yield a, cluster_step(model, s, a)

    def evicted(s: ClusterState) -> str | None:
        for p in s.store.list("pods"):
            cond = find_condition(p.status.conditions, "DisruptionTarget") if isinstance(p, Pod) else None
            if cond is not None and cond.reason == "DeletionByTaintManager":
                return f"{p.metadata.name} evicted at t={s.clock} while every node of the zone is cut off"
        return None

    result = search(state, successors, evicted, Bounds(max_states=200_000))
    assert result.exit_reason == "exhausted", result.exit_reason
    assert result.violation is None, (result.violation, [str(a) for a in result.trace])


def test_transition_only_marking_survives_the_controllers_own_lagging_cache() -> None:
    """Issue 12 campaign (variants/overload-max-inflight.yaml): the pass that marks the node Unknown
    must keep it in nodesToRetry although the controller's node cache has not yet seen that write
    (it still shows the node Ready); the pods are marked once the cache catches up. (The model
    dropped the node at the end of the pass, reading the stale cache, and never marked the pods.)"""
    state = partition(running_pod(make_model(markPodsNotReadyOnTransitionOnly=True)))
    model = make_model(markPodsNotReadyOnTransitionOnly=True, instantCaches=False)
    manager = start_informer(state.store, ("nodes", "pods"))
    state = attrs.evolve(state, informers=state.informers.set(CONTROLLER_MANAGER, manager))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    assert rules.ready_status(node(state)) == "Unknown"
    assert nlc.memory(state).pods_not_ready_pending == (NODE,)
    caught_up = start_informer(state.store, ("nodes", "pods"))  # the node's Unknown reaches the cache
    state = attrs.evolve(state, informers=state.informers.set(CONTROLLER_MANAGER, caught_up))
    state = step(model, state, nlc.MarkPodsNotReady(NODE))
    assert pod_ready(state) == "False"


def test_taint_eviction_patches_the_live_pod_and_keeps_what_its_cache_has_not_seen() -> None:
    """addConditionAndDeletePod reads the pod live and sends a status patch of DisruptionTarget only
    (`pkg/util/pod/pod.go` PatchPodStatus): a condition another client wrote after the controller
    manager's cache last saw the pod survives (before, the whole cached status was written back)."""
    state = running_pod(make_model())
    model = make_model(instantCaches=False)  # from here on the controller manager reads its own cache
    n = node(state)
    tainted = attrs.evolve(n, spec=attrs.evolve(n.spec, taints=(Taint(key="dedicated", effect="NoExecute"),)))
    state = api(state, model, Request(verb="update", user=ADMIN, obj=tainted))
    cache = start_informer(state.store, ("pods", "nodes"))
    state = attrs.evolve(state, informers=state.informers.set(CONTROLLER_MANAGER, cache))
    live = pod(state)
    gate = Condition(type="example.com/lb-ready", status="True", last_transition_time=state.clock)
    marked = attrs.evolve(live, status=attrs.evolve(live.status, conditions=(*live.status.conditions, gate)))
    state = api(state, model, Request(verb="update-status", user=ADMIN, obj=marked))
    state = step(model, state, nlc.TaintEvictPod(POD))
    after = pod(state)
    assert after.metadata.deletion_timestamp is not None
    assert find_condition(after.status.conditions, "example.com/lb-ready") is not None
    cond = find_condition(after.status.conditions, "DisruptionTarget")
    assert cond is not None and cond.reason == "DeletionByTaintManager"


def test_zone_key_prefers_the_beta_failure_domain_labels() -> None:
    """GetZoneKey (`component-helpers/node/topology/helpers.go`) reads the deprecated
    failure-domain.beta labels first and falls back to topology.kubernetes.io only when a beta
    label is absent: a node carrying both (old clusters, cloud providers that set both) is zoned by
    the beta labels, an empty beta label included. The model preferred topology.kubernetes.io."""
    beta, ga = "failure-domain.beta.kubernetes.io/", "topology.kubernetes.io/"

    def node(labels: dict[str, str]) -> Node:
        return Node(metadata=ObjectMeta(name="n", labels=labels))

    both = {f"{beta}region": "r-old", f"{beta}zone": "z-old", f"{ga}region": "r", f"{ga}zone": "z"}
    assert rules.zone_key(node(both)) == "r-old:\x00:z-old"
    assert rules.zone_key(node({f"{ga}region": "r", f"{ga}zone": "z"})) == "r:\x00:z"
    assert rules.zone_key(node({f"{beta}zone": "", f"{ga}zone": "z"})) == ""
    assert rules.zone_key(node({f"{beta}zone": "z-old", f"{ga}region": "r"})) == "r:\x00:z-old"
    assert rules.zone_key(node({})) == ""
