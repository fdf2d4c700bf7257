"""syncJob's decision for one Job (`pkg/controller/job/job_controller.go`, v1.33): the requests it
sends, in upstream's order, and what it asks the controller to remember. The controller
(`kubeprop.model.controllers.job`) reads the cache, claims the pods and keeps the memory.

The order of one sync: the adoption patches (getPodsForJob); the deletes of a finishing Job's active
pods (deleteActivePods: DELETE only, the finalizers kept) or manageJob's work — a suspended Job's
active pods, or the pods above `min(parallelism, completions - succeeded)`, each removed by a
finalizer patch then a DELETE (deleteJobPods; ExpectDeletions), or the missing pods created in
slow-start batches (ExpectCreations; an Indexed Job's lowest pending indexes) unless the pod-failure
back-off holds them; then trackJobStatusAndRemoveFinalizers: the status with the newly finished
pods' UIDs in `uncountedTerminatedPods` (and the interim FailureTarget or SuccessCriteriaMet
condition), the finalizer patches of the pods it may let go (canRemoveFinalizer), and the status
again with those UIDs moved into the `succeeded`/`failed` counters and, when nothing is uncounted
and no pod terminating, the final Complete or Failed condition (enactJobFinished; the conditions
are delayed so in v1.33 because JobPodReplacementPolicy and JobManagedBy are on).

The policies enter where upstream's syncJob has them: a failed pod matching a FailJob rule of the
pod failure policy sets the FailureTarget (getFailJobMessage), one matching Ignore is neither
counted nor held back (nonIgnoredFailedPodsCount); with a backoff limit per index the failed
indexes, their conditions and the delayed finalizer removals come after the succeeded indexes
(`_per_index`), then the success policy (matchSuccessPolicy), before manageJob.

Model choices: the decision is taken before any request is sent, assuming each succeeds; the first
failure ends the sync and requeues the key (`controllers.base`), where upstream sends a batch in
parallel and still writes the status with the partial progress — the next sync, from the cache,
redoes what was left (the `uncountedTerminatedPods` already written make that safe, which is their
purpose). MaxUncountedPods (500) and MaxPodCreateDeletePerSync (500) are not reached by scenarios of
the model's size; the latter caps the creates and deletes all the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.api.batch import (
    Job,
    JobStatus,
    UncountedTerminatedPods,
    condition_true,
    is_indexed,
)
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.job_index import (
    creation_indexes,
    delayed_per_index,
    failed_indexes,
    failure_annotations,
    has_backoff_limit_per_index,
)
from kubeprop.model.controllers.job_policy import counts_failure, fail_job_message, match_success_policy
from kubeprop.model.controllers.job_util import (
    BackoffRecord,
    active_pods_for_removal,
    completion_index,
    first_pending_indexes,
    format_indexes,
    has_tracking_finalizer,
    is_pod_failed,
    job_pod,
    new_backoff_record,
    only_replace_failed,
    parse_indexes,
    remaining_backoff,
    remove_finalizer_patch,
)
from kubeprop.model.controllers.podutil import is_pod_active, is_pod_ready, is_pod_terminal
from kubeprop.model.evolve import evolve

__all__ = ["MAX_POD_CREATE_DELETE_PER_SYNC", "Decision", "decide_sync"]

MAX_POD_CREATE_DELETE_PER_SYNC = 500


@attrs.frozen
class Decision:
    """One sync's outcome: the requests in order; the creations and the (name, uid) deletions to
    expect; the UIDs whose finalizer removal to expect; the back-off record to keep once the first
    status write succeeds (None: no status write, the record stays as it was); the model time the
    pod-failure back-off ends (a requeue), if it holds creations."""

    requests: tuple[Request, ...] = ()
    creates: int = 0
    deletes: tuple[tuple[str, str], ...] = ()
    finalizers: tuple[tuple[str, str], ...] = ()
    backoff: BackoffRecord | None = None
    wake: int | None = None


@attrs.define
class _Ctx:
    """syncJobCtx, mutable while one decision is taken."""

    job: Job
    pods: Sequence[Pod]
    user: str
    now: int
    status: JobStatus
    active: list[Pod]
    ready: int
    terminating: int
    succeeded: int
    failed: int
    record: BackoffRecord
    expected_rm: frozenset[str]
    tracking: bool = True
    succeeded_indexes: frozenset[int] = frozenset()
    prev_indexes: frozenset[int] = frozenset()
    failed_indexes: frozenset[int] | None = None
    delayed: dict[int, Pod] = attrs.Factory(dict)
    finished: Condition | None = None
    requests: list[Request] = attrs.Factory(list)
    creates: int = 0
    deletes: list[tuple[str, str]] = attrs.Factory(list)
    wake: int | None = None

    def request(self, verb: str, **kw: object) -> None:
        self.requests.append(Request(verb=verb, user=self.user, resource="pods",  # type: ignore[arg-type]
                                     namespace=self.job.metadata.namespace, **kw))  # type: ignore[arg-type]


def _cond(type_: str, reason: str, message: str, now: int) -> Condition:
    """newCondition (status True)."""
    return Condition(type=type_, status="True", reason=reason, message=message, last_probe_time=now,
                     last_transition_time=now)


def _find(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def ensure_condition(conditions: tuple[Condition, ...], type_: str, status: str, reason: str, message: str,
                     now: int) -> tuple[tuple[Condition, ...], bool]:
    """ensureJobConditionStatus: replace a condition of the type whose status, reason or message
    differs; append a new one unless its status is False."""
    new = Condition(type=type_, status=status, reason=reason, message=message, last_probe_time=now,
                    last_transition_time=now)
    found = _find(conditions, type_)
    if found is not None:
        if (found.status, found.reason, found.message) == (status, reason, message):
            return conditions, False
        return tuple(new if c.type == type_ else c for c in conditions), True
    if status == "False":
        return conditions, False
    return (*conditions, new), True


def _valid(ctx: _Ctx, pod: Pod, uncounted: frozenset[str]) -> bool:
    """getValidPodsWithFilter's filter: with the finalizer, not uncounted nor expected to lose it,
    and for an Indexed Job a valid index below completions."""
    uid = pod.metadata.uid
    if not ctx.tracking:
        uncounted = frozenset()
    elif not has_tracking_finalizer(pod):
        return False
    if uid in uncounted or uid in ctx.expected_rm:
        return False
    if is_indexed(ctx.job):
        index = completion_index(pod)
        return index is not None and index < (ctx.job.spec.completions or 0)
    return True


def _past_backoff_limit_on_failure(job: Job, pods: Sequence[Pod]) -> bool:
    """pastBackoffLimitOnFailure: with restartPolicy OnFailure, the restarts of the Pending and
    Running pods' containers reach backoffLimit (exceed it, for 0)."""
    if job.spec.template.spec.restart_policy != "OnFailure":
        return False
    total = sum(c.restart_count for p in pods if p.status.phase in ("Running", "Pending")
                for c in (*p.status.init_container_statuses, *p.status.container_statuses))
    limit = job.spec.backoff_limit or 0
    return total > 0 if limit == 0 else total >= limit


def _failure_condition(ctx: _Ctx) -> None:
    """The finished condition a sync starts from: SuccessCriteriaMet already set; a FailureTarget
    already set (its Failed); a failed pod matching a FailJob rule of the pod failure policy
    (getFailJobMessage: a new FailureTarget, reason PodFailurePolicy); backoffLimit exceeded or the
    active deadline passed (a new FailureTarget)."""
    job, now = ctx.job, ctx.now
    met = _find(job.status.conditions, "SuccessCriteriaMet")
    if met is not None and met.status == "True":
        ctx.finished = met
        return
    target = _find(job.status.conditions, "FailureTarget")
    if target is not None and target.status == "True":
        ctx.finished = _cond("Failed", target.reason, target.message, now)
        return
    message = fail_job_message(job, ctx.pods)
    if message is not None:
        ctx.finished = _cond("FailureTarget", "PodFailurePolicy", message, now)
        return
    suspended = bool(job.spec.suspend)
    deadline = job.spec.active_deadline_seconds
    if ctx.failed > (job.spec.backoff_limit or 0) or _past_backoff_limit_on_failure(job, ctx.pods):
        ctx.finished = _cond("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit",
                             now)
    elif deadline is not None and ctx.status.start_time is not None and not suspended and (
            now - ctx.status.start_time >= deadline):
        ctx.finished = _cond("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", now)


def _delete_job_pods(ctx: _Ctx, pods: Sequence[Pod]) -> None:
    """deleteJobPods: each pod's finalizer removed, then the pod deleted; ExpectDeletions."""
    for pod in pods:
        if has_tracking_finalizer(pod):
            ctx.request("patch", name=pod.metadata.name, patch=remove_finalizer_patch(), patch_type="strategic")
        ctx.request("delete", name=pod.metadata.name)
        ctx.deletes.append((pod.metadata.name, pod.metadata.uid))
    ctx.terminating += len(pods)
    ctx.ready -= sum(1 for p in pods if is_pod_ready(p))


def _manage(ctx: _Ctx, active: int) -> int:
    """manageJob: the number of active pods after its deletes or creates."""
    job = ctx.job
    if job.spec.suspend:
        _delete_job_pods(ctx, active_pods_for_removal(job, ctx.active, active))
        return 0
    parallelism, completions = job.spec.parallelism or 0, job.spec.completions
    if completions is None:
        want = active if ctx.succeeded > 0 else parallelism
    else:
        want = max(0, min(completions - ctx.succeeded, parallelism))
    remove = active_pods_for_removal(job, ctx.active, max(0, active - want))[:MAX_POD_CREATE_DELETE_PER_SYNC]
    if remove:
        _delete_job_pods(ctx, remove)
        return active - len(remove)
    terminating = ctx.terminating if only_replace_failed(job) else 0
    diff = want - terminating - active
    if diff <= 0:
        return active
    per_index = has_backoff_limit_per_index(job)
    remaining = 0 if per_index else remaining_backoff(ctx.record, ctx.now)  # the per-index back-off instead
    if remaining > 0:
        ctx.wake = ctx.now + max(remaining, 1)  # enqueueSyncJobWithDelay: at least syncJobBatchPeriod
        return 0  # upstream's `return 0, …`: the status reads active 0 while the back-off holds
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
    indexes: Sequence[int | None] = (None,) * diff
    if is_indexed(job):
        held = [p for p in ctx.pods if p.metadata.deletion_timestamp is not None and not is_pod_terminal(p)] \
            if only_replace_failed(job) else []
        pending = first_pending_indexes(ctx.succeeded_indexes, ctx.active, diff, completions or 0, held,
                                        ctx.failed_indexes or frozenset())
        if per_index:
            pending, remaining = creation_indexes(pending, ctx.delayed, ctx.now)
            if remaining > 0:
                ctx.wake = ctx.now + max(remaining, 1)
                return 0
        indexes = pending
    for index in indexes:
        annotations = failure_annotations(job, ctx.delayed.get(index)) if per_index and index is not None else None
        ctx.request("create", obj=job_pod(job, index, ctx.tracking, annotations))
    ctx.creates = len(indexes)
    return active + len(indexes)


def _suspend_condition(ctx: _Ctx) -> bool:
    """The Suspended condition after a manageJob (a resumed Job's startTime reset)."""
    status = ctx.status
    if ctx.job.spec.suspend:
        conditions, changed = ensure_condition(status.conditions, "Suspended", "True", "JobSuspended",
                                               "Job suspended", ctx.now)
    else:
        conditions, changed = ensure_condition(status.conditions, "Suspended", "False", "JobResumed",
                                               "Job resumed", ctx.now)
        if changed:
            status = evolve(status, start_time=ctx.now)
    ctx.status = evolve(status, conditions=conditions)
    return changed


def decide_sync(job: Job, pods: Sequence[Pod], user: str, now: int, satisfied: bool, expected_rm: frozenset[str],
                record: BackoffRecord | None, tracking: bool = True) -> Decision:
    """syncJob after the cache read and the claim (module docstring); `pods` the claimed pods.
    `tracking` False: the controller before JobTrackingWithFinalizers (`_legacy_track`)."""
    status = job.status
    if status.uncounted_terminated_pods is None:
        status = evolve(status, uncounted_terminated_pods=UncountedTerminatedPods())
    uncounted = status.uncounted_terminated_pods
    assert uncounted is not None
    unc_s, unc_f = frozenset(uncounted.succeeded), frozenset(uncounted.failed)
    active = [p for p in pods if is_pod_active(p)]
    ctx = _Ctx(job=job, pods=pods, user=user, now=now, status=status, active=active, tracking=tracking,
               ready=sum(1 for p in active if is_pod_ready(p)),
               terminating=sum(1 for p in pods if p.metadata.deletion_timestamp is not None and not is_pod_terminal(p)),
               succeeded=0, failed=0, record=record or BackoffRecord(), expected_rm=expected_rm)
    new_succeeded = [p for p in pods if _valid(ctx, p, unc_s) and p.status.phase == "Succeeded"]
    new_failed = [p for p in pods if _valid(ctx, p, unc_f) and is_pod_failed(p, job)]
    ctx.succeeded = status.succeeded + len(new_succeeded) + len(unc_s)
    counted = sum(1 for p in new_failed if counts_failure(job, p))  # nonIgnoredFailedPodsCount
    ctx.failed = status.failed + counted + len(unc_f)
    if not tracking:  # the counters are the cache's terminal pods, nothing else
        ctx.succeeded, ctx.failed = len(new_succeeded), counted
    if status.start_time is None and not job.spec.suspend:
        ctx.status = evolve(ctx.status, start_time=now)
    ctx.record = new_backoff_record(record, new_succeeded, new_failed)
    _failure_condition(ctx)
    if is_indexed(job):
        completions = job.spec.completions or 0
        ctx.prev_indexes = parse_indexes(status.completed_indexes, completions)
        if not tracking:
            ctx.prev_indexes = frozenset()
        ctx.succeeded_indexes = ctx.prev_indexes | {
            i for p in pods if p.status.phase == "Succeeded" and (has_tracking_finalizer(p) or not tracking)
            and (i := completion_index(p)) is not None and i < completions}
        ctx.succeeded = len(ctx.succeeded_indexes)
        if has_backoff_limit_per_index(job):
            _per_index(ctx, pods, active, completions)
        message = match_success_policy(job.spec.success_policy, completions, ctx.succeeded_indexes)
        if ctx.finished is None and message is not None:
            ctx.finished = _cond("SuccessCriteriaMet", "SuccessPolicy", message, now)
    count = len(active)
    suspend_changed = False
    if ctx.finished is not None:
        for pod in active:  # deleteActivePods: DELETE only, the finalizers kept
            ctx.request("delete", name=pod.metadata.name)
        if not satisfied:
            ctx.finished = None
        ctx.terminating += count
        ctx.ready -= sum(1 for p in active if is_pod_ready(p))
        count = 0
    else:
        called = satisfied and job.metadata.deletion_timestamp is None
        if called:
            count = _manage(ctx, count)
        wanted = job.spec.completions
        done = ctx.succeeded > 0 if wanted is None else ctx.succeeded >= wanted
        if done and count == 0:
            ctx.finished = _cond("SuccessCriteriaMet", "", "", now)
        elif called:
            suspend_changed = _suspend_condition(ctx)
    needs = suspend_changed or count != status.active or ctx.ready != status.ready or (
        ctx.terminating != status.terminating)
    ctx.status = evolve(ctx.status, active=count, ready=ctx.ready, terminating=ctx.terminating)
    return _track(ctx, needs, unc_s, unc_f)


def _per_index(ctx: _Ctx, pods: Sequence[Pod], active: Sequence[Pod], completions: int) -> None:
    """The backoff limit per index in syncJob (`kubeprop.model.controllers.job_index`): the failed
    indexes; too many (maxFailedIndexes) or every index finished with some failed fail the Job; the
    failed pods whose finalizer removal waits for their replacement."""
    job = ctx.job
    failed = ctx.failed_indexes = failed_indexes(job, pods, completions)
    limit = job.spec.max_failed_indexes
    if ctx.finished is None and limit is not None and len(failed) > limit:
        ctx.finished = _cond("FailureTarget", "MaxFailedIndexesExceeded",
                             "Job has exceeded the specified maximal number of failed indexes", ctx.now)
    elif ctx.finished is None and failed and len(failed) + len(ctx.succeeded_indexes) >= completions:
        ctx.finished = _cond("FailureTarget", "FailedIndexes", "Job has failed indexes", ctx.now)
    ctx.delayed = delayed_per_index(job, pods, ctx.expected_rm, ctx.succeeded_indexes | failed, active, completions)


def _clean_uncounted(status: JobStatus, with_finalizer: set[str]) -> tuple[JobStatus, bool]:
    """cleanUncountedPodsWithoutFinalizers: uncounted UIDs whose pod no longer has the finalizer
    move into the counters."""
    uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
    keep_s = tuple(u for u in uncounted.succeeded if u in with_finalizer)
    keep_f = tuple(u for u in uncounted.failed if u in with_finalizer)
    if (keep_s, keep_f) == (uncounted.succeeded, uncounted.failed):
        return status, False
    return evolve(status, succeeded=status.succeeded + len(uncounted.succeeded) - len(keep_s),
                  failed=status.failed + len(uncounted.failed) - len(keep_f),
                  uncounted_terminated_pods=UncountedTerminatedPods(keep_s, keep_f)), True


def _track(ctx: _Ctx, needs: bool, unc_s: frozenset[str], unc_f: frozenset[str]) -> Decision:
    """trackJobStatusAndRemoveFinalizers, flushUncountedAndRemoveFinalizers and enactJobFinished."""
    if not ctx.tracking:
        return _legacy_track(ctx, needs)
    job, indexed = ctx.job, is_indexed(ctx.job)
    pods = sorted(ctx.pods, key=lambda p: (completion_index(p) is None, completion_index(p) or 0)) if indexed \
        else list(ctx.pods)
    with_finalizer = {p.metadata.uid for p in pods if has_tracking_finalizer(p)
                      and p.metadata.uid not in ctx.expected_rm}
    status, changed = _clean_uncounted(ctx.status, with_finalizer)
    needs = needs or changed
    uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
    add_s, add_f, new_indexes, release = list(uncounted.succeeded), list(uncounted.failed), [], []
    completions = job.spec.completions or 0
    finishing = ctx.finished is not None and ctx.finished.type != "SuccessCriteriaMet"
    for pod in pods:
        uid = pod.metadata.uid
        if not has_tracking_finalizer(pod) or uid in ctx.expected_rm:
            continue
        failed = is_pod_failed(pod, job)
        if not (job.metadata.deletion_timestamp is not None or ctx.finished is not None
                or pod.status.phase == "Succeeded" or failed) or _delayed(ctx, pod):
            continue  # canRemoveFinalizer
        release.append(pod)
        index = completion_index(pod)
        if pod.status.phase == "Succeeded" and uid not in unc_f:
            if indexed:
                if index is not None and index < completions and index not in ctx.prev_indexes:
                    new_indexes.append(index)
                    needs = True
            elif uid not in unc_s:
                needs = True
                add_s.append(uid)
        elif (failed or finishing) and uid not in unc_f and (not indexed or (
                index is not None and index < completions)) and counts_failure(job, pod):
            needs = True  # (a pod an Ignore rule of the pod failure policy matches is let go uncounted)
            add_f.append(uid)
    status = evolve(status, uncounted_terminated_pods=UncountedTerminatedPods(tuple(add_s), tuple(add_f)))
    if indexed:
        indexes = format_indexes(ctx.succeeded_indexes | set(new_indexes))
        needs = needs or indexes != job.status.completed_indexes
        status = evolve(status, succeeded=len(parse_indexes(indexes, completions)), completed_indexes=indexes)
        failed_text = None if ctx.failed_indexes is None else format_indexes(ctx.failed_indexes)
        needs = needs or failed_text != job.status.failed_indexes
        status = evolve(status, failed_indexes=failed_text)
    finished = ctx.finished
    if finished is not None and finished.type == "FailureTarget":
        status = evolve(status, conditions=(*status.conditions, finished))
        needs = True
        finished = _cond("Failed", finished.reason, finished.message, ctx.now)
    if finished is not None and finished.type == "SuccessCriteriaMet":
        if not condition_true(job, "SuccessCriteriaMet"):
            status = evolve(status, conditions=(*status.conditions, finished))
            needs = True
        finished = _cond("Complete", finished.reason, finished.message, ctx.now)
    return _flush(ctx, status, needs, release, with_finalizer, finished)


def _delayed(ctx: _Ctx, pod: Pod) -> bool:
    """canRemoveFinalizer's delay: the failed pod whose index awaits its replacement keeps the
    finalizer (unless the Job is being deleted or finishing, or the pod succeeded)."""
    if ctx.job.metadata.deletion_timestamp is not None or ctx.finished is not None or pod.status.phase == "Succeeded":
        return False
    index = completion_index(pod)
    held = None if index is None else ctx.delayed.get(index)
    return held is not None and held.metadata.uid == pod.metadata.uid


def _legacy_track(ctx: _Ctx, needs: bool) -> Decision:
    """The status before JobTrackingWithFinalizers (`pkg/controller/job/job_controller.go` of
    v1.21, getStatus and syncJob's status update): `succeeded` and `failed` are the terminal pods
    in the cache (an Indexed Job's completed indexes those of its Succeeded pods there), written
    whenever they change; nothing holds a finished pod until it is counted."""
    job, status = ctx.job, ctx.status
    status = evolve(status, succeeded=ctx.succeeded, failed=ctx.failed, uncounted_terminated_pods=None)
    if is_indexed(job):
        status = evolve(status, completed_indexes=format_indexes(ctx.succeeded_indexes))
    finished = ctx.finished
    if finished is not None and finished.type in ("FailureTarget", "SuccessCriteriaMet"):
        finished = _cond("Failed" if finished.type == "FailureTarget" else "Complete", finished.reason,
                         finished.message, ctx.now)
    return _flush(ctx, status, needs or status != job.status, [], set(), finished, legacy=True)


def _flush(ctx: _Ctx, status: JobStatus, needs: bool, release: list[Pod], with_finalizer: set[str],
           finished: Condition | None, legacy: bool = False) -> Decision:
    """flushUncountedAndRemoveFinalizers and enactJobFinished: the status, the finalizer patches,
    the status again (the second write unconditional: upstream writes the object its first write
    returned)."""
    job = ctx.job
    written = False
    record: BackoffRecord | None = None
    if needs and not legacy:
        ctx.requests.append(Request(verb="update-status", user=ctx.user, resource="jobs.batch",
                                    namespace=job.metadata.namespace, name=job.metadata.name,
                                    obj=evolve(job, status=status)))
        written, record, needs = True, ctx.record, False
    for pod in release:
        ctx.request("patch", name=pod.metadata.name, patch=remove_finalizer_patch(), patch_type="strategic")
        with_finalizer.discard(pod.metadata.uid)
    if not legacy:
        status, needs = _clean_uncounted(status, with_finalizer)
    else:
        record = ctx.record if needs else None
    uncounted = status.uncounted_terminated_pods or UncountedTerminatedPods()
    if finished is not None and not uncounted.succeeded and not uncounted.failed and ctx.terminating <= 0:
        conditions, _ = ensure_condition(status.conditions, finished.type, finished.status, finished.reason,
                                         finished.message, ctx.now)
        status = evolve(status, conditions=conditions,
                        completion_time=ctx.now if finished.type == "Complete" else status.completion_time)
        needs = True
    if needs:
        meta = evolve(job.metadata, resource_version="") if written else job.metadata
        ctx.requests.append(Request(verb="update-status", user=ctx.user, resource="jobs.batch",
                                    namespace=job.metadata.namespace, name=job.metadata.name,
                                    obj=evolve(job, metadata=meta, status=status)))
    return Decision(requests=tuple(ctx.requests), creates=ctx.creates, deletes=tuple(ctx.deletes),
                    finalizers=tuple((p.metadata.name, p.metadata.uid) for p in release), backoff=record,
                    wake=ctx.wake)
