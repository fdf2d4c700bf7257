"""The progress `kubeprop check` shows while an engine runs: a live line on a terminal, log lines elsewhere.

On a terminal (stderr a TTY) a live line (`LiveLine`); elsewhere — a CI log — one line at the start
and the end of each engine and a progress line every `LOG_EVERY` seconds (`LogLines`), never a
stream of overwritten lines nor minutes of silence. `kubeprop check --progress live|lines|none`
chooses either (default `auto`: by the TTY). Every engine reports about once a second (its
`EngineConfig.progress`); the live line is rewritten then, cut to the terminal's width, so that
`\\r` keeps overwriting it; it ends with a newline when the engine is done. Each line starts with
the seconds of the engine's budget used and left, and says how far it got: for a single engine
its runs, steps and steps per second (`progress.EngineProgress`; the distinct states and the depth
where the engine counts them), for the BFS its counters; for the portfolio, while it follows the
run a user expects before its lanes start, how long that run is so far, then the slowest lane's
round and the steps the lanes reported. Then the properties found violated so far (for the
portfolio before they are decided and shrunk: another lane may still find an earlier one). While
a find is shrunk (which can take minutes on a slow scenario), how far the shrinking got.

After a violation `kubeprop check` searches again for the other properties (`discoveries.discover`):
a new search, whose steps (and a portfolio's rounds) start again from 0. Its line says so (`search
2`), and its steps are added to the earlier searches' (`steps in all`), so that no counter goes
backwards (trial 10: "round 17, 17,247 steps" at 32 s, then "round 1, 1,517 steps" at 73 s).
Every clock read here goes through `clock` (a test passes a fake one).
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import attrs

from kubeprop.properties.explore.progress import EngineProgress, ExpectedProgress, Found, PortfolioProgress
from kubeprop.properties.explore.shrink_clock import ShrinkProgress

__all__ = ["LOG_EVERY", "LiveLine", "LogLines", "Seen", "progress_text"]

Clock = Callable[[], float]

LOG_EVERY = 5.0
"""Seconds between two progress lines in a log (`LogLines`)."""


@attrs.define
class Seen:
    """What the progress lines of one engine's check have seen so far: the properties found, the
    search (1, then one more for each search after a violation), the steps of the searches
    before this one and this one's last round and steps."""

    found: dict[str, None] = attrs.Factory(dict)
    search: int = 1
    before: int = 0
    round: int = 0
    steps: int = 0
    started: float | None = None
    shrunk: bool = False
    ended: int | None = None
    """The steps of the search that ended with a violation (`Found`), while the next has not reported."""

    def observe(self, progress: Any) -> None:
        """Take in every progress report, printed or not: after a shrinking, or from another
        portfolio run (`started`), or with rounds or steps going back, a new search began; after a
        `Found`, the next report is the next search's."""
        if isinstance(progress, Found):
            self.found[f"{progress.property} (known upstream behaviour; searching on past it)"
                       if progress.upstream else progress.property] = None
            self.ended = progress.steps
            return
        if isinstance(progress, ShrinkProgress):
            self.shrunk = True
        if isinstance(progress, PortfolioProgress):
            other = progress.started != self.started and (self.started is not None or self.shrunk)
            if other or progress.round < self.round or progress.steps < self.steps:
                self.search, self.before = self.search + 1, self.before + self.steps
            self.round, self.steps, self.started, self.shrunk = progress.round, progress.steps, progress.started, False
            self.found.update(dict.fromkeys(progress.found))
            self.ended = None
        elif isinstance(progress, EngineProgress) or hasattr(progress, "distinct"):  # (the BFS's SearchStats)
            steps = progress.steps if isinstance(progress, EngineProgress) else progress.states
            if self.ended is not None or steps < self.steps:
                ended = self.steps if self.ended is None else self.ended
                self.search, self.before, self.ended = self.search + 1, self.before + ended, None
            self.steps = steps


def progress_text(engine: str, began: float, budget: float, progress: Any, seen: Seen,
                  now: float | None = None) -> str:
    """What the engine has done (`seen` has observed `progress`) at the `time.perf_counter()` value
    `now`: the seconds of its budget used and left, then for the portfolio the slowest lane's round
    and the steps; for a single engine its runs, steps and steps per second; for the BFS its
    counters; for a shrinking, how far it got; after a violation which search this is and the
    steps of them all; the properties found so far."""
    used = (time.perf_counter() if now is None else now) - began
    head = f"{engine}: {used:.0f} of {budget:.0f} s ({max(0.0, budget - used):.0f} s left)"
    if isinstance(progress, ShrinkProgress):
        limit = f", at most {progress.limit:.0f} s" if progress.limit is not None else ""
        return (f"{head}, shrinking the find of {progress.property}: {progress.found} → {progress.shortest} "
                f"actions so far, {progress.steps:,} steps replayed in {progress.seconds:.0f} s{limit}")
    if isinstance(progress, ExpectedProgress):
        return (f"{head}, following the run a user expects (the searches around it start from there): "
                f"{progress.depth:,} steps so far")
    search = f", search {seen.search} (for the properties not yet violated)" if seen.search > 1 else ""
    if isinstance(progress, PortfolioProgress):
        lanes = _count(progress.lanes, "lane")
        text = f"{head}{search}, round {progress.round}, {_steps(progress.steps, seen, 'steps')} on {lanes}"
    elif isinstance(progress, EngineProgress):
        text = f"{head}{search}{_engine_figures(progress, seen)}"
    else:
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the BFS's SearchStats
        text = (f"{head}{search}, {_steps(progress.states, seen, 'states')}, {progress.distinct:,} distinct, depth "
                f"{progress.depth}, {progress.states_per_second:,.0f} distinct/s, {rss_mb:,.0f} MB")
    return text + (f"; found so far: {', '.join(seen.found)}" if seen.found else "")


def _engine_figures(progress: EngineProgress, seen: Seen) -> str:
    """A single engine's runs, steps, distinct states and depth (where it counts them) and steps per second."""
    runs = "" if progress.runs is None else f", {_count(progress.runs, 'run')}"
    distinct = "" if progress.distinct is None else f", {progress.distinct:,} distinct"
    depth = "" if progress.depth is None else f", depth {progress.depth:,}"
    rate = progress.steps / progress.seconds if progress.seconds > 0 else 0.0
    return f"{runs}, {_steps(progress.steps, seen, 'steps')}{distinct}{depth}, {rate:,.0f} steps/s"


def _steps(steps: int, seen: Seen, what: str) -> str:
    """This search's steps (`what`), or after a violation the steps of every search so far."""
    return f"{steps:,} {what}" if seen.search == 1 else f"{seen.before + steps:,} {what} in all"


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' if n != 1 else ''}"


class LiveLine:
    """A progress callback for one engine's run (see the module docstring)."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None, clock: Clock = time.perf_counter
                 ) -> None:
        self.engine, self.budget, self.out, self.clock = engine, budget, out or sys.stderr, clock
        self.began = clock()
        self.seen = Seen()
        self.width = 0

    def __call__(self, progress: Any) -> None:
        self.seen.observe(progress)
        if isinstance(progress, Found):
            return  # (said by the next line)
        text = progress_text(self.engine, self.began, self.budget, progress, self.seen, self.clock())
        columns = shutil.get_terminal_size((100, 24)).columns
        line = ("  " + text)[:max(20, columns - 1)]
        self.out.write("\r" + line.ljust(self.width))
        self.out.flush()
        self.width = len(line)

    def end(self) -> None:
        """The engine is done: end the line (if one was written)."""
        if self.width:
            self.out.write("\n")
            self.out.flush()
            self.width = 0


class LogLines:
    """A progress callback for a log: a whole line (`  ENGINE: …`) at most every `every` seconds
    (default `LOG_EVERY`), and at the end `COMMAND: ENGINE done in … s`."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None, every: float | None = None,
                 command: str = "kubeprop check", clock: Clock = time.perf_counter) -> None:
        self.engine, self.budget, self.out, self.command = engine, budget, out or sys.stderr, command
        self.every = LOG_EVERY if every is None else every
        self.clock = clock
        self.began = self.last = clock()
        self.seen = Seen()

    def __call__(self, progress: Any) -> None:
        self.seen.observe(progress)
        if isinstance(progress, Found):
            return  # (said by the next line)
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        self.out.write("  " + progress_text(self.engine, self.began, self.budget, progress, self.seen, now) + "\n")
        self.out.flush()

    def end(self) -> None:
        """The engine is done: say so, with the seconds it took."""
        self.out.write(f"{self.command}: {self.engine} done in {self.clock() - self.began:.1f} s\n")
        self.out.flush()
