"""The environment's choice of which old pods a DaemonSet's rolling update replaces first.

Upstream's `pkg/controller/daemon/update.go` rollingUpdate ranges over `nodeToDaemonPods`, a Go map,
whose iteration order varies from run to run; when it may replace fewer old pods (or surge onto
fewer nodes) than it has candidates, the ones it meets first are taken (`daemonset_plan`'s
docstring). The model's DaemonSet controller walks the nodes by name from a start node
(`DaemonSetController.walk_start`): a plain `Reconcile` (the fair run's, and every engine's default)
starts at the first name, as the model always did; `ReconcileFrom(controller, key, first)` is the
same reconcile with the walk starting at node `first`, one for each start that replaces other pods
than the others (`DaemonSetController.walk_starts`), so the branching stays at most one per node and
appears only where the choice changes something. It is the environment's choice (`PROGRESS =
False`: the fair run never takes it) and an alternative to the key's `Reconcile`, whose progress
fairness already requires.

Left out: a crash of the controller manager in the middle of such a reconcile (`CrashDuringReconcile`
splits the name-order reconcile only).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import attrs

from kubeprop.model.controllers.base import reconcile
from kubeprop.model.controllers.daemonset import DaemonSetController
from kubeprop.model.controllers.environment_order import queued_choices
from kubeprop.model.controllers.work_queue import Reconcile
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["HANDLERS", "ReconcileFrom", "enabled"]


@attrs.frozen(order=True)
class ReconcileFrom(Reconcile):
    """The DaemonSet controller reconciles `key` with its rolling update's walk over the nodes begun
    at node `first` (the environment's choice of a Go map's iteration order)."""

    first: str
    PROGRESS = False

    def acting(self, controller: Any) -> Any:
        """The DaemonSet controller walking from `first`."""
        return _walking(controller, self.first)


@lru_cache(maxsize=256)
def _walking(controller: DaemonSetController, first: str) -> DaemonSetController:
    """`controller` with `walk_start` set, made once per start: the decisions memo knows a controller
    by its identity (`decisions.DecisionMemo`)."""
    return evolve(controller, walk_start=first)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """A `ReconcileFrom` for each queued key of a synced DaemonSet controller and each start of its
    walk that replaces other pods (`DaemonSetController.walk_starts`), while the controller manager is
    up. They read the controllers' queues and memories, the controller manager's cache and the clock."""
    for controller, key, first in queued_choices(model, state, DaemonSetController, DaemonSetController.walk_starts):
        yield ReconcileFrom(controller.name, key, first)


def uses_walk_order(model: ClusterModel) -> bool:
    """Whether the model runs a DaemonSet controller (`enabled` can give actions only then)."""
    return any(isinstance(c, DaemonSetController) for c in model.controllers)


HANDLERS: dict[type[Any], Any] = {ReconcileFrom: reconcile}
