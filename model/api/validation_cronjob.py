"""Validation of CronJobs (`pkg/apis/batch/validation/validation.go`, v1.33).

ValidateCronJobCreate: the name at most 52 characters (the controller appends an 11-character
`-<minutes>` to make a Job's name of at most 63), and validateCronJobSpec: `schedule` required and
parsed by `cron.ParseStandard` (`kubeprop.model.api.cron_schedule`: the library's message, under
`spec.schedule`), any `TZ` in it refused ("cannot use TZ or CRON_TZ in schedule, use timeZone field
instead" — an old schedule with TZ may keep it on update, which the model never stores: create
refuses it); `startingDeadlineSeconds` and the history limits non-negative; `timeZone`
(validateTimeZone: non-empty, each `/`-part of IANA name characters, `Local` in any case refused, then
`time.LoadLocation`'s own error — `kubeprop.model.api.cron_zone`: Go 1.24's embedded database, read
from the tzdata package; `local` gets both errors, as upstream, which does not return after the first);
`concurrencyPolicy` Allow, Forbid or Replace (`Required` when empty); the Job template
(ValidateJobTemplateSpec: the Job spec as validateJobSpec checks it — ValidateJobSpec's selector
checks left out, the selector is generated for each Job — with no `selector` ("`selector` will be
auto-generated") and no `manualSelector: true`). ValidateCronJobUpdate skips the name limit; the
model's CronJobs all passed it on create, so checking it again on update refuses nothing more.
CronJob has no status validation upstream (the strategy's ValidateUpdate for status only checks the
metadata).
"""

from __future__ import annotations

import re
from typing import Final

from kubeprop.model.api.batch_cronjob import CronJob, CronJobSpec
from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.cron_schedule import ScheduleError, parse
from kubeprop.model.api.cron_zone import load_location
from kubeprop.model.api.validation_fields import ErrorList, invalid, not_supported, optional_nonnegative, required
from kubeprop.model.api.validation_job import validate_job_spec

__all__ = ["MAX_NAME_LENGTH", "validate_cron_job"]

MAX_NAME_LENGTH: Final = 52
"""DNS1035LabelMaxLength (63) - 11."""

_TZ_CHARS: Final = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")
"""validation.go validTimeZoneCharacters, `^…$` (whole part: `fullmatch`, since Python's `$` also
matches before a final newline)."""


def _time_zone(zone: str | None, path: FieldPath) -> ErrorList:
    """validateTimeZone (pkg/apis/batch/validation/validation.go, v1.33)."""
    if zone is None:
        return []
    if not zone:
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_CHARS.fullmatch(part):
            return [invalid(path, zone, f"unknown time zone {zone}")]
    errs: ErrorList = []
    if zone.lower() == "local":  # strings.EqualFold
        errs.append(invalid(path, zone, "timeZone must be an explicit time zone as defined in "
                                        "https://www.iana.org/time-zones"))
    loaded = load_location(zone)
    if isinstance(loaded, str):
        errs.append(invalid(path, zone, loaded))
    return errs


def _schedule(spec: CronJobSpec, path: FieldPath) -> ErrorList:
    """The schedule: required, parsed, no TZ (validateScheduleFormat with allowTZInSchedule false)."""
    if not spec.schedule:
        return [required(path)]
    errs: ErrorList = []
    try:
        parse(spec.schedule)
    except ScheduleError as err:
        errs.append(invalid(path, spec.schedule, str(err)))
    if "TZ" in spec.schedule:
        errs.append(invalid(path, spec.schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    return errs


def validate_cron_job_spec(spec: CronJobSpec, path: FieldPath) -> ErrorList:
    """validateCronJobSpec."""
    errs = _schedule(spec, (*path, "schedule"))
    errs += optional_nonnegative(spec.starting_deadline_seconds, (*path, "startingDeadlineSeconds"))
    errs += _time_zone(spec.time_zone, (*path, "timeZone"))
    policy = spec.concurrency_policy
    if not policy:
        errs.append(required((*path, "concurrencyPolicy")))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.append(not_supported((*path, "concurrencyPolicy"), policy, ("Allow", "Forbid", "Replace")))
    tpath = (*path, "jobTemplate", "spec")
    job_spec = spec.job_template.spec
    errs += [e for e in validate_job_spec(job_spec, tpath) if not _selector_check(e.path, tpath)]
    if job_spec.selector is not None:
        errs.append(invalid((*tpath, "selector"), job_spec.selector, "`selector` will be auto-generated"))
    if job_spec.manual_selector:
        errs.append(not_supported((*tpath, "manualSelector"), job_spec.manual_selector, ("nil", "false")))
    errs += optional_nonnegative(spec.successful_jobs_history_limit, (*path, "successfulJobsHistoryLimit"))
    return errs + optional_nonnegative(spec.failed_jobs_history_limit, (*path, "failedJobsHistoryLimit"))


def _selector_check(path: FieldPath, tpath: FieldPath) -> bool:
    """An error of ValidateJobSpec's own selector checks (the selector required, the template's
    labels matching it), which validateJobSpec — what a Job template gets — does not make."""
    return path[:len(tpath) + 1] == (*tpath, "selector") or path == (*tpath, "template", "metadata", "labels")


def validate_cron_job(cron_job: CronJob) -> ErrorList:
    """ValidateCronJobCreate and ValidateCronJobUpdate (after the object metadata)."""
    errs: ErrorList = []
    if len(cron_job.metadata.name) > MAX_NAME_LENGTH:
        errs.append(invalid(("metadata", "name"), cron_job.metadata.name,
                            f"must be no more than {MAX_NAME_LENGTH} characters"))
    return errs + validate_cron_job_spec(cron_job.spec, ("spec",))
