"""The controllers' plumbing asks each controller's hooks once per tuple of controllers, not once per
event or per state; each table stands for asking every controller again.

`notify` hands a watch event to the handlers of its resource only (`work_queue.handlers`, a table
worked out once per tuple of controllers): it enqueues what the direct definition does — every
controller asked whether it watches the event's resource, then its namespaces, its unsynced
informers, and for a relist's sync updates whether it ignores them — over random states of
several scenarios (FeastFlow; web.yaml; a user's controller that watches one namespace and starts
unsynced), for each state's logged events as its cache would hand them, and for the sync updates of
its caches. The queues are also emptied first, so that a key a handler enqueues always shows: a
table that drops a handler, or hands an event to one that does not watch it, fails.

The controllers' wake-ups (`base._wakeups`: `wakeup_at`, `memory_wakeups`, resyncs; `_timed`) and the
states `Tick`'s key reads for them (`base._memory_timer_inputs`) are likewise compared with the loop
over every controller, in states of the same runs; and the Services a pod's change enqueues, kept
for the last (change, view) pair that the Endpoints and the EndpointSlice controllers' handlers
both ask about (`endpoints.services_for_pod_change`), with the definition over the same changes
asked in random order (and of other views: each state's, a later state's, and the state's without its Services)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.api.store import WatchEvent
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.informers import unchanged
from kubeprop.model.controllers import base, endpoints, resync
from kubeprop.model.controllers.cache_sync import informer_of
from kubeprop.model.controllers.sync_updates import ignores_sync_update
from kubeprop.model.controllers.user_calls import handled_keys, woken_at
from kubeprop.model.controllers.work_queue import handlers, notify, scoped
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.component import Change, change_of, controller_namespaces
from kubeprop.model.state.informer import ObjectView, ResourceCache, handed

DATA = Path(__file__).parents[1] / "data"


def direct(model: ClusterModel, state: ClusterState, events: Iterable[WatchEvent], sync: bool = False
           ) -> ClusterState:
    """`notify` as defined: every controller asked of every event, no table."""
    if not is_up(state, CONTROLLER_MANAGER):
        return state
    view_ = view(model, state, CONTROLLER_MANAGER)
    controllers = state.controllers
    for event in events:
        key = event.key
        change: Change | None = None
        for controller in model.controllers:
            queued = controllers.get(controller.name) if key.resource in controller.watches else None
            if queued is None or (sync and ignores_sync_update(controller, key.resource)):
                continue
            namespaces = controller_namespaces(controller)
            if namespaces and key.namespace and key.namespace not in namespaces:
                continue
            if queued.unsynced and informer_of(namespaces, key) in queued.unsynced:
                continue
            change = change or change_of(event)
            keys = handled_keys(controller, change, scoped(controller, view_))
            controllers = controllers.set(controller.name, queued.enqueue(keys))
    return state if controllers is state.controllers else evolve(state, controllers=controllers)


def direct_wakeups(model: ClusterModel, state: ClusterState, now: int) -> Iterator[tuple[str, str, int]]:
    """`base._wakeups` as defined: every controller asked for each of its hooks, no table."""
    if not is_up(state, CONTROLLER_MANAGER):
        return
    view_ = view(model, state, CONTROLLER_MANAGER)
    for controller in model.controllers:
        if not controller.watches or bool(getattr(state.controllers.get(controller.name), "unsynced", None)):
            continue
        yield from base._memory_wakeups(controller, state.controllers.get(controller.name))
        yield from base._resyncs(controller, state.controllers.get(controller.name), scoped(controller, view_), now)
        wakeup_at = getattr(controller, "wakeup_at", None)
        if wakeup_at is None:
            continue
        seen: ObjectView = scoped(controller, view_)
        for key in map(base._key, seen.list(controller.watches[0])):
            at = woken_at(controller, wakeup_at, seen, key, now)
            if at is not None:
                yield controller.name, key, at


def direct_timer_inputs(model: ClusterModel, state: ClusterState) -> tuple[object, ...]:
    """`base._memory_timer_inputs` as defined."""
    return tuple(state.controllers.get(c.name) for c in model.controllers
                 if hasattr(c, "memory_wakeups") or resync.period(c) is not None)


def _reached(model: ClusterModel, seed: int, steps: int) -> Iterator[ClusterState]:
    """The states of a random run (faults among the actions: crashes, dropped watches)."""
    rng = random.Random(seed)
    state = initial_state(model)
    for _ in range(steps):
        enabled = actions(model, state)
        if not enabled:
            return
        state = step(model, state, enabled[rng.randrange(len(enabled))])
        yield state


def _handed(state: ClusterState) -> tuple[WatchEvent, ...]:
    """The state's logged events as the controller manager's cache would hand them (an update with
    the object it holds: `HandedEvent`)."""
    informer = state.informers.get(CONTROLLER_MANAGER)
    if informer is None:
        return ()
    return tuple(handed(e, informer.get(e.key)) for e in state.store.events)


def _synced(state: ClusterState) -> tuple[WatchEvent, ...]:
    """A relist's sync updates of every object the controller manager's caches hold."""
    informer = state.informers.get(CONTROLLER_MANAGER)
    return () if informer is None else tuple(e for c in informer.resources.values() for e in unchanged(c, c))


def _emptied(state: ClusterState) -> ClusterState:
    """`state` with every controller's queue empty (its memory and unsynced informers kept)."""
    controllers = state.controllers
    for name, ctl in state.controllers.items():
        if getattr(ctl, "queue", ()):
            controllers = controllers.set(name, evolve(ctl, queue=()))
    return evolve(state, controllers=controllers)


PODGC = "podgc"


def _quarantining(state: ClusterState) -> ClusterState:
    """`state` with the pod GC quarantining a node and a key queued (its wake-up is in its memory:
    `memory_wakeups`)."""
    ctl = state.controllers.get(PODGC)
    if ctl is None:
        return state
    memory = evolve(ctl.memory, quarantine=FrozenMap({"worker-1": state.clock}))
    return evolve(state, controllers=state.controllers.set(PODGC, evolve(ctl, queue=("default/x",), memory=memory)))


SCENARIOS = [(None, 0), (DATA / "catalogue" / "web.yaml", 1), (DATA / "cache_sync" / "scoped-granted.yaml", 2)]


@pytest.mark.parametrize(("scenario", "seed"), SCENARIOS)
def test_notify_is_the_direct_definition(scenario: Path | None, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with user_folder(monkeypatch, DATA / "cache_sync"):
        # FeastFlow with v1.14's 30 s StatefulSet resync, so that a resync is among the wake-ups compared
        model = build_model(load_scenario(scenario), parameters={"statefulSetResyncSeconds": 30} if scenario is None
                            else None)
        reached = list(_reached(model, seed, steps=250))
        enqueued: set[tuple[str, str]] = set()
        woken: set[str] = set()
        for state in reached[::8]:
            for start in (state, _emptied(state)):
                for events, sync in ((_handed(start), False), (_synced(start), True)):
                    fast, slow = notify(model, start, events, sync), direct(model, start, events, sync)
                    assert fast == slow
                # event by event: which (controller, resource) pairs enqueued something
                for event in _handed(start):
                    one = direct(model, start, (event,))
                    enqueued |= {(name, event.key.resource) for name, ctl in one.controllers.items()
                                 if ctl is not start.controllers.get(name)}
                    assert notify(model, start, (event,)) == one
            for timed in (state, _quarantining(state)):
                for now in (timed.clock, timed.clock + 5, timed.clock + 400):
                    assert list(base._wakeups(model, timed, now)) == list(direct_wakeups(model, timed, now))
                assert base._memory_timer_inputs(model, timed) == direct_timer_inputs(model, timed)
                woken |= {name for name, _, _ in direct_wakeups(model, timed, timed.clock + 400)}
        table = handlers(model.controllers)
        # the table names every watching controller, and only those
        for controller in model.controllers:
            for resource in controller.watches:
                assert controller in [h.controller for h in table[resource]]
        assert all(h.controller.watches.count(r) for r, found in table.items() for h in found)
        assert len({name for name, _ in enqueued}) >= (3 if scenario is None else 2), enqueued
        if scenario is None:  # a resync, a wakeup_at and a memory's wake-up among those compared
            assert {"statefulset", "deployment", PODGC} <= woken, woken


def test_a_table_per_tuple_of_controllers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two models with other controllers in one process: each gets its own table (the memo is by
    the controllers' identity), and a user's controller's handler is called through `handled_keys`
    (its answer checked), a built-in one's directly."""
    with user_folder(monkeypatch, DATA / "cache_sync"):
        plain = build_model(load_scenario(None))
        scoped_model = build_model(load_scenario(DATA / "cache_sync" / "scoped-granted.yaml"))
        for model in (plain, scoped_model, plain):
            table = handlers(model.controllers)
            names = {h.name for found in table.values() for h in found}
            assert names == {c.name for c in model.controllers if c.watches}
        operator = [h for found in handlers(scoped_model.controllers).values() for h in found
                    if h.name == "config-operator"]
        assert operator and all(h.keys is handled_keys and h.namespaces for h in operator)


def _no_services(state: ClusterState) -> ClusterState:
    """`state` with the controller manager's cache of Services empty."""
    informer = state.informers[CONTROLLER_MANAGER]
    emptied = evolve(informer, resources=informer.resources.set("services", ResourceCache()))
    return evolve(state, informers=state.informers.set(CONTROLLER_MANAGER, emptied))


def test_services_for_a_pod_change_are_the_definition() -> None:
    model = build_model(load_scenario(None))
    reached = list(_reached(model, 4, steps=200))
    rng = random.Random(7)
    asked = []
    for state, later in zip(reached[::10], reached[5::10], strict=False):
        for event in _handed(state):
            change = change_of(event)
            asked += [(change, view(model, s, CONTROLLER_MANAGER)) for s in (state, later, _no_services(state))]
    shuffled = asked[: len(asked) // 2]  # (asked again, in another order)
    rng.shuffle(shuffled)
    for change, seen in asked + shuffled:  # (first a change's views one after the other)
        for _ in range(2):
            assert endpoints.services_for_pod_change(change, seen) == endpoints._services_for_pod_change(change, seen)
    assert any(endpoints._services_for_pod_change(c, v) for c, v in asked), "no pod change enqueued a Service"
