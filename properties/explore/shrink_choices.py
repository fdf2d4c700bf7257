"""Shrinking a run by its choices: the departures from the fair run, not the actions.

A counterexample found around the fair run is mostly the fair run itself: on FeastFlow a
perturbed run is the run a user expects (about 500 steps, the whole workload), a partition, a few
hundred steps of its effects, and maybe a heal. Delta debugging over the actions (`shrink.ddmin`)
makes little headway there: nearly every candidate that drops actions leaves a later one disabled,
and each test replays hundreds of steps. So before it, this pass shrinks what *generated* the run,
as Hypothesis shrinks the choices a test made rather than the values it built ("Test-Case
Reduction via Test-Case Generation: Insights from the Hypothesis Reducer", MacIver and Donaldson,
ECOOP 2020):

- `decompose`: replayed under the expected fair policy (`drive.expected_policy`, the run a user
  expects), a trace is the fair policy's choices plus its *departures* — each action the policy
  would not have taken there, at the number of fair steps taken before it — and the number of the
  workload's steps the policy took;
- `Runs.run`: the run those choices generate: the fair policy, each departure taken when its fair
  step comes (or at once where the fair run has nothing left to take; skipped if not enabled then),
  at most that many workload steps, the safety properties on every state, and at the end the
  convergence judgement of the `Judge` (quiesce, the fair continuations);

both with the fair policy as `drive.follow` runs it: a move that left the state as it was (a
retry of a request refused for good: a quota, a webhook), or a poll (`drive.is_poll`: a key
requeued for ever, changing only its controller's memory), is set aside until the state changes,
as the controllers back off while time passes (`drive.follow`; the expected run of the searches
around it does the same, `around._Search.fair`). Without it the fair part of a run retried a
refused create at one state until its length ran out: no candidate that kept the retry could end
sooner, nor reach the next workload step or `Tick` the trace took there (which made them
departures);
- `shrink_choices`: fewer workload steps (the user stops early), fewer departures (delta debugging
  over them), each departure (and those after it, keeping their distances) earlier on the run.

Every candidate is a run of the model (only enabled actions are taken), so what it violates is a
real counterexample; a candidate counts only if it violates the same property in fewer actions
than the shortest so far. The delta debugging over actions then goes on from the result. Every
step replayed or generated here counts towards shrinking's bound (`ShrinkClock.spend`, through
the judge's `meter`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import FairPolicy, expected_policy, is_poll
from kubeprop.model.state.actions import Action, Quiesce, UserStep
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.calls import OutOfBudget
from kubeprop.properties.explore.engine import excused
from kubeprop.properties.explore.shrink_clock import ShrinkClock
from kubeprop.properties.explore.shrink_enabled import is_enabled
from kubeprop.properties.registry import Violation

if TYPE_CHECKING:
    from kubeprop.properties.explore.shrink import Judge

Departure = tuple[int, Action]
"""An action the fair policy would not have taken, and the number of fair steps taken before it."""

Outcome = tuple[Violation | None, tuple[Action, ...]]
"""What a judge says of a run: the violation and the actions that show it (`shrink.Judge`)."""

MAX_DEPARTURES = 64
"""Runs with more departures than this are left to delta debugging over actions: a random walk's
trace departs from the fair run at almost every step, and its choices are its actions."""

SHARE = 0.5
"""The part of the shrinking's steps (and time) left when this pass starts that it may take."""

FEW_DEPARTURES = 8
"""Up to this many departures, each is also tried away and earlier on its own; with more (an
informer or a controller held back departs at each of its steps) only the workload and the
departures as one block are shrunk here: delta debugging over the actions does the rest better,
one cheap replay per test instead of a run."""


@attrs.frozen
class Choices:
    """What generates a run: its departures from the fair run (in order of their fair steps) and
    how many of the workload's steps the fair policy takes."""

    departures: tuple[Departure, ...]
    users: int


class _Stop(Exception):
    """The clock's bound passed: its steps are spent, or its deadline."""


def decompose(judge: Judge, trace: Sequence[Action], clock: ShrinkClock | None = None,
              most: int | None = None) -> Choices | None:
    """The choices that generate `trace`, a run of the model (a trailing `Quiesce`, which the
    judge takes by itself for a convergence judgement, left out); None as soon as it has more
    than `most` departures; `_Stop` once the `clock`'s bound passed."""
    body = trace[:-1] if trace and isinstance(trace[-1], Quiesce) else trace
    model, state, policy = judge.model, judge.start, expected_policy(judge.settle_ticks)
    departures: list[Departure] = []
    fair = users = 0
    idle: frozenset[Action] = frozenset()
    for act in body:
        if clock is not None and clock.passed():
            raise _Stop
        if policy.next_action(model, state, idle) == act:
            fair += 1
            users += isinstance(act, UserStep)
        else:
            departures.append((fair, act))
            if most is not None and len(departures) > most:
                return None
        policy.taken(act)
        state, idle = _step(judge, state, act, idle)
    return Choices(tuple(departures), users)


def _step(judge: Judge, state: ClusterState, act: Action, idle: frozenset[Action]
          ) -> tuple[ClusterState, frozenset[Action]]:
    """The state after `act` (a step counted on the judge's `meter`) and the moves set aside
    there: `idle` and `act` if it left the state as it was or was a poll, else none (`drive.follow`)."""
    if judge.meter is not None:
        judge.meter.spend(1)
    after = step(judge.model, state, act)
    if (hash(after) == hash(state) and after == state) or is_poll(judge.model, state, act, after):
        return after, idle | {act}  # (the hash, cached: a quick test)
    return after, frozenset()


def _fair_choice(judge: Judge, policy: FairPolicy, state: ClusterState, no_more_users: bool,
                 idle: frozenset[Action]) -> Action | None:
    """The fair policy's next action but for the moves set aside (`idle`); with `no_more_users`,
    the workload's steps are over."""
    act = policy.next_action(judge.model, state, idle)
    if isinstance(act, UserStep) and no_more_users:
        policy.avoid = (*policy.avoid, UserStep)
        act = policy.next_action(judge.model, state, idle)
    return act


class _Prefix:
    """The fair run with at most `users` workload steps, as far as it was asked for: after each of
    its first i actions, the state, the policy's memory, the moves set aside and the workload steps
    taken; and the first violation on it. Runs share it up to their first departure."""

    def __init__(self, judge: Judge, users: int) -> None:
        self.judge, self.users = judge, users
        self.trace: list[Action] = []
        self.states = [judge.start]
        self.policies = [expected_policy(judge.settle_ticks)]
        self.idle: list[frozenset[Action]] = [frozenset()]
        self.taken = [0]
        self.failed: tuple[int, Violation] | None = None
        self.over = False

    def extend(self, length: int) -> int:
        """Follow the fair run to `length` actions (unless it ends or fails first); how far it goes."""
        while len(self.trace) < length and not self.over and self.failed is None:
            policy, state = self.policies[-1].copy(), self.states[-1]
            act = _fair_choice(self.judge, policy, state, self.taken[-1] >= self.users, self.idle[-1])
            if act is None:
                self.over = True
                break
            policy.taken(act)
            state, idle = _step(self.judge, state, act, self.idle[-1])
            self.trace.append(act)
            self.states.append(state)
            self.policies.append(policy)
            self.idle.append(idle)
            self.taken.append(self.taken[-1] + isinstance(act, UserStep))
            found = excused(self.judge.excuse, self.judge.checker.violation(state), lambda: self.trace, state)
            if found is not None:
                self.failed = (len(self.trace), found)
        return min(length, len(self.trace))


class Runs:
    """Generates and judges the runs of choices (`run`), counting the tests."""

    def __init__(self, judge: Judge, clock: ShrinkClock | None) -> None:
        self.judge, self.clock = judge, clock
        self.tests = 0
        self.prefixes: dict[int, _Prefix] = {}

    def run(self, choices: Choices, shorter_than: int | None = None) -> Outcome:
        """The violation the run of `choices` shows, and its actions (as `Judge` shows them);
        (None, ()) for a run that would show it in `shorter_than` actions or more (generated only
        that far)."""
        self.tests += 1
        judge, model = self.judge, self.judge.model
        bound = judge.settle_steps if shorter_than is None else min(judge.settle_steps, shorter_than)
        prefix = self.prefixes.setdefault(choices.users, _Prefix(judge, choices.users))
        fair = prefix.extend(min(bound, choices.departures[0][0] if choices.departures else bound))
        if prefix.failed is not None and prefix.failed[0] <= fair:
            at, early = prefix.failed
            return (early, tuple(prefix.trace[:at])) if at < bound or shorter_than is None else (None, ())
        state, policy, users = prefix.states[fair], prefix.policies[fair].copy(), prefix.taken[fair]
        idle, trace, pending = prefix.idle[fair], prefix.trace[:fair], list(choices.departures)
        while len(trace) < bound:
            if self.clock is not None and self.clock.passed():
                raise _Stop
            if pending and pending[0][0] <= fair:
                act = pending.pop(0)[1]
                if not is_enabled(model, state, act):
                    continue
            else:
                chosen = _fair_choice(judge, policy, state, users >= choices.users, idle)
                if chosen is None:
                    if not pending:
                        break
                    fair = pending[0][0]  # the fair run is over: the next departure now
                    continue
                act = chosen
                fair += 1
                users += isinstance(act, UserStep)
            policy.taken(act)
            state, idle = _step(judge, state, act, idle)
            trace.append(act)
            found = excused(judge.excuse, judge.checker.violation(state), lambda: trace, state)
            if found is not None:
                return found, tuple(trace)
        return self._judged(trace, state, shorter_than)

    def _judged(self, trace: list[Action], state: ClusterState, shorter_than: int | None) -> Outcome:
        """The convergence judgement at the end of a run (None for a run not shorter than asked)."""
        if shorter_than is not None and len(trace) >= shorter_than:
            return None, ()
        found, shown = self.judge.judge_from(trace, len(trace), state)
        if shorter_than is not None and len(shown) >= shorter_than:  # (with the `Quiesce` it took)
            return None, ()
        return found, shown


def shrink_choices(judge: Judge, trace: Sequence[Action], prop: str, clock: ShrinkClock | None) -> Outcome | None:
    """A shorter run violating `prop` from shrinking the choices of `trace` (which violates it),
    or None if none was found before the `clock`'s bound (`SHARE` of what it has left). A run
    the budget's deadline stops in the middle (`TimeUp`, from the judge's meter) ends the pass with
    the best run found before it; the caller learns of the deadline from the clock."""
    if clock is not None:  # a share of what is left: delta debugging over the actions needs some
        clock = clock.share(SHARE)
    try:
        decomposed = decompose(judge, trace, clock, MAX_DEPARTURES)
    except (_Stop, OutOfBudget):  # (`TimeUp` is one)
        return None
    if decomposed is None:
        return None
    choices = decomposed
    search = _Search(Runs(judge, clock), prop, len(trace))
    try:
        choices = search.fewer_users(choices)
        choices = search.earlier(choices, first=0, last=1)
        if len(choices.departures) <= FEW_DEPARTURES:
            choices = search.fewer_departures(choices)
            search.earlier(choices, first=1)
    except (_Stop, OutOfBudget):  # (`TimeUp` is one)
        pass
    return search.best


class _Search:
    """The shortest failing run found so far, and the three ways of shrinking choices."""

    def __init__(self, runs: Runs, prop: str, length: int) -> None:
        self.runs, self.prop, self.length = runs, prop, length
        self.best: Outcome | None = None

    def fails(self, choices: Choices) -> bool:
        """True if the run of `choices` violates the property in fewer actions than the best so far."""
        if self.runs.clock is not None and self.runs.clock.passed():
            raise _Stop
        found, shown = self.runs.run(choices, shorter_than=self.length)
        if found is None or found.property != self.prop or len(shown) >= self.length:
            return False
        self.best, self.length = (found, shown), len(shown)
        return True

    def fewer_users(self, choices: Choices) -> Choices:
        """The fewest workload steps (from none up) with which the run still fails."""
        for users in range(choices.users):
            fewer = attrs.evolve(choices, users=users)
            if self.fails(fewer):
                return fewer
        return choices

    def fewer_departures(self, choices: Choices) -> Choices:
        """Departures removed while the run still fails (delta debugging over them)."""
        from kubeprop.properties.explore.shrink import ddmin  # (shrink imports this module)

        def fails(departures: tuple[Departure, ...]) -> bool:  # (the departures it starts from fail)
            return departures == choices.departures or self.fails(attrs.evolve(choices, departures=departures))

        return attrs.evolve(choices, departures=ddmin(choices.departures, fails))

    def earlier(self, choices: Choices, first: int = 0, last: int | None = None) -> Choices:
        """Each departure from `first` to before `last` (None: to the end), with those after it,
        as early on the run as it still fails (binary search over its distance from the one
        before)."""
        for index in range(first, len(choices.departures) if last is None else min(last, len(choices.departures))):
            previous = choices.departures[index - 1][0] if index else 0
            low, high = 0, choices.departures[index][0] - previous  # shifted by `low`, it fails
            while low < high:
                middle = (low + high + 1) // 2
                if self.fails(_shifted(choices, index, middle)):
                    low = middle
                else:
                    high = middle - 1
            choices = _shifted(choices, index, low)
        return choices


def _shifted(choices: Choices, index: int, by: int) -> Choices:
    """`choices` with departure `index` and every one after it `by` fair steps earlier."""
    moved = tuple((at - by, act) if i >= index else (at, act) for i, (at, act) in enumerate(choices.departures))
    return attrs.evolve(choices, departures=moved)

