"""A terminal phase is never left, against upstream: the API server refuses a status that turns a
terminated container of a restartPolicy Never pod non-terminated (`pkg/apis/core/validation/
validation.go` ValidatePodStatusUpdate → ValidateContainerStateTransition), the kubelet's status
manager drops such a status itself (`pkg/kubelet/status/status_manager.go` checkContainerStateTransition),
and the kubelet keeps a terminal phase its cache shows and stops the containers it runs for such a
pod (`pkg/kubelet/kubelet_pods.go` generateAPIPodStatus, `kubelet.go` SyncPod).

The run: a batch pod (restartPolicy Never) succeeds; its node crashes; the restarted kubelet
LISTs its pods from a lagging watch cache (`listFromWatchCache`, kubernetes#59848), which still
shows the pod Running, and runs it again. The model used to write Running over Succeeded."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.pod import ContainerStatus, PodSpec, PodStatus
from kubeprop.model.api.validation import validate_status_update
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.cluster.informers import WATCH_CACHE
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.actions import ContainerExit, KillPod, StartPod, SyncPodStatus
from kubeprop.model.kubelet.component import kubelet_state
from kubeprop.model.kubelet.runtime import ContainerRuntime, PodRuntime
from kubeprop.model.kubelet.status import pod_status, stops_terminal, transition_refused
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, CrashNode, Deliver, RestartNode
from kubeprop.model.state.cluster import ClusterModel, ClusterState

SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: batch}
manifests: [m]
topology:
  nodes:
    - {name: n1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
users: [{name: admin, clusterRoles: [cluster-admin]}]
faults: {nodeCrash: 1}
"""
JOB = """apiVersion: v1
kind: Pod
metadata: {name: job-0, namespace: default}
spec:
  restartPolicy: Never
  containers: [{name: main, image: etl:v1, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
"""
KEY = ObjectKey("pods", "default", "job-0")
TERMINAL = ("Succeeded", "Failed")


def _model(tmp: Path) -> ClusterModel:
    (tmp / "m").mkdir(exist_ok=True)
    (tmp / "m" / "job.yaml").write_text(JOB)
    (tmp / "scenario.yaml").write_text(SCENARIO)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"listFromWatchCache": True})


def _phase(state: ClusterState) -> str:
    pod = state.store.get(KEY)
    assert isinstance(pod, Pod)
    return pod.status.phase


def _lagging(state: ClusterState, act: Action) -> bool:
    """A delivery to the watch cache once it has the pod bound: it stays behind from then on."""
    if not (isinstance(act, Deliver) and act.component == WATCH_CACHE):
        return False
    cached = state.informers[WATCH_CACHE].get(KEY)
    return isinstance(cached, Pod) and bool(cached.spec.node_name)


def _fair(model: ClusterModel, state: ClusterState, phases: list[str], taken: list[Action],
          lag: bool = False, steps: int = 400) -> ClusterState:
    """The fair run without the container's own exit (and, with `lag`, without the watch cache
    seeing more than the pod's binding), each action in `taken`, each phase in `phases`."""
    policy = FairPolicy(recover=False)
    for _ in range(steps):
        act = policy.choose([a for a in actions(model, state) if not isinstance(a, ContainerExit)
                             and not (lag and _lagging(state, a))])
        if act is None:
            return state
        policy.taken(act)
        taken.append(act)
        state = step(model, state, act)
        phases.append(_phase(state))
    return state


def _take(model: ClusterModel, state: ClusterState, act: Action, phases: list[str]) -> ClusterState:
    assert act in list(actions(model, state)), act
    state = step(model, state, act)
    phases.append(_phase(state))
    return state


def test_a_rerun_after_a_node_crash_leaves_the_pod_succeeded(tmp_path: Path) -> None:
    """The kubelet's write of the re-run (main running, phase Running) is refused; once its cache
    shows the pod Succeeded it stops the re-run (KillPod) and reports main terminated again, the
    phase kept. The phase never leaves Succeeded."""
    model = _model(tmp_path)
    phases: list[str] = []
    state = _fair(model, initial_state(model), phases, [], lag=True)
    assert _phase(state) == "Running"
    state = _take(model, state, ContainerExit("n1", "default/job-0", "main", 0), phases)
    state = _take(model, state, SyncPodStatus("n1", "default/job-0"), phases)
    state = _take(model, state, Deliver("kubelet/n1", "pods", state.store.revision), phases)
    assert phases[-1] == "Succeeded"
    state = _take(model, state, CrashNode("n1"), phases)
    state = _take(model, state, RestartNode("n1"), phases)  # the LIST is served from the lagging watch cache
    state = _take(model, state, StartPod("n1", "default/job-0"), phases)  # it shows the pod just bound: run again
    state = _take(model, state, SyncPodStatus("n1", "default/job-0"), phases)  # refused: main is terminated
    assert _phase(state) == "Succeeded"
    taken: list[Action] = []
    state = _fair(model, state, phases, taken)  # the caches catch up
    assert KillPod("n1", "default/job-0") in taken
    assert not kubelet_state(state, "n1").pods["default/job-0"].any_running
    pod = state.store.get(KEY)
    assert isinstance(pod, Pod) and "terminated" in pod.status.container_statuses[0].state
    after = phases[phases.index("Succeeded"):]
    assert after == ["Succeeded"] * len(after)


def _status(state: str, exit_code: int = 0) -> PodStatus:
    inner = FrozenMap({"exitCode": exit_code}) if state == "terminated" else FrozenMap()
    return PodStatus(phase="Succeeded" if state == "terminated" else "Running",
                     container_statuses=(ContainerStatus(name="main", state=FrozenMap({state: inner})),))


def _pod(policy: str, status: PodStatus) -> Pod:
    return Pod(metadata=ObjectMeta(name="job-0", namespace="default", uid="u1"),
               spec=PodSpec(restart_policy=policy), status=status)


def test_the_api_server_refuses_a_terminated_container_running_again() -> None:
    """ValidateContainerStateTransition: Never (and OnFailure after exit 0) refuse; OnFailure after
    a failure and Always allow; a terminated → terminated write is allowed (the phase is not checked)."""
    done, running = _status("terminated"), _status("running")
    (error,) = validate_status_update(_pod("Never", running), _pod("Never", done))
    assert (error.path, error.detail) == (("status", "containerStatuses", 0, "state"),
                                          "may not be transitioned to non-terminated state")
    assert validate_status_update(_pod("OnFailure", running), _pod("OnFailure", done))
    failed = _status("terminated", 1)
    assert not validate_status_update(_pod("OnFailure", running), _pod("OnFailure", failed))
    assert not validate_status_update(_pod("Always", running), _pod("Always", done))
    assert not validate_status_update(_pod("Never", failed), _pod("Never", done))


def test_the_kubelet_keeps_a_cached_terminal_phase_and_drops_a_refused_status() -> None:
    """generateAPIPodStatus: with the cached pod Succeeded, a running container leaves the phase,
    reason and message as they are; checkContainerStateTransition: the status manager drops a
    status that runs main again after the cached status showed it terminated (Never)."""
    done = _pod("Never", evolve(_status("terminated"), reason="Done", message="all good"))
    runtime = PodRuntime(uid="u1", containers=(ContainerRuntime("main", running=True),), pod_ip="10.0.0.1",
                         admitted_at=0, restart_policy="Never")
    status = pod_status(done, runtime, 5)
    assert (status.phase, status.reason, status.message) == ("Succeeded", "Done", "all good")
    assert "running" in status.container_statuses[0].state
    assert transition_refused(done, status)
    assert stops_terminal(done, runtime)
    assert not transition_refused(_pod("Always", _status("terminated")), status)
