"""kubectl's status viewers and `kubectl wait`'s checks, rule by rule
(`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`,
`staging/src/k8s.io/kubectl/pkg/cmd/wait/condition.go`, `wait.go`), and how a waiting command ends
(`workload_wait.outcome`): done, failed at once, waiting, timed out, its object deleted."""

from __future__ import annotations

import pytest

from kubeprop.model.api.apps import (
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetSpec,
    StatefulSetStatus,
    StatefulSetUpdateStrategy,
)
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.pod import PodStatus
from kubeprop.model.api.server import Response
from kubeprop.model.cluster.workload_wait import (
    CommandWait,
    Verdict,
    condition_met,
    deployment_status,
    outcome,
    statefulset_status,
)
from kubeprop.model.scenario.schema import RolloutStatusStep, WaitStep, WorkloadStep, parse_for


def _deployment(generation: int = 2, observed: int = 2, replicas: int | None = 3, updated: int = 3, total: int = 3,
                available: int = 3, conditions: tuple[Condition, ...] = ()) -> Deployment:
    return Deployment(metadata=ObjectMeta(name="web", namespace="default", generation=generation, uid="u1"),
                      spec=DeploymentSpec(replicas=replicas),
                      status=DeploymentStatus(observed_generation=observed, replicas=total, updated_replicas=updated,
                                              available_replicas=available, conditions=conditions))


def test_deployment_waits_until_its_generation_is_observed() -> None:
    assert deployment_status(_deployment(generation=3, observed=2)) == \
        Verdict(False, "Waiting for deployment spec update to be observed...")


def test_deployment_past_its_progress_deadline_fails_the_command() -> None:
    timed_out = Condition(type="Progressing", status="False", reason="ProgressDeadlineExceeded")
    verdict = deployment_status(_deployment(updated=1, conditions=(timed_out,)))
    assert not verdict.done and verdict.error == 'deployment "web" exceeded its progress deadline'
    # a Progressing condition for another reason is no error
    progressing = Condition(type="Progressing", status="True", reason="ReplicaSetUpdated")
    assert deployment_status(_deployment(updated=1, conditions=(progressing,))).error == ""


@pytest.mark.parametrize(("shape", "status"), [
    ({"updated": 1}, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'),
    ({"total": 4}, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'),
    ({"available": 2}, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'),
])
def test_deployment_waits_for_updated_then_old_gone_then_available(shape: dict[str, int], status: str) -> None:
    assert deployment_status(_deployment(**shape)) == Verdict(False, status)


def test_deployment_done() -> None:
    assert deployment_status(_deployment()) == Verdict(True, 'deployment "web" successfully rolled out')
    # without spec.replicas the updated count is not compared with it (the viewer's nil check)
    assert deployment_status(_deployment(replicas=None, updated=0, total=0, available=0)).done


def _sts(kind: str = "RollingUpdate", partition: int | None = 0, rolling: bool = True, generation: int = 2,
         observed: int = 2, ready: int = 3, updated: int = 3, current: str = "r1", update: str = "r1") -> StatefulSet:
    strategy = StatefulSetUpdateStrategy(type=kind, rolling_update=RollingUpdateStatefulSetStrategy(
        partition=partition) if rolling else None)
    return StatefulSet(metadata=ObjectMeta(name="db", namespace="default", generation=generation, uid="u1"),
                       spec=StatefulSetSpec(replicas=3, update_strategy=strategy),
                       status=StatefulSetStatus(observed_generation=observed, ready_replicas=ready,
                                                updated_replicas=updated, current_replicas=3, current_revision=current,
                                                update_revision=update))


def test_statefulset_on_delete_fails_the_command() -> None:
    verdict = statefulset_status(_sts(kind="OnDelete", rolling=False))
    assert verdict.error == "rollout status is only available for RollingUpdate strategy type"


@pytest.mark.parametrize(("generation", "observed"), [(1, 0), (3, 2)])
def test_statefulset_waits_until_observed(generation: int, observed: int) -> None:
    assert statefulset_status(_sts(generation=generation, observed=observed)) == \
        Verdict(False, "Waiting for statefulset spec update to be observed...")


def test_statefulset_waits_for_ready_replicas() -> None:
    assert statefulset_status(_sts(ready=1)) == Verdict(False, "Waiting for 2 pods to be ready...")


def test_statefulset_partition_counts_only_the_pods_at_and_above_it() -> None:
    # partition 1 of 3: two pods (ordinals 1, 2) must be updated; ordinal 0 stays
    assert statefulset_status(_sts(partition=1, updated=1, update="r2")) == Verdict(
        False, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...")
    assert statefulset_status(_sts(partition=1, updated=2, update="r2")) == Verdict(
        True, "partitioned roll out complete: 2 new pods have been updated...")


def test_statefulset_with_a_rolling_update_struct_ignores_the_revisions() -> None:
    # upstream returns done from the partition branch, revisions unequal or not
    assert statefulset_status(_sts(partition=0, updated=3, current="r1", update="r2")).done


def test_statefulset_without_a_rolling_update_compares_the_revisions() -> None:
    assert statefulset_status(_sts(rolling=False, updated=1, update="r2")) == Verdict(
        False, "waiting for statefulset rolling update to complete 1 pods at revision r2...")
    assert statefulset_status(_sts(rolling=False, current="r2", update="r2")) == Verdict(
        True, "statefulset rolling update complete 3 pods at revision r2...")


def _pod(*conditions: Condition, generation: int = 0) -> Pod:
    return Pod(metadata=ObjectMeta(name="db-0", namespace="default", generation=generation, uid="p1"),
               status=PodStatus(conditions=conditions))


def test_condition_type_and_status_compare_case_folded_with_true_by_default() -> None:
    ready = _pod(Condition(type="Ready", status="True"))
    assert condition_met(ready, "ready", "true") and condition_met(ready, "Ready", "TRUE")
    assert not condition_met(ready, "Ready", "false")
    assert not condition_met(_pod(Condition(type="Ready", status="False")), "Ready", "true")
    assert not condition_met(_pod(), "Ready", "true")  # no conditions at all


def test_the_first_condition_of_the_type_decides() -> None:
    pod = _pod(Condition(type="Ready", status="False"), Condition(type="ready", status="True"))
    assert not condition_met(pod, "Ready", "true")


def test_a_condition_older_than_the_generation_is_not_met() -> None:
    stale = _pod(Condition(type="Ready", status="True", observed_generation=1), generation=2)
    assert not condition_met(stale, "Ready", "true")
    fresh = _pod(Condition(type="Ready", status="True", observed_generation=2), generation=2)
    assert condition_met(fresh, "Ready", "true")
    # without its own observedGeneration, the status's is compared (a Deployment's)
    deployment = _deployment(generation=3, observed=2, conditions=(Condition(type="Available", status="True"),))
    assert not condition_met(deployment, "Available", "true")
    assert condition_met(_deployment(conditions=(Condition(type="Available", status="True"),)), "Available", "true")


@pytest.mark.parametrize(("text", "parsed"), [
    ("delete", ("delete", "", "")), ("Delete", ("delete", "", "")),
    ("condition=Ready", ("condition", "Ready", "true")), ("condition=Ready=false", ("condition", "Ready", "false")),
    ("condition=Ready=", ("condition", "Ready", "")), ("condition=", None),
    ("jsonpath={.status.phase}=Running", ("jsonpath", "{.status.phase}", "Running")), ("jsonpath={.items[*].x}", None),
    ("create", None), ("ready", None),
])
def test_for_is_read_as_kubectl_reads_it(text: str, parsed: tuple[str, str, str] | None) -> None:
    assert parse_for(text) == parsed


STS_KEY = ObjectKey("statefulsets.apps", "default", "db")
POD_KEY = ObjectKey("pods", "default", "db-0")


def _ok(obj: object) -> Response:
    return Response(200, "OK", obj=obj)


NOT_FOUND = Response(404, "NotFound", 'statefulsets.apps "db" not found')


def test_rollout_status_outcomes() -> None:
    forever = WorkloadStep(rollout_status=RolloutStatusStep(statefulset="default/db"))
    timed = WorkloadStep(rollout_status=RolloutStatusStep(statefulset="default/db", timeout_seconds=30))
    waiting = CommandWait(1, STS_KEY.resource, "default", "db", "u1", 30)
    assert outcome(forever, STS_KEY, _ok(_sts()), None, 0) == ""
    assert outcome(forever, STS_KEY, _ok(_sts(ready=1)), None, 0) is None
    assert outcome(forever, STS_KEY, NOT_FOUND, None, 0) == '404 NotFound: statefulsets.apps "db" not found'
    assert outcome(forever, STS_KEY, _ok(_sts(kind="OnDelete", rolling=False)), None, 0) == \
        "error: rollout status is only available for RollingUpdate strategy type"
    assert outcome(timed, STS_KEY, _ok(_sts(ready=1)), waiting, 20) is None
    assert outcome(timed, STS_KEY, _ok(_sts(ready=1)), waiting, 30) == "error: timed out waiting for the condition"
    assert outcome(timed, STS_KEY, _ok(_sts()), waiting, 30) == ""  # done wins over the deadline
    assert outcome(timed, STS_KEY, NOT_FOUND, waiting, 10) == "error: object has been deleted"
    other = StatefulSet(metadata=ObjectMeta(name="db", namespace="default", uid="u2"))
    assert outcome(timed, STS_KEY, _ok(other), waiting, 10) == "error: object has been deleted"


def test_wait_condition_outcomes() -> None:
    step = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="condition=Ready"))
    once = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="condition=Ready", timeout_seconds=0))
    waiting = CommandWait(0, "pods", "default", "db-0", "p1", 30)
    not_ready, ready = _pod(Condition(type="Ready", status="False")), _pod(Condition(type="Ready", status="True"))
    gone = Response(404, "NotFound", 'pods "db-0" not found')
    assert outcome(step, POD_KEY, _ok(ready), None, 0) == ""
    assert outcome(step, POD_KEY, _ok(not_ready), None, 0) is None
    assert outcome(once, POD_KEY, _ok(not_ready), None, 0) == "error: condition not met for pods/db-0"
    assert outcome(step, POD_KEY, gone, None, 0) == '404 NotFound: pods "db-0" not found'
    assert outcome(step, POD_KEY, gone, waiting, 10) is None  # deleted while watched: kubectl waits on
    assert outcome(step, POD_KEY, gone, waiting, 30) == "error: timed out waiting for the condition on pods/db-0"
    assert outcome(step, POD_KEY, _ok(not_ready), waiting, 30) == \
        "error: timed out waiting for the condition on pods/db-0"


def test_wait_delete_outcomes() -> None:
    step = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="delete"))
    once = WorkloadStep(wait=WaitStep(kind="pod", name="db-0", for_="delete", timeout_seconds=0))
    waiting = CommandWait(0, "pods", "default", "db-0", "p1", 30)
    gone = Response(404, "NotFound", 'pods "db-0" not found')
    assert outcome(step, POD_KEY, gone, None, 0) == ""  # kubectl ignores NotFound for --for=delete
    assert outcome(step, POD_KEY, _ok(_pod()), None, 0) is None
    assert outcome(once, POD_KEY, _ok(_pod()), None, 0) == "error: condition not met for pods/db-0"
    assert outcome(step, POD_KEY, _ok(_pod()), waiting, 20) is None
    assert outcome(step, POD_KEY, gone, waiting, 20) == ""
    replacement = Pod(metadata=ObjectMeta(name="db-0", namespace="default", uid="p2"))
    assert outcome(step, POD_KEY, _ok(replacement), waiting, 20) == ""  # another incarnation: the one watched went
    assert outcome(step, POD_KEY, _ok(_pod()), waiting, 30) == "error: timed out waiting for the condition on pods/db-0"
