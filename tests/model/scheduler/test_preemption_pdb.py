"""Preemption and PodDisruptionBudgets (trial 5, mismatch M1): victims whose eviction would violate
a PDB are reprieved first, and the node with the fewest PDB violations wins
(`default_preemption.go` SelectVictimsOnNode / filterPodsWithPDBViolation, `preemption.go`
pickOneNodeForPreemption), with the PDBs of the scheduler's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.core import Node, NodeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.policy import PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Preempt, decide
from kubeprop.model.scheduler.decide import NodeInfo, build_node_infos, pick_preemption, preemption_candidates
from kubeprop.model.scheduler.pdbs import RESOURCE, filter_pods_with_pdb_violation
from kubeprop.model.state.cluster import view

SCENARIO = Path(__file__).parents[1] / "data" / "preemption" / "pdb" / "scenario.yaml"


def pod(name: str, node: str = "", priority: int = 100, cpu: str = "800m", app: str = "",
        namespace: str = "default") -> Pod:
    labels = FrozenMap({"app": app}) if app else FrozenMap()
    requests = FrozenMap({"cpu": Quantity.parse(cpu)})
    return Pod(metadata=ObjectMeta(name=name, namespace=namespace, labels=labels),
               spec=PodSpec(containers=(Container(name="c", image="c:1", resources=ResourceRequirements(requests)),),
                            node_name=node, priority=priority))


def pdb(app: str, allowed: int, namespace: str = "default", disrupted: tuple[str, ...] = (),
        selector: LabelSelector | None = None) -> PodDisruptionBudget:
    chosen = selector if selector is not None else LabelSelector(match_labels=FrozenMap({"app": app}))
    return PodDisruptionBudget(
        metadata=ObjectMeta(name=app, namespace=namespace), spec=PodDisruptionBudgetSpec(selector=chosen),
        status=PodDisruptionBudgetStatus(disruptions_allowed=allowed,
                                         disrupted_pods=FrozenMap({n: 0 for n in disrupted})))


def nodes(*pods: Pod, names: tuple[str, ...] = ("n1", "n2")) -> list[NodeInfo]:
    capacity = FrozenMap({"cpu": Quantity.parse("1"), "memory": Quantity.parse("1Gi"), "pods": Quantity.parse("10")})
    return build_node_infos([Node(metadata=ObjectMeta(name=n), status=NodeStatus(capacity=capacity,
                                                                                 allocatable=capacity))
                             for n in names], list(pods))


def names(pods: list[Pod]) -> list[str]:
    return [p.metadata.name for p in pods]


# -- filterPodsWithPDBViolation ---------------------------------------------------------------


def test_each_matching_pod_uses_up_one_allowed_disruption() -> None:
    pods = [pod("a1", app="a"), pod("a2", app="a"), pod("b", app="b")]
    violating, others = filter_pods_with_pdb_violation(pods, [pdb("a", 1)])
    assert (names(violating), names(others)) == (["a2"], ["a1", "b"])


def test_what_matches_no_pdb_never_violates() -> None:
    pods = [pod("a1", app="a"), pod("x", app="a", namespace="other"), pod("bare")]
    empty = pdb("all", 0, selector=LabelSelector())
    assert filter_pods_with_pdb_violation(pods, [empty]) == ([], pods), "an empty selector matches nothing"
    assert filter_pods_with_pdb_violation(pods, [pdb("a", 0, disrupted=("a1",))]) == ([], pods), "already disrupted"
    violating, _ = filter_pods_with_pdb_violation(pods, [pdb("a", 0)])
    assert names(violating) == ["a1"], "other namespace, no labels: not selected"


# -- SelectVictimsOnNode and pickOneNodeForPreemption -----------------------------------------


def test_the_node_without_pdb_violations_wins_over_lower_victim_priority() -> None:
    """n1's victim has the lower priority (criterion 2), but its eviction violates a PDB (criterion 1)."""
    infos = nodes(pod("low", "n1", priority=10, app="a"), pod("mid", "n2", priority=50, app="b"))
    high = pod("high", priority=1000)
    assert pick_preemption(high, infos).node == "n1"  # type: ignore[union-attr]
    chosen = pick_preemption(high, infos, pdbs=[pdb("a", 0)])
    assert chosen is not None and (chosen.node, chosen.victims, chosen.pdb_violations) == ("n2", ("default/mid",), 0)


def test_a_violating_victim_is_still_preempted_when_it_must_be() -> None:
    infos = nodes(pod("a1", "n1", app="a"), names=("n1",))
    [candidate] = preemption_candidates(pod("high", priority=1000), infos, pdbs=[pdb("a", 0)])
    assert (candidate.victims, candidate.pdb_violations) == (("default/a1",), 1)


def test_violating_pods_are_reprieved_first() -> None:
    """Two 400m pods on n1, one covered by a PDB allowing nothing; a 600m pod needs one of them gone.
    Without the PDB the less important one goes (MoreImportantPod: both priority 10, then name);
    with it, the protected one is reprieved first and the other goes."""
    infos = nodes(pod("a", "n1", priority=10, cpu="400m", app="a"), pod("b", "n1", priority=10, cpu="400m", app="b"),
                  names=("n1",))
    high = pod("high", priority=1000, cpu="600m")
    assert preemption_candidates(high, infos)[0].victims == ("default/b",)
    protected_b = preemption_candidates(high, infos, pdbs=[pdb("b", 0)])[0]
    assert (protected_b.victims, protected_b.pdb_violations) == (("default/a",), 0)


# -- the trial's scenario -------------------------------------------------------------------


@pytest.mark.parametrize("instant", [True, False])
def test_upstream_preempts_the_unprotected_pod_on_n2(instant: bool) -> None:
    """Before the fix the model chose n1 (tied on every other criterion, first by name) and
    evicted a-protected, whose PDB allows no disruption."""
    model = build_model(load_scenario(SCENARIO), parameters={"instantCaches": instant})
    start = initial_state(model)
    decision = decide(model, start, "scheduler")
    assert decision is not None and decision[1].preemption is not None
    assert (decision[1].preemption.node, decision[1].preemption.victims) == ("n2", ("default/b-unprotected",))
    assert any(True for _ in view(model, start, "scheduler").list(RESOURCE)), "the scheduler's cache has the PDB"
    run = fair_run(model, start)
    assert [a.node for a in run.trace if isinstance(a, Preempt)] == ["n2"]
    placed = {p.metadata.name: (p.spec.node_name, p.status.phase) for p in run.state.store.list("pods")
              if isinstance(p, Pod)}
    assert placed == {"a-protected": ("n1", "Running"), "p-high": ("n2", "Running")}
