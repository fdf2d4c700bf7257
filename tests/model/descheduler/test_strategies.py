"""The descheduler's evictor and strategies, with cases after kubernetes-sigs/descheduler's tests
(`pkg/framework/plugins/*/..._test.go`, `defaultevictor/defaultevictor_test.go`)."""

from __future__ import annotations

from descheduler_cases import node, pod, run

from kubeprop.model.api.core import Taint
from kubeprop.model.api.meta import OwnerReference
from kubeprop.model.api.pod import (
    Affinity,
    NodeAffinity,
    PodStatus,
    Toleration,
    TopologySpreadConstraint,
    Volume,
)
from kubeprop.model.api.selectors import LabelSelector, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm
from kubeprop.model.descheduler import strategies
from kubeprop.model.descheduler.evictor import evictable
from kubeprop.model.scenario.schema_addons import (
    EvictorDecl,
    LowNodeUtilizationDecl,
    NodeAffinityDecl,
    NodeTaintsDecl,
    RemoveDuplicatesDecl,
    TopologySpreadDecl,
)
from kubeprop.model.scheduler.nodeinfo import build_node_infos

# --- DefaultEvictor ------------------------------------------------------------------------------

def test_default_evictor_protections() -> None:
    args = EvictorDecl()
    assert evictable(pod("p", "n1"), args)
    assert not evictable(pod("bare", "n1", owners=()), args)
    failed_bare = pod("bare", "n1", owners=())
    failed_bare = failed_bare.__class__(metadata=failed_bare.metadata, spec=failed_bare.spec,
                                        status=PodStatus(phase="Failed"))
    assert not evictable(failed_bare, args) and evictable(failed_bare, EvictorDecl(evict_failed_bare_pods=True))
    ds = (OwnerReference(kind="DaemonSet", name="ds", uid="d", controller=True),)
    assert not evictable(pod("ds", "n1", owners=ds), args)
    assert not evictable(pod("crit", "n1", priority=2_000_000_000), args)
    assert evictable(pod("crit", "n1", priority=2_000_000_000), EvictorDecl(evict_system_critical_pods=True))
    assert not evictable(pod("high", "n1", priority=1000), EvictorDecl(priority_threshold=1000))
    local = pod("local", "n1", volumes=(Volume(name="v", empty_dir={}),))
    assert not evictable(local, args) and evictable(local, EvictorDecl(evict_local_storage_pods=True))
    forced = pod("forced", "n1", owners=())
    forced = forced.__class__(metadata=forced.metadata.__class__(
        name="forced", namespace="default", annotations={"descheduler.alpha.kubernetes.io/evict": "true"}),
        spec=forced.spec, status=forced.status)
    assert evictable(forced, args)


def test_node_fit_keeps_pods_that_fit_nowhere_else() -> None:
    nodes = [node("n1"), node("n2", cpu="100m")]
    pods = [pod("a", "n1", cpu="500m"), pod("b", "n1", cpu="50m")]
    snapshot = strategies.Snapshot.of(build_node_infos(nodes, pods), EvictorDecl(node_fit=True))
    assert snapshot.evictable == {"default/b"} and snapshot.filtered == {"default/a", "default/b"}


# --- strategies ---------------------------------------------------------------------------------

def test_node_taints() -> None:
    """TestDeletePodsViolatingNodeTaints: untolerated NoSchedule taints; PreferNoSchedule only when asked."""
    nodes = [node("n1", taints=(Taint(key="dedicated", value="db", effect="NoSchedule"),)),
             node("n2", taints=(Taint(key="soft", effect="PreferNoSchedule"),))]
    tolerating = (Toleration(key="dedicated", operator="Equal", value="db", effect="NoSchedule"),)
    pods = [pod("a", "n1"), pod("b", "n1", tolerations=tolerating), pod("c", "n2")]
    assert run(strategies.node_taints, NodeTaintsDecl(), nodes, pods) == ["a"]
    assert run(strategies.node_taints, NodeTaintsDecl(include_prefer_no_schedule=True), nodes, pods) == ["a", "c"]
    assert run(strategies.node_taints, NodeTaintsDecl(excluded_taints=("dedicated",)), nodes, pods) == []
    assert run(strategies.node_taints, NodeTaintsDecl(excluded_taints=("dedicated=db",)), nodes, pods) == []


def _required(key: str, value: str) -> Affinity:
    term = NodeSelectorTerm(match_expressions=(NodeSelectorRequirement(key=key, operator="In", values=(value,)),))
    return Affinity(node_affinity=NodeAffinity(required_during_scheduling_ignored_during_execution=NodeSelector(
        node_selector_terms=(term,))))


def test_node_affinity() -> None:
    """TestRemovePodsViolatingNodeAffinity (v0.33.0 node_affinity_test.go, pods with required node
    affinity): required affinity its node no longer matches, and a node that does match (else the
    pod stays)."""
    nodes = [node("n1", labels={"disk": "hdd"}), node("n2", labels={"disk": "ssd"})]
    pods = [pod("a", "n1", affinity=_required("disk", "ssd")), pod("b", "n2", affinity=_required("disk", "ssd")),
            pod("c", "n1")]
    assert run(strategies.node_affinity, NodeAffinityDecl(), nodes, pods) == ["a"]
    assert run(strategies.node_affinity, NodeAffinityDecl(), [nodes[0]], [pods[0]]) == []


def test_node_affinity_leaves_pods_with_a_node_selector_only() -> None:
    """Audit 12 (F2): upstream's filter starts with `utils.PodHasNodeAffinity(pod, Required)`
    (v0.33.0 removepodsviolatingnodeaffinity/node_affinity.go, pkg/utils/pod.go): a pod with a
    node selector and no required node affinity is never evicted by this strategy, even when its
    node no longer matches the selector. Once chosen, though, the selector counts in the match."""
    nodes = [node("n1", labels={}), node("n2", labels={"disk": "ssd"})]
    selector_only = pod("a", "n1", node_selector={"disk": "ssd"})
    assert run(strategies.node_affinity, NodeAffinityDecl(), nodes, [selector_only]) == []
    both = pod("b", "n2", node_selector={"zone": "x"}, affinity=_required("disk", "ssd"))
    zoned = [nodes[0], node("n2", labels={"disk": "ssd"}), node("n3", labels={"disk": "ssd", "zone": "x"})]
    assert run(strategies.node_affinity, NodeAffinityDecl(), zoned, [both]) == ["b"]


def test_duplicates() -> None:
    """TestFindDuplicatePods: duplicates of one owner and image on a node; pods of other owners or
    images are not duplicates; with a single feasible node nothing is evicted."""
    other = (OwnerReference(kind="ReplicaSet", name="other", uid="u2", controller=True),)
    nodes = [node("n1"), node("n2")]
    pods = [pod("a", "n1"), pod("b", "n1"), pod("c", "n1"), pod("d", "n1", owners=other),
            pod("e", "n1", image="web:2")]
    assert run(strategies.duplicates, RemoveDuplicatesDecl(), nodes, pods) == ["c"]
    assert run(strategies.duplicates, RemoveDuplicatesDecl(exclude_owner_kinds=("ReplicaSet",)), nodes, pods) == []
    tainted = [node("n1"), node("n2", taints=(Taint(key="x", effect="NoSchedule"),))]
    assert run(strategies.duplicates, RemoveDuplicatesDecl(), tainted, pods) == []


def test_topology_spread() -> None:
    """TestTopologySpreadConstraint: 3 pods in zone A, 1 in zone B, maxSkew 1: one moves."""
    spread = (TopologySpreadConstraint(max_skew=1, topology_key="zone", when_unsatisfiable="DoNotSchedule",
                                       label_selector=LabelSelector(match_labels={"app": "web"})),)
    nodes = [node("n1", labels={"zone": "a"}), node("n2", labels={"zone": "b"})]
    pods = [pod(n, "n1", topology_spread_constraints=spread) for n in ("a1", "a2", "a3")]
    pods.append(pod("b1", "n2", topology_spread_constraints=spread))
    assert len(run(strategies.topology_spread, TopologySpreadDecl(), nodes, pods)) == 1
    soft = tuple(c.__class__(max_skew=1, topology_key="zone", when_unsatisfiable="ScheduleAnyway",
                             label_selector=c.label_selector) for c in spread)
    soft_pods = [pod(p.metadata.name, p.spec.node_name, topology_spread_constraints=soft) for p in pods]
    assert run(strategies.topology_spread, TopologySpreadDecl(), nodes, soft_pods) == []
    both = TopologySpreadDecl(constraints=("DoNotSchedule", "ScheduleAnyway"))
    assert len(run(strategies.topology_spread, both, nodes, soft_pods)) == 1


def test_low_node_utilization() -> None:
    """TestLowNodeUtilization: pods leave the overutilized node until it is under its targets, as
    long as the underutilized nodes have room up to theirs."""
    nodes = [node("n1", cpu="1"), node("n2", cpu="1"), node("n3", cpu="1")]
    pods = [pod(f"p{i}", "n1", cpu="200m") for i in range(4)] + [pod("q", "n2", cpu="100m"),
                                                                 pod("r", "n3", cpu="400m")]
    args = LowNodeUtilizationDecl(thresholds={"cpu": 20}, target_thresholds={"cpu": 50})
    evicted = run(strategies.low_node_utilization, args, nodes, pods)
    assert evicted == ["p0", "p1"]  # 800m → 400m (below 50 %); n2 had room for 400m
    assert run(strategies.low_node_utilization, args, nodes, pods, refuse=frozenset({"p0"})) == ["p1", "p2"]
    assert run(strategies.low_node_utilization, args, [*nodes[:1], node("n2", cpu="1", unschedulable=True)],
               pods[:4]) == []
