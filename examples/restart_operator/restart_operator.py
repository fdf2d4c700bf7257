"""A user's operator with an unobserved-state bug: it counts restarts by watching for a stopped container.

The operator keeps, on each pod labelled `example.com/count-restarts: "true"`, the annotation
`example.com/restarts`: how many times the pod's containers have restarted (a dashboard reads it).
`restart_properties.py` says that once the cluster settles the annotation equals the restart
counts the kubelet reports (`status.containerStatuses[].restartCount`).

`RESTARTS` is the first version, edge-triggered: it remembers whether it last saw the pod's
containers running, and when it sees them not running after running, it adds one to the
annotation. But a controller sees states, not transitions: the informer delivers the pod's
changes, and the work queue holds a key once however many changes arrive before a worker takes it
(`staging/src/k8s.io/client-go/util/workqueue/queue.go` Add), and the kubelet's status manager
reports the pod's latest status, not each state it went through (`pkg/kubelet/status/status_manager.go`).
When the container crashes and the kubelet restarts it before the operator has seen it stopped —
before the stop was ever reported, or between two of the operator's reconciles — the operator sees
running, then running again: the restart is never counted, and the annotation stays behind for
good (Sieve's *unobserved state*: Sun et al., OSDI 2022). The same happens when a conflict makes it
retry after it has already remembered the stopped container.

`RESTARTS_FIXED` is the fix, level-triggered: the annotation is set to the sum of the restart
counts the pod's status reports, whatever the operator saw in between — the state, not the edges.

Run it with this folder on the import path:
`PYTHONPATH=examples/restart_operator kubeprop check examples/restart_operator/scenario.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.component import Reconciliation
from kubeprop.model.state.informer import ObjectView

COUNT_LABEL = "example.com/count-restarts"
"""The label that opts a pod in."""
RESTARTS = "example.com/restarts"
"""The annotation the operator keeps: the restarts of the pod's containers."""


def restart_count(pod: Pod) -> int:
    """The restarts of the pod's containers, as its status reports them."""
    return sum(c.restart_count for c in pod.status.container_statuses)


def running(pod: Pod) -> bool:
    """Every container of the pod reports the running state."""
    statuses = pod.status.container_statuses
    return bool(statuses) and all(isinstance(c.state, FrozenMap) and "running" in c.state for c in statuses)


@attrs.frozen
class RestartOperator:
    """The operator as a `Controller` (see the module docstring): `level` is the fix. Its memory
    (the first version's): pod key → whether it last saw the pod's containers running."""

    name: str = "restarts"
    watches: tuple[str, ...] = ("pods",)
    identity: str = "system:kube-controller-manager"
    level: bool = False

    def initial_memory(self) -> Any:
        """Nothing seen yet."""
        return FrozenMap()

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """Responses change nothing it remembers."""
        return memory

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """A labelled pod: its own key."""
        if isinstance(obj, Pod) and obj.metadata.labels.get(COUNT_LABEL) == "true":
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """The first version: one more restart when the containers stopped since last seen; the
        fix: the annotation set to the restart counts the status reports."""
        namespace, _, name = key.rpartition("/")
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or not pod.status.container_statuses:
            return Reconciliation(memory=memory)
        counted = int(pod.metadata.annotations.get(RESTARTS, "0"))
        if self.level:
            wanted = restart_count(pod)
        else:
            stopped = memory.get(key) is True and not running(pod)
            memory = memory.set(key, running(pod))
            wanted = counted + 1 if stopped else counted
        if wanted == counted:
            return Reconciliation(memory=memory)
        patch = {"metadata": {"annotations": {RESTARTS: str(wanted)}, "resourceVersion": pod.metadata.resource_version}}
        return Reconciliation((Request(verb="patch", user=self.identity, resource="pods", namespace=namespace,
                                       name=name, patch=patch),), memory)



RESTART_COUNTER = RestartOperator()
"""The first version: restarts counted from the stops the operator happened to see."""

RESTART_COUNTER_FIXED = RestartOperator(level=True)
"""The fix: the annotation set from the status's restart counts."""
