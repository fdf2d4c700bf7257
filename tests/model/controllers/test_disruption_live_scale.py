"""getScaleController's live GET, against upstream `pkg/controller/disruption/disruption.go` (v1.33):
getPodDeployment, getPodReplicaSet and getPodStatefulSet read listers, getScaleController GETs the
controllerRef's scale subresource through the scale client (`dc.scaleNamespacer.Scales(ns).Get`): a
workload missing from the controller manager's cache — a ReplicaSet whose create event has not
arrived yet, while its pods' have — is found live; a GET that fails is getExpectedScale's error, and
sync runs failSafe (disruptionsAllowed 0, SyncFailed) and forgets the key when that write succeeds.
The model read the workload from the cache: a lagging cache failed the PDB safe for nothing, and an
API server the controller manager cannot reach did not stop the sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
from cluster_harness import settled, stored

from kubeprop.model.api.objects import ApiObject, ObjectKey, ReplicaSet
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.server import handle
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.base import Reconcile, reconcile
from kubeprop.model.controllers.disruption import DisruptionController, LiveScale, ScaleMemory
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "maintenance"
PDB = ObjectKey("poddisruptionbudgets.policy", "default", "web")
DISRUPTION, KEY = "disruption", "default/web"


class _WithoutReplicaSets:
    """The store as a cache that has not yet seen the ReplicaSets (their events still in flight)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: ObjectKey) -> ApiObject | None:
        return None if key.resource == "replicasets.apps" else self.store.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        return iter(()) if resource == "replicasets.apps" else self.store.list(resource, namespace)


def _replicaset(state: ClusterState) -> ReplicaSet:
    return next(r for r in state.store.list("replicasets.apps", "default") if isinstance(r, ReplicaSet))


def test_a_replicaset_missing_from_the_cache_is_read_live() -> None:
    model, state = settled(DATA / "drained.yaml")
    rs = _replicaset(state)
    ctl = DisruptionController()
    cache = _WithoutReplicaSets(state.store)
    first = ctl.reconcile(cache, KEY, None, state.clock)
    (get,) = first.requests
    # the scale subresource's GET (RBAC: get replicasets/scale), not the ReplicaSet's
    assert (get.verb, get.resource, get.name, get.precondition_uid) == ("get-scale", "replicasets.apps",
                                                                        rs.metadata.name, rs.metadata.uid)
    assert first.requeue and first.memory == ScaleMemory(asking=KEY)
    response = handle(state.store, get, model.api, state.clock).response
    assert response.ok and response.obj is None and response.scale is not None
    assert (response.scale.uid, response.scale.spec_replicas) == (rs.metadata.uid, 2)
    memory = ctl.observe(first.memory, get, response)
    assert memory == ScaleMemory(FrozenMap({KEY: (LiveScale(rs.metadata.uid, 2),)}))
    second = ctl.reconcile(cache, KEY, memory, state.clock)
    assert second.memory is None and second.requests == ()  # the status is already right: 2 expected, 1 allowed


def test_a_live_answer_of_another_uid_is_no_controller() -> None:
    """getScaleController: `scale.UID != controllerRef.UID` returns nil, so "found no controllers"."""
    _, state = settled(DATA / "drained.yaml")
    rs = _replicaset(state)
    ctl = DisruptionController()
    cache = _WithoutReplicaSets(state.store)
    memory = ScaleMemory(FrozenMap({KEY: (LiveScale(rs.metadata.uid, None),)}))
    (write,) = ctl.reconcile(cache, KEY, memory, state.clock).requests
    assert isinstance(write.obj, PodDisruptionBudget)
    (cond,) = write.obj.status.conditions
    assert (write.obj.status.disruptions_allowed, cond.reason) == (0, "SyncFailed")
    assert cond.message.startswith("found no controllers for pod")


def _queued(state: ClusterState) -> ClusterState:
    ctl = state.controllers[DISRUPTION]
    return attrs.evolve(state, controllers=state.controllers.set(DISRUPTION, ctl.enqueue((KEY,))))


def _deployment_gone(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The Deployment deleted, its ReplicaSet left to the garbage collector (background): the
    ReplicaSet's controller is a Deployment that is gone, so only getScaleController finds it."""
    from cluster_harness import api

    from kubeprop.model.api.server import Request
    from kubeprop.model.scenario.load import ADMIN

    return api(state, model, Request(verb="delete", user=ADMIN, resource="deployments.apps", namespace="default",
                                     name="web"))


def test_a_failed_scale_get_fails_safe_and_forgets_the_key() -> None:
    model, state = settled(DATA / "drained.yaml")
    state = _queued(_deployment_gone(model, state))
    state = attrs.evolve(state, armed_failures=state.armed_failures.set(CONTROLLER_MANAGER, 500))
    state = reconcile(model, state, Reconcile(DISRUPTION, KEY))
    status = stored(state, PDB, PodDisruptionBudget).status
    assert status.disruptions_allowed == 0
    assert [(c.status, c.reason, c.message) for c in status.conditions] == [("False", "SyncFailed", "injected failure")]
    assert KEY not in state.controllers[DISRUPTION].queue and state.controllers[DISRUPTION].memory is None


def test_a_scale_get_that_succeeds_takes_a_second_sync_that_uses_its_answer() -> None:
    model, state = settled(DATA / "drained.yaml")
    state = _queued(_deployment_gone(model, state))
    state = reconcile(model, state, Reconcile(DISRUPTION, KEY))
    rs = _replicaset(state)
    assert state.controllers[DISRUPTION].memory == ScaleMemory(FrozenMap({KEY: (LiveScale(rs.metadata.uid, 2),)}))
    assert KEY in state.controllers[DISRUPTION].queue
    state = reconcile(model, state, Reconcile(DISRUPTION, KEY))
    assert KEY not in state.controllers[DISRUPTION].queue and state.controllers[DISRUPTION].memory is None
    status = stored(state, PDB, PodDisruptionBudget).status
    assert (status.expected_pods, status.disruptions_allowed) == (2, 1)
