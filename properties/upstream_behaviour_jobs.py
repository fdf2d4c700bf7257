"""Recognizer of an upstream race of the Job controller: a sync from a Job cache that has not yet
seen the Job finish creates one more pod (kubernetes#130103). `upstream_behaviour.KNOWN` lists the
entry; this module holds what it recognizes and the upstream source it rests on.

The Job and pod informers are separate: the sync that counts a Job's last pod and writes Complete
also removes that pod's finalizer, and when the pod update reaches the controller's cache before the
Job update, the next sync reads the Job as it was (not finished, the last success not yet counted)
while the pod, without its finalizer, no longer counts as an uncounted success — so it creates
another pod. Once the cache sees the Job finished, the orphan-pod worker removes that pod's
finalizer (cleanupPodFinalizers), and the pod runs to its end counted nowhere. Upstream's fix
(kubernetes PR #130333, finishedJobExpectations: a Job the controller itself marked finished is not
synced again until its cache agrees) came after v1.33.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.batch import Job, is_finished
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.state.actions import Action, CrashDuringReconcile
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.registry import Violation

__all__ = ["STALE_FINISHED_JOB_CITATIONS", "STALE_FINISHED_JOB_SUMMARY", "stale_finished_job_sync"]

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
