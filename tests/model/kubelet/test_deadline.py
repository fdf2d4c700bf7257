"""The active deadline handler (`pkg/kubelet/active_deadline.go`): a pod past
`spec.activeDeadlineSeconds` is killed and reported Failed, reason DeadlineExceeded; and the
field's validation (`pkg/apis/core/validation` ValidatePodSpec, ValidatePodUpdate)."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import api, make_model

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.codec import decode, encode
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec
from kubeprop.model.api.server import Request
from kubeprop.model.api.validation import FieldError, validate_create, validate_update
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.deadline import DEADLINE_MESSAGE
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Tick, action_from_json, to_json
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.runner import configure, run_engine
from kubeprop.properties.registry import first_violation, select

from .test_kubelet import NODE, POD, api_pod, bound_state, runtime, step, web_pod

TRIAL = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "deadline" / "scenario.yaml"


def deadline_pod(seconds: int | None, restart_policy: str = "") -> Pod:
    """`web` with the deadline, without its liveness probe (whose timer, 20 s after the start, is
    not what these tests look at: `test_probe_timing`)."""
    pod = web_pod(restart_policy=restart_policy)
    containers = tuple(attrs.evolve(c, liveness_probe=None) for c in pod.spec.containers)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, active_deadline_seconds=seconds, containers=containers))


def started(model: ClusterModel, pod: Pod) -> ClusterState:
    state = bound_state(model, pod)
    state = step(model, state, kl.StartPod(NODE, POD))
    return step(model, state, kl.SyncPodStatus(NODE, POD))


def tick_to(model: ClusterModel, state: ClusterState, clock: int) -> ClusterState:
    """Advance the clock by hand (the kubelet's actions alone, no Tick action)."""
    return attrs.evolve(state, clock=clock)


def deadline_actions(model: ClusterModel, state: ClusterState) -> list[kl.Action]:
    return [a for a in kl.enabled(model, state) if isinstance(a, kl.ActiveDeadlineExceeded)]


def test_the_pod_is_failed_with_deadline_exceeded_once_its_deadline_passes() -> None:
    model = make_model()
    state = started(model, deadline_pod(30))
    assert kl.next_timer(model, state) == 30
    assert deadline_actions(model, tick_to(model, state, 29)) == []
    state = tick_to(model, state, 30)
    assert deadline_actions(model, state) == [kl.ActiveDeadlineExceeded(NODE, POD)]
    state = step(model, state, kl.ActiveDeadlineExceeded(NODE, POD))
    assert runtime(state).deadline_exceeded and runtime(state).kill_deadline == 60  # the pod's 30 s grace
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None  # status_manager.go mergePodStatus: no terminal phase while containers may run
    assert (pod.status.phase, pod.status.reason) == ("Running", "")
    state = step(model, tick_to(model, state, 60), kl.SigKillPod(NODE, POD))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None
    assert (pod.status.phase, pod.status.reason, pod.status.message) == ("Failed", "DeadlineExceeded", DEADLINE_MESSAGE)
    assert pod.metadata.deletion_timestamp is None  # it stays in the API, Failed
    assert pod.status.container_statuses[0].state["terminated"]["exitCode"] == 137
    assert deadline_actions(model, state) == [] and kl.next_timer(model, state) is None
    assert not any(isinstance(a, kl.RestartContainer) for a in kl.enabled(model, tick_to(model, state, 999)))


def test_a_clean_exit_on_sigterm_is_still_failed() -> None:
    """Every container exiting 0 after the deadline does not make the pod Succeeded."""
    model = make_model()
    state = step(model, tick_to(model, started(model, deadline_pod(10, "Never")), 10),
                 kl.ActiveDeadlineExceeded(NODE, POD))
    state = step(model, step(model, state, kl.StopGracefully(NODE, POD, 0)), kl.SyncPodStatus(NODE, POD))
    pod = api_pod(state)
    assert pod is not None and (pod.status.phase, pod.status.reason) == ("Failed", "DeadlineExceeded")


def test_no_deadline_no_timer_and_a_lowered_deadline_applies() -> None:
    model = make_model()
    state = started(model, deadline_pod(None))
    assert kl.next_timer(model, state) is None and deadline_actions(model, tick_to(model, state, 10**6)) == []
    state = started(model, deadline_pod(300))
    pod = api_pod(state)
    assert pod is not None
    lowered = attrs.evolve(pod, spec=attrs.evolve(pod.spec, active_deadline_seconds=20))
    state = api(state, model, Request(verb="update", user=ADMIN, obj=lowered))
    assert deadline_actions(model, tick_to(model, state, 20)) == [kl.ActiveDeadlineExceeded(NODE, POD)]
    assert kl.next_timer(model, state) == 300  # the admitted deadline keeps the clock moving past 20


def test_a_finished_pod_is_not_killed_again() -> None:
    model = make_model()
    state = started(model, deadline_pod(10, "Never"))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    assert deadline_actions(model, tick_to(model, state, 10)) == [] and kl.next_timer(model, state) is None


def test_the_action_round_trips_through_json() -> None:
    act = kl.ActiveDeadlineExceeded(NODE, POD)
    assert action_from_json(to_json(act)) == act
    assert str(act) == "ActiveDeadlineExceeded(node=worker-1, pod=default/web)"


def test_the_field_decodes_and_encodes_and_absent_leaves_fingerprints_alone() -> None:
    spec = decode(PodSpec, {"containers": [{"name": "a", "image": "b"}], "activeDeadlineSeconds": 30}, ())
    assert spec.active_deadline_seconds == 30 and encode(spec)["activeDeadlineSeconds"] == 30
    plain = PodSpec(containers=(Container(name="a", image="b"),))
    assert "activeDeadlineSeconds" not in encode(plain)
    assert fingerprint(plain) == "81fbd5dc83bc9a7f"  # as before the field existed


def _errors(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def _pod(seconds: int | None) -> Pod:
    container = Container(name="a", image="b", image_pull_policy="IfNotPresent")
    return Pod(metadata=ObjectMeta(name="web", namespace="default"),
               spec=PodSpec(containers=(container,), restart_policy="Always", active_deadline_seconds=seconds))


def test_validation_positive_on_create_and_only_added_or_lowered_on_update() -> None:
    out_of_range = "must be between 1 and 2147483647, inclusive"
    assert _errors(validate_create(_pod(0))) == [f"spec.activeDeadlineSeconds: Invalid value: 0: {out_of_range}"]
    assert _errors(validate_create(_pod(2**31))) == [
        f"spec.activeDeadlineSeconds: Invalid value: 2147483648: {out_of_range}"]
    assert validate_create(_pod(1)) == [] and validate_create(_pod(None)) == []
    assert validate_update(_pod(10), _pod(None)) == []  # added
    assert validate_update(_pod(5), _pod(10)) == []  # lowered
    assert _errors(validate_update(_pod(20), _pod(10))) == [
        "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"]
    assert _errors(validate_update(_pod(None), _pod(10))) == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"]
    assert _errors(validate_update(_pod(2**31), _pod(None))) == [
        f"spec.activeDeadlineSeconds: Invalid value: 2147483648: {out_of_range}",
        "spec.activeDeadlineSeconds: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive"]


def test_the_trial_scenario_frees_the_node_and_the_deployment_completes() -> None:
    """User trial 5, F2: a pod with a 30 s deadline on a 1-CPU node; upstream the kubelet kills it
    at 30 s and the Deployment's pod takes its place. The fair run ends with the deadline pod
    Failed and the Deployment complete; the search around it finds no violation (the model
    without the deadline found `deployments-complete` violated at once)."""
    model = build_model(load_scenario(TRIAL))
    run = fair_run(model, initial_state(model))
    assert kl.ActiveDeadlineExceeded("n1", "default/deadline-job-0") in run.trace
    assert sum(isinstance(a, Tick) for a in run.trace) == 3
    pods = {p.metadata.name.split("-")[0]: (p.status.phase, p.status.reason) for p in run.state.store.list("pods")
            if isinstance(p, Pod)}
    assert pods == {"api": ("Running", ""), "deadline": ("Failed", "DeadlineExceeded")}
    assert first_violation(model, run.state, select(kind="convergence")) is None
    report = run_engine("around", model, initial_state(model), configure(bounds=Bounds(max_states=3000), budget=None))
    assert report.violation is None
