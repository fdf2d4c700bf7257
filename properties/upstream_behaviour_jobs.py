"""Recognizers of upstream races of the Job controller: a sync from a Job cache that has not yet
seen the Job finish creates one more pod (kubernetes#130103); a pod whose finalizer deleteJobPods
removed is not deleted after all (below). `upstream_behaviour.KNOWN` lists the entries; this module
holds what they recognize and the upstream source each rests on.

The Job and pod informers are separate: the sync that counts a Job's last pod and writes Complete
also removes that pod's finalizer, and when the pod update reaches the controller's cache before the
Job update, the next sync reads the Job as it was (not finished, the last success not yet counted)
while the pod, without its finalizer, no longer counts as an uncounted success — so it creates
another pod. Once the cache sees the Job finished, the orphan-pod worker removes that pod's
finalizer (cleanupPodFinalizers), and the pod runs to its end counted nowhere. Upstream's fix
(kubernetes PR #130333, finishedJobExpectations: a Job the controller itself marked finished is not
synced again until its cache agrees) came after v1.33.

deleteJobPods (manageJob's deletes, for a suspended Job and a scale-down) sends each pod's
finalizer-removal patch, then its DELETE, and nothing makes the two one: when the controller manager
dies between them, or the DELETE fails, the pod runs on without the finalizer. If it finishes before
a sync deletes it, the controller neither counts it (getValidPodsWithFilter skips a pod without the
finalizer) nor deletes it (it is no longer active): it stays, finished and counted nowhere. Pods the
controller deletes itself are never counted (`kubeprop.properties.jobs`), so this is the same
choice reached without the delete.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.batch import Job, is_finished
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.job_util import has_tracking_finalizer
from kubeprop.model.controllers.podutil import is_pod_active
from kubeprop.model.state.actions import Action, CrashDuringReconcile
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.jobs import pods_counted_problem
from kubeprop.properties.registry import Violation

__all__ = [
    "RELEASED_UNDELETED_CITATIONS", "RELEASED_UNDELETED_SUMMARY", "STALE_FINISHED_JOB_CITATIONS",
    "STALE_FINISHED_JOB_SUMMARY", "released_not_deleted", "stale_finished_job_sync",
]

STALE_FINISHED_JOB_SUMMARY = (
    "The Job controller's Job and pod caches are separate: after the sync that counts the last pod and "
    "writes Complete, a sync whose Job cache has not yet seen that write (but whose pod cache has seen the "
    "pod's finalizer removed) reads the Job as unfinished and one success short, and creates another pod; "
    "once the cache sees the Job finished, that pod's tracking finalizer is removed (cleanupPodFinalizers) "
    "and it finishes counted nowhere.")
STALE_FINISHED_JOB_CITATIONS = (
    "https://github.com/kubernetes/kubernetes/issues/130103 (the Job controller creates two pods for "
    "completions 1 when the Job update event is delayed)",
    "pkg/controller/job/job_controller.go syncJob (the succeeded count from the cached Job's status and the "
    "pods with the finalizer), updateJob cleanupPodFinalizers, syncOrphanPod",
    "https://github.com/kubernetes/kubernetes/pull/130333 (finishedJobExpectations; after v1.33)",
)


def _syncs(act: Action, key: str) -> bool:
    return isinstance(act, Reconcile | CrashDuringReconcile) and act.controller == "job" and act.key == key


def stale_finished_job_sync(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                            violation: Violation) -> bool:
    """A pod the violation names was created by a sync of its Job whose cached Job was not finished
    while the stored Job was (the kubernetes#130103 race)."""
    key = violation.named("Job")
    if key is None:
        return False
    namespace, _, name = key.partition("/")
    job_key = ObjectKey("jobs.batch", namespace, name)
    pods = {ObjectKey("pods", *p.partition("/")[::2]) for p in violation.all_named("Pod")}
    for i, act in enumerate(trace):
        if not _syncs(act, key):
            continue
        before, after = states[i], states[i + 1]
        if not any(before.store.get(p) is None and after.store.get(p) is not None for p in pods):
            continue
        informer = before.informers.get(CONTROLLER_MANAGER)
        cached = informer.get(job_key) if informer is not None else None
        stored = before.store.get(job_key)
        if isinstance(cached, Job) and isinstance(stored, Job) and is_finished(stored) and not is_finished(cached):
            return True
    return False


RELEASED_UNDELETED_SUMMARY = (
    "The Job controller deletes a pod (a suspended Job's, or one above parallelism) by removing its tracking "
    "finalizer, then deleting it; when the controller manager dies between the two, or the DELETE fails, the "
    "pod runs on without the finalizer, and if it finishes before a sync deletes it, it is neither counted "
    "(a pod without the finalizer is skipped) nor deleted (it is no longer active).")
RELEASED_UNDELETED_CITATIONS = (
    "pkg/controller/job/job_controller.go deleteJobPods (removeTrackingFinalizerPatch, then DeletePod; "
    "failDelete), manageJob, getValidPodsWithFilter",
)


def _released_undeleted(before: ClusterState, after: ClusterState, pod: ObjectKey) -> bool:
    """The step took the pod's finalizer away while the controller manager's cache showed it
    active, and left it undeleted: deleteJobPods without its DELETE (a release by counting, or of a
    finishing Job's pods, comes after their DELETE in the same sync)."""
    old, new = before.store.get(pod), after.store.get(pod)
    informer = before.informers.get(CONTROLLER_MANAGER)
    cached = informer.get(pod) if informer is not None else None
    return (isinstance(old, Pod) and isinstance(new, Pod) and isinstance(cached, Pod) and is_pod_active(cached)
            and has_tracking_finalizer(old) and not has_tracking_finalizer(new)
            and new.metadata.uid == old.metadata.uid and new.metadata.deletion_timestamp is None)


def released_not_deleted(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                         violation: Violation) -> bool:
    """Some pods the violation names lost their finalizer to a sync of their Job that did not delete
    them (`_released_undeleted`), and without them the Job's counts are right."""
    key = violation.named("Job")
    if key is None:
        return False
    namespace, _, name = key.partition("/")
    pods = {ObjectKey("pods", *p.partition("/")[::2]) for p in violation.all_named("Pod")}
    released = {p for i, act in enumerate(trace) if _syncs(act, key)
                for p in pods if _released_undeleted(states[i], states[i + 1], p)}
    job = states[-1].store.get(ObjectKey("jobs.batch", namespace, name))
    if not released or not isinstance(job, Job):
        return False
    rest = [p for p in states[-1].store.list("pods", namespace) if isinstance(p, Pod)
            and ObjectKey("pods", namespace, p.metadata.name) not in released]
    return pods_counted_problem(job, rest)[0] is None
