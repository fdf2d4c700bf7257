"""Authentication and authorization of API requests, as pure functions.

Authentication (`authenticate`) resolves a username to a `UserInfo`: a user declared by the
scenario, or an existing ServiceAccount's `system:serviceaccount:<ns>:<name>`
(`staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`); either way the
`system:authenticated` group is added, as upstream's `AuthenticatedGroupAdder` does
(`staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go`).

Authorization (`authorize`) is the chain `pkg/kubeapiserver/authorizer/config.go` builds for
`--authorization-mode=RBAC`: the privileged-group authorizer (members of `system:masters` may do
anything), then the RBAC authorizer (`plugin/pkg/auth/authorizer/rbac/rbac.go`) with the rule
resolver of `pkg/registry/rbac/validation/rule.go` and the matchers of
`pkg/apis/rbac/v1/evaluation_helpers.go`. The Node authorizer is not modelled (see
`bootstrap_policy`: the default roles, `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`).
Upstream lists bindings in map order; here in name order, so the "allowed by" reason is deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping

import attrs

from kubeprop.model.api.meta import ObjectMeta
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
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap

SYSTEM_MASTERS = "system:masters"
"""`user.SystemPrivilegedGroup`: always allowed by the privileged-group authorizer."""
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
SERVICE_ACCOUNT_USERNAME_PREFIX = "system:serviceaccount:"
ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
NODES_GROUP = "system:nodes"


@attrs.frozen
class UserInfo:
    """An authenticated identity (`staging/src/k8s.io/apiserver/pkg/authentication/user/user.go`)."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""


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


# --- authentication -------------------------------------------------------------------------------


def service_account_username(namespace: str, name: str) -> str:
    """`system:serviceaccount:<ns>:<name>` (`serviceaccount.MakeUsername`)."""
    return f"{SERVICE_ACCOUNT_USERNAME_PREFIX}{namespace}:{name}"


def split_service_account_username(username: str) -> tuple[str, str] | None:
    """(namespace, name) of a service-account username, or None (`serviceaccount.SplitUsername`)."""
    if not username.startswith(SERVICE_ACCOUNT_USERNAME_PREFIX):
        return None
    parts = username[len(SERVICE_ACCOUNT_USERNAME_PREFIX):].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """`system:serviceaccounts`, `system:serviceaccounts:<ns>` (`serviceaccount.MakeGroupNames`)."""
    return (ALL_SERVICE_ACCOUNTS_GROUP, f"{ALL_SERVICE_ACCOUNTS_GROUP}:{namespace}")


def _with_authenticated(user: UserInfo) -> UserInfo:
    if ALL_AUTHENTICATED in user.groups:
        return user
    return evolve(user, groups=(*user.groups, ALL_AUTHENTICATED))


def authenticate(
    username: str, users: Mapping[str, UserInfo], service_accounts: Collection[tuple[str, str]]
) -> UserInfo | None:
    """The identity behind `username`, or None (the API server answers 401 Unauthorized).

    A user declared in the scenario wins; otherwise a service-account username authenticates
    iff the ServiceAccount (namespace, name) exists. If `service_accounts` is a mapping, its
    values are taken as the ServiceAccounts' uids.
    """
    declared = users.get(username)
    if declared is not None:
        return _with_authenticated(declared)
    parsed = split_service_account_username(username)
    if parsed is None or parsed not in service_accounts:
        return None
    uid = service_accounts[parsed] if isinstance(service_accounts, Mapping) else ""
    groups = service_account_groups(parsed[0])
    return _with_authenticated(UserInfo(username, groups, str(uid)))


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


def rule_allows(request: RequestAttributes, rule: PolicyRule) -> bool:
    """`RuleAllows` (`plugin/pkg/auth/authorizer/rbac/rbac.go`)."""
    if not request.resource_request:
        return verb_matches(rule, request.verb) and non_resource_url_matches(rule, request.path)
    combined = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
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
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
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


# --- bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go) -----------------

READ = "get list watch"
WRITE = "create update patch delete deletecollection"
_LABELS = FrozenMap({"kubernetes.io/bootstrapping": "rbac-defaults"})
_ANNOTATIONS = FrozenMap({"rbac.authorization.kubernetes.io/autoupdate": "true"})


def _rule(verbs: str, groups: str, resources: str, names: str = "") -> PolicyRule:
    """`NewRule(verbs...).Groups(groups...).Resources(resources...).Names(names...)`, each list
    written space-separated (groups comma-separated: `""` is the core group)."""
    return PolicyRule(verbs=tuple(verbs.split()), api_groups=tuple(groups.split(",")),
                      resources=tuple(resources.split()), resource_names=tuple(names.split()))


def _urls(urls: str) -> PolicyRule:
    """`NewRule("get").URLs(urls...)`."""
    return PolicyRule(verbs=("get",), non_resource_urls=tuple(urls.split()))


_EVENTS = _rule("create update patch", ",events.k8s.io", "events")
_REVIEWS = (_rule("create", "authentication.k8s.io", "tokenreviews"),
            _rule("create", "authorization.k8s.io", "subjectaccessreviews"))
_VIEW_RULES = (
    _rule(READ, "", "pods replicationcontrollers replicationcontrollers/scale serviceaccounts services "
          "services/status endpoints persistentvolumeclaims persistentvolumeclaims/status configmaps"),
    _rule(READ, "", "limitranges resourcequotas bindings events pods/status resourcequotas/status "
          "namespaces/status replicationcontrollers/status pods/log"),
    _rule(READ, "", "namespaces"),
    _rule(READ, "discovery.k8s.io", "endpointslices"),
    _rule(READ, "apps", "controllerrevisions statefulsets statefulsets/status statefulsets/scale daemonsets "
          "daemonsets/status deployments deployments/status deployments/scale replicasets "
          "replicasets/status replicasets/scale"),
    _rule(READ, "autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status"),
    _rule(READ, "batch", "jobs cronjobs cronjobs/status jobs/status"),
    _rule(READ, "policy", "poddisruptionbudgets poddisruptionbudgets/status"),
    _rule(READ, "networking.k8s.io", "networkpolicies ingresses ingresses/status"),
)
_EDIT_RULES = (
    *_VIEW_RULES,
    _rule(READ, "", "pods/attach pods/proxy pods/exec pods/portforward secrets services/proxy"),
    _rule("impersonate", "", "serviceaccounts"),
    _rule(WRITE, "", "pods pods/attach pods/proxy pods/exec pods/portforward"),
    _rule("create", "", "pods/eviction"),
    _rule(WRITE, "", "replicationcontrollers replicationcontrollers/scale serviceaccounts services "
          "services/proxy persistentvolumeclaims configmaps secrets"),
    _rule(WRITE, "apps", "statefulsets statefulsets/scale daemonsets deployments deployments/scale "
          "deployments/rollback replicasets replicasets/scale"),
    _rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
    _rule(WRITE, "batch", "jobs cronjobs"),
    _rule(WRITE, "policy", "poddisruptionbudgets"),
    _rule(WRITE, "networking.k8s.io", "networkpolicies ingresses"),
)
_ADMIN_RULES = (
    *_EDIT_RULES,
    _rule("create", "authorization.k8s.io", "localsubjectaccessreviews"),
    _rule(f"{READ} {WRITE}", RBAC_GROUP, "roles rolebindings"),
)
_SCHEDULER_RULES = (
    _EVENTS, _rule("create", "coordination.k8s.io", "leases"),
    _rule("get update", "coordination.k8s.io", "leases", names="kube-scheduler"),
    _rule(READ, "", "nodes"), _rule("get list watch delete", "", "pods"),
    _rule("create", "", "pods/binding bindings"), _rule("patch update", "", "pods/status"),
    _rule(READ, "", "services replicationcontrollers"), _rule(READ, "apps,extensions", "replicasets"),
    _rule(READ, "apps", "statefulsets"), _rule(READ, "policy", "poddisruptionbudgets"),
    _rule(READ, "", "persistentvolumeclaims persistentvolumes"), *_REVIEWS,
    _rule(READ, "storage.k8s.io", "csinodes csidrivers csistoragecapacities"), _rule(READ, "", "namespaces"),
)
_VOLUME_SCHEDULER_RULES = (
    _rule(f"{READ} update patch", "", "persistentvolumes persistentvolumeclaims"),
    _rule(READ, "storage.k8s.io", "storageclasses"),
)
_CONTROLLER_MANAGER_RULES = (
    _EVENTS, _rule("create", "coordination.k8s.io", "leases"),
    _rule("get update", "coordination.k8s.io", "leases", names="kube-controller-manager"),
    _rule("create", "", "secrets serviceaccounts"), _rule("delete", "", "secrets"),
    _rule("get", "", "namespaces secrets serviceaccounts configmaps"),
    _rule("update", "", "secrets serviceaccounts"), *_REVIEWS,
    _rule("list watch", "*", "*"), _rule("create", "", "serviceaccounts/token"),
)
_NODE_RULES = (
    _rule("create", "authentication.k8s.io", "tokenreviews"),
    _rule("create", "authorization.k8s.io", "subjectaccessreviews localsubjectaccessreviews"),
    _rule(READ, "", "services"), _rule("create get list watch", "", "nodes"),
    _rule("update patch", "", "nodes/status"), _rule("update patch", "", "nodes"),
    _rule("create update patch", "", "events"), _rule(READ, "", "pods"), _rule("create delete", "", "pods"),
    _rule("update patch", "", "pods/status"), _rule("create", "", "pods/eviction"),
    _rule(READ, "", "secrets configmaps"), _rule("get", "", "persistentvolumeclaims persistentvolumes"),
    _rule("get", "", "endpoints"),
    _rule("create get list watch", "certificates.k8s.io", "certificatesigningrequests"),
    _rule("get create update patch delete", "coordination.k8s.io", "leases"),
    _rule("get", "storage.k8s.io", "volumeattachments"),
    _rule("get update patch", "", "persistentvolumeclaims/status"),
    _rule("create", "", "serviceaccounts/token"),
    _rule("get watch list", "storage.k8s.io", "csidrivers"),
    _rule("get create update patch delete", "storage.k8s.io", "csinodes"),
    _rule(READ, "node.k8s.io", "runtimeclasses"),
)
_CLUSTER_ROLES: tuple[tuple[str, tuple[PolicyRule, ...]], ...] = (
    ("cluster-admin", (_rule("*", "*", "*"), PolicyRule(verbs=("*",), non_resource_urls=("*",)))),
    ("system:discovery", (_urls("/livez /readyz /healthz /version /version/ /openapi /openapi/* /api /api/* "
                                "/apis /apis/*"),)),
    ("system:basic-user", (_rule("create", "authorization.k8s.io",
                                 "selfsubjectaccessreviews selfsubjectrulesreviews"),)),
    ("system:public-info-viewer", (_urls("/livez /readyz /healthz /version /version/"),)),
    ("admin", _ADMIN_RULES),
    ("edit", _EDIT_RULES),
    ("view", _VIEW_RULES),
    ("system:kube-scheduler", _SCHEDULER_RULES),
    ("system:volume-scheduler", _VOLUME_SCHEDULER_RULES),
    ("system:kube-controller-manager", _CONTROLLER_MANAGER_RULES),
    ("system:node", _NODE_RULES),
)


def _binding(name: str, subjects: str) -> ClusterRoleBinding:
    """`NewClusterBinding(name).Users/Groups(...)`; `subjects` is space-separated `Kind:name`."""
    subs = tuple(Subject(kind=s.split(":", 1)[0], name=s.split(":", 1)[1], api_group=RBAC_GROUP)
                 for s in subjects.split())
    meta = ObjectMeta(name=name, labels=_LABELS, annotations=_ANNOTATIONS)
    return ClusterRoleBinding(metadata=meta, subjects=subs, role_ref=RoleRef(RBAC_GROUP, "ClusterRole", name))


def bootstrap_policy(*, bind_nodes_group: bool = True) -> tuple[ClusterRole | ClusterRoleBinding, ...]:
    """The default ClusterRoles and ClusterRoleBindings the API server reconciles at start-up.

    Faithful: cluster-admin (bound to group system:masters), system:discovery,
    system:basic-user, system:public-info-viewer and their bindings; system:kube-scheduler and
    system:volume-scheduler (bound to user system:kube-scheduler); system:kube-controller-manager
    (bound to that user). As upstream, the latter only covers the controller manager's own needs
    (leader election, informers, tokens): its controllers act as `system:controller:*` service
    accounts (`controller_policy.go`, not modelled here).

    Abbreviated: admin, edit and view carry the rules the aggregation controller would copy into
    them (upstream they aggregate system:aggregate-to-*), minus the deprecated `extensions` group.

    Approximated: system:node has upstream's `NodeRules()`. Upstream binds it to nobody (the Node
    authorizer and NodeRestriction admission grant kubelets access to their own node's objects);
    the model has no Node authorizer, so by default the binding names group system:nodes, which
    is broader than upstream. `bind_nodes_group=False` gives upstream's empty binding.
    """
    roles = tuple(ClusterRole(metadata=ObjectMeta(name=name, labels=_LABELS, annotations=_ANNOTATIONS),
                              rules=rules) for name, rules in _CLUSTER_ROLES)
    return (
        *roles,
        _binding("cluster-admin", f"Group:{SYSTEM_MASTERS}"),
        _binding("system:discovery", f"Group:{ALL_AUTHENTICATED}"),
        _binding("system:basic-user", f"Group:{ALL_AUTHENTICATED}"),
        _binding("system:public-info-viewer", f"Group:{ALL_AUTHENTICATED} Group:{ALL_UNAUTHENTICATED}"),
        _binding("system:kube-controller-manager", "User:system:kube-controller-manager"),
        _binding("system:kube-scheduler", "User:system:kube-scheduler"),
        _binding("system:volume-scheduler", "User:system:kube-scheduler"),
        _binding("system:node", f"Group:{NODES_GROUP}" if bind_nodes_group else ""),
    )
