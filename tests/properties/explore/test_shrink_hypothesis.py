"""Properties of the shrinker, checked with Hypothesis (none of them timed: no deadline is set, so
no result here depends on the machine):

- `ddmin` returns a failing subsequence of its input that is 1-minimal (no single item can go),
  within `max_tests` distinct tests when given, and the same result for the same predicate;
- a candidate judged from the prefix it shares with the current trace (`_Replayer`, whose states
  are those kept from earlier replays) gets the judgement a replay from the start gives;
- `shrink_trace` on random runs of a small model: the shrunk trace is a run (every action enabled
  as recorded), still violates the property first, is no longer than the input, and is 1-minimal
  as a run (dropping any one action leaves one disabled, or the run no longer violates it first).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.explore.shrink import Judge, _Replayer, ddmin, shrink_trace
from kubeprop.properties.registry import select

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"

Items = tuple[int, ...]


def _predicate(kind: int, needles: Items) -> Callable[[Items], bool]:
    """A failure predicate over sequences: 0, all needles present (monotone); 1, the needles in
    order as a subsequence (order matters); 2, at least as many even items as needles (counting);
    3, all needles present and the sum a multiple of three (not monotone: deleting one item can
    make another deletable that was not)."""
    if kind == 0:
        return lambda c: set(needles) <= set(c)
    if kind == 1:
        def in_order(c: Items) -> bool:
            left = iter(c)
            return all(any(x == n for x in left) for n in needles)
        return in_order
    if kind == 2:
        return lambda c: sum(1 for x in c if x % 2 == 0) >= len(needles)
    return lambda c: set(needles) <= set(c) and sum(c) % 3 == 0


def _is_subsequence(small: Items, big: Items) -> bool:
    left = iter(big)
    return all(any(x == s for x in left) for s in small)


@settings(max_examples=200)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=40).map(tuple), st.integers(0, 3),
       st.lists(st.integers(0, 9), min_size=1, max_size=4).map(tuple))
def test_ddmin_gives_a_one_minimal_failing_subsequence(items: Items, kind: int, needles: Items) -> None:
    fails = _predicate(kind, needles)
    if not fails(items):
        items = items + needles + tuple(2 * i for i in range(len(needles)))  # make it fail
        items = items + (1,) * ((3 - sum(items) % 3) % 3 if kind == 3 else 0)
    assert fails(items)
    result = ddmin(items, fails)
    assert fails(result) and _is_subsequence(result, items)
    assert not any(fails(result[:i] + result[i + 1:]) for i in range(len(result)))
    assert ddmin(items, fails) == result  # deterministic


@settings(max_examples=100)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=40).map(tuple), st.integers(1, 30))
def test_ddmin_stops_at_its_count_of_tests_with_a_failing_sequence(items: Items, most: int) -> None:
    tried: set[Items] = set()

    def fails(c: Items) -> bool:
        tried.add(c)
        return 3 in c

    items = (*items, 3)
    result = ddmin(items, fails, max_tests=most)
    assert len(tried) <= most and 3 in result and _is_subsequence(result, items)


@cache
def _model() -> ClusterModel:
    return build_model(load_scenario(DATA / "web.yaml"), variant="rs-no-expectations",
                       parameters={"instantCaches": False})


def _judge() -> Judge:
    model = _model()
    return Judge(model, initial_state(model), select(kind="safety"))


BUG = ("Reconcile(controller=deployment, key=default/web)",
       "Deliver(component=controller-manager, resource=replicasets.apps",
       "Reconcile(controller=replicaset, key=default/web-9b8d4d75)",
       "Deliver(component=controller-manager, resource=pods",
       "Reconcile(controller=replicaset, key=default/web-9b8d4d75)")
"""The steps of the rs-no-expectations overcreation on web.yaml (deliveries by their watch)."""


@st.composite
def runs(draw: st.DrawFn) -> tuple[Action, ...]:
    """A run of the web model with the rs-no-expectations bug: the steps of `BUG`, each one when
    it is enabled, with up to four actions drawn among the enabled ones before each (and after),
    up to the first safety violation. About half of such runs violate a property."""
    model, judge = _model(), _judge()
    state, trace = initial_state(model), []
    for wanted in (*BUG, None):
        taking = [actions(model, state)[draw(st.integers(0, 10**6)) % len(actions(model, state))]
                  for _ in range(draw(st.integers(0, 4))) if actions(model, state)]
        for i in range(len(taking) + 1):
            enabled = actions(model, state)
            act = (taking[i] if taking[i] in enabled else None) if i < len(taking) else next(
                (a for a in enabled if wanted is not None and str(a).startswith(wanted)), None)
            if act is None:
                continue
            state = step(model, state, act)
            trace.append(act)
            if judge.checker.violation(state) is not None:
                return tuple(trace)
    return tuple(trace)


@settings(max_examples=30)
@given(runs(), st.lists(st.tuples(st.integers(0, 40), st.integers(1, 6)), min_size=1, max_size=8),
       st.booleans())
def test_a_replay_from_a_shared_prefix_judges_as_a_replay_from_the_start(
        trace: tuple[Action, ...], cuts: list[tuple[int, int]], loose: bool) -> None:
    """`_Replayer` keeps the states of the shortest failing trace so far (from the replays that
    found it) and starts each candidate where it departs from that trace."""
    judge = _judge()
    if loose:
        judge = Judge(judge.model, judge.start, judge.safety, skip_disabled=True)
    replayer = _Replayer(judge, trace)
    candidate = trace
    for at, width in cuts:  # each candidate drops a block of the one before
        candidate = candidate[:at] + candidate[at + width:]
        got = replayer(candidate)
        assert got == judge(candidate)
        if got[0] is not None and len(got[1]) < len(replayer.base):
            replayer.rebase(got[1], replayer.last_states)
            assert replayer.base_states == judge.states(got[1])[:len(got[1])]


@settings(max_examples=15)
@given(runs())
def test_a_shrunk_run_still_violates_and_is_one_minimal(trace: tuple[Action, ...]) -> None:
    judge = _judge()
    found, _ = judge(trace)
    if found is None:
        return  # the drawn run violated nothing: nothing to shrink
    violation, shrunk = shrink_trace(judge, trace, found.property)
    assert violation is not None and violation.property == found.property
    assert len(shrunk) <= len(trace)
    run(judge.model, judge.start, shrunk)  # every action enabled as recorded
    assert judge(shrunk)[0] == violation
    for i in range(len(shrunk)):  # strict: no action may go (shrinking was not cut: no deadline)
        fewer, _ = judge(shrunk[:i] + shrunk[i + 1:])
        assert fewer is None or fewer.property != found.property


def test_a_replayer_from_an_empty_trace_judges_the_start() -> None:
    """A convergence violation may show on the start state itself (the shrunk trace is empty, or
    only the judge's `Quiesce`): the replayer keeps the start state at least."""
    model = _model()
    judge = Judge(model, initial_state(model), select(kind="safety"), select(kind="convergence"))
    for base in ((), (actions(model, initial_state(model))[0],)):
        replayer = _Replayer(judge, base)
        assert replayer(()) == judge(()) and replayer(base) == judge(base)
