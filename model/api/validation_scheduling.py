"""Defaults and validation of PriorityClass.

Upstream: `pkg/apis/scheduling/v1/defaults.go` (SetDefaults_PriorityClass),
`pkg/apis/scheduling/validation/validation.go` (ValidatePriorityClass, ValidatePriorityClassUpdate),
`pkg/apis/scheduling/v1/helpers.go` (IsKnownSystemPriorityClass) and core's
ValidatePreemptionPolicy. The one-default rule is the Priority admission plug-in's
(`kubeprop.model.api.admission`), not validation's.
"""

from __future__ import annotations

from kubeprop.model.api.scheduling import (
    HIGHEST_USER_DEFINABLE_PRIORITY,
    PREEMPT_LOWER_PRIORITY,
    PREEMPTION_POLICIES,
    SYSTEM_PRIORITY_CLASS_PREFIX,
    SYSTEM_PRIORITY_CLASSES,
    PriorityClass,
)
from kubeprop.model.api.validation_fields import ErrorList, forbidden, immutable, invalid, not_supported, required
from kubeprop.model.evolve import evolve

INT32_MIN = -(2**31)


def default_priority_class(obj: PriorityClass) -> PriorityClass:
    """SetDefaults_PriorityClass: an unset preemptionPolicy is PreemptLowerPriority."""
    if obj.preemption_policy is None:
        return evolve(obj, preemption_policy=PREEMPT_LOWER_PRIORITY)
    return obj


def known_system_class_error(pc: PriorityClass) -> str | None:
    """IsKnownSystemPriorityClass: why `pc` is not one of the system classes (None if it is)."""
    for system in SYSTEM_PRIORITY_CLASSES:
        if system.metadata.name == pc.metadata.name:
            if system.value != pc.value:
                return f"value of {system.metadata.name} PriorityClass must be {system.value}"
            if system.global_default != pc.global_default:
                return f"globalDefault of {system.metadata.name} PriorityClass must be false"
            return None
    return f"{pc.metadata.name} is not a known system priority class"


def validate_priority_class(pc: PriorityClass) -> ErrorList:
    """ValidatePriorityClass after ObjectMeta: a `system-` name must be a system class as it is
    defined, any other class's value is at most 1,000,000,000; preemptionPolicy is one of the two.
    A value below the int32 range is reported at `value`: decoding refuses it in a manifest
    (`kubeprop.model.api.integers`), this catches an object built in Python."""
    errs: ErrorList = []
    if pc.value < INT32_MIN:
        errs.append(invalid(("value",), pc.value, f"must be a 32-bit integer (at least {INT32_MIN})"))
    if pc.metadata.name.startswith(SYSTEM_PRIORITY_CLASS_PREFIX):
        reason = known_system_class_error(pc)
        if reason is not None:
            errs.append(forbidden(("metadata", "name"), f"priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' "
                                                        f"prefix are reserved for system use only. error: {reason}"))
    elif pc.value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden(("value",), "maximum allowed value of a user defined priority is "
                                          f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    if pc.preemption_policy is not None:
        errs += preemption_policy_errors(pc.preemption_policy, ("preemptionPolicy",))
    return errs


def preemption_policy_errors(policy: str, path: tuple[str, ...]) -> ErrorList:
    """ValidatePreemptionPolicy: Required when empty, else one of PreemptLowerPriority and Never."""
    if not policy:
        return [required(path)]
    if policy not in PREEMPTION_POLICIES:
        return [not_supported(path, policy, sorted(PREEMPTION_POLICIES))]  # as the pod's check (validation_pod)
    return []


def validate_priority_class_update(new: PriorityClass, old: PriorityClass) -> ErrorList:
    """ValidatePriorityClassUpdate: value and preemptionPolicy are immutable."""
    errs: ErrorList = []
    if new.value != old.value:
        errs.append(forbidden(("value",), "may not be changed in an update."))
    return errs + immutable(new.preemption_policy, old.preemption_policy, ("preemptionPolicy",))
