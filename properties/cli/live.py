"""The progress `kubeprop check` shows while an engine runs: a live line on a terminal, log lines elsewhere.

On a terminal (stderr a TTY) a live line (`LiveLine`); elsewhere — a CI log — one line at the start
and the end of each engine and, for the BFS and the portfolio, a progress line every
`LOG_EVERY` seconds (`LogLines`), never a stream of overwritten lines nor minutes of silence.
`kubeprop check --progress live|lines|none` chooses either (default `auto`: by the TTY).
The line is rewritten in place about once a second (the engine's `EngineConfig.progress`) and
cut to the terminal's width, so that `\\r` keeps overwriting it; it ends with a newline when the
engine is done. For the portfolio it shows the seconds of the budget used, the slowest lane's
round, the steps the lanes reported and the properties found violated so far (before they are
decided and shrunk: another lane may still find an earlier one); for the BFS its counters.
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from typing import Any, TextIO

from kubeprop.properties.explore.progress import PortfolioProgress

__all__ = ["LOG_EVERY", "LiveLine", "LogLines", "progress_text"]

LOG_EVERY = 10.0
"""Seconds between two progress lines in a log (`LogLines`)."""


def progress_text(engine: str, began: float, budget: float, progress: Any, found: dict[str, None]) -> str:
    """What the engine has done: for the portfolio the seconds of the budget used, the slowest
    lane's round, the steps and the properties found so far (`found`, updated); for the BFS its
    counters."""
    if isinstance(progress, PortfolioProgress):
        found.update(dict.fromkeys(progress.found))
        text = (f"{engine}: {time.perf_counter() - began:.0f} of {budget:.0f} s, "
                f"round {progress.round}, {progress.steps:,} steps on {progress.lanes} "
                f"lane{'s' if progress.lanes != 1 else ''}")
        return text + (f"; found so far: {', '.join(found)}" if found else "")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the BFS's SearchStats
    return (f"{engine}: {progress.states:,} states, {progress.distinct:,} distinct, depth "
            f"{progress.depth}, {progress.states_per_second:,.0f} distinct/s, {rss_mb:,.0f} MB")


class LiveLine:
    """A progress callback for one engine's run (see the module docstring)."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None) -> None:
        self.engine, self.budget, self.out = engine, budget, out or sys.stderr
        self.began = time.perf_counter()
        self.found: dict[str, None] = {}
        self.width = 0

    def __call__(self, progress: Any) -> None:
        text = progress_text(self.engine, self.began, self.budget, progress, self.found)
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
    """A progress callback for a log: a whole line (`  ENGINE: …`) at most every `every` seconds."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None, every: float = LOG_EVERY) -> None:
        self.engine, self.budget, self.out, self.every = engine, budget, out or sys.stderr, every
        self.began = self.last = time.perf_counter()
        self.found: dict[str, None] = {}

    def __call__(self, progress: Any) -> None:
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        self.out.write("  " + progress_text(self.engine, self.began, self.budget, progress, self.found) + "\n")
        self.out.flush()

    def end(self) -> None:
        """The engine is done: say so, with the seconds it took."""
        self.out.write(f"kubeprop check: {self.engine} done in {time.perf_counter() - self.began:.1f} s\n")
        self.out.flush()
