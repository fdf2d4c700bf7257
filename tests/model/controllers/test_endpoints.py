"""The Endpoints and EndpointSlice controllers on FeastFlow's `feastflow-backend` Service, with
backend pods made by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from api_harness import feastflow
from cluster_harness import api_seen, settled

from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import (
    Container,
    ContainerStatus,
    EndpointAddress,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    ObjectKey,
    Pod,
    PodSpec,
    PodStatus,
)
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers import queued_work
from kubeprop.model.controllers.base import Controller, Reconcile
from kubeprop.model.controllers.endpoints import EndpointsController, repack
from kubeprop.model.controllers.endpointslice import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    EndpointSliceController,
)
from kubeprop.model.controllers.endpointslice_retries import RetryMemory, retry_budget_seconds
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.actions import Tick

API = feastflow()
BASE = API.base
send, ok = API.send, API.ok
KEY = "default/feastflow-backend"
SLICES = "endpointslices.discovery.k8s.io"


def reconcile(ctl: Any, store: Store, key: str = KEY) -> Store:
    """One reconcile whose every request must succeed (`ApiHarness.reconcile`): the new store."""
    return API.reconcile(ctl, store, key, must_succeed=True)[0]


def backend(store: Store, name: str, ip: str, ready: bool, running: bool = True) -> Store:
    """A backend pod bound to worker-1, Running with `ip`; Ready as given; containers running."""
    labels = {"app": "feastflow-backend"}
    spec = PodSpec(containers=(Container(name="backend", image="feastflow-backend:latest"),))
    store = ok(store, Request(verb="create", user=ADMIN, obj=Pod(
        metadata=ObjectMeta(name=name, namespace="default", labels=labels), spec=spec)))
    store = ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name=name,
                              node_name="worker-1"))
    current = store.get(ObjectKey("pods", "default", name))
    assert isinstance(current, Pod)
    state = FrozenMap({"running": FrozenMap({"startedAt": 1})}) if running else None
    status = PodStatus(
        phase="Running", pod_ip=ip, conditions=(
            *current.status.conditions, Condition(type="Ready", status="True" if ready else "False")),
        container_statuses=(ContainerStatus(name="backend", ready=ready, started=running, state=state),),
    )
    return ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status)))


def endpoints(store: Store) -> Endpoints:
    obj = store.get(ObjectKey("endpoints", "default", "feastflow-backend"))
    assert isinstance(obj, Endpoints)
    return obj


def ready_ips(ep: Endpoints) -> list[str]:
    return [a.ip for s in ep.subsets for a in s.addresses]


def not_ready_ips(ep: Endpoints) -> list[str]:
    return [a.ip for s in ep.subsets for a in s.not_ready_addresses]


def three_pods() -> Store:
    store = backend(BASE, "backend-a", "10.244.1.1", ready=True)
    store = backend(store, "backend-b", "10.244.1.2", ready=True)
    return backend(store, "backend-c", "10.244.1.3", ready=False)


def delete(store: Store, name: str) -> Store:
    return ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=name))


def test_controllers_satisfy_the_protocol() -> None:
    assert isinstance(EndpointsController(), Controller)
    assert isinstance(EndpointSliceController(), Controller)


def test_endpoints_list_the_ready_backend_pods() -> None:
    store = reconcile(EndpointsController(), three_pods())
    ep = endpoints(store)
    assert ready_ips(ep) == ["10.244.1.1", "10.244.1.2"]
    assert not_ready_ips(ep) == ["10.244.1.3"]
    assert [(p.port, p.protocol) for s in ep.subsets for p in s.ports] == [(5000, "TCP")]
    target = ep.subsets[0].addresses[0].target_ref
    assert target is not None and (target.kind, target.name) == ("Pod", "backend-a")
    again = EndpointsController().reconcile(store, KEY, None, 1)
    assert again.requests == (), "nothing changed: no write"


def test_terminating_pod_leaves_endpoints() -> None:
    store = reconcile(EndpointsController(), three_pods())
    store = delete(store, "backend-a")
    store = reconcile(EndpointsController(), store)
    ep = endpoints(store)
    assert ready_ips(ep) == ["10.244.1.2"]
    assert "10.244.1.1" not in not_ready_ips(ep)


def test_endpoints_terminating_variant_keeps_a_terminating_ready_pod() -> None:
    store = delete(three_pods(), "backend-a")
    store = reconcile(EndpointsController(include_terminating=True), store)
    assert ready_ips(endpoints(store)) == ["10.244.1.1", "10.244.1.2"]


def test_endpoints_liveness_variant_includes_a_running_unready_pod() -> None:
    correct = reconcile(EndpointsController(), three_pods())
    assert "10.244.1.3" not in ready_ips(endpoints(correct))
    variant = reconcile(EndpointsController(readiness_source="containers-running"), three_pods())
    assert ready_ips(endpoints(variant)) == ["10.244.1.1", "10.244.1.2", "10.244.1.3"]


def _sync(ctl: EndpointsController, cache: Store, store: Store, memory: Any) -> tuple[Store, Any, bool]:
    """One syncService deciding from `cache`, writing to `store`: (store, memory, requeued)."""
    decision = ctl.reconcile(cache, KEY, memory, 1)
    memory = decision.memory
    for request in decision.requests:
        store, response = send(store, request)
        memory = ctl.observe(memory, request, response)
    return store, memory, decision.requeue


def _set_ready(store: Store, name: str, ready: bool) -> Store:
    pod = store.get(ObjectKey("pods", "default", name))
    assert isinstance(pod, Pod)
    cond = Condition(type="Ready", status="True" if ready else "False")
    conditions = (*(c for c in pod.status.conditions if c.type != "Ready"), cond)
    return ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        pod, status=attrs.evolve(pod.status, conditions=conditions))))


def test_endpoints_tracker_refuses_a_cache_older_than_its_own_write() -> None:
    """endpoints_tracker.go (v1.31+): after replacing resourceVersion R, a sync whose cache still
    holds R fails and is retried; once the cache has the write, it compares as usual."""
    ctl = EndpointsController()
    before = reconcile(ctl, three_pods())  # Endpoints at R with backend-c not ready
    stale_ep = endpoints(before)
    store = _set_ready(before, "backend-c", True)
    store, memory, requeued = _sync(ctl, store, store, ctl.initial_memory())
    assert not requeued and memory == {KEY: stale_ep.metadata.resource_version}
    assert ready_ips(endpoints(store)) == ["10.244.1.1", "10.244.1.2", "10.244.1.3"]
    store = _set_ready(store, "backend-c", False)  # the flap: not ready again
    # the cache has the pods but still the Endpoints at R, which matches what is desired now
    lagging = attrs.evolve(store, objects=store.objects.set(
        ObjectKey("endpoints", "default", "feastflow-backend"), stale_ep))
    _, memory2, requeued = _sync(ctl, lagging, store, memory)
    assert requeued and memory2 == memory
    # v1.30 and before: compared with the stale object the update looks done and is skipped
    old = EndpointsController(track_stale=False)
    skipped = old.reconcile(lagging, KEY, old.initial_memory(), 1)
    assert (skipped.requests, skipped.requeue) == ((), False)
    # once the cache has the write, the retry corrects the Endpoints
    store, memory3, requeued = _sync(ctl, store, store, memory2)
    assert not requeued and ready_ips(endpoints(store)) == ["10.244.1.1", "10.244.1.2"]
    # the Service is deleted: the tracker forgets it
    gone = ok(store, Request(verb="delete", user=ADMIN, resource="services", namespace="default",
                             name="feastflow-backend"))
    _, memory4, _ = _sync(ctl, gone, gone, memory3)
    assert KEY not in memory4


def test_deleted_service_loses_its_endpoints() -> None:
    store = reconcile(EndpointsController(), three_pods())
    store = ok(store, Request(verb="delete", user=ADMIN, resource="services", namespace="default",
                              name="feastflow-backend"))
    store = reconcile(EndpointsController(), store)
    assert store.get(ObjectKey("endpoints", "default", "feastflow-backend")) is None


def test_a_deleted_services_endpoints_are_deleted_blindly_and_a_404_is_done() -> None:
    """syncService deletes a deleted Service's Endpoints whatever its cache holds and takes a 404 as
    done (`pkg/controller/endpoint/endpoints_controller.go`; audit18a: a cache that missed the
    Endpoints left them in the store for good)."""
    ctl = EndpointsController()
    store = reconcile(ctl, three_pods())
    store = ok(store, Request(verb="delete", user=ADMIN, resource="services", namespace="default",
                              name="feastflow-backend"))
    cache = attrs.evolve(store, objects=store.objects.delete(ObjectKey("endpoints", "default", "feastflow-backend")))
    decision = ctl.reconcile(cache, KEY, ctl.initial_memory(), 1)
    assert [(r.verb, r.resource, r.name) for r in decision.requests] == [("delete", "endpoints", "feastflow-backend")]
    store, response = send(store, decision.requests[0])
    assert response.ok and store.get(ObjectKey("endpoints", "default", "feastflow-backend")) is None
    _, again = send(store, decision.requests[0])
    assert again.code == 404 and decision.tolerate is not None
    assert decision.tolerate(decision.requests[0], again) == "ignore"


def test_pod_events_enqueue_the_selecting_service() -> None:
    store = three_pods()
    pod = store.get(ObjectKey("pods", "default", "backend-a"))
    assert pod is not None
    assert KEY in EndpointsController().keys_for(pod, store)
    assert KEY in EndpointSliceController().keys_for(pod, store)


def test_headless_service_without_ready_pods_gets_empty_endpoints() -> None:
    store = reconcile(EndpointsController(), BASE, "default/postgres")
    ep = store.get(ObjectKey("endpoints", "default", "postgres"))
    assert isinstance(ep, Endpoints) and ep.subsets == ()
    assert ep.metadata.labels["service.kubernetes.io/headless"] == ""


def test_repack_merges_ports_of_the_same_addresses() -> None:
    a = EndpointAddress(ip="10.0.0.2")
    b = EndpointAddress(ip="10.0.0.1")
    http, grpc = EndpointPort(name="http", port=80, protocol="TCP"), EndpointPort(name="grpc", port=90, protocol="TCP")
    subsets = repack([(a, http, True), (b, http, True), (a, grpc, True), (b, grpc, True)])
    assert len(subsets) == 1
    assert [x.ip for x in subsets[0].addresses] == ["10.0.0.1", "10.0.0.2"]
    assert [p.name for p in subsets[0].ports] == ["grpc", "http"]


def slices(store: Store) -> list[EndpointSlice]:
    return [s for s in store.list(SLICES, "default") if isinstance(s, EndpointSlice)
            and s.metadata.labels.get("kubernetes.io/service-name") == "feastflow-backend"]


def test_endpointslice_splits_at_max_endpoints_per_slice() -> None:
    ctl = EndpointSliceController(max_endpoints_per_slice=2)
    store = reconcile(ctl, three_pods())
    got = slices(store)
    assert [s.metadata.name for s in got] == ["feastflow-backend-0", "feastflow-backend-1"]
    assert [len(s.endpoints) for s in got] == [2, 1]
    assert got[0].metadata.labels[MANAGED_BY_LABEL] == CONTROLLER_NAME
    assert got[0].metadata.owner_references[0].kind == "Service"
    assert ctl.reconcile(store, KEY, None, 1).requests == (), "stable: no further writes"


def test_endpointslice_keeps_terminating_pods_as_not_ready_but_serving() -> None:
    ctl = EndpointSliceController()
    store = reconcile(ctl, delete(three_pods(), "backend-a"))
    (only,) = slices(store)
    by_name = {e.target_ref.name: e.conditions for e in only.endpoints if e.target_ref is not None}
    assert (by_name["backend-a"].ready, by_name["backend-a"].serving, by_name["backend-a"].terminating) == (
        False, True, True)
    assert by_name["backend-b"].ready and not by_name["backend-c"].ready
    assert only.endpoints[0].zone == "zone-a"


def test_endpointslice_placeholder_when_no_endpoints() -> None:
    store = reconcile(EndpointSliceController(), BASE)
    (placeholder,) = slices(store)
    assert placeholder.endpoints == () and placeholder.ports == ()
    assert EndpointSliceController().reconcile(store, KEY, None, 1).requests == ()
    store = reconcile(EndpointSliceController(), backend(store, "backend-a", "10.244.1.1", ready=True))
    (filled,) = slices(store)
    assert filled.metadata.name == placeholder.metadata.name and len(filled.endpoints) == 1


def test_endpointslice_requeues_a_pod_whose_node_is_not_cached() -> None:
    """reconcileByAddressType: a pod whose Node is not in the node cache is skipped and the sync
    fails, so the Service is retried (a Node event enqueues nothing); once the cache has the
    Node, the retry adds the pod."""
    ctl = EndpointSliceController()
    store = three_pods()
    lagging = attrs.evolve(store, objects=store.objects.delete(ObjectKey("nodes", "", "worker-1")))
    decision = ctl.reconcile(lagging, KEY, None, 1)
    assert decision.requeue
    store2 = store
    for request in decision.requests:
        store2 = ok(store2, request)
    (partial,) = slices(store2)
    assert partial.endpoints == (), "every pod skipped: upstream's placeholder slice"
    retry = ctl.reconcile(store2, KEY, None, 1)
    assert not retry.requeue
    for request in retry.requests:
        store2 = ok(store2, request)
    (full,) = slices(store2)
    assert len(full.endpoints) == 3


WEB = "default/web"


def test_the_missing_node_retry_is_rate_limited_in_effect_it_does_not_hold_the_clock() -> None:
    """Upstream the failed sync (`reconcileByAddressType`'s "Node ... Not Found" error) is re-added
    with `AddRateLimited` (endpointslice_controller.go: 1 s doubling to 1000 s, 15 retries): the
    retry waits while time passes. The model's retry after the slices were written sends nothing and
    changes nothing, a stutter that holds no clock (`queued_work`); the pod's deletion by the pod GC
    40 s later ends it."""
    model, state = settled(Path(__file__).parents[1] / "data" / "variants" / "web.yaml", instantCaches=True)
    orphan = next(p for p in state.store.list("pods") if isinstance(p, Pod) and p.spec.node_name == "worker-1")
    state = api_seen(state, model, Request(verb="delete", user=ADMIN, resource="nodes", name="worker-1"))
    ctl = state.controllers["endpointslice"]
    state = attrs.evolve(state, controllers=state.controllers.set("endpointslice", ctl.enqueue((WEB,))))
    assert ("endpointslice", WEB) in queued_work.urgent_keys(model, state)  # the slice still lists the pod
    state = step(model, state, Reconcile("endpointslice", WEB))
    assert WEB in state.controllers["endpointslice"].queue  # requeued: the sync failed
    assert [e.node_name for s in state.store.list("endpointslices.discovery.k8s.io") if isinstance(s, EndpointSlice)
            for e in s.endpoints] == ["worker-2"]
    assert ("endpointslice", WEB) not in queued_work.urgent_keys(model, state)
    assert step(model, state, Reconcile("endpointslice", WEB)) == state  # the retry: a stutter
    for act in settle(model, state, max_steps=3000).trace:
        state = step(model, state, act)
    assert state.store.get(ObjectKey("pods", "default", orphan.metadata.name)) is None
    assert WEB not in state.controllers["endpointslice"].queue  # the pod's deletion: a sync that succeeds


def test_a_service_whose_syncs_keep_failing_is_dropped_once_its_retry_budget_is_spent() -> None:
    """handleErr (endpointslice_controller.go): a Service whose sync fails `maxRetries` times after
    the first failure (1 s doubling to 1000 s: 6,023 s for 15, 7 s for 3) is forgotten, not requeued,
    and waits for its next event. With `endpointSliceMaxRetries: 3` the retry after a tick drops the
    key (a change: it holds the clock), and the Node that comes back enqueues nothing (no Node
    handler without topology hints): the slices lack its pod, as upstream's would. With the default
    the retry after a tick is still a stutter, and once the Node is back it restores the pod."""
    for max_retries, dropped in ((3, True), (15, False)):
        model, state = settled(Path(__file__).parents[1] / "data" / "variants" / "web.yaml", instantCaches=True,
                               endpointSliceMaxRetries=max_retries)
        node = state.store.get(ObjectKey("nodes", "", "worker-1"))
        assert node is not None and state.controllers["endpointslice"].memory is None
        state = api_seen(state, model, Request(verb="delete", user=ADMIN, resource="nodes", name="worker-1"))
        ctl = state.controllers["endpointslice"]
        state = attrs.evolve(state, controllers=state.controllers.set("endpointslice", ctl.enqueue((WEB,))))
        failed_at = state.clock
        state = step(model, step(model, state, Reconcile("endpointslice", WEB)), Tick(10))
        assert state.controllers["endpointslice"].memory == RetryMemory(FrozenMap({WEB: failed_at}))
        assert (("endpointslice", WEB) in queued_work.urgent_keys(model, state)) is dropped, max_retries
        state = step(model, state, Reconcile("endpointslice", WEB))
        assert (WEB in state.controllers["endpointslice"].queue) is not dropped
        fresh = attrs.evolve(node.metadata, resource_version="", uid="")
        state = api_seen(state, model, Request(verb="create", user=ADMIN, obj=attrs.evolve(node, metadata=fresh)))
        if not dropped:
            state = step(model, state, Reconcile("endpointslice", WEB))
        assert state.controllers["endpointslice"].memory is None  # forgotten: dropped, or a sync that succeeded
        nodes = sorted(e.node_name or "" for s in state.store.list(SLICES) if isinstance(s, EndpointSlice)
                       for e in s.endpoints)
        assert nodes == (["worker-2"] if dropped else ["worker-1", "worker-2"]), max_retries


def test_the_retry_budget_is_upstreams_back_off() -> None:
    """1 s doubling up to 1000 s (defaultSyncBackOff, maxSyncBackOff): the 15th retry 6,023 s after
    the first failure; a sync whose requests all succeed leaves no memory, one refused keeps its
    streak's start until it succeeds."""
    assert [retry_budget_seconds(n) for n in (0, 1, 3, 10, 11, 15)] == [0, 1, 7, 1023, 2023, 6023]
    ctl = EndpointSliceController()
    decision = ctl.reconcile(three_pods(), KEY, None, 5)
    assert decision.requests and not decision.requeue
    memory = decision.memory
    for request in decision.requests:
        memory = ctl.observe(memory, request, Response(201, "Created"))
    assert memory is None
    refused = ctl.observe(decision.memory, decision.requests[0], Response(403, "Forbidden"))
    assert refused == RetryMemory(FrozenMap({KEY: 5}))
    later = ctl.reconcile(three_pods(), KEY, refused, 5 + 6023)
    assert later.tolerate is not None and later.tolerate(later.requests[0], Response(403, "Forbidden")) == "forget"
    assert ctl.observe(later.memory, later.requests[0], Response(403, "Forbidden")) is None
