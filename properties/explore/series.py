"""A series of independent runs as a sliced engine: the shared loop of PCT (`pct`) and random walks
in this process (`walk`).

Both engines do run 0, 1, 2, … from the same start state, each run a function of its index (and
the seed), until one run fails, the run count is done, the budget is spent or the portfolio stops
the engine; both pause between runs when a slice is over (`engine.Slicer`), and fit the run length
to the fair run first (`engine.with_fair_length`). What a run is (a PCT schedule, a swarm walk)
and how a failure is reported stay in each engine.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Generic, Protocol, TypeVar

import attrs

from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import ActiveTimer, EngineConfig, Limit, Slicer, out_of_time, with_fair_length
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
               run: Callable[[int], tuple[Outcome, int]]) -> Generator[None, Limit | None, Series[Outcome]]:
    """Runs `run(0)`, `run(1)`, … (each returns its outcome and the steps it took) until one
    fails, `total` runs are done (None: no count), the `time.perf_counter()` `deadline` passes or
    the slicer is stopped; pausing between runs when the slice is over. A run that the deadline
    cut short without a violation is not a finished run (its steps count). Each passing run's
    trace goes to `config.on_run`."""
    runs = steps = 0
    while (total is None or runs < total) and not out_of_time(deadline):
        yield from slicer.pause(steps)
        if slicer.stopped:
            break
        outcome, taken = run(runs)
        if outcome.violation is None and out_of_time(deadline):
            return Series(runs, steps + taken)
        runs, steps = runs + 1, steps + taken
        if outcome.violation is not None:
            return Series(runs, steps, outcome)
        if config.on_run is not None:
            config.on_run(outcome.trace)
    return Series(runs, steps)
