"""What each part of the enabled actions reads (`kubeprop.model.cluster.incremental`'s cache).

For each component module (`READS`), or each unit of a component cached in units (`SPLIT`: each
kubelet node by node, watch deliveries component by component, `Tick` apart from faults), a key
function gives the parts of the state its `enabled` reads; `DEPS` gives, for each key function,
the tokens of every field it reads (a superset is safe, a missing one is not), and `changes` the
tokens of what differs between two states (by identity). A component that starts reading another
part of the state must say so here; `tests/model/cluster/test_incremental.py` compares the cache
with the plain `actions` on random runs of every catalogue scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from operator import attrgetter
from typing import Any

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster import (
    environment,
    exit_deadlines,
    faults,
    informers,
    maintenance,
    outages,
    overload,
    prompt_work,
    provisioner,
    restore,
    workload,
    workload_wait,
)
from kubeprop.model.cluster.footprint import KNOWN_TIMERS
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers import daemonset_order, hpa, nodelifecycle, persistentvolume_order, queued_work
from kubeprop.model.controllers.cache_sync import blockable
from kubeprop.model.controllers.nodelifecycle_health import blocks_tick, cached_resource
from kubeprop.model.controllers.processes import own_processes
from kubeprop.model.descheduler import component as descheduler
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.kubelet import pressure
from kubeprop.model.kubelet.clock_window import clock_epoch
from kubeprop.model.kubelet.volumes import ATTACH_DETACH, can_attach, has_claims, multi_attach_error
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up
from kubeprop.model.state.cluster import kubelet as kubelet_name
from kubeprop.model.state.informer import event_index
from kubeprop.model.state.metrics import rules as environment_rules

KeyFn = Callable[[ClusterModel, ClusterState], "tuple[Any, ...] | None"]
KNOWN_GUARDS = {blocks_tick, queued_work.holds_clock, prompt_work.scheduler_holds_clock,
                prompt_work.in_flight_holds_clock, outages.outage_holds_clock, exit_deadlines.exit_holds_clock,
                maintenance.drain_holds_clock}
"""The tick guards `_tick` accounts for."""


def _view(model: ClusterModel, state: ClusterState, component: str) -> Any:
    """What `state.cluster.view` would give `component`, as a key part."""
    informer = state.informers.get(component)
    if informer is not None:
        return informer
    return state.store.objects if model.instant_caches else None


def _workload(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # The next step waits for the object it names and for a user's drain (`maintenance.blocking`);
    # a waiting kubectl command with a deadline for the clock (`workload_wait`).
    clock = state.clock if workload_wait.has_timeouts(model) else None
    return state.workload_next, state.store.objects, state.addons, clock


def _informers(model: ClusterModel, state: ClusterState, component: str) -> tuple[Any, ...]:
    # `informers.component_enabled`: the component's caches, the event log, down and partitioned.
    # Of the log, only the last event of each resource the component watches: with the same
    # caches, the same last event of a resource means no write of it since (events are only
    # appended, each a new object), and compaction drops only events every live cache has had,
    # none that a live cache is still to be delivered. (A restore of etcd replaces every cache,
    # so no cache spans two histories.) A write of a resource it does not watch changes nothing.
    informer, events = state.informers.get(component), state.store.events
    if informer is None:
        return None, None, state.down, state.partitioned
    index = event_index(events)
    last = tuple(found[1][-1] if (found := index.get(r)) is not None else None for r in informer.resources)
    return (informer, *last, state.down, state.partitioned)


def _scheduler(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # Of what is down, only whether each instance is up; each instance's memory and cache.
    instances = model.scheduler_instances
    return (*(is_up(state, i) for i in instances), state.schedulers, *(_view(model, state, i) for i in instances))


def _controllers(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # The queues, and the RBAC policy (stored objects) while some informer waits to sync.
    return state.down, state.controllers, controllers.sync_key(state)


def _nodelifecycle(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # Its own memory only (not the other controllers' queues), the nodes and pods of its cache,
    # heartbeats and the clock.
    return (state.down, state.controllers.get(nodelifecycle.NAME), cached_resource(model, state, "nodes"),
            cached_resource(model, state, "pods"), state.heartbeat_lost, state.clock)


def _kubelet_node(model: ClusterModel, state: ClusterState, node: str, node_key: ObjectKey, component: str = ""
                  ) -> tuple[Any, ...]:
    # `kubelet.node_enabled`: whether the kubelet is up and whether it reaches the API server (all
    # it reads of what is down and partitioned), its runtime state (with its memory pressure), the pods
    # of its cache, the clock (which also ends the pressure) as far as its answer can tell
    # (`clock_window.clock_epoch`: the same object while no time of the node's comes), its Node object
    # (status updates), whether the pressure budgets are left, and its ConfigMap and Secret caches.
    # And whether each pod whose mount waits and that names a claim may attach its volumes: the one
    # input of `kubelet.mounts` (MountVolumes) beyond the above (`_mounts_attach`).
    # (`component` is the kubelet's name, given once per node by `_kubelet_units`; a kubelet that is up
    # reaches the API server unless its node is partitioned: `reaches_apiserver`.)
    component = component or kubelet_name(node)
    left = _pressure_left(model, state.kubelets)
    attach = _mounts_attach(model, state, node) if _attaches(model) else ()
    informer = state.informers.get(component)
    if informer is None:
        pods, maps, secrets = state.store.objects if model.instant_caches else None, None, None
    else:
        resources = informer.resources
        pods, maps, secrets = (None if (cache := resources.get(r)) is None else cache.objects
                               for r in ("pods", "configmaps", "secrets"))
    up = is_up(state, component)
    return (up, up and node not in state.partitioned, state.kubelets.get(node), pods,
            clock_epoch(model, state, node, pods), state.store.objects.get(node_key), left, maps, secrets, attach)


def _mounts_attach(model: ClusterModel, state: ClusterState, node: str) -> tuple[bool, ...]:
    """For each pod of the kubelet whose mount waits (`mount_pending`) and whose cached spec names a
    claim, whether `multi_attach_error` lets it attach now: MountVolumes' enabledness reads the store
    and the other kubelets through it alone, so the verdicts stand for those reads (a pod without a
    claim never waits for an attachment: `has_claims`). StartPod's enabledness does not read them."""
    runtimes = state.kubelets.get(node)
    if runtimes is None or not any(r.mount_pending for r in runtimes.pods.values()):
        return ()
    cached = kubelet.cached_pods(model, state, node)
    return tuple(multi_attach_error(state, node, pod) is None for key, r in runtimes.pods.sorted_items()
                 if r.mount_pending and (pod := cached.get(key)) is not None and has_claims(pod))


_PRESSURE: list[Any] = [None, None, ()]
_LEFT: dict[tuple[bool, ...], tuple[bool, ...]] = {}
"""The budgets-left tuples, interned: keys are compared by identity first."""
_ATTACHES: list[Any] = [None, False]


def _attaches(model: ClusterModel) -> bool:
    """`can_attach(model)`, remembered for the last model."""
    if _ATTACHES[0] is not model:
        _ATTACHES[:] = [model, can_attach(model)]
    return bool(_ATTACHES[1])


def _pressure_left(model: ClusterModel, kubelets: Any) -> tuple[bool, ...]:
    """Whether memory-, disk- and PID-pressure episodes are left in their budgets (remembered for the
    last kubelets map; the same tuple object for the same answer)."""
    if _PRESSURE[0] is not model or _PRESSURE[1] is not kubelets:
        left = tuple(pressure.pressure_left(model, kubelets, c) for c in pressure.PRESSURE_CONDITIONS)
        _PRESSURE[:] = [model, kubelets, _LEFT.setdefault(left, left)]
    result: tuple[bool, ...] = _PRESSURE[2]
    return result


def _tick_known(model: ClusterModel) -> bool:
    """Whether every timer and tick guard of `model` is one whose reads `_tick` lists."""
    return set(model.hooks.timers) <= KNOWN_TIMERS and set(model.hooks.tick_guards) <= KNOWN_GUARDS


def _tick(model: ClusterModel, state: ClusterState) -> tuple[Any, ...] | None:
    # Tick depends on every component's timer and on its guards (the same reads as `Tick`'s
    # footprint in `footprint._tick`): the kubelets' back-offs, the controllers' wake-ups (their
    # cache; the queue and memory of those that keep wake-ups in memory or resync:
    # `controllers.timer_inputs`), node lifecycle's (its memory, heartbeats), the schedulers'
    # flushes (memory and caches), the HPA's, the attach/detach controller's (its memory) and the
    # add-ons' timers; and,
    # while a synced controller has a key queued
    # and the controller manager is up, what `queued_work.holds_clock`'s reconciles read: every
    # controller's queue and memory, the store, an armed failure, a flood (None when nothing is
    # queued: the guard lets go whatever those hold); and what `prompt_work.in_flight_holds_clock`
    # reads: every informer cache, the event log (the store), what is partitioned (the schedulers'
    # guard reads what their timers read); the crash times (`outages`: the restart deadlines, with
    # what is down and the clock); a drain's due eviction (`maintenance`: the add-ons, the clock);
    # and what the last tick left in flight (`state.tick_race`: the in-flight guard).
    # None (not cached) for a model with timers or guards not listed here.
    if not _tick_known(model):
        return None
    memories = (state.controllers.get(nodelifecycle.NAME), state.controllers.get(hpa.NAME),
                state.controllers.get(ATTACH_DETACH), *controllers.timer_inputs(model, state))
    return (state.clock, state.down, state.addons, *memories, state.kubelets, state.heartbeat_lost,
            state.schedulers, _view(model, state, CONTROLLER_MANAGER),
            *(_view(model, state, i) for i in model.scheduler_instances),
            state.store.objects if model.instant_caches else None, controllers.waiting(state),
            *_queued_work(model, state), state.informers, state.partitioned, state.store, state.crashed_at,
            state.tick_race)


_NOTHING_QUEUED = (None, None, None, None)


def _queued_work(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    """What `queued_work.holds_clock` reads beyond the rest of `_tick`'s key (four parts), or four
    Nones while the controller manager is down or no synced controller has a key queued."""
    if next(controllers.runnable(model, state), None) is None:  # (keys of controllers whose process is up)
        return _NOTHING_QUEUED
    return state.controllers, state.store, state.armed_failures, state.overload


def _node_faults(model: ClusterModel, state: ClusterState, node: str) -> tuple[Any, ...]:
    # `faults.node_faults`: what is down and partitioned, the budget, the node's kubelet state
    # while its containers may still crash.
    containers = faults.can_inject(state, model, "container_crash")
    return (state.quiesced, state.faults, state.down, state.partitioned,
            state.kubelets.get(node) if containers else None)


def _crash_faults(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return state.quiesced, state.faults, state.down


def _reconcile_crashes(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `faults.reconcile_crashes`: the budget, what is down; while a crash may still be injected,
    # what a reconcile reads: the controllers' queues and memories, the controller manager's
    # view and the clock.
    if not faults.can_inject(state, model, "component_crash"):
        return state.quiesced, state.faults, None, None, None, None
    return (state.quiesced, state.faults, state.down, state.controllers, _view(model, state, CONTROLLER_MANAGER),
            state.clock, *(_view(model, state, p) for p in own_processes(model)))


def _watch_faults(model: ClusterModel, state: ClusterState, component: str) -> tuple[Any, ...]:
    # `faults.watch_faults`: what is down, the budget, the component's armed failure and its caches
    # while watches may still be dropped.
    watches = faults.can_inject(state, model, "watch_drop") and not model.instant_caches
    return (state.quiesced, state.faults, state.down, component in state.armed_failures,
            state.informers.get(component) if watches else None)


def _quiesce(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    return (state.quiesced,)


def _daemonset_order(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `daemonset_order.enabled`: what is down; with a DaemonSet controller, what its reconciles read:
    # the controllers' queues and memories, the controller manager's view and the clock.
    if not daemonset_order.uses_walk_order(model):
        return (None,)
    return state.down, state.controllers, _view(model, state, CONTROLLER_MANAGER), state.clock


def _persistentvolume_order(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `persistentvolume_order.enabled`: as `_daemonset_order`, with a PV controller.
    if not persistentvolume_order.uses_mode_order(model):
        return (None,)
    return state.down, state.controllers, _view(model, state, CONTROLLER_MANAGER), state.clock


def _hpa(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `hpa.enabled`: whether the scenario has HPAs (the model), the controller manager up, its
    # memory (the HPAs due) and the clock.
    return state.down, state.controllers.get(hpa.NAME), state.clock


def _environment(model: ClusterModel, state: ClusterState) -> tuple[Any, ...] | None:
    # `environment.enabled`: Quiesce, the budget, the stored pods and the environment's levels
    # (`addons`); a user's environment rule may read anything (None: asked every time).
    if environment_rules(model):
        return None
    return state.quiesced, state.faults, state.store.objects, state.addons


def _maintenance(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `maintenance.enabled`: the drains (`addons`), the clock, the stored objects, Quiesce, the
    # budget and what is down.
    return state.addons, state.clock, state.store.objects, state.quiesced, state.faults, state.down


def _descheduler(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `descheduler.enabled`: its next run (`addons`) and the clock.
    return state.addons, state.clock


def _restore(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `restore.enabled`: Quiesce, the budget, the backup, the store's revision and what is down
    # (etcd's quorum).
    return state.quiesced, state.faults, state.etcd_backup, state.store.revision, state.down


def _overload(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `overload.enabled`: the flood in progress, Quiesce and the budget.
    return state.overload, state.quiesced, state.faults


def _provisioner(model: ClusterModel, state: ClusterState) -> tuple[Any, ...]:
    # `provisioner.enabled`: the model's default class, the stored claims, storage classes and
    # volumes (the store, not a cache).
    return (state.store.objects,)


READS: dict[Any, KeyFn] = {
    workload: _workload,
    scheduler: _scheduler,
    controllers: _controllers,
    daemonset_order: _daemonset_order,
    persistentvolume_order: _persistentvolume_order,
    nodelifecycle: _nodelifecycle,
    hpa: _hpa,
    environment: _environment,
    maintenance: _maintenance,
    descheduler: _descheduler,
    restore: _restore,
    overload: _overload,
    provisioner: _provisioner,
}
"""Component module → the parts of the state its `enabled` (and the timers it reads) depend on."""

Unit = tuple[Callable[..., Iterator[Action]], Callable[..., "tuple[Any, ...] | None"], tuple[Any, ...]]
"""A part of a component's `enabled`: (enabled function, key function, extra arguments of both)."""


def _kubelet_units(model: ClusterModel) -> tuple[Unit, ...]:
    return tuple((kubelet.node_enabled, partial(_kubelet_node, node_key=ObjectKey("nodes", "", node),
                                                component=kubelet_name(node)), (node,))
                 for node in sorted(model.nodes))


def _informer_units(model: ClusterModel) -> tuple[Unit, ...]:
    # `informers.enabled` goes through `state.informers` in name order; its keys are always among
    # `informers.components(model)` (components lose and regain their caches, no other gets one).
    return tuple((informers.component_enabled, _informers, (c,)) for c in sorted(informers.components(model)))


def _faults_units(model: ClusterModel) -> tuple[Unit, ...]:
    # In `faults.enabled` order: Tick, Quiesce, each node's faults, process crashes, crashes in the
    # middle of a reconcile, then each informer component's dropped watches and failed requests.
    return ((faults.tick_enabled, _tick, ()), (faults.quiesce_enabled, _quiesce, ()),
            *((faults.node_faults, _node_faults, (node,)) for node in model.nodes),
            (faults.crash_faults, _crash_faults, ()), (faults.reconcile_crashes, _reconcile_crashes, ()),
            *((faults.watch_faults, _watch_faults, (c,)) for c in informers.components(model)))


SPLIT: dict[Any, Callable[[ClusterModel], tuple[Unit, ...]]] = {
    kubelet: _kubelet_units, faults: _faults_units, informers: _informer_units,
}
"""Components whose `enabled` is the concatenation of parts cached separately: the kubelets node
by node, watch deliveries component by component, time apart from faults, faults node by node and
component by component (a watch delivery to one kubelet changes nothing another reads)."""


Token = Any
"""A part of the state that may change between two states: a `ClusterState` field name;
`store.objects` or `store.events`; or (`informers`, component) / (`kubelets`, node) for one entry."""
PER_ENTRY = ("informers", "kubelets")
"""Fields whose entries `changes` tells apart."""
_FIELDS = tuple(f.name for f in attrs.fields(ClusterState))
_ALL_FIELDS = attrgetter(*_FIELDS)
"""A state's fields, in `_FIELDS` order, in one call."""


def changes(before: ClusterState, after: ClusterState) -> set[Token]:
    """The tokens of what differs between two states (compared by identity: a step shares every
    part it does not change with its predecessor)."""
    out: set[Token] = set()
    for name, old, new in zip(_FIELDS, _ALL_FIELDS(before), _ALL_FIELDS(after), strict=True):
        if old is new:
            continue
        out.add(name)
        if name == "store":
            if old.objects is not new.objects:
                out.add("store.objects")
            if old.events is not new.events:
                out.add("store.events")
        elif name in PER_ENTRY:
            out.update([(name, k) for k in old.differing_keys(new)])
    return out


DepsFn = Callable[..., "frozenset[Token] | None"]


def _scheduler_deps(model: ClusterModel) -> frozenset[Token]:
    # (The stored objects only as the instances' view with instant caches: `_scheduler`.)
    return frozenset({"down", "schedulers", *(("store.objects",) if model.instant_caches else ()),
                      *(("informers", i) for i in model.scheduler_instances)})


def _tick_deps(model: ClusterModel) -> frozenset[Token] | None:
    # None (recomputed in every state) for a model with timers or guards not listed in `_tick`:
    # a user's timer or guard may read any part of the state.
    if not _tick_known(model):
        return None
    return frozenset({"clock", "down", "addons", "controllers", "kubelets", "heartbeat_lost", "schedulers",
                      "store.objects", ("informers", CONTROLLER_MANAGER), "store", "armed_failures", "overload",
                      "informers", "partitioned", "crashed_at", "tick_race",
                      *(("informers", i) for i in model.scheduler_instances)})


DEPS: dict[Any, DepsFn] = {
    _workload: lambda model: frozenset({"workload_next", "store.objects", "addons",
                                        *(("clock",) if workload_wait.has_timeouts(model) else ())}),
    _informers: lambda model, component: frozenset({("informers", component), "store.events", "down", "partitioned"}),
    _scheduler: _scheduler_deps,
    _controllers: lambda model: frozenset({"down", "controllers", *(
        ("store.objects",) if blockable(model.controllers, model.api.users) else ())}),
    _nodelifecycle: lambda model: frozenset({"down", "controllers", ("informers", CONTROLLER_MANAGER), "store.objects",
                                             "heartbeat_lost", "clock"}),
    _kubelet_node: lambda model, node: frozenset({"down", "partitioned", "kubelets", ("informers", kubelet_name(node)),
                                                  "store.objects", "clock"}),
    _tick: _tick_deps,
    _quiesce: lambda model: frozenset({"quiesced"}),
    _node_faults: lambda model, node: frozenset({"quiesced", "faults", "down", "partitioned", ("kubelets", node)}),
    _crash_faults: lambda model: frozenset({"quiesced", "faults", "down"}),
    _reconcile_crashes: lambda model: frozenset({"quiesced", "faults", "down", "controllers",
                                                 ("informers", CONTROLLER_MANAGER), "store.objects", "clock",
                                                 *(("informers", p) for p in own_processes(model))}),
    _watch_faults: lambda model, component: frozenset({"quiesced", "faults", "down", "armed_failures",
                                                       ("informers", component)}),
    _daemonset_order: lambda model: frozenset({"down", "controllers", ("informers", CONTROLLER_MANAGER),
                                                "store.objects", "clock"}) if daemonset_order.uses_walk_order(
        model) else frozenset(),
    _persistentvolume_order: lambda model: frozenset({"down", "controllers", ("informers", CONTROLLER_MANAGER),
                                                       "store.objects", "clock"})
    if persistentvolume_order.uses_mode_order(model) else frozenset(),
    _hpa: lambda model: frozenset({"down", "controllers", "clock"}),
    _environment: lambda model: None if environment_rules(model) else frozenset({"quiesced", "faults",
                                                                                "store.objects", "addons"}),
    _maintenance: lambda model: frozenset({"addons", "clock", "store.objects", "quiesced", "faults", "down"}),
    _descheduler: lambda model: frozenset({"addons", "clock"}),
    _restore: lambda model: frozenset({"quiesced", "faults", "etcd_backup", "store", "down"}),
    _overload: lambda model: frozenset({"overload", "quiesced", "faults"}),
    _provisioner: lambda model: frozenset({"store.objects"}),
}
"""Key function → the tokens of every part of the state it reads (a superset is safe, a missing
one is not): a part whose tokens did not change since the last answer keeps it."""


def _guard_deps(model: ClusterModel, guard: Any, flood: bool) -> frozenset[Token] | None:
    if guard is blocks_tick:  # (node lifecycle's pass and eviction retries: `_nodelifecycle`'s reads)
        return DEPS[_nodelifecycle](model)
    if guard is queued_work.holds_clock:  # (`clock_guards.holds_clock_reads`, as tokens)
        gates = model.hooks.request_gates
        if gates and gates != model.hooks.memo_safe_gates:  # (a user's request gate may read anything)
            return None
        return frozenset({"down", "controllers", ("informers", CONTROLLER_MANAGER), "store", "clock",
                          "armed_failures", "overload", *(("informers",) if flood else ()),
                          *(("informers", p) for p in own_processes(model))})
    if guard is prompt_work.scheduler_holds_clock:  # (the scheduler's enabled actions)
        return _scheduler_deps(model)
    if guard is outages.outage_holds_clock:  # (`restart_deadline`: the crash times, what is down; the clock)
        return frozenset({"crashed_at", "down", "clock"})
    if guard is exit_deadlines.exit_holds_clock:  # (the kubelets' containers and pod caches, who is up)
        return frozenset({"kubelets", "informers", "store.objects", "down", "clock"})
    if guard is maintenance.drain_holds_clock:  # (the drains' due evictions: the add-ons, the clock)
        return frozenset({"addons", "clock"})
    return None  # (the in-flight guard reads every timer: as much as `Tick` itself)


_GUARD_DEPS: list[Any] = [None, {}]


def guard_deps(model: ClusterModel, state: ClusterState, guard: Any) -> frozenset[Token] | None:
    """The tokens of every part of `state` the tick guard `guard` reads (a superset), or None where
    they are not listed here (a user's guard; the in-flight guard, which reads every timer): while
    none of them changes, a guard that held still holds, so `Tick` stays disabled
    (`incremental.Held`). Remembered per model, guard and whether a flood is on."""
    if _GUARD_DEPS[0] is not model:
        _GUARD_DEPS[:] = [model, {}]
    known: dict[tuple[Any, bool], frozenset[Token] | None] = _GUARD_DEPS[1]
    key = (guard, state.overload is not None)
    if key not in known:
        known[key] = _guard_deps(model, guard, key[1])
    return known[key]


def deps(model: ClusterModel, key_fn: Any, args: tuple[Any, ...]) -> frozenset[Token] | None:
    """The tokens `key_fn` (a key function, or a `partial` of one) reads with `args`; None if `DEPS` has none."""
    fn = DEPS.get(key_fn.func if isinstance(key_fn, partial) else key_fn)
    return None if fn is None else fn(model, *args)
