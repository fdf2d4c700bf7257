"""The built-in controllers' event handlers tell an add, an update (with its old object) and a delete
apart, as upstream's AddFunc/UpdateFunc/DeleteFunc do (`keys_for_change`), and the informers hand them
the old object (`HandedEvent`). Views are hand-built stores; objects get their resourceVersion there."""

from __future__ import annotations

from kubeprop.model.api.apps import (
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    StatefulSet,
    StatefulSetSpec,
)
from kubeprop.model.api.core import (
    Endpoints,
    NamespaceSpec,
    PersistentVolume,
    PersistentVolumeClaim,
    Service,
    ServiceSpec,
)
from kubeprop.model.api.meta import Condition, ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ApiObject, EndpointSlice, Namespace, ObjectKey, object_key
from kubeprop.model.api.pod import PersistentVolumeClaimVolumeSource, Pod, PodSpec, PodStatus, Volume
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.cluster.informers import _with_old, relisted, unchanged
from kubeprop.model.controllers.deployment import DeploymentController
from kubeprop.model.controllers.endpoints import EndpointsController
from kubeprop.model.controllers.endpointslice import MANAGED_BY_LABEL, EndpointSliceController
from kubeprop.model.controllers.namespace import NamespaceController
from kubeprop.model.controllers.replicaset import ReplicaSetController
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.controllers.volume_protection import PVCProtectionController, PVProtectionController
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.component import Change, change_of, keys_for_change
from kubeprop.model.state.informer import HandedEvent, ResourceCache

WEB = {"app": "web"}


def put(store: Store, *objects: ApiObject) -> Store:
    for obj in objects:
        store, _, _ = store.put(obj, "ADDED")
    return store


def stored(store: Store, obj: ApiObject) -> ApiObject:
    found = store.get(object_key(obj))
    assert found is not None
    return found


def meta(name: str, labels: dict[str, str] | None = None, uid: str = "", owner: ApiObject | None = None,
         kind: str = "") -> ObjectMeta:
    refs = () if owner is None else (OwnerReference(kind=kind, name=owner.metadata.name, uid=owner.metadata.uid,
                                                    controller=True),)
    return ObjectMeta(name=name, namespace="default", labels=FrozenMap(labels or {}), uid=uid or f"uid-{name}",
                      owner_references=refs)


def pod(name: str, labels: dict[str, str] | None = None, owner: ApiObject | None = None, kind: str = "",
        uid: str = "", **spec: object) -> Pod:
    return Pod(metadata=meta(name, labels if labels is not None else WEB, uid, owner, kind), spec=PodSpec(**spec))


def update(old: ApiObject, new: ApiObject) -> Change:
    """An update as a watch delivers it: the new object at a later resourceVersion."""
    version = str(int(old.metadata.resource_version or "1") + 1)
    return Change("update", evolve(new, metadata=evolve(new.metadata, resource_version=version)), old)


def keys(controller: object, change: Change, view: Store) -> set[str]:
    return set(keys_for_change(controller, change, view))  # type: ignore[arg-type]


def ready(p: Pod, status: str = "True", ip: str = "10.0.0.1") -> Pod:
    return evolve(p, status=PodStatus(phase="Running", pod_ip=ip, conditions=(Condition(type="Ready", status=status),)))


# --- the informers hand the old object ----------------------------------------------------------


def test_handed_events_carry_the_cached_object_and_become_adds_updates_and_deletes() -> None:
    store = put(Store(), pod("a"))
    old = stored(store, pod("a"))
    new = evolve(old, metadata=evolve(old.metadata, resource_version="9"))
    key = object_key(old)
    assert change_of(WatchEvent("DELETED", key, old, 9)) == Change("delete", old)
    assert change_of(WatchEvent("ADDED", key, old, 9)) == Change("add", old)
    assert change_of(HandedEvent("MODIFIED", key, new, 9, old)) == Change("update", new, old)
    before = ResourceCache(FrozenMap({key: old}), 2)
    after = ResourceCache(FrozenMap({key: new}), 9)
    (moved,) = relisted(before, after, skip_unchanged=True)
    assert change_of(moved) == Change("update", new, old)
    (synced,) = unchanged(before, before)
    assert change_of(synced) == Change("update", old, old)
    # instant caches: each write's old object is the one the previous write (or the store) left
    first, second = WatchEvent("MODIFIED", key, new, 9), WatchEvent("MODIFIED", key, old, 10)
    handed = _with_old((first, second, WatchEvent("DELETED", key, old, 11), WatchEvent("ADDED", key, new, 12)),
                       {key: old})
    assert [change_of(e).type for e in handed] == ["update", "update", "delete", "add"]
    assert [change_of(e).old for e in handed[:2]] == [old, new]


# --- deployment: pods have only a DeleteFunc ----------------------------------------------------


def recreate_world() -> tuple[Store, Deployment, ReplicaSet, Pod]:
    d = Deployment(metadata=meta("web"), spec=DeploymentSpec(selector=LabelSelector(match_labels=WEB),
                                                             strategy=DeploymentStrategy(type="Recreate")))
    rs = ReplicaSet(metadata=meta("web-1", WEB, owner=d, kind="Deployment"),
                    spec=ReplicaSetSpec(selector=LabelSelector(match_labels=WEB)))
    p = pod("web-1-a", owner=rs, kind="ReplicaSet")
    store = put(Store(), d, rs, p)
    return store, d, rs, p


def test_deployment_pod_updates_enqueue_nothing_and_the_last_pods_delete_enqueues_a_recreate_deployment() -> None:
    store, _, _, p = recreate_world()
    dc = DeploymentController()
    cached = stored(store, p)
    terminal = evolve(cached, status=PodStatus(phase="Failed"))
    assert keys(dc, Change("add", cached), store) == set()
    assert keys(dc, update(cached, terminal), store) == set()  # the model used to enqueue here
    gone, _ = store.remove(object_key(cached))
    assert keys(dc, Change("delete", terminal), gone) == {"default/web"}
    other = put(gone, evolve(cached, metadata=evolve(cached.metadata, name="web-1-b", uid="uid-b")))
    assert keys(dc, Change("delete", terminal), other) == set()  # a pod of it is left


def test_deployment_replica_set_updates_follow_update_replica_set() -> None:
    store, _, rs, _ = recreate_world()
    dc = DeploymentController()
    owned = stored(store, rs)
    assert keys(dc, Change("update", owned, owned), store) == set()  # a sync update: equal resourceVersions
    assert keys(dc, update(owned, owned), store) == {"default/web"}
    orphan = evolve(owned, metadata=evolve(owned.metadata, owner_references=()))
    store = put(store, orphan)
    orphan = stored(store, orphan)
    assert keys(dc, update(orphan, orphan), store) == set()  # an orphan's update changed nothing
    relabelled = evolve(orphan, metadata=evolve(orphan.metadata, labels=FrozenMap({**WEB, "x": "y"})))
    assert keys(dc, update(orphan, relabelled), store) == {"default/web"}
    assert keys(dc, update(owned, orphan), store) == {"default/web"}  # released: the old owner
    assert keys(dc, Change("delete", orphan), store) == set()  # "No controller should care about orphans"


# --- replicaset: updatePod ----------------------------------------------------------------------


def rs_world() -> tuple[Store, ReplicaSet, Pod]:
    rs = ReplicaSet(metadata=meta("web", WEB), spec=ReplicaSetSpec(selector=LabelSelector(match_labels=WEB)))
    p = pod("web-a", owner=rs, kind="ReplicaSet")
    store = put(Store(), rs, p)
    return store, rs, p


def test_replicaset_update_pod_compares_versions_labels_and_controller_refs() -> None:
    store, _, p = rs_world()
    ctl = ReplicaSetController()
    owned = stored(store, p)
    assert keys(ctl, Change("update", owned, owned), store) == set()
    assert keys(ctl, update(owned, ready(owned)), store) == {"default/web"}
    orphan = evolve(owned, metadata=evolve(owned.metadata, owner_references=()))
    assert keys(ctl, update(orphan, ready(orphan)), store) == set()  # the model used to enqueue here
    assert keys(ctl, update(owned, orphan), store) == {"default/web"}
    deleting = evolve(owned, metadata=evolve(owned.metadata, deletion_timestamp=5))
    assert keys(ctl, update(owned, deleting), store) == {"default/web"}
    assert keys(ctl, Change("delete", orphan), store) == set()
    other = evolve(owned, metadata=evolve(owned.metadata, owner_references=(
        OwnerReference(kind="ReplicaSet", name="web", uid="another", controller=True),)))
    assert keys(ctl, Change("add", other), store) == set()  # resolveControllerRef compares the UID


# --- statefulset ---------------------------------------------------------------------------------


def test_statefulset_pod_handlers_resolve_the_owner_by_uid_and_compare_versions() -> None:
    sts = StatefulSet(metadata=meta("db", WEB), spec=StatefulSetSpec(selector=LabelSelector(match_labels=WEB)))
    p = pod("db-0", owner=sts, kind="StatefulSet")
    store = put(Store(), sts, p)
    ctl = StatefulSetController()
    owned = stored(store, p)
    assert keys(ctl, Change("add", owned), store) == {"default/db"}
    assert keys(ctl, Change("update", owned, owned), store) == set()
    stale = evolve(owned, metadata=evolve(owned.metadata, owner_references=(
        OwnerReference(kind="StatefulSet", name="db", uid="gone", controller=True),)))
    assert keys(ctl, Change("add", stale), store) == set()  # the model used to enqueue by name alone
    orphan = evolve(owned, metadata=evolve(owned.metadata, owner_references=()))
    assert keys(ctl, update(orphan, ready(orphan)), store) == set()
    assert keys(ctl, Change("add", orphan), store) == {"default/db"}
    claim = PersistentVolumeClaim(metadata=meta("data-db-0"))
    assert keys(ctl, Change("delete", claim), store) == set()


# --- endpoints and endpointslice: GetServicesToUpdateOnPodChange ---------------------------------


def service_world() -> tuple[Store, Pod]:
    a = Service(metadata=meta("a"), spec=ServiceSpec(selector=FrozenMap({"app": "web"})))
    b = Service(metadata=meta("b"), spec=ServiceSpec(selector=FrozenMap({"app": "api"})))
    p = ready(pod("web-a"))
    store = put(Store(), a, b, p)
    p_stored = stored(store, p)
    assert isinstance(p_stored, Pod)
    return store, p_stored


def test_endpoints_pod_updates_enqueue_only_when_the_endpoint_or_the_labels_changed() -> None:
    store, p = service_world()
    for ctl in (EndpointsController(), EndpointSliceController()):
        assert keys(ctl, Change("add", p), store) == {"default/a"}
        assert keys(ctl, Change("update", p, p), store) == set()
        restarted = evolve(p, status=evolve(p.status, message="restarted"))
        assert keys(ctl, update(p, restarted), store) == set()  # the model used to enqueue here
        assert keys(ctl, update(p, ready(p, "False")), store) == {"default/a"}
        assert keys(ctl, update(p, ready(p, ip="10.0.0.2")), store) == {"default/a"}
        moved = evolve(p, metadata=evolve(p.metadata, labels=FrozenMap({"app": "api"})))
        assert keys(ctl, update(p, moved), store) == {"default/a", "default/b"}  # the symmetric difference
        deleting = evolve(p, metadata=evolve(p.metadata, deletion_timestamp=5))
        assert keys(ctl, update(p, deleting), store) == {"default/a"}
        assert keys(ctl, Change("delete", p), store) == {"default/a"}


def test_endpoints_objects_enqueue_only_on_delete_and_slices_on_a_change() -> None:
    store, _ = service_world()
    ep = Endpoints(metadata=meta("a"))
    assert keys(EndpointsController(), Change("add", ep), store) == set()
    assert keys(EndpointsController(), update(ep, ep), store) == set()
    assert keys(EndpointsController(), Change("delete", ep), store) == {"default/a"}
    labels = {"kubernetes.io/service-name": "a", MANAGED_BY_LABEL: "endpointslice-controller.k8s.io"}
    sl = EndpointSlice(metadata=meta("a-1", labels))
    ctl = EndpointSliceController()
    assert keys(ctl, Change("add", sl), store) == {"default/a"}
    assert keys(ctl, Change("update", sl, sl), store) == set()
    renamed = evolve(sl, metadata=evolve(sl.metadata, labels=FrozenMap({**labels, "kubernetes.io/service-name": "b"})))
    assert keys(ctl, update(sl, renamed), store) == {"default/a", "default/b"}
    foreign = evolve(sl, metadata=evolve(sl.metadata, labels=FrozenMap({"kubernetes.io/service-name": "a"})))
    assert keys(ctl, Change("delete", foreign), store) == set()


# --- volume protection and namespace: no DeleteFunc for their own objects -------------------------


def test_protection_controllers_have_no_delete_handler_for_claims_and_volumes() -> None:
    claim = PersistentVolumeClaim(metadata=meta("data"))
    volume = PersistentVolume(metadata=ObjectMeta(name="pv-a", uid="uid-pv"))
    store = put(Store(), claim, volume)
    assert keys(PVCProtectionController(), Change("add", claim), store) == {"default/data"}
    assert keys(PVCProtectionController(), Change("delete", claim), store) == set()
    assert keys(PVProtectionController(), Change("add", volume), store) == {"pv-a"}
    assert keys(PVProtectionController(), Change("delete", volume), store) == set()


def test_pvc_protection_handles_a_pod_replaced_under_its_name_as_the_old_pods_deletion() -> None:
    claim = PersistentVolumeClaim(metadata=meta("data"))
    volumes = (Volume(name="d", persistent_volume_claim=PersistentVolumeClaimVolumeSource(claim_name="data")),)
    old = pod("db-0", volumes=volumes, node_name="worker-1")
    store = put(Store(), claim, old)
    new = pod("db-0", uid="uid-new", node_name="worker-1")  # names no claim, scheduled: no help by itself
    assert keys(PVCProtectionController(), update(stored(store, old), new), store) == {"default/data"}
    assert keys(PVCProtectionController(), update(stored(store, old), stored(store, old)), store) == set()


def test_a_removed_namespace_enqueues_nothing() -> None:
    ns = Namespace(metadata=ObjectMeta(name="shop", uid="uid-shop", deletion_timestamp=3),
                   spec=NamespaceSpec(finalizers=("kubernetes",)))
    store = put(Store(), ns)
    ctl = NamespaceController()
    assert keys(ctl, Change("update", ns, ns), store) == {"shop"}
    assert keys(ctl, Change("delete", ns), store.remove(ObjectKey("namespaces", "", "shop"))[0]) == set()
