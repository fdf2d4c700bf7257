"""The exit codes of a container stopped by SIGTERM — its pod deleted (`StopGracefully`), or killed for
a failed probe (`ContainerExit` before the kill's deadline): the process chooses (`kuberuntime_container.go`
killContainer only signals), so the model offers 0, 143 and a code of each class its pod failure policies
tell apart (`exit_codes.ExitCodes.on_sigterm`), narrowed by an `environment.exits` rule's `codes` with
143 kept (`exit_rules.stop_choices`, `sigterm_choices`). The old model stopped a deleted pod's
containers with exit 0 only, so a deleted pod of a restartPolicy Never Job always ended Succeeded."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_harness import api, make_model
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.counterexamples.format_forms import current_forms
from kubeprop.model.api.batch import Job, PodFailurePolicyOnExitCodesRequirement
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, is_progress, run, settle
from kubeprop.model.controllers.job_policy import _operator_matches
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.actions import MAX_EXIT_CODE, ContainerExit, StopGracefully
from kubeprop.model.kubelet.exit_codes import ExitCodes
from kubeprop.model.kubelet.status import get_phase
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import ActionError, action_from_json
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_exit_codes import REQUIREMENT
from .test_kubelet import NODE, POD, bound_state, delete_web, run_ready, runtime, web_pod
from .test_kubelet import step as kubelet_step
from .test_probe_kill import _killed, _pod

DATA = Path(__file__).parents[1] / "data" / "exits"


def _stops(model: ClusterModel, state: ClusterState) -> list[int]:
    return [a.exit_code for a in kl.enabled(model, state) if isinstance(a, StopGracefully)]


def test_a_deleted_never_pod_may_die_of_sigterm_and_is_then_failed() -> None:
    """Upstream a process SIGTERM ends exits 143, and a pod whose container exited non-zero is Failed
    (`getPhase`): the old model's deleted batch pod was always Succeeded."""
    model = make_model()
    state = run_ready(model, bound_state(model, web_pod(restart_policy="Never")))
    state = kubelet_step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    assert _stops(model, state) == [0, 143]  # no pod failure policy: 143 stands for every failing code
    killed = kubelet_step(model, state, StopGracefully(NODE, POD, 143))
    (c,) = runtime(killed).containers
    assert (c.running, c.exit_code, c.exit_reason) == (False, 143, "Error")
    assert get_phase(runtime(killed)) == "Failed"
    handled = kubelet_step(model, state, StopGracefully(NODE, POD, 0))
    assert get_phase(runtime(handled)) == "Succeeded"


def test_a_container_killed_for_a_failed_probe_is_offered_143_and_0_without_a_policy() -> None:
    model = make_model()
    state = _killed(model, _pod(restart_policy="Never"))
    assert [a.exit_code for a in kl.enabled(model, state) if isinstance(a, ContainerExit)] == [143, 0]


def _running_pod(model: ClusterModel) -> tuple[ClusterState, str]:
    """The run a user expects up to the Job's container's first `ContainerExit` (its pod running), then
    the pod deleted by the admin and the kubelet about to stop it: the state and the pod's key."""
    start = initial_state(model)
    expected = fair_run(model, start).trace
    exit_at = next(i for i, a in enumerate(expected) if isinstance(a, ContainerExit))
    state = run(model, start, expected[:exit_at])
    key = expected[exit_at].pod
    namespace, name = key.split("/")
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace=namespace, name=name))
    stop = (StopGracefully, ContainerExit)
    state = settle(model, state, allow_ticks=False, avoid=(*stop, kl.SigKillPod, kl.PreStopOverrun)).state
    return state, key


def _job(state: ClusterState) -> Job:
    (job,) = [j for j in state.store.list("jobs.batch") if isinstance(j, Job)]
    return job


def test_a_deleted_job_pod_exits_on_sigterm_with_each_class_and_the_policy_judges_it() -> None:
    """policy.yaml fails the Job on 42, ignores 3 and counts the rest against backoffLimit 0. A pod the
    admin deletes while it runs is offered 0, 3, 42 and 143; it then ends Failed (but for 0) and the Job
    controller applies the policy to it as to any failed pod (`pod_failure_policy.go`): the old model
    only stopped it with exit 0, so the Job then always completed."""
    model = build_model(load_scenario(DATA / "policy.yaml"))
    state, key = _running_pod(model)
    stops = [a for a in actions(model, state) if isinstance(a, StopGracefully)]
    assert [a.exit_code for a in stops] == [0, 3, 42, 143]
    outcomes = {}
    for act in stops:
        after = fair_run(model, step(model, state, act))
        assert not after.exhausted
        outcomes[act.exit_code] = sorted(f"{c.type}:{c.reason}" for c in _job(after.state).status.conditions
                                         if c.type in ("Failed", "Complete") and c.status == "True")
    assert outcomes[42] == ["Failed:PodFailurePolicy"]
    assert outcomes[143] == ["Failed:BackoffLimitExceeded"]
    assert outcomes[0][0].startswith("Complete:") and outcomes[3][0].startswith("Complete:")
    assert isinstance(state.store.get(ObjectKey("pods", *key.split("/"))), Pod)


def test_a_rule_s_codes_say_what_a_container_exits_with_on_sigterm_beside_143() -> None:
    """coded.yaml's rule says Job `retry`'s container exits 0 or 42: a deleted pod's container exits on
    SIGTERM with 0, 42 (its handler's codes) or 143 (the signal's), no other (the old model: 0 only)."""
    model = build_model(load_scenario(DATA / "coded.yaml"))
    state, _ = _running_pod(model)
    assert [a.exit_code for a in actions(model, state) if isinstance(a, StopGracefully)] == [0, 42, 143]


def test_the_containers_of_one_turn_exit_with_a_code_each_of_them_may_exit_with() -> None:
    """pair.yaml: `main` exits 0 or 42 (its rule), `side` is free and its Job ignores its exit 3.
    Stopped in one turn with one code, they are offered 0, 42 and 143 — not 3, which `main` never
    exits with; the pod that dies of SIGTERM is Failed, counted against backoffLimit 0."""
    model = build_model(load_scenario(DATA / "pair.yaml"))
    state, _ = _running_pod(model)
    stops = [a for a in actions(model, state) if isinstance(a, StopGracefully)]
    assert [a.exit_code for a in stops] == [0, 42, 143]
    after = fair_run(model, step(model, state, stops[-1])).state
    assert any(c.type == "Failed" and c.reason == "BackoffLimitExceeded" and c.status == "True"
               for c in _job(after).status.conditions)


def test_a_failing_exit_on_sigterm_is_bad_luck_the_fair_runs_do_not_take() -> None:
    assert is_progress(StopGracefully(NODE, POD, 0)) and not is_progress(StopGracefully(NODE, POD, 143))


@settings(max_examples=60, deadline=None)
@given(rules=st.lists(st.tuples(st.sampled_from(["default", "other"]), REQUIREMENT), max_size=5))
def test_the_codes_on_sigterm_are_one_per_class_143_for_its_own(
        rules: list[tuple[str, PodFailurePolicyOnExitCodesRequirement]]) -> None:
    """The failing codes offered on SIGTERM are those of an exit by itself but for 143 standing for its
    class: one per class of the container's requirements, every code matched as one of them is."""
    codes = ExitCodes(tuple(rules))
    offered, by_itself = codes.on_sigterm("default", "main"), codes.non_zero("default", "main")
    mine = [r for ns, r in rules if ns == "default" and r.container_name in (None, "main")]

    def matches(code: int) -> tuple[bool, ...]:
        return tuple(_operator_matches(code, r) for r in mine)

    assert 143 in offered and list(offered) == sorted(offered) and len(offered) == len(by_itself)
    assert len({matches(c) for c in offered}) == len(offered)
    assert {matches(c) for c in offered} == {matches(c) for c in range(1, MAX_EXIT_CODE + 1)}
    assert {c for c in offered if c != 143} <= set(by_itself)


def test_an_old_file_s_stop_gracefully_without_a_code_is_an_exit_0() -> None:
    """Files written before 0.2.0 hold `StopGracefully` without `exit_code`: read as the exit 0 it was."""
    old = {"action": "StopGracefully", "node": NODE, "pod": POD}
    (data,) = current_forms([old])
    assert action_from_json(data) == StopGracefully(NODE, POD, 0)
    with pytest.raises(ActionError, match="missing field 'exit_code'"):
        action_from_json(old)
    with pytest.raises(ActionError, match=r"StopGracefully\.exit_code must be an int from 0 to 255"):
        action_from_json({**old, "exit_code": 256})
