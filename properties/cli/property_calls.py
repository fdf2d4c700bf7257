"""What `kubeprop check` says from the property calls an engine made (`EngineStats.calls`,
counted by `kubeprop.properties.calls`): a convergence property it never judged, and a property
that took most of its time.

A convergence property is judged where a run ends (a walk, a PCT run, a Hypothesis example), at
the quiesced states of the BFS and where the run a user expects is quiet — on the state its fair
continuation settles in. An engine whose budget ran out before any of those (a slow property, a
long workload) judged none: its verdict is `not judged (no run's end reached)`, not `held`, which
would claim what was never looked at.
"""

from __future__ import annotations

from typing import Any

from kubeprop.counterexamples.api import CheckReport
from kubeprop.properties.calls import is_metered

NEVER_JUDGED = "not judged (no run's end reached)"
"""The verdict of a convergence property the engine never judged (`never_judged`)."""

MOST = 0.5
"""A property whose calls took at least this share of an engine's seconds is named (`slow_property`)."""
AT_LEAST = 1.0
"""… and at least this many seconds (a short run's noise is not worth a line)."""


def _calls(report: CheckReport) -> dict[str, tuple[int, float]] | None:
    """The engine's property calls by name (None: not known, `EngineStats.calls`)."""
    calls = getattr(report.stats, "calls", None)
    if calls is None:
        return None
    return {name: (count, seconds) for name, count, seconds in calls}


def never_judged(report: CheckReport, prop: Any) -> bool:
    """Whether the engine never judged the convergence property `prop`: its calls are counted
    (`calls.is_metered`: made by `@convergence` or `as_property`) and known, and there are none
    (a remembered verdict counts as one)."""
    if getattr(prop, "kind", None) != "convergence" or not is_metered(getattr(prop, "check", None)):
        return False
    calls = _calls(report)
    return calls is not None and calls.get(prop.name, (0, 0.0))[0] == 0


def slow_property(report: CheckReport) -> str | None:
    """The line naming the property whose calls took most of the engine's seconds (at least
    `MOST` of them and `AT_LEAST` seconds): how long, how many calls, what a call costs, and
    what that means for the check."""
    calls, seconds = _calls(report), getattr(report.stats, "seconds", 0.0)
    if not calls or seconds <= 0:
        return None
    name, (count, spent) = max(calls.items(), key=lambda item: (item[1][1], item[0]))
    if spent < AT_LEAST or spent < MOST * seconds or count == 0:
        return None
    lanes = len(getattr(report.stats, "lanes", ()) or ())
    over = f" (its calls in every process added up, on {lanes} lanes)" if lanes > 1 else ""
    return (f"{report.engine}: property {name} took {spent:.1f} s of the engine's {seconds:.1f} s{over}: "
            f"{count:,} call{'s' if count != 1 else ''}, {spent / count:.2f} s a call. Every state an engine "
            "reaches calls every safety property, so a slow one leaves few states checked; no call starts "
            "after the budget (docs/properties.md#slow-properties)")
