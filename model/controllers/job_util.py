"""Pure helpers of the Job controller: completion indexes, the pod-failure back-off, pod ordering,
the pods it creates and the patches it sends.

Upstream (v1.33): `pkg/controller/job/indexed_job_utils.go` (getCompletionIndex,
calculateSucceededIndexes, firstPendingIndexes, appendDuplicatedIndexPodsForRemoval,
podGenerateNameWithIndex, addCompletionIndexAnnotation/Label, the `<job>-<index>` hostname; the
completed indexes as the compressed interval string "1,3-5"), `backoff_utils.go`
(newBackoffRecord, getFinishedTime, getRemainingTimeForFailuresCount: 10 s doubling, capped at
MaxJobPodFailureBackOff — 10 minutes in the v1.33 code, where the user documentation still says six),
`job_controller.go` (isPodFailed, the tracking-finalizer patches), `pkg/controller/controller_utils.go`
(controller.ActivePods: the order in which active pods are removed),
`pkg/controller/controller_ref_manager.go` (AdoptPod and ReleasePod with the tracking finalizer).

Model choices: the JOB_COMPLETION_INDEX environment variable (addCompletionIndexEnvVariables, a
downward-API reference to the annotation) is not added, as the model runs no container code. A
pod's finish time is getFinishedTime's (`finish_time`): the latest `finishedAt` of its containers
and sidecars, which the model's kubelet writes with the model clock when it records a terminated
state (`kubeprop.model.kubelet.status`), else its Ready=False transition, else its deletion time
less the grace period, else its creation time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

import attrs

from kubeprop.model.api.batch import (
    COMPLETION_INDEX_ANNOTATION,
    COMPLETION_INDEX_LABEL,
    JOB_TRACKING_FINALIZER,
    Job,
    is_indexed,
)
from kubeprop.model.api.codec import encode
from kubeprop.model.api.pod import Pod, pod_ready_condition
from kubeprop.model.controllers.podutil import is_pod_ready, new_controller_ref, pod_template_object
from kubeprop.model.controllers.replicaset import max_container_restarts
from kubeprop.model.evolve import evolve

__all__ = [
    "BackoffRecord",
    "active_pods_for_removal",
    "adopt_patch",
    "completion_index",
    "finish_time",
    "first_pending_indexes",
    "format_indexes",
    "has_tracking_finalizer",
    "is_pod_failed",
    "is_release_patch",
    "job_pod",
    "new_backoff_record",
    "parse_indexes",
    "release_patch",
    "remaining_backoff",
    "remove_finalizer_patch",
]

DEFAULT_POD_FAILURE_BACKOFF = 10
MAX_POD_FAILURE_BACKOFF = 600
"""DefaultJobPodFailureBackOff (10 s) and MaxJobPodFailureBackOff (10 min), in seconds."""


def has_tracking_finalizer(pod: Pod) -> bool:
    """hasJobTrackingFinalizer."""
    return JOB_TRACKING_FINALIZER in pod.metadata.finalizers


_ATOI = re.compile(r"[+-]?[0-9]+")
_MAX_INT = 2**63 - 1


def completion_index(pod: Pod) -> int | None:
    """getCompletionIndex: the annotation as strconv.Atoi reads it, unknown (None) if Atoi fails
    or the value is negative. Atoi (Go's `strconv/atoi.go`) takes an optional sign and ASCII digits,
    leading zeros too ("03", "+3" and "-0" are valid), within int (int64), and nothing else: no
    space, no underscore (base 10), no other Unicode digit."""
    value = pod.metadata.annotations.get(COMPLETION_INDEX_ANNOTATION, "")
    if _ATOI.fullmatch(value) is None or len(value.lstrip("+-").lstrip("0")) > len(str(_MAX_INT)):
        return None
    index = int(value)
    return index if 0 <= index <= _MAX_INT else None


def only_replace_failed(job: Job) -> bool:
    """onlyReplaceFailedPods: podReplacementPolicy Failed, or a pod failure policy."""
    return job.spec.pod_replacement_policy == "Failed" or job.spec.pod_failure_policy is not None


def is_pod_failed(pod: Pod, job: Job) -> bool:
    """isPodFailed: phase Failed; or, unless only failed pods are replaced, being deleted without
    having succeeded ("orphan Pods that never have a chance to reach the Failed phase")."""
    if pod.status.phase == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return pod.metadata.deletion_timestamp is not None and pod.status.phase != "Succeeded"


def parse_indexes(text: str, completions: int) -> frozenset[int]:
    """parseIndexesFromString: "1,3-5" → {1, 3, 4, 5}, indexes ≥ completions dropped."""
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        out.update(i for i in range(int(low), int(high or low) + 1) if i < completions)
    return frozenset(out)


def format_indexes(indexes: Iterable[int]) -> str:
    """orderedIntervals.String: sorted, consecutive runs of three or more as "a-b" (a run of two is
    written "a,b", as upstream writes it)."""
    runs: list[list[int]] = []
    for i in sorted(set(indexes)):
        if runs and runs[-1][1] + 1 == i:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a},{b}" if b == a + 1 else f"{a}-{b}" for a, b in runs)


def first_pending_indexes(succeeded: frozenset[int], active: Sequence[Pod], count: int, completions: int,
                          terminating: Sequence[Pod] = (), failed: frozenset[int] = frozenset()) -> tuple[int, ...]:
    """firstPendingIndexes: the lowest `count` indexes below completions neither succeeded, failed
    (backoffLimitPerIndex) nor held by an active pod — nor, where only failed pods are replaced, by
    a terminating one (`terminating`)."""
    held = (*active, *terminating)
    taken = set(succeeded) | set(failed) | {i for p in held if (i := completion_index(p)) is not None}
    return tuple(i for i in range(completions) if i not in taken)[:count]


def _container_finish(status: Any) -> int | None:
    """A container status's `state.terminated.finishedAt`, if the kubelet reported one."""
    state = status.state
    terminated = state.get("terminated") if isinstance(state, Mapping) else None
    finished = terminated.get("finishedAt") if isinstance(terminated, Mapping) else None
    return finished if isinstance(finished, int) else None


def _latest_finish(previous: int | None, statuses: Iterable[Any]) -> int | None:
    """latestFinishTime: the latest `finishedAt` of `statuses`, starting from `previous`; None as
    soon as one of them is not terminated or has no `finishedAt` (whatever `previous` was)."""
    latest = previous
    for status in statuses:
        finished = _container_finish(status)
        if finished is None:
            return None
        latest = finished if latest is None else max(latest, finished)
    return latest


def _containers_finish(pod: Pod) -> int | None:
    """getFinishTimeFromContainers (feature SidecarContainers, on by default since v1.29 and GA in
    v1.33): the latest `finishedAt` of the regular containers, then carried on over the statuses
    of the restartable init containers (sidecars, matched by name to the spec's init containers
    whose restartPolicy is Always). As upstream, the sidecars' pass starts again from nothing when
    a regular container had not terminated, so their finish alone then dates the pod."""
    finished = _latest_finish(None, pod.status.container_statuses)
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"}
    return _latest_finish(finished, (c for c in pod.status.init_container_statuses if c.name in sidecars))


def finish_time(pod: Pod) -> int:
    """getFinishedTime (`pkg/controller/job/backoff_utils.go`): the containers' finish
    (`_containers_finish`), else the Ready=False condition's transition time, else the deletion
    time less the grace period, else the creation time."""
    finished = _containers_finish(pod)
    if finished is not None:
        return finished
    ready = pod_ready_condition(pod)
    if ready is not None and ready.status == "False" and ready.last_transition_time is not None:
        return ready.last_transition_time
    if pod.metadata.deletion_timestamp is not None:
        return pod.metadata.deletion_timestamp - (pod.metadata.deletion_grace_period_seconds or 0)
    return pod.metadata.creation_timestamp or 0


@attrs.frozen
class BackoffRecord:
    """backoffRecord: failures since the last success, and the last failure's time."""

    failures: int = 0
    last_failure: int | None = None


def new_backoff_record(old: BackoffRecord | None, succeeded: Sequence[Pod], failed: Sequence[Pod]) -> BackoffRecord:
    """newBackoffRecord over the newly finished pods."""
    record = old or BackoffRecord()
    failed_times = sorted(finish_time(p) for p in failed)
    if not succeeded:
        if not failed_times:
            return record
        return BackoffRecord(record.failures + len(failed_times), failed_times[-1])
    last_success = max(finish_time(p) for p in succeeded)
    after = [t for t in failed_times if t > last_success]
    return BackoffRecord(len(after), after[-1] if after else None)


def remaining_backoff(record: BackoffRecord, now: int, maximum: int = MAX_POD_FAILURE_BACKOFF) -> int:
    """getRemainingTimeForFailuresCount: 10 s doubled per failure after the first (capped), less
    the time since the last failure; 0 when none is left."""
    if record.failures == 0 or record.last_failure is None:
        return 0
    delay = DEFAULT_POD_FAILURE_BACKOFF
    for _ in range(1, record.failures):
        delay *= 2
        if delay >= maximum:
            delay = maximum
            break
    elapsed = now - record.last_failure
    return 0 if delay < elapsed else delay - elapsed


def _phase_rank(pod: Pod) -> int:
    return {"Pending": 0, "Unknown": 1, "Running": 2}.get(pod.status.phase, 0)


def _ready_since(pod: Pod) -> int | None:
    cond = pod_ready_condition(pod)
    return cond.last_transition_time if cond is not None and cond.status == "True" else None


def _later(t1: int | None, t2: int | None) -> bool:
    """afterOrZero: a missing time counts as later."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _less(a: Pod, b: Pod) -> bool:
    """controller.ActivePods.Less (`pkg/controller/controller_utils.go`, v1.33): unassigned,
    Pending < Unknown < Running, not ready, ready for less time, more restarts (regular containers,
    then sidecars: compareMaxContainerRestarts, kubernetes PR #124952; the ReplicaSet's
    `max_container_restarts`), newer — first."""
    if bool(a.spec.node_name) != bool(b.spec.node_name):
        return not a.spec.node_name
    if _phase_rank(a) != _phase_rank(b):
        return _phase_rank(a) < _phase_rank(b)
    if is_pod_ready(a) != is_pod_ready(b):
        return not is_pod_ready(a)
    if is_pod_ready(a) and _ready_since(a) != _ready_since(b):
        return _later(_ready_since(a), _ready_since(b))
    if max_container_restarts(a) != max_container_restarts(b):
        return max_container_restarts(a) > max_container_restarts(b)
    return _later(a.metadata.creation_timestamp, b.metadata.creation_timestamp)


def _compare(a: Pod, b: Pod) -> int:
    return -1 if _less(a, b) else (1 if _less(b, a) else 0)


def sort_active(pods: Iterable[Pod]) -> list[Pod]:
    """sort.Sort(controller.ActivePods(pods)); ties by name (upstream's sort is unstable)."""
    by_name: list[Pod] = sorted(pods, key=lambda p: p.metadata.name)
    return sorted(by_name, key=cmp_to_key(_compare))


def active_pods_for_removal(job: Job, active: Sequence[Pod], at_least: int) -> tuple[Pod, ...]:
    """activePodsForRemoval: for an Indexed Job first the pods without a valid index and all but
    one pod of a repeated index (appendDuplicatedIndexPodsForRemoval keeps the last in ActivePods
    order), then, while fewer than `at_least`, the first of the rest in ActivePods order."""
    remove: list[Pod] = []
    left: list[Pod] = list(active)
    if is_indexed(job):
        completions = job.spec.completions or 0
        left = []
        by_index: dict[int, list[Pod]] = {}
        for pod in active:
            i = completion_index(pod)
            if i is None or i >= completions:
                remove.append(pod)
            else:
                by_index.setdefault(i, []).append(pod)
        for i in sorted(by_index):
            ordered = sort_active(by_index[i])
            remove.extend(ordered[:-1])
            left.append(ordered[-1])
    if len(remove) < at_least:
        remove.extend(sort_active(left)[:at_least - len(remove)])
    return tuple(remove)


def job_pod(job: Job, index: int | None, tracking: bool = True, annotations: Mapping[str, str] | None = None) -> Pod:
    """The pod manageJob creates: the template with the tracking finalizer
    (appendJobCompletionFinalizerIfNotFound), the controller reference; for an index, the
    completion-index annotation and label, hostname `<job>-<index>` and generateName `<job>-<index>-`,
    and `annotations` (the index failure counts, `job_index.failure_annotations`) (`tracking` False:
    no finalizer, as before JobTrackingWithFinalizers)."""
    pod = pod_template_object(job.spec.template, job)
    meta = pod.metadata
    if tracking and JOB_TRACKING_FINALIZER not in meta.finalizers:
        meta = evolve(meta, finalizers=(*meta.finalizers, JOB_TRACKING_FINALIZER))
    spec = pod.spec
    if index is not None:
        extra = meta.annotations
        for key, value in (annotations or {}).items():
            extra = extra.set(key, value)
        meta = evolve(meta, generate_name=f"{job.metadata.name}-{index}-",
                      annotations=extra.set(COMPLETION_INDEX_ANNOTATION, str(index)),
                      labels=meta.labels.set(COMPLETION_INDEX_LABEL, str(index)))
        spec = evolve(spec, hostname=f"{job.metadata.name}-{index}")
    return evolve(pod, metadata=meta, spec=spec)


def remove_finalizer_patch() -> dict[str, Any]:
    """removeTrackingFinalizerPatch: a strategic merge patch deleting the finalizer from the list."""
    return {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}


def adopt_patch(job: Job, pod: Pod) -> dict[str, Any]:
    """AdoptPod with the Job's finalizer (NewPodControllerRefManager(..., JobTrackingFinalizer)): a
    strategic merge patch adding the controller reference (merged by UID) and the finalizer."""
    return {"metadata": {"ownerReferences": [encode(new_controller_ref(job))], "uid": pod.metadata.uid,
                         "finalizers": [JOB_TRACKING_FINALIZER]}}


def release_patch(job: Job, pod: Pod, tracking: bool = True) -> dict[str, Any]:
    """ReleasePod with the Job's finalizer (`pkg/controller/controller_ref_manager.go`,
    GenerateDeleteOwnerRefStrategicMergeBytes): a strategic merge patch deleting the Job's owner
    reference (by UID) and, in the same patch, the tracking finalizer (`tracking` False: the owner
    reference only, as before JobTrackingWithFinalizers), with the pod's UID as a precondition."""
    metadata: dict[str, Any] = {"ownerReferences": [{"$patch": "delete", "uid": job.metadata.uid}],
                                "uid": pod.metadata.uid}
    if tracking:
        metadata["$deleteFromPrimitiveList/finalizers"] = [JOB_TRACKING_FINALIZER]
    return {"metadata": metadata}


def is_release_patch(patch: Any) -> bool:
    """Whether a pod patch is `release_patch`'s (an owner reference deleted by UID)."""
    metadata = patch.get("metadata") if isinstance(patch, Mapping) else None
    refs = metadata.get("ownerReferences") if isinstance(metadata, Mapping) else None
    return isinstance(refs, list) and any(isinstance(r, Mapping) and r.get("$patch") == "delete" for r in refs)
