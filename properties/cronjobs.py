"""What a CronJob promises: one Job for each activation of its schedule.

- `cronjob-one-job-per-schedule` (safety): no two Jobs that a CronJob controls carry the same
  scheduled time (the `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation the controller
  sets) at once. Upstream guarantees it by the Job's name, `<cronjob>-<scheduled time in minutes>`
  (`pkg/controller/cronjob/cronjob_controllerv2.go` getJobName): whatever the controller's caches
  say — a Job it created but has not seen yet, a status write that failed or a restart between the
  create and the write ("we need to use the job name as a lock to prevent us from making the job
  twice", syncCronJob) — a second create of that time's Job is refused AlreadyExists. Variant
  `cronjob-no-name-lock` (parameter `cronJobNameLock`) gives each Job a generated name instead.
  Jobs being deleted count (their pods may still run). What the property does not claim: that
  `concurrencyPolicy: Forbid` never has two Jobs active. Upstream does not guarantee it ("there is
  some risk that we won't see an active job when there is one … So it is theoretically possible
  to have concurrency with Forbid", syncCronJob): a sync whose Job and CronJob caches both lag
  behind its last create and status write starts the next activation's Job.

Checked by default where a CronJob can exist (`has_cron_jobs`), so the property tables of other
scenarios do not change. The convergence properties (`jobs-finished`, `workloads-ready`, …) are
judged where a fair run's ticks are spent, since a CronJob's next activation is always a timer
ahead (`kubeprop.model.controllers.cronjob`).
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.batch import Job
from kubeprop.model.api.batch_cronjob import SCHEDULED_TIMESTAMP_ANNOTATION, CronJob
from kubeprop.model.scenario.apply_steps import scenario_holds
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_in_when

__all__ = ["CRONJOB_ONE_JOB_PER_SCHEDULE", "has_cron_jobs"]


def cronjob_one_job_per_schedule(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first CronJob controlling two Jobs of one scheduled time."""
    seen: dict[tuple[str, str], str] = {}
    for job in sorted((j for j in state.store.list("jobs.batch") if isinstance(j, Job)),
                      key=lambda j: (j.metadata.namespace, j.metadata.name)):
        ref = job.metadata.controller_ref()
        at = job.metadata.annotations.get(SCHEDULED_TIMESTAMP_ANNOTATION)
        if ref is None or ref.kind != "CronJob" or at is None:
            continue
        slot = (ref.uid, at)
        if slot in seen:
            ns = job.metadata.namespace
            first = seen[slot]
            return (f"CronJob {ns}/{ref.name}: Jobs {first} and {job.metadata.name} both run the activation of {at}",
                    (f"CronJob {ns}/{ref.name}", f"Job {ns}/{first}", f"Job {ns}/{job.metadata.name}"))
        seen[slot] = job.metadata.name
    return None


def has_cron_jobs(scenario: Any) -> bool:
    """Whether the scenario's manifests or workload steps hold a CronJob."""
    return scenario_holds(scenario, CronJob)


CRONJOB_ONE_JOB_PER_SCHEDULE: Property = register_opt_in_when(__name__, has_cron_jobs, as_property(
    "cronjob-one-job-per-schedule",
    "No CronJob controls two Jobs of the same scheduled time at once (the Job name is the lock).",
    "pkg/controller/cronjob/cronjob_controllerv2.go syncCronJob, getJobName",
    "safety", cronjob_one_job_per_schedule, reads=("objects",)))
"""Opt-in built-in, checked by default where a CronJob can exist (`has_cron_jobs`)."""
