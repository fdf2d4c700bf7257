"""Authentication of API requests, as pure functions: who a username is.

`authenticate` resolves a username to a `UserInfo`: a user declared by the scenario, or an existing
ServiceAccount's `system:serviceaccount:<ns>:<name>`
(`staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`); either way the
`system:authenticated` group is added, as upstream's `AuthenticatedGroupAdder` does
(`staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go`). The
well-known user and group names are upstream's `user` package's
(`staging/src/k8s.io/apiserver/pkg/authentication/user/user.go`).

Used by `rbac` (authorization), `rbac_bootstrap` (the default bindings name these groups), the API
server and every module that carries a requester's identity. May import `kubeprop.model.evolve`
only: nothing of authorization or of the RBAC kinds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import attrs

from kubeprop.model.evolve import evolve

SYSTEM_MASTERS = "system:masters"
"""`user.SystemPrivilegedGroup`: always allowed by the privileged-group authorizer."""
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
"""`user.Anonymous`: the name of a request no authenticator claimed."""
SERVICE_ACCOUNT_USERNAME_PREFIX = "system:serviceaccount:"
ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
NODES_GROUP = "system:nodes"


@attrs.frozen
class UserInfo:
    """An authenticated identity (`staging/src/k8s.io/apiserver/pkg/authentication/user/user.go`)."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""


# --- service accounts -----------------------------------------------------------------------------


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

