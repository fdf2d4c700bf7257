"""The node lifecycle and taint eviction controllers, driven by hand-written action sequences."""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import Container, Node, ObjectKey, Pod, PodSpec, Probe, Taint, Toleration
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.controllers import nodelifecycle_rules as rules
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.runtime import initial_kubelet
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet
from kubeprop.model.state.informer import start_informer

NODE = "worker-1"
POD = "default/web"


def make_model(**overrides: Any) -> ClusterModel:
    scenario = load_scenario()
    params = {**PARAMETERS, "instantCaches": True, "markPodsNotReadyOnTransitionOnly": False, **overrides}
    return ClusterModel(scenario=scenario, api=ApiServerConfig(users=scenario.users, admission=scenario.admission),
                        nodes=tuple(n.name for n in scenario.spec.topology.nodes), parameters=FrozenMap(params))


def api(state: ClusterState, model: ClusterModel, request: Request) -> ClusterState:
    result = handle(state.store, request, model.api, state.clock)
    assert result.response.ok, result.response
    return attrs.evolve(state, store=result.store)


def step(model: ClusterModel, state: ClusterState, act: Action, module: Any = nlc) -> ClusterState:
    acts = list(module.enabled(model, state))
    assert act in acts, f"{act} not enabled: {[str(a) for a in acts]}"
    result: ClusterState = module.HANDLERS[type(act)](model, state, act)
    return result


def running_pod(model: ClusterModel, tolerations: tuple[Toleration, ...] = ()) -> ClusterState:
    """web bound to worker-1, started, Ready and reported; the controllers started at 0."""
    probe = Probe(http_get=FrozenMap({"path": "/ready", "port": 80}))
    pod = Pod(metadata=ObjectMeta(name="web", namespace="default"),
              spec=PodSpec(containers=(Container(name="app", image="web:1", readiness_probe=probe),),
                           tolerations=tolerations))
    state = ClusterState(store=bootstrap(model.scenario).store,
                         kubelets=FrozenMap({n: initial_kubelet() for n in model.nodes}),
                         controllers=FrozenMap({nlc.NAME: nlc.initial_nodelifecycle_memory(started_at=0)}))
    state = api(state, model, Request(verb="create", user=ADMIN, obj=pod))
    state = api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                      namespace="default", name="web", node_name=NODE))
    state = step(model, state, kl.StartPod(NODE, POD), kl)
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True), kl)
    return step(model, state, kl.SyncPodStatus(NODE, POD), kl)


def partition(state: ClusterState) -> ClusterState:
    cache = start_informer(state.store, ("pods",))
    return attrs.evolve(state, partitioned=frozenset({NODE}), heartbeat_lost=FrozenMap({NODE: state.clock}),
                        informers=state.informers.set(kubelet(NODE), cache))


def node(state: ClusterState, name: str = NODE) -> Node:
    obj = state.store.get(ObjectKey("nodes", "", name))
    assert isinstance(obj, Node)
    return obj


def pod(state: ClusterState) -> Pod:
    obj = state.store.get(ObjectKey("pods", "default", "web"))
    assert isinstance(obj, Pod)
    return obj


def pod_ready(state: ClusterState) -> str:
    cond = find_condition(pod(state).status.conditions, "Ready")
    assert cond is not None
    return cond.status


def at(state: ClusterState, clock: int) -> ClusterState:
    return attrs.evolve(state, clock=clock)


def test_nothing_to_do_on_a_healthy_cluster() -> None:
    model = make_model()
    state = running_pod(model)
    assert list(nlc.enabled(model, state)) == []
    assert nlc.next_timer(model, state) is None


def test_unreachable_node_marked_tainted_and_pods_evicted_after_toleration() -> None:
    model = make_model()
    state = partition(running_pod(model))
    assert nlc.next_timer(model, state) == 41
    assert nlc.MarkNodeUnknown(NODE) not in list(nlc.enabled(model, at(state, 40)))
    state = step(model, at(state, 50), nlc.MarkNodeUnknown(NODE))
    ready = find_condition(node(state).status.conditions, "Ready")
    assert ready is not None and (ready.status, ready.reason) == ("Unknown", "NodeStatusUnknown")
    assert ready.message == "Kubelet stopped posting node status."
    assert {c.type for c in node(state).status.conditions} >= {"MemoryPressure", "DiskPressure", "PIDPressure"}

    state = step(model, state, nlc.TaintNode(NODE))
    taint = next(t for t in node(state).spec.taints if t.effect == "NoExecute")
    assert (taint.key, taint.time_added) == ("node.kubernetes.io/unreachable", 50)
    state = step(model, state, nlc.SyncNoScheduleTaints(NODE))
    assert any(t.key == "node.kubernetes.io/unreachable" and t.effect == "NoSchedule" for t in node(state).spec.taints)

    state = step(model, state, nlc.MarkPodsNotReady(NODE))
    assert pod_ready(state) == "False"
    assert kl.kubelet_state(state, NODE).pods[POD].containers[0].running  # still running on the node

    state = step(model, state, nlc.ScheduleTaintEviction(POD))  # tolerationSeconds 300 from admission
    assert nlc.next_timer(model, state) == 350
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 340)))
    state = step(model, at(state, 350), nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp == 380
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
    state = step(model, at(state, 50), nlc.MarkNodeUnknown(NODE))
    state = step(model, state, nlc.TaintNode(NODE))
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp is not None


def test_ready_again_removes_the_taint_and_cancels_the_eviction() -> None:
    model = make_model()
    state = partition(running_pod(model))
    state = step(model, at(state, 50), nlc.MarkNodeUnknown(NODE))
    state = step(model, state, nlc.TaintNode(NODE))
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    state = attrs.evolve(state, partitioned=frozenset(), heartbeat_lost=FrozenMap(),
                         informers=state.informers.delete(kubelet(NODE)))
    state = step(model, at(state, 60), kl.UpdateNodeStatus(NODE), kl)
    state = step(model, state, nlc.UntaintNode(NODE))
    assert not any(t.effect == "NoExecute" for t in node(state).spec.taints)
    assert nlc.memory(state).evictions == FrozenMap()
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 400)))


def crash_between_node_and_pods(model: ClusterModel) -> ClusterState:
    state = partition(running_pod(model))
    state = step(model, at(state, 50), nlc.MarkNodeUnknown(NODE))
    # the controller manager crashes and restarts: its memory is reset
    state = attrs.evolve(state, controllers=state.controllers.set(nlc.NAME, nlc.initial_nodelifecycle_memory()))
    return step(model, at(state, 60), nlc.StartNodeLifecycle())


def test_transition_only_marking_loses_pods_after_a_crash() -> None:
    model = make_model(markPodsNotReadyOnTransitionOnly=True)
    state = crash_between_node_and_pods(model)
    assert not any(isinstance(a, nlc.MarkPodsNotReady) for a in nlc.enabled(model, state))
    assert pod_ready(state) == "True"  # kubernetes#50067: never marked


def test_transition_only_marking_without_a_crash() -> None:
    model = make_model(markPodsNotReadyOnTransitionOnly=True)
    state = partition(running_pod(model))
    state = step(model, at(state, 50), nlc.MarkNodeUnknown(NODE))
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
    assert nlc.MarkNodeUnknown(NODE) not in list(nlc.enabled(model, at(state, 50)))
    assert nlc.next_timer(model, state) == 71


def test_zone_states_and_full_disruption() -> None:
    model = make_model()
    nodes = [node(running_pod(model), n) for n in model.nodes]

    def with_ready(n: Node, status: str) -> Node:
        ready = attrs.evolve(n.status.conditions[0], status=status)
        return attrs.evolve(n, status=attrs.evolve(n.status, conditions=(ready,)))

    down = [with_ready(n, "Unknown") for n in nodes]
    assert rules.all_fully_disrupted(down)
    assert not rules.tainting_allowed(down, down[0])
    zone_a_down = [with_ready(n, "Unknown") if n.metadata.labels["topology.kubernetes.io/zone"] == "zone-a" else n
                   for n in nodes]
    states = rules.zone_states(zone_a_down)
    assert states[":\x00:zone-a"] == ("FullDisruption", 3)
    assert states[":\x00:zone-b"] == ("Normal", 2)
    assert rules.tainting_allowed(zone_a_down, zone_a_down[0])  # not every zone is down
    extra = attrs.evolve(nodes[0], metadata=attrs.evolve(nodes[0].metadata, name="worker-9"))
    partial = [*zone_a_down, extra]
    assert rules.zone_states(partial)[":\x00:zone-a"] == ("PartialDisruption", 4)
    assert not rules.tainting_allowed(partial, partial[0])  # a small zone's limiter drops to 0
