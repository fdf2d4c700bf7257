"""The Job's pod failure policy (`pkg/controller/job/pod_failure_policy.go`, v1.33): which rule a
failed pod matches, and what the Job controller does with it; and its success policy
(`success_policy.go`, `match_success_policy`).

matchPodFailurePolicy: the rules in order, the first that matches deciding — an `onExitCodes` rule
matches a terminated container (the regular containers first, then the init containers; the
requirement's container only, if named) whose exit code is not 0 and is `In` (or `NotIn`) its
values (the model's containers exit with a code of each class these rules tell apart:
`kubeprop.model.kubelet.exit_codes`); an `onPodConditions` rule matches a pod condition of one of
its patterns' type and status. `FailJob` fails the Job (the FailureTarget condition with reason
PodFailurePolicy and upstream's message), `Ignore` keeps the failure out of the `failed` counter
(and so out of backoffLimit), `Count` counts it as without a policy; `FailIndex` fails the pod's
index (validation admits it only with backoffLimitPerIndex; `kubeprop.model.controllers.job_index`).
No rule matching: counted.

Where the pod's terminal phase matters (`job_sync`, `job_util.is_pod_failed`): with a policy the
controller replaces and judges only pods whose phase is Failed (onlyReplaceFailedPods: a pod being
deleted is not failed until the kubelet or the pod GC makes it terminal), since the condition or
exit code it is judged by is only final then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeprop.model.api.batch import (
    Job,
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern,
    SuccessPolicy,
)
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.job_util import is_pod_failed, parse_indexes

__all__ = ["counts_failure", "fail_job_message", "match_pod_failure_policy", "match_success_policy"]


def _exit_code(status: Any) -> int | None:
    """A container status's `state.terminated.exitCode`, if it has terminated."""
    state = status.state
    terminated = state.get("terminated") if isinstance(state, Mapping) else None
    code = terminated.get("exitCode") if isinstance(terminated, Mapping) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _operator_matches(code: int, req: PodFailurePolicyOnExitCodesRequirement) -> bool:
    """isOnExitCodesOperatorMatching."""
    if req.operator == "In":
        return code in req.values
    if req.operator == "NotIn":
        return code not in req.values
    return False


def _matching_container(statuses: tuple[Any, ...], req: PodFailurePolicyOnExitCodesRequirement
                        ) -> tuple[str, int] | None:
    """getMatchingContainerFromList: the first terminated container (of the requirement's name, if
    set) with a non-zero exit code the operator matches, as (name, code)."""
    for status in statuses:
        code = _exit_code(status)
        if code is None or (req.container_name is not None and req.container_name != status.name):
            continue
        if code != 0 and _operator_matches(code, req):
            return status.name, code
    return None


def _matching_condition(pod: Pod, patterns: tuple[PodFailurePolicyOnPodConditionsPattern, ...]) -> Condition | None:
    """matchOnPodConditions: the first pod condition matching a pattern's type and status."""
    for condition in pod.status.conditions:
        if any(condition.type == p.type and condition.status == p.status for p in patterns):
            return condition
    return None


def match_pod_failure_policy(policy: PodFailurePolicy | None, pod: Pod) -> tuple[str | None, bool, str | None]:
    """matchPodFailurePolicy: (the Job failure message of a FailJob rule, whether the failure
    counts, the matched action)."""
    if policy is None:
        return None, True, None
    for index, rule in enumerate(policy.rules):
        if rule.on_exit_codes is not None:
            found = _matching_container(pod.status.container_statuses, rule.on_exit_codes) or _matching_container(
                pod.status.init_container_statuses, rule.on_exit_codes)
            if found is None:
                continue
            message = (f"Container {found[0]} for pod {pod.metadata.namespace}/{pod.metadata.name} failed with exit "
                       f"code {found[1]} matching {rule.action} rule at index {index}")
        elif rule.on_pod_conditions:
            condition = _matching_condition(pod, rule.on_pod_conditions)
            if condition is None:
                continue
            message = (f"Pod {pod.metadata.namespace}/{pod.metadata.name} has condition {condition.type} matching "
                       f"{rule.action} rule at index {index}")
        else:
            continue
        decided = _decide(rule.action, message)
        if decided is not None:
            return decided
    return None, True, None


def _decide(action: str, message: str) -> tuple[str | None, bool, str | None] | None:
    """The switch on a matched rule's action (JobBackoffLimitPerIndex is GA, so FailIndex returns;
    an unknown action falls through to the next rule)."""
    if action == "Ignore":
        return None, False, action
    if action in ("FailIndex", "Count"):
        return None, True, action
    if action == "FailJob":
        return message, True, action
    return None


def counts_failure(job: Job, pod: Pod) -> bool:
    """nonIgnoredFailedPodsCount's test: without a policy every failure counts; with one, unless
    the pod matches an Ignore rule."""
    return match_pod_failure_policy(job.spec.pod_failure_policy, pod)[1]


def fail_job_message(job: Job, pods: Sequence[Pod]) -> str | None:
    """getFailJobMessage: the message of the first failed pod (isPodFailed) that matches a FailJob
    rule."""
    if job.spec.pod_failure_policy is None:
        return None
    for pod in pods:
        if is_pod_failed(pod, job):
            message = match_pod_failure_policy(job.spec.pod_failure_policy, pod)[0]
            if message is not None:
                return message
    return None


def match_success_policy(policy: SuccessPolicy | None, completions: int, succeeded: frozenset[int]) -> str | None:
    """matchSuccessPolicy (JobSuccessPolicy, GA in v1.33): with some index succeeded, the message of
    the first rule met — its `succeededIndexes` all succeeded or `succeededCount` of them
    (matchSucceededIndexesRule; a list that parses to nothing is skipped), or without a list
    `succeededCount` indexes succeeded; None if none is."""
    if policy is None or not succeeded:
        return None
    for index, rule in enumerate(policy.rules):
        if rule.succeeded_indexes is not None:
            required = parse_indexes(rule.succeeded_indexes, completions)
            if not required:
                continue
            contains = len(required & succeeded)
            if contains == len(required) or (rule.succeeded_count is not None and contains >= rule.succeeded_count):
                return f"Matched rules at index {index}"
        elif rule.succeeded_count is not None and len(succeeded) >= rule.succeeded_count:
            return f"Matched rules at index {index}"
    return None
