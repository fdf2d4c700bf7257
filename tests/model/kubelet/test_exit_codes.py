"""The exit codes a container that ends by itself is offered (`kubeprop.model.kubelet.exit_codes`): 0
and one code per class of the scenario's podFailurePolicy `onExitCodes` rules, or exactly the codes of
its `environment.exits` rule; and what an exit code then does (a Job's policy, an OnFailure restart)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.batch import Job, PodFailurePolicyOnExitCodesRequirement, condition_true
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, run
from kubeprop.model.controllers.job_policy import _operator_matches
from kubeprop.model.kubelet.actions import MAX_EXIT_CODE, ContainerExit, RestartContainer
from kubeprop.model.kubelet.exit_codes import ExitCodes
from kubeprop.model.kubelet.local import kubelet_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import ActionError, action_from_json
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "exits"


def _at_exit(model: ClusterModel) -> tuple[ClusterState, list[ContainerExit]]:
    """The run a user expects, up to its first `ContainerExit`: the state, and the exits offered there."""
    start = initial_state(model)
    expected = fair_run(model, start).trace
    state = run(model, start, expected[:next(i for i, a in enumerate(expected) if isinstance(a, ContainerExit))])
    return state, [a for a in actions(model, state) if isinstance(a, ContainerExit)]


def _job(state: ClusterState) -> Job:
    (job,) = [j for j in state.store.list("jobs.batch") if isinstance(j, Job)]
    return job


def test_a_job_policy_is_checked_as_written_fail_on_42_ignore_3_count_the_rest() -> None:
    """From the initial state the model offers `main` the exits 0, 1, 3 and 42 — one per class of the
    policy's codes — and each reaches its outcome: 42 fails the Job by the FailJob rule (the old model,
    whose failing exit was always 1, never reached it), 1 counts against backoffLimit 0, 3 is ignored
    (the pod replaced), 0 completes the Job."""
    model = build_model(load_scenario(DATA / "policy.yaml"))
    state, exits = _at_exit(model)
    assert [a.exit_code for a in exits] == [1, 3, 42, 0]
    outcomes: dict[int, tuple[str, ...]] = {}
    for act in exits:
        after = fair_run(model, step(model, state, act))
        assert not after.exhausted
        job = _job(after.state)
        outcomes[act.exit_code] = tuple(sorted(f"{c.type}:{c.reason}" for c in job.status.conditions
                                               if c.type in ("Failed", "Complete") and c.status == "True"))
        if act.exit_code == 3:
            assert job.status.failed == 0 and job.status.succeeded == 1  # ignored, replaced, the new pod exits 0
    assert outcomes[42] == ("Failed:PodFailurePolicy",)
    assert outcomes[1] == ("Failed:BackoffLimitExceeded",)
    assert outcomes[3][0].startswith("Complete:") and outcomes[0][0].startswith("Complete:")
    failed = fair_run(model, step(model, state, next(a for a in exits if a.exit_code == 42))).state
    message = next(c.message for c in _job(failed).status.conditions if c.type == "Failed")
    assert "failed with exit code 42 matching FailJob rule at index 0" in message


def test_environment_exits_codes_0_and_42_offer_exactly_0_and_42_and_on_failure_restarts_on_42() -> None:
    model = build_model(load_scenario(DATA / "coded.yaml"))
    state, exits = _at_exit(model)
    assert [a.exit_code for a in exits] == [42, 0]
    state = step(model, state, next(a for a in exits if a.exit_code == 42))
    ((key, runtime),) = kubelet_state(state, exits[0].node).pods.sorted_items()
    (c,) = runtime.containers
    assert (c.running, c.exit_code, c.exit_reason) == (False, 42, "Error")
    assert runtime.should_restart(c)  # restartPolicy OnFailure: any code but 0 (ShouldContainerBeRestarted)
    after = fair_run(model, state)
    assert any(isinstance(a, RestartContainer) and a.pod == key for a in after.trace)
    pod = after.state.store.get(ObjectKey("pods", *key.split("/")))
    assert isinstance(pod, Pod) and pod.status.container_statuses[0].restart_count == 1
    assert condition_true(_job(after.state), "Complete")


def test_without_a_policy_or_a_rule_the_exits_are_0_and_1() -> None:
    """batch.yaml has rules, none with codes for Job `free`, and no podFailurePolicy: along the run a
    user expects, `loose` is offered exactly 1 and 0 (in the old `success` order: failing first)."""
    model = build_model(load_scenario(DATA / "batch.yaml"))
    state, seen = initial_state(model), []
    for act in fair_run(model, state).trace:
        seen.append([a.exit_code for a in actions(model, state)
                     if isinstance(a, ContainerExit) and a.container == "loose"])
        state = step(model, state, act)
    assert [1, 0] in seen and all(codes in ([], [1, 0]) for codes in seen)


def test_an_exit_code_is_one_byte() -> None:
    for bad in (-1, 256, True):
        with pytest.raises(ValueError, match="from 0 to 255"):
            ContainerExit("n", "default/p", "c", bad)


REQUIREMENT = st.builds(
    PodFailurePolicyOnExitCodesRequirement,
    operator=st.sampled_from(["In", "NotIn"]),
    values=st.lists(st.sampled_from([1, 2, 3, 42, 137, 143, 255]) | st.integers(1, 255), min_size=1, max_size=5,
                    unique=True).map(lambda v: tuple(sorted(v))),
    container_name=st.sampled_from([None, "main", "side"]),
)


def _matches(code: int, requirements: list[PodFailurePolicyOnExitCodesRequirement]) -> tuple[bool, ...]:
    """What the Job controller's matching (`job_policy`, isOnExitCodesOperatorMatching) says of `code`."""
    return tuple(_operator_matches(code, r) for r in requirements)


@settings(max_examples=60, deadline=None)
@given(rules=st.lists(st.tuples(st.sampled_from(["default", "other"]), REQUIREMENT), max_size=5))
def test_the_codes_offered_are_one_per_class_of_the_rules(
        rules: list[tuple[str, PodFailurePolicyOnExitCodesRequirement]]) -> None:
    """For container `main` in `default`: two codes offered never match the same requirements of its
    own (of its namespace, its name or none); every non-zero code matches as one offered code does; 1
    stands for the codes in no such requirement's values."""
    offered = ExitCodes(tuple(rules)).non_zero("default", "main")
    mine = [r for ns, r in rules if ns == "default" and r.container_name in (None, "main")]
    assert list(offered) == sorted(offered)
    assert len({_matches(code, mine) for code in offered}) == len(offered)
    seen = {_matches(code, mine) for code in offered}
    assert all(_matches(code, mine) in seen for code in range(1, MAX_EXIT_CODE + 1))
    if not any(1 in r.values for r in mine):
        assert 1 in offered
    if not mine:
        assert offered == (1,)


@pytest.mark.parametrize("code", [-1, 256, 999])
def test_an_exit_code_out_of_range_in_a_file_is_bad_input(code: int) -> None:
    """A counterexample file's `ContainerExit` with an exit code no process has is the file's problem
    (`ActionError`, exit 2), not an internal error."""
    data = {"action": "ContainerExit", "node": "worker-1", "pod": "default/p", "container": "c", "exit_code": code}
    with pytest.raises(ActionError, match="must be an int from 0 to 255"):
        action_from_json(data)
