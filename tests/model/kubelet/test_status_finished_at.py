"""The kubelet's terminated container state carries `finishedAt` (`convertToAPIContainerStatuses`):
the model time the container exited, in `state` and in `lastState`, which the Job controller reads
to date a failed pod (`job_util.finish_time`, audit22a)."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.controllers.job_util import finish_time
from kubeprop.model.kubelet import component as kl

from .test_kubelet import NODE, POD, api_pod, bound_state, run_ready, step, web_pod
from .test_kubelet import _crashed as crashed


def test_a_failed_batch_pod_reports_when_its_container_finished() -> None:
    model = make_model()
    state = step(model, bound_state(model, web_pod(restart_policy="Never")), kl.StartPod(NODE, POD))
    state = step(model, attrs.evolve(state, clock=30), kl.ContainerExit(NODE, POD, "app", 1))
    state = step(model, attrs.evolve(state, clock=40), kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None and pod.status.phase == "Failed"
    assert dict(pod.status.container_statuses[0].state["terminated"]) == {
        "exitCode": 1, "reason": "Error", "finishedAt": 30}
    assert finish_time(pod) == 30  # not the Ready=False transition the status write made at 40


def test_the_last_termination_of_a_restarted_container_keeps_its_finish() -> None:
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = step(model, attrs.evolve(crashed(state, 12), clock=15), kl.RestartContainer(NODE, POD, "app"))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None
    status = pod.status.container_statuses[0]
    assert "running" in status.state and status.last_state["terminated"]["finishedAt"] == 12
