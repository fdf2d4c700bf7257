"""job_util's pod finish time (getFinishedTime, `pkg/controller/job/backoff_utils.go`) and the
order active pods are removed in (controller.ActivePods, `pkg/controller/controller_utils.go`),
against audit22a's findings: the sidecars' finish and restarts count."""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.batch import Job
from kubeprop.model.api.objects import Pod, decode_object
from kubeprop.model.controllers.job_util import (
    active_pods_for_removal,
    finish_time,
    job_pod,
    new_backoff_record,
    remaining_backoff,
)

SIDECAR_SPEC = {"restartPolicy": "Never",
                "initContainers": [{"name": "proxy", "image": "p:1", "restartPolicy": "Always"},
                                   {"name": "setup", "image": "s:1"}],
                "containers": [{"name": "main", "image": "m:1"}]}


def _terminated(finished: int | None) -> dict[str, Any]:
    inner: dict[str, Any] = {"exitCode": 1}
    if finished is not None:
        inner["finishedAt"] = finished
    return {"terminated": inner}


def _status(name: str, state: dict[str, Any], restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "image": "x:1", "imageID": "", "ready": False, "restartCount": restarts, "state": state}


def _failed_pod(main: dict[str, Any], proxy: dict[str, Any], setup: dict[str, Any] | None = None) -> Pod:
    """A failed pod with a sidecar `proxy`, an ordinary init container `setup` (finished at 1 by
    default) and `main`; Ready=False since 7, deleted at 90 with a 30 s grace, created at 0."""
    pod = decode_object({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "creationTimestamp": 0, "deletionTimestamp": 90,
                     "deletionGracePeriodSeconds": 30},
        "spec": SIDECAR_SPEC,
        "status": {"phase": "Failed",
                   "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": 7}],
                   "initContainerStatuses": [_status("proxy", proxy),
                                             _status("setup", setup or _terminated(1))],
                   "containerStatuses": [_status("main", main)]}})
    assert isinstance(pod, Pod)
    return pod


def test_the_latest_finish_of_the_containers_and_sidecars_dates_the_pod() -> None:
    assert finish_time(_failed_pod(_terminated(10), _terminated(40))) == 40  # upstream: max(10, sidecar 40)
    assert finish_time(_failed_pod(_terminated(50), _terminated(40))) == 50
    # an ordinary init container, even one finishing last, does not count
    assert finish_time(_failed_pod(_terminated(10), _terminated(40), _terminated(70))) == 40


def test_a_sidecar_not_terminated_gives_up_the_containers_rule() -> None:
    assert finish_time(_failed_pod(_terminated(10), {"running": {"startedAt": 2}})) == 7  # Ready=False
    assert finish_time(_failed_pod(_terminated(10), _terminated(None))) == 7  # no finishedAt: the same


def test_the_sidecars_alone_date_a_pod_whose_container_did_not_terminate() -> None:
    """latestFinishTime starts the sidecars' pass from nil when a regular container had not
    terminated, so the sidecars' finish alone then dates the pod (upstream's code as it is)."""
    assert finish_time(_failed_pod({"running": {"startedAt": 2}}, _terminated(40))) == 40


def test_the_fallbacks_in_upstream_order() -> None:
    pod = _failed_pod({"running": {"startedAt": 2}}, {"running": {"startedAt": 2}})
    assert finish_time(pod) == 7  # Ready=False
    no_ready = attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=()))
    assert finish_time(no_ready) == 60  # deletionTimestamp - grace
    alive = attrs.evolve(no_ready, metadata=attrs.evolve(no_ready.metadata, deletion_timestamp=None))
    assert finish_time(alive) == 0  # creation


def test_the_back_off_runs_from_the_sidecars_finish() -> None:
    record = new_backoff_record(None, [], [_failed_pod(_terminated(10), _terminated(40))])
    assert remaining_backoff(record, 45) == 5  # 10 s from 40, not from 10


JOB = decode_object({
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "w", "namespace": "default", "uid": "job-uid"},
    "spec": {"completions": 4, "parallelism": 2, "template": {"spec": {
        "restartPolicy": "Never",
        "initContainers": [{"name": "proxy", "image": "p:1", "restartPolicy": "Always"}],
        "containers": [{"name": "w", "image": "w:1"}]}}}})
assert isinstance(JOB, Job)


def _running(name: str, restarts: int, sidecar_restarts: int) -> Pod:
    pod = job_pod(JOB, None)
    status = decode_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "status": {
        "phase": "Running",
        "initContainerStatuses": [_status("proxy", {"running": {}}, sidecar_restarts)],
        "containerStatuses": [_status("w", {"running": {}}, restarts)]}}).status
    return attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name=name, uid=name, creation_timestamp=5),
                        spec=attrs.evolve(pod.spec, node_name="n1"), status=status)


def test_a_tie_on_container_restarts_is_broken_by_the_sidecars_restarts() -> None:
    """compareMaxContainerRestarts (kubernetes PR #124952): the pod whose sidecar restarted more is
    removed first when the regular containers' restarts are equal."""
    a, b = _running("a", 0, 0), _running("b", 0, 3)
    assert [p.metadata.name for p in active_pods_for_removal(JOB, [a, b], 1)] == ["b"]


def test_the_regular_containers_restarts_decide_before_the_sidecars() -> None:
    a, b = _running("a", 1, 0), _running("b", 0, 9)
    assert [p.metadata.name for p in active_pods_for_removal(JOB, [a, b], 1)] == ["a"]
