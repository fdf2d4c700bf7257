"""The fair choice in one pass (`FairPolicy.pick`, `next_action`) against its definition.

`next_action(model, state, idle)` is `choose(actions(model, state))` but for the moves in `idle`; `pick`
makes it in one pass over the enabled actions' groups (the first move never taken at once, else the
least recently taken, else a user step), and `fair_memo` makes it again on the groups it remembers.
Compared here with `choose` on the whole list over random runs of several scenarios, each state asked
by policies with random memories — moves taken at random earlier, some of the state's own among them,
some set aside (`idle`) —, the environment last or not, user steps or not, classes avoided, ticks spent.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, expected_policy, is_environment_timed, settle
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import feastflow_path, load_scenario
from kubeprop.model.state.actions import Action, Deliver, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.fair_memo import Seen, live_choice, replayed_choice

DATA = Path(__file__).parents[1] / "data" / "catalogue"
SCENARIOS = ((None, True), (DATA / "web.yaml", True), (DATA / "web-flap.yaml", True), (DATA / "shop.yaml", False))
"""Scenarios, and whether their runs meet a choice of the world's moves (a probe passing, ...)."""


def _states(model: ClusterModel, rng: random.Random, runs: int, length: int) -> Iterator[ClusterState]:
    """The states of random runs (faults and user steps among the actions taken); from each run's end,
    where settling would let time pass next, and the states of the run a user expects where two or
    more of the world's moves wait (probes passing, processes exiting: `environment_last` picks
    among them)."""
    for _ in range(runs):
        state = initial_state(model)
        for _ in range(length):
            yield state
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, rng.choice(enabled))
        yield settle(model, state, max_steps=400, max_ticks=0, report_failing=False).state
        policy, waiting = expected_policy(), 0
        for _ in range(100):
            if waiting < 3 and sum(map(is_environment_timed, actions(model, state))) >= 2:
                waiting += 1
                yield state
            act = policy.next_action(model, state)
            if act is None:
                break
            policy.taken(act)
            state = step(model, state, act)


def _policies(rng: random.Random, enabled: tuple[Action, ...], history: list[Action]
              ) -> Iterator[tuple[FairPolicy, frozenset[Action]]]:
    """Policies with random memories of `history` and of `enabled` (so that some moves at the state
    were taken, in random order), and random moves set aside among those taken."""
    for recover, user_steps, environment_last, avoid in ((True, False, False, ()), (False, True, True, ()),
                                                         (True, True, False, (Deliver,)),
                                                         (True, True, True, (Reconcile, UserStep))):
        policy = FairPolicy(recover=recover, user_steps=user_steps, environment_last=environment_last, avoid=avoid,
                            max_ticks=rng.choice((0, 60)))
        remembered = rng.sample(history, min(len(history), 20)) + rng.sample(enabled, rng.randrange(len(enabled) + 1))
        rng.shuffle(remembered)
        for act in remembered:
            policy.taken(act)
        taken = [a for a in enabled if a in policy.last_taken]
        idle = frozenset(rng.sample(taken, rng.randrange(len(taken) + 1))) if rng.random() < 0.5 else frozenset()
        yield policy, idle
    # the world's moves alone left: every other enabled action taken and set aside
    policy = FairPolicy(environment_last=True, user_steps=True)
    for act in [a for a in enabled if not is_environment_timed(a)] + rng.sample(history, min(len(history), 5)):
        policy.taken(act)
    yield policy, frozenset(a for a in enabled if a in policy.last_taken)


def _direct(policy: FairPolicy, enabled: tuple[Action, ...], idle: frozenset[Action]) -> Action | None:
    """The definition: `choose` on every enabled action but the idle ones."""
    return policy.choose([a for a in enabled if a not in idle])


@pytest.mark.parametrize(("path", "world"), SCENARIOS, ids=["FeastFlow", "web", "web-flap", "shop"])
def test_the_fair_choice_in_one_pass_is_choose_on_every_action(path: Path | None, world: bool) -> None:
    model = build_model(load_scenario(path or feastflow_path()))
    rng = random.Random(19)
    history: list[Action] = []
    kinds: set[str] = set()
    for n, state in enumerate(_states(model, rng, runs=2, length=30)):
        enabled = actions(model, state)
        asked: list[Seen] = []
        for policy, idle in _policies(rng, enabled, history):
            want = _direct(policy, enabled, idle)
            kinds.add(_kind(policy, want, enabled))
            if n % 2:
                with memoised(model):  # the groups as the searches' cache gives them
                    assert policy.next_action(model, state, idle) == want
            else:
                assert policy.next_action(model, state, idle) == want
            fresh, picked = policy.pick([enabled], idle)  # (the whole list as one group)
            assert picked == want or (not fresh and picked is None and isinstance(want, Tick))
            act, seen = live_choice(model, state, policy, idle)
            assert act == want
            assert replayed_choice(policy, seen, idle) == (True, want)
            asked.append(seen)
        for policy, idle in _policies(rng, enabled, history):  # what one choice asked for, another's
            want = _direct(policy, enabled, idle)
            for seen in asked:
                assert replayed_choice(policy, seen, idle) in ((False, None), (True, want))
        history.extend(rng.sample(enabled, min(3, len(enabled))))
    # the runs met every way a choice is made
    assert {"fresh", "least recent", "tick", *(("world",) if world else ())} <= kinds, kinds


def _kind(policy: FairPolicy, chosen: Action | None, enabled: tuple[Action, ...]) -> str:
    """How `chosen` was chosen (for the test's coverage)."""
    if chosen is None:
        return "none"
    if isinstance(chosen, Tick):
        return "tick"
    if isinstance(chosen, UserStep):
        return "user"
    if policy.environment_last and is_environment_timed(chosen):
        return "world"
    return "fresh" if chosen not in policy.last_taken else "least recent"


def test_a_subclass_choose_is_asked_as_before() -> None:
    """A policy of its own `choose` (a held policy) gets the first move never taken, else its own
    choice among the groups' actions."""

    class Last(FairPolicy):
        asked = 0

        def choose(self, enabled: object) -> Action | None:
            self.asked += 1  # (a held policy's `choose` changes its holds: asked only for a choice)
            moves = [a for a in enabled if self.default(a)]  # type: ignore[attr-defined]
            return moves[-1] if moves else None

    model = build_model(load_scenario(DATA / "web.yaml"))
    state = initial_state(model)
    enabled = actions(model, state)
    policy = Last()
    assert policy.next_action(model, state) == next(a for a in enabled if policy.default(a))
    for act in enabled:
        policy.taken(act)
    assert policy.pick([enabled], whole=False) == (False, None) and policy.asked == 0
    assert FairPolicy().pick([enabled], whole=False)[0] and policy.asked == 0
    assert policy.next_action(model, state) == [a for a in enabled if policy.default(a)][-1] and policy.asked == 1
