"""Sidecars: init containers with `restartPolicy: Always` (`pkg/kubelet/kuberuntime/kuberuntime_container.go`
computeInitContainerActions, `pkg/kubelet/status/generate.go`, `pkg/kubelet/kubelet_pods.go` getPhase).
They start in their turn — the next init container once the sidecar runs and, with a startupProbe,
once that succeeded —, keep running beside the containers, count for ContainersReady and Ready, and
restart whenever they exit, until the pod's regular containers are done."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import make_model

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Container, Pod, Probe
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.compose import step as cluster_step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_init_containers import initialized, states, synced
from .test_kubelet import HTTP, NODE, POD, bound_state, delete_web, runtime, step, web_pod

TERMINATION = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "sidecar-termination" / "scenario.yaml"


def sidecar_pod(*inits: Container, restart_policy: str = "") -> Pod:
    pod = web_pod(restart_policy=restart_policy)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, init_containers=inits))


def sidecar(name: str = "proxy", readiness: bool = False, startup: bool = False) -> Container:
    return Container(name=name, image="proxy:1", restart_policy="Always",
                     readiness_probe=Probe(http_get=HTTP) if readiness else None,
                     startup_probe=Probe(http_get=HTTP) if startup else None)


def init(name: str) -> Container:
    return Container(name=name, image="busybox:1.36")


def condition(model: ClusterModel, state: ClusterState, kind: str) -> tuple[str, str]:
    cond = find_condition(synced(model, state).status.conditions, kind)
    assert cond is not None
    return cond.status, cond.message


def test_a_sidecar_starts_before_the_next_init_container_and_keeps_running() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar(), init("migrate"))), kl.StartPod(NODE, POD))
    assert [(c.name, c.running) for c in runtime(state).init_containers] == [("proxy", True), ("migrate", True)]
    pod = synced(model, state)
    assert pod.status.phase == "Pending"
    assert initialized(pod)[2] == "containers with incomplete status: [migrate]"
    assert states(pod, init=True) == {"proxy": "running", "migrate": "running"}
    assert pod.status.init_container_statuses[0].started and pod.status.init_container_statuses[0].ready
    state = step(model, state, kl.ContainerExit(NODE, POD, "migrate", 0))
    pod = synced(model, state)
    assert pod.status.phase == "Running" and initialized(pod)[0] == "True"
    assert states(pod, init=True) == {"proxy": "running", "migrate": "terminated/Completed"}
    assert states(pod) == {"app": "running"}
    assert not any(isinstance(a, kl.ContainerExit) and a.container == "proxy" for a in kl.enabled(model, state))


def test_the_next_init_container_waits_for_the_startup_probe() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar(startup=True), init("migrate"))),
                 kl.StartPod(NODE, POD))
    assert [c.running for c in runtime(state).init_containers] == [True, False]
    pod = synced(model, state)
    assert not pod.status.init_container_statuses[0].started
    assert initialized(pod)[2] == "containers with incomplete status: [proxy migrate]"
    assert kl.ProbeResult(NODE, POD, "proxy", "readiness", True) not in list(kl.enabled(model, state))
    assert kl.ProbeResult(NODE, POD, "proxy", "startup", False) not in list(kl.enabled(model, state))
    failed = step(model, attrs.evolve(state, clock=20),  # the defaults: 3 failures, 10 s apart
                  kl.ProbeResult(NODE, POD, "proxy", "startup", False))
    failed = step(model, failed, kl.ContainerExit(NODE, POD, "proxy", SIGTERM_EXIT_CODE))  # on SIGTERM
    assert not runtime(failed).init_containers[0].running  # killed, to restart
    assert kl.RestartContainer(NODE, POD, "proxy") in list(kl.enabled(model, failed))
    state = step(model, state, kl.ProbeResult(NODE, POD, "proxy", "startup", True))
    assert [c.running for c in runtime(state).init_containers] == [True, True]
    assert synced(model, state).status.init_container_statuses[0].started


def test_an_unready_sidecar_keeps_the_pod_unready() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar(readiness=True))), kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].running  # a sidecar without startupProbe: the containers follow
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert condition(model, state, "Ready") == ("False", "containers with unready status: [proxy]")
    assert condition(model, state, "ContainersReady")[0] == "False"
    state = step(model, state, kl.ProbeResult(NODE, POD, "proxy", "readiness", True))
    assert condition(model, state, "Ready") == ("True", "")


def test_a_crashed_sidecar_restarts_with_back_off_and_the_pod_stays_initialized() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar())), kl.StartPod(NODE, POD))
    assert ("default/web", "proxy") in list(kl.running_containers(kl.kubelet_state(state, NODE)))
    crashed = crash_container(kl.kubelet_state(state, NODE), POD, "proxy")
    assert crashed is not None
    state = attrs.evolve(state, kubelets=state.kubelets.set(NODE, crashed))
    pod = synced(model, state)
    assert pod.status.phase == "Running" and initialized(pod)[0] == "True"
    assert condition(model, state, "Ready") == ("False", "containers with unready status: [proxy app]")
    state = step(model, state, kl.RestartContainer(NODE, POD, "proxy"))
    assert runtime(state).init_containers[0].running and runtime(state).init_containers[0].restart_count == 1
    assert runtime(state).containers[0].restart_count == 0  # the containers are not started again


def test_a_sidecar_of_a_never_pod_restarts_and_stops_when_the_containers_are_done() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar(), restart_policy="Never")), kl.StartPod(NODE, POD))
    crashed = crash_container(kl.kubelet_state(state, NODE), POD, "proxy")
    assert crashed is not None
    state = attrs.evolve(state, kubelets=state.kubelets.set(NODE, crashed))
    state = step(model, state, kl.RestartContainer(NODE, POD, "proxy"))  # whatever the pod's policy
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    assert runtime(state).sidecars[0].running and runtime(state).kill_deadline == 30  # SIGTERM, the pod's grace
    assert synced(model, state).status.phase == "Running"  # until the sidecar stopped
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert not runtime(state).any_running
    pod = synced(model, state)
    assert pod.status.phase == "Succeeded"
    assert states(pod, init=True) == {"proxy": "terminated/Completed"}
    assert not any(isinstance(a, kl.RestartContainer) for a in kl.enabled(model, state))


def test_a_failed_init_container_under_never_stops_the_sidecar() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar(), init("migrate"), restart_policy="Never")),
                 kl.StartPod(NODE, POD))
    state = step(model, state, kl.ContainerExit(NODE, POD, "migrate", 1))
    assert runtime(state).terminating and runtime(state).sidecars[0].running  # SIGTERM, with the pod's grace
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert not runtime(state).any_running and synced(model, state).status.phase == "Failed"


def test_a_deleted_pod_stops_its_sidecars() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar())), kl.StartPod(NODE, POD))
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    assert not any(isinstance(a, kl.RestartContainer) for a in kl.enabled(model, state))
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))  # the app first, then the sidecar
    assert [c.running for c in (*runtime(state).init_containers, *runtime(state).containers)] == [True, False]
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert not runtime(state).any_running


def test_a_deleted_pod_stops_its_containers_first_then_its_sidecars_in_reverse_order() -> None:
    """`kuberuntime_termination_order.go`: each sidecar waits for the regular containers and for the
    sidecar declared after it, so a proxy can outlive its app (and still be Ready) while the pod stops."""
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar("log"), sidecar("proxy", readiness=True))),
                 kl.StartPod(NODE, POD))
    state = step(model, state, kl.ProbeResult(NODE, POD, "proxy", "readiness", True))
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    running = []
    while runtime(state).any_running:
        assert kl.SigKillPod(NODE, POD) not in list(kl.enabled(model, state))  # before the deadline
        state = step(model, state, kl.StopGracefully(NODE, POD, 0))
        r = runtime(state)
        running.append(tuple(c.name for c in (*r.init_containers, *r.containers) if c.running))
    assert running == [("log", "proxy"), ("log",), ()]
    assert all(c.exit_code == 0 for c in (*runtime(state).init_containers, *runtime(state).containers))


def test_sigkill_at_the_deadline_kills_the_sidecars_still_waiting() -> None:
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar("log"), sidecar("proxy"))), kl.StartPod(NODE, POD))
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    deadline = runtime(state).kill_deadline
    assert deadline is not None
    state = attrs.evolve(state, clock=deadline)
    assert kl.StopGracefully(NODE, POD, 0) not in list(kl.enabled(model, state))
    state = step(model, state, kl.SigKillPod(NODE, POD))
    assert not runtime(state).any_running
    assert [c.exit_code for c in runtime(state).init_containers] == [137, 137]
    assert runtime(state).containers[0].exit_code == 0


def test_the_scenario_s_rollout_stops_the_old_pod_app_first_its_proxy_still_ready_meanwhile() -> None:
    """The fair run of `sidecar-termination`: the old pod's three graceful stops, and between the
    app's exit and the proxy's a state upstream has — the proxy running, Ready — which the model
    never reached when a pod's containers all stopped at once."""
    model = build_model(load_scenario(TERMINATION))
    state = initial_state(model)
    running = []
    for act in fair_run(model, state).trace:
        state = cluster_step(model, state, act)
        if isinstance(act, kl.StopGracefully):
            r = kl.kubelet_state(state, act.node).pods[act.pod]
            running.append(tuple((c.name, c.ready) for c in (*r.init_containers, *r.containers) if c.running))
    assert running == [(("logs", True), ("proxy", True)), (("logs", True),), ()]


def test_a_sidecar_does_not_wait_for_a_regular_init_container_when_the_pod_stops() -> None:
    """newTerminationOrdering: a sidecar's prerequisites are the regular containers and the sidecar
    declared after it, not a regular init container; a pod deleted while initializing stops its
    sidecar and its running init container in one turn (audit15: the sidecar waited a turn)."""
    model = make_model()
    state = step(model, bound_state(model, sidecar_pod(sidecar("proxy"), init("migrate"))), kl.StartPod(NODE, POD))
    while not runtime(state).init_containers[1].running:
        state = step(model, state, next(a for a in kl.enabled(model, state) if isinstance(a, kl.StartContainer)))
    assert [c.running for c in runtime(state).init_containers] == [True, True]
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert not runtime(state).any_running
