"""Live progress of a running engine, for a terminal or a log: what `EngineConfig.progress` is called with.

A single engine (`kubeprop check --engine NAME`) reports an `EngineProgress` about once a second
(`ENGINE_EVERY`) through a `Ticker`, which reads the clock at most once every `STRIDE` steps, so
that reporting costs nothing measurable and never changes what the engine does; the BFS reports
its own `bfs.SearchStats`. When a search of `discoveries.discover` ends with a violation, a `Found`
says so before the next search (for the other properties) starts from step 0.

The portfolio: first, while the portfolio follows the run a user expects (`expected.compute`), an
`ExpectedProgress` about once a second; then the lanes' `PortfolioProgress`.

The portfolio's lanes (`lanes.py`) run for the whole budget; a user watching a terminal wants to
see that they run, how far they got and whether something was found already (a find is decided
and shrunk only once the lanes before it have caught up). The calling process's lane calls a
`Reporter` after each of its turns, which calls `progress` at most once per `every` seconds with a
`PortfolioProgress`. Worker lanes report nothing themselves: their rounds and steps reach the
calling process with the round messages it already receives. Nothing here changes the search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

__all__ = ["ENGINE_EVERY", "STRIDE", "EngineProgress", "ExpectedProgress", "Found", "PortfolioProgress", "Reporter",
           "Ticker"]

EXPECTED_EVERY = 1.0
"""Seconds between two reports of the expected run's progress (`ExpectedProgress`)."""
ENGINE_EVERY = 1.0
"""Seconds between two reports of a single engine's progress (`EngineProgress`, `Ticker`)."""
STRIDE = 32
"""Steps between two reads of the clock by a `Ticker`: a model step takes tens of microseconds or
more, a read of the clock well under one."""


@attrs.frozen
class EngineProgress:
    """How far a single engine got: the steps it took and the seconds it ran (paused turns not
    counted) in this search, the runs it finished (walk, PCT, Hypothesis examples, perturbed runs,
    the lasso's fair runs; None for an engine without runs), the distinct states it reached and the
    depth of the deepest (None where it does not count them)."""

    steps: int
    seconds: float
    runs: int | None = None
    distinct: int | None = None
    depth: int | None = None


@attrs.frozen
class Found:
    """A search of `discoveries.discover` ended with a violation of `property` after `steps` steps;
    the next search (for the properties not yet violated) counts from 0 again."""

    property: str
    steps: int
    upstream: bool = False
    """The violation is known upstream behaviour: the search for the property goes on past it
    (`discoveries.SearchOn`)."""


class Ticker:
    """Whether a report is due: at most every `every` seconds (default `ENGINE_EVERY`), the
    `clock` read at most once every `stride` steps (`due` is given the engine's step count). A
    Ticker whose `progress` is None is never due."""

    def __init__(self, progress: Callable[[Any], None] | None, every: float | None = None, stride: int = STRIDE,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.progress, self.stride, self.clock = progress, stride, clock
        self.every = ENGINE_EVERY if every is None else every
        self.next = stride
        self.last = clock() if progress is not None else 0.0

    def due(self, steps: int) -> bool:
        """Whether to report now, the engine having taken `steps` steps in all."""
        if self.progress is None or steps < self.next:
            return False
        self.next = steps + self.stride
        now = self.clock()
        if now - self.last < self.every:
            return False
        self.last = now
        return True

    def report(self, what: Any) -> None:
        """Pass `what` on to `progress`."""
        if self.progress is not None:
            self.progress(what)

    def tick(self, steps: int, measure: Callable[[], Any]) -> None:
        """Report `measure()` if a report is due at `steps` steps."""
        if self.due(steps):
            self.report(measure())


@attrs.frozen
class PortfolioProgress:
    """Where a running portfolio stands: the round of its slowest lane, the steps its lanes have
    reported (worker lanes' as of their last round), how many lanes, and the properties its finds
    so far violate (not yet decided: an earlier turn of another lane may still win); `started`,
    when its lanes started (a `time.perf_counter()` value), tells one portfolio run from the next
    (after a violation, `discoveries.discover` runs a new one, counting from round 0 again)."""

    round: int
    steps: int
    lanes: int
    found: tuple[str, ...] = ()
    started: float = 0.0


@attrs.frozen
class ExpectedProgress:
    """How far the run a user expects got while the portfolio follows it, before its lanes start
    (`expected.compute`): its length so far. On a slow scenario that run alone can take most of the
    budget (trial 11, u2-gate/absurd: 5,000 steps in 17–38 s, with no progress line until the lanes
    began)."""

    depth: int


class Reporter:
    """Calls `progress` with a `PortfolioProgress` at most every `every` seconds."""

    def __init__(self, progress: Callable[[Any], None], lanes: int, every: float = 1.0) -> None:
        self.progress, self.lanes, self.every = progress, lanes, every
        self.last = self.started = time.perf_counter()

    def tick(self, round_: int, steps: int, found: Iterable[str]) -> None:
        """After a turn of the calling process's lane: report if `every` seconds have passed."""
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        self.progress(PortfolioProgress(round_, steps, self.lanes, tuple(sorted(set(found))), self.started))
