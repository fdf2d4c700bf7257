"""Keys whose every reconcile fails: a controller that keeps a refused write's key queued.

Upstream a sync that returns an error is requeued with rate limiting and logged — controller-runtime's
`reconcileHandler` (`pkg/internal/controller/controller.go`) logs "Reconciler error" and calls
`AddRateLimited`; client-go controllers' `handleErr` does the same through `utilruntime.HandleError`
(`staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go`: 5 ms doubling to 1000 s per
item). A request the API server refuses for good — 403 for a user without the permission, 422 for
an invalid object — fails again on every retry, so the key is retried for ever, backing off, and
nothing else happens: the cluster is quiet, and a fair run settles (`kubeprop.model.cluster.drive`
sets a retry that changes nothing aside, as the back-off does). What is left is a key that is still
queued where the run settles and whose reconcile, from that state, would still be refused.

`refused(model, state, controller, key)` is the request of that reconcile whose refusal requeues
the key, with the API server's answer, following `base._reconcile_now`'s rules (the first failure
ends the list unless `after_failure` follows it; `tolerate`'s "ignore" is no failure, "forget" no
requeue). Only refusals of the API server proper count (4xx but 429): an injected failure
(`FailNextRequest`, taken off for the question), a flood's 429 and etcd without quorum (5xx) are the
environment's, which recovers. A conflict (409) counts only where it would happen again: in a
settled state every cache has caught up, so a stale resourceVersion that a retry would refresh is
no longer there.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from kubeprop.model.api.objects import kind_info, qualified_resource
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import decide, runnable, send_decision
from kubeprop.model.controllers.processes import process_of
from kubeprop.model.evolve import evolve
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["FailingKey", "describe_request", "failing_keys", "refused"]


@attrs.frozen
class FailingKey:
    """A queued key whose reconcile is refused: the controller, the key, the refused request and the
    API server's answer."""

    controller: str
    key: str
    request: Request
    response: Response

    def describe(self) -> str:
        """One line: the key, the request and the answer."""
        return (f"controller {self.controller!r} key {self.key!r}: {describe_request(self.request)} "
                f"is refused: {self.response.code} {self.response.reason}: {self.response.message}")


def describe_request(request: Request) -> str:
    """`create configmaps default/Bad_Name`: the verb and the target of a request."""
    obj = request.obj
    resource = request.resource or (qualified_resource(kind_info(obj)) if obj is not None else "?")
    namespace = request.namespace or (obj.metadata.namespace if obj is not None else "")
    name = request.name or (obj.metadata.name if obj is not None else "")
    target = f"{namespace}/{name}" if namespace else name
    return f"{request.verb} {resource} {target}".rstrip()


def refused(model: ClusterModel, state: ClusterState, controller: str, key: str) -> tuple[Request, Response] | None:
    """The request whose refusal would requeue `key` if `controller` reconciled it now, with the
    answer; None when the reconcile would succeed, tolerate its failures, or fail only by the
    environment's doing (see the module docstring). The controller manager must be up and the key
    queued (`base.queued`)."""
    process = process_of(model, controller)
    if state.armed_failures.get(process) is not None:  # an injected fault: transient
        state = evolve(state, armed_failures=state.armed_failures.delete(process))
    found = next(c for c in model.controllers if c.name == controller)
    _, _, requeue, failure = send_decision(model, state, found, decide(model, state, controller, key), key,
                                           observed=False, process=process)
    if failure is None or not requeue or not _for_good(failure[1]):
        return None
    return failure


def _for_good(response: Response) -> bool:
    """A refusal of the API server proper (4xx but 429), not the environment's (5xx, a flood's 429)."""
    return 400 <= response.code < 500 and response.code != 429


def failing_keys(model: ClusterModel, state: ClusterState, names: tuple[str, ...] | None = None
                 ) -> tuple[FailingKey, ...]:
    """Every queued key (of the controllers `names`, default all) whose reconcile from `state` would
    be refused (`refused`); none while the controller manager is down."""
    return tuple(_failing(model, state, names))


def _failing(model: ClusterModel, state: ClusterState, names: tuple[str, ...] | None) -> Iterator[FailingKey]:
    for controller, key in runnable(model, state):  # (of the controllers whose process is up)
        if names is not None and controller not in names:
            continue
        found = refused(model, state, controller, key)
        if found is not None:
            yield FailingKey(controller, key, *found)
