"""`rolloutStatus` and `wait` steps: the user's next command runs when `kubectl rollout status` or
`kubectl wait` returns, as a script or CD pipeline runs it; a timeout passes on the model's clock
and fails the step as kubectl fails; a command that waits for ever holds the workload there
without making any run hang.

The sixth user trial's sts1 (`tests/model/data/waits/`): without a wait, the expected run set the
new image at t=0, before db-1 existed, so the partition rollout of the full 3-replica set was never
on it; with `rolloutStatus` between the apply and the `setImage` it is."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.counterexamples.api import check
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster import compose, workload
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.cluster.enabled_reads import changes
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.cluster.workload_commands import describe
from kubeprop.model.cluster.workload_wait import command_wait, next_timer
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.queued_work import holds_clock
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import ACTION_TYPES, INJECTED_FAULTS, Action, CrashComponent, Deliver, Tick, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.convergence import _workload_left
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import Allow, EngineConfig, Match, match
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "waits"
STEPS_SUCCEED = select(["workload-steps-succeed"])


def _pods(state: ClusterState) -> dict[str, tuple[str, bool]]:
    """Each pod's image and whether it is Ready."""
    out = {}
    for pod in state.store.list("pods", "default"):
        assert isinstance(pod, Pod)
        ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
        out[pod.metadata.name] = (pod.spec.containers[0].image, ready)
    return out


def _user_steps(model: ClusterModel) -> list[tuple[int, int, dict[str, tuple[str, bool]]]]:
    """Along the expected run: (step index, clock, pods before the step) of each `UserStep`."""
    state = initial_state(model)
    seen = []
    for act in fair_run(model, state).trace:
        if isinstance(act, UserStep):
            seen.append((act.index, state.clock, _pods(state)))
        state = step(model, state, act)
    return seen


def test_without_a_wait_the_expected_run_sets_the_image_before_the_set_is_up() -> None:
    model = build_model(load_scenario(DATA / "sts-no-wait.yaml"))
    (_, _, _), (set_image, clock, pods), _ = _user_steps(model)
    assert set_image == 1 and clock == 0 and sorted(pods) == ["db-0"]  # db-1, db-2 are made with db:2


def test_rollout_status_puts_the_partition_rollout_of_the_full_set_on_the_expected_run() -> None:
    model = build_model(load_scenario(DATA / "sts-rollout.yaml"))
    assert describe(model.scenario.spec.workload[1]) == "kubectl rollout status statefulset/db -n default"
    assert describe(model.scenario.spec.workload[3]) == \
        "kubectl rollout status statefulset/db -n default --timeout=600s"
    steps = _user_steps(model)
    # apply; rollout status returns once all three are Ready; set image; the second rollout status
    # starts (it has a timeout: it records its wait) and returns when the partition rollout is done
    assert [index for index, _, _ in steps] == [0, 1, 2, 3, 3, 4]
    at_set_image = steps[2][2]
    assert at_set_image == {name: ("db:1", True) for name in ("db-0", "db-1", "db-2")}
    # partition 1: db-2 then db-1 get the new image, db-0 keeps the old one; then the scale runs
    assert steps[4][2] == {"db-0": ("db:1", True), "db-1": ("db:2", True), "db-2": ("db:2", True)}
    assert steps[4][1] > steps[3][1]  # it waited (model time passed)


def test_the_next_step_waits_while_the_rollout_is_not_done() -> None:
    model = build_model(load_scenario(DATA / "sts-rollout.yaml"))
    state = step(model, initial_state(model), UserStep(0))
    assert UserStep(1) not in actions(model, state)  # nothing is Ready yet
    state = settle(model, state, max_steps=600, avoid=(UserStep,)).state
    assert all(ready for _, ready in _pods(state).values()) and len(_pods(state)) == 3
    assert UserStep(1) in actions(model, state)
    state = step(model, state, UserStep(1))
    assert state.workload_next == 2 and command_wait(state) is None and not state.workload_errors


def _scenario(tmp: Path, workload: str, cpu: str = "100m", strategy: str = "") -> ClusterModel:
    """The sts1 StatefulSet (its cpu request and update strategy changed as asked) and `workload`."""
    (tmp / "db").mkdir()
    text = (DATA / "db" / "statefulset.yaml").read_text().replace("cpu: 100m", f"cpu: {cpu}")
    if strategy:
        text = text.replace("    type: RollingUpdate\n    rollingUpdate: {partition: 1, maxUnavailable: 1}\n", strategy)
    (tmp / "db" / "statefulset.yaml").write_text(text)
    scenario = (DATA / "sts-rollout.yaml").read_text().split("workload:\n")[0].replace("manifests: [base]",
                                                                                        "manifests: [db]")
    (tmp / "scenario.yaml").write_text(scenario + "workload:\n" + workload)
    return build_model(load_scenario(tmp / "scenario.yaml"))


STUCK = "2"  # cpu: no node has 2 cores, so db-0 is never scheduled and the rollout never finishes


def test_a_timeout_passes_on_the_model_clock_and_fails_the_step(tmp_path: Path) -> None:
    model = _scenario(tmp_path, "  - rolloutStatus: {statefulset: db, timeoutSeconds: 30}\n"
                                "  - scale: {statefulset: db, replicas: 1}\n", cpu=STUCK)
    state = step(model, initial_state(model), UserStep(0))  # the command starts at t=0
    wait = command_wait(state)
    assert wait is not None and (wait.step, wait.deadline) == (0, 30) and state.workload_next == 0
    assert next_timer(model, state) == 30  # time may pass to it, once the controllers' queued work is done:
    assert Reconcile("statefulset", "default/db") in actions(model, state) and Tick(10) not in actions(model, state)
    result = fair_run(model, state)
    assert not result.exhausted
    trace = result.trace
    ends = trace.index(UserStep(0))
    assert trace[:ends].count(Tick(10)) >= 3 and UserStep(1) in trace[ends:]  # the next step ran after it
    state = result.state
    assert state.workload_errors[0] == "error: timed out waiting for the condition"
    found = first_violation(model, state, STEPS_SUCCEED)
    assert found is not None and found.message == (
        "workload step 1 (kubectl rollout status statefulset/db -n default --timeout=30s) failed: "
        "error: timed out waiting for the condition")


def test_without_a_timeout_a_rollout_that_never_finishes_holds_the_workload_and_nothing_hangs(
        tmp_path: Path) -> None:
    model = _scenario(tmp_path, "  - rolloutStatus: {statefulset: db}\n  - scale: {statefulset: db, replicas: 1}\n",
                      cpu=STUCK)
    result = fair_run(model, initial_state(model))
    assert not result.exhausted and UserStep(0) not in result.trace
    assert not any(isinstance(a, UserStep) for a in actions(model, result.state))
    assert _workload_left(model, result.state) == ("judged with the user waiting in workload step 1 of 2: kubectl "
                                                   "rollout status statefulset/db -n default, and 1 more")
    # the engines end (bounded) and the convergence properties report the stuck rollout itself
    report = check(model.scenario, ["workloads-ready", "workload-steps-succeed"], engine="bfs",
                   bounds=Bounds(max_depth=8, max_states=300))
    assert report.violation is not None and report.violation.property == "workloads-ready", report.violation
    assert "judged with the user waiting in workload step 1 of 2" in report.violation.message


def test_on_delete_fails_rollout_status_at_once(tmp_path: Path) -> None:
    model = _scenario(tmp_path, "  - rolloutStatus: {statefulset: db}\n",
                      strategy="    type: OnDelete\n")
    state = step(model, initial_state(model), UserStep(0))
    assert state.workload_errors[0] == "error: rollout status is only available for RollingUpdate strategy type"


def _wait(tmp: Path, line: str) -> tuple[ClusterModel, ClusterState]:
    model = _scenario(tmp, line)
    return model, initial_state(model)


def test_wait_for_condition_returns_once_the_pod_is_ready(tmp_path: Path) -> None:
    model, state = _wait(tmp_path, "  - wait: {kind: Pod, name: db-0, for: condition=Ready, timeoutSeconds: 300}\n")
    assert describe(model.scenario.spec.workload[0]) == \
        "kubectl wait --for=condition=Ready pod/db-0 -n default --timeout=300s"
    state = _until_db0_exists(model, state)
    state = step(model, state, UserStep(0))  # db-0 is not Ready: the command starts waiting
    wait = command_wait(state)
    assert wait is not None and wait.deadline == 300 and state.workload_next == 0
    assert UserStep(0) not in actions(model, state)
    state = settle(model, state, max_steps=600, avoid=(UserStep,)).state
    assert _pods(state)["db-0"][1] and UserStep(0) in actions(model, state)
    state = step(model, state, UserStep(0))
    assert state.workload_next == 1 and command_wait(state) is None and not state.workload_errors


def _until_db0_exists(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The fair run (no user step) until the step naming db-0 is enabled: db-0 exists, not Ready."""
    assert UserStep(0) not in actions(model, state)  # db-0 is not there yet: the user waits to see it
    while UserStep(0) not in actions(model, state):
        state = step(model, state, next(a for a in actions(model, state) if not isinstance(a, UserStep)))
    assert not _pods(state)["db-0"][1]
    return state


def test_wait_with_timeout_zero_checks_once(tmp_path: Path) -> None:
    model, state = _wait(tmp_path, "  - wait: {kind: pod, name: db-0, for: condition=Ready, timeoutSeconds: 0}\n")
    state = step(model, _until_db0_exists(model, state), UserStep(0))
    assert state.workload_errors[0] == "error: condition not met for pods/db-0" and command_wait(state) is None


def test_wait_for_delete_returns_when_the_object_it_saw_is_gone(tmp_path: Path) -> None:
    model = _scenario(tmp_path, "  - delete: {kind: Pod, name: db-2, wait: false}\n"
                                "  - wait: {kind: Pod, name: db-2, for: delete, timeoutSeconds: -1}\n")
    state = settle(model, initial_state(model), max_steps=600, avoid=(UserStep,)).state
    old = state.store.get(ObjectKey("pods", "default", "db-2"))
    assert old is not None
    state = step(model, step(model, state, UserStep(0)), UserStep(1))
    wait = command_wait(state)
    assert wait is not None and wait.uid == old.metadata.uid and wait.deadline is None
    assert UserStep(1) not in actions(model, state)  # db-2 is terminating
    state = settle(model, state, max_steps=600, avoid=(UserStep,)).state
    assert UserStep(1) in actions(model, state)  # gone (the StatefulSet may have made a new db-2)
    state = step(model, state, UserStep(1))
    assert state.workload_next == 2 and command_wait(state) is None and not state.workload_errors


def _random_runs(model: ClusterModel, seed: int) -> list[tuple[ClusterState, ClusterState]]:
    """(state, successor) along random runs that often take the user's step and `Tick`."""
    rng, pairs = random.Random(seed), []
    for _ in range(4):
        state = initial_state(model)
        for _ in range(120):
            enabled = plain_actions(model, state)
            if not enabled:
                break
            favoured = [a for a in enabled if isinstance(a, UserStep | Tick)]
            pick = favoured if favoured and rng.random() < 0.3 else enabled
            nxt = step(model, state, pick[rng.randrange(len(pick))])
            pairs.append((state, nxt))
            state = nxt
    return pairs


def plain_actions(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    return tuple(a for component in compose.COMPONENTS for a in component.enabled(model, state))


def test_the_enabled_cache_and_footprints_know_the_waits(tmp_path: Path) -> None:
    """A waiting command's step is enabled by the clock (its deadline) and the store (its object):
    the enabled-actions cache answers as `actions` does, `DEPS` covers its key, and a `UserStep`
    and a `Tick` are never called independent."""
    timed = _scenario(tmp_path, "  - rolloutStatus: {statefulset: db, timeoutSeconds: 20}\n"
                                "  - wait: {kind: Pod, name: db-0, for: delete, timeoutSeconds: 20}\n", cpu=STUCK)
    for model in (timed, build_model(load_scenario(DATA / "sts-rollout.yaml"))):
        cache, footprints = EnabledCache(model), Footprints(model)
        pairs = _random_runs(model, 7)
        assert model is not timed or any(command_wait(s) is not None for s, _ in pairs)
        for before, after in pairs:
            assert cache.actions(after) == plain_actions(model, after)
            part = next(p for p in cache.parts if p.enabled_fn is workload.enabled)
            if part.deps is not None and part.deps.isdisjoint(changes(before, after)):
                assert part.key_fn(model, before) == part.key_fn(model, after)
        assert not footprints.independent(UserStep(0), Tick(10))


def test_deployment_rollout_status_waits_for_the_rollout_and_fails_past_its_progress_deadline() -> None:
    """maxUnavailable 25% of 2 rounds down to 0, as maxSurge 0 is: the correct model resolves the
    fenceposts to maxUnavailable 1 and the rollout finishes; with `rollout-fencepost` it stalls, the
    Deployment controller marks ProgressDeadlineExceeded after 60 s and the pipeline fails there."""
    for variant, error in ((None, None), ("rollout-fencepost", 'error: deployment "api" exceeded its progress '
                                                               'deadline')):
        model = build_model(load_scenario(DATA / "api-rollout.yaml"), variant=variant)
        state = initial_state(model)
        at: dict[int, int] = {}
        for act in fair_run(model, state).trace:
            state = step(model, state, act)
            if isinstance(act, UserStep):
                at[act.index] = state.clock
        assert state.workload_next == 4 and state.workload_errors.get(2) == error
        assert at[1] > 0 and at[2] > at[1]  # set image after the first rollout, the scale after the second
        if error is not None:
            assert at[2] - at[1] >= 60  # the progress deadline



def test_the_clock_waits_for_a_controller_with_queued_work() -> None:
    """Was a false alarm of bench_false_alarms.py on api-rollout.yaml, with no fault in its trace:
    off the expected run the model's clock ticked while a controller had a key queued, work upstream
    does in milliseconds; there the ReplicaSet controller kept the new ReplicaSet queued for 70 s, the
    Deployment controller marked the 60 s progress deadline exceeded and `rollout status` failed.
    Upstream only an outage of kube-controller-manager holds the ReplicaSet controller that long
    (`queued_work.holds_clock`): no `Tick` while it has the key queued; once it is down, the guard lets go."""
    model = build_model(load_scenario(DATA / "api-rollout.yaml"))
    state = initial_state(model)
    for act in (Reconcile("deployment", "default/api"),
                Deliver("controller-manager", "replicasets.apps", 12),
                Deliver("controller-manager", "deployments.apps", 13)):
        assert act in actions(model, state), act
        state = step(model, state, act)
    enabled = actions(model, state)
    assert any(isinstance(a, Reconcile) and a.controller == "replicaset" for a in enabled)
    assert not any(isinstance(a, Tick) for a in enabled)
    assert holds_clock(model, state)
    down = step(model, state, CrashComponent(CONTROLLER_MANAGER))  # an outage, which the trace shows
    assert not holds_clock(model, down)  # (time passes then only for a timer of another component)


HEALTHY = Allow((*(Match(kind) for kind in sorted(ACTION_TYPES)
                   if kind != "ProbeResult" and kind not in {k.__name__ for k in INJECTED_FAULTS}),
                 match("ProbeResult", probe=("readiness", "startup"))))
"""Every action but the injected faults and a failing liveness probe: the causes after which
api-rollout's 60 s progress deadline may pass as upstream (bench_false_alarms.py, INTENDED_WITH_CAUSE)."""


def _api_rollout(max_states: int) -> None:
    report = check(DATA / "api-rollout.yaml", bounds=Bounds(max_states=max_states), budget=None,
                   action_filter=HEALTHY, config=EngineConfig(runs=40, workers=1))
    assert report.violation is None, report.violation


def test_api_rollout_is_clean_without_a_fault_or_a_failing_liveness_probe() -> None:
    """The false alarm's regression, through the whole `check`: the correct model, the default
    strategy from the initial state, 300 distinct states and 40 runs per engine, one lane. Every
    run where the cluster itself holds the new pods past the deadline is gone (before the clock
    waited for prompt work, walk 39 found it: 17 steps, 7 ticks, no fault); the faults and the
    failing liveness probe, which `kubeprop check` does explore and which do exceed the deadline
    upstream too, are left out by the action filter. With the clock's three prompt-work guards
    (`queued_work.holds_clock`, the scheduler's, work in flight) answering False this bound still
    finds the false alarm; `..._to_1000_states` (`slow`) searches further."""
    _api_rollout(300)


@pytest.mark.slow
def test_api_rollout_is_clean_without_a_fault_or_a_failing_liveness_probe_to_1000_states() -> None:
    """The same check to 1,000 distinct states (the default run's bound until the twenty-first round)."""
    _api_rollout(1000)


def _wait_available(max_states: int, runs: int) -> None:
    report = check(DATA / "wait-available.yaml", bounds=Bounds(max_states=max_states), budget=None,
                   config=EngineConfig(runs=runs, workers=1))
    assert report.violation is None, report.violation
    assert report.stats is not None and report.stats.steps > 0


def test_a_wait_with_kubectls_default_timeout_is_clean_without_a_fault() -> None:
    """The eighth trial's false alarm (wait-available.yaml: no fault budget at all): `kubectl wait
    --for=condition=Available` with its default 30 s timeout failed after three ticks while the
    Deployment controller had its key queued. The whole `check`, the default strategy from the
    initial state, bounded in states (200) and runs (10), one lane: clean. Before the clock waited
    for prompt work the portfolio found it in 5 steps (with `queued_work.holds_clock` answering
    False this bound finds it after 448 steps); `..._to_1000_states` (`slow`) searches further."""
    _wait_available(200, 10)


@pytest.mark.slow
def test_a_wait_with_kubectls_default_timeout_is_clean_to_1000_states() -> None:
    """The same check to 1,000 distinct states and 40 runs (the default run's bounds until the
    twenty-first round)."""
    _wait_available(1000, 40)
