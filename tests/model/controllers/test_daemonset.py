"""The DaemonSet controller on tests/model/data/daemonset/agents.yaml (three nodes, db-1 tainted
dedicated=db:NoSchedule; log-shipper tolerates the taint, exporter does not): the fair run places
one pod per eligible node, the drain leaves them, and the pods carry what upstream gives them
(`pkg/controller/daemon/util/daemonset_util.go`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Node, NodeSpec, Taint
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.daemonset_util import (
    DAEMON_TOLERATIONS,
    REVISION_HASH_LABEL,
    node_should_run,
    target_node_name,
    template_hash,
)
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Deliver
from kubeprop.properties.daemonsets import daemon_sets_ready, one_pod_per_node

SCENARIO = Path(__file__).parents[1] / "data" / "daemonset" / "agents.yaml"


@pytest.fixture(scope="module")
def settled() -> tuple[object, object]:
    model = build_model(load_scenario(SCENARIO))
    run = fair_run(model, initial_state(model))
    return model, run.state


def _daemon_pods(state: object, name: str) -> list[Pod]:
    pods = [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]  # type: ignore[attr-defined]
    return [p for p in pods if (ref := p.metadata.controller_ref()) is not None and ref.name == name]


def test_one_pod_on_each_eligible_node(settled: tuple[object, object]) -> None:
    _, state = settled
    shipper = Counter(target_node_name(p) for p in _daemon_pods(state, "log-shipper"))
    exporter = Counter(target_node_name(p) for p in _daemon_pods(state, "exporter"))
    assert shipper == Counter({"worker-1": 1, "worker-2": 1, "db-1": 1})
    assert exporter == Counter({"worker-1": 1, "worker-2": 1})
    for pod in _daemon_pods(state, "log-shipper"):
        assert pod.spec.node_name == target_node_name(pod)  # the scheduler bound it where the affinity says


def test_status_counts(settled: tuple[object, object]) -> None:
    _, state = settled
    ds = state.store.get(ObjectKey("daemonsets.apps", "default", "exporter"))  # type: ignore[attr-defined]
    assert isinstance(ds, DaemonSet)
    s = ds.status
    assert (s.desired_number_scheduled, s.current_number_scheduled, s.number_ready, s.number_available,
            s.updated_number_scheduled, s.number_misscheduled, s.number_unavailable) == (2, 2, 2, 2, 2, 0, 0)
    assert s.observed_generation == ds.metadata.generation == 1


def test_pods_carry_daemon_tolerations_affinity_and_hash(settled: tuple[object, object]) -> None:
    _, state = settled
    ds = state.store.get(ObjectKey("daemonsets.apps", "default", "log-shipper"))  # type: ignore[attr-defined]
    assert isinstance(ds, DaemonSet)
    pod = _daemon_pods(state, "log-shipper")[0]
    assert pod.metadata.labels[REVISION_HASH_LABEL] == template_hash(ds)
    assert pod.spec.tolerations[0].key == "dedicated"  # the template's first, then the daemon ones
    assert set(DAEMON_TOLERATIONS) <= set(pod.spec.tolerations)
    affinity = pod.spec.affinity
    assert affinity is not None and affinity.node_affinity is not None
    required = affinity.node_affinity.required_during_scheduling_ignored_during_execution
    assert required is not None
    (term,) = required.node_selector_terms
    assert [(r.key, r.operator, r.values) for r in term.match_fields] == [
        ("metadata.name", "In", (pod.spec.node_name,))]


def test_properties_hold_after_the_drain(settled: tuple[object, object]) -> None:
    model, state = settled
    assert one_pod_per_node(model, state) is None  # type: ignore[arg-type]
    assert daemon_sets_ready(model, state) is None  # type: ignore[arg-type]
    node = state.store.get(ObjectKey("nodes", "", "worker-1"))  # type: ignore[attr-defined]
    assert isinstance(node, Node) and not node.spec.unschedulable  # drained, then uncordoned


def _node(*taints: Taint, unschedulable: bool = False) -> Node:
    return Node(metadata=ObjectMeta(name="n1"), spec=NodeSpec(taints=taints, unschedulable=unschedulable))


@pytest.mark.parametrize(("taint", "verdict"), [
    (Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule"), (True, True)),  # cordoned: still runs
    (Taint(key="node.kubernetes.io/not-ready", effect="NoExecute"), (True, True)),
    (Taint(key="node.kubernetes.io/unreachable", effect="NoSchedule"), (False, True)),  # keep, no new pod
    (Taint(key="dedicated", value="db", effect="NoSchedule"), (False, True)),
    (Taint(key="dedicated", value="db", effect="NoExecute"), (False, False)),
])
def test_node_should_run(settled: tuple[object, object], taint: Taint, verdict: tuple[bool, bool]) -> None:
    _, state = settled
    ds = state.store.get(ObjectKey("daemonsets.apps", "default", "exporter"))  # type: ignore[attr-defined]
    assert isinstance(ds, DaemonSet)
    assert node_should_run(_node(taint), ds) == verdict


def test_node_selector_mismatch_runs_nothing(settled: tuple[object, object]) -> None:
    _, state = settled
    ds = state.store.get(ObjectKey("daemonsets.apps", "default", "exporter"))  # type: ignore[attr-defined]
    assert isinstance(ds, DaemonSet)
    picky = attrs.evolve(ds, spec=attrs.evolve(ds.spec, template=attrs.evolve(
        ds.spec.template, spec=attrs.evolve(ds.spec.template.spec, node_selector={"disk": "ssd"}))))
    assert node_should_run(_node(), picky) == (False, False)
    labelled = attrs.evolve(_node(), metadata=attrs.evolve(_node().metadata, labels={"disk": "ssd"}))
    assert node_should_run(labelled, picky) == (True, True)


@pytest.mark.parametrize(("variant", "violated"), [("ds-no-expectations", True), ("correct", False)])
def test_ds_no_expectations_variant(variant: str, violated: bool) -> None:
    """The variant's trace (a sync, the DaemonSet's status event delivered, a second sync whose pod
    cache has not seen the first sync's pods): two pods on a node without expectations, none with."""
    model = build_model(load_scenario(SCENARIO), variant=variant, parameters={"instantCaches": False})
    state = initial_state(model)
    sync = Reconcile("daemonset", "default/exporter")
    state = step(model, state, sync)
    deliver = next(a for a in actions(model, state) if isinstance(a, Deliver) and a.resource == "daemonsets.apps")
    state = step(model, step(model, state, deliver), sync)
    assert (one_pod_per_node(model, state) is not None) is violated
