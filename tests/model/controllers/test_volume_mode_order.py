"""The environment's choice of the order of access-mode sets of one size (audit 21b, F1): upstream's
findByClaim (`pkg/controller/volume/persistentvolume/index.go`) takes the sets from a Go map's keys and
sorts them by size only, so a claim for RWO searches [RWO,ROX] and [RWO,RWX] in either order. The
model's plain `Reconcile` takes key order; `persistentvolume_order.ReconcileModesFirst` is the other
order, offered only where it binds another volume, and never the fair run's move."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.core import PersistentVolumeClaim
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.persistentvolume_order import ReconcileModesFirst
from kubeprop.model.controllers.work_queue import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState

SCENARIO = Path(__file__).parents[1] / "data" / "volumes" / "pv-modeset-tie" / "scenario.yaml"
PV = "persistentvolume-binder"
KEY = "default/data"


def _claim_queued() -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": True})
    state = initial_state(model)
    for act in (Reconcile(PV, "/rox"), Reconcile(PV, "/rwx"), UserStep(0), UserStep(1), UserStep(2)):
        state = step(model, state, act)
    return model, state


def _volume_of(state: ClusterState) -> str:
    claim = state.store.get(ObjectKey("persistentvolumeclaims", "default", "data"))
    assert isinstance(claim, PersistentVolumeClaim)
    return claim.spec.volume_name


def test_the_other_order_is_offered_and_binds_the_other_volume() -> None:
    model, state = _claim_queued()
    enabled = list(actions(model, state))
    assert Reconcile(PV, KEY) in enabled
    assert [a for a in enabled if isinstance(a, ReconcileModesFirst)] == [ReconcileModesFirst(PV, KEY, "RWO,RWX")]
    assert _volume_of(step(model, state, Reconcile(PV, KEY))) == "rox"
    assert _volume_of(step(model, state, ReconcileModesFirst(PV, KEY, "RWO,RWX"))) == "rwx"


def test_no_choice_where_the_order_changes_nothing() -> None:
    model, state = _claim_queued()
    state = step(model, state, Reconcile(PV, KEY))
    assert not any(isinstance(a, ReconcileModesFirst) for a in actions(model, state))


def test_the_fair_run_never_takes_it() -> None:
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": True})
    run = fair_run(model, initial_state(model))
    assert not any(isinstance(a, ReconcileModesFirst) for a in run.trace)
    assert _volume_of(run.state) == "rox"
