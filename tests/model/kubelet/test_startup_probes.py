"""Startup probes of regular containers (`pkg/kubelet/prober/prober_manager.go` isContainerStarted,
UpdatePodStatus; `pkg/kubelet/prober/worker.go` doProbe; `pkg/kubelet/kuberuntime/kuberuntime_manager.go`
computePodActions): a running container with a startupProbe that has not succeeded is neither
started nor ready, its readiness and liveness probes wait, and a startup failure kills it — restarted
with back-off unless the restartPolicy is Never. Before, the model started such a container ready
at once and never ran its startup probe. The sidecars' startup probes share the code
(`test_sidecars`)."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Container, Pod, Probe
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_init_containers import states, synced
from .test_kubelet import HTTP, NODE, POD, bound_state, delete_web, runtime, step, web_pod


def slow_pod(readiness: bool = False, liveness: bool = False, restart_policy: str = "") -> Pod:
    """`web` with one container `app` that has a startupProbe, and the other probes asked for."""
    container = Container(name="app", image="slow:1", startup_probe=Probe(http_get=HTTP, failure_threshold=30),
                          readiness_probe=Probe(http_get=HTTP) if readiness else None,
                          liveness_probe=Probe(http_get=HTTP) if liveness else None)
    pod = web_pod(restart_policy=restart_policy)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, containers=(container,)))


def probes(model: ClusterModel, state: ClusterState) -> set[tuple[str, bool]]:
    """The probe results enabled for `app`: (probe, success)."""
    return {(a.probe, a.success) for a in kl.enabled(model, state)
            if isinstance(a, kl.ProbeResult) and a.container == "app"}


def ready(pod: Pod) -> tuple[str, str]:
    cond = find_condition(pod.status.conditions, "Ready")
    assert cond is not None
    return cond.status, cond.message


def test_a_container_is_neither_started_nor_ready_until_its_startup_probe_passes() -> None:
    model = make_model()
    state = step(model, bound_state(model, slow_pod()), kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert c.running and not c.started and not c.ready  # no readiness probe, yet not ready
    pod = synced(model, state)
    assert pod.status.phase == "Running" and states(pod) == {"app": "running"}
    status = pod.status.container_statuses[0]
    assert (status.started, status.ready) == (False, False)
    assert ready(pod) == ("False", "containers with unready status: [app]")
    assert probes(model, state) == {("startup", True)}  # a failure needs 30 failed probes, 10 s apart
    assert kl.next_timer(model, state) == 290
    assert probes(model, attrs.evolve(state, clock=290)) == {("startup", True), ("startup", False)}
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "startup", True))
    pod = synced(model, state)
    status = pod.status.container_statuses[0]
    assert (status.started, status.ready) == (True, True)  # no readiness probe: ready once started
    assert ready(pod) == ("True", "")
    assert probes(model, state) == set()  # the startup probe is done


def test_readiness_and_liveness_probes_wait_for_the_startup_probe() -> None:
    model = make_model()
    state = step(model, bound_state(model, slow_pod(readiness=True, liveness=True)), kl.StartPod(NODE, POD))
    assert probes(model, state) == {("startup", True)}
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "startup", True))
    assert probes(model, state) == {("readiness", True)}  # the liveness probe's 3 failures take 20 s
    assert probes(model, attrs.evolve(state, clock=20)) == {("readiness", True), ("liveness", False)}
    pod = synced(model, state)
    assert (pod.status.container_statuses[0].started, pod.status.container_statuses[0].ready) == (True, False)
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert ready(synced(model, state)) == ("True", "")


def test_a_failing_startup_probe_kills_the_container_which_restarts_with_back_off() -> None:
    model = make_model()
    state = step(model, bound_state(model, slow_pod(readiness=True)), kl.StartPod(NODE, POD))
    state = step(model, attrs.evolve(state, clock=290), kl.ProbeResult(NODE, POD, "app", "startup", False))
    assert runtime(state).containers[0].kill_deadline == 320  # SIGTERM: the pod's 30 s grace period
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))  # ended by SIGTERM
    c = runtime(state).containers[0]
    assert not c.running and (c.exit_code, c.exit_reason) == (143, "Error")
    state = step(model, state, kl.RestartContainer(NODE, POD, "app"))  # first restart: no back-off yet
    c = runtime(state).containers[0]
    assert c.running and c.restart_count == 1 and not c.started  # a new container: probed from the start
    assert probes(model, state) == {("startup", True)}  # its failures are counted afresh
    assert kl.next_timer(model, state) == 580
    state = step(model, attrs.evolve(state, clock=580), kl.ProbeResult(NODE, POD, "app", "startup", False))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, state))
    assert kl.next_timer(model, state) == 590
    pod = synced(model, state)
    assert states(pod) == {"app": "waiting/CrashLoopBackOff"}
    assert pod.status.container_statuses[0].last_state["terminated"]["exitCode"] == 143
    assert ready(pod)[0] == "False"
    state = step(model, attrs.evolve(state, clock=590), kl.RestartContainer(NODE, POD, "app"))
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "startup", True))
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    pod = synced(model, state)
    assert ready(pod) == ("True", "") and pod.status.container_statuses[0].restart_count == 2


def test_under_restart_policy_never_a_failed_startup_fails_the_pod() -> None:
    """computePodActions restarts a container whose startup probe failed only when
    shouldRestartOnFailure (restartPolicy not Never)."""
    model = make_model()
    state = step(model, bound_state(model, slow_pod(restart_policy="Never")), kl.StartPod(NODE, POD))
    state = step(model, attrs.evolve(state, clock=290), kl.ProbeResult(NODE, POD, "app", "startup", False))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, state))
    pod = synced(model, state)
    assert pod.status.phase == "Failed" and states(pod) == {"app": "terminated/Error"}


def test_under_on_failure_a_failed_startup_restarts_the_container() -> None:
    model = make_model()
    state = step(model, bound_state(model, slow_pod(restart_policy="OnFailure")), kl.StartPod(NODE, POD))
    state = step(model, attrs.evolve(state, clock=290), kl.ProbeResult(NODE, POD, "app", "startup", False))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))
    assert kl.RestartContainer(NODE, POD, "app") in list(kl.enabled(model, state))


def test_no_startup_probe_runs_while_the_pod_terminates() -> None:
    """`kubelet.go` SyncTerminatingPod stops the liveness and startup probes (StopLivenessAndStartup)
    before it kills the containers; the status it wrote says the container has not started."""
    model = make_model()
    state = step(model, bound_state(model, slow_pod(readiness=True)), kl.StartPod(NODE, POD))
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    assert probes(model, state) == set()
    pod = synced(model, state)
    assert (pod.status.container_statuses[0].started, pod.status.container_statuses[0].ready) == (False, False)


def test_a_crashed_container_that_had_started_is_probed_again_after_its_restart() -> None:
    model = make_model()
    state = step(model, bound_state(model, slow_pod()), kl.StartPod(NODE, POD))
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "startup", True))
    crashed = crash_container(kl.kubelet_state(state, NODE), POD, "app")
    assert crashed is not None
    state = attrs.evolve(state, kubelets=state.kubelets.set(NODE, crashed))
    state = step(model, state, kl.RestartContainer(NODE, POD, "app"))
    assert not runtime(state).containers[0].started
    assert ready(synced(model, state))[0] == "False"


def test_a_container_without_a_startup_probe_is_started_at_once() -> None:
    model = make_model()
    state = step(model, bound_state(model), kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert c.started and not c.has_startup
    assert ("startup", True) not in probes(model, state)
    assert synced(model, state).status.container_statuses[0].started
