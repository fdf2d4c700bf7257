"""The portfolio's lanes (`lanes.py`): the deciding rule on fake members, and 1, 2 and 3 lanes giving
the one-lane result on catalogue scenarios, within the budget, with no worker left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.counterexamples.api import check
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.engine import (
    ActiveTimer,
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    Sliced,
    SliceGen,
    Slicer,
)
from kubeprop.properties.explore.lanes import DEFAULT_LANES, LaneError, assign, grace, lane_count
from kubeprop.properties.explore.portfolio import LATE, MEMBERS, TURN, Member, run_portfolio
from kubeprop.properties.registry import Violation

if TYPE_CHECKING:
    from kubeprop.model.state.cluster import ClusterModel, ClusterState

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"
NO_MODEL = cast(Any, None)
"""The fake members never look at the model or the start state."""


def _fake(name: str, find_at: int | None, per_step: float, fail: BaseException | None,
          stop_delay: float = 0.0) -> SliceGen:
    """An engine that takes one step at a time (sleeping `per_step` seconds each) and finds a
    violation at its `find_at`-th step (None: never; it then finishes after `FAKE_RUNS` steps);
    stopped, it takes `stop_delay` seconds to return."""
    slicer = Slicer(ActiveTimer(), (yield))
    taken = 0
    while not slicer.stopped:
        taken += 1
        if per_step:
            FAKE_TIME["sleep"](per_step)
        if fail is not None and taken == 50:
            raise fail
        stats = EngineStats(slicer.timer.seconds(), taken)
        if taken == find_at:
            return EngineResult(name, ExitReason.VIOLATION, Violation(name, f"step {taken}"), (), stats)
        if find_at is None and taken == FAKE_RUNS:
            return EngineResult(name, ExitReason.RUNS_DONE, stats=stats)
        yield from slicer.pause(taken)
    if stop_delay:
        FAKE_TIME["stuck"]()
        time.sleep(stop_delay)  # a real sleep under the step clock too: the lane is stuck
    return EngineResult(name, ExitReason.TIME_BOUND, stats=EngineStats(slicer.timer.seconds(), taken))


FAKE_RUNS = 20_000
"""Steps after which a fake member that finds nothing finishes."""

FAKE_TIME: dict[str, Callable[..., None]] = {"sleep": time.sleep, "stuck": lambda: None}
"""How a fake member spends `per_step` (`sleep`: really, or on the step clock, `StepClock`), and what
it calls as it begins its `stop_delay` (`stuck`: the step clock learns that its lane is stuck)."""


class StepClock:
    """An injected clock for the lanes (`lanes.py`, `lane_turns.py`, `portfolio.py`, `slicing.py`
    read `time`): seconds pass only when a fake member spends its `per_step` and when a wait for the
    worker lanes times out, so where each lane stops against the budget, what it reports and when
    it is cut off do not depend on the machine's load. `process_time` is the same clock (a lane's CPU seconds are
    the seconds its members spent). Each process has its own copy from the fork on, as if each
    lane had its own core. A wait for the worker lanes lasts until a message comes, however long
    that takes on a loaded machine, unless a member of a worker lane is stuck (`stop_delay`: it
    really blocks, and says so through an event shared with the forked lanes): then the wait
    times out, and its timeout passes on the clock."""

    def __init__(self) -> None:
        self.now = 1024.0
        self.stuck = multiprocessing.get_context("fork").Event()

    def perf_counter(self) -> float:
        return self.now

    process_time = perf_counter

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from kubeprop.properties.explore import lane_turns, slicing
        from kubeprop.properties.explore import lanes as lanes_module
        from kubeprop.properties.explore import portfolio as portfolio_module

        for module in (lanes_module, lane_turns, portfolio_module, slicing):
            monkeypatch.setattr(module, "time", self)
        monkeypatch.setitem(FAKE_TIME, "sleep", self.sleep)
        monkeypatch.setitem(FAKE_TIME, "stuck", self.stuck.set)
        real_wait = lanes_module.wait

        def wait(conns: Any, timeout: float | None = None) -> Any:
            while True:
                ready = real_wait(conns, 0.05 if timeout is None else min(timeout, 0.05))
                if ready or timeout == 0:
                    return ready
                if timeout is not None and self.stuck.is_set():
                    self.now += timeout  # the wait timed out: that much time passed
                    return ready

        monkeypatch.setattr(lanes_module, "wait", wait)


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> StepClock:
    clock = StepClock()
    clock.install(monkeypatch)
    return clock


def fake(name: str, weight: float, find_at: int | None, per_step: float = 0.0,
         fail: BaseException | None = None, stop_delay: float = 0.0) -> Member:
    def start(model: ClusterModel, begin: ClusterState, config: EngineConfig) -> Sliced:
        return Sliced(_fake(name, find_at, per_step, fail, stop_delay))

    return Member(name, start, weight)


def one_lane_answer(members: tuple[Member, ...], finds: list[int | None]) -> str | None:
    """The oracle: the member whose find comes at the least (round, index), from the credit rule
    alone (a fake takes exactly the steps its turn allows)."""
    credit = [0.0] * len(members)
    taken = [0] * len(members)
    for _ in range(10_000):
        for i, member in enumerate(members):
            if finds[i] is None:
                continue
            credit[i] += TURN * member.weight
            if credit[i] < 1:
                continue
            steps = round(credit[i])
            if taken[i] + steps >= cast(int, finds[i]):
                return member.name
            taken[i] += steps
            credit[i] -= steps
    return None


def portfolio(members: tuple[Member, ...], lanes: int, budget: float = 30.0) -> EngineResult:
    result: EngineResult = run_portfolio(NO_MODEL, NO_MODEL, EngineConfig(workers=lanes, budget_seconds=budget),
                                         members)
    return result


def no_worker_left() -> bool:
    return not multiprocessing.active_children()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.5, 1.0, 2.0, 3.0, 8.0]), st.one_of(st.none(), st.integers(1, 3000))),
                min_size=2, max_size=5))
def test_the_find_at_the_least_position_wins_with_any_lane_count(spec: list[tuple[float, int | None]]) -> None:
    members = tuple(fake(f"m{i}", weight, find) for i, (weight, find) in enumerate(spec))
    expected = one_lane_answer(members, [find for _, find in spec])
    for lanes in (1, 2, 3):
        result = portfolio(members, lanes)
        found = None if result.violation is None else result.violation.property
        assert found == expected, (lanes, spec)
        assert len(result.stats.lanes) == min(lanes, len(members))
    assert no_worker_left()


def test_an_earlier_position_found_later_in_time_still_wins() -> None:
    """`late` (index 0, a light member in the worker lane) finds at its 4th turn, slowly; `quick`
    (index 1, the heavy member of the calling process's lane) finds in its 4th round at once.
    One lane: `late` first in round 3. Two lanes: `quick`'s find comes first in time, and the
    parent waits for the worker lane to finish the turns before it."""
    members = (fake("late", 1.0, 4 * TURN, per_step=0.002), fake("quick", 8.0, 4 * TURN * 8 - 10),
               fake("other", 1.0, None))
    assert [[m.name for _, m in lane] for lane in assign(members, 2)] == [["quick"], ["late", "other"]]
    for lanes in (1, 2):
        result = portfolio(members, lanes)
        assert result.violation.property == "late", lanes
        assert result.stats.note == "found by late"
    quick_first = (fake("late", 1.0, 5 * TURN, per_step=0.002), *members[1:])
    assert portfolio(quick_first, 2).violation.property == "quick"  # round 3 before round 4
    assert no_worker_left()


def test_a_find_in_a_worker_lane_that_reports_too_late_is_kept(clock: StepClock,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker lane finds in its third round, then takes 30 s to stop its other member — past the budget
    and the grace: it is terminated, yet its find (sent at once) decides, and the members whose
    figures are missing say so. On the step clock (`StepClock`): the calling lane's three rounds
    take 1.44 s of its 2 s budget, it waits for the worker lane until the deadline and the grace
    (`lanes.grace`) have passed, and no longer — the stuck lane is terminated (SIGTERM), not
    waited for."""
    from kubeprop.properties.explore import lanes as lanes_module

    stopped: list[Any] = []
    real_stop = lanes_module.stop_workers

    def recorded(procs: Any, conns: Any, patient: bool) -> None:
        real_stop(procs, conns, patient)
        stopped.extend(procs)

    monkeypatch.setattr(lanes_module, "stop_workers", recorded)
    members = (fake("heavy", 8.0, None, per_step=0.001), fake("finder", 1.0, 2 * TURN + 10),
               fake("stuck", 1.0, None, per_step=0.001, stop_delay=30.0))
    assert [[m.name for _, m in lane] for lane in assign(members, 2)] == [["heavy"], ["finder", "stuck"]]
    began = clock.now
    result = portfolio(members, 2, budget=2.0)
    assert result.violation is not None and result.violation.property == "finder"
    parts = {part.engine: part for part in result.stats.parts}
    assert parts["finder"].violation is not None
    assert parts["stuck"].stats.note == LATE
    assert 2.0 + grace(1.44) == pytest.approx(clock.now - began)  # the deadline, then the grace
    assert [proc.exitcode for proc in stopped] == [-signal.SIGTERM]
    assert no_worker_left()


def test_found_after_is_when_the_find_was_known_to_win_not_when_the_lanes_stopped(clock: StepClock) -> None:
    """`finder` (index 0, the worker lane) finds at its 10th step, 0.01 s in; `heavy` (index 1, the
    calling process's lane) runs its first turn of 480 steps, 0.48 s, before it hears of the find. No
    turn of `heavy` comes before the find's, so the find was known to win when it was made: 0.01 s,
    not 0.48 (`LaneReport.past`); `heavy`'s figures still count the whole turn it ran."""
    members = (fake("finder", 1.0, 10, per_step=0.001), fake("heavy", 8.0, None, per_step=0.001))
    assert [[m.name for _, m in lane] for lane in assign(members, 2)] == [["heavy"], ["finder"]]
    result = portfolio(members, 2)
    assert result.violation is not None and result.violation.property == "finder"
    assert result.stats.found_after is not None and result.stats.found_after == pytest.approx(0.01, abs=1e-6)
    assert [p.stats.steps for p in result.stats.parts] == [10, 8 * TURN]
    assert no_worker_left()


def test_a_lane_is_past_a_position_once_its_turns_before_it_ended() -> None:
    """`LaneReport.past`: the end of the lane's last turn before the position; when it stopped, if the
    budget stopped it before that position or it is not known how far it got."""
    from kubeprop.properties.explore.lane_turns import NEVER, LaneReport

    report = LaneReport(None, {}, {}, 0.0, 2.0, turns=(((0, 0), 0.5), ((0, 2), 0.9), ((1, 0), 1.4)), reached=NEVER)
    assert [report.past(p) for p in ((0, 0), (0, 1), (1, 0), (1, 1), NEVER)] == [0.0, 0.5, 0.9, 1.4, 1.4]
    stopped = attrs.evolve(report, reached=(1, 0))  # the budget ran out before its turn (1, 0)
    assert [stopped.past(p) for p in ((0, 1), (1, 0), (1, 1))] == [0.5, 0.9, 2.0]
    assert LaneReport(None, {}, {}, 0.0, 2.0).past((0, 0)) == 2.0  # not known how far it got: when it stopped


def test_the_coordinator_takes_every_message_already_sent() -> None:
    """A worker lane's round and its find, sent one after the other, are both taken by one poll: the
    calling lane, polling between its turns, then stops before its next turn rather than after it."""
    from kubeprop.properties.explore.lane_turns import Find
    from kubeprop.properties.explore.lanes import _Coordinator

    ours, theirs = multiprocessing.get_context("fork").Pipe(duplex=True)
    coordinator = _Coordinator([ours])
    theirs.send(("round", (0, 35)))
    theirs.send(("found", Find((0, 0), "around", EngineResult("around", ExitReason.VIOLATION), 0.1)))
    coordinator.poll(0.0)
    assert coordinator.bound == (0, 0) and coordinator.steps == [35]
    ours.close()
    theirs.close()


def test_a_failing_member_in_a_worker_lane_raises_and_leaves_no_worker() -> None:
    members = (fake("heavy", 8.0, None, per_step=0.001), fake("broken", 1.0, None, fail=ValueError("boom")))
    with pytest.raises(LaneError, match="boom"):
        portfolio(members, 2)
    assert no_worker_left()


def test_ctrl_c_in_the_calling_process_ends_every_worker_lane() -> None:
    members = (fake("interrupted", 8.0, None, fail=KeyboardInterrupt()), fake("light", 1.0, None, per_step=0.01))
    with pytest.raises(KeyboardInterrupt):
        portfolio(members, 2)
    assert no_worker_left()


def test_ctrl_c_keeps_a_find_a_worker_lane_sent() -> None:
    """The worker lane's member finds in its first turn; Ctrl-C lands in the calling process's
    lane a second later, before the portfolio could decide: the interrupt carries that find."""
    members = (fake("interrupted", 8.0, None, per_step=0.04, fail=KeyboardInterrupt()), fake("finder", 1.0, 10))
    assert [[m.name for _, m in lane] for lane in assign(members, 2)] == [["interrupted"], ["finder"]]
    with pytest.raises(Unfinished) as caught:
        portfolio(members, 2)
    assert [r.violation.property for r in caught.value.unshrunk] == ["finder"]
    assert no_worker_left()


@pytest.mark.parametrize("lanes", [1, 2])
def test_ctrl_c_while_shrinking_keeps_the_find_unshrunk(lanes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> EngineResult:
        raise KeyboardInterrupt

    monkeypatch.setattr("kubeprop.properties.explore.portfolio.shrink_found", interrupted)
    members = (fake("heavy", 8.0, None), fake("finder", 1.0, 2 * TURN + 10))
    with pytest.raises(Unfinished) as caught:
        portfolio(members, lanes)
    assert [r.violation.property for r in caught.value.unshrunk] == ["finder"]
    assert caught.value.found == ()
    assert no_worker_left()


def test_lanes_are_balanced_by_cpu_per_round_deterministically() -> None:
    lanes = assign(MEMBERS, 2)
    assert [[m.name for _, m in lane] for lane in lanes] == [
        ["perturb", "hypothesis"], ["around", "faults", "pct", "walk", "bfs"]]
    three = assign(MEMBERS, 3)
    assert sorted(i for lane in three for i, _ in lane) == list(range(len(MEMBERS)))
    assert [round(sum(m.weight * m.cost for _, m in lane), 2) for lane in three] == [12.0, 5.75, 3.5]
    assert [round(sum(m.weight * m.cost + m.first for _, m in lane), 2) for lane in three] == [17.5, 17.75, 17.0]
    assert len(assign(MEMBERS, 20)) == len(MEMBERS)
    assert [len(assign(MEMBERS, k)) for k in (1, 4, 7)] == [1, 4, 7]


def test_the_first_rounds_one_time_costs_are_balanced_too() -> None:
    """`b` and `c` cost little a round but much in their first turn (a fair continuation with nothing
    memoised yet): by the rounds alone (`a` alone, the rest together: 8 and 8) their lane's first round
    would take 24 against 8, and every find waits for it; `a` with `b` takes 17 against 15 there,
    for 9 against 7 a round after."""
    def member(name: str, weight: float, first: float) -> Member:
        return Member(name, fake(name, weight, None).start, weight, first=first)

    members = (member("a", 8.0, 0.0), member("b", 1.0, 8.0), member("c", 1.0, 8.0), member("d", 6.0, 0.0))
    assert [[m.name for _, m in lane] for lane in assign(members, 2)] == [["a", "b"], ["c", "d"]]


def test_one_lane_where_lanes_cannot_run_with_the_reason() -> None:
    assert lane_count(EngineConfig(workers=3), MEMBERS) == (3, "")
    assert lane_count(EngineConfig(workers=1), MEMBERS) == (1, "")
    count, why = lane_count(EngineConfig(workers=2, on_run=lambda trace: None), MEMBERS)
    assert count == 1 and "on_run" in why
    count, why = lane_count(EngineConfig(workers=2, start_method="spawn"), MEMBERS)
    assert count == 1 and "fork" in why
    assert 1 <= lane_count(EngineConfig(), MEMBERS)[0] <= DEFAULT_LANES
    members = (fake("a", 8.0, 5), fake("b", 1.0, None))
    result = run_portfolio(NO_MODEL, NO_MODEL, EngineConfig(workers=2, start_method="spawn", budget_seconds=30.0),
                           members)
    assert result.stats.note == "found by a (one lane: worker lanes need the fork start method)"
    assert len(result.stats.lanes) == 1


CASES = [("web", "rs-no-expectations"), ("tight", "dual-scheduler"), ("web-flap", "endpoints-stale-cache"),
         ("web-rollout", "rollout-fencepost"), ("tainted", "scheduler-ignores-taints"),
         (None, "scheduler-ignores-taints")]
"""Variants found at later rounds (dual-scheduler, rs-no-expectations) and in the first, by members
of either lane (pct, around, perturb), and one on FeastFlow (None)."""


@pytest.mark.parametrize(("scenario", "variant"), CASES)
def test_one_two_and_three_lanes_give_the_one_lane_result(scenario: str | None, variant: str) -> None:
    path = None if scenario is None else CATALOGUE / f"{scenario}.yaml"
    reports = [check(path, variant=variant, budget=60.0, seed=0, config=EngineConfig(workers=lanes))
               for lanes in (1, 2, 3)]
    one = reports[0]
    assert one.violation is not None
    for lanes, report in zip((1, 2, 3), reports, strict=True):
        assert len(report.stats.lanes) == lanes
        assert (report.violation, report.trace, report.stats.note, report.stats.shrunk_from) == (
            one.violation, one.trace, one.stats.note, one.stats.shrunk_from), lanes
    assert no_worker_left()


def test_the_trace_before_shrinking_is_the_same_too() -> None:
    unshrunk = [check(CATALOGUE / "tight.yaml", variant="dual-scheduler", budget=60.0, seed=0,
                      config=EngineConfig(workers=lanes, shrink=False)) for lanes in (1, 2)]
    assert unshrunk[0].violation is not None
    assert (unshrunk[0].violation, unshrunk[0].trace) == (unshrunk[1].violation, unshrunk[1].trace)


@pytest.mark.parametrize("lanes", [2, 3])
def test_a_clean_run_stops_every_lane_at_its_budget_with_no_worker_left(
        lanes: int, clock: StepClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """What it guards: the budget, not the members' runs, ends a clean run, on every lane — each lane
    stops by itself at the deadline and reports, its figures come back, and no worker outlives the
    call. On the step clock (`StepClock`), so exactly: each lane takes its last step at the deadline
    (`LaneReport.ended`) and spends its CPU seconds (`stats.lanes`) up to it, within one step, on
    a quiet or a loaded machine alike; a lane that ignored the deadline would run its members'
    20 s. That the budget holds on the wall clock with the real members (2 and 3 lanes, web.yaml)
    is a timing target: `benchmarks/bench_lanes_budget.py`."""
    from kubeprop.properties.explore import portfolio as portfolio_module

    reports: list[Any] = []
    real_run_lanes = portfolio_module.run_lanes

    def recorded(*args: Any, **kwargs: Any) -> Any:
        reports.extend(real_run_lanes(*args, **kwargs))
        return reports

    monkeypatch.setattr(portfolio_module, "run_lanes", recorded)
    step, budget = 2.0 ** -10, 1.0  # (binary fractions: the clock's sums are exact)
    members = tuple(fake(f"m{i}", weight, None, per_step=step) for i, weight in enumerate((3.0, 8.0, 1.0, 1.0, 2.0)))
    result = portfolio(members, lanes, budget=budget)
    assert result.violation is None and result.exit_reason == ExitReason.TIME_BOUND
    parts = result.stats.parts
    assert [p.engine for p in parts] == [m.name for m in members]
    assert all(p.stats.note != LATE and p.exit_reason == ExitReason.TIME_BOUND for p in parts)
    assert len(reports) == lanes and all(r is not None and r.complete for r in reports)
    for report in reports:
        assert budget <= report.ended < budget + step + 1e-9, f"a lane took its last step {report.ended:.4f} s in"
    assert len(result.stats.lanes) == lanes
    assert all(budget <= cpu < budget + step + 1e-9 for cpu in result.stats.lanes), result.stats.lanes
    for lane in assign(members, lanes):  # each lane's figures came back: its steps are the seconds it ran
        assert sum(parts[index].stats.steps for index, _ in lane) == budget / step
    assert no_worker_left()
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if children.exists():
        assert children.read_text().split() == []


def test_the_report_says_how_many_lanes_ran(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kubeprop.properties.cli.main import main

    code = main(["check", str(CATALOGUE / "tainted.yaml"), "--variant", "scheduler-ignores-taints", "--property",
                 "scheduler-decisions-sound", "--workers", "2", "--budget", "30", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "steps/s) on 2 lanes" in out


def test_a_clean_result_keeps_every_members_figures() -> None:
    members = (fake("a", 2.0, None), fake("b", 1.0, None), fake("c", 1.0, None))
    result = portfolio(members, 2)
    assert result.exit_reason == ExitReason.RUNS_DONE
    assert [(p.engine, p.exit_reason, p.stats.steps) for p in result.stats.parts] == [
        (name, ExitReason.RUNS_DONE, FAKE_RUNS) for name in "abc"]
    assert result.stats.note == "" and len(result.stats.lanes) == 2


@pytest.mark.parametrize("lanes", [1, 2])
def test_live_progress_reports_rounds_steps_and_finds_without_changing_the_answer(
        lanes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user trial: 60 s of silence on a terminal. The calling lane reports after its turns
    (here every turn: `every` 0) the slowest round, the steps the lanes reported and the finds so
    far; the answer is the one without progress."""
    from kubeprop.properties.explore import progress as live

    monkeypatch.setattr(live.Reporter, "__init__", _every_turn(live.Reporter.__init__))
    seen: list[live.PortfolioProgress] = []
    members = (fake("slow", 1.0, None, per_step=0.0005), fake("finder", 2.0, 3 * TURN))
    config = EngineConfig(workers=lanes, budget_seconds=30.0, progress=seen.append)
    result = run_portfolio(NO_MODEL, NO_MODEL, config, members)
    assert result.violation is not None and result.violation.property == portfolio(members, 1).violation.property
    assert seen and all(p.lanes == lanes for p in seen)
    assert [p.steps for p in seen] == sorted(p.steps for p in seen) and seen[-1].steps > 0
    if lanes == 1:  # (with two, the find may be a worker lane's, known to the line once its message is taken)
        assert seen[-1].found == ("finder",)
    assert no_worker_left()


def _every_turn(init: Any) -> Any:
    def patched(self: Any, progress: Any, lanes: int, every: float = 1.0) -> None:
        init(self, progress, lanes, 0.0)
    return patched
