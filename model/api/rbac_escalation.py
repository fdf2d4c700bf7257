"""RBAC escalation prevention: the API server refuses a Role or ClusterRole that grants what its
writer does not hold, and a binding to a role its writer does not hold, as pure functions.

Upstream the RBAC kinds' storage is wrapped (`pkg/registry/rbac/role/policybased/storage.go`,
`clusterrole/policybased/storage.go`, `rolebinding/policybased/storage.go`,
`clusterrolebinding/policybased/storage.go`; v1.33). On a create or update, after mutating
admission and before the strategy's validation:

- a member of `system:masters` may write anything (`escalation_check.go` EscalationAllowed);
- a Role or ClusterRole: allowed when the requester may `escalate` that resource
  (RoleEscalationAuthorized: verb `escalate`, the request's group, resource, name — empty on a
  POST — and namespace), else its rules must be covered by the requester's own
  (`pkg/registry/rbac/validation/rule.go` ConfirmNoEscalation, in the request's namespace); a
  ClusterRole that has, or on an update had, an aggregationRule needs cluster-admin's rules
  (`fullAuthority`), else "must have cluster-admin privileges to use the aggregationRule";
- a RoleBinding or ClusterRoleBinding: allowed when the requester may `bind` the referenced role
  (BindingAuthorized: verb `bind` on `roles` or `clusterroles` named by the roleRef, in the
  binding's namespace), else the referenced role's rules must be covered by the requester's own;
  a roleRef that does not resolve is the registry's 404;
- an update that changes only ownerReferences and finalizers (the garbage collector's fields) is
  not checked (`helpers.go` IsOnlyMutatingGCFields).

"Covered" is `Covers` (`staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go`):
each rule broken down into one verb, group, resource and name (BreakdownRule), each covered by some
single rule of the requester's (ruleCovers). The refusal is a 403 naming the object
(`apierrors.NewForbidden`) with upstream's message: `user "u" (groups=["g"]) is attempting to grant
RBAC permissions not currently held:` and the missing rules, compacted (`policy_compact.go`
CompactRules) and printed (`pkg/apis/rbac/v1/helpers.go` CompactString) one a line, sorted.

The server's write handlers call `escalation_refusal`; the requester's rules are those of the policy
the authorizer reads (`server.rbac_policy`).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ApiObject, qualified_resource
from kubeprop.model.api.rbac import (
    RbacPolicy,
    RequestAttributes,
    aggregate_error,
    applies_to_user,
    authorize,
    go_quote,
)
from kubeprop.model.api.rbac_authn import SYSTEM_MASTERS, UserInfo
from kubeprop.model.api.rbac_kinds import (
    RBAC_GROUP,
    ClusterRole,
    ClusterRoleBinding,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
)
from kubeprop.model.api.server import Context, Response, describe, rbac_policy, status
from kubeprop.model.api.store import Store

FULL_AUTHORITY = (PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",)),
                  PolicyRule(verbs=("*",), non_resource_urls=("*",)))
"""`fullAuthority` (`clusterrole/policybased/storage.go`): what setting an aggregationRule needs."""

AGGREGATION_RULE_MESSAGE = "must have cluster-admin privileges to use the aggregationRule"


@attrs.frozen
class Refusal:
    """Why a write of an RBAC object is refused: the status code (403, or the registry's 404 for a
    roleRef that does not resolve) and the message (for a 403, after `<resource> "<name>" is
    forbidden: `)."""

    code: int
    message: str


# --- Covers (component-helpers/auth/rbac/validation/policy_comparator.go) --------------------------


def breakdown_rule(rule: PolicyRule) -> list[PolicyRule]:
    """`BreakdownRule`: one rule per group, resource, verb (and resource name), then per
    non-resource URL and verb."""
    out: list[PolicyRule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                names: list[tuple[str, ...]] = [(n,) for n in rule.resource_names] or [()]
                out += [PolicyRule(verbs=(verb,), api_groups=(group,), resources=(resource,), resource_names=n)
                        for n in names]
    out += [PolicyRule(verbs=(verb,), non_resource_urls=(url,)) for url in rule.non_resource_urls
            for verb in rule.verbs]
    return out


def _resource_covers_all(owned: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """`resourceCoversAll`: `*`, every resource exactly, or `*/sub` for a subresource."""
    if "*" in owned or all(r in owned for r in wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    """`nonResourceURLCovers`: the same path, or a `prefix*` pattern."""
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def rule_covers(owner: PolicyRule, sub: PolicyRule) -> bool:
    """`ruleCovers`: whether `owner` covers the broken-down rule `sub`."""
    verbs = "*" in owner.verbs or all(v in owner.verbs for v in sub.verbs)
    groups = "*" in owner.api_groups or all(g in owner.api_groups for g in sub.api_groups)
    urls = all(any(_url_covers(o, p) for o in owner.non_resource_urls) for p in sub.non_resource_urls)
    if not sub.resource_names:
        names = not owner.resource_names
    else:
        names = not owner.resource_names or all(n in owner.resource_names for n in sub.resource_names)
    return verbs and groups and _resource_covers_all(owner.resources, sub.resources) and names and urls


def covers(owner_rules: Iterable[PolicyRule], servant_rules: Iterable[PolicyRule]) -> list[PolicyRule]:
    """`Covers`: the broken-down rules of `servant_rules` that no rule of `owner_rules` covers
    (none: covered)."""
    owners = tuple(owner_rules)
    subrules = [sub for rule in servant_rules for sub in breakdown_rule(rule)]
    return [sub for sub in subrules if not any(rule_covers(owner, sub) for owner in owners)]


# --- the message (policy_compact.go CompactRules, helpers.go CompactString) ------------------------


def compact_rules(rules: Iterable[PolicyRule]) -> list[PolicyRule]:
    """`CompactRules`: rules of one group and one resource and nothing but verbs merged, their verbs
    appended in order (the order of the result does not matter: the message sorts its lines)."""
    compacted: list[PolicyRule] = []
    simple: dict[tuple[str, str], PolicyRule] = {}
    for rule in rules:
        if rule.resource_names or rule.non_resource_urls or len(rule.api_groups) != 1 or len(rule.resources) != 1:
            compacted.append(rule)
            continue
        key = (rule.api_groups[0], rule.resources[0])
        found = simple.get(key)
        simple[key] = rule if found is None else attrs.evolve(found, verbs=(*found.verbs, *rule.verbs))
    return [*compacted, *simple.values()]


def _go_strings(values: Iterable[str]) -> str:
    """Go's `%q` of a `[]string`: `["a" "b"]`."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def compact_string(rule: PolicyRule) -> str:
    """`CompactString`: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`, empty
    fields left out."""
    parts = [(name, values) for name, values in (
        ("APIGroups", rule.api_groups), ("Resources", rule.resources), ("NonResourceURLs", rule.non_resource_urls),
        ("ResourceNames", rule.resource_names), ("Verbs", rule.verbs)) if values]
    return "{" + ", ".join(f"{name}:{_go_strings(values)}" for name, values in parts) + "}"


# --- the requester's rules (pkg/registry/rbac/validation/rule.go) ----------------------------------


def _registry_rules(policy: RbacPolicy, ref: RoleRef, namespace: str) -> tuple[tuple[PolicyRule, ...], str | None]:
    """`GetRoleReferenceRules` as the API server's own resolver runs it, on its registries
    (`pkg/registry/rbac/rest/storage_rbac.go`: the `AuthorizerAdapter`s): a missing role is the
    registry's NotFound (`roles.rbac.authorization.k8s.io "r" not found`)."""
    if ref.kind == "Role":
        role = policy.roles.get((namespace, ref.name))
        return ((), f"roles.{RBAC_GROUP} {go_quote(ref.name)} not found") if role is None else (role.rules, None)
    if ref.kind == "ClusterRole":
        found = policy.cluster_roles.get(ref.name)
        if found is None:
            return (), f"clusterroles.{RBAC_GROUP} {go_quote(ref.name)} not found"
        return found.rules, None
    return (), f"unsupported role reference kind: {go_quote(ref.kind)}"


def rules_for(policy: RbacPolicy, user: UserInfo, namespace: str) -> tuple[list[PolicyRule], list[str]]:
    """`RulesFor`: every rule bound to `user` by a ClusterRoleBinding, then (in a namespace) by a
    RoleBinding there, with the errors of roleRefs that do not resolve."""
    rules: list[PolicyRule] = []
    errors: list[str] = []
    bindings: list[tuple[ClusterRoleBinding | RoleBinding, str]] = [(b, "") for b in policy.cluster_role_bindings]
    if namespace:
        bindings += [(b, namespace) for b in policy.role_bindings if b.metadata.namespace == namespace]
    for binding, binding_namespace in bindings:
        if not any(applies_to_user(user, s, binding_namespace) for s in binding.subjects):
            continue
        found, error = _registry_rules(policy, binding.role_ref, binding_namespace)
        if error is not None:
            errors.append(error)
        rules += found
    return rules, errors


def confirm_no_escalation(policy: RbacPolicy, user: UserInfo, namespace: str,
                          rules: Iterable[PolicyRule]) -> str | None:
    """`ConfirmNoEscalation`: None when `user`'s rules in `namespace` cover `rules`, else the message."""
    owned, errors = rules_for(policy, user, namespace)
    missing = covers(owned, rules)
    if not missing:
        return None
    lines = sorted({compact_string(rule) for rule in compact_rules(missing)})
    message = (f"user {go_quote(user.name)} (groups={_go_strings(user.groups)}) is attempting to grant RBAC "
               "permissions not currently held:\n" + "\n".join(lines))
    if errors:  # `%v` of the one-element []error holding the aggregate
        message += f"; resolution errors: [{aggregate_error(errors)}]"
    return message


# --- the policybased storages ----------------------------------------------------------------------


def _allowed(policy: RbacPolicy, user: UserInfo, verb: str, resource: str, name: str, namespace: str) -> bool:
    attributes = RequestAttributes(verb=verb, api_group=RBAC_GROUP, resource=resource, name=name, namespace=namespace)
    return authorize(user, attributes, policy).allowed


def only_gc_fields(new: object, old: object) -> bool:
    """`IsOnlyMutatingGCFields`: `new` equals `old` once its ownerReferences and finalizers are
    `old`'s (and the fields the server keeps itself: resourceVersion, managedFields)."""
    old_meta: ObjectMeta = old.metadata  # type: ignore[attr-defined]
    new_meta: ObjectMeta = new.metadata  # type: ignore[attr-defined]
    meta = attrs.evolve(new_meta, owner_references=old_meta.owner_references, finalizers=old_meta.finalizers,
                        resource_version=old_meta.resource_version, managed_fields=old_meta.managed_fields)
    return attrs.evolve(new, metadata=meta) == old  # type: ignore[misc]


def _has_aggregation(role: object) -> bool:
    """`hasAggregationRule`: an aggregationRule with at least one selector."""
    return isinstance(role, ClusterRole) and role.aggregation_rule is not None and \
        bool(role.aggregation_rule.cluster_role_selectors)


def _role_refusal(policy: RbacPolicy, user: UserInfo, obj: Role | ClusterRole, old: object | None,
                  request_name: str, namespace: str) -> Refusal | None:
    resource = "roles" if isinstance(obj, Role) else "clusterroles"
    if _allowed(policy, user, "escalate", resource, request_name, namespace):
        return None
    message = confirm_no_escalation(policy, user, namespace, obj.rules)
    if message is not None:
        return Refusal(403, message)
    if (_has_aggregation(obj) or _has_aggregation(old)) and \
            confirm_no_escalation(policy, user, namespace, FULL_AUTHORITY) is not None:
        return Refusal(403, AGGREGATION_RULE_MESSAGE)
    return None


def _binding_refusal(policy: RbacPolicy, user: UserInfo, obj: RoleBinding | ClusterRoleBinding,
                     namespace: str) -> Refusal | None:
    ref = obj.role_ref
    resource = {"ClusterRole": "clusterroles", "Role": "roles"}.get(ref.kind)
    if resource is not None and _allowed(policy, user, "bind", resource, ref.name, namespace):
        return None
    rules, error = _registry_rules(policy, ref, namespace)
    if error is not None:
        return Refusal(404 if error.endswith("not found") else 500, error)
    message = confirm_no_escalation(policy, user, namespace, rules)
    return None if message is None else Refusal(403, message)


def escalation_refusal(policy: RbacPolicy, user: UserInfo, obj: object, old: object | None,
                       request_name: str, namespace: str) -> Refusal | None:
    """Why the policybased storage refuses `user`'s create (`old` None) or update of the RBAC object
    `obj` in `namespace` ("" for the cluster-scoped kinds), or None; `request_name` is the name the
    request's URL carries (empty for a POST). Any other kind: None."""
    if not isinstance(obj, Role | ClusterRole | RoleBinding | ClusterRoleBinding) or SYSTEM_MASTERS in user.groups:
        return None
    if old is not None and only_gc_fields(obj, old):
        return None
    if isinstance(obj, Role | ClusterRole):
        return _role_refusal(policy, user, obj, old, request_name, namespace)
    return _binding_refusal(policy, user, obj, namespace)


def write_refusal(store: Store, ctx: Context, obj: ApiObject, old: ApiObject | None, namespace: str) -> Response | None:
    """The response refusing the create (`old` None) or update in `ctx` of `obj` (after mutating
    admission), or None: `escalation_refusal` under the policy in force (`server.rbac_policy`) for
    the request's user; the name of the request's URL is empty for a POST (`RequestInfo.Name`)."""
    if not isinstance(obj, Role | ClusterRole | RoleBinding | ClusterRoleBinding):
        return None
    request_name = "" if ctx.request.verb == "create" else obj.metadata.name
    refusal = escalation_refusal(rbac_policy(store), ctx.user, obj, old, request_name, namespace)
    if refusal is None:
        return None
    if refusal.code != 403:
        return status(refusal.code, "NotFound" if refusal.code == 404 else "InternalError", refusal.message)
    name = obj.metadata.name  # `apierrors.NewForbidden`: no quoted name when it is empty
    target = describe(ctx.info, name) if name else qualified_resource(ctx.info)
    return status(403, "Forbidden", f"{target} is forbidden: {refusal.message}")
