"""Time and faults: `Tick`, node crash/restart, partitions, container and component crashes,
dropped watches, failed API requests, and `Quiesce`.

Faults are actions drawn from the scenario's fault budget (`faults:` in the scenario file) and
are enabled only before `Quiesce`; recoveries (node restart, heal, component restart, relist)
stay enabled afterwards, so convergence can be judged once faults stop — the "eventually stable
reconciliation" pattern. A crashed process comes back within its bounded outage
(`kubeprop.model.cluster.outages`: the clock does not pass its restart deadline while it is down);
a crashed node's recovery is the environment's choice and has no bound. `Tick` advances the clock
by the scenario's tick (shortened to land on a restart deadline) and is enabled only
while some component has a timer pending (`next_timer`), so time does not run away in a quiet
cluster, and no component holds the clock (`blocks_tick`: periodic work upstream runs more often
than one tick, such as the node lifecycle controller's 5 s health pass, happens first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from kubeprop.model.cluster import prompt_work
from kubeprop.model.cluster.clock_guards import holding, in_flight
from kubeprop.model.cluster.informers import (
    components,
    fresh_informer,
    mark_stale,
    note_listed,
    remember_revisions,
    watched,
)
from kubeprop.model.cluster.outages import tick_step
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers.processes import own_processes, process_of
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kubelet_mod
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashContainer,
    CrashDuringReconcile,
    CrashNode,
    DropWatch,
    FailNextRequest,
    Heal,
    Partition,
    Quiesce,
    RestartComponent,
    RestartNode,
    Tick,
)
from kubeprop.model.state.cluster import (
    CONTROLLER_MANAGER,
    ETCD_PREFIX,
    ClusterModel,
    ClusterState,
    FaultsSpent,
    is_up,
    kubelet,
)
from kubeprop.model.state.informer import InformerState, ResourceCache

FAILURE_CODES = (500, 504)
"""Injected request failures: 500 (nothing written) and 504 (a timeout after the write applied).
A 429 from an overloaded API server behaves like 500 in the model."""

def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest pending timer over all components (`model.hooks.timers`), if any is in the future."""
    times = [t for timer in model.hooks.timers if (t := timer(model, state)) is not None and t > state.clock]
    return min(times) if times else None


def can_inject(state: ClusterState, model: ClusterModel, kind: str) -> bool:
    """True while faults of `kind` may still be injected (before `Quiesce`, within the budget)."""
    return not state.quiesced and state.faults.allows(model.budget, kind)


def _spend(state: ClusterState, kind: str) -> FaultsSpent:
    return state.faults.spend(kind)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Tick, Quiesce, every fault the budget still allows, and every recovery."""
    yield from tick_enabled(model, state)
    yield from fault_enabled(model, state)


def timer_pending(model: ClusterModel, state: ClusterState) -> bool:
    """Whether some component has a timer in the future (`next_timer` is not None), asking the
    timers in turn only until one has: whether time may pass needs no earliest timer."""
    clock = state.clock
    return any((t := timer(model, state)) is not None and t > clock for timer in model.hooks.timers)


def tick_enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """`Tick`, while some timer is pending and no component holds the clock; shortened to land on
    a crashed process's restart deadline when that comes sooner (`outages.tick_step`). The guards
    are asked first, the timers only where none holds (`clock_guards`: the same answer, cheaper)."""
    if holding(model, state) is None:
        yield from tick_unguarded(model, state)


def tick_unguarded(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """`Tick` where no guard holds the clock: while some timer is pending (`tick_enabled` asks the
    guards first; the enabled-actions cache asks them itself, to keep the guard that held)."""
    if timer_pending(model, state):
        yield Tick(tick_step(model, state))


def fault_enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Quiesce, every fault the budget still allows, and every recovery."""
    yield from quiesce_enabled(model, state)
    for node in model.nodes:
        yield from node_faults(model, state, node)
    yield from crash_faults(model, state)
    yield from reconcile_crashes(model, state)
    for component in components(model):
        yield from watch_faults(model, state, component)


def quiesce_enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """`Quiesce`, until it is taken."""
    if not state.quiesced:
        yield Quiesce()


def node_faults(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    """One node's faults and recoveries: crash or restart it, partition or heal it, crash one of
    its running containers. They read what is down and partitioned, the budget, and (for
    container crashes) the node's kubelet state."""
    down = f"node/{node}" in state.down
    if down:
        yield RestartNode(node)
    elif can_inject(state, model, "node_crash"):
        yield CrashNode(node)
    if node in state.partitioned:
        yield Heal(node)
    elif can_inject(state, model, "partition"):
        yield Partition(node)
    if not down and can_inject(state, model, "container_crash"):
        for pod, container in kubelet_mod.running_containers(state.kubelets[node]):
            yield CrashContainer(node, pod, container)


def crashable(model: ClusterModel) -> tuple[str, ...]:
    """The processes that can crash (`crash_faults`): schedulers, the controller manager, the
    operators that run as processes of their own (`processes.own_processes`), kubelets, etcd members."""
    return (*model.scheduler_instances, CONTROLLER_MANAGER, *own_processes(model), *(kubelet(n) for n in model.nodes),
            *(f"{ETCD_PREFIX}{m}" for m in model.etcd_members))


def crash_faults(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Crash or restart each process (schedulers, the controller manager, kubelets, etcd
    members): they read what is down and the budget."""
    for component in crashable(model):
        if f"node/{component.removeprefix('kubelet/')}" in state.down:
            continue
        if component in state.down:
            yield RestartComponent(component)
        elif can_inject(state, model, "component_crash"):
            yield CrashComponent(component)


def reconcile_crashes(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """The controller's process (the controller manager, or an operator's own) crashing in the middle
    of a reconcile: for each queued key whose reconcile would now send n > 1 requests, after each of
    the first n - 1 of them. They read the budget, what is down, the controllers' queues and
    memories, their processes' caches and the clock (what a reconcile reads); `controllers.runnable`
    lists only the keys of controllers whose process is up."""
    if not can_inject(state, model, "component_crash"):
        return
    for controller, key in controllers.runnable(model, state):
        for sent in range(1, len(controllers.decide(model, state, controller, key).requests)):
            yield CrashDuringReconcile(controller, key, sent)


def watch_faults(model: ClusterModel, state: ClusterState, component: str) -> Iterator[Action]:
    """Drop one of a live component's watches, or fail its next API request: they read what is
    down, the budget, the component's caches (which watches are not already broken) and its
    armed failure."""
    if not is_up(state, component):
        return
    if can_inject(state, model, "watch_drop") and not model.instant_caches:
        informer = state.informers.get(component)
        for resource, cache in informer.resources.sorted_items() if informer else ():
            if not cache.stale:
                yield _dropped(component, resource)
    if can_inject(state, model, "request_failure") and component not in state.armed_failures:
        yield from _failures(component)


@lru_cache(maxsize=1024)
def _dropped(component: str, resource: str) -> DropWatch:
    """`DropWatch(component, resource)`, made once: an action is a value, and `watch_faults` is
    asked again whenever a component's caches change (most steps)."""
    return DropWatch(component, resource)


@lru_cache(maxsize=256)
def _failures(component: str) -> tuple[FailNextRequest, ...]:
    """A component's request failures (`FAILURE_CODES`), made once (see `_dropped`)."""
    return tuple(FailNextRequest(component, code) for code in FAILURE_CODES)


def _lose_heartbeat(state: ClusterState, node: str) -> ClusterState:
    if node in state.heartbeat_lost:
        return state
    return evolve(state, heartbeat_lost=state.heartbeat_lost.set(node, state.clock))


def _regain_heartbeat(state: ClusterState, node: str) -> ClusterState:
    if f"node/{node}" in state.down or node in state.partitioned:
        return state
    return evolve(state, heartbeat_lost=state.heartbeat_lost.delete(node))


def reset_component(model: ClusterModel, state: ClusterState, component: str) -> ClusterState:
    """A component (re)starts: fresh caches (a LIST) and fresh memory from every resetter."""
    cut_off = component.startswith("kubelet/") and component.removeprefix("kubelet/") in state.partitioned
    if component.startswith(ETCD_PREFIX):
        pass  # an etcd member keeps its data (Raft persists term, vote and log) and has no caches
    elif cut_off:  # it cannot LIST yet: an empty cache that relists once the partition heals
        empty = InformerState(FrozenMap({r: ResourceCache(stale=True) for r in watched(model, component)}))
        state = evolve(state, informers=state.informers.set(component, empty))
    elif model.instant_caches:
        state = evolve(state, informers=state.informers.delete(component))
    else:
        state = evolve(state, informers=state.informers.set(component, fresh_informer(model, state, component)))
        state = note_listed(state, component)
    for reset in model.hooks.resetters:
        state = reset(model, state, component)
    return state


def _tick(model: ClusterModel, state: ClusterState, act: Tick) -> ClusterState:
    after = evolve(state, clock=state.clock + act.seconds)
    for hook in model.hooks.tick_hooks:
        after = hook(model, state, after)
    return prompt_work.after_tick(model, after, in_flight(model, state))


def _quiesce(model: ClusterModel, state: ClusterState, act: Quiesce) -> ClusterState:
    return evolve(state, quiesced=True)


def _crash_node(model: ClusterModel, state: ClusterState, act: CrashNode) -> ClusterState:
    state = remember_revisions(state, kubelet(act.node))
    kstate = kubelet_mod.crash_node(state.kubelets[act.node])
    state = evolve(
        state, down=state.down | {f"node/{act.node}"}, kubelets=state.kubelets.set(act.node, kstate),
        faults=_spend(state, "node_crash"),
    )
    return _lose_heartbeat(state, act.node)


def _restart_node(model: ClusterModel, state: ClusterState, act: RestartNode) -> ClusterState:
    state = evolve(state, down=state.down - {f"node/{act.node}"})
    state = reset_component(model, state, kubelet(act.node))
    return _regain_heartbeat(state, act.node)


def _partition(model: ClusterModel, state: ClusterState, act: Partition) -> ClusterState:
    """Cut a node off. Its kubelet's watches break; with instant caches the kubelet keeps a frozen
    snapshot of what it knew, so it cannot see API changes made while it is cut off."""
    state = evolve(state, partitioned=state.partitioned | {act.node}, faults=_spend(state, "partition"))
    component = kubelet(act.node)
    if model.instant_caches:
        snapshot = fresh_informer(model, state, component)
        state = evolve(state, informers=state.informers.set(component, snapshot))
    state = mark_stale(state, component)
    return _lose_heartbeat(state, act.node)


def _heal(model: ClusterModel, state: ClusterState, act: Heal) -> ClusterState:
    state = evolve(state, partitioned=state.partitioned - {act.node})
    if model.instant_caches:
        state = evolve(state, informers=state.informers.delete(kubelet(act.node)))
    return _regain_heartbeat(state, act.node)


def _crash_container(model: ClusterModel, state: ClusterState, act: Any) -> ClusterState:
    kstate = kubelet_mod.crash_container(state.kubelets[act.node], act.pod, act.container, now=state.clock)
    assert kstate is not None, "CrashContainer is not enabled"
    return evolve(state, kubelets=state.kubelets.set(act.node, kstate), faults=_spend(state, "container_crash"))


def _crash_component(model: ClusterModel, state: ClusterState, act: CrashComponent) -> ClusterState:
    state = remember_revisions(state, act.component)
    state = evolve(state, down=state.down | {act.component}, faults=_spend(state, "component_crash"),
                   crashed_at=state.crashed_at.set(act.component, state.clock))
    return evolve(state, informers=state.informers.delete(act.component),
                  armed_failures=state.armed_failures.delete(act.component))


def _crash_during_reconcile(model: ClusterModel, state: ClusterState, act: CrashDuringReconcile) -> ClusterState:
    """The reconcile's first `act.sent` requests sent, then the controller's process down (the
    controller manager, or an operator's own: `processes.process_of`)."""
    state = controllers.reconcile(model, state, controllers.Reconcile(act.controller, act.key), sent=act.sent)
    return _crash_component(model, state, CrashComponent(process_of(model, act.controller)))


def _restart_component(model: ClusterModel, state: ClusterState, act: RestartComponent) -> ClusterState:
    state = evolve(state, down=state.down - {act.component}, crashed_at=state.crashed_at.delete(act.component))
    return reset_component(model, state, act.component)


def _drop_watch(model: ClusterModel, state: ClusterState, act: DropWatch) -> ClusterState:
    state = mark_stale(state, act.component, (act.resource,))
    return evolve(state, faults=_spend(state, "watch_drop"))


def _fail_next(model: ClusterModel, state: ClusterState, act: FailNextRequest) -> ClusterState:
    return evolve(state, armed_failures=state.armed_failures.set(act.component, act.code),
                  faults=_spend(state, "request_failure"))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    Tick: _tick,
    Quiesce: _quiesce,
    CrashNode: _crash_node,
    RestartNode: _restart_node,
    Partition: _partition,
    Heal: _heal,
    CrashContainer: _crash_container,
    CrashComponent: _crash_component,
    CrashDuringReconcile: _crash_during_reconcile,
    RestartComponent: _restart_component,
    DropWatch: _drop_watch,
    FailNextRequest: _fail_next,
}
