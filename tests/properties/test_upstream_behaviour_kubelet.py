"""Pods created with spec.nodeName bypass the scheduler: the node they name may hold more than it
has until its kubelet refuses the extra pods (the user trial's "false alarm"). That is upstream
behaviour when those pods are the cause, and a violation when the scheduler's own bindings are."""

from __future__ import annotations

from pathlib import Path

from kubeprop.counterexamples.replay import replay
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.registry import select
from kubeprop.properties.upstream_behaviour import explanation, match
from kubeprop.properties.upstream_behaviour_kubelet import creator_bound_pods_overcommit

ROOT = Path(__file__).resolve().parents[2]
CREATOR_BOUND = ROOT / "tests" / "model" / "data" / "kubelet" / "creator-bound.yaml"
DUAL_SCHEDULER = ROOT / "counterexamples" / "corpus" / "node-not-overcommitted-156fb7713363.json"


def test_creator_bound_pods_that_overcommit_a_node_are_upstream_behaviour() -> None:
    model = build_model(load_scenario(CREATOR_BOUND))
    [prop] = select(("node-not-overcommitted",))
    found = prop(model, initial_state(model))
    assert found is not None and found.message == "node small: pods request 1200 cpu, allocatable is 1000"
    known = match(model, found, ())
    assert known is not None and known.name == "creator-bound-pods-overcommit-node"
    assert any("pkg/kubelet/lifecycle/predicate.go" in line for line in explanation(known))


def test_an_overcommit_by_the_schedulers_own_bindings_is_not() -> None:
    """The dual-scheduler counterexample of the corpus: two schedulers bound the pods; none was
    created bound, so the recognizer does not claim it (and a variant is never upstream anyway)."""
    result = replay(DUAL_SCHEDULER)
    assert result.violation is not None and result.violation.property == "node-not-overcommitted"
    assert not creator_bound_pods_overcommit(result.model, result.states, result.counterexample.actions,
                                             result.violation)
