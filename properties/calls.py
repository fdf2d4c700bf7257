"""What property calls cost, and the budget's cutoff between them.

Every property made by `registry.as_property` (the `@safety` and `@convergence` decorators: the
built-ins and a user's own) counts its calls and the seconds they took here, per process
(`ledger`, `since`), so that a check can say which property took its budget ("team-slow took
9.8 s of the walk's 10.0 s: 5 calls, 2.0 s a call") and whether a convergence property was judged
at all (a remembered verdict counts too: `remembered`). Worker processes send theirs back with
their results (`EngineStats.calls`).

The cutoff: while an engine runs, `kubeprop.properties.explore.runner.run_engine` sets its budget's
end and a `grace` of at most 0.25 s (`cut_at`), and a property call asked for after it raises
`OutOfBudget` instead of running. The engines stop at their deadline between two steps, keeping
their figures; but a step calls every safety property on a state (and a run's end, the
convergence properties on the states its fair continuations settle in), so with slow properties
one step could run far past it. With the cutoff the overrun is at most the grace and the one
property call under way then. A call that never returns is the user's code:
kubeprop does not interrupt it (Python cannot stop a thread from outside), so the check waits for
it or for Ctrl-C.

Timing only (`time.perf_counter`): nothing here decides a verdict, and nothing is hashed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

Calls = tuple[tuple[str, int, float], ...]
"""Property calls by property: (name, calls, seconds), sorted by name; a remembered verdict is a
call of 0 seconds (`remembered`)."""

_LEDGER: dict[str, list[float]] = {}
"""Property name → [calls, seconds] in this process."""

METERED = "_kubeprop_metered"
"""The attribute `metered` sets on a check function."""

CUTOFF: list[float | None] = [None]
"""The `time.perf_counter()` value after which no property call starts (None: none; set by
`cut_at`, read by `registry.as_property`'s check)."""


class OutOfBudget(BaseException):
    """A property call asked for after the budget's cutoff (`cut_at`): the step, run or test under
    way is abandoned — it concluded nothing — and the engine ends `time-bound`. A BaseException,
    so that neither a user's property calling another one nor Hypothesis (which reports an
    Exception from a rule as a failing example) takes it for a failure.

    Only kubeprop raises it: the cutoff raises `Refused`, the shrinking's clock its own subclass
    (`kubeprop.properties.explore.shrink_clock.TimeUp`). One that a property's function raises
    itself is the user's error (`registry.as_property`: `raised_by_cutoff`), never the budget's end."""


class Refused(OutOfBudget):
    """The cutoff's refusal of a property call (`registry.as_property`, after `cut_at`'s deadline)."""


def raised_by_cutoff(err: OutOfBudget) -> bool:
    """Whether `err`, come out of a property's function, is kubeprop's own cut (a nested property
    call refused by the cutoff, the shrinking clock's end) rather than one the function raised
    itself: a plain `OutOfBudget` (or a subclass defined outside kubeprop) is the user's."""
    kind = type(err)
    return kind is not OutOfBudget and kind.__module__.startswith("kubeprop.")


def ledger_entry(name: str) -> list[float]:
    """Property `name`'s [calls, seconds] in this process, which its check adds to (shared by
    every property of that name)."""
    entry = _LEDGER.get(name)
    if entry is None:
        entry = _LEDGER[name] = [0, 0.0]
    return entry


def remembered(names: Iterable[str]) -> None:
    """Count a verdict of each property of `names` taken from a memo (judged, at no cost)."""
    for name in names:
        ledger_entry(name)[0] += 1


def metered(check: Callable[..., object]) -> None:
    """Mark `check` as one that counts its calls (`registry.as_property`'s wrapper; a `Property`
    built from a bare function is not counted, and no verdict is drawn from its count)."""
    setattr(check, METERED, True)


def is_metered(check: object) -> bool:
    """Whether `check` counts its calls (`metered`)."""
    return bool(getattr(check, METERED, False))


def ledger() -> dict[str, tuple[int, float]]:
    """This process's calls so far, by property."""
    return {name: (int(calls), seconds) for name, (calls, seconds) in _LEDGER.items()}


def since(before: dict[str, tuple[int, float]]) -> Calls:
    """This process's calls since `before` (a `ledger()`)."""
    out = []
    for name, (calls, seconds) in sorted(ledger().items()):
        was_calls, was_seconds = before.get(name, (0, 0.0))
        if calls > was_calls:
            out.append((name, calls - was_calls, seconds - was_seconds))
    return tuple(out)


def merged(*parts: Calls | None) -> Calls | None:
    """The calls of several runs or processes added up; None (not known) if any part is."""
    total: dict[str, list[float]] = {}
    for part in parts:
        if part is None:
            return None
        for name, calls, seconds in part:
            entry = total.setdefault(name, [0, 0.0])
            entry[0] += calls
            entry[1] += seconds
    return tuple((name, int(c), s) for name, (c, s) in sorted(total.items()))


GRACE = 0.25
"""Seconds past an engine's budget before its property calls are refused (at most; `grace`)."""
GRACE_SHARE = 0.05
"""… and at most this share of the budget."""


def grace(budget: float) -> float:
    """How long after its budget an engine's property calls are still made: the engines stop at
    their own deadline between two steps (a step of fast properties takes milliseconds), keeping
    their figures; the cutoff is for the step that a slow property makes long. `GRACE`, or
    `GRACE_SHARE` of a small budget."""
    return min(GRACE, GRACE_SHARE * budget)


@contextmanager
def cut_at(deadline: float | None) -> Iterator[None]:
    """No property call starts after the `time.perf_counter()` `deadline` inside the block (None:
    no cutoff); an earlier cutoff already set stands."""
    saved = CUTOFF[0]
    if deadline is not None and (saved is None or deadline < saved):
        CUTOFF[0] = deadline
    try:
        yield
    finally:
        CUTOFF[0] = saved
