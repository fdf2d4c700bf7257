"""Upstream behaviour after an etcd restore without the restart of the components
(`properties/upstream_behaviour_restore.py`): found by the generated campaign (seed 3, case 34)
on a scenario that restores with etcdutl's defaults; recognized only while the scheduler still
holds the pod the restore unbound as assumed."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, settle
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
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
    for act in (SnapshotEtcd(), act, RestoreEtcd(), Quiesce()):
        trace.append(act)
        state = step(model, state, act)
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
