"""`kubectl drain` and a deleted Node, as changes to a scheduling `Problem`.

The two differ in what the scheduler sees afterwards, and that decides topology spreading:

* **drain** (`drain(problem, names)`): `staging/src/k8s.io/kubectl/pkg/drain/cordon.go` sets
  `spec.unschedulable`, and the node lifecycle controller then adds the taint
  `node.kubernetes.io/unschedulable:NoSchedule` (`pkg/controller/nodelifecycle/
  node_lifecycle_controller.go` doNoScheduleTaintingPass; the settled state is modelled, taint
  present). `drain.go` / `filters.go` (GetPodsForDeletion) evict the node's pods except mirror pods
  and DaemonSet pods (`--ignore-daemonsets`); a pod without a controller needs `--force` and is
  gone for good, a controller's pod comes back Pending (its replacement, modelled as the same pod
  unbound). A DaemonSet's pending pod made for a drained node stays too: its daemon tolerations
  include `node.kubernetes.io/unschedulable:NoSchedule`, so it is still placed there
  (`NodeChange.staying` names it; `kubectl drain` needs `--ignore-daemonsets` for it). The Node
  **stays** in the scheduler's snapshot: NodeUnschedulable
  (`pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go`) keeps pods off it
  unless they tolerate the taint, and PodTopologySpread still counts it as a domain with the pods
  left there (`podtopologyspread/common.go` matchNodeInclusionPolicies consults only
  nodeAffinityPolicy, default Honor, and nodeTaintsPolicy, default Ignore; `filtering.go`
  calPreFilterState counts every node that has the keys and passes them): a zone whose only
  eligible node is drained keeps a count of 0 and bounds the skew of the others.
* **remove** (`remove(problem, names)`): the Node object deleted. It leaves the snapshot, and with
  it its topology domains; the pods bound to it are deleted by the pod garbage collector
  (`pkg/controller/podgc/gc_controller.go` gcOrphaned), and a controller's pods other than a
  DaemonSet's come back Pending (a DaemonSet makes no pod for a node that is gone: its pending pods
  made for the node are dropped too, `workloads.desired_pods`).

Which pods a controller recreates follows the controller reference only; PodDisruptionBudgets are
not consulted (every pod a schedule problem holds bound is a bare pod anyway: the workloads' pods are
all pending, `workloads.desired_pods`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from kubeprop.model.api.core import TAINT_NODE_UNSCHEDULABLE, Node, Taint
from kubeprop.model.api.pod import Pod, PodStatus
from kubeprop.model.cluster.maintenance import drain_filter
from kubeprop.model.controllers.daemonset_util import target_node_name
from kubeprop.model.scenario.schema_addons import DrainStep
from kubeprop.model.scheduler.decide import NodeInfo, pod_key
from kubeprop.properties.scheduling.encode import Problem

__all__ = ["DRAIN_FLAGS", "NodeChange", "cordoned", "drain", "remove"]

DRAIN_FLAGS = DrainStep(delete_emptydir_data=True, force=True)
"""`kubectl drain NODE --ignore-daemonsets --delete-emptydir-data --force`: every pod that kubectl
can take off the node is evicted (without `--force` it refuses bare pods and leaves them)."""


@attrs.frozen
class NodeChange:
    """The problem after draining or removing nodes, and what happened to their pods."""

    problem: Problem
    nodes: tuple[str, ...]
    pending_again: tuple[Pod, ...] = ()
    """Pods a controller recreates: pending again, to be placed with the others."""
    deleted: tuple[Pod, ...] = ()
    """Pods gone for good (no controller, or a DaemonSet's on a deleted Node)."""
    staying: tuple[Pod, ...] = ()
    """Pods a drain leaves on the node (mirror and DaemonSet pods), the pending daemon pods made for
    it included: in the cluster being drained they run there, `kubectl drain --ignore-daemonsets`
    leaves them, and they stay pending here, to be placed on the cordoned node their daemon
    tolerations let them keep (`daemonset_util.DAEMON_TOLERATIONS`)."""


def cordoned(node: Node) -> Node:
    """`kubectl cordon` and the taint the node lifecycle controller adds for it."""
    taints = node.spec.taints
    if not any(t.key == TAINT_NODE_UNSCHEDULABLE and t.effect == "NoSchedule" for t in taints):
        taints = (*taints, Taint(key=TAINT_NODE_UNSCHEDULABLE, effect="NoSchedule"))
    return attrs.evolve(node, spec=attrs.evolve(node.spec, unschedulable=True, taints=taints))


def _recreated(pod: Pod) -> bool:
    ref = pod.metadata.controller_ref()
    return ref is not None and ref.kind != "DaemonSet"


def _unbound(pod: Pod) -> Pod:
    """The controller's replacement of an evicted pod: the same pod, unbound, status reset."""
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=""), status=PodStatus())


def _split(pods: Iterable[Pod]) -> tuple[list[Pod], list[Pod]]:
    """(recreated pending, deleted for good)."""
    gone = list(pods)
    return [_unbound(p) for p in gone if _recreated(p)], [p for p in gone if not _recreated(p)]


def _check(problem: Problem, names: Sequence[str]) -> frozenset[str]:
    known = {ni.name for ni in problem.nodes}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"no such node: {', '.join(unknown)}")
    return frozenset(names)


def drain(problem: Problem, names: Sequence[str]) -> NodeChange:
    """`kubectl drain` each node in `names` (see the module docstring)."""
    chosen = _check(problem, names)
    nodes: list[NodeInfo] = []
    evicted: list[Pod] = []
    staying: list[Pod] = []
    for ni in problem.nodes:
        if ni.name not in chosen:
            nodes.append(ni)
            continue
        out, _ = drain_filter(ni.pods, ni.name, DRAIN_FLAGS)
        keys = {pod_key(p) for p in out}
        kept = [p for p in ni.pods if pod_key(p) not in keys]
        nodes.append(NodeInfo.of(cordoned(ni.node), kept, ni.nominated))
        evicted.extend(out)
        staying.extend(kept)
    again, deleted = _split(evicted)
    staying.extend(p for p in problem.pending if _daemon_pod_for(p, chosen))
    return NodeChange(attrs.evolve(problem, nodes=tuple(nodes), pending=(*problem.pending, *again)),
                      tuple(sorted(chosen)), tuple(again), tuple(deleted), tuple(staying))


def remove(problem: Problem, names: Sequence[str]) -> NodeChange:
    """Delete the Node of each name in `names` (see the module docstring)."""
    chosen = _check(problem, names)
    gone = [p for ni in problem.nodes if ni.name in chosen for p in ni.pods]
    again, deleted = _split(gone)
    nodes = tuple(ni for ni in problem.nodes if ni.name not in chosen)
    unmade = [p for p in problem.pending if _daemon_pod_for(p, chosen)]
    pending = tuple(p for p in problem.pending if not _daemon_pod_for(p, chosen))
    return NodeChange(attrs.evolve(problem, nodes=nodes, pending=(*pending, *again)), tuple(sorted(chosen)),
                      tuple(again), (*deleted, *unmade))


def _daemon_pod_for(pod: Pod, nodes: frozenset[str]) -> bool:
    """A pending DaemonSet pod made for one of `nodes` (its target node, GetTargetNodeName): the
    DaemonSet controller makes none for a Node that is gone."""
    ref = pod.metadata.controller_ref()
    return ref is not None and ref.kind == "DaemonSet" and target_node_name(pod) in nodes
