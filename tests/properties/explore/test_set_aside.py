"""On the expected run the searches around it set a move that left the state as it was aside until the
state changes, as `drive.follow` does (`around._Search.fair`), and so do the runs shrinking generates
from a trace's choices (`shrink_choices`): a controller retrying a request
refused for good backs off while time passes (upstream: `AddRateLimited`,
`staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go`). Before, the retry reached
the state it left, a state already reached, and the run ended there: on the refused quota scenario
the expected run of `around`, `perturb` and `faults` stopped after 28 of the fair run's 156 steps,
without judging convergence, so none of them reported the rollout the quota keeps from completing
(PCT did, after 477 portfolio steps)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.around import run_around_fair, run_fault_injection
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.expected import compute
from kubeprop.properties.explore.perturb import run_perturb
from kubeprop.properties.explore.shrink import Judge
from kubeprop.properties.explore.shrink_choices import Choices, Runs, decompose
from kubeprop.properties.registry import select

REFUSED = Path(__file__).parents[2] / "model" / "data" / "refused"
QUOTA_RS = Reconcile("replicaset", "team-a/web-5f56c79647")


@pytest.fixture
def refused(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The refused scenarios' modules (the quota plug-in) on the import path."""
    with user_folder(monkeypatch, REFUSED):
        yield


@pytest.mark.usefixtures("refused")
def test_the_expected_run_goes_on_past_a_retry_refused_for_good_and_ends_where_the_fair_run_does() -> None:
    model = build_model(load_scenario(REFUSED / "quota.yaml"))
    start = initial_state(model)
    config = EngineConfig(shrink=False, budget_seconds=60.0, workers=1)
    run = compute(model, start, config, None)
    fair = fair_run(model, start, config.settle_steps, config.settle_ticks)
    taken = tuple(run.fair[:len(run.states) - 1])
    assert taken == fair.trace and taken.count(QUOTA_RS) > 1  # the retry set aside, taken again after a Tick
    assert run.found is not None and run.found.property == "deployments-complete"
    for engine in (run_around_fair, run_perturb, run_fault_injection):
        found = engine(model, start, config)
        assert found.violation is not None and found.violation.property == "deployments-complete", engine
        assert found.stats.steps == len(fair.trace), (engine, found.stats)  # on the expected run itself


@pytest.mark.usefixtures("refused")
def test_shrinking_choices_sets_a_refused_retry_aside_as_the_fair_run_does() -> None:
    """`shrink_choices` generates runs with the fair policy as `drive.follow` runs it: a move that
    left the state as it was is set aside until it changes. The fair run of the quota scenario is
    then its own choices, no departure, and regenerates as itself. Before, the retry was the fair
    choice again at the state it left: each `Tick` of the fair run was a departure (61 of them),
    and the run of those choices retried the refused create until its length ran out (5,000
    steps) instead of showing the violation in the fair run's 157."""
    model = build_model(load_scenario(REFUSED / "quota.yaml"))
    start = initial_state(model)
    fair = fair_run(model, start)
    assert fair.trace.count(QUOTA_RS) > 1 and not fair.exhausted
    judge = Judge(model, start, select(kind="safety"), select(kind="convergence"))
    violation, shown = judge(fair.trace)
    assert violation is not None and violation.property == "deployments-complete"
    choices = decompose(judge, fair.trace)
    assert choices == Choices((), 0)
    assert Runs(judge, None).run(choices) == (violation, shown)
