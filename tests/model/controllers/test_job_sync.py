"""The Job kind through the API server and single syncs of its controller, on the bare scenario:
defaults, the generated selector and validation (`pkg/apis/batch/v1/defaults.go`,
`pkg/registry/batch/job/strategy.go`, `pkg/apis/batch/validation/validation.go`), then syncJob's
creates with the tracking finalizer, the uncounted pods, the finalizer removal and the interim and
final conditions, the pod-failure back-off, the active deadline, suspend and Indexed completion
(`pkg/controller/job`)."""

from __future__ import annotations

from typing import Any

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.batch import (
    COMPLETION_INDEX_ANNOTATION,
    COMPLETION_INDEX_LABEL,
    CONTROLLER_UID_LABEL,
    JOB_TRACKING_FINALIZER,
    Job,
    condition_true,
)
from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.base import Change
from kubeprop.model.controllers.job import ORPHAN_PREFIX, JobController, JobMemory
from kubeprop.model.controllers.job_util import BackoffRecord, remaining_backoff
from kubeprop.model.scenario.load import ADMIN

API = ApiHarness(bare_scenario())
KEY = "default/migrate"


def manifest(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "m", "image": "migrate:1"}]}}, **spec}}


def create(body: dict[str, Any]) -> tuple[Store, Any]:
    return API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))


def stored(store: Store) -> Job:
    obj = store.get(ObjectKey("jobs.batch", "default", "migrate"))
    assert isinstance(obj, Job)
    return obj


def job_pods(store: Store) -> list[Pod]:
    return [p for p in store.list("pods", "default") if isinstance(p, Pod)]


def sync(store: Store, memory: JobMemory, ctl: JobController | None = None, now: int = 1,
         key: str = KEY) -> tuple[Store, JobMemory, tuple[Request, ...]]:
    """One sync reading `store` as its cache; its requests sent in order, each answer observed."""
    return API.sync(ctl or JobController(), store, key, memory, now)


def finish(store: Store, pod: Pod, phase: str, now: int = 1) -> Store:
    """The kubelet's status write of a finished pod."""
    done = attrs.evolve(pod, status=attrs.evolve(pod.status, phase=phase))
    return API.ok(store, Request(verb="update-status", user=ADMIN, resource="pods", namespace="default",
                                 name=pod.metadata.name, obj=done), now)


def test_a_job_is_admitted_with_upstream_defaults_and_a_generated_selector() -> None:
    store, response = create(manifest())
    assert response.ok, response.message
    job = stored(store)
    spec = job.spec
    assert (spec.completions, spec.parallelism, spec.backoff_limit, spec.completion_mode, spec.suspend,
            spec.pod_replacement_policy, spec.manual_selector) == (1, 1, 6, "NonIndexed", False,
                                                                   "TerminatingOrFailed", False)
    labels = spec.template.metadata.labels
    assert labels["controller-uid"] == labels[CONTROLLER_UID_LABEL] == job.metadata.uid
    assert labels["job-name"] == labels["batch.kubernetes.io/job-name"] == "migrate"
    assert spec.selector is not None and dict(spec.selector.match_labels) == {CONTROLLER_UID_LABEL: job.metadata.uid}
    # only parallelism given: completions stay unset (a work queue)
    store, _ = create(manifest(parallelism=3))
    assert (stored(store).spec.completions, stored(store).spec.parallelism) == (None, 3)


def test_validation_refuses_what_upstream_refuses() -> None:
    cases: dict[str, dict[str, Any]] = {
        "spec.completions": manifest(completions=-1),
        "spec.completionMode": manifest(completionMode="Sometimes"),
        "spec.podReplacementPolicy": manifest(podReplacementPolicy="Never"),
        "spec.selector": manifest(manualSelector=True),
        "spec.template.metadata.labels": manifest(manualSelector=True, selector={"matchLabels": {"app": "x"}}),
    }
    for path, body in cases.items():
        _, response = create(body)
        assert response.code == 422 and path in response.message, (path, response.message)
    always = manifest()
    always["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    _, response = create(always)
    assert response.code == 422 and 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", ' \
                                    '"Never"' in response.message
    _, response = create(manifest(completionMode="Indexed", completions=None, parallelism=2))
    assert response.code == 422 and "spec.completions: Required value" in response.message


def test_template_and_completions_are_immutable_but_parallelism_is_not() -> None:
    store, _ = create(manifest(completions=3))
    job = stored(store)
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, parallelism=2))))
    assert stored(store).spec.parallelism == 2 and stored(store).metadata.generation == 2
    job = stored(store)
    for changed in (attrs.evolve(job.spec, completions=4),
                    attrs.evolve(job.spec, template=attrs.evolve(job.spec.template, spec=attrs.evolve(
                        job.spec.template.spec, restart_policy="OnFailure")))):
        _, response = API.send(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(job, spec=changed)))
        assert response.code == 422 and "field is immutable" in response.message


def test_a_sync_creates_pods_with_the_tracking_finalizer_and_counts_them_through_uncounted() -> None:
    store, _ = create(manifest(completions=2, parallelism=2))
    store, memory, requests = sync(store, JobMemory())
    pods = job_pods(store)
    assert [r.verb for r in requests] == ["create", "create", "update-status"]
    assert len(pods) == 2 and all(JOB_TRACKING_FINALIZER in p.metadata.finalizers for p in pods)
    assert (stored(store).status.active, stored(store).status.start_time) == (2, 1)
    # the cache has not seen the creates: the expectations hold a second sync's creates back
    _, _, again = sync(API.base.put(stored(store), "ADDED")[0], memory)
    assert not [r for r in again if r.verb == "create"]
    store = finish(store, pods[0], "Succeeded")
    store, memory, requests = sync(store, memory, now=5)
    # the UID is written to uncountedTerminatedPods, then the finalizer removed, then it is counted
    assert [(r.verb, r.resource) for r in requests] == [("update-status", "jobs.batch"), ("patch", "pods"),
                                                        ("update-status", "jobs.batch")]
    first = requests[0].obj
    assert isinstance(first, Job) and first.status.uncounted_terminated_pods is not None
    assert first.status.uncounted_terminated_pods.succeeded == (pods[0].metadata.uid,)
    status = stored(store).status
    assert status.uncounted_terminated_pods is not None
    assert (status.succeeded, status.active, status.uncounted_terminated_pods.succeeded) == (1, 1, ())
    counted = store.get(ObjectKey("pods", "default", pods[0].metadata.name))
    assert counted is not None and JOB_TRACKING_FINALIZER not in counted.metadata.finalizers
    store = finish(store, pods[1], "Succeeded")
    store, memory, _ = sync(store, memory, now=6)
    job = stored(store)
    # SuccessCriteriaMet first, Complete in the same sync once nothing is uncounted or terminating
    assert [c.type for c in job.status.conditions] == ["SuccessCriteriaMet", "Complete"]
    assert (job.status.succeeded, job.status.completion_time) == (2, 6)
    _, _, after = sync(store, memory, now=7)
    assert after == ()  # a finished Job is not synced again


def test_a_pod_deleted_before_it_is_counted_is_held_by_the_finalizer_and_counted() -> None:
    store, _ = create(manifest())
    store, memory, _ = sync(store, JobMemory())
    pod = job_pods(store)[0]
    store = finish(store, pod, "Succeeded")
    # podgc or a user deletes the finished pod before the controller's next sync: it stays, being deleted
    store = API.ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                  name=pod.metadata.name, grace_period_seconds=0))
    held = store.get(ObjectKey("pods", "default", pod.metadata.name))
    assert held is not None and held.metadata.deletion_timestamp is not None
    store, memory, _ = sync(store, memory, now=3)
    assert stored(store).status.succeeded == 1 and condition_true(stored(store), "Complete")
    assert store.get(ObjectKey("pods", "default", pod.metadata.name)) is None
    # the controller before JobTrackingWithFinalizers: no finalizer, so the pod is gone uncounted and re-run
    legacy = JobController(tracking_finalizers=False)
    store, _ = create(manifest())
    store, memory, _ = sync(store, JobMemory(), legacy)
    pod = job_pods(store)[0]
    assert pod.metadata.finalizers == ()
    store = finish(store, pod, "Succeeded")
    store = API.ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                  name=pod.metadata.name, grace_period_seconds=0))
    store, memory, requests = sync(store, memory, legacy, now=3)
    assert stored(store).status.succeeded == 0 and [r.verb for r in requests][:1] == ["create"]


def test_failures_back_off_and_reach_the_backoff_limit() -> None:
    assert [remaining_backoff(BackoffRecord(n, 0), 0) for n in (1, 2, 3, 6, 7, 9)] == [10, 20, 40, 320, 600, 600]
    assert remaining_backoff(BackoffRecord(1, 0), 4) == 6 and remaining_backoff(BackoffRecord(1, 0), 11) == 0
    store, _ = create(manifest(backoffLimit=1))
    store, memory, _ = sync(store, JobMemory())
    store = finish(store, job_pods(store)[0], "Failed")
    store, memory, requests = sync(store, memory, now=2)
    # counted failed, and no replacement until the 10 s back-off from its finish (getFinishedTime: no
    # container end nor Ready=False here, so its creation at 1) ends: the key is requeued meanwhile
    assert stored(store).status.failed == 1 and not [r for r in requests if r.verb == "create"]
    assert dict(memory.held) == {KEY: 11} and memory.backoff[KEY] == BackoffRecord(1, 1)
    assert list(JobController().memory_wakeups(memory, (KEY,))) == [(KEY, 11)]
    store, memory, requests = sync(store, memory, now=11)
    assert [r.verb for r in requests if r.resource == "pods"] == ["create"]
    replacement = next(p for p in job_pods(store) if p.status.phase == "Pending")
    store = finish(store, replacement, "Failed", now=13)
    store, memory, _ = sync(store, memory, now=13)
    job = stored(store)
    assert [(c.type, c.reason) for c in job.status.conditions] == [("FailureTarget", "BackoffLimitExceeded"),
                                                                   ("Failed", "BackoffLimitExceeded")]
    assert job.status.failed == 2 and job.status.completion_time is None


def test_the_active_deadline_wakes_the_job_and_fails_it_deleting_its_pods() -> None:
    store, _ = create(manifest(activeDeadlineSeconds=30))
    store, memory, _ = sync(store, JobMemory())
    ctl = JobController()
    assert ctl.wakeup_at(store, KEY, 2) == 31
    store, memory, requests = sync(store, memory, now=31)
    assert [r.verb for r in requests if r.resource == "pods"] == ["delete", "patch"]  # DELETE, then counted
    job = stored(store)
    # the pod deleted in this sync counts as terminating: Failed waits for the next sync
    assert [(c.type, c.reason) for c in job.status.conditions] == [("FailureTarget", "DeadlineExceeded")]
    assert (job.status.failed, job.status.terminating, job.status.active) == (1, 1, 0)
    assert job_pods(store) == []  # unscheduled, deleted at once once its finalizer is gone
    store, memory, _ = sync(store, memory, now=32)
    assert [c.type for c in stored(store).status.conditions] == ["FailureTarget", "Failed"]


def test_suspend_deletes_the_active_pods_and_resume_resets_the_start_time() -> None:
    store, _ = create(manifest())
    store, memory, _ = sync(store, JobMemory())
    job = stored(store)
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, suspend=True))))
    store, memory, requests = sync(store, memory, now=4)
    assert [r.verb for r in requests if r.resource == "pods"] == ["patch", "delete"]
    job = stored(store)
    assert [(c.type, c.status, c.reason) for c in job.status.conditions] == [("Suspended", "True", "JobSuspended")]
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, suspend=False))))
    store, memory, _ = sync(store, memory, now=9)
    job = stored(store)
    assert [(c.type, c.status) for c in job.status.conditions] == [("Suspended", "False")]
    assert job.status.start_time == 9


def test_an_indexed_job_runs_one_pod_per_index_and_counts_each_index_once() -> None:
    store, _ = create(manifest(completionMode="Indexed", completions=3, parallelism=2))
    store, memory, _ = sync(store, JobMemory())
    pods = sorted(job_pods(store), key=lambda p: p.metadata.annotations[COMPLETION_INDEX_ANNOTATION])
    assert [(p.metadata.annotations[COMPLETION_INDEX_ANNOTATION], p.metadata.labels[COMPLETION_INDEX_LABEL],
             p.spec.hostname, p.metadata.generate_name) for p in pods] == [
        ("0", "0", "migrate-0", "migrate-0-"), ("1", "1", "migrate-1", "migrate-1-")]
    store = finish(store, pods[1], "Succeeded")
    store, memory, requests = sync(store, memory, now=2)
    created = [r.obj for r in requests if r.verb == "create"]
    assert [p.metadata.annotations[COMPLETION_INDEX_ANNOTATION] for p in created] == ["2"]  # type: ignore[union-attr]
    assert (stored(store).status.completed_indexes, stored(store).status.succeeded) == ("1", 1)


def test_orphan_pods_with_the_finalizer_lose_it() -> None:
    store, _ = create(manifest())
    store, memory, _ = sync(store, JobMemory())
    pod = job_pods(store)[0]
    orphan = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, owner_references=()))
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=orphan))
    orphan = store.get(ObjectKey("pods", "default", pod.metadata.name))
    assert orphan is not None
    ctl = JobController()
    key = ORPHAN_PREFIX + f"default/{pod.metadata.name}"
    assert key in tuple(ctl.keys_for_change(Change("add", orphan), store))
    store, _, requests = sync(store, memory, key=key)
    assert [r.verb for r in requests] == ["patch"]
    assert store.get(ObjectKey("pods", "default", pod.metadata.name)).metadata.finalizers == ()  # type: ignore[union-attr]


def test_a_removal_never_sent_is_not_expected() -> None:
    """A sync whose status write fails (409: its cached Job is stale) sends no finalizer patch, so it
    expects none (upstream expects them right before the patches): the next sync counts the pod.
    Expecting them at decision time left the pod uncounted for good (found by kubeprop check with a
    stale Job cache)."""
    store, _ = create(manifest())
    store, memory, _ = sync(store, JobMemory())
    store = finish(store, job_pods(store)[0], "Succeeded")
    stale = store
    job = stored(store)
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(  # the Job moves on: a new RV
        job, metadata=attrs.evolve(job.metadata, labels={"team": "db"}))))
    ctl = JobController()
    decision = ctl.reconcile(stale, KEY, memory, 3)
    memory = decision.memory
    assert [r.verb for r in decision.requests] == ["update-status", "patch", "update-status"]
    store, response = API.send(store, decision.requests[0], 3)
    assert response.code == 409
    memory = ctl.observe(memory, decision.requests[0], response)
    assert not memory.finalizers and not memory.unanswered
    store, memory, _ = sync(store, memory, now=4)
    assert stored(store).status.succeeded == 1 and condition_true(stored(store), "Complete")


def test_a_released_pod_loses_the_owner_reference_and_the_finalizer_in_one_patch() -> None:
    """ReleasePod with NewPodControllerRefManager(..., JobTrackingFinalizer): a pod whose labels
    stop matching is released by one strategic patch deleting the Job's owner reference and the
    tracking finalizer (`pkg/controller/controller_ref_manager.go`); 404 and 422 are ignored."""
    store, _ = create(manifest())
    store, memory, _ = sync(store, JobMemory())
    pod = job_pods(store)[0]
    moved = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, labels=pod.metadata.labels.set(
        "batch.kubernetes.io/controller-uid", "someone-else")))
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=moved))
    decision = JobController().reconcile(store, KEY, memory, 2)
    (release,) = [r for r in decision.requests if r.verb == "patch"]
    assert release.patch_type == "strategic" and release.name == pod.metadata.name
    store, _, _ = sync(store, memory, now=2)
    released = store.get(ObjectKey("pods", "default", pod.metadata.name))
    assert released is not None
    assert (released.metadata.owner_references, released.metadata.finalizers) == ((), ())
    assert decision.tolerate is not None
    assert decision.tolerate(release, Response(422, "Invalid", "uid mismatch")) == "ignore"
    assert decision.tolerate(release, Response(404, "NotFound")) == "ignore"
    assert decision.tolerate(release, Response(500, "InternalError")) is None
