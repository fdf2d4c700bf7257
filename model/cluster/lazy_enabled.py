"""A state's enabled actions computed part by part only when a search reaches them.

`EnabledCache.actions` answers every part of `actions` for a state (each kubelet, each
component's watch deliveries, `Tick`, the crashes in the middle of a reconcile, ...), while the
search around the fair run often needs only a few: the fair policy's choice stops at the first
move never taken (as `FairPolicy.next_action` does for the fair continuations) and never looks at
the parts that give only faults (`incremental.NEVER_CHOSEN`), and of the deviations the search
queues at a state it takes the first ones and reaches the rest — a fault of the controller
manager in the middle of each queued reconcile, whose every decision is computed to know how
many requests it sends — only when it comes back to that state, most of them never within the
budget. `Lazy` is those actions in the same order, each part computed the first time it is
reached (into the state's own answers: `EnabledCache.near_answers`), so what is enumerated is
exactly what `actions` gives; only when each part is computed changes, and parts never reached
are not computed at all. `choose` is the fair policy's choice among them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from kubeprop.model.cluster.drive import FairPolicy, is_environment_timed
from kubeprop.model.cluster.incremental import Answers, EnabledCache, Near
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterState

Filter = Callable[[Action], bool]


class Lazy:
    """The actions enabled in `state`, in `actions` order (those `flt` lets through), computed a
    part at a time into `answers` (the state's answers: `EnabledCache.near_answers`); or a list
    known already (`known`: `cache` and `answers` None)."""

    __slots__ = ("answers", "cache", "flt", "known", "state")

    def __init__(self, cache: EnabledCache | None, state: ClusterState, answers: Answers | None,
                 flt: Filter | None = None, known: list[Action] | None = None) -> None:
        self.cache, self.state, self.answers, self.flt = cache, state, answers, flt
        self.known = known
        """Every action, once `full` listed them."""

    def part(self, i: int) -> tuple[Action, ...]:
        """The actions of the cache's part `i` (computed now if it was not yet), filtered."""
        answers, cache = self.answers, self.cache
        assert answers is not None and cache is not None  # (only without `known`)
        found = answers[i]
        if found is None:
            found = answers[i] = cache.compute(i, self.state, answers)
        flt = self.flt
        return found if flt is None else tuple(a for a in found if flt(a))

    def full(self) -> list[Action]:
        """Every action (each part computed now if it was not yet)."""
        if self.known is None:
            answers, cache, state = self.answers, self.cache, self.state
            assert answers is not None and cache is not None
            out: list[Action] = []
            for i, found in enumerate(answers):
                if found is None:
                    found = answers[i] = cache.compute(i, state, answers)
                out += found
            flt = self.flt
            self.known = out if flt is None else [a for a in out if flt(a)]
        return self.known

    def among(self, enabled_fn: Callable[..., Iterator[Action]]) -> list[Action]:
        """The actions of the parts `enabled_fn` computes (say `faults.reconcile_crashes`), or more
        (every action, once listed): a caller picks out a class only those parts give."""
        if self.known is not None:
            return self.known
        assert self.cache is not None
        parts = self.cache.parts
        return [a for i in range(len(parts)) if parts[i].enabled_fn is enabled_fn for a in self.part(i)]

    def __iter__(self) -> Iterator[Action]:
        """The actions part by part, each part computed when the one before it is used up (the
        parts' own tuples chained: no step of Python per action)."""
        if self.known is not None:
            return iter(self.known)
        return chain.from_iterable(map(self.part, range(len(self.answers or ()))))


def lazy_actions(cache: EnabledCache, state: ClusterState, near: Near | None = None,
                 flt: Filter | None = None) -> Lazy:
    """`state`'s enabled actions as a `Lazy`, its answers starting from `near`'s (its predecessor's,
    as `EnabledCache.actions` takes them)."""
    return Lazy(cache, state, cache.answers_for(state, near), flt)


def choose(policy: FairPolicy, enabled: Lazy) -> Action | None:
    """`policy.choose(enabled.full())`, computing no more parts than the choice needs: the first
    move never taken wins at once, the parts that give only faults (`NEVER_CHOSEN`) cannot be
    chosen, and `Tick` (never a move nor a user step) is looked at only when nothing else is
    chosen — as `FairPolicy.next_action` reasons. A subclass's own `choose` (a held policy) and a
    list known already get the whole list."""
    cache = enabled.cache
    if type(policy) is not FairPolicy or cache is None or enabled.known is not None:
        return policy.choose(enabled.full())
    last, world_last, default = policy.last_taken, policy.environment_last, policy.default
    seen: list[Action] = []
    for i in cache.choosable:
        group = enabled.part(i)
        for act in group:  # the first move never taken (`FairPolicy._first_fresh`)
            if act not in last and default(act) and not (world_last and is_environment_timed(act)):
                return act
        seen += group
    chosen = policy.choose(seen)
    if chosen is None and policy.allow_ticks and policy.ticks < policy.max_ticks and cache.tick >= 0:
        chosen = policy.choose(enabled.part(cache.tick))
    return chosen
