"""Recognizers of upstream behaviour after an etcd restore that skips part of Kubernetes'
documented procedure (docs/restore.md): what a real cluster does when the scheduler is not
restarted after the restore. `upstream_behaviour.KNOWN` lists the entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.restore import RestoreEtcd
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Violation


def pod_and_owners(state: ClusterState, pod: Pod) -> set[str]:
    """The pod and the workloads it belongs to, as a violation names objects (`Kind ns/name`):
    its controller (a ReplicaSet or StatefulSet) and the ReplicaSet's Deployment, as stored."""
    namespace = pod.metadata.namespace
    names = {f"Pod {namespace}/{pod.metadata.name}"}
    ref = pod.metadata.controller_ref()
    if ref is None:
        return names
    names.add(f"{ref.kind} {namespace}/{ref.name}")
    if ref.kind == "ReplicaSet":
        owner = state.store.get(ObjectKey("replicasets.apps", namespace, ref.name))
        parent = owner.metadata.controller_ref() if owner is not None else None
        if parent is not None:
            names.add(f"{parent.kind} {namespace}/{parent.name}")
    return names


def _unbound_by_restore(states: Sequence[ClusterState], trace: Sequence[Action]) -> set[str]:
    """The pods (`ns/name`) a restore in the trace took from bound back to unbound (same UID)."""
    found = set()
    for i, act in enumerate(trace):
        if not isinstance(act, RestoreEtcd):
            continue
        for before in states[i].store.list("pods"):
            if not isinstance(before, Pod) or not before.spec.node_name:
                continue
            after = states[i + 1].store.get(ObjectKey("pods", before.metadata.namespace, before.metadata.name))
            if isinstance(after, Pod) and after.metadata.uid == before.metadata.uid and not after.spec.node_name:
                found.add(f"{before.metadata.namespace}/{before.metadata.name}")
    return found


def restore_left_pod_assumed(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                             violation: Violation) -> bool:
    """Without the restart of the components (`etcdRestoreRestartsComponents: false`), a restore
    took a bound pod back to unbound, and in the violating state that pod — of the workload the
    violation names — is still unbound in the store and still assumed by a scheduler."""
    if model.parameter("etcdRestoreRestartsComponents"):
        return False
    named = set(violation.objects)
    last = states[-1]
    for key in _unbound_by_restore(states, trace):
        namespace, _, name = key.partition("/")
        pod = last.store.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.spec.node_name or not pod_and_owners(last, pod) & named:
            continue
        if any(key in memory.assumed for memory in last.schedulers.values()):
            return True
    return False


RESTORE_ASSUMED_SUMMARY = (
    "An etcd restore takes a pod the scheduler bound after the backup back to its unbound version. When "
    "the scheduler's pod informer had not yet delivered the binding, it gets no event for the pod and keeps "
    "it assumed: assumed pods never expire and an update of an assumed pod is not queued, so the pod stays "
    "Pending until the scheduler restarts — what the restore procedure's restart of the components is for "
    "(`etcdRestoreRestartsComponents: true`).")
RESTORE_ASSUMED_CITATIONS = (
    "pkg/scheduler/scheduler.go (durationToExpireAssumedPod = 0: assumed pods never expire; "
    "https://github.com/kubernetes/kubernetes/issues/106361)",
    "pkg/scheduler/eventhandlers.go updatePodInSchedulingQueue (an assumed pod's update is not queued)",
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster "
    "('restart Kubernetes components (kube-scheduler, kube-controller-manager, kubelet) to ensure that they "
    "don't rely on some stale data')",
)
