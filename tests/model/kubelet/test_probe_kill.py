"""The kill of a container for a failed liveness or startup probe takes its grace period
(`kuberuntime_container.go` killContainer, setTerminationGracePeriod; `kubeprop.model.kubelet.kill`):
preStop hook, SIGTERM, SIGKILL at the deadline — not an instant SIGKILL."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.api.objects import Container, Pod
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE
from kubeprop.model.kubelet.local import store
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import NODE, POD, api_pod, bound_state, delete_web, run_ready, runtime, step, web_pod


def _pod(restart_policy: str = "", probe_grace: int | None = None, pre_stop: bool = False,
         sidecar: bool = False) -> Pod:
    pod = web_pod(restart_policy=restart_policy)
    app = pod.spec.containers[0]
    app = attrs.evolve(app, liveness_probe=attrs.evolve(app.liveness_probe,
                                                        termination_grace_period_seconds=probe_grace))
    if pre_stop:
        app = attrs.evolve(app, lifecycle=FrozenMap({"preStop": FrozenMap({"exec": FrozenMap({"command": ("x",)})})}))
    containers = (app, Container(name="side", image="s:1")) if sidecar else (app,)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, containers=containers))


def _killed(model: ClusterModel, pod: Pod) -> ClusterState:
    state = run_ready(model, bound_state(model, pod))
    return step(model, attrs.evolve(state, clock=20), kl.ProbeResult(NODE, POD, "app", "liveness", False))


def test_a_liveness_kill_sends_sigterm_and_the_container_runs_until_it_exits() -> None:
    model = make_model()
    state = _killed(model, _pod())
    c = runtime(state).containers[0]
    assert c.running and c.kill_deadline == 50  # spec.terminationGracePeriodSeconds, 30 by default
    enabled = list(kl.enabled(model, state))
    assert kl.ContainerExit(NODE, POD, "app", 0) in enabled and kl.SigKillPod(NODE, POD) not in enabled
    assert not any(isinstance(a, kl.ProbeResult) and a.probe == "liveness" for a in enabled)  # on hold
    assert kl.next_timer(model, state) == 50
    assert kl.SyncPodStatus(NODE, POD) not in enabled  # nothing to report: it still runs
    status = api_pod(state).status  # type: ignore[union-attr]
    assert status.phase == "Running" and "running" in status.container_statuses[0].state
    handled = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    assert (runtime(handled).containers[0].exit_code, runtime(handled).containers[0].exit_reason) == (0, "Completed")
    assert kl.RestartContainer(NODE, POD, "app") in list(kl.enabled(model, handled))  # Always: restarts
    ended = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))
    assert runtime(ended).containers[0].exit_code == 143


def test_sigkill_at_the_deadline_of_the_probe_s_own_grace_period() -> None:
    """KEP-2238: the probe's terminationGracePeriodSeconds wins over the pod's."""
    model = make_model()
    state = _killed(model, _pod(probe_grace=5))
    assert runtime(state).containers[0].kill_deadline == 25
    assert kl.SigKillPod(NODE, POD) not in list(kl.enabled(model, state))
    state = attrs.evolve(state, clock=25)
    enabled = list(kl.enabled(model, state))
    assert kl.SigKillPod(NODE, POD) in enabled and kl.ContainerExit(NODE, POD, "app", 0) not in enabled
    state = step(model, state, kl.SigKillPod(NODE, POD))
    c = runtime(state).containers[0]
    assert not c.running and c.exit_code == 137 and not runtime(state).terminating
    assert kl.RestartContainer(NODE, POD, "app") in list(kl.enabled(model, state))


def test_a_pre_stop_hook_may_run_out_the_grace_period() -> None:
    model = make_model()
    state = _killed(model, _pod(probe_grace=5, pre_stop=True))
    state = attrs.evolve(state, clock=25)
    assert kl.PreStopOverrun(NODE, POD) in list(kl.enabled(model, state))
    state = step(model, state, kl.PreStopOverrun(NODE, POD))
    c = runtime(state).containers[0]
    assert c.running and c.kill_deadline == 27 and c.hook_grace is None  # 2 s after the hook
    assert kl.PreStopOverrun(NODE, POD) not in list(kl.enabled(model, state))


def test_the_pod_worker_restarts_nothing_else_of_the_pod_during_the_kill() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model, _pod(sidecar=True)))
    crashed = crash_container(kl.kubelet_state(state, NODE), POD, "side", now=state.clock)
    assert crashed is not None
    state = store(state, NODE, crashed)
    assert kl.RestartContainer(NODE, POD, "side") in list(kl.enabled(model, state))
    state = step(model, attrs.evolve(state, clock=20), kl.ProbeResult(NODE, POD, "app", "liveness", False))
    assert kl.RestartContainer(NODE, POD, "side") not in list(kl.enabled(model, state))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", SIGTERM_EXIT_CODE))
    assert kl.RestartContainer(NODE, POD, "side") in list(kl.enabled(model, state))


def test_under_never_a_container_that_handles_sigterm_succeeds_and_under_on_failure_restarts() -> None:
    """computePodActions starts a probe-killed container again unless the policy is Never, whatever it
    exited with; under Never its exit 0 makes the pod Succeeded."""
    model = make_model()
    never = step(model, _killed(model, _pod(restart_policy="Never")), kl.ContainerExit(NODE, POD, "app", 0))
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, never))
    assert api_pod(step(model, never, kl.SyncPodStatus(NODE, POD))).status.phase == "Succeeded"  # type: ignore
    on_failure = step(model, _killed(model, _pod(restart_policy="OnFailure")),
                      kl.ContainerExit(NODE, POD, "app", 0))
    assert kl.RestartContainer(NODE, POD, "app") in list(kl.enabled(model, on_failure))


def test_a_pod_being_deleted_lends_its_deletion_grace_period_to_the_kill() -> None:
    """setTerminationGracePeriod: `metadata.deletionGracePeriodSeconds` comes first."""
    model = make_model()
    state = run_ready(model, bound_state(model, _pod(probe_grace=20)))
    state = delete_web(model, attrs.evolve(state, clock=20), grace=3)
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "liveness", False))
    assert runtime(state).containers[0].kill_deadline == 23
