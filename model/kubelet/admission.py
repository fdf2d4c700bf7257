"""Kubelet admission: the checks a kubelet makes before it starts a pod bound to its node.

Upstream: `pkg/kubelet/kubelet.go` (HandlePodAdditions → canAdmitPod → rejectPod) and
`pkg/kubelet/lifecycle/predicate.go` (predicateAdmitHandler.Admit, generalFilter). The model keeps
the check the scheduler cannot have made for the kubelet: a NoExecute taint the pod does not
tolerate (added after the binding, e.g. `node.kubernetes.io/unreachable` by the node lifecycle
controller, or by a user). Resources, node name, ports, node affinity and the OS checks are the
scheduler's own filters and are not repeated.
"""

from __future__ import annotations

from kubeprop.model.api.objects import Node, ObjectKey, Taint
from kubeprop.model.api.pod import Pod
from kubeprop.model.kubelet.runtime import ContainerRuntime, PodRuntime
from kubeprop.model.state.cluster import ClusterState, kubelet, reaches_apiserver

__all__ = ["TAINT_REJECTION", "admission_rejection", "rejected_runtime", "visible_taints"]

TAINT_REJECTION = ("TaintToleration",
                   "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate")
"""`predicate.go` generalFilter: PredicateFailureError{tainttoleration.Name, ErrReasonNotMatch}."""


def visible_taints(state: ClusterState, node: str) -> tuple[Taint, ...]:
    """The node's taints as the kubelet's node informer has them: the API's while it reaches the
    API server; while cut off, only those added before (a taint without `timeAdded` is old)."""
    obj = state.store.get(ObjectKey("nodes", "", node))
    if not isinstance(obj, Node):
        return ()
    if reaches_apiserver(state, kubelet(node)):
        return obj.spec.taints
    since = state.heartbeat_lost.get(node, state.clock)
    return tuple(t for t in obj.spec.taints if t.time_added is None or t.time_added <= since)


def admission_rejection(taints: tuple[Taint, ...], pod: Pod) -> tuple[str, str] | None:
    """canAdmitPod's taint check (`generalFilter`): the first NoExecute taint no toleration of
    the pod tolerates rejects it (static pods are exempt upstream; the model has none)."""
    for taint in taints:
        if taint.effect == "NoExecute" and not any(t.tolerates(taint) for t in pod.spec.tolerations):
            return TAINT_REJECTION
    return None


def rejected_runtime(pod: Pod, now: int, rejection: tuple[str, str]) -> PodRuntime:
    """A pod refused at admission: recorded with no container started, so the status manager
    reports it Failed (`rejectPod`) and it is never restarted."""
    grace = pod.spec.termination_grace_period_seconds
    return PodRuntime(uid=pod.metadata.uid, containers=tuple(ContainerRuntime(c.name) for c in pod.spec.containers),
                      pod_ip="", admitted_at=now, restart_policy=pod.spec.restart_policy or "Always",
                      grace_seconds=30 if grace is None else grace, rejected=rejection)
