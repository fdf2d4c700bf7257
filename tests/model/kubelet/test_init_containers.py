"""Init containers (`pkg/kubelet/kuberuntime/kuberuntime_container.go` computeInitContainerActions,
`pkg/kubelet/status/generate.go`): the regular ones run one by one while the pod is Pending with
Initialized=False; the containers start after the last one exited 0; a failure under
restartPolicy Never makes the pod Failed, otherwise the init container restarts with back-off."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Container, Pod
from kubeprop.model.kubelet import component as kl
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import NODE, POD, api_pod, bound_state, delete_web, runtime, step, web_pod


def init_pod(*names: str, restart_policy: str = "", sidecar: str = "") -> Pod:
    pod = web_pod(restart_policy=restart_policy)
    inits = tuple(Container(name=n, image="busybox:1.36") for n in names)
    if sidecar:
        inits = (Container(name=sidecar, image="proxy:1", restart_policy="Always"), *inits)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, init_containers=inits))


def synced(model: ClusterModel, state: ClusterState) -> Pod:
    pod = api_pod(step(model, state, kl.SyncPodStatus(NODE, POD)))
    assert pod is not None
    return pod


def initialized(pod: Pod) -> tuple[str, str, str]:
    cond = find_condition(pod.status.conditions, "Initialized")
    assert cond is not None
    return cond.status, cond.reason, cond.message


def states(pod: Pod, init: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in pod.status.init_container_statuses if init else pod.status.container_statuses:
        kind, = c.state.keys()
        out[c.name] = kind + (f"/{c.state[kind]['reason']}" if "reason" in c.state[kind] else "")
    return out


def test_init_containers_run_one_by_one_then_the_containers_start() -> None:
    model = make_model()
    state = step(model, bound_state(model, init_pod("fetch", "migrate")), kl.StartPod(NODE, POD))
    assert [c.running for c in runtime(state).init_containers] == [True, False]
    assert not runtime(state).containers[0].running
    pod = synced(model, state)
    assert pod.status.phase == "Pending"
    assert initialized(pod) == ("False", "ContainersNotInitialized",
                                "containers with incomplete status: [fetch migrate]")
    assert states(pod, init=True) == {"fetch": "running", "migrate": "waiting/PodInitializing"}
    assert states(pod) == {"app": "waiting/PodInitializing"}
    state = step(model, state, kl.ContainerExit(NODE, POD, "fetch", 0))
    pod = synced(model, state)
    assert initialized(pod)[2] == "containers with incomplete status: [migrate]"
    assert states(pod, init=True) == {"fetch": "terminated/Completed", "migrate": "running"}
    assert pod.status.init_container_statuses[0].ready
    state = step(model, state, kl.ContainerExit(NODE, POD, "migrate", 0))
    pod = synced(model, state)
    assert (pod.status.phase, initialized(pod)) == ("Running", ("True", "", ""))
    assert states(pod) == {"app": "running"}
    assert not any(isinstance(a, kl.ContainerExit) for a in kl.enabled(model, state))  # restartPolicy Always


def test_an_init_failure_under_never_fails_the_pod_and_nothing_else_starts() -> None:
    model = make_model()
    state = step(model, bound_state(model, init_pod("fetch", restart_policy="Never")), kl.StartPod(NODE, POD))
    state = step(model, state, kl.ContainerExit(NODE, POD, "fetch", 1))
    pod = synced(model, state)
    assert pod.status.phase == "Failed" and states(pod) == {"app": "waiting/PodInitializing"}
    assert not any(isinstance(a, kl.RestartContainer | kl.ContainerExit) for a in kl.enabled(model, state))


def test_an_init_failure_under_on_failure_restarts_it_with_back_off() -> None:
    model = make_model()
    state = step(model, bound_state(model, init_pod("fetch", restart_policy="OnFailure")), kl.StartPod(NODE, POD))
    state = step(model, state, kl.ContainerExit(NODE, POD, "fetch", 1))
    assert synced(model, state).status.phase == "Pending"
    state = step(model, state, kl.RestartContainer(NODE, POD, "fetch"))  # the first restart is immediate
    state = step(model, state, kl.ContainerExit(NODE, POD, "fetch", 1))
    assert kl.RestartContainer(NODE, POD, "fetch") not in list(kl.enabled(model, state))
    assert kl.next_timer(model, state) == 10  # in back-off
    pod = synced(model, state)
    assert states(pod, init=True) == {"fetch": "waiting/CrashLoopBackOff"}
    assert pod.status.init_container_statuses[0].restart_count == 1


def test_a_deleted_pod_stops_its_running_init_container() -> None:
    model = make_model()
    state = step(model, bound_state(model, init_pod("fetch")), kl.StartPod(NODE, POD))
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert not runtime(state).any_running
    state = step(model, state, kl.FinishTermination(NODE, POD))
    assert api_pod(state) is None


def test_without_init_containers_nothing_changes() -> None:
    """No init container: the containers start at once, as before (sidecars:
    `tests/model/kubelet/test_sidecars.py`)."""
    model = make_model()
    state = step(model, bound_state(model, web_pod()), kl.StartPod(NODE, POD))
    got = runtime(state)
    assert got.init_containers == () and got.containers[0].running
    assert synced(model, state).status.init_container_statuses == ()
