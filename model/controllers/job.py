"""The Job controller (`pkg/controller/job/job_controller.go`, v1.33).

`syncJob` (`job_sync.decide_sync` takes the decision): read the Job from the cache (gone → forget
its expectations, finalizer expectations and back-off record); a Job whose `managedBy` names another
controller → nothing (managedByExternalController, JobManagedBy on by default; a manifest cannot
set such a value, an API request can); a finished Job (Complete or Failed)
→ forget its back-off record, nothing else; check the expectations before listing the pods; claim
the namespace's pods (getPodsForJob: `podutil.claim`, an orphan adopted with the tracking finalizer
added, `job_util.adopt_patch`; a pod whose labels stopped matching released with the finalizer
removed in the same patch, `job_util.release_patch`); the pods whose finalizer removal is expected
(finalizerExpectations) are neither counted nor patched again.

Expectations: upstream's Job controller counts (`controller.NewControllerExpectations`, not the
ReplicaSet's UID-tracking kind): ExpectCreations(n) / ExpectDeletions(n), lowered by one for each
ADD of a pod it controls (addPod) and for each deletion event of one (deletePod, reached from
updatePod when the pod gets a deletionTimestamp and again at its final delete, so a graceful delete
lowers it twice), whichever pods they are. The model keeps `replicaset_expectations`' records: the
pods it created by UID and revision, those it deleted by name and UID, each observed once the cache
shows it. Upstream's count can be met sooner (a pod of the Job deleted by someone else, a graceful
delete counted twice); the model waits for the pods it acted on, so it never syncs before upstream
could: it can only be slower to act.

Memory: the expectations; the expected finalizer removals by Job key (expectFinalizersRemoved, with
the pod's name and UID), lowered from the cache as the pod event handlers lower them upstream (the
pod seen without the finalizer, or gone: finalizerRemovalObserved) and at once when a patch fails —
each planned removal is expected only once its patch is answered (`unanswered` until then: upstream
expects them right before sending the patches, which a failed status write before them never
reaches, so a failure drops the planned ones);
the pod-failure back-off record by Job key (`podBackoffStore`), replaced only when the sync's first
status write succeeds (updateBackoffRecord follows it upstream); and the Jobs the back-off holds,
with the time it ends (`enqueueSyncJobWithDelay`; `memory_wakeups`, the key requeued meanwhile).
The active deadline's requeue (`AddAfter(activeDeadlineSeconds - elapsed)`) is `wakeup_at`.

Orphan pods: a pod with the tracking finalizer and no controller, or whose Job is gone or finished,
queues the key `orphan-pod:NAMESPACE/NAME` (upstream's separate orphanQueue, served here by the same
worker); its sync (syncOrphanPod) removes the finalizer unless the pod is (again) controlled by a
running batch/v1 Job or by something else.

Event handlers (`keys_for_change`): Jobs add/update/delete enqueue themselves (an update of a
finished Job, and a delete, also queue the Job's pods that keep the finalizer: cleanupPodFinalizers);
pods as addPod/updatePod/deletePod (a pod being deleted is handed to deletePod; orphans enqueue the
Jobs whose selector matches them, GetPodJobs). Upstream batches a pod event's sync by a second
(syncJobBatchPeriod); the model enqueues at once.

The pod failure policy and the success policy are `kubeprop.model.controllers.job_policy`, the
backoff limit per index `kubeprop.model.controllers.job_index`. Not modelled: events and metrics;
the canAdopt re-read; the status update's 409 retry (the key is requeued).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.batch import JOB_CONTROLLER_NAME, JOB_TRACKING_FINALIZER, Job, is_finished
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers import replicaset_expectations as exp
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.handlers import labels_changed, same_version
from kubeprop.model.controllers.job_sync import decide_sync
from kubeprop.model.controllers.job_util import (
    BackoffRecord,
    adopt_patch,
    has_tracking_finalizer,
    is_release_patch,
    release_patch,
    remove_finalizer_patch,
)
from kubeprop.model.controllers.podutil import (
    CONTROLLER_MANAGER_USER,
    claim,
    controller_of,
    pods_in,
    resolve_controller_ref,
    split_key,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

__all__ = ["ORPHAN_PREFIX", "JobController", "JobMemory", "uses_jobs"]

_JOBS = "jobs.batch"
ORPHAN_PREFIX = "orphan-pod:"
"""The prefix of an orphan pod's key (upstream's orphanQueue)."""


@attrs.frozen(cache_hash=True)
class JobMemory:
    """The controller's memory (module docstring)."""

    expectations: exp.Memory = EMPTY
    finalizers: FrozenMap[str, tuple[tuple[str, str], ...]] = EMPTY
    unanswered: FrozenMap[str, tuple[tuple[str, str], ...]] = EMPTY
    backoff: FrozenMap[str, BackoffRecord] = EMPTY
    pending: FrozenMap[str, BackoffRecord] = EMPTY
    held: FrozenMap[str, int] = EMPTY


def uses_jobs(objects: Iterable[Any]) -> bool:
    """Whether any of the scenario's objects is a Job: the controller runs only then
    (`kubeprop.model.cluster.compose`)."""
    return any(isinstance(o, Job) for o in objects)


def _key(obj: ApiObject) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def _drop(memory: JobMemory, key: str) -> JobMemory:
    """Forget everything about `key`."""
    return evolve(memory, expectations=memory.expectations.delete(key) if key in memory.expectations
                  else memory.expectations,
                  finalizers=memory.finalizers.delete(key) if key in memory.finalizers else memory.finalizers,
                  backoff=memory.backoff.delete(key) if key in memory.backoff else memory.backoff,
                  pending=memory.pending.delete(key) if key in memory.pending else memory.pending)


def tolerate(request: Request, response: Response) -> Literal["ignore"] | None:
    """Errors a sync does not return: a create refused because the namespace is terminating, a
    delete or patch of a pod already gone (404), and a release answered 422 Invalid (ReleasePod
    ignores both: "the pod has no owner reference" or "the uid of the pod doesn't match")."""
    if request.verb == "create" and namespace_terminating(response.code, response.message):
        return "ignore"
    if request.resource == "pods" and request.verb in ("delete", "patch") and response.code == 404:
        return "ignore"
    if request.resource == "pods" and request.verb == "patch" and response.code == 422 and (
            is_release_patch(request.patch)):
        return "ignore"
    return None


def _matching_jobs(view: ObjectView, pod: ApiObject) -> tuple[str, ...]:
    """GetPodJobs: the Jobs of the pod's namespace whose non-empty selector matches its labels."""
    return tuple(_key(j) for j in view.list(_JOBS, pod.metadata.namespace) if isinstance(j, Job)
                 and j.spec.selector is not None and not j.spec.selector.is_empty()
                 and selector_matches(j.spec.selector, pod.metadata.labels))


def _resolved(view: ObjectView, pod: ApiObject) -> Job | None:
    job = resolve_controller_ref(view, pod, _JOBS, "Job")
    return job if isinstance(job, Job) else None


def _orphan(pod: ApiObject) -> tuple[str, ...]:
    return (ORPHAN_PREFIX + _key(pod),) if isinstance(pod, Pod) and has_tracking_finalizer(pod) else ()


def _delete_pod(view: ObjectView, pod: ApiObject) -> tuple[str, ...]:
    """deletePod: an orphan (or a pod of a Job gone or finished) with the finalizer → its orphan
    key; else the Job."""
    if controller_of(pod) is None:
        return _orphan(pod)
    job = _resolved(view, pod)
    if job is None or is_finished(job):
        return _orphan(pod)
    return (_key(job),)


def _pod_keys(change: Change, view: ObjectView) -> tuple[str, ...]:
    """addPod, updatePod, deletePod."""
    pod, old = change.object, change.old
    if change.type == "delete":
        return _delete_pod(view, pod)
    if change.type == "update" and old is not None:
        if same_version(old, pod):
            return ()
        if pod.metadata.deletion_timestamp is not None:
            return _delete_pod(view, pod)
        keys: tuple[str, ...] = ()
        cur_ref, old_ref = controller_of(pod), controller_of(old)
        if cur_ref != old_ref and old_ref is not None and (was := _resolved(view, old)) is not None:
            keys = (_key(was),)
        if cur_ref is not None:
            job = _resolved(view, pod)
            return keys + ((_key(job),) if job is not None else ())
        if labels_changed(old, pod) or cur_ref != old_ref:
            keys += _matching_jobs(view, pod)
        return keys + _orphan(pod)
    if pod.metadata.deletion_timestamp is not None:
        return _delete_pod(view, pod)
    if controller_of(pod) is not None:
        job = _resolved(view, pod)
        return (_key(job),) if job is not None else ()
    return _orphan(pod) + _matching_jobs(view, pod)


def _cleanup_keys(view: ObjectView, job: Job) -> tuple[str, ...]:
    """cleanupPodFinalizers: the Job's pods (matching its selector, controlled by it) with the finalizer."""
    return tuple(ORPHAN_PREFIX + _key(p) for p in pods_in(view, job.metadata.namespace)
                 if selector_matches(job.spec.selector, p.metadata.labels)
                 and (ref := controller_of(p)) is not None and ref.uid == job.metadata.uid
                 and has_tracking_finalizer(p))


@attrs.frozen
class JobController(ChangeHandlers):
    """The Job controller as a `Controller` (see the module docstring).

    - `expectations_timeout_seconds`: ExpectationsTimeout (parameter `expectationsTimeoutSeconds`);
    - `tracking_finalizers`: False is the controller before JobTrackingWithFinalizers
      (kubernetes ≤ 1.25 without the gate; the `job-legacy-tracking` variant): no finalizer on the
      pods, no `uncountedTerminatedPods`, the counters recomputed from the pods in the cache, so a
      finished pod deleted before a sync is never counted.
    """

    expectations_timeout_seconds: int = 300
    tracking_finalizers: bool = True
    name: str = "job"
    watches: tuple[str, ...] = (_JOBS, "pods")
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> JobMemory:
        """No expectations, no back-off."""
        return JobMemory()

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """addJob/updateJob/deleteJob, addPod/updatePod/deletePod."""
        obj = change.object
        if isinstance(obj, Job):
            key = _key(obj)
            if change.type == "delete" or (change.type == "update" and is_finished(obj)):
                return (key, *_cleanup_keys(view, obj))
            return (key,)
        return tuple(sorted(set(_pod_keys(change, view)))) if isinstance(obj, Pod) else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncJob, or syncOrphanPod for an orphan pod's key."""
        if key.startswith(ORPHAN_PREFIX):
            return Reconciliation(self._sync_orphan(view, key[len(ORPHAN_PREFIX):]), memory, tolerate=tolerate)
        namespace, name = split_key(key)
        job = view.get(ObjectKey(_JOBS, namespace, name))
        memory = evolve(memory, held=memory.held.delete(key)) if key in memory.held else memory
        if not isinstance(job, Job):
            return Reconciliation((), _drop(memory, key))
        if job.spec.managed_by not in (None, JOB_CONTROLLER_NAME):
            return Reconciliation((), memory)  # managedByExternalController: skipped
        if is_finished(job):
            return Reconciliation((), evolve(memory, backoff=memory.backoff.delete(key))
                                  if key in memory.backoff else memory)
        if job.spec.completion_mode not in ("NonIndexed", "Indexed"):
            return Reconciliation((), memory)  # "UnknownCompletionMode": skipped
        expectations = exp.observe_cache(view, key, memory.expectations)
        satisfied = exp.satisfied(expectations, key, now, self.expectations_timeout_seconds)
        pods = pods_in(view, namespace)
        expected = tuple(m for m in memory.finalizers.get(key, ()) if _still_has_finalizer(pods, m[1]))
        claimed = claim(job, job.spec.selector, pods, "pods", self.identity)
        owned, requests = self._adopted(job, pods, claimed.owned, claimed.requests)
        decision = decide_sync(job, owned, self.identity, now, satisfied, frozenset(u for _, u in expected),
                               memory.backoff.get(key), self.tracking_finalizers)
        requests += decision.requests
        if decision.creates or decision.deletes:
            expectations = expectations.set(key, exp.Expectation(now, unanswered_creates=decision.creates,
                                                                 unanswered_deletes=decision.deletes))
        memory = evolve(memory, expectations=expectations,
                        unanswered=memory.unanswered.set(key, decision.finalizers) if decision.finalizers
                        else memory.unanswered.delete(key) if key in memory.unanswered else memory.unanswered,
                        finalizers=memory.finalizers.set(key, expected) if expected
                        else memory.finalizers.delete(key) if key in memory.finalizers else memory.finalizers,
                        pending=memory.pending.set(key, decision.backoff) if decision.backoff is not None
                        else memory.pending.delete(key) if key in memory.pending else memory.pending,
                        held=memory.held.set(key, decision.wake) if decision.wake is not None else memory.held)
        return Reconciliation(tuple(requests), memory, requeue=key in memory.held, tolerate=tolerate)

    def _adopted(self, job: Job, pods: tuple[Pod, ...], owned: tuple[ApiObject, ...],
                 requests: tuple[Request, ...]) -> tuple[list[Pod], list[Request]]:
        """The claim with the Job's adoption and release: an adopted orphan gets the tracking
        finalizer, in the patch and in the pods the sync counts; a released pod (its labels stopped
        matching) loses the Job's owner reference and the finalizer in one strategic patch
        (`job_util.release_patch`: NewPodControllerRefManager(..., JobTrackingFinalizer))."""
        orphans = {p.metadata.name: p for p in pods if controller_of(p) is None}
        by_name = {p.metadata.name: p for p in pods}
        out: list[Pod] = []
        for obj in owned:
            if not isinstance(obj, Pod):
                continue
            if obj.metadata.name in orphans and self.tracking_finalizers and not has_tracking_finalizer(obj):
                obj = evolve(obj, metadata=evolve(obj.metadata,
                                                  finalizers=(*obj.metadata.finalizers, JOB_TRACKING_FINALIZER)))
            out.append(obj)
        sent = []
        for request in requests:
            pod = orphans.get(request.name)
            if pod is not None and self.tracking_finalizers:
                request = evolve(request, patch=adopt_patch(job, pod), patch_type="strategic")
            elif pod is None and (released := by_name.get(request.name)) is not None:
                request = evolve(request, patch=release_patch(job, released, self.tracking_finalizers),
                                 patch_type="strategic")
            sent.append(request)
        return out, sent

    def _sync_orphan(self, view: ObjectView, pod_key: str) -> tuple[Request, ...]:
        """syncOrphanPod (a pod of a Job another controller manages is skipped)."""
        namespace, name = split_key(pod_key)
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or not has_tracking_finalizer(pod):
            return ()
        ref = controller_of(pod)
        if ref is not None:
            if ref.kind != "Job" or ref.api_version != "batch/v1":
                return ()
            job = _resolved(view, pod)
            if job is not None and job.spec.managed_by not in (None, JOB_CONTROLLER_NAME):
                return ()  # a pod of a Job another controller manages keeps its finalizer
            if job is not None and not is_finished(job):
                return ()
        return (Request(verb="patch", user=self.identity, resource="pods", namespace=namespace, name=name,
                        patch=remove_finalizer_patch(), patch_type="strategic"),)

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """After a response: the expectations (a create refused because the namespace is terminating
        lowers nothing, upstream returns before CreationObserved); a failed finalizer patch observed
        at once; the first successful status write keeps the sync's back-off record."""
        if request.resource == _JOBS:
            key = f"{request.namespace}/{request.name}"
            if not response.ok:  # the sync ends: the planned finalizer removals are never sent
                return evolve(memory, unanswered=EMPTY)
            if request.verb == "update-status" and key in memory.pending:
                return evolve(memory, backoff=memory.backoff.set(key, memory.pending[key]),
                              pending=memory.pending.delete(key))
            return memory
        if request.verb == "create" and not response.ok and namespace_terminating(response.code, response.message):
            return memory
        removal = request.verb == "patch" and request.patch == remove_finalizer_patch()
        if removal and (response.ok or response.code == 404):
            memory = _removal_answered(memory, request.name, expect=response.ok)  # 404: observed at once
        elif not response.ok:  # a failed request ends the sync: the removals not yet answered are not expected
            memory = evolve(memory, unanswered=EMPTY)
        return evolve(memory, expectations=exp.observe_response(memory.expectations, request, response))

    def memory_wakeups(self, memory: JobMemory, queue: tuple[str, ...]) -> Iterable[tuple[str, int]]:
        """When the pod-failure back-off of a Job ends."""
        return tuple((key, at) for key, at in memory.held.sorted_items() if key in queue)

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """The active deadline of a started, running, not suspended Job."""
        namespace, name = split_key(key)
        job = view.get(ObjectKey(_JOBS, namespace, name))
        if not isinstance(job, Job) or is_finished(job) or job.spec.suspend or job.status.start_time is None \
                or job.spec.active_deadline_seconds is None:
            return None
        return job.status.start_time + job.spec.active_deadline_seconds


def _removal_answered(memory: JobMemory, name: str, expect: bool) -> JobMemory:
    """A finalizer patch answered: its planned removal is now expected (expectFinalizersRemoved), or,
    for a pod already gone, observed at once (finalizerRemovalObserved on its error)."""
    for key, marks in memory.unanswered.sorted_items():
        mark = next((m for m in marks if m[0] == name), None)
        if mark is not None:
            rest = tuple(m for m in marks if m != mark)
            unanswered = memory.unanswered.set(key, rest) if rest else memory.unanswered.delete(key)
            finalizers = memory.finalizers.set(key, (*memory.finalizers.get(key, ()), mark)) if expect \
                else memory.finalizers
            return evolve(memory, unanswered=unanswered, finalizers=finalizers)
    return memory


def _still_has_finalizer(pods: Iterable[Pod], uid: str) -> bool:
    """An expected finalizer removal not yet observed: the pod is still there with the finalizer."""
    return any(p.metadata.uid == uid and has_tracking_finalizer(p) for p in pods)
