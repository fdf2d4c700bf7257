"""`kubectl wait --for=jsonpath=…` (trial16, item 3): how kubectl v1.33 reads the argument
(`staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go` processJSONPathInput, `get/customcolumn.go`
RelaxedJSONPathExpression), when it is met (`wait/json.go` checkCondition), and that its timeouts
are the `condition=` waits' (`workload_wait.outcome`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod, encode_object
from kubeprop.model.api.pod import PodStatus
from kubeprop.model.api.server import Response
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.workload_wait import CommandWait, outcome
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.scenario.schema import WaitStep, WorkloadStep, parse_for
from kubeprop.model.scenario.wait_for import jsonpath_met, parse_jsonpath
from kubeprop.properties.registry import first_violation, select

WAITS = Path(__file__).parents[1] / "data" / "waits"
POD_KEY = ObjectKey("pods", "default", "db-0")


@pytest.mark.parametrize(("text", "parsed"), [
    ("{.status.phase}=Running", ("{.status.phase}", "Running")),
    (".status.phase=Running", ("{.status.phase}", "Running")),
    ("status.phase=Running", ("{.status.phase}", "Running")),
    ("{status.phase}='Running'", ("{.status.phase}", "Running")),  # quotes trimmed from the value
    ("{.status.readyReplicas}", ("{.status.readyReplicas}", "")),  # any value
    ("{.status.conditions[0].type}=Ready", ("{.status.conditions[0].type}", "Ready")),
])
def test_the_forms_kubectl_reads(text: str, parsed: tuple[str, str]) -> None:
    assert parse_jsonpath(text) == parsed
    assert parse_for(f"jsonpath={text}") == ("jsonpath", *parsed)


@pytest.mark.parametrize(("text", "error"), [
    ("{.status.phase}=", "jsonpath wait has to have a value after equal sign"),
    ("{.a}=b=c", "jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or"),
    ("'{.status.phase}'=Running", "unexpected path string, expected a 'name1.name2'"),
    ("=Running", "jsonpath expression cannot be empty"),
    ('{.status.conditions[?(@.type=="Ready")].status}=True', "is not modelled: only a simple field path"),
    ("{.items[*].name}", "is not modelled"),
    ("{..phase}", "is not modelled"),
])
def test_what_kubectl_or_the_model_refuses(text: str, error: str) -> None:
    found = parse_jsonpath(text)
    assert isinstance(found, str) and error in found
    assert parse_for(f"jsonpath={text}") is None


def test_a_doubled_equals_sign_does_not_split() -> None:
    assert parse_jsonpath("{.a}=x==y") == ("{.a}", "x==y")


def _pod(phase: str = "") -> Pod:
    return Pod(metadata=ObjectMeta(name="db-0", namespace="default", uid="p1"), status=PodStatus(phase=phase))


def test_met_not_met_and_the_nested_value_error() -> None:
    body = encode_object(_pod("Running"))
    assert jsonpath_met(body, ("{.status.phase}", "Running")) is True
    assert jsonpath_met(body, ("{.status.phase}", " Running ")) is True  # both sides trimmed
    assert jsonpath_met(body, ("{.status.phase}", "running")) is False  # compared as written
    assert jsonpath_met(body, ("{.status.podIP}", "")) is False  # missing: not met yet
    assert jsonpath_met(body, ("{.status.phase}", "")) is True
    assert jsonpath_met(body, ("{.metadata}", "")) is True  # any value, an object too
    assert jsonpath_met(body, ("{.metadata}", "x")) == \
        "jsonpath leads to a nested object or list which is not supported"
    assert jsonpath_met({"spec": {"replicas": 3, "paused": True}}, ("{.spec.replicas}", "3")) is True
    assert jsonpath_met({"spec": {"paused": True}}, ("{.spec.paused}", "true")) is True
    assert jsonpath_met({"a": [{"b": 1}]}, ("{.a[1].b}", "1")) is False  # past the list's end: missing


def test_timeouts_are_the_condition_waits() -> None:
    step = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="jsonpath={.status.phase}=Running"))
    once = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="jsonpath={.status.phase}=Running",
                                      timeout_seconds=0))
    nested = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="jsonpath={.status}=Running"))
    waiting = CommandWait(0, "pods", "default", "db-0", "p1", 30)
    running, pending = Response(200, "OK", obj=_pod("Running")), Response(200, "OK", obj=_pod("Pending"))
    assert outcome(step, POD_KEY, running, None, 0) == ""
    assert outcome(step, POD_KEY, pending, None, 0) is None
    assert outcome(once, POD_KEY, pending, None, 0) == "error: condition not met for pods/db-0"
    assert outcome(step, POD_KEY, pending, waiting, 30) == "error: timed out waiting for the condition on pods/db-0"
    assert outcome(nested, POD_KEY, pending, None, 0) == \
        "error: jsonpath leads to a nested object or list which is not supported"


def _scenario(tmp_path: Path, wait_for: str) -> Path:
    text = (WAITS / "wait-available.yaml").read_text().replace("[web/web.yaml]", f"[{WAITS / 'web' / 'web.yaml'}]")
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace("for: condition=Available", f"for: {wait_for!r}"))
    return path


def test_a_jsonpath_wait_returns_on_the_expected_run_and_times_out_when_never_met(tmp_path: Path) -> None:
    steps_succeed = select(["workload-steps-succeed"])
    model = build_model(load_scenario(_scenario(tmp_path, "jsonpath={.status.availableReplicas}=1")))
    result = fair_run(model, initial_state(model))
    assert result.state.workload_next == 1 and not result.state.workload_errors
    assert first_violation(model, result.state, steps_succeed) is None
    model = build_model(load_scenario(_scenario(tmp_path, "jsonpath={.status.availableReplicas}=2")))
    result = fair_run(model, initial_state(model))
    found = first_violation(model, result.state, steps_succeed)
    assert found is not None and found.message == (
        "workload step 1 (kubectl wait --for=jsonpath={.status.availableReplicas}=2 deployment/web -n default) "
        "failed: error: timed out waiting for the condition on deployments/web")


def test_a_refused_jsonpath_is_reported_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path, "jsonpath='{.status.phase}'=Running"))
    (problem,) = err.value.problems
    assert (problem.line, problem.field) == (13, "workload[0].wait.for")
    assert "without the shell's quotes" in problem.message


def test_set_image_names_a_daemonset_or_a_replicaset(tmp_path: Path) -> None:
    """`kubectl set image daemonset/log-shipper shipper=shipper:2` (trial16: `setImage: {daemonset: …}`
    was an unknown field; `polymorphichelpers/updatepodspec.go` sets the image of every kind with a pod
    template): the DaemonSet controller rolls its pods to the new image."""
    rollout = (Path(__file__).parents[1] / "data" / "daemonset" / "rollout.yaml").read_text()
    folder = Path(__file__).parents[1] / "data" / "daemonset" / "shipper"
    path = tmp_path / "scenario.yaml"
    set_image = "  - setImage: {daemonset: default/log-shipper, container: shipper, image: shipper:2}\n"
    path.write_text(rollout.replace("manifests: [shipper]", f"manifests: [{folder}]").replace(
        "  - apply: shipper-v2\n", set_image))
    model = build_model(load_scenario(path))
    result = fair_run(model, initial_state(model))
    assert result.state.workload_next == 3 and not result.state.workload_errors
    images = {p.spec.containers[0].image for p in result.state.store.list("pods", "default")}
    assert images == {"shipper:2"}
    path.write_text(path.read_text().replace("setImage: {daemonset: default/log-shipper", "setImage: {replicaset: x"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert [p.message for p in err.value.problems] == [
        "no ReplicaSet 'x' in the manifests or an earlier apply step; defined: (none)"]


def test_a_wait_for_complete_on_a_failed_job_says_the_job_failed() -> None:
    """trial16: `condition complete=true of Job default/db-migrate is never met (no such condition)`
    did not say why: the Job is Failed, a terminal condition the Job controller never changes."""
    from kubeprop.model.api.batch import Job, JobStatus
    from kubeprop.model.api.meta import Condition
    from kubeprop.properties.workload_finish import _unmet
    failed = Condition(type="Failed", status="True", reason="BackoffLimitExceeded",
                       message="Job has reached the specified backoff limit")
    job = Job(metadata=ObjectMeta(name="db-migrate", namespace="default"),
              status=JobStatus(conditions=(Condition(type="FailureTarget", status="True"), failed), failed=3))
    assert _unmet("condition=complete", job, "Job default/db-migrate") == (
        "condition complete=true of Job default/db-migrate is never met (no such condition: the Job is Failed "
        "(BackoffLimitExceeded: Job has reached the specified backoff limit) and stays so)")
    assert _unmet("condition=Failed=false", job, "Job default/db-migrate") == (
        "condition Failed=false of Job default/db-migrate is never met (Failed=True)")
    assert _unmet("jsonpath={.status.failed}=0", job, "Job default/db-migrate") == (
        "jsonpath {.status.failed}=0 of Job default/db-migrate is never met (it is '3')")
    # `succeeded: 0` is left out of the JSON (omitempty), as kubectl receives it
    assert _unmet("jsonpath={.status.succeeded}", job, "Job default/db-migrate") == (
        "jsonpath {.status.succeeded} of Job default/db-migrate is never met (no such field)")
