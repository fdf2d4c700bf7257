"""The fair continuations convergence is judged on, remembered state by state across judgements.

`kubeprop.model.cluster.drive.continuations` follows the fair policy from a state until nothing
is left to take. Two judgements often walk the same states: a breadth-first search judges a state
that lies on the continuation of a state it judged before (the fair choice is one of the actions
it explores), and on a scenario with a periodic controller (the HPA's 15 s sync) every
continuation runs until its `max_ticks` are spent, ~150 of its ~210 steps ticking and syncing
(docs/engines.md, "Twenty-third round"). Their runs are not each other's tails, since the fair
policy remembers what it took (least recently taken first), so a run cannot be reused whole; but
at each state the fair choice is a function of the state's enabled actions and the policy's
memory, and the step of that state and choice is the same whatever came before.

So this module follows the same runs as `drive.continuations` (the same `Settled`, fork and all:
`tests/properties/test_fair_memo.py` compares them), remembering, per state a continuation
reached (`Seen`), the enabled actions the fair choice asked for there, and for each action taken
there the state it led to and whether it was set aside (a stutter or a poll). At a remembered
state the choice is made again, by the policy as it is now, on the remembered actions; when it
takes a remembered move, neither the enabled actions nor the step are computed again. When it
needs more of the enabled actions than were asked for there (the first move never taken was
enough then), they are computed as `drive` does.

`convergence.settled_violation(remember_runs=True)` uses it; the breadth-first search with
partial-order reduction asks for it (its judged states lie on each other's continuations), the
searches around the fair run do not (their runs' ends seldom do, and remembering a state costs
hashing it: +2.1% instructions on FeastFlow's first 10,000 steps with every judgement remembered).

Nothing here is persisted or compared across processes: states are looked up by Python's
`hash()` within one process (`Memo`). A model with response hooks (`model.hooks.on_response`)
is never replayed, since its steps call them.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence

import attrs

from kubeprop.model.cluster.compose import actions, enabled_groups, step
from kubeprop.model.cluster.drive import FairPolicy, Fork, Settled, is_poll, is_recovery
from kubeprop.model.cluster.drive import continuations as drive_continuations
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState


@attrs.define(slots=True)
class Seen:
    """What a continuation found at one state: the enabled actions its fair choice asked for
    (`groups`, part by part in `enabled_groups` order; `complete` when that is every part), every
    enabled action (`full`, `Tick` included) when the choice asked for them, and per action taken
    there, the state it led to and whether the run set it aside there (`idled`)."""

    groups: tuple[Sequence[Action], ...]
    complete: bool
    full: Sequence[Action] | None
    moves: dict[Action, tuple[ClusterState, bool]] = attrs.Factory(dict)


class Memo:
    """The states continuations reached, for one model at a time (another model starts over), at
    most `limit` of them (each keeps its state alive: when full, it starts over)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.model: ClusterModel | None = None
        self.seen: dict[ClusterState, Seen] = {}
        self.replayed = 0
        """Steps taken from the memo (neither enabled actions nor the step computed): a counter for
        the benchmarks and tests."""

    def states(self, model: ClusterModel) -> dict[ClusterState, Seen]:
        """The remembered states of `model`'s continuations."""
        if self.model is not model or len(self.seen) >= self.limit:
            self.model, self.seen = model, {}
        return self.seen


MEMO = Memo()


def continuations(model: ClusterModel, state: ClusterState, max_steps: int = 5000, max_ticks: int = 100,
                  avoid: tuple[type[Action], ...] = (), deadline: float | None = None
                  ) -> Iterator[tuple[bool, Settled]]:
    """`drive.continuations`, the same runs, taking the steps of states reached before from `MEMO`."""
    seen = MEMO.states(model)

    def follow(model: ClusterModel, state: ClusterState, policy: FairPolicy, max_steps: int,
               deadline: float | None, trace: list[Action] | None,
               resumed: tuple[frozenset[Action], int]) -> tuple[Settled, Fork | None]:
        return _follow(model, state, policy, max_steps, deadline, seen, trace, resumed)

    yield from drive_continuations(model, state, max_steps, max_ticks, avoid, deadline, follow=follow)


def _follow(model: ClusterModel, state: ClusterState, policy: FairPolicy, max_steps: int,
            deadline: float | None, seen: dict[ClusterState, Seen], trace: list[Action] | None = None,
            resumed: tuple[frozenset[Action], int] = (frozenset(), 0)) -> tuple[Settled, Fork | None]:
    """`drive._follow` (the same run, fork and all), each state's choice made on what `seen`
    remembers of it and each remembered move's step read from there."""
    trace = [] if trace is None else trace
    fork: Fork | None = None
    idle = set(resumed[0])  # the moves taken since the state last changed (each changed nothing)
    quiet = resumed[1]
    for _ in range(max_steps - len(trace)):
        if deadline is not None and time.perf_counter() >= deadline:
            return Settled(state, tuple(trace), exhausted=False, interrupted=True, quiet=quiet), fork
        known = seen.get(state)
        decided, act = (False, None) if known is None else replayed_choice(policy, known, idle)
        if not decided:
            act, found = live_choice(model, state, policy, idle)
            if known is not None:  # (it asked for more than was remembered: kept instead)
                found.moves = known.moves
            seen[state] = known = found
        if act is None:
            return Settled(state, tuple(trace), exhausted=False, quiet=quiet), fork
        if fork is None and is_recovery(act):
            fork = len(trace), state, policy.copy(), frozenset(idle), quiet
        policy.taken(act)
        assert known is not None
        move = known.moves.get(act)
        if move is None:
            after = step(model, state, act)
            move = known.moves[act] = after, after == state or is_poll(model, state, act, after)
        else:
            MEMO.replayed += 1
        after, idled = move
        if idled:
            idle.add(act)
        elif idle:
            idle = set()
        quiet = quiet + 1 if after.store.revision == state.store.revision else 0
        state = after
        trace.append(act)
    return Settled(state, tuple(trace), exhausted=True, quiet=quiet), fork


def live_choice(model: ClusterModel, state: ClusterState, policy: FairPolicy,
                idle: Collection[Action]) -> tuple[Action | None, Seen]:
    """`policy.next_action(model, state, idle)`, and what it asked for of the enabled actions."""
    groups: list[Sequence[Action]] = []
    fresh, act = policy.pick(_recorded(enabled_groups(model, state), groups), idle)
    if fresh:
        return act, Seen(tuple(groups), False, None)
    full: Sequence[Action] | None = None
    if act is None and policy.allow_ticks and policy.ticks < policy.max_ticks:
        full = actions(model, state)
        act = policy.choose(_without(full, idle))
    return act, Seen(tuple(groups), True, full)


def _recorded(groups: Iterable[Sequence[Action]], out: list[Sequence[Action]]) -> Iterator[Sequence[Action]]:
    """`groups`, each also appended to `out` when it is asked for."""
    for group in groups:
        out.append(group)
        yield group


def replayed_choice(policy: FairPolicy, known: Seen, idle: Collection[Action]) -> tuple[bool, Action | None]:
    """(True, `policy.next_action`'s choice) at the state `known` is of, made on its remembered
    actions; (False, None) when the choice needs enabled actions that were not asked for there."""
    fresh, act = policy.pick(known.groups, idle, whole=known.complete)
    if fresh:
        return True, act
    if not known.complete:
        return False, None
    if act is None and policy.allow_ticks and policy.ticks < policy.max_ticks:
        if known.full is None:
            return False, None
        act = policy.choose(_without(known.full, idle))
    return True, act


def _without(enabled: Sequence[Action], idle: Collection[Action]) -> Sequence[Action]:
    """`enabled` but for the actions in `idle` (`drive._without`)."""
    return [a for a in enabled if a not in idle] if idle else enabled
