"""The garbage collector (foreground, orphan and background deletion) and the pod garbage
collector, on FeastFlow's `feastflow-backend` Deployment with a ReplicaSet and pods made by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from api_harness import feastflow
from cluster_harness import api_seen, gone_at, settled

from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import (
    ApiObject,
    Container,
    Deployment,
    ObjectKey,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
)
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers.base import Controller
from kubeprop.model.controllers.gc import GarbageCollector, GcMemory, parse_key
from kubeprop.model.controllers.podgc import PodGCController, PodGcMemory
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN

API = feastflow()
BASE = API.base
ok = API.ok
LABELS = {"app": "feastflow-backend"}
DEPLOYMENT = ObjectKey("deployments.apps", "default", "feastflow-backend")
RS = ObjectKey("replicasets.apps", "default", "feastflow-backend-1")


def send(store: Store, request: Request, now: int = 1) -> tuple[Store, Response, tuple[WatchEvent, ...]]:
    result = API.handle(store, request, now)
    return result.store, result.response, result.events


def ref_to(obj: ApiObject | None) -> OwnerReference:
    assert obj is not None
    return OwnerReference(api_version="apps/v1", kind=type(obj).__name__, name=obj.metadata.name,
                          uid=obj.metadata.uid, controller=True, block_owner_deletion=True)


def hierarchy(pods: int = 2) -> Store:
    """Deployment → ReplicaSet → pods, linked by controller references (set by hand)."""
    store = BASE
    template = PodTemplateSpec(metadata=ObjectMeta(labels=LABELS),
                               spec=PodSpec(containers=(Container(name="backend", image="feastflow-backend"),)))
    rs = ReplicaSet(
        metadata=ObjectMeta(name=RS.name, namespace="default", labels=LABELS,
                            owner_references=(ref_to(store.get(DEPLOYMENT)),)),
        spec=ReplicaSetSpec(replicas=pods, selector=LabelSelector(match_labels=LABELS), template=template),
    )
    store = ok(store, Request(verb="create", user=ADMIN, obj=rs))
    owner = ref_to(store.get(RS))
    for i in range(pods):
        pod = Pod(metadata=ObjectMeta(name=f"{RS.name}-{i}", namespace="default", labels=LABELS,
                                      owner_references=(owner,)), spec=template.spec)
        store = ok(store, Request(verb="create", user=ADMIN, obj=pod))
    return store


def drive(ctl: Any, store: Store, events: tuple[WatchEvent, ...], memory: Any = None,
          limit: int = 100, now: int = 1) -> tuple[Store, list[ObjectKey]]:
    """Run the controller to quiescence on an instant cache at `now`; return the store and the order
    in which objects disappeared."""
    memory = ctl.initial_memory() if memory is None else memory
    queue: set[str] = {k for e in events for k in ctl.keys_for(e.object, store)}
    gone: list[ObjectKey] = []
    while queue:
        limit -= 1
        assert limit > 0, f"no quiescence; queue {sorted(queue)}"
        key = min(queue)
        queue.discard(key)
        decision = ctl.reconcile(store, key, memory, now)
        memory = decision.memory
        for request in decision.requests:
            store, response, new_events = send(store, request)
            memory = ctl.observe(memory, request, response)
            gone += [e.key for e in new_events if e.type == "DELETED"]
            queue.update(k for e in new_events for k in ctl.keys_for(e.object, store))
            if not response.ok:
                queue.add(key)
                break
        if decision.requeue:
            queue.add(key)
    return store, gone


def delete(store: Store, key: ObjectKey, policy: str) -> tuple[Store, tuple[WatchEvent, ...]]:
    store, response, events = send(store, Request(
        verb="delete", user=ADMIN, resource=key.resource, namespace=key.namespace, name=key.name,
        propagation_policy=policy))
    assert response.ok, response.message
    return store, events


def test_satisfies_the_controller_protocol() -> None:
    assert isinstance(GarbageCollector(), Controller)
    assert isinstance(PodGCController(), Controller)
    assert parse_key(str(RS)) == RS
    assert parse_key("nodes/worker-1") == ObjectKey("nodes", "", "worker-1")


def test_foreground_deletion_removes_dependents_before_the_owner() -> None:
    store, events = delete(hierarchy(), DEPLOYMENT, "Foreground")
    deployment = store.get(DEPLOYMENT)
    assert deployment is not None and "foregroundDeletion" in deployment.metadata.finalizers
    store, gone = drive(GarbageCollector(), store, events)
    pods = [ObjectKey("pods", "default", f"{RS.name}-{i}") for i in range(2)]
    assert sorted(gone[:2]) == pods, gone
    assert gone[2:] == [RS, DEPLOYMENT]
    assert all(store.get(k) is None for k in (*pods, RS, DEPLOYMENT))


def test_owner_waits_while_a_blocking_dependent_exists() -> None:
    store, _ = delete(hierarchy(), DEPLOYMENT, "Foreground")
    deployment = store.get(DEPLOYMENT)
    assert deployment is not None
    decision = GarbageCollector().reconcile(store, str(DEPLOYMENT), GcMemory(), 1)
    assert decision.requests == (), "the ReplicaSet still blocks"


def test_orphan_deletion_keeps_the_replicaset_without_its_owner_reference() -> None:
    store, events = delete(hierarchy(), DEPLOYMENT, "Orphan")
    store, gone = drive(GarbageCollector(), store, events)
    assert gone == [DEPLOYMENT]
    rs = store.get(RS)
    assert isinstance(rs, ReplicaSet) and rs.metadata.owner_references == ()
    assert store.get(ObjectKey("pods", "default", f"{RS.name}-0")) is not None


def test_background_deletion_collects_dangling_dependents() -> None:
    store, events = delete(hierarchy(), DEPLOYMENT, "Background")
    assert store.get(DEPLOYMENT) is None
    store, gone = drive(GarbageCollector(), store, events)
    assert gone[0] == RS and len(gone) == 3
    assert not [p for p in store.list("pods", "default") if p.metadata.name.startswith(RS.name)]


def test_owner_missing_from_the_cache_is_confirmed_with_a_get() -> None:
    """A dependent whose owner the cache lacks is not deleted until a GET confirms the absence."""
    store = hierarchy()
    rs_key = str(RS)
    lagging = Store(objects=store.objects.delete(DEPLOYMENT))
    decision = GarbageCollector().reconcile(lagging, rs_key, GcMemory(), 1)
    assert [r.verb for r in decision.requests] == ["get"] and decision.requeue
    _, response, _ = send(store, decision.requests[0])
    memory = GarbageCollector().observe(decision.memory, decision.requests[0], response)
    assert memory == GcMemory(), "the owner exists: nothing recorded, nothing deleted"


def test_solid_owner_keeps_the_object_but_drops_dangling_references() -> None:
    store = hierarchy()
    rs = store.get(RS)
    assert rs is not None
    ghost = OwnerReference(api_version="apps/v1", kind="Deployment", name="ghost", uid="gone-uid")
    store = ok(store, Request(verb="patch", user=ADMIN, resource=RS.resource, namespace="default", name=RS.name,
                              patch={"metadata": {"ownerReferences": [
                                  {"apiVersion": "apps/v1", "kind": "Deployment", "name": r.name, "uid": r.uid,
                                   "controller": r.controller, "blockOwnerDeletion": r.block_owner_deletion}
                                  for r in (*rs.metadata.owner_references, ghost)]}}))
    store, _ = drive(GarbageCollector(), store, (WatchEvent("MODIFIED", RS, store.get(RS), store.revision),))  # type: ignore[arg-type]
    kept = store.get(RS)
    assert kept is not None and [r.name for r in kept.metadata.owner_references] == ["feastflow-backend"]
    assert isinstance(store.get(DEPLOYMENT), Deployment)


def test_podgc_deletes_pods_bound_to_a_deleted_node_after_its_quarantine() -> None:
    """gcOrphaned: a node missing from the cache is quarantined for 40 s (`nodeQueue.AddAfter(node,
    quarantineTime)`), then a live GET confirms it gone and its pods are deleted. Before, the GET
    and the deletion came at once."""
    store = hierarchy(pods=1)
    name = f"{RS.name}-0"
    store = ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name=name,
                              node_name="worker-2"))
    store, response, events = send(store, Request(verb="delete", user=ADMIN, resource="nodes", name="worker-2"))
    assert response.ok
    ctl = PodGCController()
    key = f"default/{name}"
    noticed = ctl.reconcile(store, key, ctl.initial_memory(), 5)
    assert noticed.requests == () and noticed.requeue and noticed.memory.quarantine == {"worker-2": 5}
    waiting = ctl.reconcile(store, key, noticed.memory, 44)
    assert waiting.requests == () and waiting.requeue and waiting.memory == noticed.memory  # a stutter
    over = ctl.reconcile(store, key, noticed.memory, 45)
    assert [(r.verb, r.name) for r in over.requests] == [("get", "worker-2")]
    _, response, _ = send(store, over.requests[0])
    confirmed = ctl.observe(over.memory, over.requests[0], response)
    pod = store.get(ObjectKey("pods", "default", name))
    assert pod is not None
    assert confirmed == PodGcMemory(deleted_nodes=frozenset({("worker-2", pod.metadata.uid)}))
    assert [r.verb for r in ctl.reconcile(store, key, confirmed, 45).requests] == ["patch-status", "delete"]
    store, gone = drive(ctl, store, events, memory=noticed.memory, now=45)
    assert gone == [ObjectKey("pods", "default", name)]


def test_podgc_verdict_covers_only_the_pods_listed_before_the_get() -> None:
    """gcOrphaned's deletedNodesNames lives for one pass and covers that pass's pod list, taken
    before the GET: a pod bound to the missing node name only after the GET waits a new 40 s
    quarantine and GET, while the pods listed then are deleted. Before, a verdict lasted until the
    node reappeared, and the later pod was deleted at once."""
    store = hierarchy(pods=2)
    first, later = f"{RS.name}-0", f"{RS.name}-1"
    for name in (first, later):
        store = ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name=name,
                                  node_name="worker-2"))
    store, response, _ = send(store, Request(verb="delete", user=ADMIN, resource="nodes", name="worker-2"))
    assert response.ok
    later_key = ObjectKey("pods", "default", later)
    unbound = store.get(later_key)
    assert isinstance(unbound, Pod)
    unbound = attrs.evolve(unbound, spec=attrs.evolve(unbound.spec, node_name=""))
    before_bind = Store(objects=store.objects.set(later_key, unbound))  # the cache when the GET went out
    ctl = PodGCController()
    quarantined = ctl.reconcile(before_bind, f"default/{first}", ctl.initial_memory(), 5).memory
    probe = ctl.reconcile(before_bind, f"default/{first}", quarantined, 45)
    assert [(r.verb, r.name) for r in probe.requests] == [("get", "worker-2")]
    _, response, _ = send(store, probe.requests[0])
    confirmed = ctl.observe(probe.memory, probe.requests[0], response)
    waits = ctl.reconcile(store, f"default/{later}", confirmed, 46)
    assert waits.requests == () and waits.requeue and waits.memory.quarantine == {"worker-2": 46}
    assert [r.verb for r in ctl.reconcile(store, f"default/{first}", waits.memory, 46).requests] == [
        "patch-status", "delete"]
    assert ctl.reconcile(store, f"default/{later}", waits.memory, 85).requests == ()
    assert [(r.verb, r.name) for r in ctl.reconcile(store, f"default/{later}", waits.memory, 86).requests] == [
        ("get", "worker-2")]


def test_podgc_waits_for_a_get_before_trusting_a_missing_node() -> None:
    store = hierarchy(pods=1)
    name = f"{RS.name}-0"
    store = ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name=name,
                              node_name="worker-2"))
    lagging = Store(objects=store.objects.delete(ObjectKey("nodes", "", "worker-2")))
    quarantined = PodGcMemory(quarantine=FrozenMap({"worker-2": 0}))
    decision = PodGCController().reconcile(lagging, f"default/{name}", quarantined, 40)
    assert [r.verb for r in decision.requests] == ["get"]
    _, response, _ = send(store, decision.requests[0])
    assert response.ok  # the node exists: no verdict, and a cache still without it quarantines it afresh
    assert PodGCController().observe(decision.memory, decision.requests[0], response) == PodGcMemory()
    assert PodGCController().reconcile(store, f"default/{name}", quarantined, 40).memory == PodGcMemory()


def test_podgc_deletes_excess_terminated_pods_oldest_first() -> None:
    store = hierarchy(pods=3)
    for i in range(3):
        pod = store.get(ObjectKey("pods", "default", f"{RS.name}-{i}"))
        assert isinstance(pod, Pod)
        failed = attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Failed"))
        store = ok(store, Request(verb="update-status", user=ADMIN, obj=failed))
    ctl = PodGCController(terminated_pod_threshold=1)
    decision = ctl.reconcile(store, "*terminated", ctl.initial_memory(), 1)
    assert [(r.verb, r.name) for r in decision.requests] == [
        ("delete", f"{RS.name}-0"), ("delete", f"{RS.name}-1")]


def test_the_end_of_a_quarantine_is_a_timer_and_the_fair_run_collects_the_pods_then() -> None:
    """The quarantine's end is a wake-up (`memory_wakeups`), so the clock stops there: a node deleted
    at 20 s has its pod collected at 60 s. Without the timer no `Tick` is enabled once the cluster is
    quiet (nothing else waits on time) and the pod would never be collected."""
    model, state = settled(Path(__file__).parents[1] / "data" / "variants" / "web.yaml", instantCaches=True)
    assert state.clock == 20
    orphan = next(p for p in state.store.list("pods") if isinstance(p, Pod) and p.spec.node_name == "worker-1")
    state = api_seen(state, model, Request(verb="delete", user=ADMIN, resource="nodes", name="worker-1"))
    assert controllers.next_timer(model, state) is None  # nothing queued yet
    states = [state]
    for act in settle(model, state, max_steps=3000).trace:
        states.append(step(model, states[-1], act))
    gone = gone_at(states, ObjectKey("pods", "default", orphan.metadata.name))
    assert gone is not None and states[gone].clock == 60


def test_podgc_orders_equal_creation_times_by_name_evicted_first() -> None:
    """byEvictionAndCreationTimestamp (`pkg/controller/podgc/gc_controller.go`): evicted (Failed,
    reason Evicted) first, then by creation time, equal times by name — not by namespace (audit18a:
    the model deleted a/z before b/a)."""
    def failed(namespace: str, name: str, reason: str = "") -> Pod:
        return Pod(metadata=ObjectMeta(name=name, namespace=namespace, uid=f"{namespace}-{name}",
                                       creation_timestamp=0),
                   status=attrs.evolve(Pod().status, phase="Failed", reason=reason))

    class View:
        def __init__(self, pods: list[Pod]) -> None:
            self.pods = pods

        def list(self, resource: str, namespace: str | None = None) -> list[Pod]:
            return list(self.pods) if resource == "pods" else []

    ctl = PodGCController(terminated_pod_threshold=1)
    picked = ctl._gc_terminated(View([failed("a", "z"), failed("b", "a")]))  # type: ignore[arg-type]
    assert [(r.verb, r.namespace, r.name) for r in picked] == [("delete", "b", "a")]
    picked = ctl._gc_terminated(View([failed("b", "a"), failed("a", "z", "Evicted")]))  # type: ignore[arg-type]
    assert [(r.verb, r.namespace, r.name) for r in picked] == [("delete", "a", "z")]
