"""The wall-clock budget of `kubeprop schedule --budget` and the phase it is in.

Z3's `rlimit` bounds the solving deterministically, but not the rest of a run: creating the pods
through the API server, building the encoding, the one-at-a-time scheduler and the what-ifs are
Python, and a Z3 check within its rlimit can still take a minute on a loaded machine. A `Deadline`
is the budget as a point in time (`time.perf_counter`), checked by each of those parts between two
units of their work (`check`) and handed to Z3 as its `timeout` for each check (`remaining`); once
it is past, `BudgetSpent` names the phase that was running, and `kubeprop schedule` answers
"unknown: budget spent" (exit 3). The phase and its counters (`phase`, `done`, `total`) are what
the progress lines print (`kubeprop.properties.cli.schedule_progress`).

An answer the budget cut is the only one that depends on the machine's speed: every answer given
within the budget is the same as without one (the rlimit still decides Z3's "unknown").

Imports: nothing of kubeprop (every module of the package may import it).
"""

from __future__ import annotations

import time

import attrs

__all__ = ["BudgetSpent", "Deadline"]


class BudgetSpent(Exception):
    """The wall-clock budget ran out while `phase` was running."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"the budget ran out while {phase}")
        self.phase = phase


@attrs.define
class Deadline:
    """A budget ending at `end` (`time.perf_counter()` seconds; None: no budget), and the phase of
    the run with its progress (`done` of `total` units; `total` 0 when not counted)."""

    end: float | None = None
    phase: str = "starting"
    done: int = 0
    total: int = 0

    def enter(self, phase: str, total: int = 0) -> None:
        """Start `phase` (counting `total` units of it, if given); BudgetSpent if already past."""
        self.phase, self.done, self.total = phase, 0, total
        self.check()

    def tick(self, units: int = 1) -> None:
        """`units` more of the phase done; BudgetSpent if past the end."""
        self.done += units
        self.check()

    def check(self) -> None:
        """BudgetSpent if the budget has run out."""
        if self.end is not None and time.perf_counter() >= self.end:
            raise BudgetSpent(self.phase)

    def remaining(self) -> float | None:
        """Seconds left (None: no budget); BudgetSpent if none are."""
        if self.end is None:
            return None
        left = self.end - time.perf_counter()
        if left <= 0:
            raise BudgetSpent(self.phase)
        return left

    def passed(self) -> bool:
        """Whether the end has come (a Z3 check that stopped at its timeout)."""
        return self.end is not None and time.perf_counter() >= self.end
