"""The kubelet component driven by hand-written action sequences on FeastFlow's store."""

from __future__ import annotations

import attrs
import pytest
from cluster_harness import api, make_model

from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import (
    Container,
    Node,
    ObjectKey,
    Pod,
    PodSpec,
    PriorityClass,
    Probe,
    ResourceRequirements,
    Taint,
    Toleration,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.server import Request
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE
from kubeprop.model.kubelet.logs import crash_node
from kubeprop.model.kubelet.runtime import crash_container, initial_kubelet
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet
from kubeprop.model.state.informer import start_informer

POD = "default/web"
NODE = "worker-1"
HTTP = FrozenMap({"path": "/ready", "port": 5000})


def web_pod(name: str = "web", restart_policy: str = "", priority_class: str = "",
            memory: tuple[str, str] | None = ("128Mi", "256Mi")) -> Pod:
    resources = ResourceRequirements()
    if memory is not None:
        resources = ResourceRequirements(requests={"memory": Quantity.parse(memory[0])},
                                         limits={"memory": Quantity.parse(memory[1])})
    container = Container(name="app", image="web:1", readiness_probe=Probe(http_get=HTTP, period_seconds=10),
                          liveness_probe=Probe(http_get=HTTP, period_seconds=10, failure_threshold=3),
                          resources=resources)
    return Pod(metadata=ObjectMeta(name=name, namespace="default"),
               spec=PodSpec(containers=(container,), restart_policy=restart_policy, priority_class_name=priority_class))


def bound_state(model: ClusterModel, *pods: Pod, classes: tuple[PriorityClass, ...] = ()) -> ClusterState:
    state = ClusterState(store=bootstrap(model.scenario).store,
                         kubelets=FrozenMap({n: initial_kubelet() for n in model.nodes}))
    for pc in classes:  # the Priority admission plug-in gives pods their class's priority
        state = api(state, model, Request(verb="create", user=ADMIN, obj=pc))
    for pod in pods or (web_pod(),):
        state = api(state, model, Request(verb="create", user=ADMIN, obj=pod))
        state = api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                          namespace="default", name=pod.metadata.name, node_name=NODE))
    return state


def step(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
    assert act in list(kl.enabled(model, state)), f"{act} not enabled: {[str(a) for a in kl.enabled(model, state)]}"
    return kl.HANDLERS[type(act)](model, state, act)


def api_pod(state: ClusterState, key: str = POD) -> Pod | None:
    namespace, name = key.split("/")
    pod = state.store.get(ObjectKey("pods", namespace, name))
    assert pod is None or isinstance(pod, Pod)
    return pod


def runtime(state: ClusterState, key: str = POD) -> kl.PodRuntime:
    return kl.kubelet_state(state, NODE).pods[key]


def run_ready(model: ClusterModel, state: ClusterState) -> ClusterState:
    state = step(model, state, kl.StartPod(NODE, POD))
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    return step(model, state, kl.SyncPodStatus(NODE, POD))


def delete_web(model: ClusterModel, state: ClusterState, grace: int | None = None) -> ClusterState:
    """A user deletes `web`, with `grace` seconds (None: the pod's own terminationGracePeriodSeconds)."""
    return api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web",
                                     grace_period_seconds=grace))


def test_bound_pod_starts_becomes_ready_and_is_reported() -> None:
    model = make_model()
    state = bound_state(model)
    assert kl.StartPod(NODE, POD) in list(kl.enabled(model, state))
    state = step(model, state, kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert c.running and not c.ready  # a readiness probe has not succeeded yet
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert runtime(state).containers[0].ready
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None
    assert pod.status.phase == "Running"
    assert pod.status.pod_ip == "10.244.0.2"
    for type_ in ("PodScheduled", "Initialized", "ContainersReady", "Ready"):
        cond = find_condition(pod.status.conditions, type_)
        assert cond is not None and cond.status == "True", type_
    assert pod.status.container_statuses[0].ready
    assert kl.SyncPodStatus(NODE, POD) not in list(kl.enabled(model, state))


def _taint_node(model: ClusterModel, state: ClusterState, taint: Taint) -> ClusterState:
    node = state.store.get(ObjectKey("nodes", "", NODE))
    assert isinstance(node, Node)
    return api(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        node, spec=attrs.evolve(node.spec, taints=(*node.spec.taints, taint)))))


def test_admission_rejects_a_pod_not_tolerating_a_no_execute_taint() -> None:
    """predicate.go generalFilter: a NoExecute taint added after the binding (here by a user)
    that the pod does not tolerate makes the kubelet reject it: nothing starts, the pod is
    Failed with reason TaintToleration and rejectPod's message, and it is never restarted."""
    model = make_model()
    state = _taint_node(model, bound_state(model), Taint(key="dedicated", value="db", effect="NoExecute"))
    state = step(model, state, kl.StartPod(NODE, POD))
    assert not runtime(state).any_running
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None
    assert (pod.status.phase, pod.status.reason) == ("Failed", "TaintToleration")
    assert pod.status.message == ("Pod was rejected: Predicate TaintToleration failed: node(s) had taints that "
                                  "the pod didn't tolerate")
    assert find_condition(pod.status.conditions, "Ready") is None and pod.status.container_statuses == ()
    assert not [a for a in kl.enabled(model, state) if not isinstance(a, kl.UpdateNodeStatus)]


def test_admission_ignores_tolerated_and_no_schedule_taints() -> None:
    """Only NoExecute taints count at admission, and a matching toleration admits the pod."""
    model = make_model()
    state = _taint_node(model, bound_state(model), Taint(key="dedicated", value="db", effect="NoSchedule"))
    assert runtime(step(model, state, kl.StartPod(NODE, POD))).any_running
    tolerant = web_pod()
    tolerant = attrs.evolve(tolerant, spec=attrs.evolve(tolerant.spec, tolerations=(
        Toleration(key="dedicated", operator="Exists", effect="NoExecute"),)))
    state = _taint_node(model, bound_state(model, tolerant), Taint(key="dedicated", value="db", effect="NoExecute"))
    assert runtime(step(model, state, kl.StartPod(NODE, POD))).any_running


def test_container_without_readiness_probe_is_ready_at_start() -> None:
    model = make_model()
    pod = web_pod()
    pod = attrs.evolve(pod, spec=attrs.evolve(pod.spec, containers=(Container(name="app", image="web:1"),)))
    state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].ready


def test_liveness_failure_restarts_with_crashloop_backoff() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = step(model, attrs.evolve(state, clock=20), kl.ProbeResult(NODE, POD, "app", "liveness", False))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))  # on SIGTERM
    c = runtime(state).containers[0]
    assert not c.running and c.exit_code == 143
    state = step(model, state, kl.RestartContainer(NODE, POD, "app"))  # first restart: no back-off yet
    assert runtime(state).containers[0].restart_count == 1
    state = attrs.evolve(state, clock=40)  # 3 failures of the new container, 10 s apart
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "liveness", False))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, state))
    assert kl.next_timer(model, state) == 50
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    status = api_pod(state).status.container_statuses[0]  # type: ignore[union-attr]
    assert status.state["waiting"]["reason"] == "CrashLoopBackOff"
    state = step(model, attrs.evolve(state, clock=50), kl.RestartContainer(NODE, POD, "app"))
    c = runtime(state).containers[0]
    assert c.running and c.restart_count == 2 and c.backoff == 20


def _crashed(state: ClusterState, at: int) -> ClusterState:
    k = crash_container(kl.kubelet_state(state, NODE), POD, "app", at)
    assert k is not None
    return attrs.evolve(state, clock=at, kubelets=state.kubelets.set(NODE, k))


def test_a_crashed_container_restarts_once_its_entry_is_collected() -> None:
    """audit20a F1 through the kubelet: restarted at 0 with a 300 s entry, crashed at 400. Housekeeping's
    `backOff.GC()` drops the entry past 600 s, so the restart is enabled, and a timer due, at 601, not
    at 700, and it gets a fresh 10 s entry (`runtime.backoff_gone`)."""
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = step(model, _crashed(state, 0), kl.RestartContainer(NODE, POD, "app"))  # first: no back-off
    c = runtime(state).containers[0]
    state = attrs.evolve(state, kubelets=state.kubelets.set(NODE, kl.kubelet_state(state, NODE).with_pod(
        POD, runtime(state).with_container(attrs.evolve(c, backoff=300, backoff_updated=0)))))
    state = _crashed(state, 400)
    assert kl.next_timer(model, state) == 601
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, attrs.evolve(state, clock=600)))
    state = step(model, attrs.evolve(state, clock=601), kl.RestartContainer(NODE, POD, "app"))
    c = runtime(state).containers[0]
    assert c.running and c.backoff == 10 and c.backoff_updated == 601


def test_graceful_deletion_ends_with_the_pod_gone() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = delete_web(model, state)
    assert api_pod(state).metadata.deletion_timestamp == 30  # type: ignore[union-attr]
    state = step(model, state, kl.KillPod(NODE, POD))
    assert runtime(state).kill_deadline == 30
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    state = step(model, state, kl.FinishTermination(NODE, POD))
    assert api_pod(state) is None
    assert POD not in kl.kubelet_state(state, NODE).pods


def test_sigkill_at_the_deadline() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = delete_web(model, state, grace=1)
    state = step(model, state, kl.KillPod(NODE, POD))
    assert runtime(state).kill_deadline == 2  # the 2 s minimum
    assert kl.next_timer(model, state) == 2
    state = step(model, attrs.evolve(state, clock=2), kl.SigKillPod(NODE, POD))
    assert runtime(state).containers[0].exit_code == 137
    state = step(model, state, kl.FinishTermination(NODE, POD))
    assert api_pod(state) is None


def test_partitioned_node_keeps_running_a_pod_the_api_shows_terminating() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    frozen_cache = start_informer(state.store, ("pods",))  # what Partition leaves the kubelet
    state = attrs.evolve(state, partitioned=frozenset({NODE}), heartbeat_lost=FrozenMap({NODE: 0}),
                         informers=state.informers.set(kubelet(NODE), frozen_cache))
    state = delete_web(model, state)
    acts = list(kl.enabled(model, state))
    assert not any(isinstance(a, kl.KillPod | kl.SyncPodStatus | kl.FinishTermination) for a in acts)
    assert runtime(state).containers[0].running
    assert api_pod(state).metadata.deletion_timestamp is not None  # type: ignore[union-attr]
    # local actions still happen
    assert kl.ProbeResult(NODE, POD, "app", "liveness", False) in list(kl.enabled(model, attrs.evolve(state, clock=20)))


def test_force_deleted_pod_is_killed_as_an_orphan() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = delete_web(model, state, grace=0)
    state = step(model, state, kl.CleanupOrphan(NODE, POD))
    assert runtime(state).terminating
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    state = step(model, state, kl.CleanupOrphan(NODE, POD))
    assert POD not in kl.kubelet_state(state, NODE).pods


@pytest.mark.parametrize(("policy", "code", "phase"), [("Never", 1, "Failed"), ("OnFailure", 0, "Succeeded"),
                                                       ("Never", 0, "Succeeded")])
def test_batch_pod_phases(policy: str, code: int, phase: str) -> None:
    model = make_model()
    state = step(model, bound_state(model, web_pod(restart_policy=policy)), kl.StartPod(NODE, POD))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", code))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    assert api_pod(state).status.phase == phase  # type: ignore[union-attr]


def test_node_status_posted_when_not_ready() -> None:
    model = make_model()
    state = bound_state(model)
    assert kl.UpdateNodeStatus(NODE) not in list(kl.enabled(model, state))
    node = state.store.get(ObjectKey("nodes", "", NODE))
    assert isinstance(node, Node)
    ready = attrs.evolve(node.status.conditions[0], status="Unknown")
    state = api(state, model, Request(verb="update-status", user=ADMIN,
                                      obj=attrs.evolve(node, status=attrs.evolve(node.status, conditions=(ready,)))))
    state = step(model, attrs.evolve(state, clock=60), kl.UpdateNodeStatus(NODE))
    node = state.store.get(ObjectKey("nodes", "", NODE))
    assert isinstance(node, Node)
    cond = find_condition(node.status.conditions, "Ready")
    assert cond is not None and cond.status == "True" and cond.last_heartbeat_time == 60


def test_memory_pressure_evicts_top_ranked_pod() -> None:
    model = make_model(memoryPressureEvents=1)
    low = web_pod("low")
    high = web_pod("high", priority_class="high")
    guaranteed = web_pod("guaranteed", memory=("128Mi", "128Mi"))
    state = bound_state(model, low, high, guaranteed,
                        classes=(PriorityClass(metadata=ObjectMeta(name="high"), value=100),))
    admitted = api_pod(state, "default/high")
    assert admitted is not None and admitted.spec.priority == 100
    for name in ("low", "high", "guaranteed"):
        state = step(model, state, kl.StartPod(NODE, f"default/{name}"))
    victims = {(a.pod, a.over_request) for a in kl.enabled(model, state) if isinstance(a, kl.MemoryPressure)}
    assert victims == {("default/low", True), ("default/high", True), ("default/low", False),
                       ("default/guaranteed", False)}
    state = step(model, state, kl.MemoryPressure(NODE, "default/low", False))
    state = step(model, state, kl.SyncPodStatus(NODE, "default/low"))
    pod = api_pod(state, "default/low")
    assert pod is not None and pod.status.phase == "Failed" and pod.status.reason == "Evicted"
    assert not any(isinstance(a, kl.MemoryPressure) for a in kl.enabled(model, state))  # budget spent


def test_crashes() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    k = kl.kubelet_state(state, NODE)
    assert list(kl.running_containers(k)) == [(POD, "app")]
    assert crash_container(k, POD, "nope") is None
    crashed = crash_container(k, POD, "app", now=3)
    assert crashed is not None and not crashed.pods[POD].containers[0].running
    assert crash_node(k).pods == FrozenMap()
