"""InterPodAffinity's namespaceSelector reads the namespaces' labels from the scheduler's namespace
informer (`pkg/scheduler/framework/plugins/interpodaffinity/plugin.go`
mergeAffinityTermNamespacesIfNotEmpty, GetNamespaceLabelsSnapshot; `filtering.go`, `scoring.go`).
audit22b F2: the model evaluated every namespaceSelector against `kubernetes.io/metadata.name`
alone, so a selector on a team label matched no pod (a false alarm: web refused everywhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from cluster_harness import settled

from kubeprop.model.api.core import Node, NodeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import (
    Affinity,
    Container,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodSpec,
    ResourceRequirements,
    WeightedPodAffinityTerm,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector, LabelSelectorRequirement
from kubeprop.model.cluster import actions, step
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.informers import watched
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler import component
from kubeprop.model.scheduler.decide import SchedulerProfile, build_node_infos, node_scores, schedule_one
from kubeprop.properties.convergence import schedulable_pods_bound
from kubeprop.properties.scheduler_decisions import scheduler_decisions_sound

HOST = "kubernetes.io/hostname"
DATA = Path(__file__).parents[2] / "properties" / "scheduling" / "data" / "affinity"
TEAM_A = LabelSelector({"team": "a"})


def _labels(**namespaces: dict[str, str]) -> FrozenMap[str, FrozenMap[str, str]]:
    return FrozenMap({n: FrozenMap({"kubernetes.io/metadata.name": n, **labels}) for n, labels in namespaces.items()})


NAMESPACES = _labels(default={}, data={"team": "a"}, other={"team": "b"})
PROFILE = SchedulerProfile(namespace_labels=NAMESPACES)


def node(name: str) -> Node:
    alloc = {k: Quantity.parse(v) for k, v in (("cpu", "1"), ("memory", "1Gi"), ("pods", "110"))}
    return Node(metadata=ObjectMeta(name=name, labels={HOST: name}), status=NodeStatus(allocatable=alloc))


def pod(name: str, labels: dict[str, str], node_name: str = "", **spec: Any) -> Pod:
    container = Container(name="c", resources=ResourceRequirements(requests={"cpu": Quantity.parse("10m")}))
    return Pod(metadata=ObjectMeta(name=name, namespace="default", labels=labels),
               spec=PodSpec(containers=(container,), node_name=node_name, **spec))


def _in(namespace: str, p: Pod) -> Pod:
    return attrs.evolve(p, metadata=attrs.evolve(p.metadata, namespace=namespace))


def _db(namespace: str, where: str) -> Pod:
    return _in(namespace, pod(f"db-{namespace}", {"app": "db"}, node_name=where))


def _web(term: PodAffinityTerm, anti: bool = False) -> Pod:
    spec = PodAffinity((term,))
    affinity = Affinity(pod_anti_affinity=spec) if anti else Affinity(pod_affinity=spec)
    return pod("web", {"app": "web"}, affinity=affinity)


def _term(namespace_selector: LabelSelector | None = TEAM_A) -> PodAffinityTerm:
    return PodAffinityTerm(label_selector=LabelSelector({"app": "db"}), topology_key=HOST,
                           namespace_selector=namespace_selector)


def test_affinity_selects_namespaces_by_their_labels() -> None:
    """The audit's case: db in namespace `data` (team=a) attracts web."""
    infos = build_node_infos([node("a"), node("b")], [_db("data", "a")])
    assert schedule_one(_web(_term()), infos, PROFILE).best == ("a",)
    # Namespace `other` is team=b: its db does not count.
    infos = build_node_infos([node("a"), node("b")], [_db("other", "a")])
    result = schedule_one(_web(_term()), infos, PROFILE)
    assert result.best == () and "didn't match pod affinity rules" in result.message


def test_a_namespace_the_lister_lacks_is_not_selected() -> None:
    """mergeAffinityTermNamespacesIfNotEmpty lists the informer's namespaces: a pod in one it does
    not hold is not matched, even by a selector its labels would not contradict."""
    absent = _labels(default={})
    term = _term(LabelSelector(match_expressions=(LabelSelectorRequirement("team", "NotIn", ("b",)),)))
    infos = build_node_infos([node("a"), node("b")], [_db("data", "a")])
    assert schedule_one(_web(term), infos, SchedulerProfile(namespace_labels=absent)).best == ()
    assert schedule_one(_web(term), infos, PROFILE).best == ("a",)


def test_empty_namespace_selector_selects_every_namespace() -> None:
    """An empty selector is kept as "every namespace" (labels.Everything().Empty())."""
    infos = build_node_infos([node("a"), node("b")], [_db("other", "b")])
    assert schedule_one(_web(_term(LabelSelector())), infos, PROFILE).best == ("b",)


def test_existing_pods_anti_affinity_reads_the_incoming_pods_namespace() -> None:
    """getExistingAntiAffinityCounts: an existing pod's term is matched against the incoming pod
    with the labels of the incoming pod's namespace."""
    guard = _in("data", pod("guard", {"app": "guard"}, node_name="a",
                            affinity=Affinity(pod_anti_affinity=PodAffinity((
                                PodAffinityTerm(label_selector=LabelSelector({"app": "web"}), topology_key=HOST,
                                                namespace_selector=LabelSelector({"team": "b"})),)))))
    infos = build_node_infos([node("a"), node("b")], [guard])
    incoming = _in("other", pod("web", {"app": "web"}))
    result = schedule_one(incoming, infos, PROFILE)
    assert result.best == ("b",)
    assert result.filter_reasons == {"a": "node(s) didn't satisfy existing pods anti-affinity rules"}
    assert schedule_one(pod("web", {"app": "web"}), infos, PROFILE).feasible == ("a", "b")  # default: no team


def test_preferred_terms_score_by_namespace_labels() -> None:
    """PreScore merges the incoming pod's preferred terms the same way."""
    weighted = (WeightedPodAffinityTerm(10, _term()),)
    preferred = PodAffinity(preferred_during_scheduling_ignored_during_execution=weighted)
    web = pod("web", {"app": "web"}, affinity=Affinity(pod_affinity=preferred))
    infos = build_node_infos([node("a"), node("b")], [_db("data", "a"), _db("other", "b")])
    scores = node_scores(web, list(infos), infos, PROFILE)["InterPodAffinity"]
    assert scores == {"a": 200, "b": 0}


def test_without_a_view_the_pods_namespaces_stand_for_themselves() -> None:
    """No namespace view given (None): each pod's namespace with `kubernetes.io/metadata.name` only."""
    infos = build_node_infos([node("a"), node("b")], [_db("data", "a")])
    by_name = _term(LabelSelector({"kubernetes.io/metadata.name": "data"}))
    assert schedule_one(_web(by_name), infos).best == ("a",)
    assert schedule_one(_web(_term()), infos).best == ()


def test_the_cluster_scheduler_reads_its_namespace_informer() -> None:
    """In the cluster model the scheduler watches namespaces where a pod (template) has a
    namespaceSelector, and its decision reads their labels: web goes next to db."""
    model = build_model(load_scenario(DATA / "namespace-selector.yaml"), parameters={"instantCaches": True})
    assert "namespaces" in watched(model, "scheduler")
    state = initial_state(model)
    plain = build_model(load_scenario(DATA / "match-label-keys.yaml"))
    assert "namespaces" not in watched(plain, "scheduler")
    decided = None
    for _ in range(40):  # run until the scheduler has web's pod to decide on
        decided = component.decide(model, state, "scheduler")
        if decided is not None:
            break
        state = step(model, state, actions(model, state)[0])
    assert decided is not None
    pod_, result = decided
    assert pod_.metadata.labels.get("app") == "web" and result.best == ("worker-1",), result.filter_reasons


def test_the_settled_cluster_and_the_scheduler_properties_agree() -> None:
    """The fair run binds web next to db, and neither the scheduler's soundness property nor the
    convergence one (both re-judge with the namespaces' labels) reports anything."""
    model, state = settled(DATA / "namespace-selector.yaml")
    web = [p for p in state.store.list("pods") if p.metadata.labels.get("app") == "web"]
    assert [p.spec.node_name for p in web if isinstance(p, Pod)] == ["worker-1"]
    assert scheduler_decisions_sound(model, state) is None
    assert schedulable_pods_bound(model, state) is None
