"""Searching on past known upstream behaviour, for a user's violation of the same property.

A violation recognised as known upstream behaviour (`upstream_behaviour.match`) is recorded, and the
search goes on — for the other properties, and for the same property too: a user whose controller
breaks `endpoints-ready-pods` on a scenario where the upstream race of that property is met first
must still hear of their bug. From then on the property is judged "violated and not recognised":
an engine that finds it violated asks `SearchPast` (its `EngineConfig.excuse`) with the trace to the
violating state, and goes on past the state when the violation is recognised (the BFS expands it,
a walk takes its next step), so that what it reports is a violation no entry recognises — and the
BFS's report is still the shortest such one it reached. Shrinking judges its candidates the same
way, so a user's violation never shrinks into the race.

Recognition replays the trace (`upstream_twin.judged`: on the correct model its states, under a
variant the correct twin) and runs the entries of the property: as many steps as the trace is
long, per violating state. Two things bound that cost:

- a state whose trace extends, by one action, the trace of a state recognised with the same
  violation is the same violation persisting past the race (the race stays in its trace) and is
  excused without a replay — the states after a race mostly are;
- after `LIMIT` recognitions of one property by one search, the search for it stops there: its
  violations are passed over unjudged (never reported: a violation that was not judged is not a
  user's), and the report says the search on was cut (`stopped`).

`settles` (a fair continuation that never settled: `convergence.settled_violation`, the lasso's
cycle property) is searched on too: an entry recognises it (`etcd-restore-reissues-endpoints-version`),
and past a recognised one the convergence properties stay searched for (`searching(..., settles=True)`
puts `settles` among the names judged): a run whose continuation is the known livelock proves
nothing about them, and one that settles is judged as before.

Everything here is a pure function of the model, the traces and the order in which an engine asks
(no salted `hash()` kept, no clock): the same seed gives the same search. The portfolio's members
each count their own recognitions in their own part (`part`), wherever their lane runs: a forked
lane's counts, as of the deciding turn, come back to the calling process (`take`,
`lanes.run_lanes`), so the cap falls at the same point with 1 or N lanes and the report says so
either way. Walks on a Dask cluster recognise in the calling process (`dask_walks`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Property, Violation
from kubeprop.properties.upstream_behaviour import KNOWN, UpstreamBehaviour, match

__all__ = ["LIMIT", "SETTLES", "Counts", "SearchPast", "SearchedOn", "searchable", "searched_on"]

SETTLES = "settles"
"""The pseudo-property of a fair continuation that did not settle (`discoveries.SETTLES`)."""

LIMIT = 2000
"""Recognitions (trace replays) of one property a search on spends at most (per portfolio member); past
them the property's violations are passed over unjudged and the report says so. A recognition costs
a replay of its trace (at most `max_depth` steps, 80 by default): 2000 of them are at most 160,000
steps, a few seconds of the budget, on a property whose search on keeps meeting the race."""


Counts = tuple[dict[str, int], dict[str, int]]
"""A search on's counts, per property: recognitions made, violations passed over (picklable: a
forked lane sends its members' back)."""


def searchable(name: str, known: Sequence[UpstreamBehaviour] = KNOWN) -> bool:
    """True when a search can go on past a known upstream violation of property `name`: a state or
    convergence property some entry names, or `settles` (an entry names it too: past a recognised
    livelock the convergence properties stay searched for, module docstring)."""
    return any(b.property == name for b in known)


class SearchPast:
    """`EngineConfig.excuse` for the properties in `properties` (their order is the engine's, the
    ones searched on last), and `settles` with `settles`: a violation of one is passed over when an
    entry recognises it, and the state's next such property is judged in its place. `limit`: the
    recognitions of a property it makes at most (None: `LIMIT`, read when it is built)."""

    def __init__(self, model: ClusterModel, properties: Sequence[Property], limit: int | None = None,
                 settles: bool = False) -> None:
        self.model = model
        self.limit = LIMIT if limit is None else limit
        self.recognised: dict[str, int] = {}
        """Per property, the recognitions made (trace replays)."""
        self.passed: dict[str, int] = {}
        """Per property, the violations passed over as known upstream behaviour (persisting ones too)."""
        self.parts: dict[str, SearchPast] = {}
        """The portfolio's members' own searches on, by member (`part`)."""
        self._persisting: dict[tuple[Action, ...], Violation] = {}
        """Traces recognised (or passed over), by the trace, with the violation there."""
        self.searching(properties, settles)

    def searching(self, properties: Sequence[Property], settles: bool = False) -> SearchPast:
        """This search on, now for `properties` and (with `settles`) the livelock `settles`: the
        next run's. Its counts go on; its members' parts start the run with no trace kept (so a
        part's run is the same in whichever process its lane runs)."""
        self.properties = tuple(properties)
        self.names = frozenset(p.name for p in self.properties) | ({SETTLES} if settles else set())
        for part in self.parts.values():
            part._persisting.clear()
        return self

    def part(self, member: str) -> SearchPast:
        """The search on of the portfolio's member `member` (`lane_turns.Lane`): this one's
        properties, its own counts and limit (kept here from run to run)."""
        part = self.parts.get(member)
        if part is None:
            part = self.parts[member] = SearchPast(self.model, (), self.limit)
        part.properties, part.names = self.properties, self.names
        return part

    def counts(self) -> Counts:
        """This search on's own counts (a part's, to send back from a forked lane)."""
        return dict(self.recognised), dict(self.passed)

    def take(self, member: str, counts: Counts) -> None:
        """Member `member`'s counts as a forked lane (or the deciding turn) left them."""
        part = self.part(member)
        part.recognised, part.passed = dict(counts[0]), dict(counts[1])

    def stopped(self, name: str) -> bool:
        """True once property `name` used up its `limit` of recognitions, here or in a member's part."""
        return self.recognised.get(name, 0) >= self.limit or any(p.stopped(name) for p in self.parts.values())

    def passed_over(self, name: str) -> int:
        """The violations of property `name` passed over, here and in the members' parts."""
        return self.passed.get(name, 0) + sum(p.passed_over(name) for p in self.parts.values())

    def __call__(self, found: Violation, trace: Sequence[Action], state: ClusterState | None) -> Violation | None:
        """`found` when no entry recognises it; else the next property searched on that `state`
        violates unrecognised (a safety violation's state; a convergence violation has none), or
        None: nothing but known upstream behaviour, go on."""
        names = [p.name for p in self.properties]
        at = names.index(found.property) if found.property in names else len(names)
        candidate: Violation | None = found
        while candidate is not None:
            if not self._known(candidate, tuple(trace)):
                return candidate
            candidate = None
            if state is None:
                break
            for prop in self.properties[at + 1:]:
                at += 1
                if prop.kind == "safety" and (candidate := prop.check(self.model, state)) is not None:
                    break
        return None

    def _known(self, violation: Violation, trace: tuple[Action, ...]) -> bool:
        """Whether `violation` at the end of `trace` is passed over: the same violation as one passed
        over one action before, or recognised now (or its property's recognitions used up)."""
        name = violation.property
        if self._persisting.get(trace[:-1]) == violation or self.recognised.get(name, 0) >= self.limit:
            known = True
        else:
            self.recognised[name] = self.recognised.get(name, 0) + 1
            known = match(self.model, violation, trace) is not None
        if known:
            self.passed[name] = self.passed.get(name, 0) + 1
            if len(self._persisting) >= PERSISTING:
                self._persisting.clear()  # (memory: a replay then judges the next one)
            self._persisting[trace] = violation
        return known


PERSISTING = 100_000
"""Traces `SearchPast` keeps to excuse a persisting violation without a replay (about 40 MB at depth
40); past them it starts again, so a state below a race may cost one replay more."""


@attrs.frozen
class SearchedOn:
    """What became of the search for one property after a known upstream violation of it: the
    steps the engine took after it, how its last run ended, whether a violation no entry recognises
    (the user's) was found, how many violations were passed over as known upstream behaviour, and
    whether the search stopped at its limit of recognitions (`limit`, `LIMIT` by default)."""

    property: str
    steps: int
    exit_reason: str
    found: bool
    passed: int = 0
    stopped: bool = False
    limit: int = LIMIT

    def line(self) -> str:
        """The line printed under the known upstream violation (and kept by reports)."""
        if self.found:
            return (f"searched on past it for {self.steps:,} steps: a violation of {self.property} that is not known "
                    "upstream behaviour was found (listed above)")
        if not self.steps and self.exit_reason == "time-bound":
            return ("the budget was spent when it was found (and shrunk): no search past it for a violation of "
                    f"{self.property} that is not known upstream behaviour (a larger --budget searches on)")
        why = {"time-bound": "the rest of the budget", "exhausted": "every reachable state",
               "depth-bound": "within the depth bound", "state-bound": "up to the state bound",
               "runs-done": "every run"}.get(self.exit_reason, self.exit_reason)
        cut = (f"; stopped after {self.limit:,} recognitions (each replays its trace): its violations past them "
               "were passed over unjudged" if self.stopped else "")
        return (f"searched on past it for {self.steps:,} steps ({why}): no violation of {self.property} beyond known "
                f"upstream behaviour{cut}")


def searched_on(results: Sequence[Any], known: Callable[[Any], bool], search: SearchPast | None
                ) -> tuple[SearchedOn, ...]:
    """For each property a result of `discoveries.discover` met as known upstream behaviour (`known`,
    a property a search can go on for), in the order met: what the runs after it found."""
    out: list[SearchedOn] = []
    for i, result in enumerate(results):
        name = getattr(result.violation, "property", None)
        if name is None or not searchable(name) or not known(result) or any(s.property == name for s in out):
            continue
        later = results[i + 1:]
        mine = next((j for j, r in enumerate(later) if getattr(r.violation, "property", None) == name
                     and not known(r)), None)
        after = later if mine is None else later[:mine + 1]
        steps = sum(getattr(getattr(r, "stats", None), "steps", 0) for r in after)
        ended = str(after[-1].exit_reason) if after else "time-bound"
        out.append(SearchedOn(name, steps, ended, mine is not None, 0 if search is None else search.passed_over(name),
                              search is not None and search.stopped(name), LIMIT if search is None else search.limit))
    return tuple(out)
