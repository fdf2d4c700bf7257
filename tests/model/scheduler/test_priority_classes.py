"""Preemption among pods whose priorities come from user PriorityClasses, through the whole
model (admission → scheduler → kubelet): a higher class preempts a lower one on a full node; a
class with preemptionPolicy Never waits instead (PodEligibleToPreemptOthers,
`pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`); a globalDefault class
gives pods that name none its priority."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterState

DATA = Path(__file__).parents[1] / "data" / "kinds"


def settled(name: str) -> ClusterState:
    model = build_model(load_scenario(DATA / f"{name}.yaml"))
    run = fair_run(model, initial_state(model))
    assert not run.exhausted
    return run.state


def pods(state: ClusterState) -> dict[str, Pod]:
    return {p.metadata.name: p for p in state.store.list("pods", "default") if isinstance(p, Pod)}


def test_a_higher_class_preempts_a_lower_one_on_a_full_node() -> None:
    found = pods(settled("preempt"))
    urgent = found.pop("urgent")
    assert (urgent.spec.priority, urgent.spec.preemption_policy) == (1000, "PreemptLowerPriority")
    assert urgent.spec.node_name == "worker-1"
    assert sorted(bool(p.spec.node_name) for p in found.values()) == [False, True]  # one batch pod was preempted
    assert {p.spec.priority for p in found.values()} == {100}


def test_preemption_policy_never_is_honoured() -> None:
    found = pods(settled("never"))
    patient = found.pop("patient")
    assert (patient.spec.priority, patient.spec.preemption_policy) == (1000, "Never")
    assert patient.spec.node_name == "" and not patient.status.nominated_node_name
    assert [bool(p.spec.node_name) for p in found.values()] == [True, True]  # nothing was preempted
    assert all(p.metadata.deletion_timestamp is None for p in found.values())


def test_global_default_class_is_given_to_pods_without_one() -> None:
    found = pods(settled("default"))
    web = [p for name, p in found.items() if name.startswith("web-")]
    assert len(web) == 3
    assert {(p.spec.priority_class_name, p.spec.priority) for p in web} == {("standard", 50)}
    assert all(p.spec.node_name for p in found.values())  # 3 × 400m + 500m fit on two 1-CPU workers


def test_deleting_the_preemptor_gives_the_room_back() -> None:
    found = pods(settled("preempt-delete"))
    assert "urgent" not in found
    assert len(found) == 2 and all(p.spec.node_name and p.status.phase == "Running" for p in found.values())
