"""A series of independent runs as a sliced engine: the shared loop of PCT (`pct`) and random walks
in this process (`walk`).

Both engines do run 0, 1, 2, … from the same start state, each run a function of its index (and
the seed), until one run fails, the run count is done, the budget is spent or the portfolio stops
the engine; both pause when a slice is over (`slicing.Slicer`) — within a run as well as between
runs, so that a member of the portfolio keeps to its turns (a run is up to the fair run's length and
a quarter: on FeastFlow one run went 600 steps past a turn of 60–120, a third of the portfolio's
first round) — and fit the run length to the fair run first (`engine.with_fair_length`). What a
run is (a PCT schedule, a swarm walk) and how a failure is reported stay in each engine.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Generic, Protocol, TypeVar

import attrs

from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import EngineConfig, with_fair_length
from kubeprop.properties.explore.progress import EngineProgress
from kubeprop.properties.explore.slicing import ActiveTimer, Limit, Slicer, out_of_time
from kubeprop.properties.registry import Violation


class RunOutcome(Protocol):
    """What one run of a series gives back: its actions and the violation it found, if any."""

    @property
    def trace(self) -> tuple[Action, ...]: ...

    @property
    def violation(self) -> Violation | None: ...


Outcome = TypeVar("Outcome", bound=RunOutcome)


@attrs.frozen
class Series(Generic[Outcome]):
    """Where a series ended: finished runs, steps taken (a run cut by the budget included), and
    the failing run's outcome (None if no run failed)."""

    runs: int
    steps: int
    failure: Outcome | None = None


RunSteps = Generator[None, None, tuple[Outcome, int]]
"""One run of a series, a step at a time: it yields after each step of its run (not of the
convergence judgement at its end) and returns its outcome and the steps it took."""


def to_end(run: RunSteps[Outcome]) -> tuple[Outcome, int]:
    """A run of a series taken in one go: its outcome and the steps it took."""
    while (value := _advance(run)) is None:
        pass
    return value


def _advance(run: RunSteps[Outcome]) -> tuple[Outcome, int] | None:
    """One step of `run`: None, or its outcome and steps once it has ended."""
    try:
        next(run)
    except StopIteration as done:
        value: tuple[Outcome, int] = done.value
        return value
    return None


def begin_series(model: ClusterModel, start: ClusterState, config: EngineConfig
                 ) -> Generator[None, Limit | None, tuple[Slicer, float | None, EngineConfig]]:
    """The opening of a series engine (`slicer, deadline, config = yield from begin_series(…)`):
    wait for the first slice, start the engine's timer (`slicer.timer`), and fit the run length
    to the fair run within the budget's deadline."""
    limit = yield
    slicer = Slicer(ActiveTimer(), limit)
    deadline = config.deadline(slicer.timer.began)
    return slicer, deadline, with_fair_length(model, start, config, deadline)


def run_series(config: EngineConfig, slicer: Slicer, deadline: float | None, total: int | None,
               run: Callable[[int], RunSteps[Outcome]]) -> Generator[None, Limit | None, Series[Outcome]]:
    """Runs `run(0)`, `run(1)`, … (each returns its outcome and the steps it took) until one
    fails, `total` runs are done (None: no count), the `time.perf_counter()` `deadline` passes or
    the slicer is stopped; pausing, when the slice is over, between runs and between two steps of
    a run. A run that the deadline or a stop cut short without a violation is not a finished run
    (its steps count). Each passing run's trace goes to `config.on_run`. With `config.progress`,
    an `EngineProgress` (runs finished, steps) about once a second."""
    runs = steps = 0
    slicer.watch(config.progress, lambda taken: EngineProgress(taken, slicer.timer.seconds(), runs))
    while (total is None or runs < total) and not out_of_time(deadline):
        yield from slicer.pause(steps)
        if slicer.stopped:
            break
        ran = yield from _paused(slicer, steps, run(runs))
        if isinstance(ran, int):  # stopped within the run, after `ran` of its steps
            return Series(runs, steps + ran)
        outcome, taken = ran
        if outcome.violation is None and out_of_time(deadline):
            return Series(runs, steps + taken)
        runs, steps = runs + 1, steps + taken
        if outcome.violation is not None:
            return Series(runs, steps, outcome)
        if config.on_run is not None:
            config.on_run(outcome.trace)
    return Series(runs, steps)


def _paused(slicer: Slicer, before: int, run: RunSteps[Outcome]
            ) -> Generator[None, Limit | None, tuple[Outcome, int] | int]:
    """`run` to its end (its outcome and steps), pausing between two of its steps when the slice
    is over (the series took `before` steps before it); if the slicer was stopped meanwhile, the
    run is abandoned and the steps it took are returned instead."""
    taken = 0
    while (value := _advance(run)) is None:
        taken += 1
        yield from slicer.pause(before + taken)
        if slicer.stopped:
            run.close()
            return taken
    return value
