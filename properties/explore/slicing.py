"""Engines that pause: the protocol by which a portfolio runs its engines a slice at a time.

An engine written as a generator (`SliceGen`) pauses wherever it calls `Slicer.pause` with its step
count, once the slice its driver gave it (`Limit`: a number of steps, a `time.perf_counter()`
deadline, or `STOP`) is over; `Sliced` drives such a run a slice at a time (the portfolio,
`portfolio.py`), `run_sliced` in one go. `ActiveTimer` counts the seconds an engine actually ran,
paused between its slices; `out_of_time` reads a deadline.

A `Slicer` may also be `watch`ed: where the engine pauses it reports how far the engine got to the
engine's `EngineConfig.progress` (`progress.Ticker`: about once a second), whether the slice is
over or not; nothing else changes.

Imports: `collector` (the safe point between two steps), `progress` (light) and `calls` only;
`engine.EngineResult` for types alone, so `engine` (and every engine) may import it. `engine`
re-exports every name (engines such as `around.py` import them from there).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from kubeprop.properties.calls import OutOfBudget
from kubeprop.properties.explore.collector import safe_point
from kubeprop.properties.explore.progress import Ticker

if TYPE_CHECKING:
    from kubeprop.properties.explore.engine import EngineResult


def out_of_time(deadline: float | None) -> bool:
    """True once `deadline` (a `time.perf_counter()` value, or None for none) has passed."""
    return deadline is not None and time.perf_counter() >= deadline


class ActiveTimer:
    """Wall-clock seconds an engine actually ran (paused while a portfolio runs another one)."""

    def __init__(self) -> None:
        self.began = self.resumed = time.perf_counter()
        self.spent = 0.0
        self.running = True

    def pause(self) -> None:
        if self.running:
            self.spent += time.perf_counter() - self.resumed
            self.running = False

    def resume(self) -> None:
        if not self.running:
            self.resumed, self.running = time.perf_counter(), True

    def seconds(self) -> float:
        """Seconds run so far."""
        return self.spent + (time.perf_counter() - self.resumed if self.running else 0.0)


class Limit:
    """Where a slice of a sliced engine ends: after `steps` more transitions (as the engine counts
    them), at the `time.perf_counter()` value `until`, or at once (`stop`: the engine returns its
    result). Counting steps rather than seconds makes a portfolio's turns, and so its result,
    independent of the machine's speed; `until` enforces the budget."""

    __slots__ = ("base", "last", "steps", "stop", "until")

    def __init__(self, steps: int | None = None, until: float | None = None, stop: bool = False) -> None:
        self.steps, self.until, self.stop = steps, until, stop
        self.base = self.last = 0

    def begin(self, taken: int) -> None:
        """The slice starts with the engine at `taken` steps."""
        self.base = self.last = taken

    def reached(self, taken: int) -> bool:
        """True once the slice is over (the engine has taken `taken` steps in all)."""
        self.last = taken
        return self.stop or (self.steps is not None and taken - self.base >= self.steps) or out_of_time(self.until)

    @property
    def unbounded(self) -> bool:
        """True for a limit that never ends a slice (`run_sliced`'s: a run to the end)."""
        return self.steps is None and self.until is None and not self.stop

    @property
    def used(self) -> int:
        """Steps taken in this slice as far as the engine reported them (an engine that pauses
        only between runs may go past `steps`)."""
        return self.last - self.base


STOP = Limit(stop=True)
"""The slice that asks a sliced engine to stop at once and return its result (how far it got,
exit reason `time-bound`)."""

SliceGen = Generator[None, "Limit | None", "EngineResult"]
"""An engine run that can be paused: it first yields to receive its first slice's `Limit` (None:
run to the end), yields again whenever that is reached to receive the next one, and returns its
`EngineResult`."""


class Slicer:
    """The engine side of the protocol: `limit = yield from slicer.pause(taken)` wherever the
    engine may pause, with its step count."""

    def __init__(self, timer: ActiveTimer, limit: Limit | None) -> None:
        self.timer, self.limit = timer, limit
        self.ticker: Ticker | None = None
        self.measure: Callable[[int], Any] = lambda taken: None
        if limit is not None:
            limit.begin(0)

    def watch(self, progress: Callable[[Any], None] | None, measure: Callable[[int], Any]) -> None:
        """Report `measure(steps taken)` to `progress` (if not None) about once a second, from `pause`."""
        if progress is not None:
            self.ticker, self.measure = Ticker(progress), measure

    @property
    def stopped(self) -> bool:
        """True once asked to stop."""
        return self.limit is not None and self.limit.stop

    def due(self, taken: int) -> bool:
        """True if the engine should pause now."""
        return self.limit is not None and self.limit.reached(taken)

    def pause(self, taken: int) -> Generator[None, Limit | None, None]:
        """Pause (if the slice is over) until the next slice; the timer does not run meanwhile.
        Between two steps: a full garbage collection that is due runs here (`collector.safe_point`),
        and the progress report that is due (`watch`)."""
        safe_point()
        if self.ticker is not None and self.ticker.due(taken):
            self.ticker.report(self.measure(taken))
        if not self.due(taken) or self.stopped:
            return
        self.timer.pause()
        self.limit = yield
        self.timer.resume()
        if self.limit is not None:
            self.limit.begin(taken)


CUT_NOTE = "cut inside a step: a property call was due after the budget ran out; steps as of its last pause"
"""The note of a run a property call past the budget's cutoff ended (`Sliced.run`, `runner.run_engine`)."""


class Sliced:
    """An engine run driven a slice at a time (by the portfolio), called `name` in its result."""

    def __init__(self, gen: SliceGen, name: str = "") -> None:
        self.gen, self.name = gen, name
        self.result: EngineResult | None = None
        self.steps = 0
        """The steps the engine had taken at its last pause (as far as its slices' limits saw)."""
        self.seconds = 0.0
        """Wall-clock seconds spent in its slices."""
        next(gen)

    def run(self, limit: Limit | None) -> EngineResult | None:
        """Run one slice (None: to the end); the result once the engine has finished, else None.
        A property call refused by the budget's cutoff (`calls.OutOfBudget`) ends the run here,
        `time-bound`, with the steps it had taken at its last pause (the step under way concluded
        nothing) and no other figure (`CUT_NOTE`)."""
        if self.result is None:
            began = time.perf_counter()
            try:
                self.gen.send(limit)
            except StopIteration as stop:
                self.result = stop.value
            except OutOfBudget:
                self.result = self._cut(time.perf_counter() - began, limit)
            self.seconds += time.perf_counter() - began
            if limit is not None:
                self.steps = max(self.steps, limit.last)
        return self.result

    def _cut(self, seconds: float, limit: Limit | None) -> EngineResult:
        from kubeprop.properties.explore.engine import EngineResult, EngineStats, ExitReason

        steps = max(self.steps, 0 if limit is None else limit.last)
        stats = EngineStats(self.seconds + seconds, steps, note=CUT_NOTE)
        return EngineResult(self.name, ExitReason.TIME_BOUND, stats=stats)

    def stop(self) -> EngineResult:
        """Stop the run now and return its result (`time-bound` unless it had finished)."""
        found = self.run(STOP)
        while found is None:  # an engine between two slices takes one more turn to see STOP
            found = self.run(STOP)
        return found

    def close(self) -> None:
        """Abandon the run (closes the generator)."""
        self.gen.close()


def run_sliced(gen: SliceGen, name: str = "") -> EngineResult:
    """Run a sliced engine (called `name`) to its end in one go."""
    sliced = Sliced(gen, name)
    result = sliced.run(Limit())  # (a limit that never ends a slice: it sees the steps at each pause)
    while result is None:  # (only a cut ends a slice of an unlimited run)
        result = sliced.run(Limit())
    return result
