"""A component slow (`slow.Slow`): the held policy it makes, where the perturbation engine places
it, and what it finds — sts-split-brain on FeastFlow as written, from the initial state."""

from __future__ import annotations

import attrs
import pytest

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import expected_policy, run
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Partition, Tick, UserStep
from kubeprop.properties.explore.around import _Node
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.explore.perturb import USER, HeldPolicy, run_perturb
from kubeprop.properties.explore.slow import Slow, busy, creators, first_steps, slowable

RS, STS = Reconcile("replicaset", "default/web-1"), Reconcile("statefulset", "default/db")


def _policy(act: Slow) -> HeldPolicy:
    shared = frozenset({USER}) if act.user else frozenset()
    return HeldPolicy(**attrs.asdict(expected_policy(), recurse=False), held=act.held(), shared=shared)


def test_a_slow_controller_goes_after_the_others_until_only_the_user_or_time_is_left() -> None:
    policy = _policy(Slow("controller/replicaset"))
    assert policy.choose([RS, STS]) == STS  # the fair policy would take the ReplicaSet first
    assert policy.diverged
    policy.taken(STS)
    assert policy.choose([RS, UserStep(0)]) == RS  # released: nothing else of the control plane
    assert not policy.held


def test_a_slow_controller_while_the_user_waits_is_compared_with_the_user_waiting_alone() -> None:
    policy = _policy(Slow("controller/replicaset", user=True))
    assert policy.choose([UserStep(0), Tick(10)]) == Tick(10)
    assert not policy.diverged  # the user waiting alone ticks too: still on that run
    policy.taken(Tick(10))
    assert policy.choose([RS, STS, UserStep(0)]) == STS
    assert policy.diverged
    policy.taken(STS)
    assert policy.choose([RS, UserStep(0), Tick(10)]) == Tick(10)  # time passes; the controller waits on
    assert policy.held == frozenset({"controller/replicaset", USER})


def test_slow_applies_to_controllers_and_scheduler_instances_only() -> None:
    assert slowable("controller/replicaset") and slowable("scheduler/scheduler-2")
    assert not any(slowable(a) for a in ("informer/scheduler/pods", "kubelet/worker-1", "user", "clock"))
    assert Slow("controller/replicaset", user=True).describe() == "controller/replicaset slow while the user waits"


def test_busy_components_the_creators_first() -> None:
    model = build_model(load_scenario(None))
    state, policy = initial_state(model), expected_policy()
    root = _Node(state, None, None, 0, 0)
    nodes, node = [root], root
    for _ in range(12):  # the Deployment controller creates the ReplicaSets, their controller pods
        act = policy.next_action(model, node.state)
        assert act is not None
        policy.taken(act)
        node = _Node(step(model, node.state, act), node, act, node.depth + 1, 0)
        nodes.append(node)
    effects = [True] * len(nodes)
    firsts = [(n.depth, name) for n, name in first_steps(nodes, effects)]
    assert [name for _, name in firsts][:1] == ["controller/deployment"]
    assert firsts == sorted(firsts)  # in run order, one each
    made = creators(nodes, effects)
    assert "controller/deployment" in made
    order = busy(nodes, effects)
    assert set(order[:len(made)]) == made and len(order) == len(firsts)  # creators first, then the others
    assert busy(nodes, [False] * len(nodes)) == []


SPLIT_BRAIN_CONFIG = EngineConfig(budget_seconds=120.0, shrink=False)
"""The budget is a cap for a loaded machine: the find takes seconds."""


def test_perturb_finds_sts_split_brain_on_feastflow_with_a_slow_replicaset_controller() -> None:
    """FeastFlow as written: worker-3 (postgres-0 and three more pods) cut off where the user's
    scale step is due, the ReplicaSet controller slow while the user waits for the cluster to
    settle, so that postgres-0's replacement takes worker-1's room first."""
    model = build_model(load_scenario(None), variant="sts-split-brain")
    found = run_perturb(model, initial_state(model), SPLIT_BRAIN_CONFIG)
    assert found.violation is not None and found.violation.property == "one-running-pod-per-identity"
    assert "postgres-0 runs on 2 nodes" in found.violation.message
    assert found.stats.note.startswith("Partition(node=worker-3)")
    assert "controller/replicaset slow while the user waits" in found.stats.note
    run(model, initial_state(model), found.trace)  # a trace of the model, from the initial state
    assert Partition("worker-3") in found.trace


@pytest.mark.slow
def test_perturb_finds_the_same_sts_split_brain_twice() -> None:
    """The find above, run twice: the same violation, trace and placements (`-m slow`: two runs of
    the search above, 21 s of a loaded default run; the default run checks a repeated perturbation
    run in test_perturb.py, without a slow component)."""
    model = build_model(load_scenario(None), variant="sts-split-brain")
    found = run_perturb(model, initial_state(model), SPLIT_BRAIN_CONFIG)
    again = run_perturb(model, initial_state(model), SPLIT_BRAIN_CONFIG)
    assert found.violation is not None
    assert (again.violation, again.trace, again.stats.note) == (found.violation, found.trace, found.stats.note)


def test_the_state_bound_stops_the_search_before_the_slow_run() -> None:
    model = build_model(load_scenario(None), variant="sts-split-brain")
    bounded = run_perturb(model, initial_state(model), EngineConfig(max_states=2000, shrink=False))
    assert (bounded.exit_reason, bounded.violation) == (ExitReason.STATE_BOUND, None)
