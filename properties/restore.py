"""Properties of an etcd restore (docs/restore.md): what must hold after the store goes back to a
backup (`kubeprop.model.cluster.restore`).

- `no-orphan-pods-running` (convergence): once the cluster settles, every container a kubelet runs
  belongs to a pod the store has, bound to that node, and every pod with a controller reference
  has that controller — nothing runs that no object owns (the kubelet's HandlePodCleanups,
  `pkg/kubelet/kubelet_pods.go`, and the garbage collector, `pkg/controller/garbagecollector`).
- `restore-no-forgotten-owner-writes` (safety): no object refers to an owner that existed only
  between the backup and the restore. Such a reference can only be written after the restore, by a
  component acting on a cache that still holds the forgotten owner — what Kubernetes' restore
  guidance warns of ("restart … to ensure that they don't rely on some stale data").

With the convergence properties of `kubeprop.properties.convergence` (the restored Deployments
complete, workloads ready, endpoints right) they say "the cluster converges to the restored
desired state". They are opt-in (`registry.OPT_IN`): checked when named (`kubeprop check
--property NAME`), or by default on a scenario whose fault budget has `etcdRestore`.
"""

from __future__ import annotations

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.restore import Backup, forgotten_uid
from kubeprop.model.state.cluster import ClusterModel, ClusterState, pod_key
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_ins

__all__ = ["NO_FORGOTTEN_OWNER_WRITES", "NO_ORPHAN_PODS_RUNNING", "RESTORE_PROPERTIES"]


def _orphans(model: ClusterModel, state: ClusterState) -> CheckResult:
    pods = {pod_key(p): p for p in state.store.list("pods") if isinstance(p, Pod)}
    for node, kubelet in state.kubelets.sorted_items():
        for key, runtime in kubelet.pods.sorted_items():
            pod = pods.get(key)
            if runtime.any_running and (pod is None or pod.metadata.uid != runtime.uid or pod.spec.node_name != node):
                return (f"{node} still runs pod {key} (uid {runtime.uid}), which the store does not have there",
                        (f"Pod {key}", f"Node {node}"))
    uids = {o.metadata.uid for o in state.store.objects.values()}
    for key, pod in sorted(pods.items()):
        ref = pod.metadata.controller_ref()
        if ref is not None and ref.uid not in uids:
            return f"Pod {key} is owned by {ref.kind} {ref.name} (uid {ref.uid}), which does not exist", (f"Pod {key}",)
    return None


def _forgotten_owner_writes(model: ClusterModel, state: ClusterState) -> CheckResult:
    if not isinstance(state.etcd_backup, Backup) or not state.etcd_backup.restored_revision:
        return None
    uids = {o.metadata.uid for o in state.store.objects.values()}
    for key, obj in state.store.objects.sorted_items():
        for ref in obj.metadata.owner_references:
            if forgotten_uid(state, ref.uid) and ref.uid not in uids:
                what = f"{type(obj).__name__} {key.namespace}/{key.name}".replace(" /", " ")
                return (f"{what} was written for {ref.kind} {ref.name} (uid {ref.uid}), which the etcd restore "
                        "forgot: a component acted on a stale cache", (what,))
    return None


NO_ORPHAN_PODS_RUNNING: Property = as_property(
    "no-orphan-pods-running",
    "Once settled, every running container belongs to a pod the store has on that node, and every pod's controller "
    "exists.",
    "pkg/kubelet/kubelet_pods.go HandlePodCleanups; pkg/controller/garbagecollector/garbagecollector.go",
    "convergence", _orphans)

NO_FORGOTTEN_OWNER_WRITES: Property = as_property(
    "restore-no-forgotten-owner-writes",
    "No object refers to an owner that existed only between the etcd backup and the restore.",
    "kubernetes.io docs: Operating etcd clusters for Kubernetes, Restoring an etcd cluster",
    "safety", _forgotten_owner_writes)

RESTORE_PROPERTIES: tuple[Property, ...] = register_opt_ins(
    __name__, "etcd_restore", (NO_ORPHAN_PODS_RUNNING, NO_FORGOTTEN_OWNER_WRITES))
"""Opt-in built-ins (`registry.OPT_IN`), checked by default on scenarios whose fault budget has
`etcdRestore` (docs/properties.md)."""
