"""Informer actions: `Deliver` the next watch event of a resource to a component, and `Relist`.

Which component watches what (upstream: each binary's informer factory):

- the scheduler: pods and nodes (`pkg/scheduler/eventhandlers.go`), Services, ReplicaSets and
  StatefulSets for the default spreading selector (`podtopologyspread/plugin.go` setListers), and
  PodDisruptionBudgets for preemption where the scenario has any (`kubeprop.model.scheduler.pdbs`);
- the controller manager: the union of its controllers' `watches` plus pods and nodes (one shared
  informer factory for all controllers, `cmd/kube-controller-manager/app/controllermanager.go`);
- an operator running with a cache of its own (`operator/<name>`,
  `kubeprop.model.controllers.processes`): its controller's `watches` only (its own informer
  factory or controller-runtime cache);
- a kubelet: pods with `spec.nodeName=<node>` (`pkg/kubelet/config/apiserver.go`), ConfigMaps and
  Secrets where the scenario can have any (`kubelet_watches`).

Delivering an event also runs the component's event handlers (controllers enqueue keys; the
scheduler requeues pods). With instant caches there are no informer actions: every write's
events are handled at once (`deliver_instantly`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from kubeprop.model.api.objects import ApiObject, ConfigMap, ObjectKey, Pod, Secret
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.controllers.processes import controllers_in, is_operator, own_processes
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.default_spread import DEFAULT_SPREAD_RESOURCES
from kubeprop.model.state.actions import Action, Deliver, Relist
from kubeprop.model.state.cluster import (
    CONTROLLER_MANAGER,
    KUBELET_PREFIX,
    ClusterModel,
    ClusterState,
    etcd_available,
    kubelet,
    observed,
    reaches_apiserver,
    refusal,
)
from kubeprop.model.state.informer import (
    HandedEvent,
    InformerState,
    ObjectFilter,
    ResourceCache,
    deliver,
    event_index,
    handed,
    list_resource,
    next_event,
)


def _on_node(node: str) -> ObjectFilter:
    def keep(obj: ApiObject) -> bool:
        return isinstance(obj, Pod) and obj.spec.node_name == node

    return keep


def kubelet_watches(model: ClusterModel) -> tuple[str, ...]:
    """A kubelet's watches: its pods, and the ConfigMaps and Secrets its containers' environment is built
    from and its pods' volumes mount (`kubeprop.model.kubelet.config`, `volumes`: upstream a watch of each
    referenced object, the Watch strategy of `pkg/kubelet/util/manager/watch_based_manager.go`; here whole
    resources) — each only when one can
    exist: the scenario's manifests or workload steps create one, or it runs controllers of its own (no
    built-in controller creates either). Otherwise the cache would stay empty, as the lookup of an
    unwatched resource is (None: not found), and its relists would only add steps."""
    own = bool(model.scenario.controllers or model.added_controllers)
    extra = [r for r, kind in (("configmaps", ConfigMap), ("secrets", Secret)) if own or kind in model.created_types]
    return tuple(sorted(("pods", *extra)))


def watched(model: ClusterModel, component: str) -> tuple[str, ...]:
    """The qualified resources a component watches."""
    if component.startswith(KUBELET_PREFIX):
        return kubelet_watches(model)
    if component == WATCH_CACHE:
        return ("pods",)
    if is_operator(component):
        return tuple(sorted({r for c in controllers_in(model, component) for r in c.watches}))
    resources = {"pods", "nodes"}
    if component == CONTROLLER_MANAGER:
        for controller in model.controllers:
            resources.update(controller.watches)
    else:
        resources.update(DEFAULT_SPREAD_RESOURCES)
    for source in model.hooks.watches:
        resources.update(source(model, component))
    return tuple(sorted(resources))


@lru_cache(maxsize=1024)
def filters(component: str) -> FrozenMap[str, ObjectFilter]:
    """Field selectors of a component's watches (the kubelet's `spec.nodeName`); the same map for
    the same component (delivering a watch event asks for it every time)."""
    if component.startswith(KUBELET_PREFIX):
        return FrozenMap({"pods": _on_node(component[len(KUBELET_PREFIX):])})
    return FrozenMap()


def components(model: ClusterModel) -> tuple[str, ...]:
    """Every component with an informer: schedulers, the controller manager, the operators that run
    with caches of their own (`processes.own_processes`), every kubelet."""
    cache = (WATCH_CACHE,) if model.parameter("listFromWatchCache") else ()
    return (*cache, *model.scheduler_instances, CONTROLLER_MANAGER, *own_processes(model),
            *(kubelet(n) for n in model.nodes))


WATCH_CACHE = "watchcache"
"""A second API server's watch cache (`staging/src/k8s.io/apiserver/pkg/storage/cacher`), present
when `listFromWatchCache` is set: it follows etcd through its own lagging watch, and LISTs with
resourceVersion="0" are served from it (kubernetes#59848)."""


def list_for(model: ClusterModel, state: ClusterState, component: str, resource: str) -> ResourceCache:
    """A LIST of one resource for a component: consistent from etcd, or — with
    `listFromWatchCache` — served from the (possibly lagging) watch cache."""
    keep = filters(component).get(resource)
    if component != WATCH_CACHE and model.parameter("listFromWatchCache"):
        served = state.informers.get(WATCH_CACHE)
        source = served.resources.get(resource) if served is not None else None
        if source is not None:
            objects = {k: o for k, o in source.objects.sorted_items() if keep is None or keep(o)}
            return ResourceCache(FrozenMap(objects), source.revision)
    return list_resource(state.store, resource, keep)


def fresh_informer(model: ClusterModel, state: ClusterState, component: str) -> InformerState:
    """A component's caches right after it (re)starts: a LIST of everything it watches."""
    return InformerState(FrozenMap({r: list_for(model, state, component, r) for r in watched(model, component)}))


def _ghost_key(component: str, resource: str) -> str:
    return f"{component}|{resource}"


def remember_revisions(state: ClusterState, component: str) -> ClusterState:
    """Ghost bookkeeping before a component loses its caches: the highest revision it has seen
    per resource (what a client would compare a later LIST against)."""
    informer = state.informers.get(component)
    if informer is None:
        return state
    seen = dict(state.seen_revisions)
    for resource, cache in informer.resources.items():
        key = _ghost_key(component, resource)
        seen[key] = max(seen.get(key, 0), cache.revision)
    return evolve(state, seen_revisions=FrozenMap(seen))


def note_listed(state: ClusterState, component: str) -> ClusterState:
    """Ghost check after a LIST: a revision below one the component saw before is time travel."""
    informer = state.informers.get(component)
    if informer is None:
        return state
    travelled = {
        _ghost_key(component, r) for r, cache in informer.resources.items()
        if not cache.stale and cache.revision < state.seen_revisions.get(_ghost_key(component, r), 0)
    }
    if not travelled - state.time_travel:
        return state
    return evolve(state, time_travel=state.time_travel | travelled)


def initial_informers(model: ClusterModel, state: ClusterState) -> FrozenMap[str, InformerState]:
    """Every component's caches at the start (empty with instant caches)."""
    if model.instant_caches:
        return FrozenMap()
    return FrozenMap({c: fresh_informer(model, state, c) for c in components(model)})


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Deliver for each (component, resource) with a pending event; Relist for stale caches."""
    if model.instant_caches:
        return
    for component in state.informers:
        yield from component_enabled(model, state, component)


def component_enabled(model: ClusterModel, state: ClusterState, component: str) -> Iterator[Action]:
    """One component's Deliver and Relist actions: they read its caches, the store's event log,
    what is down (etcd's quorum too) and partitioned."""
    informer = state.informers.get(component)
    if informer is not None and not model.instant_caches and reaches_apiserver(state, component):
        index = event_index(state.store.events)  # (`next_in` for each resource, the log indexed once)
        for resource, cache in informer.resources.sorted_items():
            if cache.stale:
                if etcd_available(model, state):  # a LIST is a consistent read from etcd
                    yield Relist(component, resource)
                continue
            logged = index.get(resource)
            if logged is None:
                continue  # (no event of that resource in the log)
            revisions = logged[0]  # `next_in`, written out (asked for every cache of every component)
            at = bisect_right(revisions, cache.revision)
            if at < len(revisions):
                yield _delivery(component, resource, revisions[at])


@lru_cache(maxsize=4096)
def _delivery(component: str, resource: str, revision: int) -> Deliver:
    """`Deliver(component, resource, revision)`, made once: an action is a value, and a pending
    event is offered again in every state until it is delivered (`component_enabled` is asked
    whenever the component's caches or the event log change)."""
    return Deliver(component, resource, revision)


def run_hooks(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """Run the model's event hooks (`model.hooks.on_events`) for events that reached `component`."""
    for hook in model.hooks.on_events:
        state = hook(model, state, component, events)
    return state


def _deliver(model: ClusterModel, state: ClusterState, act: Deliver) -> ClusterState:
    informer = state.informers[act.component]
    cache = informer.resources[act.resource]
    event = next_event(state.store, cache, act.resource)
    assert event is not None and event.revision == act.revision, "Deliver is not enabled"
    keep = filters(act.component).get(act.resource)
    informer = InformerState(informer.resources.set(act.resource, deliver(cache, event, keep)))
    state = evolve(state, informers=state.informers.set(act.component, informer))
    return run_hooks(model, state, act.component, (handed(event, cache.objects.get(event.key)),))


def _relist(model: ClusterModel, state: ClusterState, act: Relist) -> ClusterState:
    """Replace the cache with a fresh LIST and hand the handlers what changed (`hand_relist`)."""
    listing = Request(verb="list", user="", resource=act.resource)
    refused = refusal(model, state, "", listing, act.component)
    observed(model, act.component, listing, refused or Response(200, "OK"))
    if refused is not None:  # an overloaded API server refuses the LIST: the cache stays stale
        return state
    state = remember_revisions(state, act.component)
    informer = state.informers[act.component]
    old = informer.resources[act.resource]
    cache = list_for(model, state, act.component, act.resource)
    informer = InformerState(informer.resources.set(act.resource, cache))
    state = note_listed(evolve(state, informers=state.informers.set(act.component, informer)), act.component)
    return hand_relist(model, state, act.component, old, cache)


def hand_relist(model: ClusterModel, state: ClusterState, component: str, old: ResourceCache,
                new: ResourceCache) -> ClusterState:
    """What a relist from `old` to `new` hands a component's event handlers, in client-go's order: v1.33's
    default `InOrderInformers` gate (`staging/src/k8s.io/client-go/features/known_features.go`) makes
    the shared informer's queue a RealFIFO (`tools/cache/shared_informer.go` RunWithContext), whose
    Replace (`tools/cache/the_real_fifo.go`) queues the vanished objects' deletions — their last
    *cached* state, `DeletedFinalStateUnknown` — *before* the listed objects ("We cannot add the
    items until after the synthetic deletes have been created"; the DeltaFIFO of the gate turned off,
    `tools/cache/delta_fifo.go` Replace, queued them after). Each listed object is an add when the
    cache did not hold it, an update (`controller.go` processDeltas -> OnUpdate) when it did
    (`relisted`).

    An update of an object the cache held unchanged (equal resourceVersions) is a sync update
    (`shared_informer.go` OnUpdate, isSync): it reaches only `model.hooks.on_sync_updates`, the
    handlers that act on one (`kubeprop.model.controllers.sync_updates` tells, per controller and
    resource, which upstream handlers return at once on equal resourceVersions). The scheduler's
    handlers do nothing with it (`pkg/scheduler/eventhandlers.go` updatePodInSchedulingQueue returns
    when the resourceVersions are equal; an assigned pod, node or volume object unchanged yields no
    event a plugin registers), nor do the kubelets' (the pod source's UndeltaStore hands the pod
    config a full set that merges to no change, `pkg/kubelet/config/config.go`)."""
    gone = tuple(
        WatchEvent("DELETED", k, o, new.revision) for k, o in old.objects.sorted_items() if k not in new.objects
    )
    state = run_hooks(model, state, component, gone + relisted(old, new, skip_unchanged=True))
    synced = unchanged(old, new)
    for hook in model.hooks.on_sync_updates if synced else ():
        state = hook(model, state, component, synced)
    return state


def relisted(old: ResourceCache, new: ResourceCache, skip_unchanged: bool) -> tuple[WatchEvent, ...]:
    """The listed objects as the handlers see them after a relist: ADDED for one the old cache did
    not hold, MODIFIED for one it held (OnUpdate), leaving out those it held unchanged when
    `skip_unchanged`."""
    events: list[WatchEvent] = []
    for key, obj in new.objects.sorted_items():
        before = old.objects.get(key)
        if before is None:
            events.append(WatchEvent("ADDED", key, obj, new.revision))
        elif not (skip_unchanged and before == obj):
            events.append(HandedEvent("MODIFIED", key, obj, new.revision, before))
    return tuple(events)


def unchanged(old: ResourceCache, new: ResourceCache) -> tuple[WatchEvent, ...]:
    """The sync updates of a relist: MODIFIED for each listed object the old cache held unchanged (handed
    with itself as the old object: OnUpdate(old, new) with equal resourceVersions)."""
    return tuple(HandedEvent("MODIFIED", k, o, new.revision, o) for k, o in new.objects.sorted_items()
                 if old.objects.get(k) == o)


def deliver_instantly(model: ClusterModel, state: ClusterState, events: Iterable[WatchEvent],
                      before: Mapping[ObjectKey, ApiObject] | None = None) -> ClusterState:
    """With instant caches: hand new events to every live component's hooks at once. `before`: the stored
    objects before the step that wrote them, so that an update carries the object it replaced
    (`HandedEvent`: each event's old object is the previous event's at its key, or `before`'s)."""
    batch = _with_old(tuple(events), before or {})
    if not batch:
        return state
    for component in components(model):
        if reaches_apiserver(state, component):
            state = run_hooks(model, state, component, batch)
    return state


def _with_old(events: tuple[WatchEvent, ...], before: Mapping[ObjectKey, ApiObject]) -> tuple[WatchEvent, ...]:
    latest: dict[ObjectKey, ApiObject | None] = {}
    out = []
    for event in events:
        old = latest[event.key] if event.key in latest else before.get(event.key)
        out.append(handed(event, old))
        latest[event.key] = None if event.type == "DELETED" else event.object
    return tuple(out)


def mark_stale(state: ClusterState, component: str, resources: Iterable[str] | None = None) -> ClusterState:
    """Break a component's watches (all, or some resources): they must relist before more events."""
    informer = state.informers.get(component)
    if informer is None:
        return state
    names = set(resources) if resources is not None else set(informer.resources)
    updated = {r: evolve(c, stale=True) if r in names else c for r, c in informer.resources.items()}
    return evolve(state, informers=state.informers.set(component, InformerState(FrozenMap(updated))))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    Deliver: _deliver,
    Relist: _relist,
}
