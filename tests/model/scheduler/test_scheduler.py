"""Tests for kubeprop.model.scheduler.decide: filters, scores, the FitError message, preemption."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.core import Node, NodeSpec, NodeStatus, Taint
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import (
    Affinity,
    Container,
    ContainerPort,
    NodeAffinity,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodSpec,
    PodStatus,
    PreferredSchedulingTerm,
    ResourceRequirements,
    Toleration,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import (
    LabelSelector,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
)
from kubeprop.model.scheduler.decide import (
    FILTER_ORDER,
    NodeInfo,
    SchedulerProfile,
    build_node_infos,
    feasible_nodes,
    filter_node_resources_fit,
    filter_reason,
    filter_taint_toleration,
    node_scores,
    pick_preemption,
    preemption_candidates,
    schedule_one,
)
from kubeprop.model.scheduler.framework import num_feasible_nodes_to_find
from kubeprop.model.scheduler.nodeinfo import pod_requests

HOST, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"


def node(
    name: str,
    cpu: str = "1",
    mem: str = "1Gi",
    pods: str = "110",
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Taint] = (),
    unschedulable: bool = False,
    extra: Mapping[str, str] | None = None,
) -> Node:
    alloc = {"cpu": cpu, "memory": mem, "pods": pods, **(extra or {})}
    return Node(
        metadata=ObjectMeta(name=name, labels={HOST: name, **(labels or {})}),
        spec=NodeSpec(unschedulable=unschedulable, taints=tuple(taints)),
        status=NodeStatus(allocatable={k: Quantity.parse(v) for k, v in alloc.items()}),
    )


def pod(
    name: str,
    cpu: str | None = None,
    mem: str | None = None,
    labels: Mapping[str, str] | None = None,
    node_name: str = "",
    priority: int | None = None,
    **spec: object,
) -> Pod:
    req = {k: Quantity.parse(v) for k, v in (("cpu", cpu), ("memory", mem)) if v is not None}
    container = Container(name="c", resources=ResourceRequirements(requests=req))
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default", labels=labels or {"app": "backend"}),
        spec=PodSpec(containers=(container,), node_name=node_name, priority=priority, **spec),  # type: ignore[arg-type]
    )


def seed_nodes() -> list[Node]:
    return [node("worker-1", "400m", "512Mi"), node("worker-2", "50m", "512Mi"), node("worker-3", "600m", "1Gi")]


# -- release-dependent rules (docs/release.md) ------------------------------------------------


def test_release_parameters_shape_the_profile() -> None:
    """The v1.33 defaults, and the older rules the parameters restore: v1.32's BalancedAllocation
    scores a best-effort pod (v1.33 skips it, kubernetes#129138), v1.25-v1.32 name the taint."""
    from kubeprop.model.frozen import FrozenMap
    from kubeprop.model.scenario.schema import PARAMETERS
    from kubeprop.model.scheduler.component import profile_for

    v133 = profile_for(FrozenMap(PARAMETERS))
    assert (v133.taint_detail, v133.dra_enabled, v133.balanced_skips_best_effort) == (False, False, True)
    v132 = profile_for(FrozenMap({**PARAMETERS, "schedulerTaintReasonDetail": True,
                                  "schedulerBalancedSkipsBestEffort": False}))
    assert v132.taint_detail and not v132.balanced_skips_best_effort
    assert profile_for(FrozenMap({**PARAMETERS, "schedulerDynamicResources": True})).dra_enabled
    nis = build_node_infos([node("a", "1", "1Gi"), node("b", "1", "2Gi")], [pod("x", "500m", "100Mi", node_name="a")])
    best_effort = pod("be")
    assert set(node_scores(best_effort, nis, nis, v133)["NodeResourcesBalancedAllocation"].values()) == {0}
    # a: cpu 0.5, memory 100Mi/1Gi ≈ 0.098 → std 0.201 → 79; b: nothing requested → 100
    assert node_scores(best_effort, nis, nis, v132)["NodeResourcesBalancedAllocation"] == {"a": 79, "b": 100}


# -- the seed example -------------------------------------------------------------------------


def test_seed_example_scores_and_best_node() -> None:
    nis = build_node_infos(seed_nodes(), [])
    backend = pod("backend", "100m", "128Mi")
    result = schedule_one(backend, nis)
    assert result.feasible == ("worker-1", "worker-3")
    assert result.filter_reasons == {"worker-2": "Insufficient cpu"}
    # LeastAllocated: worker-1 cpu 300*100/400 = 75, mem 384Mi*100/512Mi = 75 -> 75;
    #                 worker-3 cpu 500*100/600 = 83, mem 896*100/1024 = 87 -> (83+87)/2 = 85.
    # Balanced:       worker-1 |0.25-0.25|/2 = 0 -> 100; worker-3 |1/6-1/8|/2 = 0.0208 -> 97.
    # TaintToleration: no taints -> 100 (reversed) * 3 everywhere; all other plugins 0.
    per = node_scores(backend, [ni for ni in nis if ni.name != "worker-2"], nis)
    assert per["NodeResourcesFit"] == {"worker-1": 75, "worker-3": 85}
    assert per["NodeResourcesBalancedAllocation"] == {"worker-1": 100, "worker-3": 97}
    assert per["TaintToleration"] == {"worker-1": 300, "worker-3": 300}
    assert result.scores == {"worker-1": 475, "worker-3": 482}
    assert result.best == ("worker-3",)
    assert result.scheduled and result.message == ""


def test_fits_nowhere_message_and_preemption_not_helpful() -> None:
    nis = build_node_infos(seed_nodes(), [])
    result = schedule_one(pod("huge", "700m", "128Mi"), nis)
    assert not result.scheduled and result.best == ()
    assert result.message == (
        "0/3 nodes are available: 3 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )


def test_fit_error_histogram_is_sorted_as_strings() -> None:
    nodes = [
        node("worker-1", "400m", "512Mi"),
        node("worker-2", "1", "1Gi", taints=[Taint("dedicated", "gpu", "NoSchedule")]),
        node("worker-3", "600m", "1Gi"),
    ]
    running = [pod("a", "300m", node_name="worker-1"), pod("b", "500m", node_name="worker-3")]
    nis = build_node_infos(nodes, running)
    result = schedule_one(pod("new", "200m"), nis)
    assert result.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod."
    )
    detailed = schedule_one(pod("new", "200m"), nis, SchedulerProfile(taint_detail=True, preemption=False))
    assert detailed.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."
    )
    dra = schedule_one(pod("new", "200m"), nis, SchedulerProfile(dra_enabled=True, preemption=False))
    assert dra.message.endswith("2 Insufficient cpu. no new claims to deallocate")


def test_all_fit_reasons_are_kept() -> None:
    n = node("n1", "100m", "64Mi", pods="1", extra={"example.com/gpu": "1"})
    nis = build_node_infos([n], [pod("busy", node_name="n1")])
    gpu_pod = attrs.evolve(
        pod("p", "200m", "128Mi"),
        spec=PodSpec(
            containers=(
                Container(
                    name="c",
                    resources=ResourceRequirements(
                        requests={k: Quantity.parse(v) for k, v in {"cpu": "200m", "example.com/gpu": "2"}.items()}
                    ),
                ),
            )
        ),
    )
    assert filter_node_resources_fit(gpu_pod, nis[0]) == "Too many pods, Insufficient cpu, Insufficient example.com/gpu"


def test_pod_requests_init_containers_sidecars_and_overhead() -> None:
    def c(cpu: str, restart: str = "") -> Container:
        reqs = ResourceRequirements(requests={"cpu": Quantity.parse(cpu)})
        return Container(name=cpu, restart_policy=restart, resources=reqs)

    spec = PodSpec(
        containers=(c("100m"), c("200m")),
        init_containers=(c("500m"), c("50m", "Always"), c("400m")),
        overhead={"cpu": Quantity.parse("10m")},
    )
    # app 300m + sidecar 50m = 350m; init max(500m, 50m, 400m + 50m) = 500m; + 10m overhead.
    assert pod_requests(Pod(spec=spec))["cpu"] == 510
    # Non-zero defaults only for missing requests (memory here): 200Mi per container.
    assert pod_requests(Pod(spec=spec), non_zero=True)["memory"] == 2 * 200 * 1024 * 1024 + 200 * 1024 * 1024


# -- taints and tolerations ---------------------------------------------------------------------


def _tolerating(p: Pod, tol: Toleration) -> Pod:
    return attrs.evolve(p, spec=attrs.evolve(p.spec, tolerations=(tol,)))


def test_taints_and_tolerations() -> None:
    tainted = node("t", taints=[Taint("dedicated", "gpu", "NoSchedule")])
    nis = build_node_infos([tainted], [])
    plain = pod("p", "10m")
    assert filter_taint_toleration(plain, nis[0]) == "node(s) had untolerated taint(s)"
    for tol in (
        Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule"),
        Toleration(key="dedicated", operator="Exists"),
        Toleration(operator="Exists"),
    ):
        assert filter_taint_toleration(_tolerating(plain, tol), nis[0]) is None
    wrong = Toleration(key="dedicated", operator="Equal", value="cpu", effect="NoSchedule")
    assert filter_taint_toleration(_tolerating(plain, wrong), nis[0])


def test_prefer_no_schedule_lowers_the_score() -> None:
    nodes = [node("a", taints=[Taint("x", "y", "PreferNoSchedule")]), node("b")]
    result = schedule_one(pod("p", "100m", "100Mi"), build_node_infos(nodes, []))
    assert result.feasible == ("a", "b")
    assert result.scores["b"] - result.scores["a"] == 300
    assert result.best == ("b",)


def test_disabling_taint_toleration_admits_tainted_node() -> None:
    nodes = [node("tainted", taints=[Taint("dedicated", "gpu", "NoSchedule")])]
    nis = build_node_infos(nodes, [])
    assert not schedule_one(pod("p", "10m"), nis).scheduled
    profile = SchedulerProfile(disabled_filters=frozenset({"TaintToleration"}))
    assert schedule_one(pod("p", "10m"), nis, profile).best == ("tainted",)


def test_cordoned_node() -> None:
    nis = build_node_infos([node("n", unschedulable=True)], [])
    result = schedule_one(pod("p", "10m"), nis)
    assert result.filter_reasons == {"n": "node(s) were unschedulable"}


# -- node affinity ------------------------------------------------------------------------------


def _zone_term(*zones: str) -> NodeSelectorTerm:
    return NodeSelectorTerm(match_expressions=(NodeSelectorRequirement(ZONE, "In", zones),))


def test_node_affinity_required_and_preferred() -> None:
    nodes = [node("a", labels={ZONE: "z1"}), node("b", labels={ZONE: "z2"}), node("c", labels={ZONE: "z3"})]
    nis = build_node_infos(nodes, [])
    required = Affinity(node_affinity=NodeAffinity(NodeSelector((_zone_term("z1", "z2"),))))
    p = pod("p", "10m", affinity=required)
    result = schedule_one(p, nis)
    assert result.feasible == ("a", "b")
    assert result.filter_reasons == {"c": "node(s) didn't match Pod's node affinity/selector"}
    preferred = Affinity(
        node_affinity=NodeAffinity(
            NodeSelector((_zone_term("z1", "z2"),)),
            (PreferredSchedulingTerm(10, _zone_term("z2")), PreferredSchedulingTerm(5, _zone_term("z1", "z2"))),
        )
    )
    scored = schedule_one(pod("q", "10m", affinity=preferred), nis)
    # raw a=5, b=15 -> normalised 33, 100 -> x2.
    assert scored.scores["b"] - scored.scores["a"] == (100 - 33) * 2
    assert scored.best == ("b",)
    selector_pod = pod("s", "10m", node_selector={ZONE: "z3"})
    assert schedule_one(selector_pod, nis).best == ("c",)


def test_daemonset_style_match_fields_prefilter() -> None:
    nis = build_node_infos([node("a", "100m"), node("b"), node("c")], [])
    term = NodeSelectorTerm(match_fields=(NodeSelectorRequirement("metadata.name", "In", ("a",)),))
    ds_pod = pod("ds", "200m", affinity=Affinity(node_affinity=NodeAffinity(NodeSelector((term,)))))
    result = schedule_one(ds_pod, nis, SchedulerProfile(preemption=False))
    assert result.message == (
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    )


# -- inter-pod affinity -------------------------------------------------------------------------


def _web_term(key: str = HOST) -> PodAffinityTerm:
    return PodAffinityTerm(label_selector=LabelSelector({"app": "web"}), topology_key=key)


def test_inter_pod_anti_affinity_by_hostname() -> None:
    nodes = [node("a"), node("b")]
    existing = pod("web-0", "10m", labels={"app": "web"}, node_name="a")
    nis = build_node_infos(nodes, [existing])
    anti = Affinity(pod_anti_affinity=PodAffinity((_web_term(),)))
    result = schedule_one(pod("web-1", "10m", labels={"app": "web"}, affinity=anti), nis)
    assert result.best == ("b",)
    assert result.filter_reasons == {"a": "node(s) didn't match pod anti-affinity rules"}
    # The existing pod's anti-affinity also repels a new pod without rules of its own.
    guarded = attrs.evolve(existing, spec=attrs.evolve(existing.spec, affinity=anti))
    nis2 = build_node_infos(nodes, [guarded])
    result2 = schedule_one(pod("plain", "10m", labels={"app": "web"}), nis2)
    assert result2.filter_reasons == {"a": "node(s) didn't satisfy existing pods anti-affinity rules"}


def test_inter_pod_affinity_first_pod_and_co_location() -> None:
    nodes = [node("a", labels={ZONE: "z1"}), node("b", labels={ZONE: "z2"})]
    aff = Affinity(pod_affinity=PodAffinity((_web_term(ZONE),)))
    first = pod("web-0", "10m", labels={"app": "web"}, affinity=aff)
    assert schedule_one(first, build_node_infos(nodes, [])).best == ("a", "b")
    other = pod("db", "10m", labels={"app": "db"}, affinity=aff)
    result = schedule_one(other, build_node_infos(nodes, [pod("w", labels={"app": "web"}, node_name="b")]))
    assert result.best == ("b",)
    assert result.filter_reasons == {"a": "node(s) didn't match pod affinity rules"}


def test_preferred_inter_pod_affinity_scores() -> None:
    nodes = [node("a"), node("b"), node("c")]
    running = [pod("w", labels={"app": "web"}, node_name="a"), pod("x", labels={"app": "web"}, node_name="c")]
    pref = PodAffinity(preferred_during_scheduling_ignored_during_execution=(WeightedPodAffinityTerm(10, _web_term()),))
    anti = Affinity(pod_anti_affinity=pref)
    nis = build_node_infos(nodes, running)
    per = node_scores(pod("p", "10m", affinity=anti), list(nis), nis)
    # raw a=-10, b=0, c=-10 -> min-max -> a=0, b=100, c=0; weight 2.
    assert per["InterPodAffinity"] == {"a": 0, "b": 200, "c": 0}


# -- topology spread ----------------------------------------------------------------------------


def _spread(key: str, skew: int = 1, when: str = "DoNotSchedule") -> TopologySpreadConstraint:
    return TopologySpreadConstraint(skew, key, when, LabelSelector({"app": "web"}))


def _zoned_nodes() -> list[Node]:
    return [node("n1", labels={ZONE: "a"}), node("n2", labels={ZONE: "a"}), node("n3", labels={ZONE: "b"})]


def _replica(i: int, where: str = "", constraints: Sequence[TopologySpreadConstraint] = ()) -> Pod:
    spread = tuple(constraints)
    return pod(f"web-{i}", "10m", labels={"app": "web"}, node_name=where, topology_spread_constraints=spread)


def test_topology_spread_zone_max_skew() -> None:
    nis = build_node_infos(_zoned_nodes(), [_replica(0, "n1")])
    result = schedule_one(_replica(1, constraints=[_spread(ZONE)]), nis)
    assert result.best == ("n3",)
    reason = "node(s) didn't match pod topology spread constraints"
    assert result.filter_reasons == {"n1": reason, "n2": reason}


def test_topology_spread_missing_label_is_unresolvable() -> None:
    nodes = [*_zoned_nodes(), node("bare")]
    result = schedule_one(_replica(0, constraints=[_spread(ZONE)]), build_node_infos(nodes, []))
    missing = "node(s) didn't match pod topology spread constraints (missing required label)"
    assert result.filter_reasons == {"bare": missing}
    assert result.statuses["bare"].unresolvable


def test_sixth_replica_unschedulable_with_two_constraints_kubernetes_109364() -> None:
    both = [_spread(ZONE), _spread(HOST)]
    placed = ["n1", "n3", "n2", "n3", "n1"]  # ends zone a: 3, zone b: 2; hosts 2/1/2; every step legal
    for i in range(len(placed)):
        nis = build_node_infos(_zoned_nodes(), [_replica(j, placed[j], both) for j in range(i)])
        assert placed[i] in schedule_one(_replica(i, constraints=both), nis).feasible
    nis = build_node_infos(_zoned_nodes(), [_replica(j, placed[j], both) for j in range(5)])
    result = schedule_one(_replica(5, constraints=both), nis)
    assert result.message == (
        "0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )


def test_schedule_anyway_prefers_the_emptier_zone() -> None:
    nis = build_node_infos(_zoned_nodes(), [_replica(0, "n1"), _replica(1, "n2")])
    result = schedule_one(_replica(2, constraints=[_spread(ZONE, when="ScheduleAnyway")]), nis)
    assert result.best == ("n3",)


def test_min_domains_treats_global_minimum_as_zero() -> None:
    c = attrs.evolve(_spread(ZONE), min_domains=3)
    nis = build_node_infos(_zoned_nodes(), [_replica(0, "n3")])
    # 2 domains < minDomains 3: global min 0, zone b already has 1 -> 1 + 1 - 0 > 1.
    assert schedule_one(_replica(1, constraints=[c]), nis).feasible == ("n1", "n2")


# -- ties, nominated pods, sampling -------------------------------------------------------------


def test_ties_return_every_top_node() -> None:
    nis = build_node_infos([node("b"), node("a"), node("c")], [])
    result = schedule_one(pod("p", "100m", "100Mi"), nis)
    assert result.best == ("a", "b", "c")
    assert len(set(result.scores.values())) == 1


def test_nominated_pod_reserves_room() -> None:
    waiting = attrs.evolve(pod("big", "800m", priority=100), status=PodStatus(nominated_node_name="a"))
    nis = build_node_infos([node("a"), node("b", "500m")], [waiting])
    assert nis[0].nominated == (waiting,)
    result = schedule_one(pod("small", "300m", priority=10), nis)
    assert result.best == ("b",)
    assert result.filter_reasons == {"a": "Insufficient cpu"}


def test_num_feasible_nodes_to_find() -> None:
    assert num_feasible_nodes_to_find(99) == 99
    assert num_feasible_nodes_to_find(1000) == 1000 * 42 // 100
    assert num_feasible_nodes_to_find(200) == 100
    assert num_feasible_nodes_to_find(6000, 0) == 6000 * 5 // 100
    assert num_feasible_nodes_to_find(1000, 100) == 1000


def test_host_port_conflict() -> None:
    def with_port(p: Pod) -> Pod:
        c = attrs.evolve(p.spec.containers[0], ports=(ContainerPort(container_port=80, host_port=8080),))
        return attrs.evolve(p, spec=attrs.evolve(p.spec, containers=(c,)))

    nis = build_node_infos([node("a"), node("b")], [with_port(pod("x", node_name="a"))])
    result = schedule_one(with_port(pod("y", "10m")), nis)
    assert result.best == ("b",)
    assert result.filter_reasons == {"a": "node(s) didn't have free ports for the requested pod ports"}


# -- preemption ---------------------------------------------------------------------------------


def test_preemption_picks_node_with_lowest_priority_victims() -> None:
    running = [
        pod("a-low", "600m", node_name="a", priority=100),
        pod("a-mid", "300m", node_name="a", priority=50),
        pod("b-low", "800m", node_name="b", priority=10),
    ]
    nis = build_node_infos([node("a"), node("b")], running)
    urgent = pod("urgent", "500m", priority=1000)
    candidates = preemption_candidates(urgent, nis)
    assert [(c.node, c.victims) for c in candidates] == [("a", ("default/a-low",)), ("b", ("default/b-low",))]
    chosen = pick_preemption(urgent, nis)
    assert chosen is not None and chosen.node == "b" and chosen.victims == ("default/b-low",)
    result = schedule_one(urgent, nis)
    assert result.preemption == chosen
    assert result.message == "0/2 nodes are available: 2 Insufficient cpu."


def test_preemption_reprieves_victims_that_still_fit() -> None:
    running = [pod("v1", "400m", node_name="a", priority=1), pod("v2", "400m", node_name="a", priority=2)]
    nis = build_node_infos([node("a")], running)
    chosen = pick_preemption(pod("p", "500m", priority=10), nis)
    assert chosen is not None and chosen.victims == ("default/v1",)


def test_preemption_policy_never() -> None:
    nis = build_node_infos([node("a")], [pod("v", "900m", node_name="a", priority=1)])
    never = pod("p", "500m", priority=10, preemption_policy="Never")
    assert preemption_candidates(never, nis) == ()
    assert schedule_one(never, nis).message == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    )


# -- properties ---------------------------------------------------------------------------------

_LABELS = st.fixed_dictionaries(
    {}, optional={ZONE: st.sampled_from(["a", "b"]), "disk": st.sampled_from(["ssd", "hdd"])}
)
_EFFECTS = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])
_TAINTS = st.lists(st.builds(Taint, key=st.sampled_from(["k1", "k2"]), value=st.just("v"), effect=_EFFECTS), max_size=2)
_TOLERATIONS = st.lists(st.builds(Toleration, key=st.sampled_from(["k1", ""]), operator=st.just("Exists")), max_size=1)
_SPREADS = st.lists(
    st.builds(_spread, st.sampled_from([ZONE, HOST]), st.just(1), st.sampled_from(["DoNotSchedule", "ScheduleAnyway"])),
    max_size=2,
)


@st.composite
def _clusters(draw: st.DrawFn) -> tuple[tuple[NodeInfo, ...], Pod]:
    count = draw(st.integers(1, 4))
    nodes = [
        node(f"n{i}", draw(st.sampled_from(["200m", "1", "2"])), draw(st.sampled_from(["256Mi", "1Gi"])),
             pods=draw(st.sampled_from(["1", "3", "110"])), labels=draw(_LABELS), taints=draw(_TAINTS),
             unschedulable=draw(st.booleans()) and draw(st.booleans()))
        for i in range(count)
    ]
    running = [
        pod(f"r{j}", draw(st.sampled_from(["100m", "500m"])), labels={"app": draw(st.sampled_from(["web", "db"]))},
            node_name=f"n{draw(st.integers(0, count - 1))}", priority=draw(st.integers(0, 2)))
        for j in range(draw(st.integers(0, 4)))
    ]
    anti = draw(st.booleans())
    spec: dict[str, object] = {
        "tolerations": tuple(draw(_TOLERATIONS)),
        "topology_spread_constraints": tuple(draw(_SPREADS)),
        "node_selector": draw(st.sampled_from([{}, {"disk": "ssd"}])),
    }
    if anti:
        spec["affinity"] = Affinity(pod_anti_affinity=PodAffinity((_web_term(),)))
    cpu = draw(st.sampled_from([None, "100m", "700m"]))
    incoming = pod("new", cpu, "64Mi", labels={"app": "web"}, priority=1, **spec)  # type: ignore[arg-type]
    return build_node_infos(nodes, running), incoming


@settings(max_examples=60, deadline=None)
@given(_clusters(), st.sets(st.sampled_from(FILTER_ORDER), max_size=2))
def test_best_nodes_pass_every_enabled_filter(
    cluster: tuple[tuple[NodeInfo, ...], Pod], disabled: set[str]
) -> None:
    nis, incoming = cluster
    profile = SchedulerProfile(disabled_filters=frozenset(disabled))
    result = schedule_one(incoming, nis, profile)
    enabled = [f for f in FILTER_ORDER if f not in disabled]
    passing = tuple(
        ni.name for ni in nis if all(filter_reason(f, incoming, ni, nis, profile) is None for f in enabled)
    )
    assert result.feasible == passing == feasible_nodes(incoming, nis, profile)
    assert set(result.best) <= set(result.feasible)
    assert bool(result.best) == bool(result.feasible)
    assert set(result.filter_reasons) == {ni.name for ni in nis} - set(result.feasible)
    if len(result.feasible) > 1:
        assert all(result.scores[b] == max(result.scores.values()) for b in result.best)
    else:
        assert result.scores == {}
