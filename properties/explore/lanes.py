"""The portfolio's lanes: its members spread over processes, with the one-process portfolio's result.

The portfolio (`portfolio.py`) gives each member a turn of `TURN × weight` steps, member after
member, round after round, and the first violation (or exhausted search) ends it. A member's turns
depend only on the member itself — its credit and its own `Limit` — never on the others, so every
turn has a fixed *position* (round, the member's index in the portfolio), and the one-process
portfolio's answer is the find at the least position. A `Lane` runs some of the members' turns in
that order; `run_lanes` runs the first lane in this process and the others in forked worker
processes, and keeps the one-process answer:

1. every lane runs its turns in position order and stops at its own first find, which it reports
   at once (`("found", find)`: the position and the member's result) before it stops its other
   members — so a find is kept even when its lane's report comes too late;
2. the least position reported so far is the *bound*: the coordinator sends it to every lane, and a
   lane stops before a turn at or after it (a find there cannot win), but runs every turn before
   it — a find there would win;
3. once every lane has stopped (its members finished, the bound reached, or the budget spent), the
   find at the least position is the portfolio's.

Lanes also report each round they begin (with their steps so far: the live progress a terminal
shows, `progress.py`), and a lane does not begin a round before every lane still
running has begun it (`AHEAD`): rounds of different lanes cost different CPU time (balanced only
as well as the members' costs are estimated), so a lane would otherwise run far past the answer
while it waits to hear of it, on a busy machine taking CPU from the lane that decides.

One lane's turns and its report are `lane_turns.py` (`Lane`, `Find`, `LaneReport`, exported here
too); this module chooses and balances the lanes, runs them and decides.

So the violation, its trace and the deciding member are those of one lane for the same seed; only
sooner. The members run without shrinking; the portfolio shrinks the deciding find in the
calling process once every lane has stopped, with what is left of the budget (so the trace after
shrinking is the same too, unless time cuts the shrinking). One caveat, as in one process: when
the budget ends before the lanes have run every turn before a find, that find is reported though
an earlier turn might have found another given more time. The figures (`stats.parts`) differ, since lanes run turns
past the eventual answer while they wait to hear of it.

`assign` balances the members over the lanes by their CPU time in the first round (where each
member's one-time costs fall: `Member.first`) and in the rounds after it (weight × cost),
deterministically. Forked lanes inherit the model, the start state and the
configuration (nothing is pickled but each lane's find and report). The budget is a hard
wall-clock limit: every lane stops within one step of it, and a worker lane that has not reported
`grace` seconds after the calling process's lane did (stopping the members takes a moment, longer
the longer they ran: half a second and 2% of the run) is terminated — its members' figures are
then missing, and say so; no worker outlives `run_lanes` on any path (an exception, Ctrl-C
included: workers ignore SIGINT and are terminated by the parent, and the finds known by then —
the calling lane's and those the workers sent — go with the interrupt as `Unfinished`; a worker
whose parent is gone stops at its next turn).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

import attrs

from kubeprop.model.errors import UserCodeError
from kubeprop.properties.calls import ledger, since
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.engine import EngineConfig, EngineResult
from kubeprop.properties.explore.lane_turns import NEVER, Find, Lane, LaneReport, Position
from kubeprop.properties.explore.progress import Reporter
from kubeprop.properties.explore.workers import ignore_interrupts, started, stop_workers

if TYPE_CHECKING:
    from kubeprop.properties.explore.portfolio import Member

__all__ = ["AHEAD", "DEFAULT_LANES", "EXACT_LANES", "GRACE", "GRACE_SHARE", "NEVER", "Find", "Lane", "LaneError",
           "LaneReport", "Position", "assign", "carry_back", "cores", "grace", "lane_count", "run_lanes"]


GRACE = 0.5
"""Seconds a worker lane has to report after the budget ended and the calling process's lane
reported (each stops within a step of the deadline, then stops its members) before it is
terminated — plus `GRACE_SHARE` of the time the lanes ran (see `grace`)."""

GRACE_SHARE = 0.02
"""The part of the run's length added to `GRACE`: stopping a member frees what its search holds,
which takes longer the longer it ran (at 60 s on FeastFlow, 0.35 s for one member and 0.53 s for
a lane of four, against the calling lane's 0.36 s: a fixed half second was sometimes too little)."""


def grace(ran: float) -> float:
    """Seconds a worker lane has to report after the calling lane did, the lanes having run `ran`
    seconds: `GRACE` plus `GRACE_SHARE` of that (60 s: 1.7 s; 3 s: 0.56 s)."""
    return GRACE + GRACE_SHARE * max(0.0, ran)

AHEAD = 0
"""Rounds a lane may run ahead of the slowest lane still running: further on it waits (its turns
there could only matter once the slowest lane got that far, and on a busy machine its core is
better left to the lanes behind). With 0 a lane begins a round once every lane has begun it.
Measured on FeastFlow with two lanes (rs-no-expectations, medians of 3 interleaved runs, load
average 1.5–2.2): 0 rounds ahead 5,041 steps and 3.4 CPU seconds in all, 1 round 5,521 and 3.8,
unbounded 7,921 and 5.5 — and the answer no later."""


class LaneError(RuntimeError):
    """A member failed in a worker lane (the message is its traceback), as it would have raised in
    one process."""


DEFAULT_LANES = 3
"""The most lanes by default. Measured on FeastFlow (CPU seconds of the slowest lane until the find,
seed 0, medians of 3): over its eight catalogue variants a median of 2.25 on one lane, 1.44 on two,
1.12 on three; sts-split-brain 4.6, 3.0, 2.0–2.4, and 2.3 on four — from three lanes on,
`perturb`'s lane (half the weight, alone) sets the pace."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def lane_count(config: EngineConfig, members: Sequence[Member]) -> tuple[int, str]:
    """How many lanes to run: `config.workers`, by default the cores or `DEFAULT_LANES`, whichever
    is fewer; at most one per member. One, with the reason, where lanes cannot run: without the
    fork start method (or with `start_method` set to another one), or with `on_run` (it observes
    every run in this process)."""
    wanted = config.workers if config.workers is not None else min(cores(), DEFAULT_LANES)
    wanted = max(1, min(wanted, len(members)))
    if wanted == 1:
        return 1, ""
    if config.on_run is not None:
        return 1, "one lane: on_run (--metrics) observes every run in this process"
    if "fork" not in multiprocessing.get_all_start_methods() or config.start_method not in (None, "fork"):
        return 1, "one lane: worker lanes need the fork start method"
    return wanted, ""


EXACT_LANES = 3
"""Up to this many lanes `assign` tries every way of grouping the members (7 members on 3 lanes:
301 groupings); past it, largest first onto the lightest lane."""


def assign(members: Sequence[Member], lanes: int) -> list[list[tuple[int, Member]]]:
    """The members (with their indices) of each of `lanes` lanes; each lane's members in portfolio
    order, the lanes heaviest first (`lanes[0]` runs in the calling process), no empty lane. The
    lanes run in step (`AHEAD`), so a find in round r waits for the slowest lane of every round up
    to r: the grouping with the least `_pace` — the slowest lane's first round (each member's
    `weight × cost` and its `first`: the one-time cost of its first turn) plus the slowest lane's
    round after it — is taken (ties: the one with the lighter slowest lane in later rounds, then the
    first found), trying every grouping up to `EXACT_LANES` lanes; with more, largest first onto the
    lightest lane. Deterministic, and it decides nothing the result depends on."""
    count = max(1, min(lanes, len(members)))
    if not members:
        return []
    if count <= EXACT_LANES:
        best = min(_groupings(len(members), count), key=lambda labels: _pace(members, labels, count))
        groups: list[list[tuple[int, Member]]] = [[] for _ in range(count)]
        for index, label in enumerate(best):
            groups[label].append((index, members[index]))
    else:
        groups = _greedy(members, count)
    steady = [sum(member.weight * member.cost for _, member in group) for group in groups]
    order = sorted(range(len(groups)), key=lambda k: (-steady[k], groups[k][0][0]))
    return [groups[k] for k in order]


def _groupings(size: int, count: int) -> list[tuple[int, ...]]:
    """Every way of putting `size` members into exactly `count` unlabelled groups, as each member's
    group (a group's label is the order of its first member)."""
    found: list[tuple[int, ...]] = []

    def extend(labels: tuple[int, ...], used: int) -> None:
        if len(labels) == size:
            if used == count:
                found.append(labels)
            return
        for label in range(min(used + 1, count)):
            extend((*labels, label), max(used, label + 1))

    extend((), 0)
    return found


def _pace(members: Sequence[Member], labels: tuple[int, ...], count: int) -> tuple[float, float]:
    """`assign`'s measure of a grouping: the slowest lane's first round plus the slowest lane's later
    round, and the latter alone (in `weight × cost` units)."""
    steady, first = [0.0] * count, [0.0] * count
    for member, label in zip(members, labels, strict=True):
        steady[label] += member.weight * member.cost
        first[label] += member.weight * member.cost + member.first
    return max(first) + max(steady), max(steady)


def _greedy(members: Sequence[Member], count: int) -> list[list[tuple[int, Member]]]:
    """`count` lanes by CPU time per round (`weight × cost`): largest first onto the lane with the
    least load so far (ties: the earlier member, the lower lane)."""
    loads = [0.0] * count
    groups: list[list[tuple[int, Member]]] = [[] for _ in range(count)]
    load = [member.weight * member.cost for member in members]
    for index in sorted(range(len(members)), key=lambda i: (-load[i], i)):
        lane = min(range(count), key=lambda k: (loads[k], k))
        groups[lane].append((index, members[index]))
        loads[lane] += load[index]
    return [sorted(group, key=lambda pair: pair[0]) for group in groups if group]


def run_lanes(lanes: Sequence[Lane], deadline: float | None) -> list[LaneReport | None]:
    """Run `lanes[0]` here and the others in forked processes under the deciding rule (module
    docstring); each lane's report, in order (None: a worker lane that did not report by the
    deadline and `GRACE`, or died)."""
    reporter = _reporter(lanes)
    if len(lanes) == 1:
        try:
            while lanes[0].pending() is not None:
                lanes[0].run_next()
                _report(reporter, lanes[0], None)
            return carry_back(lanes[0].config, [lanes[0].finish()])
        except KeyboardInterrupt:
            lanes[0].close()
            raise Unfinished(unshrunk=_violations([lanes[0].find])) from None
    ctx: Any = multiprocessing.get_context("fork")
    for stream in (sys.stdout, sys.stderr):  # a forked copy of unwritten output would be written twice
        with contextlib.suppress(Exception):
            stream.flush()
    procs: list[multiprocessing.process.BaseProcess] = []
    conns: list[Connection] = []
    done = False
    coordinator: _Coordinator | None = None
    try:
        procs, conns = started(ctx, _serve, [(lane,) for lane in lanes[1:]], "kubeprop-lane")
        coordinator = _Coordinator(conns)
        reports: list[LaneReport | None] = [_run_local(lanes[0], coordinator, reporter)]
        now = time.perf_counter()
        coordinator.wait_all(None if deadline is None else max(deadline, now) + grace(now - lanes[0].began))
        done = True
        return carry_back(lanes[0].config, reports + coordinator.final_reports())
    except KeyboardInterrupt:
        raise Unfinished(unshrunk=_violations([lanes[0].find, *_finds_so_far(coordinator)])) from None
    finally:
        stop_workers(procs, conns, patient=done)


def carry_back(config: EngineConfig, reports: list[LaneReport | None]) -> list[LaneReport | None]:
    """`reports`, once each member's search on past known upstream behaviour (`LaneReport.tallies`)
    is carried back to the calling process's (`SearchPast.take`) as it stood after the member's last
    turn before the deciding find (at or before its position; every turn without one): the counts
    one lane would have reached, whatever turns a lane ran past the answer before it heard of it. So
    a member that used up its recognitions in a forked lane is reported as in one lane ("stopped"),
    and the next run's members go on from the same counts."""
    take = getattr(config.excuse, "take", None)
    if take is None:
        return reports
    bound = min((r.find.position for r in reports if r is not None and r.find is not None), default=NEVER)
    for report in reports:
        for member, tally in ({} if report is None else report.tallies).items():
            take(member, [counts for at, counts in tally if at <= bound][-1])
    return reports


def _finds_so_far(coordinator: _Coordinator | None) -> list[Find]:
    """The worker lanes' finds, those still in the pipes included (on Ctrl-C: the lanes ignore it
    and a find they sent is kept)."""
    if coordinator is None:
        return []
    for _ in range(4 * len(coordinator.conns)):  # a lane sends at most a round, a find and its report
        try:
            if not wait(coordinator.conns, 0):
                break
            coordinator.poll(0.0)
        except Exception:
            break
    return [*coordinator.finds.values(), *(r.find for r in coordinator.reports if r is not None and r.find)]


def _violations(finds: Sequence[Find | None]) -> tuple[EngineResult, ...]:
    """The members' results with a violation among `finds`, in position order, one per property."""
    seen: dict[str, Find] = {}
    for find in sorted((f for f in finds if f is not None and f.result.violation is not None),
                       key=lambda f: f.position):
        seen.setdefault(find.result.violation.property, find)
    return tuple(f.result for f in seen.values())


def _reporter(lanes: Sequence[Lane]) -> Reporter | None:
    """The live progress of the lanes, if their configuration asks for it (`EngineConfig.progress`)."""
    progress = lanes[0].config.progress
    return None if progress is None else Reporter(progress, len(lanes))


def _report(reporter: Reporter | None, lane: Lane, coordinator: _Coordinator | None) -> None:
    """After a turn of the calling process's lane: where the lanes stand, to `reporter`."""
    if reporter is None:
        return
    finds = [lane.find, *([] if coordinator is None else coordinator.finds.values())]
    found = (f.result.violation.property for f in finds if f is not None and f.result.violation is not None)
    steps = lane.steps + (0 if coordinator is None else sum(coordinator.steps))
    reporter.tick(lane.round if coordinator is None else coordinator.slowest, steps, found)


def _run_local(lane: Lane, coordinator: _Coordinator, reporter: Reporter | None = None) -> LaneReport:
    """The calling process's lane: its turns before the bound, at most `AHEAD` rounds ahead of the
    slowest lane, taking the worker lanes' messages between turns."""
    try:
        while (position := lane.pending()) is not None and position < coordinator.bound:
            coordinator.progress(0, lane.round)
            if position[0] > coordinator.slowest + AHEAD:
                coordinator.poll(_left(lane.deadline))
                continue
            lane.run_next()
            if lane.find is not None:
                coordinator.lower(lane.find.position)
            coordinator.poll(0.0)
            _report(reporter, lane, coordinator)
    except BaseException:
        lane.close()
        raise
    coordinator.over(0)
    return lane.finish()


def _left(deadline: float | None) -> float | None:
    """Seconds until `deadline` (None: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.perf_counter())


class _Coordinator:
    """The parent's side: the bound, every lane's round (lane 0 is the calling process's), the
    slowest round of the lanes still running, and the worker lanes' reports. Worker lane `k`
    talks through `conns[k - 1]`."""

    def __init__(self, conns: list[Connection]) -> None:
        self.conns = conns
        self.bound = NEVER
        self.reports: list[LaneReport | None] = [None] * len(conns)
        self.finds: dict[int, Find] = {}
        """Worker lane → the find it sent (each lane sends at most one)."""
        self.open = set(range(1, len(conns) + 1))
        """Worker lanes that have not reported (nor died)."""
        self.rounds = [0] * (len(conns) + 1)
        self.steps = [0] * len(conns)
        """Worker lane k's steps as of its last round (`steps[k - 1]`)."""
        self.ended: set[int] = set()
        """Lanes that run no more turns (they hold no lane back)."""
        self.slowest = 0

    def _send(self, message: tuple[str, Any]) -> None:
        for lane in self.open:
            with contextlib.suppress(OSError):
                self.conns[lane - 1].send(message)

    def lower(self, position: Position) -> None:
        """A find at `position`: the new bound if it is earlier, sent to every lane still running."""
        if position < self.bound:
            self.bound = position
            self._send(("bound", position))

    def progress(self, lane: int, round_: int) -> None:
        """Lane `lane` is in round `round_`."""
        self.rounds[lane] = round_
        self._slowest()

    def over(self, lane: int) -> None:
        """Lane `lane` runs no more turns."""
        self.ended.add(lane)
        self._slowest()

    def _slowest(self) -> None:
        running = [r for lane, r in enumerate(self.rounds) if lane not in self.ended]
        slowest = min(running) if running else sys.maxsize
        if slowest > self.slowest:
            self.slowest = slowest
            self._send(("slowest", slowest))

    def poll(self, timeout: float | None) -> None:
        """Take the worker lanes' messages — every one already sent, else waiting at most `timeout`
        seconds for one (None: until one comes). All of them: a lane's find often comes right after
        its round, and the calling lane, polling between its turns, would otherwise run a turn more
        before it heard of it (rs-no-expectations on FeastFlow: Hypothesis's first turn, 0.3 s, after
        `around` had found it at the first turn)."""
        ready = wait(self._listening(), timeout)
        while ready:
            for conn in ready:
                self._take(conn)  # type: ignore[arg-type]
            ready = wait(self._listening(), 0) if self.open else []

    def _listening(self) -> list[Connection]:
        """The pipes of the worker lanes that have not reported (nor died)."""
        return [self.conns[lane - 1] for lane in sorted(self.open)]

    def _take(self, conn: Connection) -> None:
        """One message of the worker lane at the other end of `conn`."""
        lane = self.conns.index(conn) + 1
        try:
            kind, value = conn.recv()
        except (EOFError, OSError):
            self.open.discard(lane)  # it died: no report
            self.over(lane)
            return
        if kind == "error":
            raise LaneError(value)
        if kind == "user-error":
            raise value
        if kind == "round":
            self.progress(lane, value[0])
            self.steps[lane - 1] = value[1]
        elif kind == "found":
            self.finds[lane] = value
            self.lower(value.position)
        elif kind == "done":
            self.reports[lane - 1] = value
            self.open.discard(lane)
            self.over(lane)
            if value.find is not None:
                self.lower(value.find.position)

    def final_reports(self) -> list[LaneReport | None]:
        """Each worker lane's report; for one that did not report but sent a find, a partial
        report with that find (None: neither)."""
        return [report if report is not None or lane not in self.finds
                else LaneReport(self.finds[lane], {}, {}, 0.0, self.finds[lane].seconds, complete=False)
                for lane, report in enumerate(self.reports, 1)]

    def wait_all(self, until: float | None) -> None:
        """Until every worker lane has reported, or the `time.perf_counter()` value `until` passes."""
        while self.open:
            left = None if until is None else until - time.perf_counter()
            if left is not None and left <= 0:
                return
            self.poll(left)


@attrs.define
class _View:
    """What a worker lane knows of the others: the bound and the slowest lane's round."""

    bound: Position = NEVER
    slowest: int = 0

    def take(self, message: tuple[str, Any]) -> None:
        kind, value = message
        if kind == "bound":
            self.bound = min(self.bound, value)
        else:
            self.slowest = max(self.slowest, value)


def _serve(conn: Connection, lane: Lane) -> None:
    """A worker lane: its turns before the bound, at most `AHEAD` rounds ahead of the slowest lane,
    each new round and its find reported at once, then its report."""
    ignore_interrupts()  # Ctrl-C is the parent's: it terminates the lanes
    view, told, before = _View(), -1, ledger()
    try:
        while (position := lane.pending()) is not None and position < view.bound:
            if lane.round != told:
                conn.send(("round", (lane.round, lane.steps)))
                told = lane.round
            if position[0] > view.slowest + AHEAD:
                if conn.poll(_left(lane.deadline)):
                    view.take(conn.recv())
                continue
            lane.run_next()
            if lane.find is not None:
                conn.send(("found", lane.find))
            while conn.poll():
                view.take(conn.recv())
        conn.send(("done", attrs.evolve(lane.finish(), calls=since(before))))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        lane.close()  # the parent is gone
    except UserCodeError as err:  # the user's controller or property: the same error as in one process
        lane.close()
        with contextlib.suppress(OSError):
            conn.send(("user-error", UserCodeError(str(err))))
    except BaseException:
        lane.close()
        with contextlib.suppress(OSError):
            conn.send(("error", f"portfolio lane: {traceback.format_exc()}"))
