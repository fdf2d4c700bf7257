"""The progress `kubeprop check` shows while an engine runs: a live line on a terminal, log lines elsewhere.

On a terminal (stderr a TTY) a live line (`LiveLine`); elsewhere — a CI log — one line at the start
and the end of each engine and, for the BFS and the portfolio, a progress line every
`LOG_EVERY` seconds (`LogLines`), never a stream of overwritten lines nor minutes of silence.
`kubeprop check --progress live|lines|none` chooses either (default `auto`: by the TTY).
The line is rewritten in place about once a second (the engine's `EngineConfig.progress`) and
cut to the terminal's width, so that `\\r` keeps overwriting it; it ends with a newline when the
engine is done. For the portfolio it shows the seconds of the budget used and, while it follows
the run a user expects before its lanes start, how long that run is so far; then the slowest lane's
round, the steps the lanes reported and the properties found violated so far (before they are
decided and shrunk: another lane may still find an earlier one); for the BFS its counters. While a
find is shrunk (which can take minutes on a slow scenario), how far the shrinking got.

After a violation `kubeprop check` searches again for the other properties (`discoveries.discover`):
a new portfolio, whose rounds start again from 0. Its line says so (`search 2`), and its steps
are added to the earlier searches' (`steps in all`), so that no counter goes backwards (trial 10:
"round 17, 17,247 steps" at 32 s, then "round 1, 1,517 steps" at 73 s).
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from typing import Any, TextIO

import attrs

from kubeprop.properties.explore.progress import ExpectedProgress, PortfolioProgress
from kubeprop.properties.explore.shrink_clock import ShrinkProgress

__all__ = ["LOG_EVERY", "LiveLine", "LogLines", "Seen", "progress_text"]

LOG_EVERY = 10.0
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

    def observe(self, progress: Any) -> None:
        """Take in every progress report, printed or not: after a shrinking, or from another
        portfolio run (`started`), or with rounds or steps going back, a new search began."""
        if isinstance(progress, ShrinkProgress):
            self.shrunk = True
        if not isinstance(progress, PortfolioProgress):
            return
        other = progress.started != self.started and (self.started is not None or self.shrunk)
        if other or progress.round < self.round or progress.steps < self.steps:
            self.search, self.before = self.search + 1, self.before + self.steps
        self.round, self.steps, self.started, self.shrunk = progress.round, progress.steps, progress.started, False
        self.found.update(dict.fromkeys(progress.found))


def progress_text(engine: str, began: float, budget: float, progress: Any, seen: Seen) -> str:
    """What the engine has done: for the portfolio the seconds of the budget used, the slowest
    lane's round, the steps and the properties found so far (`seen`, which has observed
    `progress`), and after a violation which search this is and the steps of them all; for a
    shrinking, how far it got; for the BFS its counters."""
    used = f"{engine}: {time.perf_counter() - began:.0f} of {budget:.0f} s"
    if isinstance(progress, ShrinkProgress):
        limit = f", at most {progress.limit:.0f} s" if progress.limit is not None else ""
        return (f"{used}, shrinking the find of {progress.property}: {progress.found} → {progress.shortest} "
                f"actions so far, {progress.steps:,} steps replayed in {progress.seconds:.0f} s{limit}")
    if isinstance(progress, ExpectedProgress):
        return (f"{used}, following the run a user expects (the searches around it start from there): "
                f"{progress.depth:,} steps so far")
    if isinstance(progress, PortfolioProgress):
        lanes = f"on {progress.lanes} lane{'s' if progress.lanes != 1 else ''}"
        if seen.search == 1:
            text = f"{used}, round {progress.round}, {progress.steps:,} steps {lanes}"
        else:
            text = (f"{used}, search {seen.search} (for the properties not yet violated), round {progress.round}, "
                    f"{seen.before + progress.steps:,} steps in all {lanes}")
        return text + (f"; found so far: {', '.join(seen.found)}" if seen.found else "")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the BFS's SearchStats
    return (f"{engine}: {progress.states:,} states, {progress.distinct:,} distinct, depth "
            f"{progress.depth}, {progress.states_per_second:,.0f} distinct/s, {rss_mb:,.0f} MB")


class LiveLine:
    """A progress callback for one engine's run (see the module docstring)."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None) -> None:
        self.engine, self.budget, self.out = engine, budget, out or sys.stderr
        self.began = time.perf_counter()
        self.seen = Seen()
        self.width = 0

    def __call__(self, progress: Any) -> None:
        self.seen.observe(progress)
        text = progress_text(self.engine, self.began, self.budget, progress, self.seen)
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
    """A progress callback for a log: a whole line (`  ENGINE: …`) at most every `every` seconds,
    and at the end `COMMAND: ENGINE done in … s`."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None, every: float = LOG_EVERY,
                 command: str = "kubeprop check") -> None:
        self.engine, self.budget, self.out, self.every, self.command = engine, budget, out or sys.stderr, every, command
        self.began = self.last = time.perf_counter()
        self.seen = Seen()

    def __call__(self, progress: Any) -> None:
        self.seen.observe(progress)
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        self.out.write("  " + progress_text(self.engine, self.began, self.budget, progress, self.seen) + "\n")
        self.out.flush()

    def end(self) -> None:
        """The engine is done: say so, with the seconds it took."""
        self.out.write(f"{self.command}: {self.engine} done in {time.perf_counter() - self.began:.1f} s\n")
        self.out.flush()
