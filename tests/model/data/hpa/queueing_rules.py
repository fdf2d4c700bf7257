"""A user environment rule for the `queueing` scenario: CPU that follows load, with overhead.

The web tier serves a fixed request rate (60m of CPU worth of useful work) shared by its ready
replicas; each replica also burns CPU on queueing and garbage collection that grows with the
square of its share (`share²/32`). Fewer replicas therefore cost more CPU in all: 2 replicas
use 58m each (58 % of their 100m request), 3 replicas 32m each — so an HPA at 50 % wants 3
replicas at 2 and 2 replicas at 3, and flaps for ever (with the default 300-s scale-down
stabilisation it just flaps slowly).
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.objects import Pod
from kubeprop.model.state.metrics import serving

LOAD_MILLICORES = 60
KNEE = 32


class QueueingCpu:
    """Usage of the `app=web` pods' CPU (see the module docstring)."""

    name = "queueing-cpu"

    def usage(self, model: Any, state: Any, pod: Pod, container: str, resource: str) -> int | None:
        if resource != "cpu" or pod.metadata.labels.get("app") != "web":
            return None
        if not serving(pod):
            return 0
        ready = sum(1 for p in state.store.list("pods", pod.metadata.namespace)
                    if isinstance(p, Pod) and p.metadata.labels.get("app") == "web" and serving(p))
        share = LOAD_MILLICORES // max(1, ready)
        return share + share * share // KNEE
