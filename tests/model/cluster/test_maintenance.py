"""Node maintenance: kubectl cordon/drain/uncordon steps and the maintenance fault kind."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from cluster_harness import settled

from kubeprop.model.api.objects import Node, ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster import maintenance
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import continuations, needs_recovery, settle
from kubeprop.model.cluster.maintenance import (
    EndMaintenance,
    EvictForDrain,
    FinishDrain,
    StartMaintenance,
    blocking,
    maintenance_state,
    pods_for_deletion,
)
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema_addons import DrainStep
from kubeprop.model.state.actions import Quiesce, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

DATA = Path(__file__).parents[1] / "data" / "maintenance"


def _settled(name: str, **parameters: object) -> tuple[ClusterModel, ClusterState]:
    return settled(DATA / name, **parameters)


def _node(state: ClusterState, name: str) -> Node:
    node = state.store.get(ObjectKey("nodes", "", name))
    assert isinstance(node, Node)
    return node


def test_drain_evicts_waits_and_returns() -> None:
    model, state = _settled("drained.yaml")
    state = step(model, state, UserStep(0))
    assert _node(state, "worker-1").spec.unschedulable and blocking(state)
    assert not [a for a in actions(model, state) if isinstance(a, UserStep)]
    run = settle(model, state, max_steps=3000, max_ticks=10)
    kinds = [type(a).__name__ for a in run.trace]
    assert kinds.count("EvictForDrain") == 1 and "FinishDrain" in kinds
    assert not blocking(run.state) and UserStep(1) in actions(model, run.state)
    pods = [p for p in run.state.store.list("pods") if isinstance(p, Pod)]
    assert {p.spec.node_name for p in pods} == {"worker-2"} and len(pods) == 2
    done = step(model, run.state, UserStep(1))
    assert not _node(done, "worker-1").spec.unschedulable


def test_a_strict_budget_blocks_the_drain_and_the_workload() -> None:
    model, state = _settled("blocked.yaml")
    state = step(model, state, UserStep(0))
    run = settle(model, state, max_steps=3000, max_ticks=10)
    drain = maintenance_state(run.state).draining["worker-1"]
    assert drain.pending and not drain.waiting and blocking(run.state)
    retries = [a for a in run.trace if isinstance(a, EvictForDrain)]
    assert len(retries) >= 5 and not any(isinstance(a, FinishDrain) for a in run.trace)


def test_bare_pods_and_local_storage_are_refused_without_flags() -> None:
    _, state = _settled("drained.yaml")
    pod = next(p for p in state.store.list("pods") if isinstance(p, Pod) and p.spec.node_name == "worker-1")
    bare = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, owner_references=()))
    store, _, _ = state.store.put(bare, "MODIFIED")
    state = attrs.evolve(state, store=store)
    _, errors = pods_for_deletion(state, "worker-1", DrainStep(node="worker-1"))
    assert errors and "use --force to override" in errors[0]
    pods, errors = pods_for_deletion(state, "worker-1", DrainStep(node="worker-1", force=True))
    assert not errors and [p.metadata.name for p in pods] == [pod.metadata.name]


def test_maintenance_fault_starts_when_stable_and_uncordons() -> None:
    model = build_model(load_scenario(DATA / "drained.yaml"))
    model = attrs.evolve(model, scenario=attrs.evolve(model.scenario, spec=attrs.evolve(
        model.scenario.spec, faults=attrs.evolve(model.scenario.spec.faults, maintenance=1), workload=())))
    start = initial_state(model)
    assert not [a for a in actions(model, start) if isinstance(a, StartMaintenance)]
    state = settle(model, start, max_steps=3000).state
    assert StartMaintenance("worker-1") in actions(model, state)
    state = step(model, state, StartMaintenance("worker-1"))
    assert _node(state, "worker-1").spec.unschedulable and not blocking(state)
    assert not [a for a in actions(model, state) if isinstance(a, StartMaintenance)]
    state = step(model, state, Quiesce())
    run = settle(model, state, max_steps=3000, max_ticks=10)
    assert not maintenance_state(run.state).draining and not _node(run.state, "worker-1").spec.unschedulable


def test_a_refused_drain_fails_its_step_and_leaves_the_node_cordoned() -> None:
    """`kubectl drain` without --force exits 1 on a pod no controller owns (RunDrain,
    `staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go`); the cordon it made stays. Before, the
    step passed silently and `workload-steps-succeed` held."""
    model, state = _settled("refused.yaml")
    refused = step(model, state, UserStep(0))
    assert _node(refused, "worker-1").spec.unschedulable and not blocking(refused)
    assert refused.workload_errors[0] == (
        'unable to drain node "worker-1" due to error: cannot delete Pods that declare no controller '
        "(use --force to override): default/agent-w1")
    forced = settle(model, step(model, refused, UserStep(1)), max_steps=3000, max_ticks=10).state
    assert 1 not in forced.workload_errors
    assert not [p for p in forced.store.list("pods") if isinstance(p, Pod)]


REFUSED_MAINTENANCE = ('unable to drain node "worker-1" due to error: cannot delete Pods that declare no controller '
                       "(use --force to override): default/bare")


def test_a_refused_maintenance_leaves_the_node_cordoned_until_the_operator_ends_it() -> None:
    """A maintenance's drain refused (a bare pod, no --force: RunDrain in
    `staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go`) keeps the node cordoned, as kubectl does, and
    the maintenance failed with kubectl's message; the operator ending it (uncordon) is a recovery.
    Before, the maintenance was dropped and the node stayed cordoned on every continuation."""
    model, state = _settled("maint-bare.yaml")
    assert not needs_recovery(state)
    state = step(model, state, StartMaintenance("worker-1"))
    assert _node(state, "worker-1").spec.unschedulable
    failed = maintenance_state(state)
    assert dict(failed.failed.items()) == {"worker-1": REFUSED_MAINTENANCE} and not failed.draining
    enabled = actions(model, state)
    assert EndMaintenance("worker-1") in enabled and not [a for a in enabled if isinstance(a, StartMaintenance)]
    assert needs_recovery(state)
    state = step(model, state, Quiesce())
    runs = dict(continuations(model, state, max_steps=3000, max_ticks=10))
    recovered, kept = runs[True], runs[False]
    assert EndMaintenance("worker-1") in recovered.trace and not maintenance_state(recovered.state).failed
    assert not _node(recovered.state, "worker-1").spec.unschedulable
    assert not any(isinstance(a, EndMaintenance) for a in kept.trace)
    assert _node(kept.state, "worker-1").spec.unschedulable and maintenance_state(kept.state).failed


def test_the_fair_run_without_recoveries_does_not_end_a_failed_maintenance() -> None:
    model, state = _settled("maint-bare.yaml")
    state = step(model, step(model, state, StartMaintenance("worker-1")), Quiesce())
    run = settle(model, state, max_steps=3000, max_ticks=10, recover=False)
    assert _node(run.state, "worker-1").spec.unschedulable
    assert maintenance_state(run.state).failed["worker-1"] == REFUSED_MAINTENANCE


def test_an_eviction_refused_for_another_reason_fails_the_users_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    """evictPods (`staging/src/k8s.io/kubectl/pkg/drain/drain.go`): an eviction answered with an error
    other than 404 or 429 (a 403, a 500) ends that pod's goroutine with `error when evicting pods/…`;
    the others go on and the command then fails with the aggregate. Before, the model dropped the
    user's drain silently and its step passed."""
    model, state = _settled("drained.yaml")

    def refuse_evictions(model_: ClusterModel, state_: ClusterState, user: str, request: Request,
                         component: str) -> tuple[ClusterState, Response]:
        if request.verb == "evict":
            return state_, Response(403, "Forbidden", f'pods "{request.name}" is forbidden: no eviction for you')
        return send(model_, state_, user, request, component)

    monkeypatch.setattr(maintenance, "send", refuse_evictions)
    run = settle(model, step(model, state, UserStep(0)), max_steps=3000, max_ticks=10)
    kinds = [type(a).__name__ for a in run.trace]
    assert kinds.count("EvictForDrain") == 1 and "FinishDrain" in kinds  # one try, no retry, then it returns
    [pod] = [p.metadata.name for p in run.state.store.list("pods") if isinstance(p, Pod)
             and p.spec.node_name == "worker-1"]
    assert run.state.workload_errors[0] == (
        f'unable to drain node "worker-1" due to error: error when evicting pods/"{pod}" -n "default": '
        f'pods "{pod}" is forbidden: no eviction for you')
    assert _node(run.state, "worker-1").spec.unschedulable and not blocking(run.state)


def test_the_clock_waits_for_a_due_eviction() -> None:
    """kubectl's evictPods sends every pod's eviction at once (`staging/src/k8s.io/kubectl/pkg/drain/
    drain.go`): no `Tick` while one is due, so a `--timeout` cannot pass before it is sent (audit18b:
    three ticks while the second eviction waited ended the drain with "global timeout reached")."""
    model, state = _settled("timeout-two-pods.yaml")
    state = step(model, state, UserStep(0))
    due = [a for a in actions(model, state) if isinstance(a, EvictForDrain)]
    assert len(due) == 2 and maintenance.drain_holds_clock(model, state)
    assert not [a for a in actions(model, state) if isinstance(a, Tick)]
    state = step(model, state, due[0])
    for _ in range(500):  # everything else the cluster does, the second eviction held back
        others = [a for a in actions(model, state) if not isinstance(a, EvictForDrain | Tick | Quiesce)
                  and getattr(a, "LANE", "") != "faults"]
        if not others:
            break
        state = step(model, state, others[0])
    assert maintenance.drain_holds_clock(model, state)
    assert not [a for a in actions(model, state) if isinstance(a, Tick)]
    state = step(model, state, due[1])
    assert not maintenance.drain_holds_clock(model, state)
    run = settle(model, state, max_steps=3000, max_ticks=10)
    assert "FinishDrain" in [type(a).__name__ for a in run.trace] and not run.state.workload_errors


def test_a_retry_not_yet_due_lets_the_clock_run() -> None:
    """A 429's retry 5 s later is a timer, not work due now: the clock may run to it."""
    model, state = _settled("blocked.yaml")
    state = step(model, state, UserStep(0))
    evict = next(a for a in actions(model, state) if isinstance(a, EvictForDrain))
    state = step(model, state, evict)
    drain = next(iter(maintenance_state(state).draining.values()))
    assert drain.pending and min(drain.pending.values()) > state.clock
    assert not maintenance.drain_holds_clock(model, state)
