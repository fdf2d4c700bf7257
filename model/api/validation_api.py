"""Validation of the kinds that shape access and the API itself: RBAC roles and bindings, and
CustomResourceDefinitions.

Sources: `pkg/apis/rbac/validation/validation.go` (ValidateRBACName = path.ValidatePathSegmentName,
ValidatePolicyRule, ValidateRoleBinding, ValidateClusterRoleBinding, ValidateRoleBindingSubject)
and `staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation/validation.go`
(ValidateCustomResourceDefinition: the name rule, ValidateCustomResourceDefinitionSpec,
ValidateCustomResourceDefinitionNames; the schema defaults: `crd_defaulting.default_errors`). CRD
schemas otherwise, conversion and status are not checked.
"""

from __future__ import annotations

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.crd_defaulting import default_errors
from kubeprop.model.api.ext import CustomResourceDefinitionNames, CustomResourceDefinitionSpec
from kubeprop.model.api.names import is_dns1035_label, is_dns1123_subdomain
from kubeprop.model.api.rbac_kinds import RBAC_GROUP, PolicyRule, RoleRef, Subject
from kubeprop.model.api.validation_fields import (
    ErrorList,
    dns1123_subdomain,
    invalid,
    messages,
    not_supported,
    required,
)

# -- RBAC -------------------------------------------------------------------------------------


def validate_policy_rules(rules: tuple[PolicyRule, ...], namespaced: bool) -> ErrorList:
    """ValidatePolicyRule for each rule."""
    errs: ErrorList = []
    for i, rule in enumerate(rules):
        p = ("rules", i)
        if not rule.verbs:
            errs.append(required((*p, "verbs"), "verbs must contain at least one value"))
        if rule.non_resource_urls:
            if namespaced:
                errs.append(invalid((*p, "nonResourceURLs"), rule.non_resource_urls,
                                    "namespaced rules cannot apply to non-resource URLs"))
            if rule.api_groups or rule.resources or rule.resource_names:
                errs.append(invalid((*p, "nonResourceURLs"), rule.non_resource_urls,
                                    "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not rule.api_groups:
            errs.append(required((*p, "apiGroups"), "resource rules must supply at least one api group"))
        if not rule.resources:
            errs.append(required((*p, "resources"), "resource rules must supply at least one resource"))
    return errs


def rbac_name_messages(name: str, prefix: bool = False) -> list[str]:
    """path.ValidatePathSegmentName (RBAC object names): not "." or "..", no "/" or "%"."""
    if not prefix and name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{ch}'" for ch in ("/", "%") if ch in name]


def validate_binding(role_ref: RoleRef, subjects: tuple[Subject, ...], namespaced: bool) -> ErrorList:
    """ValidateRoleBinding / ValidateClusterRoleBinding without the metadata part."""
    errs: ErrorList = []
    if role_ref.api_group != RBAC_GROUP:
        errs.append(not_supported(("roleRef", "apiGroup"), role_ref.api_group, (RBAC_GROUP,)))
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if role_ref.kind not in kinds:
        errs.append(not_supported(("roleRef", "kind"), role_ref.kind, kinds))
    if not role_ref.name:
        errs.append(required(("roleRef", "name")))
    else:
        errs += messages(role_ref.name, ("roleRef", "name"), rbac_name_messages(role_ref.name))
    for i, subject in enumerate(subjects):
        errs += _subject(subject, namespaced, ("subjects", i))
    return errs


def _subject(subject: Subject, namespaced: bool, path: FieldPath) -> ErrorList:
    """ValidateRoleBindingSubject."""
    errs = [] if subject.name else [required((*path, "name"))]
    if subject.kind == "ServiceAccount":
        if subject.name:
            errs += messages(subject.name, (*path, "name"), is_dns1123_subdomain(subject.name))
        if subject.api_group:
            errs.append(not_supported((*path, "apiGroup"), subject.api_group, ("",)))
        if not namespaced and not subject.namespace:
            errs.append(required((*path, "namespace")))
    elif subject.kind in ("User", "Group"):
        if subject.api_group != RBAC_GROUP:
            errs.append(not_supported((*path, "apiGroup"), subject.api_group, (RBAC_GROUP,)))
    else:
        errs.append(not_supported((*path, "kind"), subject.kind, ("ServiceAccount", "User", "Group")))
    return errs


# -- CustomResourceDefinition -----------------------------------------------------------------


def validate_crd_spec(spec: CustomResourceDefinitionSpec, path: FieldPath) -> ErrorList:
    """ValidateCustomResourceDefinitionSpec: group, scope, names, exactly one storage version, and
    schema defaults that validate (`kubeprop.model.api.crd_defaulting.default_errors`)."""
    errs: ErrorList = []
    if not spec.group:
        errs.append(required((*path, "group")))
    else:
        if len(spec.group.split(".")) < 2:
            errs.append(invalid((*path, "group"), spec.group, "should be a domain with at least one dot"))
        errs += dns1123_subdomain(spec.group, (*path, "group"))
    if not spec.scope:
        errs.append(required((*path, "scope")))
    elif spec.scope not in ("Cluster", "Namespaced"):
        errs.append(not_supported((*path, "scope"), spec.scope, ("Cluster", "Namespaced")))
    names = [v.name for v in spec.versions]
    for i, name in enumerate(names):
        msgs = is_dns1035_label(name)
        if msgs:
            errs.append(invalid((*path, "versions", i, "name"), name, ",".join(msgs)))
    if len(set(names)) != len(names):
        errs.append(invalid((*path, "versions"), spec.versions, "must contain unique version names"))
    if sum(1 for v in spec.versions if v.storage) != 1:
        msg = "must have exactly one version marked as storage version"
        errs.append(invalid((*path, "versions"), spec.versions, msg))
    return errs + _crd_names(spec.names, (*path, "names")) + default_errors(spec.versions, path)


def _crd_names(names: CustomResourceDefinitionNames, path: FieldPath) -> ErrorList:
    """ValidateCustomResourceDefinitionNames plus the required plural and kind."""
    errs: ErrorList = []
    for field, value, lower in (("plural", names.plural, False), ("singular", names.singular, False),
                                ("kind", names.kind, True), ("listKind", names.list_kind, True)):
        msgs = is_dns1035_label(value.lower() if lower else value)
        if value and msgs:
            prefix = "may have mixed case, but should otherwise match: " if lower else ""
            errs.append(invalid((*path, field), value, prefix + ",".join(msgs)))
    for i, short in enumerate(names.short_names):
        msgs = is_dns1035_label(short)
        if msgs:
            errs.append(invalid((*path, "shortNames", i), short, ",".join(msgs)))
    if names.kind and names.kind == names.list_kind:
        errs.append(invalid((*path, "listKind"), names.list_kind, "kind and listKind may not be the same"))
    errs += [required((*path, field)) for field, value in (("plural", names.plural), ("kind", names.kind)) if not value]
    return errs


def crd_name_messages(name: str, spec: CustomResourceDefinitionSpec) -> list[str]:
    """The CRD name rule: a DNS subdomain equal to `<plural>.<group>`."""
    msgs = is_dns1123_subdomain(name)
    if name != f"{spec.names.plural}.{spec.group}":
        msgs.append('must be spec.names.plural+"."+spec.group')
    return msgs
