"""User impersonation (`kubectl --as USER`: the `Impersonate-User` header), as the API server's
impersonation filter handles it (`staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go`
WithImpersonation, buildImpersonationRequests; v1.33).

The filter runs after authentication and before authorization. The authenticated requester must
be allowed the verb `impersonate` on `users` named USER (core group, cluster scope) — or, for a
service-account username `system:serviceaccount:NS:NAME`, on `serviceaccounts` NAME in NS — else
the request is refused, 403: `users "bob" is forbidden: User "admin" cannot impersonate resource
"users" in API group "" at the cluster scope`. Allowed, the request goes on as the impersonated
identity alone: its name, and as groups only `system:authenticated` (a service account: also
`system:serviceaccounts` and `system:serviceaccounts:NS`) — but impersonating `system:anonymous`,
only `system:unauthenticated` (the filter's `username != user.Anonymous` test: `--as
system:anonymous` gets what unauthenticated requests are bound to, not system:authenticated's
bindings). The requester's groups, and the groups a scenario declares for USER, are not carried:
`kubectl --as-group` (more `Impersonate-Group` headers) and `--as-uid` are not modelled.
Authorization, admission and the handlers then see the impersonated user, and so does API
Priority and Fairness (it runs after this filter upstream).
"""

from __future__ import annotations

from kubeprop.model.api.rbac import RbacPolicy, RequestAttributes, authorize, forbidden_status_message
from kubeprop.model.api.rbac_authn import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    UserInfo,
    service_account_groups,
    split_service_account_username,
)

__all__ = ["acting_as", "impersonate"]


def acting_as(username: str) -> UserInfo:
    """The identity a request impersonating `username` (no groups asked for) goes on as."""
    if username == ANONYMOUS:
        return UserInfo(username, (ALL_UNAUTHENTICATED,))
    account = split_service_account_username(username)
    if account is not None:
        return UserInfo(username, (*service_account_groups(account[0]), ALL_AUTHENTICATED))
    return UserInfo(username, (ALL_AUTHENTICATED,))


def _attributes(username: str) -> RequestAttributes:
    """The authorizer attributes of impersonating `username`."""
    account = split_service_account_username(username)
    if account is not None:
        namespace, name = account
        return RequestAttributes(verb="impersonate", api_group="", resource="serviceaccounts", name=name,
                                 namespace=namespace)
    return RequestAttributes(verb="impersonate", api_group="", resource="users", name=username)


def impersonate(requester: UserInfo, username: str, policy: RbacPolicy) -> UserInfo | str:
    """The identity the request goes on as, or the 403 message when `requester` may not
    impersonate `username`."""
    attributes = _attributes(username)
    decision = authorize(requester, attributes, policy)
    if not decision.allowed:  # (`responsewriters.Forbidden` with the impersonation attributes)
        return forbidden_status_message(attributes, decision.reason)
    return acting_as(username)
