"""`controllers-not-failing`: where the cluster settles, no key of the scenario's own controllers is
still failing.

A controller whose writes the API server refuses for good — its user lacks the RBAC permission
(403), or it writes an invalid object (422) — fails every sync of the key. Upstream the key is
requeued with rate limiting and the error logged for ever: controller-runtime's reconcileHandler
(`pkg/internal/controller/controller.go`: "Reconciler error", `AddRateLimited`), client-go's
`workqueue.DefaultTypedControllerRateLimiter` (`staging/src/k8s.io/client-go/util/workqueue/
default_rate_limiters.go`: 5 ms doubling to 1000 s). Nothing else changes, so the cluster is
quiet and every other property may hold: without this property a broken operator passes.

Convergence: judged where a fair run settles, where a retry that would succeed has been taken
(a 409 conflict on a stale cache is resolved by the retry once the cache catches up) and only a
refusal that comes again is left (`kubeprop.model.controllers.failing`: 4xx from the API server
proper; an injected failure, a flood's 429, etcd without quorum are the environment's). Only the
scenario's own controllers (not built from kubeprop's controller classes) are judged: the built-in
controllers' refusals are what their own properties report (`deployments-complete` names a quota
refusal). Opt-in (`registry.OPT_IN`), checked by default on every scenario with `controllers:`.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.controllers.decisions import BUILT_IN
from kubeprop.model.controllers.failing import describe_request, failing_keys
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_in_when

__all__ = ["CONTROLLERS_NOT_FAILING", "still_failing"]


def own_controllers(model: ClusterModel) -> tuple[str, ...]:
    """The names of the model's controllers that are the user's: of a class outside kubeprop's
    controllers (`decisions.BUILT_IN`)."""
    return tuple(c.name for c in model.controllers if not type(c).__module__.startswith(BUILT_IN))


def still_failing(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first key of the user's controllers (in queue order) whose reconcile the API server
    would refuse again, with the request and the answer; None when there is none."""
    names = own_controllers(model)
    if not names:
        return None
    found = failing_keys(model, state, names)
    if not found:
        return None
    first = found[0]
    more = f" ({len(found) - 1} more key{'s' if len(found) > 2 else ''} failing)" if len(found) > 1 else ""
    response = first.response
    return (f"controller {first.controller!r} keeps failing on key {first.key!r}: its reconcile's "
            f"{describe_request(first.request)} is refused with {response.code} {response.reason}: "
            f"{response.message}; the key is requeued with back-off and 'Reconciler error' logged for ever"
            f"{more}", tuple(dict.fromkeys(f"controller {k.controller}" for k in found)))


def _applies(scenario: Any) -> bool:
    return bool(getattr(scenario, "controllers", ()))


CONTROLLERS_NOT_FAILING: Property = register_opt_in_when(__name__, _applies, as_property(
    "controllers-not-failing",
    "Where the cluster settles, no key of the scenario's own controllers is still failing (its requests refused).",
    "controller-runtime pkg/internal/controller/controller.go reconcileHandler; "
    "staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go",
    "convergence", still_failing))
"""Opt-in built-in (`registry.OPT_IN`), checked by default on scenarios with controllers of their own."""
