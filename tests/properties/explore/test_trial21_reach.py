"""Reach from a user's start (trial21, u1: tests/model/data/trial21): `nodelifecycle-crash` and
`cronjob-no-name-lock` were not found by `kubeprop check --variant V --budget 60 --workers 1`.
Both can occur there, from the scenario's initial state, by hand — so "held" there says only that
the default strategy did not get there in time (docs/catalogue.md, "Reach from a user's start"):

- `cronjob-no-name-lock`: along the run a user expects, the controller manager crashes right
  after the CronJob controller created the 00:05 activation's Job, before its status write
  records it (Sieve's intermediate state); the restarted controller starts that activation again
  under another generated name (`cronjob-one-job-per-schedule`). Upstream's name lock refuses the
  second create with AlreadyExists (`pkg/controller/cronjob/cronjob_controllerv2.go` getJobName).
- `nodelifecycle-crash`: worker-2 crashes where the user's last step (the scale) is due; 60 s
  later the node lifecycle controller marks it Unknown and the controller manager crashes before
  it marks worker-2's pods NotReady; the restarted controller sees no Ready→Unknown transition
  and never marks them (`pods-on-unknown-nodes-not-ready`, kubernetes#50067). Upstream
  reconciles the marking after a restart.

The perturbation search (`perturb.py`) makes both runs itself: the first is one perturbation on
the fair run (a crash after a write), the second a node crash at a quiet point and a crash after
its effect's write. That crash, right after the node lifecycle controller's first write among the
node crash's effects, is ranked with the run's first quiet point's placements
(`perturb_placements._Perturb._first_writes`): discrepancy 1, the 48th run, 5,536 of `perturb`'s
steps, where it was discrepancy 3, the 230th run, 33,330 steps (every perturbed run before the last
user step follows 100 ticks of the CronJob to its end, ~400 steps). The default strategy now finds
it on one lane within `NODELIFECYCLE_STEPS`."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.counterexamples.api import check
from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.cluster import build_model, initial_state, step
from kubeprop.model.cluster.compose import actions
from kubeprop.model.cluster.drive import expected_policy, fair_run
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, CrashNode, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.cronjobs import cronjob_one_job_per_schedule
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.registry import select

SHOP = Path(__file__).resolve().parents[2] / "model" / "data" / "trial21" / "scenario.yaml"
CRASH = CrashComponent("controller-manager")
NODELIFECYCLE_STEPS = 10_000
"""The portfolio's steps (one lane, seed 0: the same on any machine) within which the default
strategy finds `nodelifecycle-crash` here: measured 8,703 (4,489 of them perturb's); 54,716 with
the crash ranked after the quiet points' placements (and `workload-steps-succeed`, a genuine find
of the scenario, ended the check first, at 37,388)."""


def _cronjob_run(model: ClusterModel) -> str | None:
    """The fair run to the CronJob's first Job create (its status write still to come), the
    controller manager crashed there, and the fair run on: the first duplicate activation."""
    state = initial_state(model)
    policy = expected_policy()
    for act in fair_run(model, state).trace:
        state = step(model, state, act)
        policy.taken(act)
        if any(p.created is not None for _, p in state.controllers["cronjob"].memory.pending.sorted_items()):
            break
    assert state.clock == 300  # */5: the first activation
    state = step(model, state, CRASH)
    policy.taken(CRASH)
    while (act := policy.next_action(model, state)) is not None:
        state = step(model, state, act)
        policy.taken(act)
        found = cronjob_one_job_per_schedule(model, state)
        if found is not None:
            return found[0]
    return None


def _node_lifecycle_run(model: ClusterModel) -> ClusterState:
    """worker-2 crashed where the last user step is due, the fair run on until the node lifecycle
    controller has marked it Unknown and not yet its pods, the controller manager crashed there."""
    state = initial_state(model)
    policy = expected_policy()
    for act in fair_run(model, state).trace:
        if act == UserStep(len(model.scenario.spec.workload) - 1):
            break
        state = step(model, state, act)
        policy.taken(act)
    state = step(model, state, CrashNode("worker-2"))
    policy.taken(CrashNode("worker-2"))
    while not _unknown(state, "worker-2"):
        act = policy.next_action(model, state)
        assert act is not None
        state = step(model, state, act)
        policy.taken(act)
    assert CRASH in actions(model, state)
    if model.variant == "nodelifecycle-crash":  # the pods' marking is still to come, remembered in memory
        assert nlc.memory(state).pods_not_ready_pending == ("worker-2",)
    return step(model, state, CRASH)


def _unknown(state: ClusterState, name: str) -> bool:
    """Whether the stored Node `name` has its Ready condition Unknown."""
    node = state.store.get(ObjectKey("nodes", "", name))
    return isinstance(node, Node) and any(c.type == "Ready" and c.status == "Unknown" for c in node.status.conditions)


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "duplicate"), [("cronjob-no-name-lock", True), ("correct", False)])
def test_cronjob_no_name_lock_can_occur_on_the_trials_shop(variant: str, duplicate: bool) -> None:
    found = _cronjob_run(build_model(load_scenario(SHOP), variant=variant))
    assert (found is not None) is duplicate, found
    if found is not None:
        assert found.startswith("CronJob shop/report: Jobs report-") and "1970-01-01T00:05:00Z" in found


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "lost"), [("nodelifecycle-crash", True), ("correct", False)])
def test_nodelifecycle_crash_can_occur_on_the_trials_shop(variant: str, lost: bool) -> None:
    model = build_model(load_scenario(SHOP), variant=variant)
    found = settled_violation(model, _node_lifecycle_run(model), select(["pods-on-unknown-nodes-not-ready"]))
    assert (found is not None) is lost, found
    if found is not None:
        assert "is still Ready on node worker-2, whose Ready condition is Unknown" in found.message


@pytest.mark.slow
def test_the_default_strategy_finds_nodelifecycle_crash_on_the_trials_shop() -> None:
    """Within a step budget, not a time budget (the wall-clock budget only bounds a regression)."""
    report = check(SHOP, variant="nodelifecycle-crash", budget=600.0, config=EngineConfig(shrink=False, workers=1))
    assert report.violation is not None and report.violation.property == "pods-on-unknown-nodes-not-ready", \
        report.violation
    assert report.stats is not None and report.stats.steps <= NODELIFECYCLE_STEPS, report.stats
    assert CrashNode("worker-2") in report.trace and CRASH in report.trace
