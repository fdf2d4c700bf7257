"""One CronJob sync decided from given objects (`cronjob_util`, `cronjob_sync`): the missed-schedule
arithmetic, startingDeadlineSeconds, the concurrency policies, suspend, the history limits, and the
live reads a stale cache needs."""

from __future__ import annotations

import attrs

from kubeprop.model.api.batch import Job, JobSpec, JobStatus
from kubeprop.model.api.batch_cronjob import SCHEDULED_TIMESTAMP_ANNOTATION, CronJob, CronJobSpec, CronJobStatus
from kubeprop.model.api.cron_zone import Zone
from kubeprop.model.api.meta import Condition, ObjectMeta, ObjectReference, OwnerReference
from kubeprop.model.controllers.cronjob_sync import Live, decide, job_ref, pending_write
from kubeprop.model.controllers.cronjob_util import (
    job_from_template,
    most_recent_schedule_time,
    next_schedule_time,
    requeue_at,
    schedule_of,
)
from kubeprop.model.frozen import FrozenMap

USER = "system:kube-controller-manager"


def _cron(schedule: str = "* * * * *", created: int = 0, last: int | None = None, policy: str = "Allow",
          active: tuple[Job, ...] = (), **spec: object) -> CronJob:
    meta = ObjectMeta(name="report", namespace="default", uid="cj-uid", resource_version="7",
                      creation_timestamp=created)
    return CronJob(metadata=meta, spec=CronJobSpec(schedule=schedule, concurrency_policy=policy, suspend=False,
                                                   **spec),  # type: ignore[arg-type]
                   status=CronJobStatus(active=tuple(job_ref(j) for j in active), last_schedule_time=last))


def _job(name: str, uid: str, finished: str | None = None, start: int | None = None, done: int | None = None) -> Job:
    owner = OwnerReference(api_version="batch/v1", kind="CronJob", name="report", uid="cj-uid", controller=True)
    conditions = (Condition(type=finished, status="True"),) if finished else ()
    return Job(metadata=ObjectMeta(name=name, namespace="default", uid=uid, owner_references=(owner,)),
               spec=JobSpec(), status=JobStatus(conditions=conditions, start_time=start, completion_time=done))


def _verbs(requests: tuple[object, ...]) -> list[tuple[str, str]]:
    return [(r.verb, r.name or r.obj.metadata.name) for r in requests]  # type: ignore[attr-defined]


def test_most_recent_schedule_time() -> None:
    cron = _cron()
    sched = schedule_of(cron)
    assert sched is not None
    assert most_recent_schedule_time(cron, 59, sched, True) == (0, None, "none", False)
    assert most_recent_schedule_time(cron, 119, sched, True) == (0, 60, "none", False)
    assert most_recent_schedule_time(cron, 3600 + 30, sched, True) == (0, 3600, "few", False)
    many = most_recent_schedule_time(cron, 200 * 60 + 5, sched, True)
    assert many[1:] == (200 * 60, "many", False)  # v1.33 still starts the most recent one
    deadline = attrs.evolve(cron, spec=attrs.evolve(cron.spec, starting_deadline_seconds=100))
    assert most_recent_schedule_time(deadline, 200 * 60 + 5, sched, True)[0] == 200 * 60 + 5 - 100
    assert most_recent_schedule_time(deadline, 200 * 60 + 5, sched, False)[0] == 0


def test_an_impossible_schedule_is_an_error_without_requeue() -> None:
    cron = _cron("0 0 30 2 *")
    sched = schedule_of(cron)
    assert sched is not None
    assert next_schedule_time(cron, 10 ** 6, sched) == (None, True)
    assert requeue_at(cron, 10 ** 6, sched) is None


def test_requeue_at_the_next_activation() -> None:
    cron = _cron("*/5 * * * *", last=300)
    sched = schedule_of(cron)
    assert sched is not None
    assert requeue_at(cron, 310, sched) == 600
    assert requeue_at(cron, 1000, sched) == 1200  # missed 600 and 900: after now


def test_the_job_of_an_activation() -> None:
    cron = _cron(time_zone="Etc/GMT-2")
    job = job_from_template(cron, 3600, Zone("Etc/GMT-2"))
    assert job.metadata.name == "report-60"
    assert job.metadata.annotations[SCHEDULED_TIMESTAMP_ANNOTATION] == "1970-01-01T03:00:00+02:00"
    ref = job.metadata.controller_ref()
    assert ref is not None and (ref.kind, ref.name, ref.uid, ref.block_owner_deletion) == ("CronJob", "report",
                                                                                           "cj-uid", True)
    unlocked = job_from_template(cron, 3600, Zone("Etc/GMT-2"), name_lock=False)
    assert (unlocked.metadata.name, unlocked.metadata.generate_name) == ("", "report-")


def test_a_due_activation_creates_its_job_then_records_it() -> None:
    decision = decide(USER, _cron(), [], Live(), 65)
    assert _verbs(decision.requests) == [("create", "report-1")]
    assert decision.pending is not None and decision.pending.scheduled == 60
    created = attrs.evolve(decision.pending, created=ObjectReference(kind="Job", name="report-1", uid="j1"))
    (write,), outcome = pending_write(USER, created, Live())
    assert outcome == "requeue" and write.verb == "update-status"
    assert write.obj.status.last_schedule_time == 60
    assert [r.uid for r in write.obj.status.active] == ["j1"]


def test_nothing_before_the_first_activation_or_once_processed() -> None:
    assert decide(USER, _cron(), [], Live(), 59).requests == ()
    assert decide(USER, _cron(last=60), [], Live(), 100).requests == ()


def test_starting_deadline_seconds() -> None:
    late = _cron(starting_deadline_seconds=10)
    assert decide(USER, late, [], Live(), 75).requests == ()  # 60 + 10 < 75: MissSchedule
    assert _verbs(decide(USER, late, [], Live(), 69).requests) == [("create", "report-1")]
    # at 70 the earliest time considered is 70 - 10 = 60 itself, and Next(60) is 120: nothing unmet
    assert decide(USER, late, [], Live(), 70).requests == ()


def test_suspend_and_deletion_start_nothing() -> None:
    suspended = attrs.evolve(_cron(), spec=attrs.evolve(_cron().spec, suspend=True))
    assert decide(USER, suspended, [], Live(), 65).requests == ()
    deleting = attrs.evolve(_cron(), metadata=attrs.evolve(_cron().metadata, deletion_timestamp=64))
    assert decide(USER, deleting, [], Live(), 65).requests == ()


def test_concurrency_policies() -> None:
    running = _job("report-1", "j1")
    allow = decide(USER, _cron(last=60, active=(running,)), [running], Live(), 125)
    assert _verbs(allow.requests) == [("create", "report-2")]
    forbid = decide(USER, _cron(last=60, policy="Forbid", active=(running,)), [running], Live(), 125)
    assert forbid.requests == ()
    replace = decide(USER, _cron(last=60, policy="Replace", active=(running,)), [running], Live(), 125)
    assert _verbs(replace.requests) == [("delete", "report-1"), ("create", "report-2")]
    assert replace.requests[0].propagation_policy == "Background"
    assert replace.pending is not None and replace.pending.cron_job.status.active == ()


def test_finished_jobs_leave_active_and_the_history_limits_delete_the_oldest() -> None:
    jobs = [_job(f"report-{i}", f"j{i}", "Complete", start=i * 60, done=i * 60 + 5) for i in (1, 2, 3)]
    jobs.append(_job("report-4", "j4", "Failed", start=240))
    cron = _cron(last=240, active=tuple(jobs), successful_jobs_history_limit=1, failed_jobs_history_limit=1)
    decision = decide(USER, cron, jobs, Live(), 250)
    assert _verbs(decision.requests) == [("delete", "report-1"), ("delete", "report-2"), ("update-status", "report")]
    status = decision.requests[-1].obj.status
    assert status.active == () and status.last_successful_time == 185
    assert decision.cleanup == frozenset({"report-1", "report-2"})


def test_an_unknown_running_job_is_read_live_first() -> None:
    """A running Job the cached status does not list: the live CronJob decides (it lists it: the
    cache was behind, and the activation is processed already)."""
    running = _job("report-1", "j1")
    stale = _cron()
    first = decide(USER, stale, [running], Live(), 70)
    assert first.reads and _verbs(first.requests) == [("get", "report")]
    fresh = _cron(last=60, active=(running,))
    after = decide(USER, stale, [running], Live(asked_cron_job=True, cron_job=fresh), 70)
    assert after.requests == () and after.pending is None
    unknown = decide(USER, stale, [running], Live(asked_cron_job=True, cron_job=stale), 70)
    assert _verbs(unknown.requests) == [("create", "report-1")]  # AlreadyExists: the name is the lock


def test_an_active_job_missing_from_the_cache_is_read_live() -> None:
    gone = _job("report-1", "j1")
    cron = _cron(last=60, active=(gone,))
    first = decide(USER, cron, [], Live(), 70)
    assert first.reads and _verbs(first.requests) == [("get", "report-1")]
    kept = decide(USER, cron, [], Live(jobs=FrozenMap({"report-1": gone})), 70)
    assert kept.requests == ()
    missing = decide(USER, cron, [], Live(jobs=FrozenMap({"report-1": None})), 70)
    assert _verbs(missing.requests) == [("update-status", "report")]
    assert missing.requests[0].obj.status.active == ()


def test_already_exists_reads_the_job_and_records_it_if_controlled() -> None:
    decision = decide(USER, _cron(), [], Live(), 65)
    assert decision.pending is not None
    exists = attrs.evolve(decision.pending, exists=True)
    (get,), outcome = pending_write(USER, exists, Live())
    assert get.verb == "get" and outcome == "retry"
    ours = _job("report-1", "j1")
    (write,), outcome = pending_write(USER, exists, Live(jobs=FrozenMap({"report-1": ours})))
    assert outcome == "requeue" and [r.uid for r in write.obj.status.active] == ["j1"]
    assert pending_write(USER, exists, Live(jobs=FrozenMap({"report-1": None})))[1] == "retry"  # GetJob failed


def test_a_job_it_does_not_control_or_already_active_ends_the_sync_without_requeue() -> None:
    """syncCronJob's IsAlreadyExists branch returns `nil, updateStatus, nil` (audit22a): no
    AddAfter, so the key waits for an event."""
    decision = decide(USER, _cron(), [], Live(), 65)
    assert decision.pending is not None
    exists = attrs.evolve(decision.pending, exists=True)
    ours = _job("report-1", "j1")
    foreign = attrs.evolve(ours, metadata=attrs.evolve(ours.metadata, owner_references=()))
    assert pending_write(USER, exists, Live(jobs=FrozenMap({"report-1": foreign}))) == ((), "stall")
    ref = ObjectReference(kind="Job", name="report-1", uid="j1")
    active = attrs.evolve(exists, cron_job=attrs.evolve(exists.cron_job, status=attrs.evolve(
        exists.cron_job.status, active=(ref,))))
    assert pending_write(USER, active, Live(jobs=FrozenMap({"report-1": ours}))) == ((), "stall")


def test_the_repeated_hour_of_the_fall_back_day_starts_a_second_job() -> None:
    """`30 1 * * *` in America/New_York on 2026-11-01 (02:00 EDT is 01:00 EST, 06:00 UTC): robfig/cron
    fires at 01:30 EDT and at 01:30 EST (`test_cron_zone`), so the sync after the second starts a
    second Job, named by its own minute and annotated with its own offset; the spring-forward day's
    missing 02:30 of `30 2 * * *` starts none, and the next day's does."""
    first, second = 1793511000, 1793514600  # 05:30 and 06:30 UTC
    cron = _cron("30 1 * * *", created=first - 3600, last=first, time_zone="America/New_York")
    sched = schedule_of(cron)
    assert sched is not None and requeue_at(cron, first + 5, sched) == second
    decision = decide(USER, cron, [], Live(), second + 5)
    assert _verbs(decision.requests) == [("create", f"report-{second // 60}")]
    job = decision.requests[0].obj
    assert isinstance(job, Job)
    assert job.metadata.annotations[SCHEDULED_TIMESTAMP_ANNOTATION] == "2026-11-01T01:30:00-05:00"
    spring = _cron("30 2 * * *", created=1772868600, last=1772868600, time_zone="America/New_York")  # 03-07 02:30 EST
    assert decide(USER, spring, [], Live(), 1772955000 + 5).requests == ()  # 03:30 EDT: 02:30 never was
    assert _verbs(decide(USER, spring, [], Live(), 1773037800 + 5).requests) == [("create", "report-29550630")]
