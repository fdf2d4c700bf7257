"""One lane of the portfolio: some of its members, run turn by turn in position order (`Lane`),
and what a lane reports (`Find`, `LaneReport`).

A turn's *position* is its place in the one-process portfolio's order: (round, the member's index
in the portfolio). How lanes are chosen, balanced, run in worker processes and decided — the
least position found wins — is `lanes.py`, which also exports these names.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import Calls
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, Excuse, ExitReason
from kubeprop.properties.explore.slicing import Limit, Sliced, out_of_time

if TYPE_CHECKING:
    from kubeprop.properties.explore.portfolio import Member

__all__ = ["NEVER", "Find", "Lane", "LaneReport", "Position"]

Position = tuple[int, int]
"""A turn's place in the one-process portfolio's order: (round, the member's index in the portfolio)."""

BEFORE: Position = (-1, -1)
"""Before every turn."""

NEVER: Position = (sys.maxsize, 0)
"""After every turn."""

Tally = tuple[tuple[Position, Any], ...]
"""A member's search on past known upstream behaviour (`upstream_behaviour_search.SearchPast.part`):
its counts when it started (at `BEFORE`) and after each turn that changed them."""


@attrs.frozen
class Find:
    """A member's verdict that ends the portfolio (a violation or an exhausted search), the turn
    that gave it, the member's name, and when: seconds into the portfolio, before shrinking."""

    position: Position
    member: str
    result: EngineResult
    seconds: float


@attrs.frozen
class LaneReport:
    """How a lane ended: its find (if any), the result of every member it started (those still
    running were stopped, with their figures), the wall-clock seconds each member ran, the CPU
    seconds the lane used in its turns, and when it took its last turn (seconds into the
    portfolio)."""

    find: Find | None
    results: dict[str, EngineResult]
    spent: dict[str, float]
    cpu: float
    ended: float
    complete: bool = True
    """False for a worker lane that did not report in time: only its find (sent at once) is known."""
    tallies: dict[str, Tally] = attrs.Factory(dict)
    """Each member's `Tally`, when it searched on past known upstream behaviour (`lanes.carry_back`)."""
    calls: Calls = ()
    """A worker lane's property calls (`calls.since`; the calling process's lane: none, its
    process's calls are counted where the engine ran, `runner.run_engine`)."""
    turns: tuple[tuple[Position, float], ...] = ()
    """Each turn the lane ran (a member sitting out included), with when it ended (seconds into
    the portfolio), in order."""
    reached: Position = BEFORE
    """The position of the first turn the lane did not run (`NEVER`: it ran every turn of its
    members; `BEFORE`: not known, a worker lane that did not report)."""

    def past(self, position: Position) -> float:
        """When the lane had run every one of its turns before `position` (seconds into the
        portfolio; 0.0 if it has none): the end of its last turn before it — or, if the lane
        stopped before it got there (the budget spent) or is not known to have got there, when
        it stopped (`ended`)."""
        if self.reached < position:
            return self.ended
        return max((at for where, at in self.turns if where < position), default=0.0)


class Lane:
    """Some of the portfolio's members (with their indices in it), run turn by turn in position
    order: each member's turn adds `turn × weight` steps to its credit and runs it (a member that
    went past its share in an earlier turn sits out until its credit is positive again)."""

    def __init__(self, members: Sequence[tuple[int, Member]], model: ClusterModel, start: ClusterState,
                 config: EngineConfig, began: float, turn: int) -> None:
        self.members = tuple(members)
        self.model, self.start, self.config, self.turn = model, start, config, turn
        self.began, self.deadline = began, config.deadline(began)
        self.credit = {m.name: 0.0 for _, m in self.members}
        self.spent = {m.name: 0.0 for _, m in self.members}
        self.running: dict[str, Sliced] = {}
        self.results: dict[str, EngineResult] = {}
        self.round = self.at = 0
        self.find: Find | None = None
        self.parts: dict[str, Any] = {}
        """Each member's own search on (`_own`), if the configuration keeps one per member."""
        self.tallies: dict[str, list[tuple[Position, Any]]] = {}
        self.cpu = 0.0
        self.steps = 0
        self.turns: list[tuple[Position, float]] = []

    def pending(self) -> Position | None:
        """The position of the next turn, or None when the lane is over (a find, every member
        finished, or the budget spent)."""
        if self.find is not None or len(self.results) == len(self.members) or out_of_time(self.deadline):
            return None
        while self.members[self.at][1].name in self.results:
            self._advance()
        return self.round, self.members[self.at][0]

    def run_next(self) -> None:
        """Take the pending turn (`pending` returned its position)."""
        index, member = self.members[self.at]
        position = (self.round, index)
        self._advance()
        name = member.name
        self.credit[name] += self.turn * member.weight
        if self.credit[name] < 1:
            self.turns.append((position, time.perf_counter() - self.began))
            return  # it went past its share in an earlier turn (a run it could not pause)
        cpu, now = time.process_time(), time.perf_counter()
        limit = Limit(steps=round(self.credit[name]), until=self.deadline)
        result = self._turn(member, limit)
        self._tally(name, position)
        self.credit[name] -= limit.used
        self.steps += limit.used
        before, self.spent[name] = self.spent[name], self.spent[name] + time.perf_counter() - now
        self.cpu += time.process_time() - cpu
        self.turns.append((position, time.perf_counter() - self.began))
        if result is None:
            return
        self.results[name] = result
        if result.violation is not None or result.exit_reason == ExitReason.EXHAUSTED:
            # When it was found: this turn started at `now`, the member had run `before`.
            own = result.stats.found_after if result.stats.found_after is not None else self.spent[name]
            # (`time.perf_counter` is the system's monotonic clock: `began` holds in a forked lane too.)
            self.find = Find(position, name, result, now - self.began + max(0.0, own - before))

    def _advance(self) -> None:
        self.at += 1
        if self.at == len(self.members):
            self.at, self.round = 0, self.round + 1

    def _turn(self, member: Member, limit: Limit) -> EngineResult | None:
        """One turn of `member`, starting it first (with the budget that is left) if needed."""
        sliced = self.running.get(member.name)
        if sliced is None:
            left = None if self.deadline is None else max(0.0, self.deadline - time.perf_counter())
            excuse = self._own(member.name)
            sliced = member.start(self.model, self.start, attrs.evolve(self.config, workers=1, progress=None,
                                                                       budget_seconds=left, excuse=excuse))
            self.running[member.name] = sliced
        return sliced.run(limit)

    def _own(self, member: str) -> Excuse | None:
        """The member's own search on past known upstream behaviour, where the configuration's keeps
        one per member (`SearchPast.part`: its recognitions counted apart, so that its cap falls
        at the same turn in whichever lane it runs), its counts so far tallied at `BEFORE`."""
        part = getattr(self.config.excuse, "part", None)
        if part is None:
            return self.config.excuse
        own: Excuse = part(member)
        self.parts[member] = own
        self.tallies[member] = [(BEFORE, self.parts[member].counts())]
        return own

    def _tally(self, member: str, position: Position) -> None:
        """After `member`'s turn at `position`: its search on's counts, if the turn changed them."""
        if member not in self.parts:
            return
        counts = self.parts[member].counts()
        if self.tallies[member][-1][1] != counts:
            self.tallies[member].append((position, counts))

    def finish(self) -> LaneReport:
        """Stop the members still running (each returns how far it got) and report."""
        cpu, ended = time.process_time(), time.perf_counter() - self.began
        try:
            for name, sliced in self.running.items():
                if name not in self.results:
                    now = time.perf_counter()
                    self.results[name] = sliced.stop()
                    self.spent[name] += time.perf_counter() - now
        finally:
            self.close()
        self.cpu += time.process_time() - cpu
        return LaneReport(self.find, dict(self.results), dict(self.spent), self.cpu, ended,
                          tallies={name: tuple(tally) for name, tally in self.tallies.items()},
                          turns=tuple(self.turns), reached=self._reached())

    def _reached(self) -> Position:
        """The position of the first turn the lane did not run (`NEVER`: every member finished)."""
        if len(self.results) == len(self.members):
            return NEVER
        return self.round, self.members[self.at][0]

    def close(self) -> None:
        """Abandon the members still running (on an error)."""
        for name, sliced in self.running.items():
            if name not in self.results:
                sliced.close()
