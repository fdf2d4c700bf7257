"""Upstream behaviour after an etcd restore without the restart of the components
(`properties/upstream_behaviour_restore.py`): found by the generated campaign (seed 3, case 34;
seed 5, cases 5, 12 and 23) on scenarios that restore with etcdutl's defaults or half the
procedure; recognized only while the scheduler still holds the pod the restore unbound as
assumed, or while a workload the restore changed waits, unqueued, for a sync that would act."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, settle
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Bind
from kubeprop.model.state.actions import Action, Quiesce, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour import match

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
