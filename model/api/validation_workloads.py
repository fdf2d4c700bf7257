"""Validation of Deployment, ReplicaSet and StatefulSet specs and statuses.

Follows `pkg/apis/apps/validation/validation.go` (ValidateDeploymentSpec, ValidateReplicaSetSpec,
ValidateStatefulSetSpec, ValidatePodTemplateSpecForReplicaSet / ForStatefulSet, the status
checks and ValidateStatefulSetUpdate). As upstream, a StatefulSet's pod template is checked only
for selector/labels/restartPolicy (its pod spec is validated when the controller creates pods)
and its volumeClaimTemplates are not validated here; an invalid selector skips the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from kubeprop.model.api.apps import (
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSetSpec,
    ReplicaSetStatus,
    StatefulSetSpec,
    StatefulSetStatus,
    StatefulSetUpdateStrategy,
)
from kubeprop.model.api.codec import FieldPath, json_name
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.api.validation_annotations import validate_pod_specific_annotations
from kubeprop.model.api.validation_fields import (
    ErrorList,
    forbidden,
    int_or_percent,
    int_or_percent_value,
    invalid,
    label_selector,
    nonnegative,
    not_more_than_100_percent,
    not_supported,
    optional_nonnegative,
    required,
    validate_annotations,
    validate_labels,
)
from kubeprop.model.api.validation_pod import validate_pod_template
from kubeprop.model.evolve import evolve

_MISMATCH: Final = "`selector` does not match template `labels`"
_STS_UPDATE_MSG: Final = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)


def _selector(selector: LabelSelector | None, kind: str, path: FieldPath) -> tuple[ErrorList, bool]:
    """Selector required, valid and non-empty; also whether LabelSelectorAsSelector would succeed."""
    if selector is None:
        return [required(path)], True
    errs = label_selector(selector, path)
    if selector.is_empty():
        errs.append(invalid(path, selector, f"empty selector is invalid for {kind}"))
    return errs, not errs or selector.is_empty()


def _matches_template(selector: LabelSelector | None, template: PodTemplateSpec, path: FieldPath) -> ErrorList:
    """The selector (unless empty) must match the template's labels."""
    if selector is not None and selector.is_empty():
        return []
    if selector_matches(selector, template.metadata.labels):
        return []
    return [invalid((*path, "metadata", "labels"), template.metadata.labels, _MISMATCH)]


def _template_for_replica_set(selector: LabelSelector | None, template: PodTemplateSpec,
                              path: FieldPath) -> ErrorList:
    """ValidatePodTemplateSpecForReplicaSet."""
    errs = _matches_template(selector, template, path)
    errs += validate_pod_template(template, path)
    if template.spec.restart_policy != "Always":
        errs.append(not_supported((*path, "spec", "restartPolicy"), template.spec.restart_policy, ("Always",)))
    return errs


def _replica_set_selector_and_template(selector: LabelSelector | None, template: PodTemplateSpec,
                                       path: FieldPath) -> ErrorList:
    """A Deployment's or ReplicaSet's selector (its empty-selector message says "deployment" for
    both, as upstream's does) and, when the selector parses, its template (ValidatePodTemplateSpecForReplicaSet)."""
    errs, parses = _selector(selector, "deployment", (*path, "selector"))
    if parses:
        return errs + _template_for_replica_set(selector, template, (*path, "template"))
    return [*errs, invalid((*path, "selector"), selector, "invalid label selector")]


def validate_deployment_spec(spec: DeploymentSpec, path: FieldPath) -> ErrorList:
    """ValidateDeploymentSpec."""
    errs = optional_nonnegative(spec.replicas, (*path, "replicas"))
    errs += _replica_set_selector_and_template(spec.selector, spec.template, path)
    errs += _deployment_strategy(spec.strategy, (*path, "strategy"))
    errs += nonnegative(spec.min_ready_seconds, (*path, "minReadySeconds"))
    errs += optional_nonnegative(spec.revision_history_limit, (*path, "revisionHistoryLimit"))
    deadline = spec.progress_deadline_seconds
    if deadline is not None:
        errs += nonnegative(deadline, (*path, "progressDeadlineSeconds"))
        if deadline <= spec.min_ready_seconds:
            errs.append(invalid((*path, "progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds"))
    return errs


def _deployment_strategy(strategy: DeploymentStrategy, path: FieldPath) -> ErrorList:
    """ValidateDeploymentStrategy and ValidateRollingUpdateDeployment."""
    if strategy.type == "Recreate":
        if strategy.rolling_update is not None:
            return [forbidden((*path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if strategy.type != "RollingUpdate":
        return [not_supported(path, strategy, ("Recreate", "RollingUpdate"))]
    rolling = strategy.rolling_update
    if rolling is None:
        return [required((*path, "rollingUpdate"), "this should be defaulted and never be nil")]
    p = (*path, "rollingUpdate")
    errs = int_or_percent(rolling.max_unavailable, (*p, "maxUnavailable"))
    errs += int_or_percent(rolling.max_surge, (*p, "maxSurge"))
    if int_or_percent_value(rolling.max_unavailable) == 0 and int_or_percent_value(rolling.max_surge) == 0:
        errs.append(invalid((*p, "maxUnavailable"), rolling.max_unavailable, "may not be 0 when `maxSurge` is 0"))
    return errs + not_more_than_100_percent(rolling.max_unavailable, (*p, "maxUnavailable"))


def validate_replica_set_spec(spec: ReplicaSetSpec, path: FieldPath) -> ErrorList:
    """ValidateReplicaSetSpec."""
    errs = optional_nonnegative(spec.replicas, (*path, "replicas"))
    errs += nonnegative(spec.min_ready_seconds, (*path, "minReadySeconds"))
    errs += _replica_set_selector_and_template(spec.selector, spec.template, path)
    return errs


def validate_stateful_set_spec(spec: StatefulSetSpec, path: FieldPath) -> ErrorList:
    """ValidateStatefulSetSpec."""
    errs: ErrorList = []
    policy = spec.pod_management_policy
    if not policy:
        errs.append(required((*path, "podManagementPolicy")))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid((*path, "podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'"))
    errs += _stateful_set_strategy(spec.update_strategy, (*path, "updateStrategy"))
    errs += _retention_policy(spec.persistent_volume_claim_retention_policy,
                              (*path, "persistentVolumeClaimRetentionPolicy"))
    errs += optional_nonnegative(spec.replicas, (*path, "replicas"))
    if spec.ordinals is not None:
        errs += nonnegative(spec.ordinals.start, (*path, "ordinals", "start"))
    errs += nonnegative(spec.min_ready_seconds, (*path, "minReadySeconds"))
    selector_errs, parses = _selector(spec.selector, "statefulset", (*path, "selector"))
    errs += selector_errs
    template, tpath = spec.template, (*path, "template")
    if parses:
        errs += _matches_template(spec.selector, template, tpath)
        errs += validate_labels(template.metadata.labels, (*tpath, "labels"))
        errs += validate_annotations(template.metadata.annotations, (*tpath, "annotations"))
        errs += validate_pod_specific_annotations(template.metadata.annotations, (*tpath, "annotations"))
    else:
        errs.append(invalid((*path, "selector"), spec.selector, ""))
    if template.spec.restart_policy != "Always":
        errs.append(not_supported((*tpath, "spec", "restartPolicy"), template.spec.restart_policy, ("Always",)))
    return errs


def _stateful_set_strategy(strategy: StatefulSetUpdateStrategy, path: FieldPath) -> ErrorList:
    rolling = strategy.rolling_update
    if not strategy.type:
        return [required(path)]
    if strategy.type == "OnDelete":
        return [] if rolling is None else [
            invalid((*path, "rollingUpdate"), rolling, "only allowed for updateStrategy 'RollingUpdate'")]
    if strategy.type != "RollingUpdate":
        return [invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'")]
    if rolling is None:
        return []
    p = (*path, "rollingUpdate")
    errs = optional_nonnegative(rolling.partition, (*p, "partition"))
    if rolling.max_unavailable is not None:
        errs += int_or_percent(rolling.max_unavailable, (*p, "maxUnavailable"))
        if int_or_percent_value(rolling.max_unavailable) == 0:
            errs.append(invalid((*p, "maxUnavailable"), rolling.max_unavailable, "cannot be 0"))
        errs += not_more_than_100_percent(rolling.max_unavailable, (*p, "maxUnavailable"))
    return errs


_RETENTION_FIELDS: Final = ("whenDeleted", "whenScaled")


def _retention_policy(policy: Any, path: FieldPath) -> ErrorList:
    """ValidatePersistentVolumeClaimRetentionPolicy: whenDeleted / whenScaled are Retain or Delete.
    The field is kept as plain data (`StatefulSetSpec`), so its shape is checked here too: upstream
    strict decoding refuses a policy that is not an object, or names another field, with a 400."""
    if policy is None:
        return []
    if not isinstance(policy, Mapping):
        return [invalid(path, policy, "must be an object with the fields whenDeleted and whenScaled")]
    errs: ErrorList = [invalid((*path, str(key)), policy[key], "unknown field; valid fields are: "
                               + ", ".join(_RETENTION_FIELDS)) for key in policy if key not in _RETENTION_FIELDS]
    for field in _RETENTION_FIELDS:
        value = policy.get(field, "")
        if value not in ("Retain", "Delete"):
            errs.append(not_supported((*path, field), value, ("Retain", "Delete")))
    return errs


def validate_stateful_set_update(new: StatefulSetSpec, old: StatefulSetSpec) -> ErrorList:
    """ValidateStatefulSetUpdate: only the listed spec fields may change."""
    munged = evolve(
        new, replicas=old.replicas, ordinals=old.ordinals, template=old.template, update_strategy=old.update_strategy,
        min_ready_seconds=old.min_ready_seconds, revision_history_limit=old.revision_history_limit,
        persistent_volume_claim_retention_policy=old.persistent_volume_claim_retention_policy,
    )
    return [] if munged == old else [forbidden(("spec",), _STS_UPDATE_MSG)]


# -- status -----------------------------------------------------------------------------------


@attrs.frozen
class _StatusCounts:
    """How ValidateDeploymentStatus, ValidateReplicaSetStatus and ValidateStatefulSetStatus check a
    status's counts: each of `counts` optional and non-negative (in upstream's order), each of
    `at_most_replicas` not greater than status.replicas, then availableReplicas not greater than
    readyReplicas (`ready_bound`: how the message names that bound)."""

    counts: tuple[str, ...]
    at_most_replicas: tuple[str, ...]
    ready_bound: str


_STATUS_COUNTS: Final[dict[type, _StatusCounts]] = {
    DeploymentStatus: _StatusCounts(
        ("observed_generation", "replicas", "updated_replicas", "ready_replicas", "available_replicas",
         "unavailable_replicas", "collision_count"),
        ("updated_replicas", "ready_replicas", "available_replicas"), "readyReplicas"),
    ReplicaSetStatus: _StatusCounts(
        ("replicas", "fully_labeled_replicas", "ready_replicas", "available_replicas", "observed_generation"),
        ("fully_labeled_replicas", "ready_replicas", "available_replicas"), "readyReplicas"),
    StatefulSetStatus: _StatusCounts(
        ("replicas", "ready_replicas", "current_replicas", "updated_replicas", "available_replicas",
         "observed_generation", "collision_count"),
        ("ready_replicas", "current_replicas", "updated_replicas", "available_replicas"), "status.readyReplicas"),
}


def validate_workload_status(status: DeploymentStatus | ReplicaSetStatus | StatefulSetStatus,
                             path: FieldPath) -> ErrorList:
    """ValidateDeploymentStatus, ValidateReplicaSetStatus or ValidateStatefulSetStatus (`_STATUS_COUNTS`)."""
    rule = _STATUS_COUNTS[type(status)]
    names = {field.name: json_name(field) for field in attrs.fields(type(status))}
    errs: ErrorList = []
    for name in rule.counts:
        errs += optional_nonnegative(getattr(status, name), (*path, names[name]))
    bounds = [(name, "replicas", "status.replicas") for name in rule.at_most_replicas]
    bounds.append(("available_replicas", "ready_replicas", rule.ready_bound))
    return errs + [invalid((*path, names[name]), getattr(status, name), f"cannot be greater than {bound_name}")
                   for name, bound, bound_name in bounds if getattr(status, name) > getattr(status, bound)]


def collision_count_decremented(new: int | None, old: int | None, path: FieldPath) -> ErrorList:
    """IsDecremented on status.collisionCount: "cannot be decremented"."""
    if old is None or (new is not None and new >= old):
        return []
    return [invalid(path, 0 if new is None else new, "cannot be decremented")]
