"""`batch/v1` kinds: Job (`staging/src/k8s.io/api/batch/v1/types.go`, v1.33).

CronJob stays refused (`kubeprop.model.api.unmodelled`). `ttlSecondsAfterFinished` is acted on by
the TTL-after-finished controller (`kubeprop.model.controllers.ttlafterfinished`), the pod failure
policy and the success policy by the Job controller (`kubeprop.model.controllers.job_policy`), the
backoff limit per index (with maxFailedIndexes) too (`kubeprop.model.controllers.job_index`).
`managedBy` other than the Job controller's own name is not modelled: a manifest that sets one is
bad input naming the field (`ONLY_JSON_VALUES`), since another controller would run the Job.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kubeprop.model.api.integers import Int32, Int64
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector

__all__ = [
    "COMPLETION_INDEX_ANNOTATION",
    "COMPLETION_INDEX_LABEL",
    "CONTROLLER_UID_LABEL",
    "INDEX_FAILURE_COUNT_ANNOTATION",
    "INDEX_IGNORED_FAILURE_COUNT_ANNOTATION",
    "JOB_CONTROLLER_NAME",
    "JOB_NAME_LABEL",
    "JOB_TRACKING_FINALIZER",
    "LEGACY_CONTROLLER_UID_LABEL",
    "LEGACY_JOB_NAME_LABEL",
    "Job",
    "JobSpec",
    "JobStatus",
    "PodFailurePolicy",
    "PodFailurePolicyOnExitCodesRequirement",
    "PodFailurePolicyOnPodConditionsPattern",
    "PodFailurePolicyRule",
    "SuccessPolicy",
    "SuccessPolicyRule",
    "UncountedTerminatedPods",
]

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
"""batch/v1 JobTrackingFinalizer: the Job controller counts a pod, then removes it."""

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_NAME_LABEL = "job-name"
"""The labels the registry's generateSelector puts on the pod template (batch/v1 types.go)."""

INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
"""With backoffLimitPerIndex: the counted (and ignored) failures of the pod's index before it."""

COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_LABEL = "batch.kubernetes.io/job-completion-index"
"""An Indexed Job's pod's index: the annotation, and the label (feature PodIndexLabel, GA in v1.32)."""

JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"
"""batch/v1 JobControllerName: `spec.managedBy` of a Job the built-in Job controller reconciles
(managedByExternalController: any other value makes it skip the Job)."""


@attrs.frozen
class PodFailurePolicyOnExitCodesRequirement:
    """A rule's exit-code requirement: the operator (`In`, `NotIn`), the sorted codes, and the
    container it is restricted to (any container or init container when unset)."""

    operator: str = ""
    values: tuple[Int32, ...] = ()
    container_name: str | None = None


@attrs.frozen
class PodFailurePolicyOnPodConditionsPattern:
    """A rule's pod-condition pattern: the condition type and status (defaulted to True)."""

    type: str = ""
    status: str = ""


@attrs.frozen
class PodFailurePolicyRule:
    """One rule: the action (`FailJob`, `FailIndex`, `Ignore`, `Count`) taken when a failed pod
    matches its exit codes or one of its condition patterns."""

    action: str = ""
    on_exit_codes: PodFailurePolicyOnExitCodesRequirement | None = None
    on_pod_conditions: tuple[PodFailurePolicyOnPodConditionsPattern, ...] = ()


@attrs.frozen
class PodFailurePolicy:
    """`spec.podFailurePolicy`: the rules, the first that matches a failed pod deciding."""

    rules: tuple[PodFailurePolicyRule, ...] = ()


@attrs.frozen
class SuccessPolicyRule:
    """One success-policy rule: the Job succeeds once these indexes ("0,2-4") have succeeded, or
    `succeeded_count` of them (of all indexes when no list is given)."""

    succeeded_indexes: str | None = None
    succeeded_count: Int32 | None = None


@attrs.frozen
class SuccessPolicy:
    """`spec.successPolicy` of an Indexed Job: the first rule met declares it succeeded."""

    rules: tuple[SuccessPolicyRule, ...] = ()


@attrs.frozen(cache_hash=True)
class JobSpec:
    """Job spec (`batch/v1 JobSpec`), the fields the model acts on."""

    ONLY_JSON_VALUES: ClassVar[dict[str, tuple[tuple[str, ...], str]]] = {
        "managedBy": ((JOB_CONTROLLER_NAME,), f"a Job managed by another controller than {JOB_CONTROLLER_NAME!r} "
                                              "(the Job controller skips it; its pods and status would come from "
                                              "that controller); remove the field"),
    }

    parallelism: Int32 | None = None
    completions: Int32 | None = None
    active_deadline_seconds: Int64 | None = None
    backoff_limit: Int32 | None = None
    selector: LabelSelector | None = None
    manual_selector: bool | None = None
    template: PodTemplateSpec = PodTemplateSpec()
    completion_mode: str | None = None
    suspend: bool | None = None
    pod_replacement_policy: str | None = None
    pod_failure_policy: PodFailurePolicy | None = None
    success_policy: SuccessPolicy | None = None
    backoff_limit_per_index: Int32 | None = None
    max_failed_indexes: Int32 | None = None
    managed_by: str | None = None
    """Who reconciles the Job: only the Job controller (`JOB_CONTROLLER_NAME`, the default) is modelled."""
    ttl_seconds_after_finished: Int32 | None = None
    """Seconds after the Job finishes until the TTL-after-finished controller deletes it
    (`kubeprop.model.controllers.ttlafterfinished`); unset: never."""


@attrs.frozen
class UncountedTerminatedPods:
    """UIDs of finished pods the controller counts once their tracking finalizer is gone."""

    succeeded: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


@attrs.frozen(cache_hash=True)
class JobStatus:
    """Job status written by the Job controller (`batch/v1 JobStatus`)."""

    conditions: tuple[Condition, ...] = ()
    start_time: Int64 | None = None
    completion_time: Int64 | None = None
    active: Int32 = 0
    succeeded: Int32 = 0
    failed: Int32 = 0
    terminating: Int32 | None = None
    completed_indexes: str = ""
    uncounted_terminated_pods: UncountedTerminatedPods | None = None
    ready: Int32 | None = None
    failed_indexes: str | None = None


@attrs.frozen(cache_hash=True)
class Job:
    """A Job: pods run to completion, `completions` of them successfully."""

    INFO: ClassVar[KindInfo] = KindInfo("batch", "v1", "Job", "jobs", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: JobSpec = JobSpec()
    status: JobStatus = JobStatus()


def condition_true(job: Job, type_: str) -> bool:
    """Whether the Job has the condition `type_` with status True."""
    return any(c.type == type_ and c.status == "True" for c in job.status.conditions)


def is_finished(job: Job) -> bool:
    """util.IsJobFinished: a Complete or Failed condition that is True."""
    return condition_true(job, "Complete") or condition_true(job, "Failed")


def is_indexed(job: Job) -> bool:
    """isIndexedJob: completionMode Indexed."""
    return job.spec.completion_mode == "Indexed"
