"""The run a user expects, computed once per check and shared by the searches that start from it.

Three of the portfolio's members begin with the same run: the search around the fair run
(`around`) and fault injection (`faults`) follow it as their cost-0 layer, the perturbation
search (`perturb`) as its first run — the expected run (`drive.expected_policy`: the control
plane fair, the user's next step when the cluster is quiet, no fault). Each used to compute it
itself, every step with its enabled actions, its safety verdict and, where the run is quiet, the
convergence judgement: on FeastFlow (about 500 steps) that was about 1,450 of the first ~2,000
one-lane portfolio steps, and `faults`, at 60 steps a round, spent its first eight turns on it.

`compute` follows it once, as those searches do (`around._Search`: the same checks in the same
order, a move that left the state as it was set aside until it changes as `drive.follow` sets it
aside, the run ending where the fair policy has nothing to take, at `settle_steps`, where it
reaches a state it reached before, or at the first violation), within the budget; the portfolio
does so before its lanes start — forked lanes inherit it — and hands it to its members in
`EngineConfig.expected`. A member's search (`share`) then takes each step along the run from
here instead of stepping (`Expected.successor`), and its enabled actions and safety verdict too
(`Expected.index`: a state of the run, at its depth, by identity), and shares the checker's and
the convergence judgements' memos; so its turns go to deviations from the first. What is shared
is exactly what the member would compute — the model is deterministic, and the enabled-actions
cache and the property memos change only *when* an answer is computed, never what it is — so a
member explores the same runs in the same order and finds the same violations, only in fewer
steps of its own. Looked up by depth and identity, never by a salted `hash()`: the same in every
process and with any number of lanes.

Counting: a step of the expected run is counted once, where it was computed — in the portfolio's
`expected` part (`part`), not in the members that take it from here (`_Search.free` counts those,
so that `around`'s layers still share their steps as they did: its one-deviation layer first gets
as many steps alone as the fair run took). A run cut by the budget is `complete=False`: a member
steps past its end itself, as before (by then it is out of time too).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kubeprop.model.cluster.incremental import Near, memoised
from kubeprop.model.state.actions import Action, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import OutOfBudget
from kubeprop.properties.explore.around import _Node, _Search
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, ExitReason, excused
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.progress import EXPECTED_EVERY, ExpectedProgress
from kubeprop.properties.explore.slicing import out_of_time
from kubeprop.properties.registry import Violation

NAME = "expected"
"""The portfolio's part for the expected run (`part`)."""


def key_of(config: EngineConfig) -> tuple[Any, ...]:
    """What the expected run and its verdicts depend on in a configuration: a member whose
    configuration differs there computes its own."""
    return (config.properties, config.action_filter, config.settle_steps, config.settle_ticks, config.convergence)


@attrs.define(eq=False)
class Expected:
    """The expected run from one start state: its states by depth (`states[0]` the start), and at
    each the safety verdict, the enabled actions (with the enabled-actions cache's answers,
    `Near`) and the fair choice — as far as the run was checked (a run ending at a violation
    has no enabled actions there) —, the state its last fair action reaches when the run reached
    it before (`after`: the run ends there), and the memos of its checker and of its convergence
    judgements (`around._Search.judged`), shared with the members."""

    key: tuple[Any, ...]
    checker: Checker
    judged: dict[ClusterState, Violation | None]
    states: list[ClusterState] = attrs.Factory(list)
    verdicts: list[Violation | None] = attrs.Factory(list)
    enabled: list[list[Action]] = attrs.Factory(list)
    nears: list[Near | None] = attrs.Factory(list)
    fair: list[Action | None] = attrs.Factory(list)
    after: ClusterState | None = None
    complete: bool = False
    steps: int = 0
    seconds: float = 0.0
    found: Violation | None = None
    """The violation the run ends at, if any (a member reports it, as it would have)."""

    def index(self, node: _Node) -> int | None:
        """`node`'s depth if its state is the expected run's state there (the very object)."""
        depth = node.depth
        return depth if depth < len(self.states) and self.states[depth] is node.state else None

    def fair_length(self, config: EngineConfig) -> int | None:
        """The length of `drive.fair_run` from the start within `config`'s bounds, if this run
        tells it (`engine.with_fair_length`: PCT runs and walks as long as the fair run): a run
        that ended where the fair policy had nothing left to take — unrestricted by an action
        filter, with no violation on the way, and no state reached twice (a move that left the
        state as it was set aside, as `drive.follow` sets it aside: `around._Search.fair`) — is
        that run."""
        if not self.complete or self.found is not None or self.after is not None or self.key[1] is not None:
            return None
        same = (config.action_filter, config.settle_steps, config.settle_ticks) == self.key[1:4]
        return len(self.states) - 1 if same else None

    def verdict_at(self, node: _Node) -> tuple[Violation | None] | None:
        """The safety verdict at `node`, if its state is one the run checked (None: not known)."""
        depth = self.index(node)
        return None if depth is None or depth >= len(self.verdicts) else (self.verdicts[depth],)

    def enabled_at(self, node: _Node) -> tuple[list[Action], Near | None] | None:
        """The enabled actions at `node` and the enabled-actions cache's answers there, if its
        state is one the run checked that far (None: not known)."""
        depth = self.index(node)
        return None if depth is None or depth >= len(self.enabled) else (self.enabled[depth], self.nears[depth])

    def successor(self, node: _Node, act: Action) -> ClusterState | None:
        """The state after `act` at `node`, if that is a step of the expected run (None: not
        known here)."""
        depth = self.index(node)
        if depth is None or depth >= len(self.fair) or act != self.fair[depth]:
            return None
        if depth + 1 < len(self.states):
            return self.states[depth + 1]
        return self.after


def share(search: _Search, config: EngineConfig) -> None:
    """Let `search` take what `config.expected` knows (if it was computed for this configuration):
    steps, enabled actions, verdicts and memos."""
    expected = config.expected
    if not isinstance(expected, Expected) or expected.key != key_of(config):
        return
    search.expected = expected
    search.checker = expected.checker
    search.judged = expected.judged


def compute(model: ClusterModel, start: ClusterState, config: EngineConfig, deadline: float | None) -> Expected:
    """The expected run from `start`, checked as the searches around it check it (`around._visit`,
    `perturb._follow`), until it ends, reaches a state it reached before, shows a violation, or
    the `time.perf_counter()` `deadline` passes (then not `complete`). With `config.progress`, an
    `ExpectedProgress` about once a second."""
    began = time.perf_counter()
    report = _reporter(config.progress)
    with memoised(model) as cache:
        search = _Search(model, config, Checker(model, config.safety()), deadline, cache)
        run = Expected(key_of(config), search.checker, search.judged)
        node, policy = _Node(start, None, None, 0, 0), search.policy()
        search.seen.add(start)
        run.states.append(start)
        with contextlib.suppress(OutOfBudget):  # a property call refused past the budget: cut, not `complete`
            _follow(search, run, node, policy, report)
    run.steps, run.seconds = search.steps, time.perf_counter() - began
    return run


def _follow(search: _Search, run: Expected, node: _Node, policy: Any, report: Callable[[int], None]) -> None:
    """`compute`'s run, state by state (a state whose check a refused property call cut short has
    no verdict: `Expected.verdict_at` does not know it)."""
    while not _check(search, run, node, policy):
        fair = run.fair[-1]
        assert fair is not None
        state = search.successor(node, fair)
        same = search.stutter(node, fair, state, 0)
        if same is None and state in search.seen:
            run.after, run.complete = state, True
            break
        search.seen.add(state)
        policy.taken(fair)
        node = same or _Node(state, node, fair, node.depth + 1, 0)
        run.states.append(node.state)
        report(len(run.states) - 1)


def _reporter(progress: Callable[[Any], None] | None) -> Callable[[int], None]:
    """What `compute` calls with the run's length after each step: `progress` with an
    `ExpectedProgress` once `EXPECTED_EVERY` seconds have passed since the last (or the start)."""
    if progress is None:
        return lambda depth: None
    last = time.perf_counter()

    def report(depth: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= EXPECTED_EVERY:
            last = now
            progress(ExpectedProgress(depth))

    return report


def _check(search: _Search, run: Expected, node: _Node, policy: Any) -> bool:
    """Check `node` (the run's last state) and record what was found; True if the run ends there."""
    verdict = excused(search.config.excuse, search.checker.violation(node.state), node.path, node.state)
    run.verdicts.append(verdict)
    if verdict is not None:
        run.found, run.complete = verdict, True
        return True
    enabled = search.enabled(node)
    run.enabled.append(enabled)
    run.nears.append(node.near)
    fair = search.fair(node, policy, enabled)
    run.fair.append(fair)
    if fair is None or isinstance(fair, UserStep):
        ended = search.judge_end(node, 0)
        if ended is not None:
            run.found, run.complete = ended.violation, True
            return True
    if fair is None:
        run.complete = True
        return True
    return out_of_time(search.deadline)


def part(run: Expected, members: Sequence[str]) -> EngineResult:
    """The portfolio's part for the expected run, computed for `members`: its steps, its length,
    and where it ended (`time-bound` if the budget cut it). Its note says that it is the members'
    shared start, not an engine of its own (trial 10: a user read the `expected` line of the engines
    table as an engine and was refused `--engine expected`)."""
    reason = ExitReason.RUNS_DONE if run.complete else ExitReason.TIME_BOUND
    ends = f", ending at a violation of {run.found.property}" if run.found is not None else ""
    note = (f"the run a user expects, computed once for {', '.join(members)}{ends}; their shared start, not an "
            "engine of its own: --engine around follows it first")
    stats = EngineStats(run.seconds, run.steps, 1 if run.complete else 0, len(run.states), len(run.states) - 1,
                        note=note)
    return EngineResult(NAME, reason, stats=stats)
