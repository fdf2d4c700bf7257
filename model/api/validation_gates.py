"""Validation of a pod's scheduling gates (`spec.schedulingGates`, GA in v1.30) and readiness gates
(`spec.readinessGates`).

Upstream (`kubernetes/kubernetes`, `pkg/apis/core/validation/validation.go`):

- `validateReadinessGates` (part of ValidatePodSpec): each gate's `conditionType` is a qualified
  name (errors at `readinessGates[i].conditionType`; duplicates are allowed). Like the rest of the
  spec the gates are immutable on a pod (ValidatePodUpdate). What they do is the kubelet's
  (`kubeprop.model.kubelet.status`);

- `validateSchedulingGates` (part of ValidatePodSpec, so pod templates too): each gate's name is
  a qualified name (errors at `schedulingGates[i]`), and no name appears twice (Duplicate);
- `ValidatePodCreate`: a pod created with `spec.nodeName` and a gate is refused —
  `spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared`;
- `ValidatePodUpdate`: `validateOnlyDeletedSchedulingGates` — gates may only be removed (a gate
  not in the old pod: `spec.schedulingGates[i].name: Forbidden: only deletion is allowed, but
  found new scheduling gate '<name>'`); and while the *old* pod is gated, additions to
  `spec.nodeSelector` are allowed (`validateNodeSelectorMutation`: no key removed or changed).

The binding of a gated pod is refused by the API server (409, `pkg/registry/core/pod/storage/
storage.go` setPodNodeAndMetadata, `kubeprop.model.api.server_write.bind`), and a pod created
with a gate gets PodScheduled=False reason SchedulingGated (`pkg/registry/core/pod/strategy.go`
applySchedulingGatedCondition, `kubeprop.model.api.server_write`).

Left out: the gated-pod relaxation for `spec.affinity.nodeAffinity` (validateNodeAffinityMutation:
required terms may only be narrowed); such an update gets the generic "pod updates may not
change fields" error, stricter than upstream.
"""

from __future__ import annotations

from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.pod import PodReadinessGate, PodSchedulingGate, PodSpec
from kubeprop.model.api.validation_fields import ErrorList, duplicate, forbidden, invalid, label_name
from kubeprop.model.evolve import evolve

__all__ = [
    "GATED_NODE_NAME_MSG",
    "gated_node_name",
    "gated_spec_munged",
    "only_deleted_scheduling_gates",
    "validate_readiness_gates",
    "validate_scheduling_gates",
]

GATED_NODE_NAME_MSG: Final = "cannot be set until all schedulingGates have been cleared"
_NODE_SELECTOR_MSG: Final = "only additions to spec.nodeSelector are allowed (no mutations or deletions)"


def validate_scheduling_gates(gates: tuple[PodSchedulingGate, ...], path: FieldPath) -> ErrorList:
    """validateSchedulingGates: qualified names, no duplicates."""
    errs: ErrorList = []
    seen: set[str] = set()
    for i, gate in enumerate(gates):
        errs += label_name(gate.name, (*path, i))
        if gate.name in seen:
            errs.append(duplicate((*path, i), gate.name))
        seen.add(gate.name)
    return errs


def validate_readiness_gates(gates: tuple[PodReadinessGate, ...], path: FieldPath) -> ErrorList:
    """validateReadinessGates: each conditionType is a qualified name."""
    errs: ErrorList = []
    for i, gate in enumerate(gates):
        errs += label_name(gate.condition_type, (*path, i, "conditionType"))
    return errs


def gated_node_name(spec: PodSpec) -> ErrorList:
    """ValidatePodCreate: no nodeName while gates remain."""
    if spec.node_name and spec.scheduling_gates:
        return [forbidden(("spec", "nodeName"), GATED_NODE_NAME_MSG)]
    return []


def only_deleted_scheduling_gates(new: tuple[PodSchedulingGate, ...], old: tuple[PodSchedulingGate, ...]
                                  ) -> ErrorList:
    """validateOnlyDeletedSchedulingGates: a gate the old pod did not have is refused (upstream
    walks a map, so several new gates come in no fixed order; here, in list order)."""
    known = {g.name for g in old}
    errs: ErrorList = []
    reported: set[str] = set()
    for gate in new:
        if gate.name not in known and gate.name not in reported:
            last = max(j for j, g in enumerate(new) if g.name == gate.name)  # the map keeps the last index
            reported.add(gate.name)
            errs.append(forbidden(("spec", "schedulingGates", last, "name"),
                                  f"only deletion is allowed, but found new scheduling gate '{gate.name}'"))
    return errs


def gated_spec_munged(munged: PodSpec, old: PodSpec) -> tuple[PodSpec, ErrorList]:
    """ValidatePodUpdate's gated-pod rules on the munged spec: the gates themselves are munged to
    the old ones; while the old pod is gated, node selector additions are munged too (a removed or
    changed key is an error)."""
    munged = evolve(munged, scheduling_gates=old.scheduling_gates)
    errs: ErrorList = []
    if old.scheduling_gates and munged.node_selector != old.node_selector:
        if any(munged.node_selector.get(k) != v for k, v in old.node_selector.items()):
            errs.append(invalid(("spec", "nodeSelector"), munged.node_selector, _NODE_SELECTOR_MSG))
        munged = evolve(munged, node_selector=old.node_selector)
    return munged, errs
