"""Terminal pods at the kubelet: the conditions it reports once a pod is Succeeded or Failed
(`pkg/kubelet/status/generate.go`), and whether a pod Failed for its active deadline, its containers
still stopping, still holds its resources at admission (`pkg/kubelet/kubelet_pods.go`
filterOutInactivePods)."""

from __future__ import annotations

import attrs
from cluster_harness import api, make_model

from kubeprop.model.api.meta import Condition, find_condition
from kubeprop.model.api.objects import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.kubelet import component as kl
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import NODE, POD, api_pod, bound_state, run_ready, step, web_pod


def _condition(state: ClusterState, kind: str, key: str = POD) -> Condition:
    pod = api_pod(state, key)
    assert pod is not None
    cond = find_condition(pod.status.conditions, kind)
    assert cond is not None, kind
    return cond


def _reasons(state: ClusterState) -> dict[str, tuple[str, str, str]]:
    return {kind: (c.status, c.reason, c.message) for kind in ("Initialized", "ContainersReady", "Ready")
            for c in (_condition(state, kind),)}


def _with_deadline(pod: Pod, seconds: int) -> Pod:
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, active_deadline_seconds=seconds))


def _exceeded(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The ready pod reaches its 30 s deadline: Failed while its container still runs (SIGTERM sent)."""
    state = run_ready(model, state)
    state = step(model, attrs.evolve(state, clock=30), kl.ActiveDeadlineExceeded(NODE, POD))
    assert kl.kubelet_state(state, NODE).pods[POD].any_running
    return state


# -- generate.go: the reasons of a finished pod's conditions -----------------------------------


def test_a_succeeded_pod_reports_pod_completed() -> None:
    """GenerateContainersReadyCondition / GeneratePodReadyCondition: ContainersReady and Ready
    False with reason PodCompleted; GeneratePodInitializedCondition: Initialized True, reason
    PodCompleted."""
    model = make_model()
    state = run_ready(model, bound_state(model, web_pod(restart_policy="Never")))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    assert api_pod(state).status.phase == "Succeeded"  # type: ignore[union-attr]
    assert _reasons(state) == {"Initialized": ("True", "PodCompleted", ""),
                               "ContainersReady": ("False", "PodCompleted", ""),
                               "Ready": ("False", "PodCompleted", "")}


def test_a_failed_pod_reports_pod_failed_without_naming_containers() -> None:
    """generateContainersReadyConditionForTerminalPhase (kubernetes PR #110256, v1.25, back-ported
    to v1.22-v1.24): a Failed pod's ContainersReady and Ready are False, reason PodFailed, no message
    (the model said ContainersNotReady, "containers with unready status: [app]")."""
    model = make_model()
    state = run_ready(model, bound_state(model, web_pod(restart_policy="Never")))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 1))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    assert api_pod(state).status.phase == "Failed"  # type: ignore[union-attr]
    assert _reasons(state) == {"Initialized": ("True", "", ""),
                               "ContainersReady": ("False", "PodFailed", ""),
                               "Ready": ("False", "PodFailed", "")}


def test_a_pod_past_its_deadline_is_not_ready_while_its_containers_stop() -> None:
    """The kubelet's phase is Failed at once (DeadlineExceeded) while its ready container still
    runs. generateAPIPodStatus generates the conditions with that phase (Ready=False, PodFailed),
    and `status_manager.go` mergePodStatus delays the terminal phase, reason and message until
    the containers stopped. The model wrote Failed with Ready=True at once: the scheduler's cache
    (which drops terminal pods) freed the node while the container still held it."""
    model = make_model()
    state = _exceeded(model, bound_state(model, _with_deadline(web_pod(), 30)))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None and (pod.status.phase, pod.status.reason, pod.status.message) == ("Running", "", "")
    assert pod.status.container_statuses[0].ready
    assert _reasons(state)["Ready"] == ("False", "PodFailed", "")
    assert _reasons(state)["ContainersReady"] == ("False", "PodFailed", "")
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None and (pod.status.phase, pod.status.reason) == ("Failed", "DeadlineExceeded")
    assert _reasons(state)["Ready"] == ("False", "PodFailed", "")


def test_a_running_pod_keeps_its_reasons() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    assert _reasons(state) == {"Initialized": ("True", "", ""), "ContainersReady": ("True", "", ""),
                               "Ready": ("True", "", "")}


# -- filterOutInactivePods: a terminal pod still terminating holds its resources ---------------


def _two_pods(model: ClusterModel) -> ClusterState:
    """web (deadline 30 s) and late, 300Mi each on worker-1 (512Mi): only one fits."""
    heavy = ("300Mi", "300Mi")
    state = bound_state(model, _with_deadline(web_pod(memory=heavy), 30))
    late = web_pod("late", memory=heavy)
    state = api(state, model, Request(verb="create", user=ADMIN, obj=late))
    return api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                     namespace="default", name="late", node_name=NODE))


def test_a_pod_failed_for_its_deadline_counts_at_admission_until_its_containers_stop() -> None:
    """`kubelet_pods.go` filterOutInactivePods drops a terminal pod only once the pod worker knows it
    terminated, or if its termination was never requested: the deadline's kill is requested, so
    while the containers stop the pod still holds its 300Mi and `late` is refused (OutOfmemory)."""
    model = make_model()
    state = _exceeded(model, _two_pods(model))
    state = step(model, state, kl.StartPod(NODE, "default/late"))
    late = kl.kubelet_state(state, NODE).pods["default/late"]
    assert late.rejected is not None and late.rejected[0] == "OutOfmemory"


def test_once_its_containers_stopped_the_pod_no_longer_counts() -> None:
    model = make_model()
    state = _exceeded(model, _two_pods(model))
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    state = step(model, state, kl.StartPod(NODE, "default/late"))
    late = kl.kubelet_state(state, NODE).pods["default/late"]
    assert late.rejected is None and late.any_running
