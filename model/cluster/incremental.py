"""Cheaper `actions`: each component's enabled actions recomputed only when what it reads changed.

`actions(model, state)` asks every component module for its enabled actions. Between a state and
its successor most components see exactly the same inputs (a watch delivery to one kubelet
changes nothing the scheduler reads), so `EnabledCache` remembers each component's last few
answers keyed by the parts of the state that component reads (`READS`, with `SPLIT`, `DEPS` and
`changes` in `kubeprop.model.cluster.enabled_reads`), compared by identity
(a step shares every part it does not change with its predecessor, so an unchanged part is the
very same object); the costly ones (`BY_VALUE`) also by value, in-process only. Components in
`SPLIT` are cached in units: each kubelet node by node, watch deliveries component by component,
`Tick` apart from faults and recoveries. A component listed in neither (a user's own, say) is
asked every time.

Before any key is computed, `EnabledCache` compares the state with the one it answered last
(`changes`: which `ClusterState` fields are not the very same objects, and which components'
caches and which nodes' kubelets), and a part none of whose fields changed (`DEPS`: a superset of
what its key reads) keeps its last answer: along a run (a walk, a fair continuation) a step
changes two or three fields, often one component's cache, so most parts cost a set intersection.
A part whose inputs change at almost every state that asks it again (`UNREMEMBERED`: the
controllers' queues, watch deliveries, most faults) keeps only that: its key would match one of
its last answers too rarely to pay for building and checking it.

`Tick`'s part reads nearly everything (every timer, every guard), so nearly every step changes
some of it; yet where a guard holds the clock (nine states in ten), only what that guard reads
decides. Its answer there is a `Held` — no action, and the tokens of what the guard that held
reads (`enabled_reads.guard_deps`) — and a successor none of whose changes is among them keeps it
without asking any guard or timer (`tests/model/cluster/test_tick_held.py`).

The cache changes only when the answer is computed, never what it is:
`tests/model/cluster/test_incremental.py` compares it with the plain `actions` on random runs of
every catalogue scenario. A component that starts reading another part of the state must say
so in `enabled_reads`.

Engines turn it on for the duration of a search with `memoised(model)`, which makes
`compose.actions` (and everything built on it: `settle`, replay, shrinking) use the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kubeprop.model.cluster import (
    clock_guards,
    compose,
    environment,
    faults,
    informers,
    maintenance,
    overload,
    provisioner,
    restore,
    workload,
)
from kubeprop.model.cluster.clock_guards import holding
from kubeprop.model.cluster.enabled_reads import READS, SPLIT, Token, changes, deps, guard_deps
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers import daemonset_order, nodelifecycle, persistentvolume_order, queued_work
from kubeprop.model.memo import INTERNERS, Interner, RecentThenByValue
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

RECENT = 4
"""Answers per component (per unit of a split component) checked by identity."""
LIMIT = 2_048
"""Answers kept by value per part before its memo is cleared (bounded memory: each answer keeps the
state parts of its key alive — about 1.5 KB — and at 20,000 the memo grew to ~60 MB in long
searches with no measured gain; docs/engines.md, "A frontier that fits")."""
BY_VALUE = {scheduler.enabled, nodelifecycle.enabled, faults.reconcile_crashes}
"""The parts costly enough to be remembered by value too (hashing their key costs less than
computing them again); the others are cheaper to recompute than to hash."""
UNREMEMBERED = {controllers.enabled, workload.enabled, environment.enabled, maintenance.enabled, restore.enabled,
                overload.enabled, faults.node_faults, faults.crash_faults, faults.watch_faults,
                informers.component_enabled, provisioner.enabled, faults.tick_enabled}
"""The parts computed afresh whenever something they read changed (`DEPS`), with no memo of their
answers: what they read changes at almost every state that asks them again (the controllers'
queues, the stored objects, the budget), so their last answers matched under 1% of the time
(watch faults under 16%), and building and checking the key cost more than the answer. `Tick`'s
part too (its key holds the store, the informers and the kubelets: 11 identity and 1,346 by-value
hits in 19,938 asks over the default check's first 20,000 steps on FeastFlow): its guards remember
what costs (`clock_guards`)."""
NEVER_CHOSEN = {faults.reconcile_crashes, faults.watch_faults, daemonset_order.enabled,
                persistentvolume_order.enabled}
"""Parts that give only faults drawn from the budget (`INJECTED_FAULTS`), or only choices of the
environment (`PROGRESS = False`: a rolling update's walk order, `daemonset_order`; the PV controller's
order of access-mode sets, `persistentvolume_order`): never a fair
policy's move (`drive.FAULTS`), a user step or `Tick` (`lazy_enabled.choose`)."""



class _Part:
    """One component's (or one unit's) remembered answers: the last few by identity of their
    key's parts; for the costly ones (`BY_VALUE`) also every answer (up to `LIMIT`) by value, so
    a state reached again along another path (equal parts, other objects) is not recomputed."""

    __slots__ = ("args", "deps", "enabled_fn", "key_fn", "memo")

    def __init__(self, model: ClusterModel, enabled_fn: Callable[..., Iterator[Action]],
                 key_fn: Callable[..., tuple[Any, ...] | None] | None, args: tuple[Any, ...] = ()) -> None:
        self.enabled_fn, self.key_fn, self.args = enabled_fn, key_fn, args
        self.deps = None if key_fn is None else deps(model, key_fn, args)
        self.memo: RecentThenByValue[tuple[Action, ...]] | None = None if key_fn is None or (
            enabled_fn in UNREMEMBERED) else RecentThenByValue(RECENT, LIMIT, enabled_fn in BY_VALUE)

    def enabled(self, model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
        memo = self.memo
        if memo is None:
            return tuple(self.enabled_fn(model, state, *self.args))
        key = self.key_fn(model, state, *self.args)  # type: ignore[misc]  # (a memo has a key function)
        if key is None:
            return self._compute(model, state)
        return memo.get(key, self._compute, model, state)

    def _compute(self, model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
        return tuple(self.enabled_fn(model, state, *self.args))


class Held(tuple[Action, ...]):
    """`Tick`'s part where a guard holds the clock: no action (an empty tuple, equal to `()`), and
    the tokens of every part of the state that guard reads (`enabled_reads.guard_deps`). While none
    of them changes the guard still holds, so a successor keeps this answer without asking any
    guard or timer again (`EnabledCache._answers`)."""

    tokens: frozenset[Token]

    def __new__(cls, tokens: frozenset[Token]) -> Held:
        held = super().__new__(cls)
        held.tokens = tokens
        return held


_HELD: dict[frozenset[Token], Held] = {}
"""One `Held` per token set (a few per model: one per guard, with and without a flood)."""


class _TickPart(_Part):
    """`Tick`'s part (`faults.tick_enabled`): where a guard holds, a `Held` naming what it reads."""

    __slots__ = ()

    def enabled(self, model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
        guard = holding(model, state)
        if guard is None:
            return tuple(faults.tick_unguarded(model, state))
        tokens = guard_deps(model, state, guard)
        if tokens is None:
            return ()
        found = _HELD.get(tokens)
        if found is None:
            found = _HELD[tokens] = Held(tokens)
        return found


def _parts(model: ClusterModel, module: Any) -> tuple[_Part, ...]:
    split = SPLIT.get(module)
    if split is not None:
        return tuple((_TickPart if fn is faults.tick_enabled else _Part)(model, fn, key_fn, args)
                     for fn, key_fn, args in split(model))
    return (_Part(model, module.enabled, READS.get(module)),)


Answers = list["tuple[Action, ...] | None"]
"""Each part's answer in one state (None: not computed there yet)."""

Near = tuple[ClusterState, Answers]
"""A state and its answers (`EnabledCache.near_answers`)."""


class EnabledCache:
    """`actions(model, state)` with each component's answer remembered by what it reads."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.parts = tuple(part for module in compose.COMPONENTS for part in _parts(model, module))
        self.tick = next((i for i, part in enumerate(self.parts) if part.enabled_fn is faults.tick_enabled), -1)
        readers: dict[Token, list[int]] = {}
        for i, part in enumerate(self.parts):
            for token in part.deps or ():
                readers.setdefault(token, []).append(i)
        self.readers = {token: tuple(parts) for token, parts in readers.items()}
        """Token → the parts that read it."""
        self.always = tuple(i for i, part in enumerate(self.parts) if part.deps is None)
        """The parts that declare nothing (asked every time)."""
        self.choosable = tuple(i for i, part in enumerate(self.parts)
                               if i != self.tick and part.enabled_fn not in NEVER_CHOSEN)
        """The parts that may give a fair policy's move or a user step (`lazy_enabled.choose`)."""
        units: dict[Any, list[int]] = {}
        for i, part in enumerate(self.parts):
            units.setdefault(part.enabled_fn, []).append(i)
        self.units = {fn: tuple(parts) for fn, parts in units.items()}
        """Enabled function → its parts (a split component's units, in order)."""
        self.last: ClusterState | None = None
        """The state answered last, and each part's answer there."""
        self.answers: Answers = [None] * len(self.parts)

    def _answers(self, state: ClusterState, near: Near | None = None) -> Answers:
        """The answers for `state`, as far as they are known: those of the state answered last
        (or of `near`'s state, its answers as `near_answers` gave them), but for the parts that
        read something that changed since (`changes`)."""
        last, known = (self.last, self.answers) if near is None else near
        if self.last is state:
            return self.answers
        if last is None:
            answers: Answers = [None] * len(self.parts)
        else:
            answers = list(known)
            readers = self.readers
            changed = changes(last, state)
            for token in changed:
                for i in readers.get(token, ()):
                    answers[i] = None
            for i in self.always:
                answers[i] = None
            tick = self.tick
            if tick >= 0 and answers[tick] is None:
                kept = known[tick]
                if type(kept) is Held and kept.tokens.isdisjoint(changed):  # (the guard that held still does)
                    answers[tick] = kept
        self.last, self.answers = state, answers
        return answers

    def answers_for(self, state: ClusterState, near: Near | None = None) -> Answers:
        """`state`'s answers as far as they are known (`lazy_enabled.Lazy` computes the rest)."""
        return self._answers(state, near)

    def answered(self, state: ClusterState, enabled_fn: Any) -> Iterator[tuple[Action, ...]] | None:
        """The answers of `enabled_fn`'s parts in `state` (a split component's units in order; each
        computed, and kept, when reached), or None unless `state` is the state answered last and
        some part is `enabled_fn`'s: for the clock's guards (`clock_guards`), which ask what other
        parts answer in the state `Tick`'s part is computed for."""
        indices = self.units.get(enabled_fn)
        if indices is None or self.last is not state:
            return None
        return self._answered(state, self.answers, indices)

    def _answered(self, state: ClusterState, answers: Answers, indices: tuple[int, ...]
                  ) -> Iterator[tuple[Action, ...]]:
        model, parts = self.model, self.parts
        for i in indices:
            known = answers[i]
            if known is None:
                known = parts[i].enabled(model, state)
                if self.answers is answers:  # (a call for another state meanwhile made a new list)
                    answers[i] = known
            yield known

    def compute(self, i: int, state: ClusterState, answers: Answers) -> tuple[Action, ...]:
        """Part `i`'s answer in `state`, whose answers (as far as known) are `answers`
        (`lazy_enabled.Lazy`, which computes a state's parts after the cache has answered for
        other states): `state` becomes the state answered last again, so that the clock's guards
        computed for it (`answered`) read and fill in its answers rather than listing afresh."""
        self.last, self.answers = state, answers
        return self.parts[i].enabled(self.model, state)

    def near_answers(self, state: ClusterState) -> Near | None:
        """What `actions` knows of `state` now (None if it was not the state answered last), for a
        search to hand back as `near` when it asks for a successor of `state` later, after
        other states: its answers then start from those of its predecessor, whatever was asked
        in between (a breadth-first search asks for states of one run far apart)."""
        return (state, self.answers) if self.last is state else None

    def groups(self, state: ClusterState, tick: bool = True) -> Iterator[tuple[Action, ...]]:
        """The enabled actions part by part, in `compose.actions` order (without `Tick` unless
        `tick`), each part computed only when reached: a caller that stops early (the fair
        policy, at the first move never taken) does not pay for the rest."""
        answers, model, parts = self._answers(state), self.model, self.parts
        for i, known in enumerate(answers):
            if i == self.tick and not tick:
                continue
            if known is None:
                known = parts[i].enabled(model, state)
                if self.answers is answers:  # (a call for another state meanwhile made a new list)
                    answers[i] = known
            yield known

    def actions(self, state: ClusterState, tick: bool = True, near: Near | None = None) -> tuple[Action, ...]:
        """Every enabled action, in `compose.actions` order (without `Tick` unless `tick`): what
        `groups` gives, in one loop; `near` is what `near_answers` said of a state close to
        this one (its predecessor), to start from instead of the state answered last."""
        answers, model, parts = self._answers(state, near), self.model, self.parts
        skip = -1 if tick else self.tick
        out: list[Action] = []
        for i, known in enumerate(answers):
            if known is None:
                if i == skip:
                    continue
                known = parts[i].enabled(model, state)
                if self.answers is answers:  # (a call for another state meanwhile made a new list)
                    answers[i] = known
            elif i == skip:
                continue
            out += known
        return tuple(out)


@contextmanager
def memoised(model: ClusterModel) -> Iterator[EnabledCache]:
    """Within the block, `compose.actions(model, …)` answers from an `EnabledCache` for `model`,
    and the objects the API store writes are interned (`memo.Interner`: an object written along
    another path of the search, equal to one written before, is that very object); when the
    outermost block ends, the controllers' remembered decisions (and the clock guard's verdicts,
    `queued_work`, `clock_guards`) are forgotten with it."""
    cache = EnabledCache(model)
    interner: Interner[Any] = Interner()
    compose.CACHES.append(cache)
    INTERNERS.append(interner)
    try:
        yield cache
    finally:
        compose.CACHES.remove(cache)
        INTERNERS.remove(interner)
        if not compose.CACHES:
            controllers.forget_decisions()
            queued_work.forget_verdicts()
            clock_guards.forget()
