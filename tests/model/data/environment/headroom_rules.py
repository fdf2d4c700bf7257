"""A user environment rule with behaviour (`targets` and `apply`): a node problem detector.

When the CPU requested on a node leaves less than 2 % of its allocatable free, the detector taints
the node `example.com/overloaded:NoSchedule`; when headroom returns, it removes the taint. (The
model's kubelet reports its node Ready on its own, so a rule that marks nodes unhealthy does it
with a taint or a condition the kubelet does not own.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from kubeprop.model.api.core import Taint
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.scheduler.nodeinfo import pod_requests
from kubeprop.model.state.cluster import send

TAINT = Taint(key="example.com/overloaded", effect="NoSchedule")
HEADROOM_PERCENT = 2
IDENTITY = "system:admin"


def _overloaded(state: Any, node: Node) -> bool:
    allocatable = node.status.allocatable.get("cpu")
    if allocatable is None or allocatable.milli_value() == 0:
        return False
    requested = sum(pod_requests(p).get("cpu", 0) for p in state.store.list("pods")
                    if isinstance(p, Pod) and p.spec.node_name == node.metadata.name
                    and p.status.phase not in ("Succeeded", "Failed"))
    free = allocatable.milli_value() - requested
    return free * 100 < HEADROOM_PERCENT * allocatable.milli_value()


class HeadroomTaint:
    """Taints overloaded nodes and untaints them when they recover (see the module docstring)."""

    name = "headroom-taint"

    def targets(self, model: Any, state: Any) -> Iterator[str]:
        for node in state.store.list("nodes"):
            if isinstance(node, Node) and _overloaded(state, node) != (TAINT in node.spec.taints):
                yield node.metadata.name

    def apply(self, model: Any, state: Any, target: str) -> Any:
        node = next(n for n in state.store.list("nodes") if n.metadata.name == target)
        taints = tuple(t for t in node.spec.taints if t != TAINT)
        if _overloaded(state, node):
            taints = (*taints, TAINT)
        updated = attrs.evolve(node, spec=attrs.evolve(node.spec, taints=taints))
        state, _ = send(model, state, IDENTITY, Request(verb="update", user=IDENTITY, obj=updated), "environment")
        return state
