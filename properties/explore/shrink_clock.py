"""The bounds of one shrinking — a count of steps, and the clock — and which of them cut it short.

Shrinking is bounded by the work it does: the model transitions (steps) it replays and judges —
each candidate's replay, the runs its choices generate (`shrink_choices`) and the fair
continuations of its convergence judgements (`convergence.settled_judgement`; a verdict
remembered from before counts the steps it took then) — at most `EngineConfig.max_shrink_steps`.
Counted so, the bound falls at the same test on any machine: the same find shrinks to the same
trace in any process, however fast. A count of *tests* could not do that fairly: a test costs
from one step to thousands (0.03–150 ms), so a count right for small finds cut large ones early.
Shrinking checks the count before each test (and at each step of a run the pass over choices
generates), so it may end up to one test past it, at the same place on every machine.

The clock is only the outer safety limit: the budget of the engine's call (`--budget`), so that
shrinking never outlasts it — or, while other properties remain to be searched for, its share of
what is left of it (`SHRINK_SHARE`). Where the clock stops shrinking first, the result depends on
the machine's speed and load, so the clock remembers that it did (`cut`) and the report and the
counterexample file say so (`shrink_note`): the trace is then a valid, replayable counterexample
of the same violation, only not a minimal one. The clock is a hard limit: besides the check before
each test, every step counted (`spend`) reads it, and a test still running at the deadline is
abandoned at once (`TimeUp`), its verdict unknown — trial 11: a slow scenario's find, made 1 s
before the end of a 45 s budget, was replayed for 20 s and judged for 36 s more by a first test
that nothing stopped.

A clock may also `report` how far the shrinking got about once a second (`ShrinkProgress`), for the
progress lines of `kubeprop check`: a slow scenario's shrinking can take minutes."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from kubeprop.properties.calls import OutOfBudget

SHRINK_SHARE = 0.5
"""The share of the budget left when a find is made that shrinking it may take while other
properties remain to be searched for (`EngineConfig.shrink_share`, set by `discoveries.discover`):
half, so that the search for the others keeps at least half of what was left at each find, and
their "held" rests on more than the run that found the first violation (trial 10, s2c: a find made
2.1 s into a 115 s budget was shrunk for 112 s; five of the portfolio's members never started, and
sixteen properties read "held (bounded)" on the fair run alone). Half is also enough for the
usual find: shrinking to the step bound takes 10–40 s (`MAX_SHRINK_STEPS`), about half of the
default one-minute budget; a slow scenario's shrinking stops at its share and says so. Where
nothing else is left to search for (the last property, `kubeprop check --first`, one engine run
on its own), shrinking may take all that is left."""

REPORT_EVERY = 1.0
"""Seconds between two reports of a shrinking's progress (`ShrinkClock.report`)."""


@attrs.frozen
class ShrinkProgress:
    """How far a shrinking got, for a progress line: the property, the length of the trace found
    and of the shortest failing one so far, the steps replayed and judged, the seconds it has run
    and the most it may run (None: no time bound)."""

    property: str
    found: int
    shortest: int
    steps: int
    seconds: float
    limit: float | None

MAX_SHRINK_STEPS = 100_000
"""The default of `EngineConfig.max_shrink_steps`: the steps shrinking one find may replay and
judge. The catalogue's finds (docs/catalogue.md, from each scenario's initial state, the default
strategy, seed 0) shrink to their end in 40–14,781 steps on the user scenarios, 323–3,316 for the
users' own controllers, and 72–65,140 on FeastFlow when measured in the fourteenth round
(endpoints-stale-cache the most, then nodelifecycle-crash 47,803 and endpoints-terminating 21,299;
`benchmarks/bench_shrink.py --rows --to-the-end`). The model has grown since: in the twenty-ninth
round nodelifecycle-crash took 201,111 steps to its end (204 actions) and endpoints-stale-cache
115,354 (249), so those two now stop at the bound (221 and 249 actions) and the report says so. A
step of shrinking costs about 0.1–0.4 ms here, so the bound is reached in 10–40 s: within the
default budget of a minute; a shorter budget's clock may cut it first (the report says so)."""

class TimeUp(OutOfBudget):
    """Raised by `ShrinkClock.spend` when a step is counted after the deadline: the test running
    then is abandoned (it judged nothing), and the shrinking ends with the shortest failing trace
    found before it — as when a property call is refused past the budget's cutoff (its base,
    `calls.OutOfBudget`, which the shrinking catches)."""


SHRINK_STEPS_LIMIT = 1_000_000_000
"""The largest step bound of shrinking accepted (`check_shrink_steps`)."""


def check_shrink_steps(value: object) -> None:
    """ValueError unless `value` is a step bound of shrinking: a whole number from 1 to
    `SHRINK_STEPS_LIMIT`, or None (no bound but the budget)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= SHRINK_STEPS_LIMIT:
        raise ValueError(f"max_shrink_steps must be a whole number from 1 to {SHRINK_STEPS_LIMIT:,} or None, "
                         f"got {value!r}")


@attrs.define
class ShrinkClock:
    """A `time.perf_counter()` deadline and a bound on the steps spent (None: none), the steps
    spent so far (`spent`, shared with the clocks `share` gives), and whether a check found the
    deadline passed (`cut`) or the steps spent (`bounded`)."""

    deadline: float | None
    max_steps: int | None = None
    cut: bool = False
    bounded: bool = False
    parent: ShrinkClock | None = attrs.field(default=None, repr=False)
    steps: int = 0
    """The steps spent, counted on the clock without a parent (`spent`)."""
    report: Callable[[ShrinkClock], None] | None = attrs.field(default=None, repr=False)
    """Called about every `REPORT_EVERY` seconds, from `passed`, with the root clock (None: never)."""
    shortest: int = 0
    """The length of the shortest failing trace so far (set by the shrinking, for `report`)."""
    began: float = attrs.field(factory=time.perf_counter, repr=False)
    reported: float = attrs.field(factory=time.perf_counter, repr=False)

    @property
    def root(self) -> ShrinkClock:
        """The clock of the whole shrinking (this one, or the one `share` was called on first)."""
        clock = self
        while clock.parent is not None:
            clock = clock.parent
        return clock

    @property
    def spent(self) -> int:
        """The steps the whole shrinking replayed and judged so far."""
        return self.root.steps

    def spend(self, steps: int) -> None:
        """Count `steps` more steps replayed or judged; `TimeUp` (and `cut` from now on) if the
        deadline has passed: a test never runs past it. Calls the root's `report` when it is due,
        so that a long replay or judgement reports as it goes."""
        root, now = self.root, time.perf_counter()
        root.steps += steps
        self._report_due(root, now)
        if self.deadline is not None and now >= self.deadline:
            self._mark("cut")
            raise TimeUp

    @staticmethod
    def _report_due(root: ShrinkClock, now: float) -> None:
        """Call the root's `report` if it has not been called for `REPORT_EVERY` seconds."""
        if root.report is not None and now - root.reported >= REPORT_EVERY:
            root.reported = now
            root.report(root)

    def passed(self, ahead: float = 0.0) -> bool:
        """True if the steps are spent (`bounded` from now on) or the deadline is past, or
        `ahead` seconds from now (`cut` from now on); the parents' flags are set too. Calls the
        root's `report` when it is due."""
        now = time.perf_counter()
        self._report_due(self.root, now)
        if self.max_steps is not None and self.spent >= self.max_steps:
            self._mark("bounded")
            return True
        if self.deadline is None or now + ahead < self.deadline:
            return False
        self._mark("cut")
        return True

    def cut_short(self) -> None:
        """Mark the clock `cut` (and its parents): a property call was refused past the budget's
        cutoff (`calls.OutOfBudget`), which ends the shrinking as its own deadline would."""
        self._mark("cut")

    def _mark(self, flag: str) -> None:
        clock: ShrinkClock | None = self
        while clock is not None:
            setattr(clock, flag, True)
            clock = clock.parent

    def share(self, fraction: float) -> ShrinkClock:
        """A clock for one phase, ending after `fraction` of the steps and of the time this one
        has left; what it spends, this one spends."""
        limit = deadline = None
        if self.max_steps is not None:
            limit = self.spent + int(fraction * max(0, self.max_steps - self.spent))
        if self.deadline is not None:
            now = time.perf_counter()
            deadline = now + fraction * max(0.0, self.deadline - now)
        return ShrinkClock(deadline, limit, parent=self)


def shrink_note(cut: float | None, bound: int | None, shared: bool = False) -> str:
    """What a counterexample file and the report say of a shrinking that stopped before its end:
    `cut`, the seconds it ran when the clock (the budget, or with `shared` its share of what was
    left, `SHRINK_SHARE`) stopped it; `bound`, the step bound that stopped it (`ShrinkClock`).
    "" when it ran to its end."""
    if cut is not None:
        share = (f", {SHRINK_SHARE:.0%} of the budget left when it began: the rest went to searching for the "
                 "other properties") if shared else ""
        return (f"shrinking stopped at its time bound ({cut:.1f} s{share}): a larger --budget, or a faster or quieter "
                "machine, may shrink it further (the violation is the same)")
    if bound is not None:
        return (f"shrinking was cut short by its step bound of {bound:,} steps: a larger --shrink-steps may "
                "shrink it further (the same on any machine)")
    return ""
