"""Fairness for the control plane, not the environment: the fair run and settling do not heal
partitions or boot nodes unless asked; convergence is judged on continuations with and without
recoveries; the run a user expects lets the control plane react before the world moves on."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import (
    FairPolicy,
    continuations,
    fair_run,
    is_environment_timed,
    needs_recovery,
    settle,
)
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, CrashNode, Heal, Partition, Quiesce, RestartNode, UserStep
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.registry import select

DATA = Path(__file__).parents[1] / "data" / "catalogue"


def test_fair_run_takes_the_workload_and_no_fault() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    run = fair_run(model, initial_state(model))
    assert not run.exhausted
    assert [a for a in run.trace if isinstance(a, UserStep)] == [UserStep(0), UserStep(1)]
    assert not any(type(a).__name__ in ("Partition", "CrashComponent", "Quiesce") for a in run.trace)


def test_the_control_plane_reacts_before_the_world_moves_on() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    state = initial_state(model)
    policy = FairPolicy(user_steps=True, environment_last=True)
    for _ in range(300):
        enabled = actions(model, state)
        act = policy.choose(enabled)
        if act is None:
            break
        if is_environment_timed(act):  # a probe passing, an exit…: only once nothing else is left
            assert all(is_environment_timed(a) or not policy.default(a) for a in enabled)
        policy.taken(act)
        state = step(model, state, act)


def _partitioned(model_variant: str) -> tuple[object, object]:
    model = build_model(load_scenario(DATA / "web.yaml"), variant=model_variant, parameters={"instantCaches": True})
    state = settle(model, initial_state(model)).state
    node = next(p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod))
    return model, step(model, step(model, state, Partition(node)), Quiesce())


def test_recoveries_are_not_fair() -> None:
    model, state = _partitioned("correct")
    kept = settle(model, state, recover=False)  # type: ignore[arg-type]
    assert not any(isinstance(a, Heal | RestartNode) for a in kept.trace)
    assert kept.state.partitioned  # type: ignore[attr-defined]
    healed = settle(model, state)  # type: ignore[arg-type]
    assert any(isinstance(a, Heal) for a in healed.trace)
    assert [recovers for recovers, _ in continuations(model, state)] == [True, False]  # type: ignore[arg-type]


def test_convergence_without_recovery_catches_nodelifecycle_crash_only_on_its_variant() -> None:
    from kubeprop.model.state.actions import CrashComponent, RestartComponent

    props = select(kind="convergence")
    for variant, violated in (("nodelifecycle-crash", True), ("correct", False)):
        model, state = _partitioned(variant)
        for _ in range(200):  # on to the moment the node is marked Unknown
            run = settle(model, state, max_steps=1, recover=False)  # type: ignore[arg-type]
            state = run.state
            if type(run.trace[0]).__name__ == "MonitorNodeHealth":
                break
        state = step(model, step(model, state, CrashComponent("controller-manager")),  # type: ignore[arg-type]
                     RestartComponent("controller-manager"))
        found = settled_violation(model, state, props)  # type: ignore[arg-type]
        assert (found is not None) is violated
        if found is not None:
            assert found.property == "pods-on-unknown-nodes-not-ready" and "stays partitioned" in found.message


def test_properties_that_need_recovery_are_not_judged_without_it() -> None:
    # A StatefulSet pod on a node that never comes back is never replaced: not a bug of the model.
    model = build_model(load_scenario(DATA / "db.yaml"), parameters={"instantCaches": True})
    state = settle(model, initial_state(model)).state
    node = next(p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod))
    state = step(model, step(model, state, Partition(node)), Quiesce())
    assert settled_violation(model, state, select(kind="convergence")) is None
    without = next(run for recovers, run in continuations(model, state) if not recovers)
    assert select(["workloads-ready"])[0](model, without.state) is not None  # it would fail, were it judged


def test_default_remembered_by_class_answers_like_the_rules() -> None:
    """`FairPolicy.default` remembers its verdict per action class; it must equal the rules
    (`is_progress`, `is_recovery`, avoided classes, `Tick`) for every action of random runs."""
    import random

    from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
    from kubeprop.model.cluster.drive import FairPolicy, is_progress, is_recovery
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.model.state.actions import Heal, Tick

    model = build_model(load_scenario(None))
    policies = [FairPolicy(), FairPolicy(recover=False), FairPolicy(avoid=(Heal,)),
                FairPolicy(recover=False, avoid=(Heal,))]
    rng, state, seen = random.Random(2), initial_state(model), 0
    for _ in range(150):
        enabled = actions(model, state)
        for act in enabled:
            for policy in policies:
                rules = (not isinstance(act, (policy.avoid, Tick)) and (policy.recover or not is_recovery(act))
                         and is_progress(act))
                assert policy.default(act) == rules, act
                seen += 1
        state = step(model, state, enabled[rng.randrange(len(enabled))])
    assert seen > 1000


def test_next_action_is_the_choice_among_every_enabled_action() -> None:
    """`FairPolicy.next_action` asks about `Tick` only when nothing else is left; it chooses what
    `choose(actions(...))` chooses, step after step of fair runs (ticks included) of several policies."""
    from kubeprop.model.cluster.drive import expected_policy

    ticks = 0
    for path in (None, DATA / "web-rollout.yaml", DATA.parent / "variants" / "node-loss.yaml"):
        model = build_model(load_scenario(path))
        settled = settle(model, initial_state(model)).state
        for fault in (Partition, CrashNode):  # a lost node makes timers pend (grace periods, evictions)
            hit = next((a for a in actions(model, settled) if isinstance(a, fault)), Quiesce())
            for policy in (FairPolicy(), FairPolicy(recover=False, max_ticks=3), expected_policy()):
                state = step(model, step(model, settled, hit), Quiesce())
                for _ in range(400):
                    act = policy.next_action(model, state)
                    assert act == policy.choose(actions(model, state))
                    if act is None:
                        break
                    ticks += type(act).__name__ == "Tick"
                    policy.taken(act)
                    state = step(model, state, act)
    assert ticks > 0


def _plain_continuations(model: object, state: object, max_steps: int, avoid: tuple[type, ...]) -> list[object]:
    runs = [(True, settle(model, state, max_steps=max_steps, max_ticks=100, avoid=avoid))]  # type: ignore[arg-type]
    if needs_recovery(state):  # type: ignore[arg-type]
        runs.append((False, settle(model, state, max_steps=max_steps, max_ticks=100, avoid=avoid,  # type: ignore[arg-type]
                                   recover=False)))
    return runs


@pytest.mark.parametrize("max_steps", [5000, 150, 40])
def test_the_run_without_recoveries_resumes_the_one_with_them(max_steps: int) -> None:
    """`continuations` shares the runs' common prefix (up to the first recovery): the same runs as
    two independent `settle`s, action for action, on random walks with partitions and crashes."""
    model = build_model(load_scenario(DATA / "web.yaml"), parameters={"instantCaches": False})
    rng, checked = random.Random(4), 0
    for walk in range(16):
        state = initial_state(model)
        for _ in range(rng.randrange(5, 30)):
            enabled = [a for a in actions(model, state) if not isinstance(a, Quiesce)]
            faults = [a for a in enabled if isinstance(a, Partition | CrashNode)]
            state = step(model, state, rng.choice(faults if faults and rng.random() < 0.2 else enabled))
        if Quiesce() in actions(model, state):
            state = step(model, state, Quiesce())
        avoid = (Heal,) if walk % 4 == 3 else ()
        shared = list(continuations(model, state, max_steps=max_steps, avoid=avoid))
        assert shared == _plain_continuations(model, state, max_steps, avoid)
        checked += needs_recovery(state)
    assert checked >= 3


def _reference_choice(policy: FairPolicy, enabled: list[Action]) -> Action | None:
    """The fair choice as first written: the least recently taken move, by `min`."""
    moves = [a for a in enabled if policy.default(a)]
    if policy.environment_last:
        moves = [a for a in moves if not is_environment_timed(a)] or moves
    if moves:
        return min(moves, key=lambda a: policy.last_taken.get(a, -1))
    return policy.choose([a for a in enabled if not policy.default(a)])  # user steps and Tick alike


def test_the_fair_choice_is_the_least_recently_taken_move() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"), parameters={"instantCaches": False})
    rng = random.Random(9)
    for _ in range(8):
        state, taken = initial_state(model), list[Action]()
        for _ in range(60):
            enabled = list(actions(model, state))
            if not enabled:
                break
            for recover, user_steps, environment_last in ((True, False, False), (False, True, True),
                                                          (True, True, False)):
                policy = FairPolicy(recover=recover, user_steps=user_steps, environment_last=environment_last)
                for act in rng.sample(taken, min(len(taken), 12)):
                    policy.taken(act)
                assert policy.choose(enabled) == _reference_choice(policy, enabled)
            act = rng.choice(enabled)
            taken.append(act)
            state = step(model, state, act)
