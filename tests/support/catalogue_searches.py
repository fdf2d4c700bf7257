"""The restricted breadth-first searches of the bug-catalogue procedures (tests/model/scenario/
test_variants.py), shared with the corpus recipes (tests/counterexamples/make_corpus.py) and the
counterexample tests: each searches a variant's model over the few actions its bug needs."""

from __future__ import annotations

from kubeprop.model.cluster.compose import initial_state
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.state.actions import Action, Deliver
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.explore.bfs import Bounds, Report, bfs
from kubeprop.properties.registry import select

RS_DEPTH = 12
DUAL_DEPTH = 14


def rs_actions(a: Action) -> bool:
    """rs-no-expectations: the Deployment and ReplicaSet reconciles and their pod/ReplicaSet deliveries."""
    return (isinstance(a, Reconcile) and a.controller in ("deployment", "replicaset")) or (
        isinstance(a, Deliver) and a.component == "controller-manager" and a.resource in ("pods", "replicasets.apps"))


def dual_actions(a: Action) -> bool:
    """dual-scheduler: scheduling and binding, the ReplicaSet reconciles, the pod deliveries."""
    if isinstance(a, Schedule | Bind):
        return True
    if isinstance(a, Reconcile):
        return a.controller == "replicaset"
    return isinstance(a, Deliver) and a.resource == "pods" and a.component in (
        "scheduler", "scheduler-2", "controller-manager")


def rs_search(model: ClusterModel) -> Report:
    """replicaset-no-overcreation, 12 steps deep over `rs_actions`."""
    return bfs(model, initial_state(model), select(["replicaset-no-overcreation"]), Bounds(max_depth=RS_DEPTH),
               action_filter=rs_actions)


def dual_search(model: ClusterModel) -> Report:
    """node-not-overcommitted, 14 steps deep over `dual_actions`."""
    return bfs(model, initial_state(model), select(["node-not-overcommitted"]), Bounds(max_depth=DUAL_DEPTH),
               action_filter=dual_actions)
