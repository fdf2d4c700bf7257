"""The restart operator's property, as its user writes it: the annotation counts every restart.

It reads the API server's truth (`state.store`), never a cache. It is a convergence property:
the annotation trails the pod's status by a reconcile, so it is judged where the cluster settles.
The scenario names this module under `properties:`.
"""

from __future__ import annotations

from restart_operator import COUNT_LABEL, RESTARTS, restart_count

from kubeprop.model.api.objects import Pod
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Needs, Violation, convergence


@convergence("restarts-counted", "Once the cluster settles, a counted pod's annotation equals its containers' "
             "restart counts.", "examples/restart_operator", needs=Needs(("pods",)))
def restarts_counted(model: ClusterModel, state: ClusterState) -> Violation | str | None:
    """A restart the operator did not count is never counted later."""
    for pod in state.store.list("pods"):
        if isinstance(pod, Pod) and pod.metadata.labels.get(COUNT_LABEL) == "true":
            counted, actual = pod.metadata.annotations.get(RESTARTS, "0"), restart_count(pod)
            if counted != str(actual):
                return (f"Pod {pod.metadata.namespace}/{pod.metadata.name} has restarted {actual} times but its "
                        f"{RESTARTS} annotation says {counted}")
    return None
