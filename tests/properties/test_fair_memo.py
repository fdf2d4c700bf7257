"""The remembered continuations (`fair_memo`) are `drive.continuations`' runs, whatever was judged before.

The memo is stale-prone where a state is reached again with another fair policy's memory: the
choice there must be made again (least recently taken first), not read from the run that reached
it first. So each test judges states of random runs — faults, recoveries and all — in an order
that makes later judgements pass through states earlier ones reached (a state's continuation
after one of the states on it), and compares every run with the direct computation.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeprop.model.cluster import drive
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties import fair_memo

DATA = Path(__file__).parents[1] / "model" / "data"


def _random_states(model: ClusterModel, rng: random.Random, runs: int, length: int) -> list[ClusterState]:
    """States of random runs (every enabled action equally likely: faults too), every other one
    ending with a partition or a node crash when one is enabled (the judgement then follows the
    continuations with and without recoveries)."""
    out = []
    for run in range(runs):
        state = initial_state(model)
        for _ in range(rng.randrange(length)):
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
        faults = [a for a in actions(model, state) if type(a).__name__ in ("Partition", "CrashNode")]
        if faults and run % 2:
            state = step(model, state, faults[rng.randrange(len(faults))])
        out.append(state)
    return out


def _on_run(model: ClusterModel, state: ClusterState, trace: tuple[Action, ...], at: int) -> ClusterState:
    for act in trace[:at]:
        state = step(model, state, act)
    return state


def _compare(model: ClusterModel, states: list[ClusterState], rng: random.Random, max_steps: int = 5000) -> int:
    """Judge each state through the memo and directly, a state on its continuation first; the
    steps the memo gave."""
    memo = fair_memo.MEMO = fair_memo.Memo()
    for state in states:
        direct = list(drive.continuations(model, state, max_steps=max_steps))
        trace = direct[0][1].trace
        later = _on_run(model, state, trace, rng.randrange(len(trace) + 1))
        assert list(fair_memo.continuations(model, later, max_steps=max_steps)) == list(
            drive.continuations(model, later, max_steps=max_steps))
        assert list(fair_memo.continuations(model, state, max_steps=max_steps)) == direct
    return memo.replayed


@pytest.fixture(autouse=True)
def _own_memo() -> Iterator[None]:
    kept = fair_memo.MEMO
    yield
    fair_memo.MEMO = kept


@pytest.mark.parametrize(("path", "seed", "runs"), [
    (DATA / "hpa" / "linear.yaml", 1, 1), (DATA / "variants" / "node-loss.yaml", 4, 4), (None, 3, 1),
])
def test_remembered_continuations_are_the_direct_ones(path: Path | None, seed: int, runs: int) -> None:
    """HPA syncs that keep the run ticking, a lost node (the run without recoveries resumes the
    one with them), FeastFlow's rollouts: the same runs as `drive.continuations`, and the memo is
    used (a state met again takes remembered steps)."""
    model = build_model(load_scenario(path))
    rng = random.Random(seed)
    states = _random_states(model, rng, runs, 30)
    assert path is None or "node-loss" not in path.name or any(map(drive.needs_recovery, states))
    assert _compare(model, states, rng) > 0


def test_remembered_continuations_out_of_steps() -> None:
    """A bound on the steps cuts the remembered runs where it cuts the direct ones."""
    model = build_model(load_scenario(DATA / "hpa" / "linear.yaml"))
    rng = random.Random(4)
    _compare(model, _random_states(model, rng, 2, 20), rng, max_steps=40)


def test_a_state_met_with_another_memory_is_chosen_again() -> None:
    """The fair run from the initial state passes through the state after its first step; from
    there a continuation of its own starts with an empty memory, and the fair choice among the
    actions that the first run took before differs: the memo must choose again, not replay."""
    model = build_model(load_scenario(None))
    start = initial_state(model)
    first = next(iter(drive.continuations(model, start)))[1]
    second_state = step(model, start, first.trace[0])
    second = next(iter(drive.continuations(model, second_state)))[1]
    assert second.trace != first.trace[1:]  # (what makes this case: another memory, another run)
    fair_memo.MEMO = fair_memo.Memo()
    assert next(iter(fair_memo.continuations(model, start)))[1] == first
    assert next(iter(fair_memo.continuations(model, second_state)))[1] == second


def test_a_remembered_judgement_is_the_direct_one() -> None:
    """`settled_violation(remember_runs=True)` (the reduced BFS's) gives the verdict judged afresh,
    for states met before by remembered continuations and for their starts."""
    from kubeprop.properties.convergence import settled_violation
    from kubeprop.properties.registry import select

    model = build_model(load_scenario(DATA / "variants" / "node-loss.yaml"))
    props = [p for p in select() if p.kind == "convergence"]
    fair_memo.MEMO = fair_memo.Memo()
    states = _random_states(model, random.Random(4), 4, 30)
    for state in states:
        assert settled_violation(model, state, props, remember_runs=True) == settled_violation(
            model, state, props, memo=False)
    assert fair_memo.MEMO.seen
