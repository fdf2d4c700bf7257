"""The queued keys at which the environment may choose an order a Go map leaves open.

Shared by `daemonset_order` (where a DaemonSet's rolling-update walk begins) and
`persistentvolume_order` (which access-mode set of one size the PV controller searches first): both
offer, for each queued key of a synced controller of their kind while the controller manager is up,
one alternative `Reconcile` per choice that changes what the sync does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kubeprop.model.controllers.work_queue import scoped
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.component import Controller
from kubeprop.model.state.informer import ObjectView

__all__ = ["queued_choices"]

C = TypeVar("C")

Choices = Callable[[C, ObjectView, str, Any, int], tuple[str, ...]]


def queued_choices(model: ClusterModel, state: ClusterState, kind: type[C],
                   choices: Choices[C]) -> Iterator[tuple[C, str, str]]:
    """`(controller, key, choice)` for each controller of `kind` that is synced with keys queued,
    each queued key and each choice `choices(controller, view, key, memory, clock)` offers, read
    from the controller manager's cache as the controller sees it (`scoped`). Nothing while the
    controller manager is down. Reads the controllers' queues and memories, that cache and the clock."""
    if not is_up(state, CONTROLLER_MANAGER):
        return
    for controller in model.controllers:
        plain: Controller = controller
        if not isinstance(controller, kind):
            continue
        ctl_state = state.controllers.get(plain.name)
        if ctl_state is None or ctl_state.unsynced or not ctl_state.queue:
            continue
        seen = scoped(plain, view(model, state, CONTROLLER_MANAGER))
        for key in ctl_state.queue:
            for choice in choices(controller, seen, key, ctl_state.memory, state.clock):
                yield controller, key, choice
