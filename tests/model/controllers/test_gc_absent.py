"""The garbage collector's remembered absent owners and its cluster-scoped dependents of
namespaced owners (`kubeprop.model.controllers.gc`; upstream `garbagecollector.go` isDangling,
attemptToDeleteWorker).

audit21a's false alarms: the model remembered an absent owner by its UID alone, so once one
reference with a UID was confirmed dangling, every reference with that UID was, even one naming a
live owner (gc-absent: a copy-paste slip in another object's reference; gc-cross-ns: a
cross-namespace reference) and the collector deleted a live Deployment. Upstream keys
`absentOwnerCache` by the reference's coordinates and the namespace the GET used. And a
cluster-scoped object naming a namespaced owner was looked up (in namespace "", which the API
server answered from `default`) and deleted; upstream forgets it before any GET
(gc-cluster-scoped). The scenarios are in `tests/model/data/gc/`; each test replays the audit's
interleaving on the whole cluster."""

from __future__ import annotations

from pathlib import Path

from api_harness import feastflow

from kubeprop.model.api.core import ConfigMap, Secret
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.rbac_kinds import ClusterRole
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.gc import AbsentOwner, GarbageCollector, GcMemory
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import select

DATA = Path(__file__).resolve().parents[1] / "data" / "gc"
API = feastflow()
GC = "garbagecollector"
WEB = ObjectKey("deployments.apps", "default", "web")


def _replay(scenario: str, *keys: str) -> tuple[ClusterModel, ClusterState]:
    """The scenario's initial state, the collector's reconciles of `keys` in order, then the
    workload's first step."""
    model = build_model(load_scenario(DATA / scenario / "scenario.yaml"))
    state = initial_state(model)
    for key in keys:
        state = step(model, state, Reconcile(controller=GC, key=key))
    return model, step(model, state, UserStep(0))


def _steps_succeed(model: ClusterModel, state: ClusterState) -> str | None:
    (prop,) = select(["workload-steps-succeed"])
    found = prop.check(model, state)
    return None if found is None else found.message


def test_gc_absent_a_slip_naming_a_live_owners_uid_does_not_doom_its_real_dependents() -> None:
    """ConfigMap `bad` names Secret `ghost` with ConfigMap `anchor`'s UID: the GET of the Secret
    finds nothing and `bad` is rightly collected; Deployment `web`, owned by `anchor` (solid) and by
    a gone Secret, is kept and loses the gone reference only."""
    model, state = _replay("gc-absent", "configmaps/default/bad", str(WEB), str(WEB))
    assert _steps_succeed(model, state) is None
    web = state.store.get(WEB)
    assert web is not None and web.spec.replicas == 2  # type: ignore[attr-defined]
    memory = state.controllers[GC].memory
    assert AbsentOwner("secrets", "default", "ghost", "00000000-0000-4000-8000-000000000007") in memory.absent


def test_gc_cross_ns_an_absent_owner_in_one_namespace_is_not_absent_in_another() -> None:
    """team-b/stray names ConfigMap `anchor` (which lives in default) with its UID: absent in
    team-b, so stray goes; default/web's reference to default/anchor is solid."""
    model, state = _replay("gc-cross-ns", "configmaps/team-b/stray", str(WEB), str(WEB))
    assert _steps_succeed(model, state) is None
    memory = state.controllers[GC].memory
    assert AbsentOwner("configmaps", "team-b", "anchor", "00000000-0000-4000-8000-000000000007") in memory.absent
    assert not any(entry.namespace == "default" and entry.name == "anchor" for entry in memory.absent)


def test_gc_cluster_scoped_a_namespaced_owner_of_a_cluster_scoped_object_is_never_looked_up() -> None:
    """ClusterRole `reader` names a ConfigMap: isDangling's namespacedOwnerOfClusterScopedObjectErr,
    and the item is forgotten (no GET, no delete, no requeue); `kubectl delete clusterrole reader`
    then finds it."""
    key = "clusterroles.rbac.authorization.k8s.io/reader"
    model, state = _replay("gc-cluster-scoped", key, key)
    assert _steps_succeed(model, state) is None
    assert state.controllers[GC].memory == GcMemory()
    assert key not in state.controllers[GC].queue


def _create(store: Store, obj: ApiObject) -> Store:
    return API.ok(store, Request(verb="create", user=ADMIN, obj=obj))


def _ref(kind: str, name: str, uid: str, api_version: str = "v1") -> OwnerReference:
    return OwnerReference(api_version=api_version, kind=kind, name=name, uid=uid)


def test_a_remembered_absence_covers_its_target_and_uid_only() -> None:
    """Unit form of gc-absent: the 404 of the Secret's GET is remembered for (secrets, default,
    ghost, UID); a ConfigMap reference with the same UID is still classified by its own owner."""
    store = _create(API.base, ConfigMap(metadata=ObjectMeta(name="anchor", namespace="default")))
    anchor = store.get(ObjectKey("configmaps", "default", "anchor"))
    assert anchor is not None
    uid = anchor.metadata.uid
    store = _create(store, Secret(metadata=ObjectMeta(name="kept", namespace="default", owner_references=(
        _ref("ConfigMap", "anchor", uid), _ref("Secret", "ghost", uid)))))
    gc = GarbageCollector()
    key = "secrets/default/kept"
    decision = gc.reconcile(store, key, gc.initial_memory(), 1)
    assert [(r.verb, r.resource, r.name) for r in decision.requests] == [("get", "secrets", "ghost")]
    memory = gc.observe(decision.memory, decision.requests[0], API.handle(store, decision.requests[0], 1).response)
    assert memory == GcMemory(frozenset({AbsentOwner("secrets", "default", "ghost", uid)}))
    decision = gc.reconcile(store, key, memory, 1)
    assert [r.verb for r in decision.requests] == ["patch"], "one solid owner: keep, drop the dangling reference"


def test_a_cluster_scoped_dependent_sends_the_gets_of_the_references_before_the_namespaced_one() -> None:
    """classifyReferences runs isDangling in order: the references before the namespaced one are
    looked up (and their absences remembered), then the item is forgotten."""
    role = ClusterRole(metadata=ObjectMeta(name="reader", owner_references=(
        _ref("Node", "gone-node", "u-1"), _ref("ConfigMap", "anchor", "u-2"), _ref("Node", "other", "u-3"))))
    store = _create(API.base, role)
    gc = GarbageCollector(watches=(*GarbageCollector().watches, "nodes"))
    decision = gc.reconcile(store, "clusterroles.rbac.authorization.k8s.io/reader", gc.initial_memory(), 1)
    assert [(r.verb, r.resource, r.namespace, r.name) for r in decision.requests] == [("get", "nodes", "", "gone-node")]
    assert not decision.requeue
