"""The restore properties (`kubeprop.properties.restore`) on hand-made states."""

from __future__ import annotations

from kubeprop.model.api.apps import ReplicaSet
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.pod import Pod, PodSpec
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.restore import Backup
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.runtime import ContainerRuntime, KubeletState, PodRuntime
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.restore import NO_FORGOTTEN_OWNER_WRITES, NO_ORPHAN_PODS_RUNNING


def uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012x}"


def owned_pod(name: str, n: int, owner: int, node: str = "w1") -> Pod:
    ref = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="rs", uid=uid(owner), controller=True)
    return Pod(metadata=ObjectMeta(name=name, namespace="default", uid=uid(n), owner_references=(ref,)),
               spec=PodSpec(node_name=node))


def state_of(*objects: object, kubelets: dict[str, KubeletState] | None = None, backup: Backup | None = None
             ) -> ClusterState:
    store = Store()
    for obj in objects:
        store, _, _ = store.put(obj, "ADDED")  # type: ignore[arg-type]
    return ClusterState(store=store, kubelets=FrozenMap(kubelets or {}), etcd_backup=backup)


RS = ReplicaSet(metadata=ObjectMeta(name="rs", namespace="default", uid=uid(1)))


def running(n: int) -> PodRuntime:
    return PodRuntime(uid=uid(n), containers=(ContainerRuntime("c", running=True),), pod_ip="10.0.0.1", admitted_at=0)


def test_a_running_pod_the_store_does_not_have_is_an_orphan() -> None:
    ok = state_of(RS, owned_pod("a", 2, 1), kubelets={"w1": KubeletState(FrozenMap({"default/a": running(2)}))})
    assert NO_ORPHAN_PODS_RUNNING(None, ok) is None  # type: ignore[arg-type]
    gone = state_of(RS, kubelets={"w1": KubeletState(FrozenMap({"default/a": running(2)}))})
    found = NO_ORPHAN_PODS_RUNNING(None, gone)  # type: ignore[arg-type]
    assert found is not None and "w1 still runs pod default/a" in found.message
    other_uid = state_of(RS, owned_pod("a", 3, 1), kubelets={"w1": KubeletState(FrozenMap({"default/a": running(2)}))})
    assert NO_ORPHAN_PODS_RUNNING(None, other_uid) is not None  # type: ignore[arg-type]


def test_a_pod_whose_controller_is_gone_is_an_orphan() -> None:
    found = NO_ORPHAN_PODS_RUNNING(None, state_of(owned_pod("a", 2, 1)))  # type: ignore[arg-type]
    assert found is not None and "owned by ReplicaSet rs" in found.message


def test_forgotten_owner_writes_need_a_restore_and_a_uid_from_the_forgotten_range() -> None:
    snapshot = Store(uids_issued=4)
    restored = Backup(snapshot, forgotten=(4, 9), restored_revision=20)
    assert NO_FORGOTTEN_OWNER_WRITES(None, state_of(owned_pod("a", 10, 6), backup=restored)) is not None  # type: ignore[arg-type]
    assert NO_FORGOTTEN_OWNER_WRITES(None, state_of(owned_pod("a", 10, 3), backup=restored)) is None  # type: ignore[arg-type]
    assert NO_FORGOTTEN_OWNER_WRITES(None, state_of(owned_pod("a", 10, 10), backup=restored)) is None  # type: ignore[arg-type]
    never = Backup(snapshot)
    assert NO_FORGOTTEN_OWNER_WRITES(None, state_of(owned_pod("a", 10, 6), backup=never)) is None  # type: ignore[arg-type]
