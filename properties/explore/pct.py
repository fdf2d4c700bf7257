"""PCT: probabilistic concurrency testing with random priorities and a few priority change points.

Burckhardt, Kothari, Musuvathi and Nagarakatte ("A Randomized Scheduler with Probabilistic
Guarantees of Finding Bugs", ASPLOS 2010): give each thread a random priority, always run the
highest-priority enabled thread, and at d − 1 steps chosen at random among the first k lower the
running thread's priority below every other. A bug of *depth* d — one that shows whenever d
particular events happen in a particular order, whatever else happens — is then found by one run
with probability at least 1 / (n · k^(d−1)) for n threads; independent runs multiply the chances
(r runs miss it with probability at most (1 − 1/(n·k^(d−1)))^r).

Here the threads are the cluster's *actors* (`actor`): each informer watch (component,
resource), each controller, each scheduler instance, each kubelet, node lifecycle, the user's
workload, the clock, and each kind of fault on each target; n is the number of actors a run gives
a priority (every actor with an enabled action at some step of it: `Outcome.actors`, the largest over
the runs on the engine's line as `n = … actors`). Run i uses depth d = 1 + i mod 3 and
draws everything from `random.Random(seed * 1_000_003 + i)`, so a run is the same in every
process. Three departures from the paper keep runs from stalling in a cluster, where some actors
never finish: the clock, faults and bad luck (a failing probe, memory pressure) drop to the
lowest priority once they acted, so they act again only when nothing else can (time passes when
the cluster is quiet, as in the fair run); when the highest actor has several enabled actions one
is drawn at random; and an actor whose action changed nothing in the store and is enabled again
(a write refused because its cache is stale) yields, like a work queue's back-off. The paper's
theorem is about threads running deterministic code; here an actor with m enabled actions draws
one uniformly, so the bound holds only for a bug whose events are each their actor's one enabled
action, and each step where the bug needs one particular action of m multiplies it by a further
1/m (docs/engines.md, PCT). Faults and time are not covered by the bound: they are sampled as in
the fair run. Safety properties are checked on every
state. A run's k, the steps its change points are drawn among and its length bound, is
`engine.run_length`: `max_depth`, or for odd runs the fair run's length and a quarter when that is
longer (`new_run(seed, index, run_length(config, index))`), so the bound above holds with that k. At
the end of a run (k steps, or nothing enabled) the cluster quiesces and
the convergence properties are judged where its fair continuations settle.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import is_progress
from kubeprop.model.cluster.footprint import actor
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action, Quiesce, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, ExitReason, excused, run_length
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.series import RunSteps, Series, begin_series, run_series, to_end
from kubeprop.properties.explore.shrink import Judge, shrink_within
from kubeprop.properties.explore.slicing import ActiveTimer, Sliced, SliceGen, out_of_time, run_sliced
from kubeprop.properties.registry import Violation

DEFAULT_RUNS = 2000
"""Runs to do when neither a run count nor a budget is given."""
MAX_BUG_DEPTH = 3
"""Run i targets bugs of depth 1 + i mod MAX_BUG_DEPTH."""


def _sticky(act: Action) -> bool:
    """Whether the actor keeps its priority after acting (the control plane's own actions); the
    clock, faults and bad luck drop to the lowest priority instead."""
    return is_progress(act) and not isinstance(act, Tick)


@attrs.define
class Run:
    """One PCT run's scheduler: actor priorities and the change points still to come."""

    rng: random.Random
    depth: int
    change_points: list[int]
    priorities: dict[str, float] = attrs.Factory(dict)
    floor: float = 0.0

    def choose(self, step_index: int, enabled: Sequence[Action]) -> Action:
        """The action to take at `step_index` (1-based) among `enabled`."""
        by_actor: dict[str, list[Action]] = {}
        for act in enabled:
            by_actor.setdefault(actor(act), []).append(act)
        for name in by_actor:
            if name not in self.priorities:
                self.priorities[name] = self.depth + self.rng.random()
        top = max(by_actor, key=lambda n: self.priorities[n])
        if step_index in self.change_points:
            self.priorities[top] = self.depth - 1 - self.change_points.index(step_index) + self.rng.random() * 0.5
            top = max(by_actor, key=lambda n: self.priorities[n])
        options = by_actor[top]
        chosen = options[self.rng.randrange(len(options))]
        if not _sticky(chosen):
            self.demote(top)
        return chosen

    def demote(self, name: str) -> None:
        """Lower an actor below every other (it acts again only when nothing else can)."""
        self.floor -= 1.0
        self.priorities[name] = self.floor

    def retried(self, act: Action) -> None:
        """`act` failed and stays enabled (a write refused for a stale cache): upstream a work
        queue retries with back-off, so the actor yields to the others instead of spinning."""
        self.demote(actor(act))


def new_run(seed: int, index: int, max_steps: int) -> Run:
    """The scheduler of run `index` (depth 1 + index mod 3, change points drawn from its seed)."""
    rng = random.Random(seed * 1_000_003 + index)
    depth = 1 + index % MAX_BUG_DEPTH
    points = sorted(rng.sample(range(1, max_steps + 1), min(depth - 1, max_steps)))
    return Run(rng, depth, points)


@attrs.frozen
class Outcome:
    """One run: its index, the actions taken, the violation (if any)."""

    index: int
    trace: tuple[Action, ...]
    violation: Violation | None
    actors: int = 0
    """The actors the run's scheduler gave a priority (every actor with an enabled action at some
    step): the run's n in the bound."""


def run_once(model: ClusterModel, start: ClusterState, config: EngineConfig, checker: Checker, judge: Judge,
             index: int, deadline: float | None = None) -> Outcome:
    """PCT run `index` from `start`: up to `run_length` steps, then the convergence judgement; a
    run still going at the `time.perf_counter()` `deadline` stops there, unjudged."""
    return to_end(run_steps(model, start, config, checker, judge, index, deadline))[0]


def run_steps(model: ClusterModel, start: ClusterState, config: EngineConfig, checker: Checker, judge: Judge,
              index: int, deadline: float | None = None) -> RunSteps[Outcome]:
    """`run_once` a step at a time (`series.RunSteps`: it yields after each step of the run)."""
    length = run_length(config, index)
    scheduler = new_run(config.seed, index, length)
    flt = config.action_filter
    state, trace = start, list[Action]()
    for i in range(1, length + 1):
        if out_of_time(deadline):
            return Outcome(index, tuple(trace), None, len(scheduler.priorities)), len(trace)
        enabled = [a for a in actions(model, state) if not isinstance(a, Quiesce) and (flt is None or flt(a))]
        if not enabled:
            break
        act = scheduler.choose(i, enabled)
        before = state
        state = step(model, state, act)
        trace.append(act)
        if state.store.revision == before.store.revision and act in actions(model, state):
            scheduler.retried(act)
        found = excused(config.excuse, checker.violation(state), lambda: trace, state)
        if found is not None:
            return Outcome(index, tuple(trace), found, len(scheduler.priorities)), len(trace)
        yield
    if not judge.convergence or out_of_time(deadline):
        return Outcome(index, tuple(trace), None, len(scheduler.priorities)), len(trace)
    violation, tail = attrs.evolve(judge, start=state, deadline=deadline)(())
    violation = excused(config.excuse, violation, lambda: (*trace, *tail))
    return Outcome(index, (*trace, *tail), violation, len(scheduler.priorities)), len(trace) + len(tail)


def _explore(model: ClusterModel, start: ClusterState, config: EngineConfig) -> SliceGen:
    slicer, deadline, config = yield from begin_series(model, start, config)
    timer = slicer.timer
    total = config.run_count(DEFAULT_RUNS)
    judge = Judge.for_config(model, start, config)
    with memoised(model):
        checker = Checker(model, config.safety())
        initial = checker.violation(start)

        most = [0]  # the most actors one run gave a priority (the n of the bound)

        def run(index: int) -> RunSteps[Outcome]:
            outcome, steps = yield from run_steps(model, start, config, checker, judge, index, deadline)
            most[0] = max(most[0], outcome.actors)
            return outcome, steps

        if initial is not None:
            series = Series(0, 0, Outcome(0, (), initial))
        else:
            series = yield from run_series(config, slicer, deadline, total, run)
        stats = EngineStats(timer.seconds(), series.steps, series.runs, depth=run_length(config, 1), actors=most[0])
        if series.failure is None:
            done = total is not None and series.runs >= total
            return EngineResult("pct", ExitReason.RUNS_DONE if done else ExitReason.TIME_BOUND, stats=stats)
        return _report(judge, config, series.failure, stats, timer)


def _report(judge: Judge, config: EngineConfig, failure: Outcome, stats: EngineStats, timer: ActiveTimer
            ) -> EngineResult:
    violation, trace = failure.violation, failure.trace
    assert violation is not None
    if config.shrink and trace:
        shrunk = shrink_within(judge, trace, violation.property, config, timer.began, known=violation)
        stats = shrunk.stats(stats)
        if shrunk.violation is not None:
            violation, trace = shrunk.violation, shrunk.trace
    note = f"run {failure.index} (bug depth {1 + failure.index % MAX_BUG_DEPTH})"
    stats = attrs.evolve(stats, seconds=timer.seconds(), shrunk_from=len(failure.trace), note=note,
                         found_after=stats.seconds)
    return EngineResult("pct", ExitReason.VIOLATION, violation, trace, stats)


def run_pct(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """PCT runs from `start`: `config.runs` of them, or as many as the budget allows; the first
    failing run's trace, delta-debugged within the budget."""
    return run_sliced(_explore(model, start, config), "pct")


def sliced_pct(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same engine, to be run a slice at a time (the portfolio)."""
    return Sliced(_explore(model, start, config), "pct")
