"""The sidecars of a pod whose regular containers are done (restartPolicy Never/OnFailure):
`kuberuntime_manager.go` computePodActions sets KillPod, and SyncPod's killPodWithSyncResult stops them
with the pod's terminationGracePeriodSeconds, in `kuberuntime_termination_order.go`'s order — the last
declared first — SIGKILL at the deadline; the pod is Running until they stopped."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.api.objects import Pod
from kubeprop.model.kubelet import component as kl
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_init_containers import synced
from .test_kubelet import NODE, POD, bound_state, runtime, step
from .test_sidecars import sidecar, sidecar_pod


def _finished(model: ClusterModel, pod: Pod, code: int = 0) -> ClusterState:
    state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    return step(model, state, kl.ContainerExit(NODE, POD, "app", code))


def _graced(pod: Pod, seconds: int) -> Pod:
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, termination_grace_period_seconds=seconds))


def test_a_finished_pod_s_sidecars_stop_in_turn_the_last_declared_first() -> None:
    model = make_model()
    state = _finished(model, sidecar_pod(sidecar("log"), sidecar("proxy"), restart_policy="Never"))
    assert runtime(state).kill_deadline == 30  # the pod's grace period, from now
    assert synced(model, state).status.phase == "Running"
    running = []
    while runtime(state).any_running:
        assert kl.SigKillPod(NODE, POD) not in list(kl.enabled(model, state))
        state = step(model, state, kl.StopGracefully(NODE, POD, 0))
        running.append(tuple(c.name for c in runtime(state).init_containers if c.running))
    assert running == [("log",), ()]
    assert synced(model, state).status.phase == "Succeeded"
    assert not any(isinstance(a, (kl.RestartContainer, kl.KillPod)) for a in kl.enabled(model, state))


def test_the_sidecars_still_running_at_the_deadline_are_sigkilled() -> None:
    model = make_model()
    state = _finished(model, _graced(sidecar_pod(sidecar("log"), sidecar("proxy"), restart_policy="OnFailure"), 5))
    assert runtime(state).kill_deadline == 5
    assert kl.next_timer(model, state) == 5
    state = step(model, attrs.evolve(state, clock=5), kl.SigKillPod(NODE, POD))
    assert [c.exit_code for c in runtime(state).init_containers] == [137, 137]
    assert synced(model, state).status.phase == "Succeeded"  # the sidecars' exits do not count


def test_a_failed_container_of_a_never_pod_leaves_it_running_until_the_sidecars_stopped() -> None:
    model = make_model()
    state = _finished(model, sidecar_pod(sidecar(), restart_policy="Never"), code=1)
    assert runtime(state).sidecars[0].running and synced(model, state).status.phase == "Running"
    state = step(model, state, kl.StopGracefully(NODE, POD, 0))
    assert synced(model, state).status.phase == "Failed"
