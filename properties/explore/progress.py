"""Live progress of a running portfolio, for a terminal: what `EngineConfig.progress` is called with.

First, while the portfolio follows the run a user expects (`expected.compute`), an
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

__all__ = ["ExpectedProgress", "PortfolioProgress", "Reporter"]

EXPECTED_EVERY = 1.0
"""Seconds between two reports of the expected run's progress (`ExpectedProgress`)."""


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
