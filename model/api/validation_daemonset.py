"""Validation of DaemonSets: spec, update and status.

Follows `pkg/apis/apps/validation/validation.go` (v1.33): ValidateDaemonSetSpec (the selector is
validated, must match the template's labels when it parses, and may not be empty; the pod
template is validated as a pod's; restartPolicy must be Always; activeDeadlineSeconds is
forbidden; minReadySeconds and revisionHistoryLimit non-negative; ValidateDaemonSetUpdateStrategy
and ValidateRollingUpdateDaemonSet: exactly one of maxUnavailable and maxSurge non-zero, neither
above 100%), validateDaemonSetStatus (every count non-negative) and ValidateDaemonSetStatusUpdate
(collisionCount not decremented). The apps/v1 update rule of `pkg/registry/apps/daemonset/strategy.go`
ValidateUpdate (the selector is immutable) is `validation_update_rules`'.

Unlike the ReplicaSet's, a missing selector is no "Required" error upstream: LabelSelectorAsSelector
turns nil into a selector that matches nothing, so the template's labels "do not match". The
internal `spec.templateGeneration` (the v1 annotation `deprecated.daemonset.template.generation`)
is not modelled, nor are its checks.
"""

from __future__ import annotations

from kubeprop.model.api.apps import DaemonSetSpec, DaemonSetStatus, DaemonSetUpdateStrategy
from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.selectors import selector_matches
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
)
from kubeprop.model.api.validation_pod import validate_pod_template
from kubeprop.model.api.validation_workloads import collision_count_decremented

__all__ = ["validate_daemon_set_spec", "validate_daemon_set_status"]

_MISMATCH = "`selector` does not match template `labels`"


def validate_daemon_set_spec(spec: DaemonSetSpec, path: FieldPath) -> ErrorList:
    """ValidateDaemonSetSpec."""
    selector, template, tpath = spec.selector, spec.template, (*path, "template")
    errs = label_selector(selector, (*path, "selector"))
    parses = selector is None or selector.is_empty() or not errs
    if parses and not _matches(spec):
        errs.append(invalid((*tpath, "metadata", "labels"), template.metadata.labels, _MISMATCH))
    if selector is not None and selector.is_empty():
        errs.append(invalid((*path, "selector"), selector, "empty selector is invalid for daemonset"))
    errs += validate_pod_template(template, tpath)
    if template.spec.restart_policy != "Always":
        errs.append(not_supported((*tpath, "spec", "restartPolicy"), template.spec.restart_policy, ("Always",)))
    if template.spec.active_deadline_seconds is not None:
        errs.append(forbidden((*tpath, "spec", "activeDeadlineSeconds"),
                              "activeDeadlineSeconds in DaemonSet is not Supported"))
    errs += nonnegative(spec.min_ready_seconds, (*path, "minReadySeconds"))
    errs += _update_strategy(spec.update_strategy, (*path, "updateStrategy"))
    return errs + optional_nonnegative(spec.revision_history_limit, (*path, "revisionHistoryLimit"))


def _matches(spec: DaemonSetSpec) -> bool:
    """LabelSelectorAsSelector(selector).Matches(template labels): nil matches nothing, {} everything."""
    return selector_matches(spec.selector, spec.template.metadata.labels)


def _update_strategy(strategy: DaemonSetUpdateStrategy, path: FieldPath) -> ErrorList:
    """ValidateDaemonSetUpdateStrategy and ValidateRollingUpdateDaemonSet."""
    if strategy.type == "OnDelete":
        return []
    if strategy.type != "RollingUpdate":
        return [not_supported(path, strategy, ("RollingUpdate", "OnDelete"))]
    rolling = strategy.rolling_update
    if rolling is None:
        return [required((*path, "rollingUpdate"))]
    p = (*path, "rollingUpdate")
    errs = int_or_percent(rolling.max_unavailable, (*p, "maxUnavailable"))
    errs += int_or_percent(rolling.max_surge, (*p, "maxSurge"))
    errs += not_more_than_100_percent(rolling.max_unavailable, (*p, "maxUnavailable"))
    errs += not_more_than_100_percent(rolling.max_surge, (*p, "maxSurge"))
    has_unavailable = int_or_percent_value(rolling.max_unavailable) != 0
    has_surge = int_or_percent_value(rolling.max_surge) != 0
    if has_unavailable and has_surge:
        errs.append(invalid((*p, "maxSurge"), rolling.max_surge, "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        errs.append(required((*p, "maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errs


_COUNTS = ("current_number_scheduled", "number_misscheduled", "desired_number_scheduled", "number_ready",
           "observed_generation", "updated_number_scheduled", "number_available", "number_unavailable")


def validate_daemon_set_status(new: DaemonSetStatus, old: DaemonSetStatus, path: FieldPath) -> ErrorList:
    """validateDaemonSetStatus and the collisionCount check of ValidateDaemonSetStatusUpdate."""
    errs: ErrorList = []
    for name in _COUNTS:
        head, *rest = name.split("_")
        errs += nonnegative(getattr(new, name), (*path, head + "".join(w.title() for w in rest)))
    errs += optional_nonnegative(new.collision_count, (*path, "collisionCount"))
    return errs + collision_count_decremented(new.collision_count, old.collision_count, (*path, "collisionCount"))
