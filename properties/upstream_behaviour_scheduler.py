"""Recognizers of upstream behaviour of the scheduler: races between its scheduling cycle, its
binding cycle and its informer caches, on the correct model. `upstream_behaviour.KNOWN` lists the
entries; this module holds what they recognize and the upstream source each rests on.

The scheduler decides on a snapshot of its own cache and binds in a separate cycle without
filtering again (`pkg/scheduler/schedule_one.go` scheduleOne); the API server's binding checks only
the pod (`pkg/registry/core/pod/storage/storage.go` BindingREST). A node that changes between the
decision and the binding, a node update its informer has not yet delivered, or a binding that times
out after it was written each let a pod onto a node its filters would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.scheduler.decide import NodeInfo
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Violation
from kubeprop.properties.scheduling.encode import static_reason

__all__ = [
    "BIND_RACE_CITATIONS",
    "BIND_RACE_SUMMARY",
    "BIND_TIMEOUT_CITATIONS",
    "BIND_TIMEOUT_SUMMARY",
    "STALE_NODE_CITATIONS",
    "STALE_NODE_SUMMARY",
    "bind_timeout_then_reused",
    "decided_on_stale_node_cache",
    "node_changed_after_decision",
]

BIND_TIMEOUT_SUMMARY = (
    "A binding that times out after the API server wrote it (504) is a failure to the scheduler: it "
    "forgets the assumed pod (ForgetPod) and does not requeue it once its informer shows it bound, but "
    "until then its cache counts the node's resources as free, and it may place another pod there; "
    "the kubelet then rejects the pod that does not fit (OutOfcpu).")
BIND_TIMEOUT_CITATIONS = (
    "pkg/scheduler/schedule_one.go handleBindingCycleError (ForgetPod) and handleSchedulingFailure ('the pod "
    "may have been bound successfully, but timed out returning its response to the scheduler')",
    "pkg/scheduler/backend/cache/cache.go ForgetPod, AddPod",
)

BIND_RACE_SUMMARY = (
    "The scheduler decides in its scheduling cycle and binds in a separate binding cycle without "
    "filtering again, and the API server's binding checks only the pod: a node cordoned, tainted or "
    "relabelled between the decision and the binding still gets the pod (the kubelet admits it: only "
    "NoExecute taints are checked at admission).")
BIND_RACE_CITATIONS = (
    "pkg/scheduler/schedule_one.go scheduleOne (schedulingCycle, then bindingCycle in its own goroutine; "
    "no filter runs after assume)",
    "pkg/registry/core/pod/storage/storage.go BindingREST setPodNodeAndMetadata (checks the pod's deletion, "
    "nodeName and scheduling gates only)",
)

STALE_NODE_SUMMARY = (
    "The scheduler filters nodes on a snapshot of its own cache, which its node informer fills: a node "
    "tainted, cordoned or relabelled in the API server whose update has not yet reached that informer "
    "still passes the filters, and the binding (which the API server checks only against the pod) puts "
    "the pod there; the kubelet admits it (only NoExecute taints are checked at admission).")
STALE_NODE_CITATIONS = (
    "pkg/scheduler/schedule_one.go schedulePod (sched.Cache.UpdateSnapshot: filters run on the scheduler "
    "cache's snapshot); pkg/scheduler/eventhandlers.go updateNodeInCache (the node informer fills the cache)",
    "pkg/registry/core/pod/storage/storage.go BindingREST setPodNodeAndMetadata (checks the pod's deletion, "
    "nodeName and scheduling gates only)",
)


def node_changed_after_decision(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                 violation: Violation) -> bool:
    """The pod's binding that stands in the violating state (`_binding_and_decision`) followed a
    scheduling decision (the last `Schedule` of the pod before it, onto the same node) that was
    sound on the node as stored then, and the node changed in between so that, as stored at the
    binding, the pod no longer passes the node's own filters (cordoned, tainted, relabelled)."""
    found = _binding_and_decision(states, trace, violation)
    if found is None:
        return False
    pod, node_name, decision, bind = found
    then = states[decision + 1].store.get(ObjectKey("nodes", "", node_name))
    at_bind = states[bind + 1].store.get(ObjectKey("nodes", "", node_name))
    if not (isinstance(then, Node) and isinstance(at_bind, Node)) or then == at_bind:
        return False
    return static_reason(pod, NodeInfo.of(then)) is None and static_reason(pod, NodeInfo.of(at_bind)) is not None


def _binding_and_decision(states: Sequence[ClusterState], trace: Sequence[Action],
                          violation: Violation) -> tuple[Pod, str, int, int] | None:
    """(the pod as bound, node, index of the decision, index of the binding) for the pod and node
    the violation names: the binding is the pod's last `Bind` in the trace, which put it on that
    node and still stands in the violating state (the same pod, on that node); the decision is the
    pod's last `Schedule` before it, onto the same node.

    The binding need not be the violating step: `scheduler-decisions-sound` judges a binding with
    Z3 only once the scheduler's informer has caught up (a later `Deliver`), and its explanation
    may change then ("untolerated taint" becomes "node(s) were unschedulable"), so the race is
    judged against the state the binding was written in, not against the violating state."""
    pod_key, node_name = violation.named("Pod"), violation.named("Node")
    if not trace or pod_key is None or node_name is None:
        return None
    bind = next((i for i in range(len(trace) - 1, -1, -1)
                 if isinstance(trace[i], Bind) and getattr(trace[i], "pod", None) == pod_key), None)
    if bind is None:
        return None
    namespace, _, name = pod_key.partition("/")
    key = ObjectKey("pods", namespace, name)
    bound, now = states[bind + 1].store.get(key), states[-1].store.get(key)
    if not (isinstance(bound, Pod) and isinstance(now, Pod) and bound.spec.node_name == node_name
            and now.metadata.uid == bound.metadata.uid and now.spec.node_name == node_name):
        return None
    decision = next((i for i in range(bind - 1, -1, -1)
                     if isinstance(trace[i], Schedule) and getattr(trace[i], "pod", None) == pod_key), None)
    if decision is None or getattr(trace[decision], "node", None) != node_name:
        return None
    return bound, node_name, decision, bind


def decided_on_stale_node_cache(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                 violation: Violation) -> bool:
    """The pod's binding that stands in the violating state (`_binding_and_decision`) followed a
    scheduling decision (the last `Schedule` of the pod before it, onto the same node) taken while
    the scheduler's node cache held an older version of the node than the store, one the pod
    passes the node's own filters on, though the node as stored at the binding fails them
    (tainted, cordoned, relabelled before the decision, but not yet seen by the scheduler's
    informer)."""
    found = _binding_and_decision(states, trace, violation)
    if found is None or model.instant_caches:
        return False
    pod, node_name, decision, bind = found
    informer = states[decision].informers.get(getattr(trace[decision], "scheduler", ""))
    if informer is None:
        return False
    node = ObjectKey("nodes", "", node_name)
    cached, stored, at_bind = informer.get(node), states[decision].store.get(node), states[bind + 1].store.get(node)
    if not (isinstance(cached, Node) and isinstance(stored, Node) and isinstance(at_bind, Node)):
        return False
    if cached.metadata.resource_version == stored.metadata.resource_version:
        return False
    return static_reason(pod, NodeInfo.of(cached)) is None and static_reason(pod, NodeInfo.of(at_bind)) is not None


def bind_timeout_then_reused(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                              violation: Violation) -> bool:
    """A binding of some pod onto the violation's node timed out after it was written (504): the
    scheduler forgot the pod; later it assumed another pod onto that node while its pod cache still
    showed the first one unbound."""
    node = violation.named("Node")
    if node is None:
        return False
    for i, act in enumerate(trace):
        if not isinstance(act, Bind):
            continue
        before, after = states[i], states[i + 1]
        namespace, _, name = act.pod.partition("/")
        bound = after.store.get(ObjectKey("pods", namespace, name))
        if not (before.armed_failures.get(act.scheduler) == 504 and act.scheduler not in after.armed_failures
                and isinstance(bound, Pod) and bound.spec.node_name == node):
            continue
        for j in range(i + 1, len(trace)):
            later = trace[j]
            informer = states[j].informers.get(act.scheduler)
            if isinstance(later, Schedule) and later.scheduler == act.scheduler and later.pod != act.pod \
                    and later.node == node and informer is not None:
                cached = informer.get(ObjectKey("pods", namespace, name))
                if isinstance(cached, Pod) and not cached.spec.node_name:
                    return True
    return False

