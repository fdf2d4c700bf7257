"""The scheduler's races (a node that changed between its decision and its binding, a decision on
a stale node cache) are recognized wherever the violation shows: `scheduler-decisions-sound`
judges a binding with Z3 only once the scheduler's informer has caught up, so the violation may
first show on a later `Deliver`, with another explanation (audit18a: drain-stale). A binding whose
decision was unsound when made, with no node change in between, is still not recognized."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.state.actions import Action, Deliver, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER
from kubeprop.properties.registry import first_violation, select
from kubeprop.properties.upstream_behaviour import match, states_of

DATA = Path(__file__).resolve().parents[1] / "model" / "data"
DRAINED = DATA / "maintenance" / "drained.yaml"
TAINTED = DATA / "variants" / "tainted.yaml"
POD = "default/web-5f56c79647-tpl4p"
DRAIN_STALE: tuple[Action, ...] = (
    Reconcile(controller="deployment", key="default/web"),
    Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=11),
    Reconcile(controller="replicaset", key="default/web-5f56c79647"),
    Deliver(component="scheduler", resource="pods", revision=13),
    Schedule(scheduler="scheduler", pod=POD, node="worker-1"),
    UserStep(0),
    Deliver(component="scheduler", resource="nodes", revision=16),
    Bind(scheduler="scheduler", pod=POD),
    Deliver(component="scheduler", resource="pods", revision=14))
"""audit18a's drain-stale counterexample (portfolio, drained.yaml with instantCaches: false): the
scheduler decides on worker-1, kubectl drain cordons it, the binding follows; the other replica's
pod event has not reached the scheduler's informer, so the binding is judged by Z3 only at the
last step, when it has."""


def test_a_binding_judged_once_the_informer_caught_up_is_still_the_bind_race() -> None:
    model = build_model(load_scenario(DRAINED), parameters={"instantCaches": False})
    states = states_of(model, DRAIN_STALE)
    props = select(["scheduler-decisions-sound"])
    assert first_violation(model, states[-2], props) is None  # at the Bind: not yet judged
    violation = first_violation(model, states[-1], props)
    assert violation is not None and violation.message == (
        f"Pod {POD} is bound to node worker-1 (t=0), violating a hard constraint: node(s) were unschedulable")
    found = match(model, violation, DRAIN_STALE)
    assert found is not None and found.name == "scheduler-binds-after-node-change"
    # a binding that no longer stands (the pod was bound elsewhere since) is not the race's
    elsewhere = (*DRAIN_STALE[:4], Schedule(scheduler="scheduler", pod=POD, node="worker-2"),
                 *DRAIN_STALE[5:])
    assert match(model, violation, elsewhere) is None


@pytest.mark.parametrize("prop", ["scheduler-decisions-sound", "bindings-respect-hard-constraints"])
def test_a_decision_unsound_when_made_is_not_recognized_at_the_binding_nor_later(prop: str) -> None:
    """scheduler-ignores-taints puts the pod on the tainted worker-a, whose taint was there from the
    start and in the scheduler's cache: no node change, no stale cache — the variant's bug, at the
    binding and on the steps after it."""
    model = build_model(load_scenario(TAINTED), parameters={"instantCaches": False},
                        variant="scheduler-ignores-taints")
    pod = "default/app-7dc98789d-tpl4p"
    cm, rs = CONTROLLER_MANAGER, "default/app-7dc98789d"
    trace: tuple[Action, ...] = (
        Reconcile(controller="deployment", key="default/app"),
        Deliver(component=cm, resource="deployments.apps", revision=11),
        Deliver(component=cm, resource="replicasets.apps", revision=10),
        Deliver(component="scheduler", resource="replicasets.apps", revision=10),
        Reconcile(controller="deployment", key="default/app"),
        Reconcile(controller="replicaset", key=rs),
        Deliver(component=cm, resource="pods", revision=12),
        Deliver(component=cm, resource="replicasets.apps", revision=13),
        Deliver(component="kubelet/worker-a", resource="pods", revision=12),
        Deliver(component="kubelet/worker-b", resource="pods", revision=12),
        Deliver(component="scheduler", resource="pods", revision=12),
        Schedule(scheduler="scheduler", pod=pod, node="worker-a"),
        Bind(scheduler="scheduler", pod=pod),
        Deliver(component=cm, resource="pods", revision=14))
    states = states_of(model, trace)
    for end in (len(trace) - 1, len(trace)):
        violation = first_violation(model, states[end], select([prop]))
        assert violation is not None and "taint" in violation.message and f"Pod {pod}" in violation.objects
        assert match(model, violation, trace[:end]) is None
