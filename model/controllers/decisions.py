"""Controllers' decisions remembered by the caches they read.

A reconcile is a pure function of the controller, its view (the controller manager's informer
caches), the key, its memory and the clock. The decision a reconcile takes is asked for twice or
more: by `CrashDuringReconcile` (`faults.reconcile_crashes`, which needs to know how many requests
each queued key's reconcile would send) in every state where the key is queued, and by the
reconcile itself. Between two such states the controller manager's caches usually differ — a
watch delivery of some resource made a new `InformerState` — but mostly in resources the
reconcile does not read (a Deployment's reconcile reads no Endpoints).

So a decision is remembered with the caches it read: the built-in controllers get a
`RecordingView` of the `InformerState`, which answers `get`, `list`, `last_sync_resource_version`
and `has_synced` as the `InformerState` does (by delegating to it) and notes which resource's
`ResourceCache` each call looked at. An `InformerState` answers those calls from that resource's
cache alone, so in a later state where the controller, key, memory and clock are the same objects
and values and every resource read has the very same cache (or none again), the reconcile would
read exactly what it read before and decides the same. A reconcile that reaches for anything else
on the view (`__getattr__`), a view that is not an `InformerState` (instant caches: the store) and
a user's controller or a built-in one running a user's code (a rollout strategy of the user's:
either might look at its view in other ways) are remembered by the view's identity only.

A search also builds the same cache again along another path (two deliveries taken in the other
order): another `ResourceCache` with the same revision holding the very same keys and objects.
A reconcile reading it would read exactly what it read before, so that also counts as the cache
it read (`_same_contents`), checked after the identities; objects equal but not the same are no
match (what is equal is not always written alike: a quantity's format).

In-process only: keys are object identities, and each entry keeps its objects alive, so an
identity is never reused while its entry exists. `tests/model/test_identity_memos.py` compares
remembered decisions with fresh ones along random runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import is_
from typing import Any

from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.controllers.user_calls import BUILT_IN as BUILT_IN
from kubeprop.model.controllers.user_calls import reconciled
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.component import Controller, Reconciliation
from kubeprop.model.state.informer import InformerState, ObjectView, ResourceCache

KEEP = 4
"""Decisions kept per (controller, memory, key, clock), the latest first."""
LIMIT = 4_096
"""Keys kept before the memo forgets them all (bounded memory)."""

Reads = tuple[tuple[str, "ResourceCache | None"], ...]


class RecordingView:
    """An `InformerState` as a reconcile reads it: every `ObjectView` call is answered by the
    `InformerState` itself, and the resource cache it looks at is noted in `read`. Anything else
    asked of it is answered too, but makes the record incomplete."""

    __slots__ = ("_caches", "_view", "complete", "read")

    def __init__(self, view: InformerState) -> None:
        self._view, self._caches = view, view.resources
        self.read: dict[str, ResourceCache | None] = {}
        self.complete = True

    def get(self, key: ObjectKey) -> ApiObject | None:
        """`InformerState.get`: reads the cache of `key.resource`."""
        self.read[key.resource] = self._caches.get(key.resource)
        return self._view.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        """`InformerState.list`: reads the cache of `resource`."""
        self.read[resource] = self._caches.get(resource)
        return self._view.list(resource, namespace)

    def last_sync_resource_version(self, resource: str) -> str:
        """`InformerState.last_sync_resource_version`: reads the cache of `resource`."""
        self.read[resource] = self._caches.get(resource)
        return self._view.last_sync_resource_version(resource)

    def has_synced(self, resource: str) -> bool:
        """`InformerState.has_synced`: whether `resource` has a cache."""
        self.read[resource] = self._caches.get(resource)
        return self._view.has_synced(resource)

    def awaits_relist(self, resource: str) -> bool:
        """`InformerState.awaits_relist`: reads the cache of `resource`."""
        self.read[resource] = self._caches.get(resource)
        return self._view.awaits_relist(resource)

    def __getattr__(self, name: str) -> Any:
        self.complete = False  # (only attributes not defined above come here)
        return getattr(self._view, name)


Entry = tuple["Reads | None", Any, Reconciliation]
"""(the caches read, or None: remembered by the view's identity; that view; the decision)."""


class DecisionMemo:
    """Decisions by controller, memory (identities), key and clock, each with what it read."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[tuple[int, int, str, int], tuple[Controller, Any, list[Entry]]] = {}

    def clear(self) -> None:
        """Forget every decision."""
        self.entries.clear()

    def decide(self, controller: Controller, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """`controller.reconcile(view, key, memory, now)`, remembered (see the module's docstring)."""
        memo_key = (id(controller), id(memory), key, now)
        found = self.entries.get(memo_key)
        if found is not None and found[0] is controller and found[1] is memory:
            caches = view.resources if type(view) is InformerState else None
            for reads, seen, decision in found[2]:
                if seen is view or (reads is not None and caches is not None and all(
                        caches.get(resource) is cache for resource, cache in reads)):
                    return decision
            if caches is not None:
                for reads, _seen, decision in found[2]:
                    if reads is not None and all(_same_contents(caches.get(resource), cache)
                                                 for resource, cache in reads):
                        return self._again(found, view, caches, reads, decision)
        return self._remember(memo_key, found, controller, view, key, memory, now)

    @staticmethod
    def _again(found: tuple[Controller, Any, list[Entry]], view: ObjectView, caches: FrozenMap[str, ResourceCache],
               reads: Reads, decision: Reconciliation) -> Reconciliation:
        """`decision`, remembered again with `view`'s `caches` of the resources it read (the same
        contents: `_same_contents`), so that the next look-up on them is by identity."""
        choices = found[2]
        choices.insert(0, (tuple((resource, caches.get(resource)) for resource, _ in reads), view, decision))
        del choices[KEEP:]
        return decision

    def _remember(self, memo_key: tuple[int, int, str, int], found: Any, controller: Controller, view: ObjectView,
                  key: str, memory: Any, now: int) -> Reconciliation:
        reads: Reads | None = None
        if type(view) is InformerState and self._records(controller):
            recording = RecordingView(view)
            decision = reconciled(controller, recording, key, memory, now)
            if recording.complete:
                reads = tuple(recording.read.items())
        else:
            decision = reconciled(controller, view, key, memory, now)
        if found is None or found[0] is not controller or found[1] is not memory:
            if len(self.entries) >= LIMIT:
                self.entries.clear()
            found = self.entries[memo_key] = (controller, memory, [])
        choices = found[2]
        choices.insert(0, (reads, view, decision))
        del choices[KEEP:]
        return decision

    @staticmethod
    def _records(controller: Controller) -> bool:
        """Whether `controller`'s reads are recorded: a built-in controller running built-in code
        only (not, e.g., a Deployment controller with a rollout strategy of the user's)."""
        if not type(controller).__module__.startswith(BUILT_IN):
            return False
        strategies = getattr(controller, "strategies", None)
        return strategies is None or all(getattr(step, "__module__", "").startswith(BUILT_IN)
                                         for step in strategies.values())


def _same_contents(cache: ResourceCache | None, seen: ResourceCache | None) -> bool:
    """Whether a reconcile reading `cache` reads exactly what it read of `seen`: the very same
    cache, or one with the same revision and staleness holding the very same keys and objects in
    the same order (another path of the search built the same cache again: a delivery of another
    resource, then this one's, in the other order). Identity only: equal objects that are not
    the same objects are no match (a quantity's format is not part of its value)."""
    if cache is seen:
        return True
    if cache is None or seen is None or cache.revision != seen.revision or cache.stale != seen.stale:
        return False
    mine, theirs = cache.objects, seen.objects
    return len(mine) == len(theirs) and all(map(is_, mine.values(), theirs.values())) and all(
        map(is_, mine.keys(), theirs.keys()))


Wakeups = tuple[tuple[str, int], ...]
"""(key, model time) for each object a controller asks to be woken for."""


class WakeupMemo:
    """Each controller's wake-up times (`base.next_timer`, `base.on_tick`), by the controller, the
    clock and the caches they read, as `DecisionMemo` remembers decisions: whether time may pass
    is asked in most states (`faults.tick_enabled`), and a watch delivery of a resource the
    wake-ups do not read changes none of them. Only built-in controllers (`DecisionMemo._records`)
    on an `InformerState` are remembered, and only when everything they asked of it was recorded."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[int, tuple[Controller, list[tuple[Reads, int, Wakeups]]]] = {}

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()

    def wakeups(self, controller: Controller, view: ObjectView, now: int,
                compute: Callable[[ObjectView], Wakeups]) -> Wakeups:
        """`compute(view)` (the wake-ups `controller` asks for at `now`), remembered."""
        if type(view) is not InformerState or not DecisionMemo._records(controller):
            return compute(view)
        caches = view.resources
        found = self.entries.get(id(controller))
        if found is not None and found[0] is controller:
            for reads, at, seen in found[1]:
                if at == now and all(caches.get(resource) is cache for resource, cache in reads):
                    return seen
            for reads, at, seen in found[1]:  # caches built again with the very same objects
                if at == now and all(_same_contents(caches.get(resource), cache) for resource, cache in reads):
                    found[1].insert(0, (tuple((resource, caches.get(resource)) for resource, _ in reads), now, seen))
                    del found[1][KEEP:]
                    return seen
        recording = RecordingView(view)
        result = compute(recording)
        if recording.complete:
            if found is None or found[0] is not controller:
                if len(self.entries) >= LIMIT:
                    self.entries.clear()
                found = self.entries[id(controller)] = (controller, [])
            found[1].insert(0, (tuple(recording.read.items()), now, result))
            del found[1][KEEP:]
        return result
