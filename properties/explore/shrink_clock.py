"""The time bound of one shrinking, and whether it cut the shrinking short.

Shrinking is bounded by a count of tests (`EngineConfig.max_shrink_tests`) and by time
(`EngineConfig.shrink_seconds`). Within the count it is deterministic: the same find shrinks to
the same trace in any process. Where the time bound stops it first, the result depends on the
machine's speed and load, so the clock remembers that it did (`cut`) and the report can say so
(`portfolio.shrink_found`)."""

from __future__ import annotations

import time

import attrs


@attrs.define
class ShrinkClock:
    """A `time.perf_counter()` deadline (None: none) and whether a check of it found it passed.
    `share` gives a clock for one phase that ends earlier; its cut is this clock's too."""

    deadline: float | None
    cut: bool = False
    parent: ShrinkClock | None = attrs.field(default=None, repr=False)

    def passed(self, ahead: float = 0.0) -> bool:
        """True (and `cut` from now on) if the deadline is past, or `ahead` seconds from now."""
        if self.deadline is None or time.perf_counter() + ahead < self.deadline:
            return False
        clock: ShrinkClock | None = self
        while clock is not None:
            clock.cut = True
            clock = clock.parent
        return True

    def share(self, fraction: float) -> ShrinkClock:
        """A clock that ends after `fraction` of the time this one has left."""
        if self.deadline is None:
            return ShrinkClock(None, parent=self)
        now = time.perf_counter()
        return ShrinkClock(now + fraction * max(0.0, self.deadline - now), parent=self)

