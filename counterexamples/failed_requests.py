"""The API requests of each replayed step that failed, for `kubeprop replay --full`: a reconcile's
write refused with 404 or 409, a kubelet's status patch refused, an injected 500. The store keeps no
trace of a refused request, so they are seen by taking each step again on a copy of the model whose
response observer records them (`Hooks.on_response`, measurement only: the states are the same).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.counterexamples.printable import shown
from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster.compose import step
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["failed_requests", "request_words"]


def failed_requests(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action]
                    ) -> dict[int, tuple[str, ...]]:
    """Step index (1-based, as rendered) → a line per request of that step that failed."""
    log: list[str] = []

    def record(component: str, request: Request, response: Response) -> None:
        if not response.ok:
            log.append(request_words(component, request, response))

    observing = attrs.evolve(model, hooks=attrs.evolve(model.hooks, on_response=(*model.hooks.on_response, record)))
    out: dict[int, tuple[str, ...]] = {}
    for index in range(1, len(states)):
        log.clear()
        step(observing, states[index - 1], trace[index - 1])
        if log:
            out[index] = tuple(log)
    return out


def request_words(component: str, request: Request, response: Response) -> str:
    """`request failed: PATCH buckets.example.com default/photos (controller-manager): 404 NotFound: …`."""
    resource = request.resource or (type(request.obj).__name__.lower() + "s" if request.obj is not None else "")
    namespace = request.namespace or (request.obj.metadata.namespace if request.obj is not None else "")
    name = request.name or (request.obj.metadata.name if request.obj is not None else "")
    target = "/".join(p for p in (namespace, name) if p)
    message = f": {response.message}" if response.message else ""
    return shown(f"request failed: {str(request.verb).upper()} {resource} {target} ({component}): "
                 f"{response.code} {response.reason}{message}").replace("  ", " ")
