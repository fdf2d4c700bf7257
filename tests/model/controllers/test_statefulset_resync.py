"""The StatefulSet controller's resync (`kubeprop.model.controllers.resync`): none by default (v1.15
and later, kubernetes PR #75622), so a set whose last sync waited on a stale claim stays short of its
replicas (upstream behaviour); with `statefulSetResyncSeconds: 30` (`statefulSetResyncPeriod`, v1.14
and before) a set whose sync would do something is enqueued again by the clock, and only then — a
settled set has no such timer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cluster_harness import settled

from kubeprop.model.api.objects import ObjectKey, PersistentVolumeClaim, Pod, StatefulSet
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.controllers import base, resync
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.controllers.work_queue import ControllerState
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send
from kubeprop.model.state.component import Controller, Reconciliation
from kubeprop.model.state.informer import ObjectView
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.registry import select

DATA = Path(__file__).parent.parent / "data"
STALE_CLAIM = DATA / "resync" / "sts-stale-claim.yaml"
STS_SCALE = DATA / "sts-scale.yaml"
CLAIM = ObjectKey("persistentvolumeclaims", "default", "data-kv-0")
V114 = {"statefulSetResyncSeconds": 30}
"""The parameters of a release before v1.15: the set handler's 30 s resync."""


def test_v133_has_no_resync_and_the_set_waits_after_the_stale_claim_is_gone() -> None:
    """v1.33: PodClaimIsStale holds kv-0 back, the sync returns without a requeue, the garbage
    collector deletes the claim and nothing wakes the set: the fair run ends with no pod, no claim,
    nothing queued and no timer, and `workloads-ready` fails (reported as upstream behaviour:
    tests/properties/test_upstream_behaviour_statefulset.py)."""
    model = build_model(load_scenario(STALE_CLAIM))
    assert resync.period(StatefulSetController()) is None
    state = initial_state(model)
    run = fair_run(model, state)
    assert not run.exhausted and run.state.store.get(CLAIM) is None and not list(run.state.store.list("pods"))
    assert "default/kv" not in run.state.controllers["statefulset"].queue
    assert base.next_timer(model, run.state) is None
    found = settled_violation(model, state, select(kind="convergence"), max_steps=2000)
    assert found is not None and found.property == "workloads-ready"


def test_v114_a_set_waiting_on_a_stale_claim_is_taken_up_by_the_resync() -> None:
    """`statefulSetResyncSeconds: 30` (v1.14 and before): the claim data-kv-0 still names an earlier
    pod: PodClaimIsStale holds kv-0 back; the garbage collector deletes the claim, which enqueues no
    set. The resync at 30 s syncs the set: a new claim and kv-0 (resync15's behaviour, kept for those
    releases)."""
    model = build_model(load_scenario(STALE_CLAIM), parameters=V114)
    state = initial_state(model)
    old = state.store.get(CLAIM)
    assert isinstance(old, PersistentVolumeClaim)
    run = fair_run(model, state)
    assert not run.exhausted
    pod, claim = run.state.store.get(ObjectKey("pods", "default", "kv-0")), run.state.store.get(CLAIM)
    assert isinstance(pod, Pod) and pod.status.phase == "Running"
    assert isinstance(claim, PersistentVolumeClaim) and claim.metadata.uid != old.metadata.uid
    woken = run.trace.index(Reconcile("statefulset", "default/kv"), run.trace.index(Tick(10)))
    assert [a for a in run.trace[:woken] if isinstance(a, Tick)] == [Tick(10)] * 3  # (the resync at 30 s)
    assert settled_violation(model, state, select(kind="convergence"), max_steps=2000) is None


def _stripped(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The user removes the owner references of the set's claim (the controller manager sees it)."""
    before = state.store.revision
    request = Request(verb="patch", user=ADMIN, resource="persistentvolumeclaims", namespace="default",
                      name="data-kv-0", patch={"metadata": {"ownerReferences": None}})
    state, response = send(model, state, ADMIN, request, "user")
    assert response.ok, response.message
    return deliver_instantly(model, state, tuple(e for e in state.store.events if e.revision > before))


def test_v114_claim_owner_references_are_put_back_by_the_resync(tmp_path: Path) -> None:
    """whenDeleted: Delete, `statefulSetResyncSeconds: 30`. A claim that loses the set's owner
    reference gets it back on the set's next sync (UpdatePodClaimForRetentionPolicy); the claim's
    update enqueues no set, the resync does: no key is queued, a timer is pending at the next
    multiple of 30 s, and the tick that reaches it enqueues the set. Without the resync (v1.33) no
    timer is pending: the reference comes back with the set's next event."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    kv = (STALE_CLAIM.parent / "manifests" / "kv.yaml").read_text()
    claimless = kv[kv.index("apiVersion: apps/v1"):].replace("whenDeleted: Retain, whenScaled: Delete",
                                                             "whenDeleted: Delete, whenScaled: Retain")
    (manifests / "kv.yaml").write_text(claimless)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(STALE_CLAIM.read_text())
    v133 = build_model(load_scenario(scenario), parameters={"instantCaches": True})
    model = build_model(load_scenario(scenario), parameters={"instantCaches": True, **V114})
    state = settle(model, initial_state(model)).state
    sts = state.store.get(ObjectKey("statefulsets.apps", "default", "kv"))
    assert isinstance(sts, StatefulSet)
    assert _owners(state) == [("StatefulSet", sts.metadata.uid)]
    stripped = _stripped(model, state)
    assert _owners(stripped) == [] and "default/kv" not in stripped.controllers["statefulset"].queue
    assert base.next_timer(v133, settle(v133, stripped, allow_ticks=False).state) is None
    after = settle(model, stripped)
    due = stripped.clock // 30 * 30 + 30
    assert base.next_timer(model, settle(model, stripped, allow_ticks=False).state) == due
    assert _owners(after.state) == [("StatefulSet", sts.metadata.uid)] and due <= after.state.clock < due + 10


def _owners(state: ClusterState) -> list[tuple[str, str]]:
    claim = state.store.get(CLAIM)
    assert isinstance(claim, PersistentVolumeClaim)
    return [(r.kind, r.uid) for r in claim.metadata.owner_references]


def test_a_settled_set_has_no_resync_timer() -> None:
    """Where the set's sync would do nothing the resync is no timer: the settled state of
    sts-scale has none, `Tick` is not enabled, and the fair run ends there as before."""
    model, state = settled(STS_SCALE)
    assert base.next_timer(model, state) is None
    assert not any(isinstance(a, Tick) for a in actions(model, state))
    assert list(resync.due(StatefulSetController(resync_period=30), state.controllers["statefulset"], state.store,
                           state.clock, _decide)) == []


def _decide(controller: Controller, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
    return controller.reconcile(view, key, memory, now)


def _acting(*_: object) -> Reconciliation:
    """A decision that sends something (a GET), whatever it is asked."""
    return Reconciliation((Request(verb="get", user=ADMIN, resource="pods", namespace="default", name="x"),), None)


def test_due_skips_queued_keys_and_lands_on_the_period() -> None:
    """`resync.due`: keys not queued whose decision acts, at the next multiple of the period (a
    resync at 30 when the clock is 0 or 29, at 60 when it is 30); a queued key has none."""
    _, state = settled(STS_SCALE)
    controller, store = StatefulSetController(resync_period=30), state.store
    idle = ControllerState()
    assert list(resync.due(controller, idle, store, 0, _acting)) == [("default/db", 30)]
    assert list(resync.due(controller, idle, store, 29, _acting)) == [("default/db", 30)]
    assert list(resync.due(controller, idle, store, 30, _acting)) == [("default/db", 60)]
    assert list(resync.due(controller, ControllerState(queue=("default/db",)), store, 0, _acting)) == []
    assert list(resync.due(StatefulSetController(resync_period=0), idle, store, 0, _acting)) == []
    assert list(resync.due(StatefulSetController(), idle, store, 0, _acting)) == []


class _UsersController(StatefulSetController):
    """A controller of the user's (its class outside kubeprop) that names a resync period."""

    __module__ = "users_code"


def test_a_users_controller_has_no_resync() -> None:
    """Only built-in controllers resync in the model (a user's informers resync every 12 to 24 h)."""
    assert resync.period(StatefulSetController(resync_period=30)) == 30
    assert resync.period(_UsersController(resync_period=30)) is None


def test_the_tick_reaching_the_resync_enqueues_the_set() -> None:
    """`base.on_tick` (`statefulSetResyncSeconds: 30`): the resync's key is enqueued by the tick that
    reaches its time, not before."""
    model = build_model(load_scenario(STALE_CLAIM), parameters=V114)
    state = initial_state(model)
    stalled = _stalled(model, state)
    assert stalled.clock == 0 and base.next_timer(model, stalled) == 30
    ticked = step(model, stalled, Tick(10))
    assert "default/kv" not in ticked.controllers["statefulset"].queue
    ticked = step(model, step(model, ticked, Tick(10)), Tick(10))
    assert ticked.clock == 30 and "default/kv" in ticked.controllers["statefulset"].queue


def _stalled(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The fair run up to its first `Tick`: the claim is gone and the set waits."""
    run = fair_run(model, state)
    first_tick = run.trace.index(Tick(10))
    for act in run.trace[:first_tick]:
        state = step(model, state, act)
    assert state.store.get(CLAIM) is None and not list(state.store.list("pods"))
    return state
