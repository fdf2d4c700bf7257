"""What a deviation from the expected run costs and which layer of the search around it steps
next (`around.py`): the rules of iterative context bounding and delay-bounded scheduling there
(Musuvathi and Qadeer, PLDI 2007; Emmi, Qadeer and Rakamarić, POPL 2011), with Sieve's
intermediate states (Sun et al., OSDI 2022) among the cheapest deviations."""

from __future__ import annotations

from collections.abc import Callable

from kubeprop.model.cluster.drive import FAULTS, RECOVERIES
from kubeprop.model.cluster.footprint import actor, component_of
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashDuringReconcile,
    Quiesce,
    RestartComponent,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import ClusterModel

HORIZONS = (4, 16, 64)
"""A layer's runs first go this many steps past their last deviation, shortest first, before
going further: most bugs show within a few steps of the deviation that causes them."""


def _horizon(since: int) -> int:
    """The index of the first horizon `since` steps past the last deviation fall within."""
    return next((i for i, h in enumerate(HORIZONS) if since <= h), len(HORIZONS))


def deviation_cost(act: Action, fair: Action | None, last: Action | None = None,
                   model: ClusterModel | None = None) -> int:
    """What a deviation counts for: 1, or 2 for a fault injected while the control plane is busy
    (it stops the cluster in the middle of its work and injects a fault). Two faults cost 1
    wherever they happen: one where the fair run is quiet (about to take the next workload step,
    to let time pass, or finished), and a component crashing between two steps of the same actor
    of its own (`last`, the run's last action, and `fair` are both steps of that actor: Sieve's
    "intermediate state", e.g. the node lifecycle controller between marking a node Unknown and
    marking its pods not Ready). The component is the process (`footprint.component_of`): a user's
    controller with a cache of its own runs in `operator/<name>`, which the `model` tells."""
    return fault_costs(fair, last, model)(act) if isinstance(act, FAULT_KINDS) else 1


def _one(act: Action) -> int:
    return 1


def fault_costs(fair: Action | None, last: Action | None = None,
                model: ClusterModel | None = None) -> Callable[[Action], int]:
    """`deviation_cost(act, fair, last)` for a fault `act` (one of `FAULT_KINDS`) as a function of
    `act` alone: what depends only on `fair` and `last` is worked out once, since a search asks it
    of every fault enabled where the fair run takes `fair` (about twenty at each node on FeastFlow)."""
    if fair is None or isinstance(fair, UserStep | Tick):
        return _one  # where the fair run is quiet
    between = last is not None and actor(last) == actor(fair)
    crashed = component_of(last, model) if between and last is not None else None
    # (`fair == Reconcile(c, k)`: attrs' equality holds only between two `Reconcile`s)
    reconciled = (fair.controller, fair.key) if type(fair) is Reconcile else None

    def cost(act: Action) -> int:
        if isinstance(act, CrashComponent):
            return 1 if between and crashed == act.component else 2  # between two steps of its actor
        if isinstance(act, CrashDuringReconcile) and reconciled == (act.controller, act.key):
            return 1  # the reconcile the fair run takes, cut short between two of its writes
        return 2

    return cost


FAULT_KINDS = tuple(k for k in FAULTS if k not in (UserStep, Quiesce))
MAX_COST = 2
"""The most a deviation costs (`deviation_cost`)."""


ENVIRONMENT_KINDS = (*FAULT_KINDS, *RECOVERIES, RestartComponent)
"""The deviations `run_fault_injection` tries: faults, recoveries, a crashed process restarting early."""


def layer_of(taken: dict[int, int], open_layers: list[int]) -> int:
    """The layer (a cost) whose run the search steps next, among the costs with runs queued
    (`open_layers`, ascending), given the steps each layer took (`taken`; `taken[-1]`: the turns
    so far): the fair run while it goes on; the cheapest open layer until it took as many steps
    as the fair run (its runs are about as long); then the `z`-th open layer, `z` the number of
    times `SHARE` divides the turn (capped at the last), so that each layer gets all but
    1 / `SHARE` of the steps left to it and the next layers the rest."""
    first = open_layers[0]
    if first == 0 or taken.get(first, 0) < taken.get(0, 0):
        return first
    turn, z = taken.get(-1, 0) + 1, 0
    while turn % SHARE == 0 and z < len(open_layers) - 1:
        turn //= SHARE
        z += 1
    return open_layers[z]


SHARE = 4
"""The costlier layers' share of the search's steps is 1 / `SHARE` (`layer_of`)."""
