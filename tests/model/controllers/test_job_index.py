"""The backoff limit per index of an Indexed Job through the API server and single syncs of the Job
controller: defaults and validation (`pkg/apis/batch/v1/defaults.go`,
`pkg/apis/batch/validation/validation.go`), the failure-count annotations, the per-index back-off,
the delayed finalizer removal, `status.failedIndexes` and the FailedIndexes /
MaxFailedIndexesExceeded failures (`pkg/controller/job/indexed_job_utils.go`, `backoff_utils.go`,
`job_controller.go`)."""

from __future__ import annotations

from typing import Any

import attrs
from api_harness import ApiHarness, bare_scenario, stored_as

from kubeprop.model.api.batch import (
    COMPLETION_INDEX_ANNOTATION,
    INDEX_FAILURE_COUNT_ANNOTATION,
    JOB_TRACKING_FINALIZER,
    Job,
    condition_true,
)
from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.pod import ContainerStatus
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.job import JobController, JobMemory
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN

API = ApiHarness(bare_scenario())
KEY = "default/shard"


def manifest(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "shard", "namespace": "default"},
            "spec": {"completionMode": "Indexed", "completions": 2, "parallelism": 2,
                     "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "s:1"}]}},
                     **spec}}


def create(body: dict[str, Any]) -> Store:
    return API.created(body)


def stored(store: Store) -> Job:
    return stored_as(store, ObjectKey("jobs.batch", "default", "shard"), Job)


def sync(store: Store, memory: JobMemory, now: int) -> tuple[Store, JobMemory, tuple[Request, ...]]:
    return API.sync(JobController(), store, KEY, memory, now)


def pod_of(store: Store, index: int, phase: str = "Pending") -> Pod:
    return next(p for p in store.list("pods", "default") if isinstance(p, Pod)
                and p.metadata.annotations.get(COMPLETION_INDEX_ANNOTATION) == str(index) and p.status.phase == phase)


def end(store: Store, pod: Pod, phase: str, now: int, code: int = 1) -> Store:
    container = ContainerStatus(name="main", state=FrozenMap({"terminated": FrozenMap(
        {"exitCode": 0 if phase == "Succeeded" else code, "finishedAt": now})}))
    done = attrs.evolve(pod, status=attrs.evolve(pod.status, phase=phase, container_statuses=(container,)))
    return API.ok(store, Request(verb="update-status", user=ADMIN, obj=done), now)


def test_defaults_and_validation_follow_upstream() -> None:
    job = stored(create(manifest(backoffLimitPerIndex=1)))
    assert job.spec.backoff_limit == 2**31 - 1  # math.MaxInt32 with a backoff limit per index
    cases: dict[str, dict[str, Any]] = {
        "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode":
            manifest(backoffLimitPerIndex=1, completionMode="NonIndexed"),
        "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified": manifest(maxFailedIndexes=1),
        "spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions":
            manifest(backoffLimitPerIndex=1, maxFailedIndexes=3),
        "spec.backoffLimitPerIndex: Invalid value: -1": manifest(backoffLimitPerIndex=-1),
    }
    for expected, body in cases.items():
        _, response = API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))
        assert response.code == 422 and expected in response.message, (expected, response.message)
    fail_index = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]}
    create(manifest(backoffLimitPerIndex=1, podFailurePolicy=fail_index))  # FailIndex admitted with it
    store = create(manifest(backoffLimitPerIndex=1))
    _, response = API.send(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, backoff_limit_per_index=2))))
    assert response.code == 422 and "spec.backoffLimitPerIndex: Invalid value" in response.message


def test_an_index_retries_with_its_own_back_off_then_fails_and_the_job_with_it() -> None:
    """backoffLimitPerIndex 1: index 0 fails, keeps its pod's finalizer until the replacement
    (failure count 1) is created after 10 s; the replacement fails too: index 0 has failed
    (failedIndexes "0"), index 1 succeeds, and the Job fails with FailedIndexes."""
    store, memory, _ = sync(create(manifest(backoffLimitPerIndex=1)), JobMemory(), 1)
    first = pod_of(store, 0)
    assert first.metadata.annotations[INDEX_FAILURE_COUNT_ANNOTATION] == "0"
    store = end(store, first, "Failed", 2)
    store, memory, requests = sync(store, memory, 3)
    assert not [r for r in requests if r.resource == "pods"]  # no replacement yet, the failed pod kept
    assert dict(memory.held) == {KEY: 12}  # the index's own back-off: 10 s from its finish
    kept = store.get(ObjectKey("pods", "default", first.metadata.name))
    assert kept is not None and JOB_TRACKING_FINALIZER in kept.metadata.finalizers
    assert stored(store).status.failed == 0 and stored(store).status.failed_indexes == ""
    store, memory, requests = sync(store, memory, 12)
    replacement = pod_of(store, 0)
    assert replacement.metadata.annotations[INDEX_FAILURE_COUNT_ANNOTATION] == "1"
    store, memory, _ = sync(store, memory, 13)  # the index is active again: the failed pod is let go, counted
    assert stored(store).status.failed == 1
    store = end(store, replacement, "Failed", 14)
    store = end(store, pod_of(store, 1), "Succeeded", 14)
    store, memory, _ = sync(store, memory, 15)
    job = stored(store)
    assert job.status.failed_indexes == "0" and job.status.completed_indexes == "1"
    assert [(c.type, c.reason) for c in job.status.conditions] == [("FailureTarget", "FailedIndexes"),
                                                                   ("Failed", "FailedIndexes")]
    assert job.status.failed == 2


def test_max_failed_indexes_and_a_fail_index_rule() -> None:
    """A FailIndex rule fails the index at its first failure; one failed index above
    maxFailedIndexes 0 fails the Job (MaxFailedIndexesExceeded) and deletes the other pods."""
    rules = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]}
    store = create(manifest(backoffLimitPerIndex=3, maxFailedIndexes=0, podFailurePolicy=rules))
    store, memory, _ = sync(store, JobMemory(), 1)
    store = end(store, pod_of(store, 0), "Failed", 2, code=42)
    store, memory, requests = sync(store, memory, 3)
    assert [r.verb for r in requests if r.resource == "pods"][:1] == ["delete"]
    job = stored(store)
    assert job.status.failed_indexes == "0"
    assert [(c.type, c.reason) for c in job.status.conditions] == [("FailureTarget", "MaxFailedIndexesExceeded")]
    assert not condition_true(job, "Failed")  # index 1's pod still terminating


def test_only_replacing_failed_pods_leaves_a_terminating_pods_index_alone() -> None:
    """firstPendingIndexes: with podReplacementPolicy Failed the index of a pod still terminating
    is not pending — the next free index is created, not a second pod of that one."""
    store = create(manifest(completions=3, podReplacementPolicy="Failed"))
    store, memory, _ = sync(store, JobMemory(), 1)
    leaving = pod_of(store, 1)
    store = API.ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        leaving, status=attrs.evolve(leaving.status, phase="Running"))))
    store = API.ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                  name=leaving.metadata.name, grace_period_seconds=30))
    store = end(store, pod_of(store, 0), "Succeeded", 2)
    store, memory, requests = sync(store, memory, 3)
    created = [r.obj for r in requests if r.verb == "create"]
    assert [p.metadata.annotations[COMPLETION_INDEX_ANNOTATION] for p in created if p is not None] == ["2"]
