"""`kubeprop schedule --drain` is `kubectl drain` (the node stays, cordoned, and still counts for
topology spreading); `--remove` deletes the Node. Regression of the third user trial: `--drain gen-a`
answered FEASIBLE on the shop manifests, and a real drain left web-1 Pending."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from cli_run import kubeprop

from kubeprop.model.api.core import TAINT_NODE_UNSCHEDULABLE, Node, NodeStatus, Taint
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.pod import Affinity, Container, Pod, PodAffinity, PodAffinityTerm, PodSpec
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos, pod_key
from kubeprop.properties.scheduling.drain import drain, remove
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.solver import SchedulingSolver
from kubeprop.properties.scheduling.workloads import desired_pods, greedy

DATA = Path(__file__).parent / "data" / "drain"
SHOP, SHOP_HONOR = DATA / "shop.yaml", DATA / "shop-honor.yaml"
ZONE, HOST = "topology.kubernetes.io/zone", "kubernetes.io/hostname"


def shop_problem(path: Path, replicas: Mapping[str, int] | None = None) -> Problem:
    model = build_model(load_scenario(path))
    state = initial_state(model)
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    desired = desired_pods(state.store, model.api, replicas or {})
    return Problem(build_node_infos(nodes, desired.bound), desired.pending)


# -- the trial's case -----------------------------------------------------------------------------


def test_drain_gen_a_is_infeasible_and_names_the_spread_constraint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(SHOP), "--drain", "gen-a")
    assert code == 1
    assert "INFEASIBLE with gen-a drained" in out and "FEASIBLE with" not in out.replace("INFEASIBLE", "")
    assert "2 pod(s) must all be placed: web-0, web-1" in out
    assert ("topologySpreadConstraints topology.kubernetes.io/zone maxSkew=1 (DoNotSchedule) of Deployment shop/web "
            "rules out the rest") in out
    assert "topology.kubernetes.io/zone=eu-1a (gen-a) still counts as a spread domain with 0 matching pod(s)" in out
    assert "nodeTaintsPolicy=Ignore" in out
    assert "gen-a excluded: node(s) were unschedulable" in out


def test_z3_and_the_default_scheduler_agree_the_drain_leaves_web_1_pending() -> None:
    drained = drain(shop_problem(SHOP), ["gen-a"]).problem
    assert SchedulingSolver(drained).check().status == "unsat"
    result = greedy(drained.nodes, drained.pending)
    assert dict(result.placement.items()) == {"shop/web-0": "gen-b"}
    message = result.pending["shop/web-1"]
    assert "node(s) didn't match pod topology spread constraints" in message
    assert "node(s) were unschedulable" in message


def test_the_old_question_is_remove_the_node_deleted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(SHOP), "--remove", "gen-a")
    assert code == 0
    assert "Removed gen-a (Node deleted)" in out and "FEASIBLE with gen-a removed" in out
    assert "places every pod too" in out
    removed = remove(shop_problem(SHOP), ["gen-a"]).problem
    assert [ni.name for ni in removed.nodes] == ["db-a", "gen-b"]
    assert not greedy(removed.nodes, removed.pending).pending


# -- feasible drains ------------------------------------------------------------------------------


def test_a_drain_that_leaves_the_skew_within_max_skew_is_feasible(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(SHOP), "--drain", "gen-a", "--scale", "web=1")
    assert code == 0
    assert "FEASIBLE with gen-a drained" in out and "places every pod too" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("shop/")]
    assert rows == [["shop/web-0", "gen-b"]]


def test_node_taints_policy_honor_stops_counting_the_drained_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "schedule", str(SHOP_HONOR), "--drain", "gen-a")
    assert code == 0
    assert "FEASIBLE with gen-a drained" in out and "places every pod too" in out
    drained = drain(shop_problem(SHOP_HONOR), ["gen-a"]).problem
    outcome = SchedulingSolver(drained).check()
    assert outcome.status == "sat" and set(outcome.placement.values()) == {"gen-b"}
    assert dict(greedy(drained.nodes, drained.pending).placement.items()) == dict(outcome.placement.items())


# -- what a drain does to the node and its pods ---------------------------------------------------


def _node(name: str, zone: str) -> Node:
    alloc = {"cpu": Quantity.parse("2"), "memory": Quantity.parse("4Gi"), "pods": Quantity.parse("110")}
    return Node(metadata=ObjectMeta(name=name, labels={HOST: name, ZONE: zone}), status=NodeStatus(allocatable=alloc))


def _pod(name: str, node: str = "", owner: str = "", labels: Mapping[str, str] | None = None,
         annotations: Mapping[str, str] | None = None, affinity: Affinity | None = None) -> Pod:
    refs = (OwnerReference(api_version="apps/v1", kind=owner, name="o", uid="u", controller=True),) if owner else ()
    meta = ObjectMeta(name=name, namespace="default", labels=labels or {}, annotations=annotations or {},
                      owner_references=refs)
    return Pod(metadata=meta, spec=PodSpec(node_name=node, containers=(Container(name="c"),), affinity=affinity))


def test_drain_cordons_evicts_and_keeps_mirror_and_daemonset_pods() -> None:
    bound = [_pod("bare", "a"), _pod("rs", "a", owner="ReplicaSet"), _pod("ds", "a", owner="DaemonSet"),
             _pod("static", "a", annotations={"kubernetes.io/config.mirror": "x"}), _pod("other", "b")]
    problem = Problem(build_node_infos([_node("a", "z1"), _node("b", "z2")], bound), ())
    change = drain(problem, ["a"])
    a = change.problem.nodes[0]
    assert a.node.spec.unschedulable
    assert Taint(key=TAINT_NODE_UNSCHEDULABLE, effect="NoSchedule") in a.node.spec.taints
    assert sorted(pod_key(p) for p in a.pods) == ["default/ds", "default/static"]
    assert [pod_key(p) for p in change.pending_again] == ["default/rs"]
    assert not change.pending_again[0].spec.node_name
    assert [pod_key(p) for p in change.problem.pending] == ["default/rs"]
    assert [pod_key(p) for p in change.deleted] == ["default/bare"]
    assert change.problem.nodes[1] == problem.nodes[1]


def test_remove_deletes_the_node_and_every_pod_but_a_controllers() -> None:
    bound = [_pod("bare", "a"), _pod("rs", "a", owner="ReplicaSet"), _pod("ds", "a", owner="DaemonSet"),
             _pod("static", "a", annotations={"kubernetes.io/config.mirror": "x"})]
    change = remove(Problem(build_node_infos([_node("a", "z1"), _node("b", "z2")], bound), ()), ["a"])
    assert [ni.name for ni in change.problem.nodes] == ["b"]
    assert [pod_key(p) for p in change.pending_again] == ["default/rs"]
    assert sorted(pod_key(p) for p in change.deleted) == ["default/bare", "default/ds", "default/static"]


@pytest.mark.parametrize(("annotations", "status"), [({}, "sat"), ({"kubernetes.io/config.mirror": "x"}, "unsat")])
def test_pod_anti_affinity_sees_only_the_pods_a_drain_leaves(annotations: Mapping[str, str], status: str) -> None:
    """A cache pod on the drained node a keeps `web` out of zone z1 (nodes a and c) only while it
    stays there: evicted, zone z1 is free; a mirror pod stays. Node b is full."""
    term = PodAffinityTerm(label_selector=LabelSelector(match_labels={"app": "cache"}), topology_key=ZONE)
    web = _pod("web", affinity=Affinity(pod_anti_affinity=PodAffinity(
        required_during_scheduling_ignored_during_execution=(term,))))
    cache = _pod("cache", "a", labels={"app": "cache"}, annotations=annotations)
    full = Node(metadata=ObjectMeta(name="b", labels={HOST: "b", ZONE: "z2"}),
                status=NodeStatus(allocatable={"cpu": Quantity.parse("2"), "pods": Quantity.parse("0")}))
    problem = Problem(build_node_infos([_node("a", "z1"), full, _node("c", "z1")], [cache]), (web,))
    assert SchedulingSolver(problem).check().status == "unsat"
    drained = drain(problem, ["a"]).problem
    outcome = SchedulingSolver(drained).check()
    assert outcome.status == status
    assert bool(greedy(drained.nodes, drained.pending).pending) == (status == "unsat")
    if status == "sat":
        assert dict(outcome.placement.items()) == {"default/web": "c"}


def test_unknown_or_doubly_named_nodes_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kubeprop(capsys, "schedule", str(SHOP), "--remove", "gen-z")
    assert code == 2 and "--remove gen-z: no such node; valid: db-a, gen-a, gen-b" in err
    code, _, err = kubeprop(capsys, "schedule", str(SHOP), "--drain", "gen-a", "--remove", "gen-a")
    assert code == 2 and "--drain and --remove both name gen-a" in err
    with pytest.raises(ValueError, match="no such node: gen-z"):
        drain(shop_problem(SHOP), ["gen-z"])
