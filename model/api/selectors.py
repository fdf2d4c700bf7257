"""Label selectors and node selectors: what a Deployment, Service or pod affinity selects.

Controllers find "their" objects through label selectors (ReplicaSet -> Pods, Service ->
Endpoints) and the scheduler filters nodes through node selectors, so the model must match
exactly the objects upstream would match. Sources:

* `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go` (LabelSelectorAsSelector,
  FormatLabelSelector): a nil selector matches nothing, an empty one everything; matchLabels and
  matchExpressions are ANDed.
* `staging/src/k8s.io/apimachinery/pkg/labels/selector.go` (NewRequirement checks,
  Requirement.Matches, Requirement.String): NotIn and DoesNotExist match when the key is
  absent; Gt/Lt parse both sides as int64 and fail to match otherwise.
* `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go`
  (ValidateLabelSelector) and `pkg/apis/core/validation/validation.go` (ValidateNodeSelector).
* `staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go`
  (NodeSelector.Match): terms are ORed, requirements within a term ANDed, an empty term
  matches nothing, a term that fails to parse matches nothing.

Where upstream turns an invalid selector into an error (LabelSelectorAsSelector), callers skip
the object; the model's `matches` returns False for such selectors.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import attrs

from kubeprop.model.api.names import is_dns1123_subdomain, is_qualified_name, is_valid_label_value
from kubeprop.model.frozen import FrozenMap, frozen_map

__all__ = [
    "OBJECT_NAME_FIELD",
    "LabelSelector",
    "LabelSelectorOperator",
    "LabelSelectorRequirement",
    "NodeSelector",
    "NodeSelectorOperator",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "format_selector",
    "selector_matches",
    "validate_label_selector",
    "validate_node_selector",
]

Problem = tuple[str, str]

OBJECT_NAME_FIELD = "metadata.name"  # the only node field matchFields may use


class LabelSelectorOperator(enum.StrEnum):
    """metav1.LabelSelectorOperator."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class NodeSelectorOperator(enum.StrEnum):
    """v1.NodeSelectorOperator."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"
    GT = "Gt"
    LT = "Lt"


_SET_OPS = frozenset({"In", "NotIn"})
_PRESENCE_OPS = frozenset({"Exists", "DoesNotExist"})
_ORDER_OPS = frozenset({"Gt", "Lt"})
_INT64_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _str_map(items: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> FrozenMap[str, str]:
    """attrs converter: any string map (or None) as a FrozenMap (non-generic, for mypy)."""
    return frozen_map(items)


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _parse_int64(text: str) -> int | None:
    """Go `strconv.ParseInt(text, 10, 64)`, or None on error."""
    if not _INT64_RE.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _quote(value: str) -> str:
    return json.dumps(value)


# -- requirements ---------------------------------------------------------------------------


def _requirement_error(key: str, operator: str, values: tuple[str, ...], allowed: frozenset[str]) -> bool:
    """True iff labels.NewRequirement(key, op, values) fails (selector.go)."""
    if is_qualified_name(key) or operator not in allowed:
        return True
    if operator in _SET_OPS and not values:
        return True
    if operator in _PRESENCE_OPS and values:
        return True
    if operator in _ORDER_OPS and (len(values) != 1 or _parse_int64(values[0]) is None):
        return True
    return any(is_valid_label_value(v) for v in values)


def _requirement_matches(key: str, operator: str, values: tuple[str, ...], labels: Mapping[str, str]) -> bool:
    """labels.Requirement.Matches for a requirement that passed NewRequirement."""
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if not present:  # Gt / Lt
        return False
    actual, bound = _parse_int64(labels[key]), _parse_int64(values[0])
    if actual is None or bound is None:
        return False
    return actual > bound if operator == "Gt" else actual < bound


@attrs.frozen
class LabelSelectorRequirement:
    """One `matchExpressions` entry of a metav1.LabelSelector."""

    key: str
    operator: str
    values: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether labels satisfy this requirement (False if it is invalid)."""
        if _requirement_error(self.key, self.operator, self.values, _LABEL_OPS):
            return False
        return _requirement_matches(self.key, self.operator, self.values, labels)


_LABEL_OPS = frozenset(op.value for op in LabelSelectorOperator)
_NODE_OPS = frozenset(op.value for op in NodeSelectorOperator)


def _label_requirements(values: Iterable[LabelSelectorRequirement]) -> tuple[LabelSelectorRequirement, ...]:
    return tuple(values)


@attrs.frozen
class LabelSelector:
    """metav1.LabelSelector: matchLabels AND matchExpressions."""

    match_labels: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_str_map)
    match_expressions: tuple[LabelSelectorRequirement, ...] = attrs.field(
        default=(), converter=_label_requirements
    )

    def is_empty(self) -> bool:
        """An empty selector selects every object."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with these labels is selected (see `selector_matches`)."""
        return selector_matches(self, labels)


@lru_cache(maxsize=4096)
def _selector_is_invalid(selector: LabelSelector) -> bool:
    """Whether LabelSelectorAsSelector (helpers.go) returns an error for this selector."""
    for key, value in selector.match_labels.sorted_items():
        if is_qualified_name(key) or is_valid_label_value(value):
            return True
    return any(
        _requirement_error(r.key, r.operator, r.values, _LABEL_OPS) for r in selector.match_expressions
    )


def selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """helpers.go LabelSelectorAsSelector + Matches.

    None matches nothing; an empty selector matches everything; an invalid selector (upstream:
    a conversion error, so the caller selects nothing) matches nothing.
    """
    if selector is None:
        return False
    if selector.is_empty():
        return True
    if _selector_is_invalid(selector):
        return False
    for key, value in selector.match_labels.sorted_items():
        if key not in labels or labels[key] != value:
            return False
    return all(_requirement_matches(r.key, r.operator, r.values, labels) for r in selector.match_expressions)


def _requirement_text(key: str, operator: str, values: tuple[str, ...]) -> str:
    """labels.Requirement.String: "k=v", "k in (a,b)", "k notin (a)", "k", "!k"."""
    if operator == "DoesNotExist":
        return "!" + key
    if operator == "Exists":
        return key
    joined = values[0] if len(values) == 1 else ",".join(sorted(values))
    if operator in _SET_OPS:
        return f"{key} {operator.lower()} ({joined})"
    symbol = {"Equals": "=", "Gt": ">", "Lt": "<"}[operator]
    return f"{key}{symbol}{joined}"


def format_selector(selector: LabelSelector | None) -> str:
    """helpers.go FormatLabelSelector, as kubectl prints it: "app=web,tier in (a,b),!x".

    Requirements are sorted by key (matchLabels before matchExpressions on ties); an empty or
    nil selector prints "<none>" and an invalid one "<error>".
    """
    if selector is None or selector.is_empty():
        return "<none>"
    if _selector_is_invalid(selector):
        return "<error>"
    parts = [(k, _requirement_text(k, "Equals", (v,))) for k, v in selector.match_labels.sorted_items()]
    parts += [(r.key, _requirement_text(r.key, r.operator, r.values)) for r in selector.match_expressions]
    parts.sort(key=lambda item: item[0])
    return ",".join(text for _, text in parts)


# -- validation -----------------------------------------------------------------------------


def _label_name_problems(key: str, path: str) -> list[Problem]:
    return [(path, f"Invalid value: {_quote(key)}: {msg}") for msg in is_qualified_name(key)]


def _values_problems(values: tuple[str, ...], path: str) -> list[Problem]:
    return [
        (f"{path}.values[{i}]", f"Invalid value: {_quote(v)}: {msg}")
        for i, v in enumerate(values)
        for msg in is_valid_label_value(v)
    ]


def _operator_problems(operator: str, values: tuple[str, ...], path: str, node: bool) -> list[Problem]:
    if operator in _SET_OPS and not values:
        return [(f"{path}.values", "Required value: must be specified when `operator` is 'In' or 'NotIn'")]
    if operator in _PRESENCE_OPS and values:
        return [
            (
                f"{path}.values",
                "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )
        ]
    if node and operator in _ORDER_OPS and len(values) != 1:
        return [
            (
                f"{path}.values",
                "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
            )
        ]
    if operator not in (_NODE_OPS if node else _LABEL_OPS):
        return [(f"{path}.operator", f"Invalid value: {_quote(operator)}: not a valid selector operator")]
    return []


def validate_label_selector(selector: LabelSelector | None) -> list[Problem]:
    """meta/v1/validation ValidateLabelSelector: (field path suffix, message) problems.

    Paths are relative to the selector field, e.g. ("matchExpressions[0].values", "Required
    value: ..."). A nil selector is valid.
    """
    if selector is None:
        return []
    problems: list[Problem] = []
    for key, value in selector.match_labels.sorted_items():
        problems += _label_name_problems(key, "matchLabels")
        problems += [
            ("matchLabels", f"Invalid value: {_quote(value)}: {m}") for m in is_valid_label_value(value)
        ]
    for i, req in enumerate(selector.match_expressions):
        path = f"matchExpressions[{i}]"
        problems += _operator_problems(req.operator, req.values, path, node=False)
        problems += _label_name_problems(req.key, f"{path}.key")
        problems += _values_problems(req.values, path)
    return problems


# -- node selectors -------------------------------------------------------------------------


@attrs.frozen
class NodeSelectorRequirement:
    """v1.NodeSelectorRequirement (used in both matchExpressions and matchFields)."""

    key: str
    operator: str
    values: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


def _node_requirements(values: Iterable[NodeSelectorRequirement]) -> tuple[NodeSelectorRequirement, ...]:
    return tuple(values)


def _field_matches(reqs: tuple[NodeSelectorRequirement, ...], node_name: str) -> bool | None:
    """nodeSelectorRequirementsAsFieldSelector + Matches; None if the field selector is invalid.

    Only In/NotIn with exactly one value parse. The node's field set holds just metadata.name
    (and is empty for a nameless node); a missing field reads as "" like fields.Set.Get.
    """
    fields = {OBJECT_NAME_FIELD: node_name} if node_name else {}
    result = True
    for req in reqs:
        if req.operator not in _SET_OPS or len(req.values) != 1:
            return None
        equal = fields.get(req.key, "") == req.values[0]
        result = result and (equal if req.operator == "In" else not equal)
    return result if fields else True  # nodeaffinity.go: fields ignored when the node has none


@attrs.frozen
class NodeSelectorTerm:
    """v1.NodeSelectorTerm: all matchExpressions (labels) AND all matchFields must hold."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = attrs.field(
        default=(), converter=_node_requirements
    )
    match_fields: tuple[NodeSelectorRequirement, ...] = attrs.field(default=(), converter=_node_requirements)

    def matches(self, node_name: str, node_labels: Mapping[str, str]) -> bool:
        """nodeSelectorTerm.match; an empty or unparsable term matches nothing."""
        if not self.match_expressions and not self.match_fields:
            return False
        exprs = self.match_expressions
        if any(_requirement_error(r.key, r.operator, r.values, _NODE_OPS) for r in exprs):
            return False
        fields_ok = _field_matches(self.match_fields, node_name) if self.match_fields else True
        if fields_ok is None:
            return False
        return fields_ok and all(
            _requirement_matches(r.key, r.operator, r.values, node_labels) for r in exprs
        )


def _node_terms(values: Iterable[NodeSelectorTerm]) -> tuple[NodeSelectorTerm, ...]:
    return tuple(values)


@attrs.frozen
class NodeSelector:
    """v1.NodeSelector (requiredDuringSchedulingIgnoredDuringExecution): terms are ORed."""

    node_selector_terms: tuple[NodeSelectorTerm, ...] = attrs.field(default=(), converter=_node_terms)

    def matches(self, node_name: str, node_labels: Mapping[str, str]) -> bool:
        """nodeaffinity.go NodeSelector.Match: some term matches the node."""
        return any(term.matches(node_name, node_labels) for term in self.node_selector_terms)


def _field_problems(req: NodeSelectorRequirement, path: str) -> list[Problem]:
    problems: list[Problem] = []
    if req.operator not in _SET_OPS:
        problems.append(
            (f"{path}.operator", f"Invalid value: {_quote(req.operator)}: not a valid selector operator")
        )
    elif len(req.values) != 1:
        problems.append(
            (
                f"{path}.values",
                "Required value: must be only one value when `operator` is 'In' or 'NotIn' "
                "for node field selector",
            )
        )
    if req.key != OBJECT_NAME_FIELD:
        problems.append((f"{path}.key", f"Invalid value: {_quote(req.key)}: not a valid field selector key"))
        return problems
    for i, value in enumerate(req.values):
        problems += [
            (f"{path}.values[{i}]", f"Invalid value: {_quote(value)}: {m}")
            for m in is_dns1123_subdomain(value)
        ]
    return problems


def validate_node_selector(selector: NodeSelector) -> list[Problem]:
    """core/validation ValidateNodeSelector: (field path suffix, message) problems."""
    if not selector.node_selector_terms:
        return [("nodeSelectorTerms", "Required value: must have at least one node selector term")]
    problems: list[Problem] = []
    for i, term in enumerate(selector.node_selector_terms):
        for j, req in enumerate(term.match_expressions):
            path = f"nodeSelectorTerms[{i}].matchExpressions[{j}]"
            problems += _operator_problems(req.operator, req.values, path, node=True)
            problems += _label_name_problems(req.key, f"{path}.key")
            problems += _values_problems(req.values, path)
        for j, req in enumerate(term.match_fields):
            problems += _field_problems(req, f"nodeSelectorTerms[{i}].matchFields[{j}]")
    return problems
