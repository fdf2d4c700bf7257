"""Authorization of API requests, as pure functions.

`authorize` is the chain `pkg/kubeapiserver/authorizer/config.go` builds for
`--authorization-mode=RBAC`: the privileged-group authorizer (members of `system:masters` may do
anything), then the RBAC authorizer (`plugin/pkg/auth/authorizer/rbac/rbac.go`) with the rule
resolver of `pkg/registry/rbac/validation/rule.go` and the matchers of
`pkg/apis/rbac/v1/evaluation_helpers.go`; and the messages of a refusal (`forbidden_message`,
`forbidden_status_message`). The Node authorizer is not modelled (see
`rbac_bootstrap.bootstrap_policy`: the default roles). Upstream lists bindings in map order; here in
name order, so the "allowed by" reason is deterministic.

Authentication (who a username is: `UserInfo`, `authenticate`) lives in `rbac_authn`, the default
policy in `rbac_bootstrap`. This module may import `rbac_authn` and the RBAC kinds (`rbac_kinds`);
neither imports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import attrs

from kubeprop.model.api.rbac_authn import SYSTEM_MASTERS, UserInfo, service_account_username
from kubeprop.model.api.rbac_kinds import (
    RBAC_GROUP,
    ClusterRole,
    ClusterRoleBinding,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
)
from kubeprop.model.frozen import FrozenMap


@attrs.frozen
class RequestAttributes:
    """What the authorizer sees of a request (`authorizer.AttributesRecord`,
    `staging/src/k8s.io/apiserver/pkg/authorization/authorizer/interfaces.go`).

    As upstream's RequestInfo resolver fills them, `name` is empty for create, list, watch and
    deletecollection (the name is not in the URL), so a rule restricted by resourceNames never
    allows those verbs. `path` is used for non-resource requests (`resource_request=False`).
    """

    verb: str
    api_group: str
    resource: str
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    resource_request: bool = True
    path: str = ""


@attrs.frozen
class Decision:
    """The authorization outcome: allowed, and why (upstream wording; see `authorize`)."""

    allowed: bool
    reason: str


# --- the policy -----------------------------------------------------------------------------------


@attrs.frozen
class RbacPolicy:
    """The RBAC objects of a state, indexed as the authorizer's listers see them.

    Bindings are kept sorted by (namespace, name): the visit order of `authorize`.
    """

    roles: FrozenMap[tuple[str, str], Role]
    cluster_roles: FrozenMap[str, ClusterRole]
    role_bindings: tuple[RoleBinding, ...]
    cluster_role_bindings: tuple[ClusterRoleBinding, ...]

    @classmethod
    def from_objects(
        cls,
        roles: Iterable[Role] = (),
        cluster_roles: Iterable[ClusterRole] = (),
        role_bindings: Iterable[RoleBinding] = (),
        cluster_role_bindings: Iterable[ClusterRoleBinding] = (),
    ) -> RbacPolicy:
        """Index the given objects (a later object with the same key replaces an earlier one)."""
        rbs = {(b.metadata.namespace, b.metadata.name): b for b in role_bindings}
        crbs = {b.metadata.name: b for b in cluster_role_bindings}
        return cls(
            roles=FrozenMap({(r.metadata.namespace, r.metadata.name): r for r in roles}),
            cluster_roles=FrozenMap({r.metadata.name: r for r in cluster_roles}),
            role_bindings=tuple(rbs[k] for k in sorted(rbs)),
            cluster_role_bindings=tuple(crbs[k] for k in sorted(crbs)),
        )

    @classmethod
    def from_any(cls, objects: Iterable[object]) -> RbacPolicy:
        """Index the RBAC objects among `objects` (any API objects; others are ignored)."""
        objs = list(objects)
        return cls.from_objects(
            [o for o in objs if isinstance(o, Role)],
            [o for o in objs if isinstance(o, ClusterRole)],
            [o for o in objs if isinstance(o, RoleBinding)],
            [o for o in objs if isinstance(o, ClusterRoleBinding)],
        )


# --- rule matching (pkg/apis/rbac/v1/evaluation_helpers.go) ---------------------------------------


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    """`VerbMatches`: `*` or the exact verb."""
    return any(v in ("*", verb) for v in rule.verbs)


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    """`APIGroupMatches`: `*` or the exact group (`""` is the core group)."""
    return any(g in ("*", group) for g in rule.api_groups)


def resource_matches(rule: PolicyRule, combined: str, subresource: str) -> bool:
    """`ResourceMatches`: `*` (every resource and subresource), the exact `resource[/sub]`, or
    `*/sub` for a request on subresource `sub` of any resource."""
    for res in rule.resources:
        if res in ("*", combined):
            return True
        if subresource and res == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    """`ResourceNameMatches`: no resourceNames means every name (including none)."""
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: PolicyRule, path: str) -> bool:
    """`NonResourceURLMatches`: `*`, the exact path, or a `prefix*` pattern."""
    for url in rule.non_resource_urls:
        if url in ("*", path):
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def _resource_and_subresource(request: RequestAttributes) -> str:
    """`resource/subresource`, or the resource alone: what `ResourceMatches` matches and
    `forbiddenMessage` names."""
    return f"{request.resource}/{request.subresource}" if request.subresource else request.resource


def rule_allows(request: RequestAttributes, rule: PolicyRule) -> bool:
    """`RuleAllows` (`plugin/pkg/auth/authorizer/rbac/rbac.go`)."""
    if not request.resource_request:
        return verb_matches(rule, request.verb) and non_resource_url_matches(rule, request.path)
    combined = _resource_and_subresource(request)
    return (
        verb_matches(rule, request.verb)
        and api_group_matches(rule, request.api_group)
        and resource_matches(rule, combined, request.subresource)
        and resource_name_matches(rule, request.name)
    )


# --- rule resolution (pkg/registry/rbac/validation/rule.go) ---------------------------------------


def applies_to_user(user: UserInfo, subject: Subject, namespace: str) -> bool:
    """`appliesToUser`: a ServiceAccount subject without a namespace means the binding's
    namespace — so in a ClusterRoleBinding (namespace "") it matches nobody."""
    if subject.kind == "User":
        return user.name == subject.name
    if subject.kind == "Group":
        return subject.name in user.groups
    if subject.kind == "ServiceAccount":
        sa_namespace = subject.namespace or namespace
        return bool(sa_namespace) and user.name == service_account_username(sa_namespace, subject.name)
    return False


def _first_applicable(user: UserInfo, subjects: tuple[Subject, ...], namespace: str) -> Subject | None:
    for subject in subjects:
        if applies_to_user(user, subject, namespace):
            return subject
    return None


def role_reference_rules(
    policy: RbacPolicy, ref: RoleRef, namespace: str
) -> tuple[tuple[PolicyRule, ...], str | None]:
    """`GetRoleReferenceRules`: the referenced role's rules, or the lister's error message."""
    if ref.kind == "Role":
        role = policy.roles.get((namespace, ref.name))
        if role is None:
            return (), f'role.{RBAC_GROUP} {go_quote(ref.name)} not found'
        return role.rules, None
    if ref.kind == "ClusterRole":
        cluster_role = policy.cluster_roles.get(ref.name)
        if cluster_role is None:
            return (), f'clusterrole.{RBAC_GROUP} {go_quote(ref.name)} not found'
        return cluster_role.rules, None
    return (), f"unsupported role reference kind: {go_quote(ref.kind)}"


def _describe_subject(subject: Subject, binding_namespace: str) -> str:
    """`describeSubject`: ServiceAccounts render as "name/namespace"."""
    if subject.kind == "ServiceAccount":
        return f"{subject.kind} {go_quote(subject.name + '/' + (subject.namespace or binding_namespace))}"
    return f"{subject.kind} {go_quote(subject.name)}"


def _describe_binding(binding: RoleBinding | ClusterRoleBinding, subject: Subject) -> str:
    """The `clusterRoleBindingDescriber` / `roleBindingDescriber` strings."""
    ref = binding.role_ref
    if isinstance(binding, ClusterRoleBinding):
        name, kind, ns = binding.metadata.name, "ClusterRoleBinding", ""
    else:
        ns = binding.metadata.namespace
        name, kind = f"{binding.metadata.name}/{ns}", "RoleBinding"
    return (
        f"{kind} {go_quote(name)} of {ref.kind} {go_quote(ref.name)} to {_describe_subject(subject, ns)}"
    )


def _bindings_for(
    policy: RbacPolicy, namespace: str
) -> Iterable[tuple[RoleBinding | ClusterRoleBinding, str]]:
    """Bindings in `VisitRulesFor` order: every ClusterRoleBinding, then the request namespace's
    RoleBindings (none for a cluster-scoped request), each with the namespace to resolve in."""
    for crb in policy.cluster_role_bindings:
        yield crb, ""
    if namespace:
        for rb in policy.role_bindings:
            if rb.metadata.namespace == namespace:
                yield rb, namespace


def rbac_authorize(user: UserInfo, request: RequestAttributes, policy: RbacPolicy) -> tuple[bool, str]:
    """The RBAC authorizer alone: (allowed, reason). Denied reasons are `RBAC: <errors>` for
    bindings whose role could not be resolved, else empty (upstream `DecisionNoOpinion`)."""
    errors: list[str] = []
    for binding, namespace in _bindings_for(policy, request.namespace):
        subject = _first_applicable(user, binding.subjects, namespace)
        if subject is None:
            continue
        rules, error = role_reference_rules(policy, binding.role_ref, namespace)
        if error is not None:
            errors.append(error)
            continue
        if any(rule_allows(request, rule) for rule in rules):
            return True, f"RBAC: allowed by {_describe_binding(binding, subject)}"
    return False, f"RBAC: {aggregate_error(errors)}" if errors else ""


# --- the authorizer chain -------------------------------------------------------------------------


def authorize(user: UserInfo, request: RequestAttributes, policy: RbacPolicy) -> Decision:
    """Authorize `request` by `user`: privileged group, then RBAC.

    Allowed: the RBAC reason names the binding (`RBAC: allowed by ClusterRoleBinding "b" of
    ClusterRole "r" to User "u"`); for `system:masters` upstream gives no reason, the model says
    so in its own words. Denied: the reason is the 403 message upstream's `Forbidden` writes
    (`responsewriters/errors.go`: `forbiddenMessage`, then `: "<authorizer reason>"` if any).
    """
    if SYSTEM_MASTERS in user.groups:
        return Decision(True, f"allowed: member of the privileged group {go_quote(SYSTEM_MASTERS)}")
    allowed, reason = rbac_authorize(user, request, policy)
    if allowed:
        return Decision(True, reason)
    message = forbidden_message(user, request)
    return Decision(False, f"{message}: {go_quote(reason)}" if reason else message)


def forbidden_message(user: UserInfo, request: RequestAttributes) -> str:
    """`forbiddenMessage` (`apiserver/pkg/endpoints/handlers/responsewriters/errors.go`)."""
    who, verb = go_quote(user.name), request.verb
    if not request.resource_request:
        return f"User {who} cannot {verb} path {go_quote(request.path)}"
    resource = _resource_and_subresource(request)
    scope = f"in the namespace {go_quote(request.namespace)}" if request.namespace else "at the cluster scope"
    group = go_quote(request.api_group)
    return f"User {who} cannot {verb} resource {go_quote(resource)} in API group {group} {scope}"


def forbidden_status_message(request: RequestAttributes, reason: str) -> str:
    """The Status message of the 403 (`apierrors.NewForbidden`): `deployments.apps "web" is
    forbidden: <reason>` — what `kubectl` prints after `Error from server (Forbidden):`."""
    if not request.resource_request:
        return f"forbidden: {reason}"
    resource = f"{request.resource}.{request.api_group}" if request.api_group else request.resource
    if not request.name:
        return f"{resource} is forbidden: {reason}"
    return f"{resource} {go_quote(request.name)} is forbidden: {reason}"


def aggregate_error(messages: list[str]) -> str:
    """`utilerrors.NewAggregate(errs).Error()`: one message as is, several deduplicated in `[a, b]`."""
    if len(messages) == 1:
        return messages[0]
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def go_quote(text: str) -> str:
    """Go's `%q` (`strconv.Quote`), which upstream messages use to quote names. Identical for
    printable text; control characters (never valid in names) are escaped JSON-style instead."""
    return json.dumps(text, ensure_ascii=False)

