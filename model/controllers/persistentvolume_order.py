"""The environment's choice of which access-mode set the PV controller searches first among sets of
one size.

Upstream's findByClaim (`pkg/controller/volume/persistentvolume/index.go`) searches the access-mode
sets of its volume index fewest modes first; allPossibleMatchingAccessModes takes the sets from the
index's keys (`ListIndexFuncValues`, a Go map's keys: an order that varies from run to run) and
sort.Sort orders them by size only, so sets of one size — [RWO,ROX] and [RWO,RWX] for a claim asking
RWO — come in either order, and the first set where FindMatchingVolume finds a volume gives the claim
its volume. A plain `Reconcile` (the fair run's, and every engine's default) takes sets of one size in
key order (`volume.mode_sets`); `ReconcileModesFirst(controller, key, first)` is the same claim sync
with set `first` searched first among the sets of its size, one action for each set that binds
another volume (`PersistentVolumeController.tie_breaks`), so the branching appears only where the
choice changes something. It is the environment's choice (`PROGRESS = False`: the fair run never
takes it) and an alternative to the key's `Reconcile`, whose progress fairness already requires —
as `daemonset_order.ReconcileFrom` is for a DaemonSet's rolling update.

Left out: a crash of the controller manager in the middle of such a reconcile (`CrashDuringReconcile`
splits the key-order reconcile only).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import attrs

from kubeprop.model.controllers.base import reconcile
from kubeprop.model.controllers.environment_order import queued_choices
from kubeprop.model.controllers.persistentvolume import PersistentVolumeController
from kubeprop.model.controllers.work_queue import Reconcile
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["HANDLERS", "ReconcileModesFirst", "enabled", "uses_mode_order"]


@attrs.frozen(order=True)
class ReconcileModesFirst(Reconcile):
    """The PV controller syncs claim `key` with access-mode set `first` (`volume.access_mode_set`, such
    as "RWO,RWX") searched first among the sets of its size (the environment's choice of a Go map's
    iteration order)."""

    first: str
    PROGRESS = False

    def acting(self, controller: Any) -> Any:
        """The PV controller searching `first` first."""
        return _choosing(controller, self.first)


@lru_cache(maxsize=64)
def _choosing(controller: PersistentVolumeController, first: str) -> PersistentVolumeController:
    """`controller` with `tie_break` set, made once per set: the decisions memo knows a controller by
    its identity (`decisions.DecisionMemo`)."""
    return evolve(controller, tie_break=first)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """A `ReconcileModesFirst` for each queued claim key of a synced PV controller and each set that
    binds another volume (`PersistentVolumeController.tie_breaks`), while the controller manager is
    up. They read the controllers' queues and memories, the controller manager's cache and the clock."""
    binders = queued_choices(model, state, PersistentVolumeController, PersistentVolumeController.tie_breaks)
    for controller, key, first in binders:
        yield ReconcileModesFirst(controller.name, key, first)


def uses_mode_order(model: ClusterModel) -> bool:
    """Whether the model runs a PV controller (`enabled` can give actions only then)."""
    return any(isinstance(c, PersistentVolumeController) for c in model.controllers)


HANDLERS: dict[type[Any], Any] = {ReconcileModesFirst: reconcile}
