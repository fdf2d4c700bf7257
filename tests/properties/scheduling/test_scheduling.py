"""Z3-checked scheduling: the encoding, explanations, decision checking, and agreement with the
model's own filter functions."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubeprop.model.api.core import Node, NodeSpec, NodeStatus, Taint
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import (
    Affinity,
    Container,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodSpec,
    ResourceRequirements,
    Toleration,
    TopologySpreadConstraint,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import NodeInfo, build_node_infos, pod_key, schedule_one
from kubeprop.model.scheduler.framework import DEFAULT_PROFILE, run_filters
from kubeprop.properties.cli.schedule import run_schedule
from kubeprop.properties.registry import first_violation, select
from kubeprop.properties.scheduler_decisions import (
    Problem,
    SchedulingSolver,
    binding_violation,
    explain_core,
    unschedulable_violation,
)
from kubeprop.properties.scheduling import solver as solver_module
from kubeprop.properties.scheduling.encode import EncodingTooLarge, encode
from kubeprop.properties.scheduling.solver import build_budget
from kubeprop.properties.scheduling.workloads import desired_pods, greedy

HOST, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
VARIANTS = Path(__file__).parents[2] / "model" / "data" / "variants"


def node(name: str, zone: str = "a", cpu: str = "2", mem: str = "4Gi", pods: str = "110",
         labels: Mapping[str, str] | None = None, taints: Sequence[Taint] = ()) -> Node:
    alloc = {"cpu": Quantity.parse(cpu), "memory": Quantity.parse(mem), "pods": Quantity.parse(pods)}
    return Node(metadata=ObjectMeta(name=name, labels={HOST: name, ZONE: zone, **(labels or {})}),
                spec=NodeSpec(taints=tuple(taints)), status=NodeStatus(allocatable=alloc))


def pod(name: str, cpu: str = "100m", labels: Mapping[str, str] | None = None, **spec: object) -> Pod:
    requests = {"cpu": Quantity.parse(cpu)}
    container = Container(name="c", resources=ResourceRequirements(requests=requests))
    return Pod(metadata=ObjectMeta(name=name, namespace="default", labels=labels or {}),
               spec=PodSpec(containers=(container,), **spec))  # type: ignore[arg-type]


def spread(*keys: str) -> tuple[TopologySpreadConstraint, ...]:
    sel = LabelSelector(match_labels={"app": "web"})
    return tuple(TopologySpreadConstraint(max_skew=1, topology_key=k, when_unsatisfiable="DoNotSchedule",
                                          label_selector=sel) for k in keys)


# -- the catalogue's spread-unsat case --------------------------------------------------------

def _web(n: int) -> Problem:
    nodes = [node("node-1", "zone-a"), node("node-2", "zone-a"), node("node-3", "zone-b")]
    pods = tuple(pod(f"web-{i}", labels={"app": "web"}, topology_spread_constraints=spread(ZONE, HOST))
                 for i in range(n))
    return Problem(build_node_infos(nodes, ()), pods)


def test_spread_unsat_sixth_replica_names_both_constraints() -> None:
    solver = SchedulingSolver(_web(6))
    outcome = solver.check()
    assert outcome.status == "unsat"
    spreads = sorted(solver.enc.tracks[n].detail for n in outcome.core if solver.enc.tracks[n].kind == "spread")
    assert len(spreads) == 2
    assert "kubernetes.io/hostname maxSkew=1" in spreads[0] and "zone maxSkew=1" in spreads[1]
    text = "\n".join(explain_core(solver.enc, outcome.core))
    assert "6 pod(s) must all be placed" in text and "topology.kubernetes.io/zone maxSkew=1" in text


def test_spread_five_replicas_fit_and_the_filters_agree() -> None:
    problem = _web(5)
    outcome = SchedulingSolver(problem).check()
    assert outcome.status == "sat" and len(outcome.placement) == 5
    _assert_filters_accept(problem, outcome.placement)


# -- FeastFlow ----------------------------------------------------------------------------------

def _feastflow() -> Problem:
    model = build_model(load_scenario())
    state = initial_state(model)
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    desired = desired_pods(state.store, model.api)
    return Problem(build_node_infos(nodes, desired.bound), desired.pending)


def test_feastflow_is_feasible_as_given() -> None:
    problem = _feastflow()
    outcome = SchedulingSolver(problem).check()
    assert outcome.status == "sat"
    assert len(outcome.placement) == 6 and not set(outcome.placement.values()) & {"master-1", "master-2", "master-3"}
    _assert_filters_accept(problem, outcome.placement)


def test_feastflow_without_worker_3_is_infeasible_with_a_cpu_explanation() -> None:
    solver = SchedulingSolver(_feastflow())
    outcome = solver.check(("worker-3",))
    assert outcome.status == "unsat"
    lines = explain_core(solver.enc, outcome.core, frozenset({solver.node_index("worker-3")}))
    text = "\n".join(lines)
    assert "worker-1 has 400m cpu free" in text and "worker-2 has 50m cpu free" in text
    assert "worker-3 is down" in text and "together they need 500m cpu" in text
    assert "master-1, master-2, master-3 excluded: node(s) had untolerated taint(s)" in text
    assert solver.check().status == "sat"  # the same solver, incrementally: worker-3 back


# -- decision checking --------------------------------------------------------------------------

@pytest.mark.parametrize(("variant", "violated"), [("scheduler-ignores-taints", True), ("correct", False)])
def test_scheduler_ignores_taints_is_caught(variant: str, violated: bool) -> None:
    model = build_model(load_scenario(VARIANTS / "tainted.yaml"), variant=variant,
                        parameters={"instantCaches": True})
    state = initial_state(model)
    props = select(["scheduler-decisions-sound"])
    found = None
    for act in settle(model, state).trace:
        state = step(model, state, act)
        found = found or first_violation(model, state, props)
    assert (found is not None) is violated
    if found is not None:
        assert "bound to node worker-a" in found.message and "dedicated=db:NoSchedule" in found.message


def test_feastflow_settles_without_decision_violations_on_lagging_caches() -> None:
    model = build_model(load_scenario(), parameters={"instantCaches": False})
    state = initial_state(model)
    props = select(["scheduler-decisions-sound"])
    for act in settle(model, state).trace:
        state = step(model, state, act)
        assert first_violation(model, state, props) is None


def test_binding_violation_explains_overcommit_with_a_core() -> None:
    infos = build_node_infos([node("n1", cpu="1")], [pod("big", cpu="900m", node_name="n1")])
    message = binding_violation(pod("new", cpu="200m"), "n1", infos)
    assert message is not None and "n1 has 100m cpu free" in message
    assert binding_violation(pod("small", cpu="100m"), "n1", infos) is None


def test_unschedulable_violation_names_a_node_that_fits() -> None:
    infos = build_node_infos([node("n1", cpu="1"), node("n2", cpu="1")], [pod("big", cpu="900m", node_name="n1")])
    assert "n2" in (unschedulable_violation(pod("p", cpu="500m"), infos) or "")
    assert unschedulable_violation(pod("q", cpu="1500m"), infos) is None


def test_anti_affinity_pair_is_kept_apart() -> None:
    term = PodAffinityTerm(label_selector=LabelSelector(match_labels={"app": "db"}), topology_key=HOST)
    anti = Affinity(pod_anti_affinity=PodAffinity(required_during_scheduling_ignored_during_execution=(term,)))
    pods = tuple(pod(f"db-{i}", labels={"app": "db"}, affinity=anti) for i in range(3))
    nodes = build_node_infos([node("n1"), node("n2")], ())
    solver = SchedulingSolver(Problem(nodes, pods))
    outcome = solver.check()
    assert outcome.status == "unsat"
    assert any(solver.enc.tracks[n].kind == "anti" for n in outcome.core)
    two = Problem(nodes, pods[:2])
    placed = SchedulingSolver(two).check()
    assert placed.status == "sat" and len(set(placed.placement.values())) == 2
    _assert_filters_accept(two, placed.placement)


# -- the encoding and the scheduler agree --------------------------------------------------------

def _assert_filters_accept(problem: Problem, placement: Mapping[str, str]) -> None:
    """Every pending pod passes every default filter on its node, the other pods placed."""
    placed = {pod_key(p): attrs.evolve(p, spec=attrs.evolve(p.spec, node_name=placement[pod_key(p)]))
              for p in problem.pending}
    for key, p in placed.items():
        others = [q for k, q in placed.items() if k != key]
        infos = tuple(ni.with_pods(added=[q for q in others if q.spec.node_name == ni.name]) for ni in problem.nodes)
        target = next(ni for ni in infos if ni.name == p.spec.node_name)
        status = run_filters(p, target, infos, DEFAULT_PROFILE)
        assert status is None, f"{key} on {target.name}: {status}"


TAINT = Taint(key="dedicated", value="db", effect="NoSchedule")


@st.composite
def clusters(draw: st.DrawFn) -> Problem:
    nodes = []
    for j in range(draw(st.integers(2, 4))):
        nodes.append(node(f"n{j}", zone=draw(st.sampled_from(["a", "b"])), cpu=f"{draw(st.integers(1, 8)) * 100}m",
                          pods=str(draw(st.integers(1, 4))), labels={"disk": draw(st.sampled_from(["ssd", "hdd"]))},
                          taints=(TAINT,) if draw(st.booleans()) else ()))
    pods = []
    for i in range(draw(st.integers(1, 6))):
        app = draw(st.sampled_from(["web", "db"]))
        spec: dict[str, object] = {}
        if draw(st.booleans()):
            spec["tolerations"] = (Toleration(key="dedicated", operator="Equal", value="db", effect="NoSchedule"),)
        if draw(st.integers(0, 3)) == 0:
            spec["node_selector"] = {"disk": draw(st.sampled_from(["ssd", "hdd"]))}
        if app == "web" and draw(st.booleans()):
            spec["topology_spread_constraints"] = spread(*draw(st.sampled_from([(ZONE,), (HOST,), (ZONE, HOST)])))
        spec.update(_inter_pod(draw))
        pods.append(pod(f"p{i}", cpu=f"{draw(st.integers(0, 4)) * 100}m", labels={"app": app}, **spec))
    bound = [pod(f"b{k}", cpu="0", labels={"app": draw(st.sampled_from(["web", "db"]))},
                 node_name=draw(st.sampled_from([n.metadata.name for n in nodes])), **_inter_pod(draw))
             for k in range(draw(st.sampled_from([0, 0, 1, 2])))]
    return Problem(build_node_infos(nodes, bound), tuple(pods))


def _inter_pod(draw: st.DrawFn) -> dict[str, object]:
    """Mostly nothing; else required pod affinity and/or anti-affinity terms (one or two each) to
    app=web or app=db over hostname or zone."""
    terms = [tuple(_app_term(draw(st.sampled_from(["web", "db"])), draw(st.sampled_from([HOST, ZONE])))
                   for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2])))) for _ in range(2)]
    if not any(terms):
        return {}
    return {"affinity": Affinity(pod_affinity=PodAffinity(terms[0]) if terms[0] else None,
                                 pod_anti_affinity=PodAffinity(terms[1]) if terms[1] else None)}


def _app_term(app: str, key: str) -> PodAffinityTerm:
    return PodAffinityTerm(label_selector=LabelSelector(match_labels={"app": app}), topology_key=key)


def _binding_order(problem: Problem, placement: Mapping[str, str]) -> list[str] | None:
    """An order in which binding each pending pod to its node in `placement` passes every default
    filter over the pods bound before it (upstream judges a pod once, when it is scheduled), or None
    if no order does: a search over the sets of pods already bound."""
    pods = {pod_key(p): attrs.evolve(p, spec=attrs.evolve(p.spec, node_name=placement[pod_key(p)]))
            for p in problem.pending}
    paths: dict[frozenset[str], list[str]] = {frozenset(): []}
    frontier = [frozenset[str]()]
    while frontier:
        done = frontier.pop()
        infos = tuple(ni.with_pods(added=[pods[k] for k in sorted(done) if pods[k].spec.node_name == ni.name])
                      for ni in problem.nodes)
        for key, p in sorted(pods.items()):
            after = done | {key}
            if key in done or after in paths:
                continue
            target = next(ni for ni in infos if ni.name == p.spec.node_name)
            if run_filters(p, target, infos, DEFAULT_PROFILE) is None:
                paths[after] = [*paths[done], key]
                frontier.append(after)
    return paths.get(frozenset(pods))


def _disk_pair() -> Problem:
    """The campaign's counterexample (f3): p0 binds to n0 first; p2, whose nodeSelector leaves n0 its
    only spread domain (nodeAffinityPolicy Honor), joins it; p1 takes n1's one pod slot."""
    nodes = [node("n0", cpu="100m", pods="2", labels={"disk": "ssd"}),
             node("n1", cpu="100m", pods="1", labels={"disk": "hdd"})]
    pods = (pod("p0", cpu="0", labels={"app": "web"}, topology_spread_constraints=spread(HOST)),
            pod("p1", cpu="0", labels={"app": "db"}, node_selector={"disk": "hdd"}),
            pod("p2", cpu="0", labels={"app": "web"}, node_selector={"disk": "ssd"},
                topology_spread_constraints=spread(HOST)))
    return Problem(build_node_infos(nodes, ()), pods)


def test_a_pod_judged_before_its_neighbour_arrived_is_placeable() -> None:
    """Over the final counts p0 sees n0 with 2 against n1's 0 and Z3 said unsat; upstream judged p0
    when n0 was empty. The binding-order encoding finds the scheduler's placement."""
    problem = _disk_pair()
    assert not greedy(problem.nodes, problem.pending).pending
    outcome = SchedulingSolver(problem).check()
    assert outcome.status == "sat"
    assert dict(outcome.placement) == {"default/p0": "n0", "default/p1": "n1", "default/p2": "n0"}
    order = _binding_order(problem, outcome.placement)
    assert order is not None and order.index("default/p0") < order.index("default/p2")  # p2 first blocks p0


def test_zone_and_hostname_counts_no_binding_order_reaches_are_unsat() -> None:
    """n1, n2, n3 (zone a) one each and n4 (zone b) two passes both skews over the final counts, but
    the second pod on n4 needs all three of zone a's nodes filled first, and the third of zone a
    needed n4's second: no order binds all five (the scheduler stops at three)."""
    nodes = [node("n1"), node("n2"), node("n3"), node("n4", zone="b")]
    pods = tuple(pod(f"w{i}", labels={"app": "web"}, topology_spread_constraints=spread(ZONE, HOST)) for i in range(5))
    problem = Problem(build_node_infos(nodes, ()), pods)
    final_counts = {"default/w0": "n1", "default/w1": "n2", "default/w2": "n3", "default/w3": "n4", "default/w4": "n4"}
    assert _binding_order(problem, final_counts) is None
    assert len(greedy(problem.nodes, problem.pending).pending) == 2
    solver = SchedulingSolver(problem)
    outcome = solver.check()
    assert outcome.status == "unsat"
    spreads = sorted(solver.enc.tracks[n].detail for n in outcome.core if solver.enc.tracks[n].kind == "spread")
    assert len(spreads) == 2 and "hostname maxSkew=1" in spreads[0] and "zone maxSkew=1" in spreads[1]
    four = SchedulingSolver(Problem(problem.nodes, pods[:4])).check()
    assert four.status == "unsat"  # three is all any order reaches: n1, n4, n2, then zone a or a host is ahead
    three = Problem(problem.nodes, pods[:3])
    placed = SchedulingSolver(three).check()
    assert placed.status == "sat" and _binding_order(three, placed.placement) is not None


def _series(*pods: Pod, cpu: str = "100m", nodes: int = 2) -> Problem:
    return Problem(build_node_infos([node(f"n{j}", cpu=cpu) for j in range(nodes)], ()), pods)


TOGETHER = Affinity(pod_affinity=PodAffinity((_app_term("web", HOST),)))


def test_the_first_of_an_affinity_series_goes_anywhere() -> None:
    """a (app=web, affinity to app=web over hostname) and b (app=web) on two nodes with room for one
    pod each: upstream binds a first (no web pod anywhere yet: satisfyPodAffinity's first of a
    series) and b beside nothing; over the final placement a lacked a web pod beside it (unsat)."""
    problem = _series(pod("a", labels={"app": "web"}, affinity=TOGETHER), pod("b", labels={"app": "web"}))
    assert not greedy(problem.nodes, problem.pending).pending
    outcome = SchedulingSolver(problem).check()
    assert outcome.status == "sat" and len(set(outcome.placement.values())) == 2
    assert _binding_order(problem, outcome.placement) == ["default/a", "default/b"]  # b first: a has no node


def test_an_affinity_series_binds_onto_the_first_pods_domain() -> None:
    """Four replicas with affinity to themselves over hostname, two nodes with room for two each:
    two beside two passes over the final placement, but every pod after the first must join a node
    already holding one. Room for four on one node: all four there."""
    replicas = tuple(pod(f"w{i}", labels={"app": "web"}, affinity=TOGETHER) for i in range(4))
    tight = _series(*replicas, cpu="200m")
    assert _binding_order(tight, dict.fromkeys((pod_key(p) for p in replicas[:2]), "n0")
                          | dict.fromkeys((pod_key(p) for p in replicas[2:]), "n1")) is None
    assert len(greedy(tight.nodes, tight.pending).pending) == 2
    solver = SchedulingSolver(tight)
    outcome = solver.check()
    assert outcome.status == "unsat" and any(solver.enc.tracks[n].kind == "affinity" for n in outcome.core)
    roomy = _series(*replicas, cpu="400m")
    placed = SchedulingSolver(roomy).check()
    assert placed.status == "sat" and len(set(placed.placement.values())) == 1
    assert _binding_order(roomy, placed.placement) is not None


def test_two_pods_each_needing_the_other_are_never_bound() -> None:
    """x (app=x, affinity to app=y) and y (app=y, affinity to app=x): neither matches its own term,
    so neither may be first; together they satisfy each other only over the final placement."""
    def wants(app: str) -> Affinity:
        return Affinity(pod_affinity=PodAffinity((_app_term(app, HOST),)))
    x, y = pod("x", labels={"app": "x"}, affinity=wants("y")), pod("y", labels={"app": "y"}, affinity=wants("x"))
    problem = _series(x, y, cpu="200m")  # room for both on one node
    assert len(greedy(problem.nodes, problem.pending).pending) == 2
    assert SchedulingSolver(problem).check().status == "unsat"
    assert SchedulingSolver(Problem(problem.nodes, problem.pending[:1])).check().status == "unsat"


def test_a_matching_pod_on_a_node_without_the_key_does_not_count() -> None:
    """upstream's affinityCounts only count pods on nodes carrying the term's key: a web pod bound to
    a node without a zone leaves a (affinity to app=web over zone, matching itself) the first of its
    series, free to go anywhere."""
    edge = node("edge")
    edge = attrs.evolve(edge, metadata=attrs.evolve(edge.metadata, labels=FrozenMap({HOST: "edge"})))
    bound = pod("old", labels={"app": "web"}, node_name="edge")
    zonal = Affinity(pod_affinity=PodAffinity((_app_term("web", ZONE),)))
    problem = Problem(build_node_infos([edge, node("n0")], [bound]), (pod("a", labels={"app": "web"}, affinity=zonal),))
    assert not greedy(problem.nodes, problem.pending).pending
    outcome = SchedulingSolver(problem).check()
    assert outcome.status == "sat" and dict(outcome.placement) == {"default/a": "n0"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
@example(_disk_pair())
@example(_series(pod("a", labels={"app": "web"}, affinity=TOGETHER), pod("b", labels={"app": "web"})))
def test_encoding_and_scheduler_agree(problem: Problem) -> None:
    """Z3's placements are bound, in some order, with every filter passing; the scheduler's bindings
    are feasible for Z3; a pod the scheduler cannot place, Z3 cannot place either; a full greedy
    placement means sat."""
    outcome = SchedulingSolver(problem).check(minimise=False)
    if outcome.status == "sat":
        assert _binding_order(problem, outcome.placement) is not None, dict(outcome.placement)
    infos: list[NodeInfo] = list(problem.nodes)
    for p in sorted(problem.pending, key=pod_key):
        result = schedule_one(p, infos, DEFAULT_PROFILE)
        if not result.best:
            assert unschedulable_violation(p, tuple(infos)) is None, f"{pod_key(p)}: {result.message}"
            continue
        chosen = result.best[0]
        assert binding_violation(p, chosen, tuple(infos)) is None, f"{pod_key(p)} -> {chosen}"
        bound = attrs.evolve(p, spec=attrs.evolve(p.spec, node_name=chosen))
        infos = [ni.with_pods(added=[bound]) if ni.name == chosen else ni for ni in infos]
    if not greedy(problem.nodes, problem.pending).pending:
        assert outcome.status == "sat"  # the scheduler's own placement is a witness


def test_a_taint_added_after_the_binding_is_not_the_schedulers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 campaign: the headroom rule taints worker-1 (NoSchedule, no timeAdded, as upstream
    writes it) in the same tick as, and after, the bindings that filled it; neither binding property
    may blame the scheduler for it. The variant binding onto a node tainted before is still caught
    (test_scheduler_ignores_taints_is_caught)."""
    data = Path(__file__).resolve().parents[2] / "model" / "data" / "environment"
    monkeypatch.syspath_prepend(str(data))
    model = build_model(load_scenario(data / "headroom.yaml"))
    state = initial_state(model)
    props = select(["scheduler-decisions-sound", "bindings-respect-hard-constraints"])
    trace = settle(model, state, max_steps=2000).trace
    assert any(type(a).__name__ == "EnvironmentRule" for a in trace)
    for act in trace:
        state = step(model, state, act)
        assert first_violation(model, state, props) is None, act


# -- scale: the build budget, the packing proposal, the minimisation budget (issue 17) ------------

def _fleet(pods: int, nodes: int, **spec: object) -> Problem:
    infos = build_node_infos([node(f"n{j:02d}", zone="a", cpu="1") for j in range(nodes)], ())
    return Problem(infos, tuple(pod(f"p-{i:03d}", cpu="150m", labels={"app": "web"}, **spec) for i in range(pods)))


def test_the_build_stops_at_its_budget() -> None:
    problem = _fleet(40, 10)
    with pytest.raises(EncodingTooLarge, match="more than 100 units"):
        encode(problem, max_work=100)
    assert encode(problem, max_work=10_000).work <= 10_000
    assert build_budget(1) == 100_000 and build_budget(50_000_000) == 5_000_000


def test_a_packing_proposal_answers_sat_without_the_complete_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_module, "PROPOSE_ABOVE", 0)
    problem = _fleet(40, 10)  # 6 pods of 150m fit a 1-cpu node: 60 slots for 40 pods
    solver = SchedulingSolver(problem)
    outcome = solver.check()
    assert outcome.status == "sat" and len(outcome.placement) == 40 and solver._full is None
    _assert_filters_accept(problem, outcome.placement)
    lost = solver.check(("n03",), placement=True)  # a what-if: the packing repaired
    assert lost.status == "sat" and "n03" not in lost.placement.values() and solver._full is None
    assert solver.check(("n03",), placement=False).placement == FrozenMap()


def test_a_proposal_the_constraints_reject_falls_back_to_the_complete_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_module, "PROPOSE_ABOVE", 0)
    term = PodAffinityTerm(label_selector=LabelSelector(match_labels={"app": "web"}), topology_key=HOST)
    together = Affinity(pod_affinity=PodAffinity(required_during_scheduling_ignored_during_execution=(term,)))
    problem = _fleet(4, 3, affinity=together)  # the packing spreads the pods; affinity wants them together
    solver = SchedulingSolver(problem)
    outcome = solver.check()
    assert outcome.status == "sat" and solver._full is not None
    per_node = [list(outcome.placement.values()).count(n) for n in set(outcome.placement.values())]
    assert min(per_node) >= 2  # every pod has another one of its kind on its node
    _assert_filters_accept(problem, outcome.placement)
    assert solver.check(("n00", "n01", "n02")).status == "unsat"


def test_minimisation_stops_at_the_budget_and_says_so() -> None:
    problem = _fleet(30, 2)  # 12 slots for 30 pods: a core of many pods
    big = SchedulingSolver(problem).check(minimise=False)
    assert big.status == "unsat"
    tight = SchedulingSolver(problem, rlimit=2 * big.spent).check()
    full = SchedulingSolver(problem).check()
    assert tight.status == "unsat" and not tight.minimal and set(tight.core) >= set(full.core)
    assert full.minimal and len([n for n in full.core if n.startswith("place")]) == 13  # 12 slots, 13 pods


def test_a_large_scale_is_bounded_by_the_budget() -> None:
    """A huge --scale with a small budget: unknown (exit 3) for the build budget, before any pod is built."""
    out, err = io.StringIO(), io.StringIO()
    code = run_schedule(None, ["feastflow-backend=99000"], 0, [], 1000, out, err)
    assert (code, err.getvalue()) == (3, "")
    assert "past the build budget of --rlimit 1000: 100,000 units of work" in out.getvalue()


def test_a_scale_within_the_pair_bound_can_still_exceed_the_build_budget() -> None:
    """Pairs within the budget but terms beyond it: the encoder's own bound answers unknown."""
    out, err = io.StringIO(), io.StringIO()
    code = run_schedule(None, ["feastflow-backend=5000"], 0, [], 1000, out, err)
    assert code == 3 and "UNKNOWN as given" in out.getvalue() and "units of work" in out.getvalue()


def test_a_node_overcommitted_by_bound_pods_only_refuses_new_ones() -> None:
    """Bound pods may exceed a node's allocatable (spec.nodeName skips the scheduler): no pending pod
    fits there (fit.go), but the node does not make the whole problem infeasible."""
    nodes = [node("n0", pods="1"), node("n1", pods="2")]
    bound = [pod("b0", node_name="n0"), pod("b1", node_name="n0")]
    problem = Problem(build_node_infos(nodes, bound), (pod("p0"), pod("p1")))
    assert not greedy(problem.nodes, problem.pending).pending
    outcome = SchedulingSolver(problem).check()
    assert outcome.status == "sat" and set(outcome.placement.values()) == {"n1"}
    assert SchedulingSolver(Problem(problem.nodes, (*problem.pending, pod("p2")))).check().status == "unsat"
