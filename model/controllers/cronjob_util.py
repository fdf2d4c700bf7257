"""The CronJob controller's time arithmetic and Job making (`pkg/controller/cronjob/utils.go`,
v1.33), pure functions of a CronJob and the model time.

- `most_recent_schedule_time` is mostRecentScheduleTime: the earliest time considered is the last
  schedule time, else the CronJob's creation; with `include_deadline`, no earlier than
  `now - startingDeadlineSeconds`. From the next two activations t1 < t2 after it: none missed when
  `now` is before t1, t1 when before t2; else the number of missed activations is approximated as
  `(now - t1) / (t2 - t1) + 1` and the most recent one is searched from one interval before that
  estimate (which finds it for regular schedules and `@every`). More than 100 missed is "many": the
  v1.33 controller then only records a TooManyMissedTimes warning and still starts the most recent
  one (the v1 controller gave up: `cronjob-v1-missed-starts` is not modelled). Two activations
  less than a second apart, or none (`0 0 30 2 *`), is an error: the sync ends, with no requeue.
- `next_schedule_time` is nextScheduleTime: the time to start a Job for now, if any.
- `requeue_at` is nextScheduleTimeDuration: when the key is queued again (`AddAfter`), the next
  activation after the most recent one (after the earliest time when none was missed, after now
  when some were or on error); upstream adds 100 ms (nextScheduleDelta), which falls within the
  same tick of the model's clock (whole seconds, the key is reconciled at or after the time).
- `job_from_template` is getJobFromTemplate2: the template's labels and annotations, the
  `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation (RFC 3339 in the CronJob's zone),
  the name `<cronjob>-<scheduled time in minutes>` (getJobName, getTimeHashInMinutes: one name per
  scheduled time, the controller's lock against creating a time's Job twice), the controller
  reference, the template's spec.
"""

from __future__ import annotations

from typing import Literal

import attrs

from kubeprop.model.api.batch import Job, JobSpec
from kubeprop.model.api.batch_cronjob import SCHEDULED_TIMESTAMP_ANNOTATION, CronJob
from kubeprop.model.api.cron_schedule import CronSchedule, ScheduleError, next_time, parse, to_rfc3339
from kubeprop.model.api.cron_zone import UTC, Zone, load_location
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import ObjectMeta, OwnerReference

__all__ = ["MANY_MISSED", "Missed", "job_from_template", "job_name", "most_recent_schedule_time",
           "next_schedule_time", "one_run", "requeue_at", "schedule_of"]

MANY_MISSED = 100
"""More missed activations than this is "many" (utils.go)."""

Missed = Literal["none", "few", "many"]


def schedule_of(cron_job: CronJob) -> tuple[CronSchedule, Zone] | None:
    """The parsed schedule and the zone it runs in (syncCronJob's time.LoadLocation of
    `spec.timeZone`, formatSchedule's `TZ=<zone> <schedule>`, cron.ParseStandard); None when the
    schedule or zone cannot be used (the sync ends: UnparseableSchedule, UnknownTimeZone)."""
    zone = UTC if cron_job.spec.time_zone is None else load_location(cron_job.spec.time_zone)
    if isinstance(zone, str):
        return None
    try:
        return parse(cron_job.spec.schedule), zone
    except ScheduleError:
        return None


def most_recent_schedule_time(cron_job: CronJob, now: int, schedule: tuple[CronSchedule, Zone],
                              include_deadline: bool) -> tuple[int, int | None, Missed, bool]:
    """mostRecentScheduleTime: (earliest time, most recent activation or None, how many were
    missed, whether the schedule is in error)."""
    sched, zone = schedule
    earliest = cron_job.metadata.creation_timestamp or 0
    if cron_job.status.last_schedule_time is not None:
        earliest = cron_job.status.last_schedule_time
    deadline = cron_job.spec.starting_deadline_seconds
    if include_deadline and deadline is not None and now - deadline > earliest:
        earliest = now - deadline
    t1 = next_time(sched, earliest, zone)
    t2 = next_time(sched, t1, zone) if t1 is not None else None
    if t1 is not None and now < t1:
        return earliest, None, "none", False
    if t1 is not None and t2 is not None and now < t2:
        return earliest, t1, "none", False
    if t1 is None or t2 is None or t2 - t1 < 1:
        return earliest, None, "none", True  # "time difference between two schedules is less than 1 second"
    interval = t2 - t1
    missed_count = (now - t1) // interval + 1
    most_recent: int | None = None
    t: int | None = next_time(sched, t1 + (missed_count - 2) * interval, zone)
    while t is not None and t <= now:
        most_recent, t = t, next_time(sched, t, zone)
    missed: Missed = "many" if missed_count > MANY_MISSED else "few"
    return earliest, most_recent, missed, False


def next_schedule_time(cron_job: CronJob, now: int, schedule: tuple[CronSchedule, Zone]) -> tuple[int | None, bool]:
    """nextScheduleTime: the activation to start a Job for (None: none unmet), and whether the
    schedule is in error."""
    _, most_recent, _, error = most_recent_schedule_time(cron_job, now, schedule, True)
    if most_recent is None or most_recent > now:
        return None, error
    return most_recent, error


def requeue_at(cron_job: CronJob, now: int, schedule: tuple[CronSchedule, Zone]) -> int | None:
    """nextScheduleTimeDuration as a model time (None when no activation follows: Go's zero time)."""
    earliest, most_recent, missed, error = most_recent_schedule_time(cron_job, now, schedule, False)
    if error:
        most_recent = now
    elif most_recent is None:
        most_recent = earliest if missed == "none" else now
    return next_time(schedule[0], most_recent, schedule[1])


def job_name(cron_job: CronJob, scheduled: int) -> str:
    """getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`."""
    return f"{cron_job.metadata.name}-{scheduled // 60}"


def job_from_template(cron_job: CronJob, scheduled: int, zone: Zone, name_lock: bool = True) -> Job:
    """getJobFromTemplate2 (module docstring); without `name_lock` (the `cronjob-no-name-lock`
    variant) the Job gets a generated name, `<cronjob>-<random>`, instead of its scheduled time's."""
    template = cron_job.spec.job_template
    annotations = template.metadata.annotations.set(SCHEDULED_TIMESTAMP_ANNOTATION, to_rfc3339(scheduled, zone))
    owner = OwnerReference(api_version="batch/v1", kind="CronJob", name=cron_job.metadata.name,
                           uid=cron_job.metadata.uid, controller=True, block_owner_deletion=True)
    name, generate = (job_name(cron_job, scheduled), "") if name_lock else ("", f"{cron_job.metadata.name}-")
    meta = ObjectMeta(name=name, generate_name=generate, namespace=cron_job.metadata.namespace,
                      labels=template.metadata.labels, annotations=annotations, owner_references=(owner,))
    spec: JobSpec = template.spec
    return Job(metadata=meta, spec=spec)


def one_run(cron_job: CronJob) -> Job:
    """The Job of one activation as the API server stores it (the Job defaults, the generated
    selector and labels, `validation_job.generate_selector`), for what runs at once where a CronJob
    fires (`kubeprop schedule`: the pods of one run of each CronJob not suspended). Its name is its
    activation's at model time 0 (`<cronjob>-0`); it stands for a Job the API server has not made, so
    its UID is the CronJob's (the pods' controller reference needs one)."""
    from kubeprop.model.api.validation_job import generate_selector  # (validation_job imports the batch kinds)
    job = job_from_template(cron_job, 0, UTC)
    defaulted = apply_defaults(attrs.evolve(job, metadata=attrs.evolve(job.metadata, uid=cron_job.metadata.uid)))
    assert isinstance(defaulted, Job)
    return generate_selector(defaulted)
