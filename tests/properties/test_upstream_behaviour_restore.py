"""Upstream behaviour after an etcd restore without the restart of the components
(`properties/upstream_behaviour_restore.py`): found by the generated campaign (seed 3, case 34;
seed 5, cases 5, 12 and 23) on scenarios that restore with etcdutl's defaults or half the
procedure; recognized only while the scheduler still holds the pod the restore unbound as
assumed, or while a workload the restore changed waits, unqueued, for a sync that would act."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.core import ConfigMap
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, settle
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.scheduler.component import Bind
from kubeprop.model.state.actions import Action, Deliver, Quiesce, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send
from kubeprop.model.state.informer import next_event
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour import match, states_of
from kubeprop.properties.upstream_behaviour_restore import restore_watch_ahead_missed_events

RESTORE = Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "restore.yaml"


def _bound_after_the_backup(model: ClusterModel) -> tuple[list[Action], ClusterState]:
    """Settled; `kubectl set image`; the fair run up to the scheduler's first `Bind`; backup; the
    `Bind`; restore before the scheduler's informer delivered the binding; then the fair run."""
    ready = settle(model, initial_state(model))
    trace: list[Action] = [*ready.trace, UserStep(0)]
    state = step(model, ready.state, UserStep(0))
    policy = FairPolicy()
    while not isinstance(act := policy.next_action(model, state), Bind):
        assert act is not None, "the rollout binds a pod"
        policy.taken(act)
        trace.append(act)
        state = step(model, state, act)
    for taken in (SnapshotEtcd(), act, RestoreEtcd(), Quiesce()):
        trace.append(taken)
        state = step(model, state, taken)
    end = settle(model, state)
    return [*trace, *end.trace], end.state


def test_a_pod_the_restore_unbound_stays_assumed_and_is_upstream_behaviour() -> None:
    model = build_model(load_scenario(RESTORE))
    trace, state = _bound_after_the_backup(model)
    for name in ("schedulable-pods-bound", "deployments-complete", "workloads-ready"):
        violation = first_violation(model, state, select([name]))
        assert violation is not None, name
        found = match(model, violation, trace)
        assert found is not None and found.name == "etcd-restore-leaves-pod-assumed", name


def test_with_the_procedures_restart_the_pod_is_bound_again() -> None:
    model = build_model(load_scenario(RESTORE), parameters={"etcdRestoreRestartsComponents": True})
    trace, state = _bound_after_the_backup(model)
    assert first_violation(model, state, select(["schedulable-pods-bound", "deployments-complete"])) is None
    made_up = Violation("deployments-complete", "made up", ("Deployment default/web",))
    assert match(model, made_up, trace) is None


def test_a_violation_about_another_workload_is_not_recognized() -> None:
    model = build_model(load_scenario(RESTORE))
    trace, _ = _bound_after_the_backup(model)
    other = Violation("deployments-complete", "made up", ("Deployment default/other",))
    assert match(model, other, trace) is None


def _synced_after_the_backup(**parameters: object) -> tuple[ClusterModel, list[Action], ClusterState]:
    """Backup; the Deployment controller's first sync of web (a ReplicaSet created, the status
    written); restore before its informers delivered either; then the fair run."""
    model = build_model(load_scenario(RESTORE), parameters=parameters or None)
    trace: list[Action] = [SnapshotEtcd(), Reconcile(controller="deployment", key="default/web"), RestoreEtcd(),
                           Quiesce()]
    state = initial_state(model)
    for act in trace:
        state = step(model, state, act)
    end = settle(model, state)
    return model, [*trace, *end.trace], end.state


def test_a_deployment_the_restore_took_back_waits_for_the_resync_and_is_upstream_behaviour() -> None:
    """Found by the generated campaign (seed 5, cases 5, 12 and 23)."""
    model, trace, state = _synced_after_the_backup()
    violation = first_violation(model, state, select(["deployments-complete"]))
    assert violation is not None and "observedGeneration 0" in violation.message
    found = match(model, violation, trace)
    assert found is not None and found.name == "etcd-restore-stalls-until-resync"


def test_with_the_restart_the_deployment_is_synced_and_nothing_is_recognized() -> None:
    model, trace, state = _synced_after_the_backup(etcdRestoreRestartsComponents=True)
    assert first_violation(model, state, select(["deployments-complete"])) is None
    made_up = Violation("deployments-complete", "made up", ("Deployment default/web",))
    assert match(model, made_up, trace) is None


def test_a_workload_that_is_not_stalled_after_a_restore_is_not_recognized() -> None:
    """A restore that took back nothing of web's sync (the backup after it): web converges, and a
    made-up violation naming it is not this behaviour, nor is one naming a workload that does not exist."""
    model = build_model(load_scenario(RESTORE))
    ready = settle(model, initial_state(model))
    trace: list[Action] = [*ready.trace, SnapshotEtcd(), UserStep(0)]
    state = step(model, step(model, ready.state, SnapshotEtcd()), UserStep(0))
    end = settle(model, step(model, step(model, state, RestoreEtcd()), Quiesce()))
    trace += [RestoreEtcd(), Quiesce(), *end.trace]
    for named in ("Deployment default/web", "Deployment default/other"):
        made_up = Violation("deployments-complete", "made up", (named,))
        assert match(model, made_up, trace) is None, named


FORGOTTEN_OWNER_TRACE: tuple[Action, ...] = (
    SnapshotEtcd(), UserStep(0), Deliver("controller-manager", "deployments.apps", 11),
    Reconcile("deployment", "default/web"), Deliver("controller-manager", "replicasets.apps", 12), RestoreEtcd(),
    Reconcile("replicaset", "default/web-685c7fd66b"))
"""`kubeprop check restore.yaml` (seed 3): the controller manager's ReplicaSet cache, ahead of the
restored revision, keeps the forgotten ReplicaSet, and the ReplicaSet controller creates pods for it."""

MADE_UP = Violation("no-orphan-pods-running", "made up", ())


def _watch_ahead(parameters: dict[str, object], trace: tuple[Action, ...]) -> bool:
    model = build_model(load_scenario(RESTORE), parameters=parameters or None)
    return restore_watch_ahead_missed_events(model, states_of(model, trace), trace, MADE_UP)


def test_a_cache_left_ahead_that_keeps_a_forgotten_object_is_upstream_behaviour() -> None:
    model = build_model(load_scenario(RESTORE))
    states = states_of(model, FORGOTTEN_OWNER_TRACE)
    violation = first_violation(model, states[-1], select(["restore-no-forgotten-owner-writes"]))
    assert violation is not None
    found = match(model, violation, FORGOTTEN_OWNER_TRACE)
    assert found is not None and found.name == "etcd-restore-watch-ahead-misses-events"
    assert _watch_ahead({}, FORGOTTEN_OWNER_TRACE)


def test_the_procedure_leaves_no_cache_ahead_of_the_restore() -> None:
    """With the components' restart every cache is listed afresh; with --bump-revision and
    --mark-compacted every cache is below the compacted revision and relists: none is ahead."""
    assert not _watch_ahead({"etcdRestoreRestartsComponents": True}, FORGOTTEN_OWNER_TRACE[:-1])
    procedure = {"etcdRestoreBumpRevision": 1000, "etcdRestoreMarkCompacted": True}
    assert not _watch_ahead(procedure, FORGOTTEN_OWNER_TRACE[:-1])


def test_a_restore_no_cache_was_ahead_of_is_not_recognized() -> None:
    """The rollout's writes reached no cache before the restore: every cache resumes at or below
    the restored revision and misses nothing, though the restore took the revision back."""
    assert not _watch_ahead({}, (SnapshotEtcd(), UserStep(0), RestoreEtcd()))


def _configmap(model: ClusterModel, state: ClusterState, verb: str) -> ClusterState:
    """A user's create or delete of the ConfigMap default/settings."""
    request = (Request(verb="create", user=ADMIN, obj=ConfigMap(metadata=ObjectMeta(name="settings",
                                                                                    namespace="default")))
               if verb == "create" else
               Request(verb="delete", user=ADMIN, resource="configmaps", namespace="default", name="settings"))
    state, response = send(model, state, ADMIN, request, "user")
    assert response.ok, response
    return state


def test_a_write_the_cache_ahead_skips_is_recognized_when_it_held_nothing_forgotten() -> None:
    """Backup (revision S); a ConfigMap created and deleted, both delivered to the controller
    manager (its cache S+2, the snapshot's ConfigMaps: nothing forgotten); restore; the ConfigMap
    created again at S+1, which that watch skips. The history is built with a user's requests,
    which are no actions: its trace names the restore and, for each write, the step it stands in."""
    model = build_model(load_scenario(RESTORE))
    cm = "controller-manager"
    state = step(model, settle(model, initial_state(model)).state, SnapshotEtcd())
    for verb in ("create", "delete"):
        state = _configmap(model, state, verb)
        state = step(model, state, Deliver(cm, "configmaps", state.store.revision))
    restored = step(model, state, RestoreEtcd())
    written = _configmap(model, restored, "create")
    assert not next_event(written.store, written.informers[cm].resources["configmaps"], "configmaps")
    trace = (RestoreEtcd(), UserStep(0))
    assert restore_watch_ahead_missed_events(model, (state, restored, written), trace, MADE_UP)
    assert not restore_watch_ahead_missed_events(model, (state, restored, restored), trace, MADE_UP)
