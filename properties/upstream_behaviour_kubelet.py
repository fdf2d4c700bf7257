"""Upstream behaviour of pods bound by their creator: the kubelet, not the scheduler, keeps the node whole.

A pod created with `spec.nodeName` set is bound from its first write: no scheduler filters it
(`pkg/scheduler/eventhandlers.go` only queues pods without a node; the API server's validation
does not check resources, `pkg/apis/core/validation`). Until the node's kubelet admits or
refuses it, the pods bound to that node may request more than it has — `node-not-overcommitted`
fails — and the kubelet then refuses the pods that do not fit with `OutOfcpu`, `OutOfmemory`,
`OutOfpods`, … (`pkg/kubelet/lifecycle/predicate.go` Admit; `pkg/kubelet/kubelet.go`
HandlePodAdditions → rejectPod: phase Failed), which the model does too
(`kubeprop.model.kubelet.admission.resource_rejection`). The Kubernetes documentation says so of
`nodeName` ("Pods … bypass the scheduler … if the named node does not have the resources to
accommodate the Pod, the Pod will fail and its reason will indicate why, for example OutOfmemory
or OutOfcpu", concepts/scheduling-eviction/assign-pod-node, nodeName).

Recognized only where the creator-bound pods are the cause: the pods the scheduler bound to the
node fit it by themselves. An over-commit by scheduler-bound pods alone (two schedulers, a stale
cache) is not this behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.invariants import overcommitted
from kubeprop.properties.registry import Violation

__all__ = ["CREATOR_BOUND_CITATIONS", "CREATOR_BOUND_SUMMARY", "creator_bound_pods_overcommit"]

CREATOR_BOUND_SUMMARY = (
    "Pods created with spec.nodeName bypass the scheduler, so the pods bound to a node can request more than it "
    "has; its kubelet then refuses those that do not fit (phase Failed, reason OutOfcpu, OutOfmemory, OutOfpods, "
    "…). The pods the scheduler bound fit the node by themselves."
)
CREATOR_BOUND_CITATIONS = (
    "pkg/kubelet/lifecycle/predicate.go (Admit, generalFilter: InsufficientResourceError → OutOf<resource>)",
    "pkg/kubelet/kubelet.go (HandlePodAdditions → canAdmitPod → rejectPod)",
    "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
)


def _creator_bound(states: Sequence[ClusterState], pod: Pod) -> bool:
    """Whether `pod` (by uid) was bound in the first state that holds it: created with spec.nodeName."""
    key = ObjectKey("pods", pod.metadata.namespace, pod.metadata.name)
    for state in states:
        first = state.store.get(key)
        if isinstance(first, Pod) and first.metadata.uid == pod.metadata.uid:
            return bool(first.spec.node_name)
    return False


def creator_bound_pods_overcommit(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                  violation: Violation) -> bool:
    """The violated node holds a pod created already bound, and the pods bound to it otherwise fit it."""
    name, last = violation.named("Node"), states[-1]
    node = None if name is None else last.store.get(ObjectKey("nodes", "", name))
    if not isinstance(node, Node):
        return False
    bound = [p for p in last.store.list("pods") if isinstance(p, Pod) and p.spec.node_name == name]
    by_creator = [p for p in bound if _creator_bound(states, p)]
    if not by_creator:
        return False
    return overcommitted(node, [p for p in bound if p not in by_creator]) is None
