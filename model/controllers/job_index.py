"""The backoff limit per index of an Indexed Job (`pkg/controller/job/indexed_job_utils.go`,
`backoff_utils.go`, `job_controller.go`; JobBackoffLimitPerIndex, GA in v1.33).

Each pod carries the failures of its index before it (the `job-index-failure-count` annotation, and
`job-index-ignored-failure-count` for those an Ignore rule of the pod failure policy matched). An
index has failed (`is_index_failed`) when a failed pod of it counts (no Ignore rule) and already
had `backoffLimitPerIndex` failures before it, or matches a FailIndex rule; the failed indexes are
kept in `status.failedIndexes` ("1,3-5"). Too many (`maxFailedIndexes`) fail the Job
(MaxFailedIndexesExceeded); every index succeeded or failed with some failed fails it too
(FailedIndexes). A failed pod of an index neither succeeded, failed nor active keeps its tracking
finalizer until its replacement exists (`delayed_per_index`: its annotations are what the
replacement's counts continue), and the replacement waits for the index's own back-off
(`creation_indexes`: 10 s doubled per failure of the index, from that pod's finish) — the Job's
global back-off is not used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kubeprop.model.api.batch import (
    INDEX_FAILURE_COUNT_ANNOTATION,
    INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    Job,
)
from kubeprop.model.api.integers import INT32
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.job_policy import match_pod_failure_policy
from kubeprop.model.controllers.job_util import (
    BackoffRecord,
    completion_index,
    finish_time,
    has_tracking_finalizer,
    is_pod_failed,
    parse_indexes,
    remaining_backoff,
)

__all__ = [
    "creation_indexes", "delayed_per_index", "failed_indexes", "failure_annotations", "has_backoff_limit_per_index",
    "is_index_failed",
]


def has_backoff_limit_per_index(job: Job) -> bool:
    """hasBackoffLimitPerIndex."""
    return job.spec.backoff_limit_per_index is not None


def _count(pod: Pod, annotation: str) -> int:
    """parseInt32 of the annotation: 0 when missing, unparsable, negative or above int32."""
    value = pod.metadata.annotations.get(annotation)
    if value is None:
        return 0
    text = value[1:] if value[:1] in "+-" else value
    if not text.isdigit() or not text.isascii():
        return 0
    number = -int(text) if value.startswith("-") else int(text)
    return number if 0 <= number <= INT32.high else 0


def failure_count(pod: Pod) -> int:
    """getIndexFailureCount."""
    return _count(pod, INDEX_FAILURE_COUNT_ANNOTATION)


def absolute_failure_count(pod: Pod) -> int:
    """getIndexAbsoluteFailureCount: the counted and the ignored failures."""
    return _count(pod, INDEX_FAILURE_COUNT_ANNOTATION) + _count(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)


def is_index_failed(job: Job, pod: Pod) -> bool:
    """isIndexFailed: the pod failed and matches a FailIndex rule, or counts and its index had
    already failed `backoffLimitPerIndex` times."""
    if not is_pod_failed(pod, job):
        return False
    counted = True
    if job.spec.pod_failure_policy is not None:
        _, counted, action = match_pod_failure_policy(job.spec.pod_failure_policy, pod)
        if action == "FailIndex":
            return True
    return counted and failure_count(pod) >= (job.spec.backoff_limit_per_index or 0)


def _valid_index(pod: Pod, completions: int) -> int | None:
    index = completion_index(pod)
    return index if index is not None and index < completions else None


def failed_indexes(job: Job, pods: Iterable[Pod], completions: int) -> frozenset[int]:
    """calculateFailedIndexes: `status.failedIndexes` and the valid indexes of pods with the
    finalizer whose index failed."""
    before = parse_indexes(job.status.failed_indexes or "", completions)
    return before | {i for p in pods if (i := _valid_index(p, completions)) is not None
                     and has_tracking_finalizer(p) and is_index_failed(job, p)}


def delayed_per_index(job: Job, pods: Sequence[Pod], expected_rm: frozenset[str], done: frozenset[int],
                      active: Sequence[Pod], completions: int) -> dict[int, Pod]:
    """getPodsWithDelayedDeletionPerIndex: for each index neither done (succeeded or failed) nor
    active, its failed pod with the finalizer (not expected to lose it) with the most failures
    before it, the later finished on a tie."""
    active_indexes = {i for p in active if (i := completion_index(p)) is not None}
    out: dict[int, Pod] = {}
    for pod in pods:
        if not has_tracking_finalizer(pod) or pod.metadata.uid in expected_rm or not is_pod_failed(pod, job):
            continue
        index = _valid_index(pod, completions)
        if index is None or index in done or index in active_indexes:
            continue
        last = out.get(index)
        if last is None or (absolute_failure_count(last) <= absolute_failure_count(pod)
                            and finish_time(pod) >= finish_time(last)):
            out[index] = pod
    return out


def creation_indexes(indexes: Sequence[int], delayed: Mapping[int, Pod], now: int) -> tuple[tuple[int, ...], int]:
    """getPodCreationInfoForIndependentIndexes: the indexes whose own back-off is over (the
    remaining time of each from its delayed pod: getRemainingTimePerIndex, that pod's failures
    before it plus one); if none is, the least time left."""
    ready: list[int] = []
    least: int | None = None
    for index in indexes:
        pod = delayed.get(index)
        left = 0 if pod is None else remaining_backoff(BackoffRecord(absolute_failure_count(pod) + 1,
                                                                     finish_time(pod)), now)
        if left == 0:
            ready.append(index)
        elif least is None or left < least:
            least = left
    return (tuple(ready), 0) if ready else ((), least or 0)


def failure_annotations(job: Job, replaced: Pod | None) -> dict[str, str]:
    """addIndexFailureCountAnnotation (getNewIndexFailureCounts): the replaced pod's counts, its own
    failure added to the counted or (an Ignore rule) the ignored ones; 0 for a first pod."""
    if replaced is None:
        return {INDEX_FAILURE_COUNT_ANNOTATION: "0"}
    counted, ignored = failure_count(replaced), _count(replaced, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)
    if match_pod_failure_policy(job.spec.pod_failure_policy, replaced)[1]:
        counted += 1
    else:
        ignored += 1
    out = {INDEX_FAILURE_COUNT_ANNOTATION: str(counted)}
    if ignored > 0:
        out[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)
    return out
