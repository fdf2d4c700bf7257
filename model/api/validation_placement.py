"""Validation of where a pod may run (upstream `ValidateTolerations`,
`validateTopologySpreadConstraints`, `validateAffinity`, `pkg/apis/core/validation/validation.go`):
tolerations, topology spread constraints, node affinity and pod (anti-)affinity.

Used by `validation_pod` (`ValidatePodSpec`), `validation_update_rules` (a pod's tolerations on
update) and `validation_kinds` (a Node's taint effects). May import the API types (`pod`,
`selectors`, `names`, `codec`) and the shared field checks (`validation_fields`); never
`validation_pod` or `validation_containers`.
"""

from __future__ import annotations

from typing import Final

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.names import is_dns1123_label, is_valid_label_value
from kubeprop.model.api.pod import (
    Affinity,
    NodeAffinity,
    PodAffinity,
    PodAffinityTerm,
    Toleration,
    TopologySpreadConstraint,
)
from kubeprop.model.api.selectors import NodeSelector, validate_node_selector
from kubeprop.model.api.validation_fields import (
    IS_NOT_POSITIVE_MSG,
    ErrorList,
    duplicate,
    forbidden,
    from_problem,
    invalid,
    label_name,
    label_selector,
    messages,
    not_supported,
    required,
)

TAINT_EFFECTS: Final = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_EMPTY_KEY_MSG: Final = 'operator must be Exists when `key` is empty, which means "match all values and all keys"'
_SECONDS_MSG: Final = "effect must be 'NoExecute' when `tolerationSeconds` is set"


def validate_tolerations(tolerations: tuple[Toleration, ...], path: FieldPath) -> ErrorList:
    """ValidateTolerations."""
    errs: ErrorList = []
    for i, tol in enumerate(tolerations):
        p = (*path, i)
        if tol.key:
            errs += label_name(tol.key, (*p, "key"))
        if not tol.key and tol.operator != "Exists":
            errs.append(invalid((*p, "operator"), tol.operator, _EMPTY_KEY_MSG))
        if tol.toleration_seconds is not None and tol.effect != "NoExecute":
            errs.append(invalid((*p, "effect"), tol.effect, _SECONDS_MSG))
        if tol.operator in ("Equal", ""):
            value_errs = is_valid_label_value(tol.value)
            if value_errs:
                errs.append(invalid((*p, "operator"), tol.value, ";".join(value_errs)))
        elif tol.operator == "Exists":
            if tol.value:
                errs.append(invalid((*p, "operator"), tol, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported((*p, "operator"), tol.operator, ("Equal", "Exists")))
        if tol.effect and tol.effect not in TAINT_EFFECTS:
            errs.append(not_supported((*p, "effect"), tol.effect, TAINT_EFFECTS))
    return errs


def validate_topology_spread(constraints: tuple[TopologySpreadConstraint, ...], path: FieldPath) -> ErrorList:
    """validateTopologySpreadConstraints."""
    errs: ErrorList = []
    for i, c in enumerate(constraints):
        p = (*path, i)
        if c.max_skew <= 0:
            errs.append(invalid((*p, "maxSkew"), c.max_skew, IS_NOT_POSITIVE_MSG))
        if not c.topology_key:
            errs.append(required((*p, "topologyKey"), "can not be empty"))
        if c.when_unsatisfiable not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(not_supported((*p, "whenUnsatisfiable"), c.when_unsatisfiable,
                                      ("DoNotSchedule", "ScheduleAnyway")))
        if any((o.topology_key, o.when_unsatisfiable) == (c.topology_key, c.when_unsatisfiable)
               for o in constraints[i + 1:]):
            errs.append(duplicate((*p, "{topologyKey, whenUnsatisfiable}"),
                                  f"{{{c.topology_key}, {c.when_unsatisfiable}}}"))
        errs += _min_domains(c, (*p, "minDomains"))
        for field, policy in (("nodeAffinityPolicy", c.node_affinity_policy),
                              ("nodeTaintsPolicy", c.node_taints_policy)):
            if policy and policy not in ("Honor", "Ignore"):
                errs.append(not_supported((*p, field), policy, ("Honor", "Ignore")))
        errs += label_selector(c.label_selector, (*p, "labelSelector"))
    return errs


def _min_domains(c: TopologySpreadConstraint, path: FieldPath) -> ErrorList:
    if c.min_domains is None:
        return []
    errs = [invalid(path, c.min_domains, IS_NOT_POSITIVE_MSG)] if c.min_domains <= 0 else []
    if c.when_unsatisfiable != "DoNotSchedule":
        errs.append(invalid(path, c.min_domains,
                            f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {c.when_unsatisfiable}"))
    return errs


def validate_affinity(affinity: Affinity, path: FieldPath) -> ErrorList:
    """validateAffinity."""
    errs: ErrorList = []
    if affinity.node_affinity is not None:
        errs += _node_affinity(affinity.node_affinity, (*path, "nodeAffinity"))
    if affinity.pod_affinity is not None:
        errs += _pod_affinity(affinity.pod_affinity, (*path, "podAffinity"))
    if affinity.pod_anti_affinity is not None:
        errs += _pod_affinity(affinity.pod_anti_affinity, (*path, "podAntiAffinity"))
    return errs


def _node_affinity(affinity: NodeAffinity, path: FieldPath) -> ErrorList:
    """validateNodeAffinity: the required node selector and weighted preferred terms."""
    errs: ErrorList = []
    required_selector = affinity.required_during_scheduling_ignored_during_execution
    if required_selector is not None:
        base = (*path, "requiredDuringSchedulingIgnoredDuringExecution")
        errs += [from_problem(base, s, m) for s, m in validate_node_selector(required_selector)]
    for i, term in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        p = (*path, "preferredDuringSchedulingIgnoredDuringExecution", i)
        if not 1 <= term.weight <= 100:
            errs.append(invalid((*p, "weight"), term.weight, "must be in the range 1-100"))
        for suffix, msg in validate_node_selector(NodeSelector(node_selector_terms=(term.preference,))):
            errs.append(from_problem((*p, "preference"), suffix.removeprefix("nodeSelectorTerms[0]"), msg))
    return errs


def _pod_affinity(affinity: PodAffinity, path: FieldPath) -> ErrorList:
    """validatePodAffinity / validatePodAntiAffinity."""
    errs: ErrorList = []
    for i, term in enumerate(affinity.required_during_scheduling_ignored_during_execution):
        errs += _pod_affinity_term(term, (*path, "requiredDuringSchedulingIgnoredDuringExecution", i))
    for i, weighted in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        p = (*path, "preferredDuringSchedulingIgnoredDuringExecution", i)
        if not 1 <= weighted.weight <= 100:
            errs.append(invalid((*p, "weight"), weighted.weight, "must be in the range 1-100"))
        errs += _pod_affinity_term(weighted.pod_affinity_term, (*p, "podAffinityTerm"))
    return errs


def _pod_affinity_term(term: PodAffinityTerm, path: FieldPath) -> ErrorList:
    """validatePodAffinityTerm: selectors, namespaces (DNS labels), the label keys, topologyKey
    required."""
    errs = label_selector(term.label_selector, (*path, "labelSelector"))
    errs += label_selector(term.namespace_selector, (*path, "namespaceSelector"))
    for name in term.namespaces:
        errs += messages(name, (*path, "namespace"), is_dns1123_label(name))
    errs += _label_keys(term, path)
    if not term.topology_key:
        errs.append(required((*path, "topologyKey"), "can not be empty"))
    return errs + label_name(term.topology_key, (*path, "topologyKey"))


def _label_keys(term: PodAffinityTerm, path: FieldPath) -> ErrorList:
    """validateMatchLabelKeysAndMismatchLabelKeys, on the selector as the API server merged it
    (`kubeprop.model.api.pod_affinity`): neither field without a labelSelector, each key a label
    name; a matchLabelKeys key that a matchExpression names after the selector already named it
    (in matchLabels or an earlier expression: the merged `key In (value)` then repeats it) is
    refused at the term's path indexed by the key's position, as upstream writes it; and no key in
    both fields."""
    errs: ErrorList = []
    selector = term.label_selector
    for field, keys in (("matchLabelKeys", term.match_label_keys), ("mismatchLabelKeys", term.mismatch_label_keys)):
        if keys and selector is None:
            errs.append(forbidden((*path, field), "must not be specified when labelSelector is not set"))
        elif keys:
            for i, key in enumerate(keys):
                errs += label_name(key, (*path, field, i))
    if selector is not None:
        position = {key: i for i, key in enumerate(term.match_label_keys)}
        seen = set(selector.match_labels.keys())
        for expression in selector.match_expressions:
            if expression.key in position and expression.key in seen:
                errs.append(invalid((*path, position[expression.key]), expression.key,
                                    "exists in both matchLabelKeys and labelSelector"))
            seen.add(expression.key)
    mismatched = set(term.mismatch_label_keys)
    errs += [invalid((*path, "matchLabelKeys", i), key, "exists in both matchLabelKeys and mismatchLabelKeys")
             for i, key in enumerate(term.match_label_keys) if key in mismatched]
    return errs
