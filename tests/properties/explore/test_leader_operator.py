"""A user's first operator (data/leader, from a user trial): it labels one Ready pod of each elected
StatefulSet leader, keyed by pod and reading its cache. Its double-leader race needs the controller
manager down while both pods of a Parallel StatefulSet become Ready, a restart (the relist queues
both pod keys) and the second key reconciled before the first key's patch came back to the cache.

The default strategy finds it from the initial state within a step budget (one lane, seed 0: the
same on any machine; the wall-clock budget only bounds a regression): the perturbation engine
reverses the race between the operator's write coming back to its cache and its next reconcile
(`perturb_placements._Perturb._stale_reads`) on the run where the controller manager crashed and restarted.
The fixed operator (keyed by StatefulSet, the lowest ordinal leads, patches carry the
resourceVersion) is clean on the whole perturbation search (every run it places, to its end)."""

from __future__ import annotations

from pathlib import Path

from user_modules import assert_found_from_initial_state, user_folder_fixture

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import expected_policy, fair_run
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, RestartComponent
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel
from kubeprop.properties.explore.around import _Node, _Search
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.perturb import Hold, effects, run_perturb
from kubeprop.properties.explore.perturb_placements import _Perturb, _Run
from kubeprop.properties.modules import scenario_properties
from kubeprop.properties.registry import select

LEADER = Path(__file__).parent / "data" / "leader"
PROPERTIES = ("at-most-one-leader", "ready-statefulset-has-leader")

leader_on_path = user_folder_fixture(LEADER)
"""The fixture's folder on the import path (as `PYTHONPATH=.` puts it there), the registry restored
afterwards."""

STEP_BUDGET = 7_000
"""The portfolio's steps (one lane, seed 0) within which it must find the double leader: measured
4,596 (perturb's 2,347: the controller manager crashed after a write, restarted once both pods were
Ready, and not observing the first leader patch); 33,489 before perturb reversed such races on
writes that are not a perturbation's effects (then `around` found it, two deviations, after 10,452
of its own steps)."""

def test_the_default_strategy_finds_the_double_leader_from_the_initial_state() -> None:
    assert_found_from_initial_state(LEADER, "at-most-one-leader", 120.0, steps=STEP_BUDGET, found_by="perturb")


def test_the_fixed_operator_is_clean_on_the_whole_perturbation_search() -> None:
    scenario = load_scenario(LEADER / "scenario-fixed.yaml")
    model = build_model(scenario)
    chosen = select(list(PROPERTIES), extra=scenario_properties(scenario))
    config = EngineConfig(properties=chosen, budget_seconds=None, shrink=False)
    result = run_perturb(model, initial_state(model), config)  # to its end: 318 runs, 5,284 steps
    assert result.violation is None, (result.violation, result.trace)
    assert result.exit_reason is ExitReason.RUNS_DONE, result.stats


def _crashed_and_restarted() -> tuple[ClusterModel, list[_Node]]:
    """The run a user expects after the StatefulSet controller created both pods and the controller
    manager crashed right then, up to the operator's patch of redis-0 after the restart: the
    restart comes once the world is otherwise quiet (both pods Ready), the relist queues both keys."""
    model = build_model(load_scenario(LEADER / "scenario.yaml"))
    policy = expected_policy()
    node = _Node(initial_state(model), None, None, 0, 0)
    nodes = [node]
    for act in (Reconcile("statefulset", "default/redis"), CrashComponent(CONTROLLER_MANAGER)):
        policy.taken(act)
        node = _Node(step(model, node.state, act), node, act, node.depth + 1, 1)
        nodes.append(node)
    while not (node.action == PATCH_REDIS_0 and _wrote(node)):
        act = policy.choose(actions(model, node.state))
        assert act is not None, "the run ended before the operator patched redis-0"
        policy.taken(act)
        node = _Node(step(model, node.state, act), node, act, node.depth + 1, 1)
        nodes.append(node)
    return model, nodes


PATCH_REDIS_0 = Reconcile("leader-labeler", "default/redis-0")


def _wrote(node: _Node) -> bool:
    return node.parent is not None and node.state.store.revision != node.parent.state.store.revision


def test_a_reconcile_racing_its_own_write_is_reversed_even_where_it_is_no_effect() -> None:
    """The patch of redis-0 after the restart is no effect of the crash by action (the expected run
    patches redis-0 too), but redis-1 is queued and reads the pods the patch changed: the
    controller manager not observing that write is placed there; not where nothing else is queued."""
    model, nodes = _crashed_and_restarted()
    patch = nodes[-1]
    assert RestartComponent(CONTROLLER_MANAGER) in [n.action for n in nodes]
    with memoised(model) as cache:
        perturb = _Perturb(_Search(model, EngineConfig(), Checker(model, ()), None, cache))
        assert Reconcile("leader-labeler", "default/redis-1") in perturb.enabled(patch)
        assert perturb._stale_reads(patch) == [(patch, Hold.informer(CONTROLLER_MANAGER, "pods"))]
        create = nodes[1]  # the StatefulSet controller's write, nothing of it queued after it
        assert _wrote(create) and perturb._stale_reads(create) == []
    expected = [_Node(nodes[0].state, None, act, depth, 0) for depth, act in enumerate(
        fair_run(model, initial_state(model)).trace, 1)]
    fair = _Run(None, (), expected, [], [True] * len(expected), (), 0, 0)
    assert effects([patch], fair, nodes[1]) == [False]  # why it needs placing apart from the effects
