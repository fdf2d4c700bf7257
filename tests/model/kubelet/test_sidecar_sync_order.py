"""A pod whose native sidecar restarts while no regular container runs (`kubeprop.model.kubelet.init_sync`):
`pkg/kubelet/kuberuntime/kuberuntime_manager.go` computePodActions reaches the regular containers only once
`kuberuntime_container.go` computeInitContainerActions says the pod is initialized — a regular container
running, or the last init container a started sidecar — so the app's restart, and a finished pod's KillPod,
wait for the last sidecar to be started again; and `pkg/kubelet/status/generate.go`
GeneratePodInitializedCondition reads the reported states (`HasAnyRegularContainerStarted`: an app waiting
in CrashLoopBackOff does not count), while v1.33's getPhase counts the sandbox's exited app
(`HasAnyActiveRegularContainerStarted`) and keeps the pod Running."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.api.objects import Pod
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_init_containers import initialized, states, synced
from .test_kubelet import NODE, POD, bound_state, runtime, step
from .test_sidecars import sidecar, sidecar_pod


def _crash(state: ClusterState, container: str) -> ClusterState:
    crashed = crash_container(kl.kubelet_state(state, NODE), POD, container, state.clock)
    assert crashed is not None
    return attrs.evolve(state, kubelets=state.kubelets.set(NODE, crashed))


def _started(model: ClusterModel, pod: Pod) -> ClusterState:
    state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    if runtime(state).sidecars[-1].startup_pending:
        state = step(model, state, kl.ProbeResult(NODE, POD, runtime(state).sidecars[-1].name, "startup", True))
    assert runtime(state).containers[0].running
    return state


def _app_in_back_off(model: ClusterModel, pod: Pod) -> ClusterState:
    """The app crashed twice (its first restart is immediate, the second waits 10 s): CrashLoopBackOff."""
    state = _crash(_started(model, pod), "app")
    state = _crash(step(model, state, kl.RestartContainer(NODE, POD, "app")), "app")
    assert runtime(state).containers[0].backoff == 10
    return state


def _restarts(model: ClusterModel, state: ClusterState) -> set[str]:
    return {a.container for a in kl.enabled(model, state) if isinstance(a, kl.RestartContainer)}


def test_a_restarted_sidecar_not_started_makes_initialized_false_beside_an_app_in_back_off() -> None:
    model = make_model()
    state = _app_in_back_off(model, sidecar_pod(sidecar(startup=True)))
    state = step(model, _crash(state, "proxy"), kl.RestartContainer(NODE, POD, "proxy"))
    assert runtime(state).sidecars[0].running and runtime(state).sidecars[0].startup_pending
    pod = synced(model, state)
    assert states(pod) == {"app": "waiting/CrashLoopBackOff"}
    assert pod.status.phase == "Running"  # v1.33: the sandbox's exited app counts for getPhase
    assert initialized(pod) == ("False", "ContainersNotInitialized", "containers with incomplete status: [proxy]")
    state = step(model, state, kl.ProbeResult(NODE, POD, "proxy", "startup", True))
    assert initialized(synced(model, state))[0] == "True"


def test_a_sidecar_restarting_beside_a_running_app_keeps_initialized_true() -> None:
    model = make_model()
    state = step(model, _crash(_started(model, sidecar_pod(sidecar(startup=True))), "proxy"),
                 kl.RestartContainer(NODE, POD, "proxy"))
    assert runtime(state).containers[0].running and runtime(state).sidecars[0].startup_pending
    assert initialized(synced(model, state))[0] == "True"


def test_the_app_restarts_only_once_the_restarted_sidecar_passed_its_startup_probe() -> None:
    model = make_model()
    state = attrs.evolve(_app_in_back_off(model, sidecar_pod(sidecar(startup=True))), clock=3)
    state = _crash(state, "proxy")
    assert _restarts(model, state) == {"proxy"}  # the app's back-off has not run out either
    state = step(model, state, kl.RestartContainer(NODE, POD, "proxy"))
    app = runtime(state).containers[0]
    assert app.exited_at is not None and kl.next_timer(model, state) != app.exited_at + app.backoff  # no timer
    state = attrs.evolve(state, clock=20)
    assert "app" not in _restarts(model, state)  # its back-off ran out (at 10), the proxy is not started
    state = step(model, state, kl.ProbeResult(NODE, POD, "proxy", "startup", True))
    assert _restarts(model, state) == {"app"}


def test_the_app_restarts_at_once_beside_a_sidecar_without_startup_probe_once_it_runs() -> None:
    model = make_model()
    state = _crash(_crash(_started(model, sidecar_pod(sidecar())), "app"), "proxy")
    assert _restarts(model, state) == {"proxy"}  # the app waits for the proxy, though without back-off
    state = step(model, state, kl.RestartContainer(NODE, POD, "proxy"))
    assert _restarts(model, state) == {"app"}


def test_only_the_last_sidecar_holds_the_app_back() -> None:
    model = make_model()
    state = _crash(_crash(_started(model, sidecar_pod(sidecar("log"), sidecar("proxy"))), "app"), "log")
    assert _restarts(model, state) == {"app", "log"}
    state = _crash(state, "proxy")
    assert _restarts(model, state) == {"log", "proxy"}


def test_a_finished_pod_restarts_its_crashed_last_sidecar_before_stopping_them() -> None:
    model = make_model()
    state = _crash(_started(model, sidecar_pod(sidecar("log"), sidecar("proxy"), restart_policy="Never")), "proxy")
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    assert not runtime(state).terminating and runtime(state).sidecars[0].running  # no KillPod yet
    assert _restarts(model, state) == {"proxy"}
    assert synced(model, state).status.phase == "Running"
    state = step(model, state, kl.RestartContainer(NODE, POD, "proxy"))
    assert runtime(state).kill_deadline == 30  # started again: KillPod, the pod's grace period
    assert [c.running for c in runtime(state).sidecars] == [True, True]


def test_a_finished_pod_waits_for_its_last_sidecar_s_startup_probe_before_stopping_it() -> None:
    model = make_model()
    state = _crash(_started(model, sidecar_pod(sidecar(startup=True), restart_policy="OnFailure")), "proxy")
    state = step(model, step(model, state, kl.RestartContainer(NODE, POD, "proxy")),
                 kl.ContainerExit(NODE, POD, "app", 0))
    assert not runtime(state).terminating and runtime(state).sidecars[0].startup_pending
    state = step(model, state, kl.ProbeResult(NODE, POD, "proxy", "startup", True))
    assert runtime(state).kill_deadline == 30
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert synced(model, state).status.phase == "Succeeded"


def test_a_finished_pod_with_no_sidecar_running_is_terminal_and_restarts_none() -> None:
    model = make_model()
    state = _crash(_started(model, sidecar_pod(sidecar(), restart_policy="Never")), "proxy")
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    assert synced(model, state).status.phase == "Succeeded"
    assert _restarts(model, state) == set()
