"""What a DaemonSet promises: one daemon pod on each node its placement rules admit.

- `daemonset-one-pod-per-node` (safety): no node ever has two non-terminal pods of one DaemonSet
  (pods being deleted count until they are gone: the controller creates no pod on a node that
  still has one, `podsShouldBeOnNode`); with `maxSurge` above 0 two are allowed during a rolling
  update (one old, one new), never three. Upstream: `pkg/controller/daemon/daemon_controller.go`
  podsShouldBeOnNode and syncNodes' expectations (`SetExpectations` before the creates).
- `daemonsets-ready` (convergence): where a fair run settles, every DaemonSet not being deleted has
  observed its generation and, on every node that should run its pod (`NodeShouldRunDaemonPod`:
  nodeSelector, node affinity, NoSchedule/NoExecute taints against the template's tolerations plus
  the daemon tolerations), exactly one pod, Ready and not being deleted. A cordoned node still runs
  one (every daemon pod tolerates `node.kubernetes.io/unschedulable`); a NotReady or unreachable
  node's `NoSchedule` taints make it a node that should not get a new pod (its pod stays: shouldContinueRunning),
  so it is not judged there.

Both are opt-in built-ins (`registry.OPT_IN`) checked by default on every scenario whose manifests
or workload steps hold a DaemonSet, so the property tables of other scenarios do not change.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Node
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.daemonset_plan import surge_count
from kubeprop.model.controllers.daemonset_util import node_should_run, owned_by, target_node_name
from kubeprop.model.controllers.podutil import is_pod_ready, is_pod_terminal
from kubeprop.model.scenario.apply_steps import apply_step_manifests
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import stuck_pod_hint
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_in_when

__all__ = ["DAEMONSETS_READY", "ONE_POD_PER_NODE"]


def _name(ds: DaemonSet) -> str:
    return f"DaemonSet {ds.metadata.namespace}/{ds.metadata.name}"


def _daemon_sets(state: ClusterState) -> list[DaemonSet]:
    return [d for d in state.store.list("daemonsets.apps") if isinstance(d, DaemonSet)]


def one_pod_per_node(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first node with more non-terminal pods of one DaemonSet than it allows."""
    sets = {d.metadata.uid: d for d in _daemon_sets(state)}
    counts: Counter[tuple[str, str]] = Counter()
    for pod in state.store.list("pods"):
        if not isinstance(pod, Pod) or is_pod_terminal(pod):
            continue
        ref = pod.metadata.controller_ref()
        node = target_node_name(pod)
        if ref is not None and ref.kind == "DaemonSet" and node is not None:
            counts[(ref.uid, node)] += 1
    for (uid, node), count in sorted(counts.items()):
        ds = sets.get(uid)
        if ds is None:
            continue
        allowed = 2 if surge_count(ds, 1) > 0 else 1
        if count > allowed:
            return (f"{_name(ds)} has {count} non-terminal pods on node {node} (at most {allowed})",
                    (_name(ds), f"Node {node}"))
    return None


def daemon_sets_ready(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first DaemonSet with a node that should run its pod but has none ready, or more than one."""
    nodes = sorted((n for n in state.store.list("nodes") if isinstance(n, Node)), key=lambda n: n.metadata.name)
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    for ds in _daemon_sets(state):
        if ds.metadata.deletion_timestamp is not None:
            continue
        if ds.status.observed_generation < ds.metadata.generation:
            return (f"{_name(ds)}: observedGeneration {ds.status.observed_generation}, generation "
                    f"{ds.metadata.generation}", (_name(ds),))
        mine = [p for p in pods if owned_by(p, ds) and p.metadata.deletion_timestamp is None]
        for node in nodes:
            if not node_should_run(node, ds)[0]:
                continue
            here = [p for p in mine if target_node_name(p) == node.metadata.name]
            ready = [p for p in here if is_pod_ready(p)]
            if len(here) != 1 or len(ready) != 1:
                hint = stuck_pod_hint(state, ds.metadata.namespace, ds.spec.selector)
                return (f"{_name(ds)}: node {node.metadata.name} should run one Ready daemon pod, it has "
                        f"{len(here)} ({len(ready)} Ready){hint}", (_name(ds), f"Node {node.metadata.name}"))
    return None


def has_daemon_sets(scenario: Any) -> bool:
    """Whether the scenario's manifests or workload steps hold a DaemonSet."""
    if any(isinstance(m.obj, DaemonSet) for m in scenario.objects):
        return True
    steps = apply_step_manifests(scenario.spec.workload, Path(scenario.path).parent, (m.obj for m in scenario.objects))
    return any(isinstance(m.obj, DaemonSet) for loaded in steps for m in loaded)


ONE_POD_PER_NODE: Property = register_opt_in_when(__name__, has_daemon_sets, as_property(
    "daemonset-one-pod-per-node",
    "No node has more than one non-terminal pod of a DaemonSet (two, one old and one new, with maxSurge > 0).",
    "pkg/controller/daemon/daemon_controller.go podsShouldBeOnNode, syncNodes (expectations)",
    "safety", one_pod_per_node, reads=("objects",)))
"""Opt-in built-in, checked by default where a DaemonSet can exist (`has_daemon_sets`)."""

DAEMONSETS_READY: Property = register_opt_in_when(__name__, has_daemon_sets, as_property(
    "daemonsets-ready",
    "Every DaemonSet has observed its generation and runs exactly one Ready pod on each node that should run "
    "it (NodeShouldRunDaemonPod).",
    "pkg/controller/daemon/daemon_controller.go syncDaemonSet, NodeShouldRunDaemonPod",
    "convergence", daemon_sets_ready, reads=("objects",)))
"""Opt-in built-in, checked by default where a DaemonSet can exist (`has_daemon_sets`)."""
