"""`batch/v1` CronJob (`staging/src/k8s.io/api/batch/v1/types.go`, v1.33): Jobs made from
`jobTemplate` at the times `schedule` names (the controller: `kubeprop.model.controllers.cronjob`).

The Job template's spec is a `JobSpec` (`kubeprop.model.api.batch`), so the Job fields the model
refuses are refused in a template too.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kubeprop.model.api.batch import JobSpec
from kubeprop.model.api.integers import Int32, Int64
from kubeprop.model.api.meta import KindInfo, ObjectMeta, ObjectReference

__all__ = ["SCHEDULED_TIMESTAMP_ANNOTATION", "CronJob", "CronJobSpec", "CronJobStatus", "JobTemplateSpec"]

SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
"""batch/v1 CronJobScheduledTimestampAnnotation: a Job's scheduled time, RFC 3339 in the CronJob's
zone (feature CronJobsScheduledAnnotation: beta and on by default from v1.28, GA and locked on in v1.32,
`pkg/features/kube_features.go`)."""


@attrs.frozen(cache_hash=True)
class JobTemplateSpec:
    """The Job a CronJob creates: its labels and annotations, and its spec (`batch/v1 JobTemplateSpec`)."""

    metadata: ObjectMeta = ObjectMeta()
    spec: JobSpec = JobSpec()


@attrs.frozen(cache_hash=True)
class CronJobSpec:
    """CronJob spec (`batch/v1 CronJobSpec`)."""

    schedule: str = ""
    time_zone: str | None = None
    starting_deadline_seconds: Int64 | None = None
    concurrency_policy: str = ""
    suspend: bool | None = None
    job_template: JobTemplateSpec = JobTemplateSpec()
    successful_jobs_history_limit: Int32 | None = None
    failed_jobs_history_limit: Int32 | None = None


@attrs.frozen(cache_hash=True)
class CronJobStatus:
    """CronJob status written by the CronJob controller (`batch/v1 CronJobStatus`): references to
    the running Jobs, the last time a Job was scheduled, the last time one completed."""

    active: tuple[ObjectReference, ...] = ()
    last_schedule_time: Int64 | None = None
    last_successful_time: Int64 | None = None


@attrs.frozen(cache_hash=True)
class CronJob:
    """A CronJob: a Job template run on a schedule."""

    INFO: ClassVar[KindInfo] = KindInfo("batch", "v1", "CronJob", "cronjobs", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: CronJobSpec = CronJobSpec()
    status: CronJobStatus = CronJobStatus()
