"""What a DaemonSet promises: one daemon pod on each node its placement rules admit.

- `daemonset-one-pod-per-node` (safety): no node ever has two pods of one DaemonSet and one
  revision (`controller-revision-hash`) that are neither terminal nor being deleted, nor more than
  two such pods of any revisions. Pods being deleted do not count: with `maxSurge` above 0 the
  controller creates a node's new pod while an old one is still terminating (upstream's surge half
  of `rollingUpdate`, `findUpdatedPodsOnNode`, and `podsShouldBeOnNode` skip pods with a
  deletionTimestamp: "Deleted pods do not count as unavailable"), so a node can hold a terminating
  pod, the previous revision's and the current one's. Without surge a node with any pod gets no new
  one, but a DaemonSet whose maxSurge is lowered to 0 mid-update keeps two pods of different
  revisions until the next sync prunes one, so the bound holds for any configuration only in this
  form. Pods the DaemonSet adopted are not counted — those without the hash label, and those
  created before the DaemonSet (an orphan of a DaemonSet deleted with `--cascade=orphan` and
  created again, the documented way to change an immutable field): the controller did not create
  them, and prunes extras on its next sync. Upstream a re-created DaemonSet creates a node's pod
  while the orphan still names the old DaemonSet as its owner (`ClaimPods` skips it; the garbage
  collector has not removed the reference yet, or the controller's cache is behind), and adopts
  the orphan later, so two pods of one revision are on the node until podsShouldBeOnNode deletes
  one (audit16). Upstream:
  `pkg/controller/daemon/daemon_controller.go` podsShouldBeOnNode and syncNodes' expectations
  (`SetExpectations` before the creates), `pkg/controller/daemon/update.go` rollingUpdate.
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
from typing import Any

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Node
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.daemonset_plan import surge_count
from kubeprop.model.controllers.daemonset_util import REVISION_HASH_LABEL, node_should_run, owned_by, target_node_name
from kubeprop.model.controllers.podutil import is_pod_ready, is_pod_terminal
from kubeprop.model.scenario.apply_steps import scenario_holds
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import stuck_pod_hint
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_in_when

__all__ = ["DAEMONSETS_READY", "ONE_POD_PER_NODE"]


def _name(ds: DaemonSet) -> str:
    return f"DaemonSet {ds.metadata.namespace}/{ds.metadata.name}"


def _daemon_sets(state: ClusterState) -> list[DaemonSet]:
    return [d for d in state.store.list("daemonsets.apps") if isinstance(d, DaemonSet)]


def _adopted(pod: Pod, ds: DaemonSet | None) -> bool:
    """Whether `pod` was created before `ds`, the DaemonSet that owns it (adopted, not created by it)."""
    if ds is None:
        return False
    mine, its = Store.uid_serial(pod.metadata.uid), Store.uid_serial(ds.metadata.uid)
    return mine is not None and its is not None and mine < its


def one_pod_per_node(model: ClusterModel, state: ClusterState) -> CheckResult:
    """The first node with two live pods of one DaemonSet and revision, or more than two of it."""
    sets = {d.metadata.uid: d for d in _daemon_sets(state)}
    by_revision: Counter[tuple[str, str, str]] = Counter()
    by_node: Counter[tuple[str, str]] = Counter()
    for pod in state.store.list("pods"):
        if not isinstance(pod, Pod) or is_pod_terminal(pod) or pod.metadata.deletion_timestamp is not None:
            continue
        ref = pod.metadata.controller_ref()
        node = target_node_name(pod)
        revision = pod.metadata.labels.get(REVISION_HASH_LABEL)
        if (ref is not None and ref.kind == "DaemonSet" and node is not None and revision
                and not _adopted(pod, sets.get(ref.uid))):
            by_revision[(ref.uid, node, revision)] += 1
            by_node[(ref.uid, node)] += 1
    for (uid, node, revision), count in sorted(by_revision.items()):
        if count > 1 and (ds := sets.get(uid)) is not None:
            return (f"{_name(ds)} has {count} pods of revision {revision} on node {node}, none terminal or "
                    "being deleted (at most 1)", (_name(ds), f"Node {node}"))
    for (uid, node), count in sorted(by_node.items()):
        if count > 2 and (ds := sets.get(uid)) is not None:
            return (f"{_name(ds)} has {count} pods on node {node}, none terminal or being deleted (at most 2: "
                    "one old, one new)", (_name(ds), f"Node {node}"))
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
                hint = _surge_host_port_hint(ds, here) or stuck_pod_hint(state, ds.metadata.namespace,
                                                                          ds.spec.selector)
                return (f"{_name(ds)}: node {node.metadata.name} should run one Ready daemon pod, it has "
                        f"{len(here)} ({len(ready)} Ready){hint}", (_name(ds), f"Node {node.metadata.name}"))
    return None


def _surge_host_port_hint(ds: DaemonSet, here: list[Pod]) -> str:
    """Why a surge pod stays Pending next to the old one: a DaemonSet with maxSurge whose template
    holds a hostPort cannot roll out, since the old pod holds the port on the node and the
    scheduler's NodePorts filter refuses the new one there (`pkg/scheduler/framework/plugins/
    nodeports`); upstream's docs say the two cannot be used together (the Kubernetes 1.25 blog post
    on DaemonSet maxSurge going stable). The violation stands: the user's manifest causes it."""
    ports = sorted({p.host_port for c in ds.spec.template.spec.containers for p in c.ports if p.host_port})
    if not ports or surge_count(ds, 1) == 0 or not any(not p.spec.node_name for p in here):
        return ""
    return (f"; the surge pod cannot be placed: the old pod holds hostPort {', '.join(map(str, ports))} on the node "
            "(a DaemonSet with maxSurge and a hostPort cannot roll out: use maxUnavailable)")


def has_daemon_sets(scenario: Any) -> bool:
    """Whether the scenario's manifests or workload steps hold a DaemonSet."""
    return scenario_holds(scenario, DaemonSet)


ONE_POD_PER_NODE: Property = register_opt_in_when(__name__, has_daemon_sets, as_property(
    "daemonset-one-pod-per-node",
    "No node has two live pods (not terminal, not being deleted) of one DaemonSet and revision, nor more than two "
    "of one DaemonSet.",
    "pkg/controller/daemon/daemon_controller.go podsShouldBeOnNode, syncNodes (expectations); update.go rollingUpdate",
    "safety", one_pod_per_node, reads=("objects",)))
"""Opt-in built-in, checked by default where a DaemonSet can exist (`has_daemon_sets`)."""

DAEMONSETS_READY: Property = register_opt_in_when(__name__, has_daemon_sets, as_property(
    "daemonsets-ready",
    "Every DaemonSet has observed its generation and runs exactly one Ready pod on each node that should run "
    "it (NodeShouldRunDaemonPod).",
    "pkg/controller/daemon/daemon_controller.go syncDaemonSet, NodeShouldRunDaemonPod",
    "convergence", daemon_sets_ready, reads=("objects",)))
"""Opt-in built-in, checked by default where a DaemonSet can exist (`has_daemon_sets`)."""
