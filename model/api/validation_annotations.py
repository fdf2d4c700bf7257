"""Pod-specific annotations (`ValidatePodSpecificAnnotations`, pkg/apis/core/validation/validation.go):
the model checks `controller.kubernetes.io/pod-deletion-cost`, on pods and on pod templates.

Upstream parses the value with `GetDeletionCostFromPodAnnotations` (pkg/apis/core/helper/helpers.go):
the first character must be `-`, `1`–`9`, or the value must be exactly `0` (`validFirstDigit`: no
`+`, no leading zeros), then `strconv.ParseInt(value, 10, 32)` must accept it — ASCII decimal
digits after an optional sign (underscores are only allowed with base 0), within int32. So "+5",
"007", "1_0", " 5", "2147483648" and "" are rejected, while "-007" and "-0" are accepted
(the leading-zero rule only looks at the first character). An invalid value is
`Invalid value: "x": must be a 32bit integer` (422). On update, a value that was already
invalid in the old object (pod, or the old pod template) is allowed
(`AllowInvalidPodDeletionCost`, pkg/api/pod/util.go GetValidationOptionsFromPodSpecAndMeta).

Left out: the mirror-pod, tolerations, seccomp and AppArmor annotations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.validation_fields import ErrorList, invalid, key

POD_DELETION_COST: Final = "controller.kubernetes.io/pod-deletion-cost"
_INT32: Final = range(-(2**31), 2**31)


def parse_pod_deletion_cost(value: str) -> int | None:
    """The int32 upstream reads from the annotation value, or None where upstream returns an error."""
    if not value or not (value[0] == "-" or value == "0" or "1" <= value[0] <= "9"):
        return None
    digits = value[1:] if value[0] == "-" else value
    if not digits or any(not "0" <= c <= "9" for c in digits):
        return None
    number = int(value, 10)
    return number if number in _INT32 else None


def deletion_cost_is_invalid(annotations: Mapping[str, str]) -> bool:
    """True if the annotation is present and upstream would not parse it."""
    value = annotations.get(POD_DELETION_COST)
    return value is not None and parse_pod_deletion_cost(value) is None


def validate_pod_specific_annotations(annotations: Mapping[str, str], path: FieldPath,
                                      allow_invalid_cost: bool = False) -> ErrorList:
    """The pod-deletion-cost part of ValidatePodSpecificAnnotations, at `<path>[<key>]`."""
    if allow_invalid_cost or not deletion_cost_is_invalid(annotations):
        return []
    return [invalid((*path, key(POD_DELETION_COST)), annotations[POD_DELETION_COST], "must be a 32bit integer")]


def template_cost_path(template_path: FieldPath) -> FieldPath:
    """Where a pod template's deletion-cost error is reported (`spec.template.annotations[...]`)."""
    return (*template_path, "annotations", key(POD_DELETION_COST))
