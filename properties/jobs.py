"""What a Job promises: its pods run to completion, and each finished pod is counted once.

- `job-pods-counted` (safety): no finished pod of a Job can be lost to its counters. A terminal
  pod the Job controls that no longer carries the `batch.kubernetes.io/job-tracking` finalizer and
  is not listed in `status.uncountedTerminatedPods` has been counted, so there are never more of
  them than `status.succeeded + status.failed` (for an Indexed Job: the Succeeded ones of a valid
  index are in `completedIndexes`, the others within `failed`); and an Indexed Job counts each
  index once (`succeeded` is the number of `completedIndexes`, never above `completions`). This is
  what JobTrackingWithFinalizers guarantees (KEP-2307; `pkg/controller/job/job_controller.go`
  trackJobStatusAndRemoveFinalizers: a pod's UID is written to uncountedTerminatedPods before its
  finalizer is removed, and moved to the counters after): a pod that podgc or a user deletes
  before the controller counted it stays, being deleted, until it is counted. Before it
  (kubernetes#28486 and the issues KEP-2307 lists), a finished pod was held by nothing, and a
  pod deleted before the next sync was never counted: the Job ran the work again, and its failures
  never reached backoffLimit. Pods of a Job being deleted, and pods a user made with a controller
  reference to a Job, are out of scope (the controller counts neither).
- `jobs-finished` (convergence): where a fair run settles, every Job neither suspended nor being
  deleted has finished — Complete, or Failed (its backoffLimit or activeDeadlineSeconds reached
  through earlier faults) — with nothing active and nothing uncounted (`syncJob`,
  `enactJobFinished`). A Job whose pods cannot be scheduled never finishes, and that is reported.

Both are opt-in built-ins checked by default on every scenario whose manifests or workload steps hold
a Job, so the property tables of other scenarios do not change.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.batch import Job, condition_true, is_finished, is_indexed
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.job_util import completion_index, has_tracking_finalizer, parse_indexes
from kubeprop.model.controllers.podutil import is_pod_terminal
from kubeprop.model.scenario.apply_steps import scenario_holds
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import stuck_pod_hint
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_in_when

__all__ = ["JOBS_FINISHED", "JOB_PODS_COUNTED"]


def _name(job: Job) -> str:
    return f"Job {job.metadata.namespace}/{job.metadata.name}"


def _jobs(state: ClusterState) -> list[Job]:
    return [j for j in state.store.list("jobs.batch") if isinstance(j, Job)]


def _let_go(job: Job, pods: list[Pod]) -> list[Pod]:
    """The Job's terminal pods without the tracking finalizer whose UID is not uncounted."""
    uncounted = job.status.uncounted_terminated_pods
    listed = set() if uncounted is None else {*uncounted.succeeded, *uncounted.failed}
    return [p for p in pods if (ref := p.metadata.controller_ref()) is not None and ref.uid == job.metadata.uid
            and is_pod_terminal(p) and not has_tracking_finalizer(p) and p.metadata.uid not in listed]


def _indexed_problem(job: Job, let_go: list[Pod]) -> str | None:
    completions = job.spec.completions or 0
    completed = parse_indexes(job.status.completed_indexes, completions)
    if job.status.succeeded != len(completed) or len(completed) > completions:
        return (f"succeeded {job.status.succeeded} but completedIndexes {job.status.completed_indexes!r} "
                f"({len(completed)} of {completions}): an index counted twice")
    valid = [p for p in let_go if (i := completion_index(p)) is not None and i < completions]
    failed = [p for p in valid if p.status.phase == "Failed" or completion_index(p) not in completed]
    if len(failed) > job.status.failed:
        lost = sorted(p.metadata.name for p in failed)
        return (f"{len(failed)} finished pods ({', '.join(lost)}) let go of (no tracking finalizer, not in "
                f"uncountedTerminatedPods) but neither in completedIndexes nor within failed {job.status.failed}")
    return None


def job_pods_counted(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first Job with a finished pod let go of uncounted, or an index counted twice."""
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    for job in _jobs(state):
        if job.metadata.deletion_timestamp is not None:
            continue
        let_go = _let_go(job, [p for p in pods if p.metadata.namespace == job.metadata.namespace])
        if is_indexed(job):
            problem = _indexed_problem(job, let_go)
        elif len(let_go) > job.status.succeeded + job.status.failed:
            lost = sorted(p.metadata.name for p in let_go)
            problem = (f"{len(let_go)} finished pods ({', '.join(lost)}) carry no tracking finalizer and are not in "
                       f"uncountedTerminatedPods, but succeeded + failed is {job.status.succeeded} + "
                       f"{job.status.failed}: a pod deleted now is never counted")
        else:
            problem = None
        if problem is not None:
            pods_named = tuple(f"Pod {p.metadata.namespace}/{p.metadata.name}" for p in let_go)
            return f"{_name(job)}: {problem}", (_name(job), *pods_named)
    return None


def jobs_finished(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first Job neither suspended nor being deleted that has not finished."""
    for job in _jobs(state):
        if job.spec.suspend or job.metadata.deletion_timestamp is not None:
            continue
        s = job.status
        uncounted = s.uncounted_terminated_pods
        pending = 0 if uncounted is None else len(uncounted.succeeded) + len(uncounted.failed)
        if not is_finished(job) or s.active or pending:
            state_ = "Complete" if condition_true(job, "Complete") else "Failed" if condition_true(job, "Failed") \
                else "not finished"
            hint = stuck_pod_hint(state, job.metadata.namespace, job.spec.selector)
            return (f"{_name(job)}: {state_}, active {s.active}, succeeded {s.succeeded} of "
                    f"{job.spec.completions}, failed {s.failed}, uncounted {pending}{hint}", (_name(job),))
    return None


def has_jobs(scenario: Any) -> bool:
    """Whether the scenario's manifests or workload steps hold a Job (or a CronJob, which makes them)."""
    return scenario_holds(scenario, Job) or scenario_holds(scenario, CronJob)


JOB_PODS_COUNTED: Property = register_opt_in_when(__name__, has_jobs, as_property(
    "job-pods-counted",
    "No finished pod of a Job is let go of (tracking finalizer removed) before it is counted; an Indexed Job "
    "counts each index once.",
    "pkg/controller/job/job_controller.go trackJobStatusAndRemoveFinalizers (JobTrackingWithFinalizers, KEP-2307)",
    "safety", job_pods_counted, reads=("objects",)))
"""Opt-in built-in, checked by default where a Job can exist (`has_jobs`)."""

JOBS_FINISHED: Property = register_opt_in_when(__name__, has_jobs, as_property(
    "jobs-finished",
    "Every Job neither suspended nor being deleted finishes (Complete, or Failed), with no pod active or uncounted.",
    "pkg/controller/job/job_controller.go syncJob, enactJobFinished",
    "convergence", jobs_finished, reads=("objects",)))
"""Opt-in built-in, checked by default where a Job can exist (`has_jobs`)."""
