"""One sync of a CronJob (`pkg/controller/cronjob/cronjob_controllerv2.go` sync, cleanupFinishedJobs
and syncCronJob, v1.33), decided from the cache and the answers of the live reads the sync made.

Upstream's sync reads the API server twice beside its cache: `GetCronJob` when it finds an
unfinished Job it controls that is not in the cached CronJob's `status.active` (the status may be
newer than the cache: "our jobs list is newer than our cj status after a relist"), and `GetJob` for
each active Job missing from the Job cache ("to avoid a slow watch not able to update the job
lister on time, giving an unwanted miss"). A model decision is taken before its requests are sent,
so a read whose answer the sync needs is sent first, remembered by the controller
(`CronJobController.observe`), and the sync goes on at the key's next reconcile with the answer
(`Live`); the answers are forgotten once a sync has used them. When the live CronJob holds the Job,
upstream goes on with that copy (`cronJob = cjCopy`) while the status it writes at the end is still
its cached copy's (with the changes made before): so does `decide`.

The Job's create and the status write that records it (`status.active` += the new Job,
`lastScheduleTime`) are two reconciles here: the reference needs the UID the create answers
(`Pending`). Upstream the controller can stop between them as well (a crash, a failed status write);
the next sync then finds the Job in its cache or, by the name lock, AlreadyExists, GETs the Job and
records it if it controls it (the `exists` path of `Pending`).

Cleanup (`cleanup_requests`): with a history limit set, the oldest finished Jobs beyond it —
successful (Complete) and failed counted apart, sorted by start time (none last), then name — are
deleted with background propagation (realJobControl.DeleteJob) and dropped from `status.active`; a
failed delete is only logged upstream, so it is tolerated (`CleanupTolerance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from kubeprop.model.api.batch import Job, condition_true, is_finished
from kubeprop.model.api.batch_cronjob import CronJob, CronJobStatus
from kubeprop.model.api.meta import ObjectReference
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.cronjob_util import job_from_template, job_name, next_schedule_time, schedule_of
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap

__all__ = ["CleanupTolerance", "Decision", "Live", "Pending", "decide", "job_ref", "status_write"]

JOBS = "jobs.batch"
CRONJOBS = "cronjobs.batch"


@attrs.frozen
class Live:
    """Answers of the live reads one CronJob's sync asked: the CronJob (`asked_cron_job`; None: not
    found or not answered) and Jobs by name (None: not found)."""

    asked_cron_job: bool = False
    cron_job: CronJob | None = None
    jobs: FrozenMap[str, Job | None] = EMPTY


@attrs.frozen
class Pending:
    """A Job create sent by a sync, and the status it writes next: `cron_job` is the object to
    write (the cached copy with the sync's changes), `record` whether the new Job is added to it
    (not when the sync went on with the live copy), `dirty` whether it must be written even
    without the Job; `created` the create's answer, `exists` an AlreadyExists answer."""

    cron_job: CronJob
    name: str
    scheduled: int
    record: bool = True
    dirty: bool = False
    created: ObjectReference | None = None
    exists: bool = False


@attrs.frozen
class Decision:
    """What a sync sends, the live reads it still needs (sent instead, the key requeued), the Job
    create it leaves pending, and the Jobs its cleanup deletes."""

    requests: tuple[Request, ...] = ()
    reads: bool = False
    pending: Pending | None = None
    cleanup: frozenset[str] = frozenset()


@attrs.frozen
class CleanupTolerance:
    """A Reconciliation's `tolerate`: a cleanup delete that fails is only logged (removeOldestJobs),
    and a Job already gone answers a live GET with 404, which is an answer."""

    cleanup: frozenset[str] = frozenset()

    def __call__(self, request: Request, response: Response) -> Literal["ignore"] | None:
        if request.resource == JOBS and request.verb == "delete" and request.name in self.cleanup:
            return "ignore"
        if request.verb == "get" and response.code == 404:
            return "ignore"
        return None


def job_ref(job: Job) -> ObjectReference:
    """getRef: the Job's object reference."""
    return ObjectReference(kind="Job", namespace=job.metadata.namespace, name=job.metadata.name,
                           uid=job.metadata.uid, api_version="batch/v1",
                           resource_version=job.metadata.resource_version)


def status_write(user: str, cron_job: CronJob, status: CronJobStatus) -> Request:
    """cronJobControl.UpdateStatus."""
    return Request(verb="update-status", user=user, resource=CRONJOBS, namespace=cron_job.metadata.namespace,
                   name=cron_job.metadata.name, obj=evolve(cron_job, status=status))


def _without(status: CronJobStatus, uid: str) -> CronJobStatus:
    """deleteFromActiveList."""
    return evolve(status, active=tuple(r for r in status.active if r.uid != uid))


def _start_key(job: Job) -> tuple[bool, int, str]:
    """byJobStartTime: by start time, those without one last, then by name."""
    return job.status.start_time is None, job.status.start_time or 0, job.metadata.name


def cleanup_requests(user: str, cron_job: CronJob, jobs: Sequence[Job]) -> tuple[list[Request], CronJobStatus]:
    """cleanupFinishedJobs: the deletes and the status without the deleted Jobs."""
    spec, status = cron_job.spec, cron_job.status
    requests: list[Request] = []
    for limit, kind in ((spec.successful_jobs_history_limit, "Complete"), (spec.failed_jobs_history_limit, "Failed")):
        if limit is None:
            continue
        finished = sorted((j for j in jobs if _finished_as(j) == kind), key=_start_key)
        for job in finished[:max(0, len(finished) - limit)]:
            requests.append(Request(verb="delete", user=user, resource=JOBS, namespace=job.metadata.namespace,
                                    name=job.metadata.name, propagation_policy="Background"))
            status = _without(status, job.metadata.uid)
    return requests, status


def _finished_as(job: Job) -> str | None:
    """getFinishedStatus: the first Complete or Failed condition that is True."""
    for c in job.status.conditions:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return c.type
    return None


def reads_needed(cron_job: CronJob, jobs: Sequence[Job], live: Live) -> list[tuple[str, str]]:
    """The live reads the sync needs and has no answer to: ("cronjob", name), then ("job", name)
    for active Jobs missing from the cache (of the copy the sync goes on with)."""
    in_use = _in_use(cron_job, jobs, live)
    if in_use is None:
        return [("cronjob", cron_job.metadata.name)]
    children = {j.metadata.uid for j in jobs}
    return [("job", r.name) for r in in_use.status.active if r.uid not in children and r.name not in live.jobs]


def _in_use(cron_job: CronJob, jobs: Sequence[Job], live: Live) -> CronJob | None:
    """The CronJob the sync goes on with: the cached one, or the live one when it holds an unknown
    unfinished Job (None: the live read is still to be made)."""
    active = {r.uid for r in cron_job.status.active}
    for job in sorted(jobs, key=lambda j: j.metadata.name):
        if job.metadata.uid not in active and not is_finished(job):
            if not live.asked_cron_job:
                return None
            if live.cron_job is not None and any(r.uid == job.metadata.uid for r in live.cron_job.status.active):
                return live.cron_job
    return cron_job


def decide(user: str, cached: CronJob, jobs: Sequence[Job], live: Live, now: int, name_lock: bool = True) -> Decision:
    """sync: cleanup, then syncCronJob (module docstring); the live reads first when needed."""
    missing = reads_needed(cached, jobs, live)
    if missing:
        return Decision(tuple(Request(verb="get", user=user, resource=CRONJOBS if kind == "cronjob" else JOBS,
                                      namespace=cached.metadata.namespace, name=name) for kind, name in missing),
                        reads=True)
    deletes, status = cleanup_requests(user, cached, jobs)
    cleanup = frozenset(r.name for r in deletes)
    written = evolve(cached, status=status)
    dirty = bool(deletes)
    cur, detached = written, False
    for job in sorted(jobs, key=lambda j: j.metadata.name):
        found = any(r.uid == job.metadata.uid for r in cur.status.active)
        if not found and not is_finished(job):
            if live.cron_job is not None and any(r.uid == job.metadata.uid for r in live.cron_job.status.active):
                cur, detached = live.cron_job, True  # cronJob = cjCopy: the write stays `written`
            continue  # "UnexpectedJob": a Job it did not create or forgot
        if is_finished(job):
            new = _without(cur.status, job.metadata.uid) if found else cur.status
            done = job.status.completion_time
            if condition_true(job, "Complete") and (new.last_successful_time is None or (
                    done is not None and done > new.last_successful_time)):
                new = evolve(new, last_successful_time=done)
            if new != cur.status:
                cur, dirty = evolve(cur, status=new), True
                written = written if detached else cur
    children = {j.metadata.uid for j in jobs}
    for ref in cur.status.active:
        if ref.uid not in children and live.jobs.get(ref.name, "unknown") is None:  # MissingJob
            cur, dirty = evolve(cur, status=_without(cur.status, ref.uid)), True
            written = written if detached else cur
    return _schedule(user, (cur, written), detached, dirty, deletes, cleanup, now, name_lock)


def _schedule(user: str, objects: tuple[CronJob, CronJob], detached: bool, dirty: bool, requests: list[Request],
              cleanup: frozenset[str], now: int, name_lock: bool) -> Decision:
    """syncCronJob from the deletion check on: start the Job of the most recent unmet activation
    (`objects`: the CronJob the sync goes on with, and the one it writes)."""
    cur, written = objects
    done = Decision((*requests, *((status_write(user, written, written.status),) if dirty else ())), cleanup=cleanup)
    schedule = schedule_of(cur)
    if cur.metadata.deletion_timestamp is not None or cur.spec.suspend or schedule is None:
        return done
    scheduled, _ = next_schedule_time(cur, now, schedule)
    if scheduled is None:
        return done
    deadline = cur.spec.starting_deadline_seconds
    if deadline is not None and scheduled + deadline < now:
        return done  # "MissSchedule": too late to start
    name = job_name(cur, scheduled)
    if any(r.name == name for r in cur.status.active) or cur.status.last_schedule_time == scheduled:
        return done  # "the scheduled time is already processed"
    if cur.spec.concurrency_policy == "Forbid" and cur.status.active:
        return done  # "JobAlreadyActive"
    if cur.spec.concurrency_policy == "Replace":
        for ref in cur.status.active:
            requests.append(Request(verb="delete", user=user, resource=JOBS, namespace=ref.namespace or
                                    cur.metadata.namespace, name=ref.name, propagation_policy="Background"))
            cur, dirty = evolve(cur, status=_without(cur.status, ref.uid)), True
            written = written if detached else cur
    job = job_from_template(cur, scheduled, schedule[1], name_lock)
    requests.append(Request(verb="create", user=user, resource=JOBS, namespace=cur.metadata.namespace, obj=job))
    pending = Pending(cron_job=written, name=job.metadata.name, scheduled=scheduled, record=not detached, dirty=dirty)
    return Decision(tuple(requests), pending=pending, cleanup=cleanup)


Outcome = Literal["requeue", "retry", "stall"]
"""How a sync that created (or found) its Job ends: with its usual requeue at the next activation,
queued again at once (a live read to make, or a failed one: the sync's error), or without any
requeue (`stall`: the Job that existed is not this CronJob's, or already in `status.active`)."""


def pending_write(user: str, pending: Pending, live: Live) -> tuple[tuple[Request, ...], Outcome]:
    """The rest of a sync that created (or found) its Job: the status write, or the live read of
    the Job that already existed; and how the sync ends (`Outcome`). syncCronJob's IsAlreadyExists
    branch returns `nil, updateStatus, nil` when the Job is not controlled by the CronJob or is in
    its active list: no requeueAfter, no error, so sync and processNextWorkItem add the key nowhere
    (`pkg/controller/cronjob/cronjob_controllerv2.go`, v1.33)."""
    cron_job = pending.cron_job
    status = cron_job.status
    if pending.created is not None:
        ref = pending.created
    elif pending.exists:
        if pending.name not in live.jobs:
            return (Request(verb="get", user=user, resource=JOBS, namespace=cron_job.metadata.namespace,
                            name=pending.name),), "retry"
        job = live.jobs[pending.name]
        owner = job.metadata.controller_ref() if job is not None else None
        if job is None:  # GetJob failed: the sync returns the error, the key is retried
            return ((status_write(user, cron_job, status),) if pending.dirty else ()), "retry"
        if owner is None or owner.uid != cron_job.metadata.uid or any(r.uid == job.metadata.uid for r in status.active):
            return ((status_write(user, cron_job, status),) if pending.dirty else ()), "stall"
        ref = job_ref(job)
    else:
        return (), "requeue"
    if pending.record:
        status = evolve(status, active=(*status.active, ref), last_schedule_time=pending.scheduled)
    return (status_write(user, cron_job, status),), "requeue"
