"""Delta debugging: shorten a failing trace to a 1-minimal one.

`ddmin` is delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing
Input", IEEE TSE 2002) in the form that suits replays sharing prefixes: complements only, blocks
deleted from the end backwards, each as long as it can be (Hypothesis' adaptive deletion), until
a whole pass deletes nothing, so the result is 1-minimal: removing any one item makes the test
pass. `shrink_trace` applies it to cluster traces, in two rounds. In the first, a candidate stands for
the run of its actions that are enabled at their turn (the others are skipped), so one test drops
an action together with everything only it enabled; in the second, from the shortest run the first
found, a candidate counts only if every action is enabled when it is replayed from the start state
(a watch delivery as the next event of its watch, whatever its revision: `enabled_as`). Either way
it fails only if the first violation on the way (safety on every state, then convergence where the
fair continuation settles) is of the same property, and the trace reported is the run replayed:
the actions taken, with the revisions they met.

A test costs the steps it replays: each candidate is replayed from the longest prefix it shares
with the shortest failing trace so far, whose states are kept from the replay that found it
(`_Replayer`); a safety violation ends a replay at once, and so does (strict round) an action not
enabled; a candidate ending in a state judged before in the same shrinking gets its verdict for
no fair continuation (`Judge.verdicts`). Measured on FeastFlow's finds (one lane, seed 0, shrunk to
the end; `benchmarks/bench_shrink.py`), against the twelfth round: a quarter to a half of the tests
and 15–75% less CPU time for the same lengths (dual-scheduler 876 tests → 264, 557 → 48 steps
either way; endpoints-stale-cache 1,606 → 322, 529 → 56; endpoints-liveness 211 → 22 where it was
21). A convergence find's tests are mostly its fair continuations (`settled_violation`): 70–80% of
the steps replayed for nodelifecycle-crash and endpoints-stale-cache.

Shrinking is bounded by those steps — every step replayed, generated or judged, fair
continuations included, counted on a `ShrinkClock` (`Judge.meter`) — so that it stops at the same
test on any machine; the clock only keeps it within the budget (`shrink_within`, `shrink_clock`),
as a hard limit: a replay or a fair continuation still running at the deadline is abandoned
(`shrink_clock.TimeUp`), and the shortest failing trace found before it stands.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.footprint import actor
from kubeprop.model.state.actions import Action, Quiesce
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import OutOfBudget
from kubeprop.properties.convergence import settled_judgement
from kubeprop.properties.explore.engine import EngineConfig, EngineStats, Excuse, excused
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.shrink_choices import Outcome, shrink_choices
from kubeprop.properties.explore.shrink_clock import ShrinkClock, ShrinkProgress
from kubeprop.properties.explore.shrink_enabled import enabled_as, enabled_in, is_enabled
from kubeprop.properties.registry import Property, Violation

T = TypeVar("T")
__all__ = ["Judge", "Shrunk", "ddmin", "enabled_as", "shrink_trace", "shrink_within"]


class _Budget(Exception):
    """Raised inside `ddmin` when the test budget is spent."""


def ddmin(items: Sequence[T], fails: Callable[[tuple[T, ...]], bool], max_tests: int | None = None,
          clock: ShrinkClock | None = None, normalize: Callable[[tuple[T, ...]], tuple[T, ...]] | None = None
          ) -> tuple[T, ...]:
    """A 1-minimal failing subsequence of `items` (which must fail), by deleting blocks from the
    end backwards (`_deletions`). `fails` is memoised; with `max_tests` or a `clock`
    (`ShrinkClock`), the smallest failing sequence found so far is returned once that many
    distinct candidates were tried or its deadline passed (`fails` may also give up by raising
    `_Budget`). `normalize`, if given, maps each failing candidate the search goes on from to an
    equivalent one no longer, with the same items before the deleted block (a trace to the actions
    its replay took)."""
    memo: dict[tuple[T, ...], bool] = {}

    def test(candidate: tuple[T, ...]) -> bool:
        if candidate not in memo:
            if max_tests is not None and len(memo) >= max_tests:
                raise _Budget
            if clock is not None and clock.passed():
                raise _Budget
            memo[candidate] = fails(candidate)
        return memo[candidate]

    best = tuple(items)
    same: Callable[[tuple[T, ...]], tuple[T, ...]] = normalize or (lambda c: c)
    try:
        if test(()):
            return ()
        best = _deletions(best, test, same)
    except _Budget:
        best = min((c for c, f in memo.items() if f), key=len, default=best)
    return best


def _deletions(current: tuple[T, ...], test: Callable[[tuple[T, ...]], bool],
               normalize: Callable[[tuple[T, ...]], tuple[T, ...]]) -> tuple[T, ...]:
    """Passes over `current` from its end to its start, each trying to delete the item before
    position `end`; where that still fails, the longest block ending there that can go (doubling
    its length, then bisecting: Hypothesis' adaptive deletion, MacIver and Donaldson, ECOOP 2020)
    goes at once. Until a whole pass deletes nothing: the result is then 1-minimal.

    This is delta debugging with complements only and no restart after a success (Hodován and
    Kiss, "Practical Improvements to the Minimizing Delta Debugging Algorithm", ICSOFT 2016),
    ordered for replays that share prefixes (`_Replayer`): a candidate differs from the current
    trace only from position `end - k` on, and going backwards a success never changes what lies
    before the next position tried. On FeastFlow's finds it takes a third of the tests of Zeller
    and Hildebrandt's ddmin with its single-removal pass (dual-scheduler 661 → 190, sts-split-brain
    314 → 80, counted in this pass only) for results as short (`benchmarks/bench_shrink.py`)."""
    while True:
        changed = False
        end = len(current)
        while end > 0:
            if not test(current[:end - 1] + current[end:]):
                end -= 1
                continue
            good, bad = 1, 2  # deleting `good` items before `end` fails; `bad` (if <= end) untried
            while bad <= end and test(current[:end - bad] + current[end:]):
                good, bad = bad, 2 * bad
            bad = min(bad, end + 1)
            while bad - good > 1:
                middle = (good + bad) // 2
                if test(current[:end - middle] + current[end:]):
                    good = middle
                else:
                    bad = middle
            current, changed = normalize(current[:end - good] + current[end:]), True
            end = min(end - good, len(current))
        if not changed:
            return current


@attrs.frozen
class Judge:
    """Replays candidate traces of one model and says which property (if any) they violate."""

    model: ClusterModel
    start: ClusterState
    safety: tuple[Property, ...]
    convergence: tuple[Property, ...] = ()
    settle_steps: int = 5000
    settle_ticks: int = 100
    deadline: float | None = None
    """A `time.perf_counter()` value: a fair continuation still running then is cut and proves
    nothing (the judgement is None), so a judgement never overruns an engine's budget."""
    skip_disabled: bool = False
    """Leave out an action not enabled at its turn (the candidate stands for the run of those that
    are) instead of rejecting the candidate: delta debugging then removes an action together with
    the ones only it enabled, in one test, where the strict judge rejects every candidate that
    keeps one of them. The trace shown is always the actions taken."""
    meter: ShrinkClock | None = attrs.field(default=None, eq=False, repr=False)
    """Counts the steps the judge replays and judges (the fair continuations' too), for
    shrinking's bound (`ShrinkClock.spend`); None: nothing counts them."""
    verdicts: dict[ClusterState, Violation | None] | None = attrs.field(default=None, eq=False, repr=False)
    """The convergence verdicts this judge (and the judges evolved from it) reached, by the state
    judged: a candidate that ends in a state judged before gets that verdict for no steps
    (`shrink_trace` gives each shrinking its own; None: every verdict is judged). Keyed by the
    state itself (equality decides, never a hash value): the same shrinking gives the same result
    in any process."""
    excuse: Excuse | None = attrs.field(default=None, eq=False, repr=False)
    """Known upstream behaviour the search goes on past (`EngineConfig.excuse`): a candidate that
    shows only such a violation shows none, so a user's violation never shrinks into the known race."""
    checker: Checker = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "checker", Checker(self.model, self.safety))

    @classmethod
    def for_config(cls, model: ClusterModel, start: ClusterState, config: EngineConfig) -> Judge:
        """The judge an engine shrinks its failing runs with: `config`'s safety and convergence
        properties and settling bounds, no deadline of its own."""
        return cls(model, start, config.safety(), config.convergence_properties(), config.settle_steps,
                   config.settle_ticks, excuse=config.excuse)

    def __call__(self, trace: Sequence[Action]) -> tuple[Violation | None, tuple[Action, ...]]:
        """The first violation replaying `trace` and the trace that shows it (cut at a safety
        violation; ending with `Quiesce` when one was taken for the convergence check). A trace
        with an action not enabled at its turn (unless `skip_disabled`), or with no violation,
        gives (None, ())."""
        return self.judge_from(trace, 0, self.start)

    def judge_from(self, trace: Sequence[Action], at: int, state: ClusterState, done: Sequence[Action] | None = None,
                   states: list[ClusterState] | None = None) -> tuple[Violation | None, tuple[Action, ...]]:
        """`self(trace)`, given that `trace[:at]` leads from the start to `state` with no safety
        violation on the way, taking the actions `done` (default `trace[:at]`; they differ in the
        revisions of deliveries: `enabled_as`). `states`, if given, holds the states along `done`
        (from the start, ending with `state`) and gets the state after each action taken appended,
        so that a caller can go on from any of them without replaying (`_Replayer`)."""
        taken_list = list(trace[:at] if done is None else done)
        for act in trace[at:]:
            taking = enabled_in(self.model, state, act)
            if taking is None:
                if self.skip_disabled:
                    continue
                return None, ()
            state = self._step(state, taking)
            taken_list.append(taking)
            if states is not None:
                states.append(state)
            found = excused(self.excuse, self.checker.violation(state), lambda: taken_list, state)
            if found is not None:
                return found, tuple(taken_list)
        if not self.convergence:
            return None, ()
        taken = tuple(taken_list)
        if is_enabled(self.model, state, Quiesce()):
            state = self._step(state, Quiesce())
            taken = (*taken, Quiesce())
            if states is not None:
                states.append(state)
            found = excused(self.excuse, self.checker.violation(state), lambda: taken, state)
            if found is not None:
                return found, taken
        found = excused(self.excuse, self._settled(state), lambda: taken)
        return (found, taken) if found is not None else (None, ())

    def _settled(self, state: ClusterState) -> Violation | None:
        """The convergence verdict on `state` (`convergence.settled_judgement`), its steps counted
        (`meter`) unless this shrinking judged `state` before (`verdicts`)."""
        if self.verdicts is not None and state in self.verdicts:
            return self.verdicts[state]
        found, steps = settled_judgement(self.model, state, self.convergence, max_steps=self.settle_steps,
                                         max_ticks=self.settle_ticks, deadline=self.deadline, remember_runs=True)
        if self.meter is not None:
            self.meter.spend(steps)  # (`TimeUp` if the deadline passed: nothing is remembered)
        if self.verdicts is not None and (self.deadline is None or time.perf_counter() < self.deadline):
            self.verdicts[state] = found  # (a continuation the deadline cut proves nothing)
        return found

    def _step(self, state: ClusterState, act: Action) -> ClusterState:
        """One step of a replay, counted (`meter`)."""
        if self.meter is not None:
            self.meter.spend(1)
        return step(self.model, state, act)

    def states(self, trace: Sequence[Action]) -> list[ClusterState]:
        """The states along `trace` from the start (as far as its actions are enabled)."""
        return self.replayed(trace)[0]

    def replayed(self, trace: Sequence[Action]) -> tuple[list[ClusterState], list[Action]]:
        """The states along `trace` from the start and the actions taken (`enabled_as`), as far as
        its actions are enabled."""
        out, taken = [self.start], []
        for act in trace:
            done = enabled_in(self.model, out[-1], act)
            if done is None:
                break
            out.append(self._step(out[-1], done))
            taken.append(done)
        return out, taken


class _Replayer:
    """Judges candidates of one shrinking, replaying each from the longest prefix it shares with
    the shortest failing trace found so far (whose states are kept): ddmin's candidates mostly
    differ from it only after some point. The states of a failing candidate are those of its
    replay, kept as it runs: moving on to a shorter trace costs no replay of it."""

    def __init__(self, judge: Judge, base: tuple[Action, ...]) -> None:
        self.judge = judge
        states, taken = judge.replayed(base[:-1])  # the last state is the violating one
        self.rebase(base, states, taken)

    def rebase(self, base: tuple[Action, ...], states: Sequence[ClusterState],
               taken: Sequence[Action] | None = None) -> None:
        """Go on from `base`, given the states along it from the start (as far as its actions are
        enabled; the last state, the violating one, is never needed) and the actions taken to
        them (default: `base`'s own)."""
        self.base, self.base_states = base, list(states[:max(1, len(base))])  # (the start at least)
        self.base_taken = tuple(base if taken is None else taken)

    def __call__(self, candidate: tuple[Action, ...]) -> tuple[Violation | None, tuple[Action, ...]]:
        """The candidate's judgement; `self.last_states` the states of its replay."""
        limit = min(len(candidate), len(self.base_states) - 1)
        at = 0
        while at < limit and candidate[at] == self.base[at]:
            at += 1
        self.last_states = self.base_states[:at + 1]
        return self.judge.judge_from(candidate, at, self.base_states[at], self.base_taken[:at], self.last_states)


def shrink_trace(judge: Judge, trace: Sequence[Action], prop: str, max_steps: int | None = None,
                 deadline: float | None = None, known: Violation | None = None, clock: ShrinkClock | None = None
                 ) -> tuple[Violation | None, tuple[Action, ...]]:
    """A 1-minimal trace still violating property `prop` (first), and its violation; the input
    itself (judged) if it does not violate `prop`. Once `max_steps` steps were replayed and
    judged (`ShrinkClock`), or at the `time.perf_counter()` `deadline`, the shrinking stops with
    the shortest failing trace found so far (then not necessarily 1-minimal). `known`: the
    violation `trace` is already known to end in (as the judge would show it: cut at a safety
    violation, ending with its `Quiesce` for a convergence one), which saves judging it. A `clock`
    (instead of `max_steps` and `deadline`) also tells the caller the steps spent and which bound
    stopped the shrinking, if one did (`ShrinkClock.bounded`: the same in any process;
    `ShrinkClock.cut`: the result then depends on the machine's speed).

    First the run's choices shrink (`shrink_choices`). Then, with candidates judged as runs of
    their enabled actions (see the module), two cheap passes take the bulk off long traces: for a
    convergence violation, the shortest prefix whose fair continuation still fails (binary search:
    the continuation does what the rest of the trace did, if the rest was fair); then, actor by
    actor (`footprint.actor`: a controller, an informer watch, a kubelet…), all of its actions at
    once; then delta debugging. Last, delta debugging with strict candidates (every action enabled
    at its turn) makes the result 1-minimal as a run."""
    clock = clock if clock is not None else ShrinkClock(deadline, max_steps)
    judge = attrs.evolve(judge, meter=clock, deadline=_earlier(judge.deadline, clock.deadline), verdicts={})
    found: Violation | None = known
    shown = tuple(trace)
    if known is None or known.property != prop:
        try:
            found, shown = judge(trace)
        except OutOfBudget:  # not judged before the deadline (or `TimeUp`): nothing to shrink, nor to report
            clock.cut_short()
            return None, shown
    if found is None or found.property != prop:
        return found, shown
    safety = any(p.name == prop for p in judge.safety)
    if safety:
        # A safety violation shows on the trace itself (`shown` ends with the `Quiesce` the judge
        # took, if any): candidates need no convergence judgement, the costly part of a replay.
        judge = attrs.evolve(judge, convergence=())
    outcomes: list[Outcome] = [(found, shown)]
    try:
        _passes(judge, shown, prop, clock, outcomes, safety)
    except _Budget:  # a bound stopped the passes: the shortest so far stands
        pass
    except OutOfBudget:  # (`TimeUp` included) likewise, the deadline or the budget's cutoff of property calls
        clock.cut_short()
    return min((o for o in outcomes if _failing(o[0], prop)), key=lambda o: len(o[1]))


def _passes(judge: Judge, shown: tuple[Action, ...], prop: str, clock: ShrinkClock, outcomes: list[Outcome],
            safety: bool) -> None:
    """The passes of `shrink_trace` over `shown` (which violates `prop`, first; a safety property
    if `safety`), each failing outcome added to `outcomes`; `_Budget` or `TimeUp` when a bound
    stops them."""
    best = shown
    shorter = shrink_choices(judge, shown, prop, clock)
    if shorter is not None:
        outcomes.append(shorter)
        best = shorter[1]
        clock.root.shortest = min(clock.root.shortest or len(best), len(best))
    loose = _Tests(attrs.evolve(judge, skip_disabled=True), best, prop, clock, outcomes)
    if not safety:
        best = _shortest_prefix(best, loose.fails, clock)
    best = _without_actors(best, loose.fails, clock)
    best = loose.shown(ddmin(best, loose.fails, None, clock, loose.shown))
    strict = _Tests(judge, best, prop, clock, outcomes, loose.longest if loose.tests else None)
    ddmin(best, strict.fails, None, clock, strict.shown)


def _earlier(first: float | None, second: float | None) -> float | None:
    """The earlier of two deadlines (None: none)."""
    return second if first is None else first if second is None else min(first, second)


@attrs.frozen
class Shrunk:
    """What shrinking a find within an engine's bounds gave (`shrink_within`): the violation and
    trace to report, the steps it replayed and judged, the step bound when that stopped it
    before its end (`bound`; None: it did not), and the seconds it took (`seconds`) and, when
    the budget's clock cut it, the same (`cut`; None: it did not)."""

    violation: Violation | None
    trace: tuple[Action, ...]
    steps: int
    bound: int | None
    cut: float | None
    seconds: float
    shared: bool = False
    """The clock that cut it was its share of the budget (`EngineConfig.shrink_share`)."""

    def stats(self, stats: EngineStats) -> EngineStats:
        """`stats` with this shrinking's figures (`EngineStats.shrink_steps` …)."""
        return attrs.evolve(stats, shrink_steps=self.steps, shrink_bound=self.bound, shrink_cut=self.cut,
                            shrink_shared=self.shared)


def shrink_within(judge: Judge, trace: Sequence[Action], prop: str, config: EngineConfig, began: float,
                  known: Violation | None = None) -> Shrunk:
    """`shrink_trace` as an engine shrinks its find: at most `config.max_shrink_steps` steps, and
    never past the budget (counted from `began`, a `time.perf_counter()` value) — nor past
    `config.shrink_share` of what is left of it (`shrink_clock.SHRINK_SHARE`). With
    `config.progress`, a `ShrinkProgress` about once a second."""
    shrinking = time.perf_counter()
    deadline = config.deadline(began)
    shared = deadline is not None and config.shrink_share < 1.0
    if deadline is not None and shared:
        deadline = shrinking + config.shrink_share * max(0.0, deadline - shrinking)
    report = None if config.progress is None else _reporter(config.progress, prop, len(trace), deadline, shrinking)
    clock = ShrinkClock(deadline, config.max_shrink_steps, report=report, shortest=len(trace))
    found, shown = shrink_trace(judge, trace, prop, known=known, clock=clock)
    seconds = time.perf_counter() - shrinking
    return Shrunk(found, shown, clock.spent, clock.max_steps if clock.bounded and not clock.cut else None,
                  seconds if clock.cut else None, seconds, shared and clock.cut)


def _reporter(progress: Callable[[ShrinkProgress], None], prop: str, found: int, deadline: float | None,
              began: float) -> Callable[[ShrinkClock], None]:
    """A `ShrinkClock.report` that tells `progress` how far the shrinking of a find of `prop`
    (`found` actions long) got."""
    limit = None if deadline is None else deadline - began

    def report(clock: ShrinkClock) -> None:
        progress(ShrinkProgress(prop, found, clock.shortest, clock.spent, time.perf_counter() - began, limit))

    return report


class _Tests:
    """One judge's verdicts on the candidates of a shrinking (memoised), each replayed from the
    longest prefix it shares with the shortest failing trace so far (`_Replayer`); the failing
    outcomes are added to `outcomes`. `fails` gives up (`_Budget`) once the clock's steps are
    spent, or when the next test would likely end after its deadline: after the longest test so
    far (`longest`), or before the first, after as long as replaying the base took — a first test
    replays at most as much and judges a continuation, and on a slow scenario one test can take
    longer than the budget has left (trial 11: 5,000 steps, 20 s). A test that still runs at the
    deadline is abandoned all the same (`shrink_clock.TimeUp`).

    `shrink_trace` runs delta debugging twice: first with a judge that skips the actions a
    candidate leaves disabled (an action and what only it enabled go in one test: long traces
    shrink fast), then from the shortest trace that found, with the strict judge (every action
    enabled at its turn), so the result is 1-minimal as a run."""

    def __init__(self, judge: Judge, base: tuple[Action, ...], prop: str, clock: ShrinkClock,
                 outcomes: list[Outcome], longest: float | None = None) -> None:
        began = time.perf_counter()
        self.replay, self.prop, self.clock, self.outcomes = _Replayer(judge, base), prop, clock, outcomes
        self.memo: dict[tuple[Action, ...], Outcome] = {}
        self.longest = time.perf_counter() - began if longest is None else longest
        """The seconds of the longest test so far (at first: an estimate, see the class)."""
        self.tests = 0

    def fails(self, candidate: tuple[Action, ...]) -> bool:
        """True if `candidate` violates the property first."""
        if candidate not in self.memo:
            if self.clock.passed(ahead=self.longest):
                raise _Budget  # the next test would likely end after the deadline
            began = time.perf_counter()
            outcome = self.memo[candidate] = self.replay(candidate)
            took = time.perf_counter() - began
            self.longest = took if self.tests == 0 else max(self.longest, took)  # (the estimate, measured)
            self.tests += 1
            if _failing(outcome[0], self.prop):
                self.outcomes.append(outcome)
                if len(outcome[1]) < len(self.replay.base):
                    self.replay.rebase(outcome[1], self.replay.last_states)
                    self.clock.root.shortest = min(self.clock.root.shortest, len(outcome[1]))
        return _failing(self.memo[candidate][0], self.prop)

    def shown(self, candidate: tuple[Action, ...]) -> tuple[Action, ...]:
        """The actions a failing candidate's replay took, where they are fewer (a trace the judge
        cut at a safety violation, or whose disabled actions it skipped); else `candidate` (the
        judge may add a `Quiesce`: delta debugging must never go on from a longer one)."""
        outcome = self.memo.get(candidate)
        return outcome[1] if outcome is not None and 0 < len(outcome[1]) < len(candidate) else candidate


def _failing(violation: Violation | None, prop: str) -> bool:
    return violation is not None and violation.property == prop


def _check_time(clock: ShrinkClock) -> None:
    if clock.passed():
        raise _Budget


def _shortest_prefix(trace: tuple[Action, ...], fails: Callable[[tuple[Action, ...]], bool],
                     clock: ShrinkClock) -> tuple[Action, ...]:
    """The shortest failing prefix found by binary search (the judge quiesces by itself)."""
    body = trace[:-1] if trace and isinstance(trace[-1], Quiesce) else trace
    low, high = 0, len(body)  # body[:high] fails (the whole trace did, once quiesced)
    if not fails(body):
        return trace
    while low < high:
        _check_time(clock)
        middle = (low + high) // 2
        if fails(body[:middle]):
            high = middle
        else:
            low = middle + 1
    return body[:high]


def _without_actors(trace: tuple[Action, ...], fails: Callable[[tuple[Action, ...]], bool],
                    clock: ShrinkClock) -> tuple[Action, ...]:
    """Drop every action of one actor at once, for each actor (the busiest first), while it fails."""
    counts: dict[str, int] = {}
    for act in trace:
        counts[actor(act)] = counts.get(actor(act), 0) + 1
    for name in sorted(counts, key=lambda n: (-counts[n], n)):
        _check_time(clock)
        candidate = tuple(a for a in trace if actor(a) != name)
        if candidate != trace and fails(candidate):
            trace = candidate
    return trace
