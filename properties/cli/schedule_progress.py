"""The progress `kubeprop schedule` shows on stderr while it works, as `kubeprop check` does.

`--progress lines` (the default off a terminal, e.g. in a CI log): a line when a phase of the run
starts — creating the pods through the API server, building the Z3 encoding, checking, shrinking
an explanation, the one-at-a-time scheduler, the what-ifs — and, within a long phase, a line every
`LOG_EVERY` seconds with the seconds used of the budget and how far the phase got; `kubeprop
schedule: done in N s` at the end. `live` (the default on a terminal): one line rewritten in place
about once a second, cut to the terminal's width. `none`: nothing. The phase is what the run's
`Deadline` says (`kubeprop.properties.scheduling.deadline`); a thread reads it, so a progress line
comes also while Z3 runs a single long check (ctypes lets the thread run during the C call).
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

from kubeprop.properties.cli.live import LOG_EVERY
from kubeprop.properties.scheduling.deadline import Deadline

__all__ = ["PROGRESS_MODES", "ScheduleProgress"]

PROGRESS_MODES = ("auto", "live", "lines", "none")
LIVE_EVERY = 1.0
"""Seconds between two rewrites of the live line."""


def _phase_name(phase: str) -> str:
    """The phase without its counters (`shrinking the explanation with Z3 (a core of 12 so far)`
    is the phase `shrinking the explanation with Z3`)."""
    return phase.split(" (", 1)[0]


class ScheduleProgress:
    """Progress lines about `deadline`'s phase on `err`, from a thread, between `start` and `end`."""

    def __init__(self, mode: str, deadline: Deadline, began: float, budget: float, err: TextIO = sys.stderr
                 ) -> None:
        self.mode = ("live" if err.isatty() else "lines") if mode == "auto" else mode
        self.deadline, self.began, self.budget, self.err = deadline, began, budget, err
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = ""
        self._last = 0.0

    def start(self) -> None:
        """Say the budget and begin reporting (nothing with `--progress none`)."""
        if self.mode == "none":
            return
        self._write_line(f"kubeprop schedule: budget {self.budget:g} s ({self._used():.1f} s used by start-up)")
        self._thread = threading.Thread(target=self._loop, name="kubeprop-schedule-progress", daemon=True)
        self._thread.start()

    def end(self, code: int | None) -> None:
        """Stop reporting; the closing line (a live line is ended first), none when the run was
        cut short by an exception (`code` None: Ctrl-C, or the reader of the output went away)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        if self.mode == "live":
            self.err.write("\n")
        if code is not None:
            self._write_line(f"kubeprop schedule: done in {self._used():.1f} s (exit {code})")

    def _used(self) -> float:
        return time.perf_counter() - self.began

    def text(self) -> str:
        """The progress line for now: seconds used of the budget, the phase and its counters."""
        d = self.deadline
        count = f": {d.done:,} of {d.total:,}" if d.total else ""
        return f"kubeprop schedule: {self._used():.0f} of {self.budget:g} s, {d.phase}{count}"

    def _loop(self) -> None:
        every = LIVE_EVERY if self.mode == "live" else 0.25
        while not self._stop.wait(every):
            self.tick()

    def tick(self) -> None:
        """Report if it is time to (the thread calls it; a test may too)."""
        now = time.perf_counter()
        if self.mode == "live":
            width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
            self.err.write("\r" + self.text()[:width].ljust(width))
            self.err.flush()
            return
        name = _phase_name(self.deadline.phase)
        if name != self._shown or now - self._last >= LOG_EVERY:
            self._shown = name
            self._write_line(self.text())

    def _write_line(self, line: str) -> None:
        self._last = time.perf_counter()
        self.err.write(line + "\n")
        self.err.flush()
