"""The live progress line `kubeprop check` keeps on a terminal while an engine runs.

Only on a terminal (stderr a TTY): a CI log gets the result, not a stream of overwritten lines.
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

__all__ = ["LiveLine"]


class LiveLine:
    """A progress callback for one engine's run (see the module docstring)."""

    def __init__(self, engine: str, budget: float, out: TextIO | None = None) -> None:
        self.engine, self.budget, self.out = engine, budget, out or sys.stderr
        self.began = time.perf_counter()
        self.found: dict[str, None] = {}
        self.width = 0

    def __call__(self, progress: Any) -> None:
        if isinstance(progress, PortfolioProgress):
            self.found.update(dict.fromkeys(progress.found))
            text = (f"{self.engine}: {time.perf_counter() - self.began:.0f} of {self.budget:.0f} s, "
                    f"round {progress.round}, {progress.steps:,} steps on {progress.lanes} "
                    f"lane{'s' if progress.lanes != 1 else ''}")
            if self.found:
                text += f"; found so far: {', '.join(self.found)}"
        else:  # the BFS's SearchStats
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            text = (f"{self.engine}: {progress.states:,} states, {progress.distinct:,} distinct, depth "
                    f"{progress.depth}, {progress.states_per_second:,.0f} distinct/s, {rss_mb:,.0f} MB")
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
