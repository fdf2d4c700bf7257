"""Where the descheduler model evicted pods that descheduler v0.33.0 keeps (audit 12), each case
after the upstream rule it cites; the audit's scenarios run through the lasso search."""

from __future__ import annotations

from pathlib import Path

from descheduler_cases import node, pod, run

from kubeprop.model.api.core import NodeSpec, NodeStatus, Taint
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.pod import (
    Affinity,
    Container,
    PodAffinity,
    PodAffinityTerm,
    ResourceRequirements,
    Toleration,
    TopologySpreadConstraint,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.descheduler import component, strategies
from kubeprop.model.descheduler.evictor import matches_inter_pod_anti_affinity, node_fit
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema_addons import (
    EvictorDecl,
    LowNodeUtilizationDecl,
    RemoveDuplicatesDecl,
    TopologySpreadDecl,
)
from kubeprop.model.scheduler.nodeinfo import build_node_infos
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.lasso import find_lasso
from kubeprop.properties.oscillation import select_cycle

DATA = Path(__file__).parents[1] / "data" / "descheduler"
HOST = "kubernetes.io/hostname"
LNU = LowNodeUtilizationDecl(thresholds={"cpu": 20}, target_thresholds={"cpu": 50})


def _anti(match: dict[str, str], key: str = HOST, namespaces: tuple[str, ...] = ()) -> Affinity:
    term = PodAffinityTerm(label_selector=LabelSelector(match_labels=match), topology_key=key, namespaces=namespaces)
    return Affinity(pod_anti_affinity=PodAffinity(required_during_scheduling_ignored_during_execution=(term,)))


def _hosts(*names: str) -> list[Node]:
    return [node(n, labels={HOST: n}) for n in names]


def _db(on: str, namespace: str = "default") -> object:
    db = pod("db", on)
    return db.__class__(metadata=ObjectMeta(name="db", namespace=namespace, labels={"role": "db"}),
                        spec=db.spec, status=db.status)


# --- F1: NodeFit's inter-pod anti-affinity -------------------------------------------------------

def test_node_fit_refuses_a_node_holding_a_pod_the_anti_affinity_names() -> None:
    """v0.33.0 pkg/descheduler/node/node.go NodeFit → podMatchesInterPodAntiAffinity: a pod on the
    node matching one of the pod's required anti-affinity terms (in the term's namespaces, else the
    pod's) makes the node unfit, if the node has the term's topology key."""
    web = pod("web", "n1", affinity=_anti({"role": "db"}))
    infos = {i.name: i for i in build_node_infos(_hosts("n1", "n2"), [web, _db("n2")])}  # type: ignore[list-item]
    assert matches_inter_pod_anti_affinity(web, infos["n2"]) and not node_fit(web, infos["n2"])
    assert node_fit(web, infos["n1"])
    keyless = pod("web", "n1", affinity=_anti({"role": "db"}, key="zone"))
    assert node_fit(keyless, infos["n2"]), "a node without the topology key is not blocked"
    elsewhere = build_node_infos(_hosts("n1", "n2"), [web, _db("n2", namespace="other")])  # type: ignore[list-item]
    assert node_fit(web, elsewhere[1]), "the db pod's namespace is not the term's"
    listed = pod("web", "n1", affinity=_anti({"role": "db"}, namespaces=("other",)))
    assert not node_fit(listed, elsewhere[1])


def test_remove_duplicates_with_node_fit_keeps_pods_anti_affinity_pins() -> None:
    """The audit's desched-antiaff case as a direct call: both web replicas on n1, the db on n2;
    the PreEvictionFilter (nodeFit) finds no other node for a web pod, so nothing is evicted
    (without nodeFit the duplicate is evicted, as upstream)."""
    pods = [pod(n, "n1", affinity=_anti({"role": "db"})) for n in ("w1", "w2")] + [_db("n2")]
    assert run(strategies.duplicates, RemoveDuplicatesDecl(), _hosts("n1", "n2"), pods,  # type: ignore[arg-type]
               evictor=EvictorDecl(node_fit=True)) == []
    assert run(strategies.duplicates, RemoveDuplicatesDecl(), _hosts("n1", "n2"), pods) == ["w2"]  # type: ignore[arg-type]


def test_antiaffinity_nodefit_scenario_has_no_eviction_loop() -> None:
    """audit12-artifacts/desched-antiaff: `kubeprop check --engine lasso` reported no-eviction-loop."""
    model = build_model(load_scenario(DATA / "antiaffinity-nodefit.yaml"))
    assert find_lasso(model, initial_state(model), select_cycle(), Bounds(max_depth=1)).lasso is None


# --- F3: LowNodeUtilization ----------------------------------------------------------------------

def test_low_node_utilization_skips_pods_not_tolerating_an_underutilized_node() -> None:
    """v0.33.0 nodeutilization.go evictPods: `utils.PodToleratesTaints(pod, destinationTaints)`
    (pkg/utils/pod.go): the pod must tolerate every taint of some underutilized node, whatever the
    effect, with at least as many tolerations as that node has taints."""
    taint = Taint(key="dedicated", value="db", effect="NoSchedule")
    nodes = [node("n1", cpu="1"), node("n2", cpu="1", taints=(taint,))]
    assert run(strategies.low_node_utilization, LNU, nodes, [pod(f"p{i}", "n1", cpu="200m") for i in range(3)]) == []
    tolerant = (Toleration(key="dedicated", operator="Equal", value="db", effect="NoSchedule"),)
    pods = [pod(f"p{i}", "n1", cpu="200m", tolerations=tolerant) for i in range(3)]
    assert run(strategies.low_node_utilization, LNU, nodes, pods) == ["p0"]
    soft = node("n2", cpu="1", taints=(Taint(key="dedicated", value="db", effect="PreferNoSchedule"),))
    assert run(strategies.low_node_utilization, LNU, [nodes[0], soft], pods) == [], "any effect counts"
    two = node("n2", cpu="1", taints=(taint, Taint(key="gpu", effect="NoSchedule")))
    everything = (Toleration(operator="Exists"),)
    pods = [pod(f"p{i}", "n1", cpu="200m", tolerations=everything) for i in range(3)]
    assert run(strategies.low_node_utilization, LNU, [nodes[0], two], pods) == [], "fewer tolerations than taints"


def test_lnu_tainted_destination_scenario_has_no_eviction_loop() -> None:
    """audit12-artifacts/desched-lnu-taint: `kubeprop check --engine lasso` reported no-eviction-loop."""
    model = build_model(load_scenario(DATA / "lnu-tainted-destination.yaml"))
    assert find_lasso(model, initial_state(model), select_cycle(), Bounds(max_depth=1)).lasso is None


def _resources(cpu: str, memory: str, limits: bool) -> ResourceRequirements:
    amounts = {"cpu": Quantity.parse(cpu), "memory": Quantity.parse(memory)}
    return ResourceRequirements(requests=amounts, limits=amounts if limits else {})


def test_low_node_utilization_evicts_no_priority_first_then_by_qos() -> None:
    """v0.33.0 pkg/descheduler/pod/pods.go SortPodsBasedOnPriorityLowToHigh: pods without a
    priority come first; at equal priority BestEffort, then Burstable, then Guaranteed."""
    nodes = [node("n1", cpu="1"), node("n2", cpu="1")]
    pods = [pod("a", "n1", cpu="300m", priority=0), pod("b", "n1", cpu="300m")]
    assert run(strategies.low_node_utilization, LNU, nodes, pods) == ["b"]
    guaranteed = pod("a", "n1", containers=(Container(name="c", image="web:1",
                                                      resources=_resources("300m", "64Mi", limits=True)),))
    burstable = pod("b", "n1", containers=(Container(name="c", image="web:1",
                                                     resources=_resources("300m", "64Mi", limits=False)),))
    assert run(strategies.low_node_utilization, LNU, nodes, [guaranteed, burstable]) == ["b"]


def test_low_node_utilization_takes_the_most_used_node_by_raw_amounts() -> None:
    """v0.33.0 nodeutilization.go sortNodesByUsage sums the raw usage (cpu millicores, memory bytes,
    pods), not percentages: n2's 2400m of 4 cpu (60 %) goes before n1's 900m of 1 cpu (90 %); the
    underutilized n3 has room for 700m up to its target."""
    nodes = [node("n1", cpu="1"), node("n2", cpu="4"), node("n3", cpu="2")]
    pods = [pod(f"a{i}", "n1", cpu="300m") for i in range(3)] + [pod(f"b{i}", "n2", cpu="600m") for i in range(4)]
    assert run(strategies.low_node_utilization, LNU, nodes, [*pods, pod("c", "n3", cpu="300m")]) == ["b0", "a0"]


def test_low_node_utilization_counts_an_underutilized_node_at_its_threshold() -> None:
    """v0.33.0 nodeutilization.go isNodeBelowThreshold: a node is underutilized unless some usage
    is above its threshold, so a node at exactly 20 % of cpu is."""
    nodes = [node("n1", cpu="1"), node("n2", cpu="1")]
    pods = [pod(f"p{i}", "n1", cpu="200m") for i in range(4)] + [pod("q", "n2", cpu="200m")]
    assert run(strategies.low_node_utilization, LNU, nodes, pods) == ["p0", "p1"]


def test_low_node_utilization_needs_room_for_pods_on_the_underutilized_nodes() -> None:
    """v0.33.0 evictPodsFromSourceNodes / continueEvictionCond: the room of the underutilized
    nodes is summed over cpu, memory and pods whatever the thresholds name (the whole allocatable
    amount where no target is set); with no pod slot left, nothing moves."""
    alloc = {"cpu": Quantity.parse("1"), "memory": Quantity.parse("4Gi"), "pods": Quantity.parse("1")}
    full = Node(metadata=ObjectMeta(name="n2"), spec=NodeSpec(),
                status=NodeStatus(allocatable=alloc, conditions=(Condition(type="Ready", status="True"),)))
    pods = [pod(f"p{i}", "n1", cpu="200m") for i in range(3)] + [pod("q", "n2", cpu="100m")]
    assert run(strategies.low_node_utilization, LNU, [node("n1", cpu="1"), full], pods) == []


# --- F4: RemovePodsViolatingTopologySpreadConstraint ---------------------------------------------

SPREAD = TopologySpreadConstraint(max_skew=1, topology_key="zone", when_unsatisfiable="DoNotSchedule",
                                  label_selector=LabelSelector(match_labels={"app": "web"}))


def _zones(*zones: str, cpu: str = "2") -> list[Node]:
    return [node(f"n{i + 1}", cpu=cpu, labels={"zone": z}) for i, z in enumerate(zones)]


def test_topology_spread_counts_only_pods_the_evictor_filter_passes() -> None:
    """v0.33.0 topologyspreadconstraint.go Balance lists the pods through `d.podFilter`
    (Evictor().Filter): bare pods the DefaultEvictor refuses are not in the domains, so zone a
    (one evictable pod) and zone b (none) are within maxSkew (audit12-artifacts/tsc_nonevictable.py)."""
    pods = [pod("a1", "n1", topology_spread_constraints=(SPREAD,))]
    pods += [pod(n, "n1", owners=(), topology_spread_constraints=(SPREAD,)) for n in ("bare1", "bare2")]
    assert run(strategies.topology_spread, TopologySpreadDecl(), _zones("a", "b"), pods) == []


def test_topology_spread_domains_follow_the_node_inclusion_policies() -> None:
    """v0.33.0 matchNodeInclusionPolicies: with nodeTaintsPolicy Honor, zone c's only node, tainted
    against the pods, is no domain; three pods in a and none in b then need one move (ideal 1.5),
    not two (ideal 1 over three domains)."""
    honor = TopologySpreadConstraint(max_skew=1, topology_key="zone", when_unsatisfiable="DoNotSchedule",
                                     label_selector=SPREAD.label_selector, node_taints_policy="Honor")
    nodes = _zones("a", "b")
    nodes.append(node("n3", labels={"zone": "c"}, taints=(Taint(key="x", effect="NoSchedule"),)))
    pods = [pod(f"a{i}", "n1", topology_spread_constraints=(honor,)) for i in range(3)]
    assert len(run(strategies.topology_spread, TopologySpreadDecl(), nodes, pods)) == 1
    ignore = [pod(f"a{i}", "n1", topology_spread_constraints=(SPREAD,)) for i in range(3)]
    assert len(run(strategies.topology_spread, TopologySpreadDecl(), nodes, ignore)) == 2


def test_topology_spread_merges_match_label_keys() -> None:
    """v0.33.0 newTopologySpreadConstraint: matchLabelKeys add the owner's values to the selector,
    so pods of three revisions, one each in zone a, are three balanced constraints."""
    keyed = TopologySpreadConstraint(max_skew=1, topology_key="zone", when_unsatisfiable="DoNotSchedule",
                                     label_selector=SPREAD.label_selector, match_label_keys=("rev",))
    pods = []
    for rev in ("1", "2", "3"):
        p = pod(f"a{rev}", "n1", topology_spread_constraints=(keyed,))
        pods.append(p.__class__(metadata=ObjectMeta(name=p.metadata.name, namespace="default",
                                                    labels={"app": "web", "rev": rev},
                                                    owner_references=p.metadata.owner_references),
                                spec=p.spec, status=p.status))
    assert run(strategies.topology_spread, TopologySpreadDecl(), _zones("a", "b"), pods) == []


def _spread_snapshot() -> strategies.Snapshot:
    """Three pods in zone a (n1, 8 cpu), none in b (n2, 2 cpu); the last in eviction order, a3,
    asks for 3 cpu and fits no node of zone b."""
    pods = [pod(n, "n1", cpu="3" if n == "a3" else "100m", topology_spread_constraints=(SPREAD,))
            for n in ("a1", "a2", "a3")]
    nodes = [node("n1", cpu="8", labels={"zone": "a"}), node("n2", cpu="2", labels={"zone": "b"})]
    return strategies.Snapshot.of(build_node_infos(nodes, pods), EvictorDecl())


def test_topology_spread_release_order() -> None:
    """v0.33.0 balanceDomains takes the last pod (a3), which fits nowhere below the average: no
    eviction; from v0.34 (descheduler PR #1719, commit fbf11df72) the pods that fit go last, so a2
    is taken (`deschedulerTopologyPreferFitting`)."""
    for prefer, expected in ((False, []), (True, ["a2"])):
        evicted: list[str] = []

        def evict(p: Pod, into: list[str] = evicted) -> str:
            into.append(p.metadata.name)
            return "ok"

        strategies.topology_spread(_spread_snapshot(), TopologySpreadDecl(), evict, prefer_fitting=prefer)
        assert evicted == expected, prefer


def test_the_release_parameter_reaches_the_strategy() -> None:
    scenario = load_scenario(DATA / "duplicates.yaml")
    assert not component._prefer_fitting(build_model(scenario))
    assert component._prefer_fitting(build_model(scenario, parameters={"deschedulerTopologyPreferFitting": True}))
