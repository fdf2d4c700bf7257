"""Settling means one thing in the convergence check and in the cycle property `settles`: no fair
continuation keeps writing to the API.

A controller retrying a request refused for good (a ResourceQuota, a webhook, a namespace kept
Terminating) changes nothing: upstream the key is requeued rate-limited
(`staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go`, 5 ms doubling up to
1000 s) and the retries back off while time passes. The check reports the property that fails
there (`deployments-complete`), with a file that replays — not a `settles` livelock that no lasso
can record (a user trial: a Deployment in a deleted namespace). A real livelock (two syncers
fighting over `spec.replicas`) still reports `settles`, recorded as a lasso.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.counterexamples import check, replay
from kubeprop.counterexamples.replay import Verdict
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import Settled, continuations, settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.queued_work import polling, silent_requeues_per_tick, urgent_keys
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import FaultBudget
from kubeprop.model.scheduler.binding import Bind
from kubeprop.model.state.actions import FailNextRequest, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.oscillation import Cycle, select_cycle
from kubeprop.properties.registry import select

REFUSED = Path(__file__).parents[1] / "model" / "data" / "refused"
LIVELOCK = Path(__file__).parents[1] / "model" / "data" / "livelock"
CONVERGENCE = select(kind="convergence")
QUOTA_RS = Reconcile("replicaset", "team-a/web-5f56c79647")


@pytest.fixture
def refused(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The refused scenarios' modules (the quota plug-in, the poller) on the import path."""
    with user_folder(monkeypatch, REFUSED):
        yield


def _model(name: str) -> ClusterModel:
    return build_model(load_scenario(REFUSED / name))


@pytest.mark.usefixtures("refused")
def test_a_retry_refused_for_good_is_set_aside_while_time_passes() -> None:
    """The ReplicaSet controller's create of the second pod is refused by the quota (403): each
    retry leaves the state as it was. The fair run sets it aside until the state changes, so the
    clock ticks (the controller backing off) and the run ends when the ticks are spent, instead of
    retrying at one state until it is out of steps."""
    model = _model("quota.yaml")
    start = initial_state(model)
    run = settle(model, start, max_steps=5000, max_ticks=60)
    assert not run.exhausted and run.trace.count(Tick(10)) == 60
    states = [start]
    for act in run.trace:
        states.append(step(model, states[-1], act))
    stutters = [i for i, act in enumerate(run.trace) if states[i + 1] == states[i]]
    assert stutters and all(run.trace[i] == QUOTA_RS for i in stutters)
    # after each stutter the retry is not taken again until something changed (a Tick, or the
    # Deployment controller copying the ReplicaSet's ReplicaFailure condition)
    assert all(run.trace[i + 1] != QUOTA_RS for i in stutters if i + 1 < len(run.trace))
    assert all(run.trace[i + 1] == Tick(10) for i in stutters[2:] if i + 1 < len(run.trace))
    assert len(list(run.state.store.list("pods"))) == 1  # the quota's one pod, and no more


@pytest.mark.usefixtures("refused")
def test_the_refused_rollout_says_why_in_replica_failure_conditions() -> None:
    """The first refused create writes the ReplicaSet's ReplicaFailure condition (FailedCreate, the
    API server's message: `replica_set_utils.go` calculateStatus) and the Deployment controller
    copies it (`progress.go` getReplicaFailures); later refusals change nothing (the condition is
    kept as it is, so the retries still stutter)."""
    model = _model("quota.yaml")
    run = settle(model, initial_state(model), max_steps=5000, max_ticks=60)
    message = ('pods "web-5f56c79647-cm7j4" is forbidden: exceeded quota: team-a-quota, requested: pods=1, '
               'used: pods=1, limited: pods=1')  # upstream's CheckRequest message (test_resource_quota.py)
    for resource in ("replicasets.apps", "deployments.apps"):
        (obj,) = run.state.store.list(resource)
        failure = [c for c in obj.status.conditions if c.type == "ReplicaFailure"]
        assert [(c.status, c.reason, c.message) for c in failure] == [("True", "FailedCreate", message)], resource


@pytest.mark.usefixtures("refused")
def test_convergence_is_judged_where_only_refused_retries_are_left() -> None:
    """Before, `settles: the cluster did not settle within 5000 steps` (and no file); now the
    property the refusal keeps from holding."""
    model = _model("quota.yaml")
    found = settled_violation(model, initial_state(model), CONVERGENCE, memo=False)
    assert found is not None and found.property == "deployments-complete"
    assert "of 2" in found.message


@pytest.mark.usefixtures("refused")
def test_check_reports_the_refused_rollout_with_a_file_that_replays(tmp_path: Path) -> None:
    report = check(REFUSED / "quota.yaml", engine="bfs", bounds=Bounds(max_depth=1, budget_seconds=60),
                   save_to=tmp_path)
    assert report.violation is not None and report.violation.property == "deployments-complete"
    assert report.counterexample is not None and report.counterexample.cycle_start is None
    assert report.path is not None
    assert replay(report.path, allow_imports=("quota_rules",)).verdict == Verdict.REPRODUCES


@pytest.mark.usefixtures("refused")
def test_a_cycle_that_writes_nothing_is_no_livelock() -> None:
    """A controller requeueing for ever, changing only its memory: the fair run sets the poll aside
    (`drive.is_poll`) and is over once nothing else is left (before, it went round the two states
    until out of steps) — as the cycle property `settles` finds its cycle harmless. The Deployment
    completes there."""
    model = _model("polling.yaml")
    start = initial_state(model)
    run = settle(model, start, max_steps=600)
    assert not run.exhausted and not run.keeps_writing and len(run.trace) < 100
    states = [run.state]
    for act in (Reconcile("poller", "team-a/web"),) * 2:
        states.append(step(model, states[-1], act))
    assert states[2] == states[0] != states[1]
    cycle = Cycle(tuple(states), (Reconcile("poller", "team-a/web"),) * 2)
    assert select_cycle(["settles"])[0](model, cycle) is None
    assert settled_violation(model, start, CONVERGENCE, max_steps=600, memo=False) is None


def test_keeps_writing_needs_a_write_in_the_second_half() -> None:
    state = initial_state(build_model(load_scenario(LIVELOCK.parent / "sts-scale.yaml")))
    trace = (Tick(10),) * 10
    assert Settled(state, trace, exhausted=True, quiet=4).keeps_writing
    assert not Settled(state, trace, exhausted=True, quiet=5).keeps_writing
    assert not Settled(state, trace, exhausted=False, quiet=0).keeps_writing


def test_a_writing_livelock_still_violates_settles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two syncers fighting over spec.replicas write for ever: `settles`, as before."""
    with user_folder(monkeypatch, LIVELOCK):
        model = build_model(load_scenario(LIVELOCK / "fighting.yaml"))
        start = initial_state(model)
        runs = list(continuations(model, start, max_steps=300))
        assert runs[0][1].exhausted and runs[0][1].keeps_writing
        found = settled_violation(model, start, CONVERGENCE, max_steps=300, memo=False)
        assert found is not None and found.property == "settles"


def test_a_writing_livelock_is_still_recorded_as_a_lasso(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with user_folder(monkeypatch, LIVELOCK):
        report = check(LIVELOCK / "fighting.yaml", engine="bfs", bounds=Bounds(max_depth=1, budget_seconds=60),
                       config=EngineConfig(settle_steps=300), save_to=tmp_path)
        assert report.violation is not None and report.violation.property == "settles"
        assert report.counterexample is not None and report.counterexample.cycle_start is not None
        assert report.path is not None
        assert replay(report.path, allow_imports=("syncers",)).verdict == Verdict.REPRODUCES


@pytest.mark.usefixtures("refused")
def test_a_crash_right_after_the_refused_create_writes_no_replica_failure() -> None:
    """The status write after the failure is one more request of the reconcile
    (`Reconciliation.after_failure`): a controller manager that dies right after the refused
    create (`CrashDuringReconcile` after that many requests) never sends it."""
    from kubeprop.model.controllers import base

    model = _model("quota.yaml")
    states = [initial_state(model)]
    run = settle(model, states[0], max_steps=5000, max_ticks=60)
    for act in run.trace:
        states.append(step(model, states[-1], act))
    at = next(i for i, act in enumerate(run.trace) if act == QUOTA_RS and _failure(states[i + 1]))
    before = states[at]
    requests = base.decide(model, before, "replicaset", QUOTA_RS.key).requests
    sent = [r.verb for r in requests].index("create") + 1  # up to the refused create (the quota's pod exists)
    assert _failure(base.reconcile(model, before, QUOTA_RS))
    assert not _failure(base.reconcile(model, before, QUOTA_RS, sent))


def _failure(state: ClusterState) -> bool:
    (rs,) = state.store.list("replicasets.apps")
    return any(c.type == "ReplicaFailure" for c in rs.status.conditions)


def _polling_with_a_request_failure() -> ClusterModel:
    """polling.yaml with a budget of one failed request."""
    scenario = load_scenario(REFUSED / "polling.yaml")
    return build_model(evolve(scenario, spec=evolve(scenario.spec, faults=FaultBudget(request_failure=1))))


@pytest.mark.usefixtures("refused")
def test_time_passes_while_a_controller_polls() -> None:
    """The false-alarm campaign's refused/polling.yaml (portfolio, one fault of each kind): the
    scheduler's Bind of a pod fails (an injected 500) and the pod waits out its error back-off,
    which takes the clock. Before, the poller's requeue held the clock (its memory moves on) and
    the fair continuation took it for ever and never ticked: `deployments-complete` VIOLATED.
    Upstream the requeue is rate-limited and time passes: the continuation ticks, the pod is
    bound and the Deployment completes."""
    model = _polling_with_a_request_failure()
    state = initial_state(model)
    trace = settle(model, state, max_steps=600).trace
    failed = next(act for act in trace if isinstance(act, Bind))
    for act in trace[:trace.index(failed)]:
        state = step(model, state, act)
    state = step(model, step(model, state, FailNextRequest("scheduler", 500)), failed)
    (recovering, run), = continuations(model, state, max_steps=600)
    assert recovering and not run.exhausted and Tick(10) in run.trace
    assert failed in run.trace[run.trace.index(Tick(10)):]  # bound once its back-off is over
    assert settled_violation(model, state, CONVERGENCE, max_steps=600, memo=False) is None


@pytest.mark.usefixtures("refused")
def test_a_key_polls_only_while_nothing_of_it_shows_for_a_tick() -> None:
    """The clock's guard lets time pass for a key whose silent requeues go on for a tick of the
    rate limiter's back-off (11 requeues for 10 s: 5 ms·(2^11 − 1)) or for ever; one whose requeues
    end sooner still holds it, as before."""
    from pollers import Countdown

    assert [silent_requeues_per_tick(s) for s in (1, 10, 1000)] == [8, 11, 18]
    key = "team-a/web"
    for controller, polls in ((None, True), (Countdown(polls=5), False), (Countdown(polls=30), True)):
        model = build_model(load_scenario(REFUSED / "polling.yaml"), controllers=(controller,) if controller else ())
        state = initial_state(model)
        assert state.controllers["poller"].queue == (key,)
        assert polling(model, state, "poller", key) is polls
        assert (("poller", key) in urgent_keys(model, state)) is not polls, controller


WAITER = ("ready-waiter", "team-a/web")


def _waiting_run() -> tuple[ClusterModel, list[ClusterState]]:
    """get-polling.yaml's fair run, state by state."""
    model = _model("get-polling.yaml")
    states = [initial_state(model)]
    for act in settle(model, states[0], max_steps=600).trace:
        states.append(step(model, states[-1], act))
    return model, states


@pytest.mark.usefixtures("refused")
def test_time_passes_while_a_controller_polls_by_reading() -> None:
    """A user's controller GETs a Deployment on every reconcile and requeues it, counting its GETs
    in memory, until the answer shows it ready; its pod is Ready only after the readiness probe's
    first run, 5 s after it starts. Before, the GET's requeue held the clock (its memory moves on)
    and the fair run took it for ever and never ticked: `deployments-complete` and `workloads-ready`
    VIOLATED. Upstream the requeue is rate-limited as a silent one is, and time passes: the run
    ticks, the probe passes, the waiter sees the Deployment ready and writes its ConfigMap."""
    model, states = _waiting_run()
    run = settle(model, states[0], max_steps=600)
    assert not run.exhausted and Tick(10) in run.trace
    (marker,) = run.state.store.list("configmaps", "team-a")
    assert marker.metadata.name == "web-ready" and int(marker.data["checks"]) > 1
    assert settled_violation(model, states[0], CONVERGENCE, max_steps=600, memo=False) is None


@pytest.mark.usefixtures("refused")
def test_a_read_whose_answer_leads_to_a_write_is_no_poll() -> None:
    """The chain of requeues is judged on what its GETs would answer: while the Deployment is not
    ready in the store the waiter's key polls (its GETs write nothing, the clock may pass); once it
    is, though the waiter's memory still says not ready, the next GET's answer leads to the
    ConfigMap's create, so the key holds the clock — as does a GET that would consume an armed
    request failure (a change of the state)."""
    model, states = _waiting_run()
    queued = [s for s in states if WAITER[1] in s.controllers[WAITER[0]].queue and not s.controllers[WAITER[0]]
              .memory.get(WAITER[1], (0, False))[1]]
    ready = [s for s in queued if next(iter(s.store.list("deployments.apps"))).status.ready_replicas == 1]
    waiting = [s for s in queued if s not in ready and s.clock == 0 and s.controllers[WAITER[0]].memory]
    assert ready and waiting
    assert polling(model, waiting[-1], *WAITER) and WAITER not in urgent_keys(model, waiting[-1])
    assert not polling(model, ready[0], *WAITER) and WAITER in urgent_keys(model, ready[0])
    armed = step(model, waiting[-1], FailNextRequest("controller-manager", 500))
    assert not polling(model, armed, *WAITER) and WAITER in urgent_keys(model, armed)
