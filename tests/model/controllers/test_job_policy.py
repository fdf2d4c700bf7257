"""The Job's pod failure policy through the API server and single syncs of the Job controller:
defaults and validation (`pkg/apis/batch/v1/defaults.go`, `pkg/apis/batch/validation/validation.go`),
the rule matching (`pkg/controller/job/pod_failure_policy.go`) and its effects in syncJob
(`job_controller.go`: getFailJobMessage, nonIgnoredFailedPodsCount, onlyReplaceFailedPods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from api_harness import ApiHarness, bare_scenario, stored_as

from kubeprop.model.api.batch import JOB_TRACKING_FINALIZER, Job, condition_true
from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.pod import ContainerStatus
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, run
from kubeprop.model.cluster.maintenance import EvictForDrain
from kubeprop.model.controllers.job import ORPHAN_PREFIX, JobController, JobMemory
from kubeprop.model.controllers.job_policy import match_pod_failure_policy
from kubeprop.model.controllers.job_util import format_indexes, job_pod, parse_indexes
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Action, UserStep
from kubeprop.properties.jobs import job_pods_counted, jobs_finished
from kubeprop.properties.workload_finish import workload_steps_finish

API = ApiHarness(bare_scenario())
DATA = Path(__file__).parents[1] / "data" / "job"
KEY = "default/shard"
IGNORE_DISRUPTION = {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
FAIL_ON_42 = {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}


def manifest(rules: list[dict[str, Any]] | None, restart: str = "Never", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "shard", "namespace": "default"},
        "spec": {"template": {"spec": {"restartPolicy": restart, "containers": [{"name": "main", "image": "s:1"}]}},
                 **spec}}
    if rules is not None:
        body["spec"]["podFailurePolicy"] = {"rules": rules}
    return body


def create(body: dict[str, Any]) -> Store:
    return API.created(body)


def stored(store: Store) -> Job:
    return stored_as(store, ObjectKey("jobs.batch", "default", "shard"), Job)


def pods_of(store: Store) -> list[Pod]:
    return [p for p in store.list("pods", "default") if isinstance(p, Pod)]


def sync(store: Store, memory: JobMemory, now: int = 1) -> tuple[Store, JobMemory, tuple[Request, ...]]:
    return API.sync(JobController(), store, KEY, memory, now)


def failed(store: Store, pod: Pod, exit_code: int = 1, disrupted: bool = False, now: int = 2) -> Store:
    """The kubelet's status write of a pod whose container `main` ended with `exit_code`, with the
    DisruptionTarget condition an eviction or preemption put on it, if `disrupted`."""
    container = ContainerStatus(name="main", state=FrozenMap(
        {"terminated": FrozenMap({"exitCode": exit_code, "reason": "Error"})}))
    conditions = (Condition(type="DisruptionTarget", status="True", reason="EvictionByEvictionAPI"),) \
        if disrupted else ()
    done = attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Failed", container_statuses=(container,),
                                                 conditions=conditions))
    return API.ok(store, Request(verb="update-status", user=ADMIN, resource="pods", namespace="default",
                                 name=pod.metadata.name, obj=done), now)


def test_a_policy_is_admitted_defaulted_and_immutable() -> None:
    store = create(manifest([IGNORE_DISRUPTION, FAIL_ON_42]))
    job = stored(store)
    assert job.spec.pod_failure_policy is not None and job.spec.pod_replacement_policy == "Failed"
    pattern = job.spec.pod_failure_policy.rules[0].on_pod_conditions[0]
    assert (pattern.type, pattern.status) == ("DisruptionTarget", "True")  # the status defaulted
    assert stored(create(manifest(None))).spec.pod_replacement_policy == "TerminatingOrFailed"
    _, response = API.send(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, pod_failure_policy=None))))
    assert response.code == 422 and "spec.podFailurePolicy: Invalid value" in response.message


def test_validation_refuses_what_upstream_refuses() -> None:
    cases: dict[str, dict[str, Any]] = {
        'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported':
            manifest([IGNORE_DISRUPTION], restart="OnFailure"),
        'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"':
            manifest([IGNORE_DISRUPTION], podReplacementPolicy="TerminatingOrFailed"),
        'spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex':
            manifest([{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}]),
        'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry"':
            manifest([{"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]}}]),
        "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is "
        "required": manifest([{"action": "Ignore"}]),
        "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator":
            manifest([{"action": "Count", "onExitCodes": {"operator": "In", "values": [0]}}]),
        "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [3,2]: must be ordered":
            manifest([{"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [3, 2]}}]),
        'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "other"':
            manifest([{"action": "Count", "onExitCodes": {"containerName": "other", "operator": "In",
                                                          "values": [1]}}]),
        'spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: "Maybe"':
            manifest([{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}]}]),
    }
    for expected, body in cases.items():
        _, response = API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))
        assert response.code == 422 and expected in response.message, (expected, response.message)


def test_rules_match_in_order_on_exit_codes_and_conditions() -> None:
    store = create(manifest([IGNORE_DISRUPTION, FAIL_ON_42, {"action": "Count", "onExitCodes": {
        "operator": "NotIn", "values": [42]}}]))
    store, _, _ = sync(store, JobMemory())
    pod = pods_of(store)[0]
    policy = stored(store).spec.pod_failure_policy
    assert match_pod_failure_policy(None, pod) == (None, True, None)

    def as_failed(code: int, disrupted: bool = False) -> Pod:
        found = next(p for p in pods_of(failed(store, pod, code, disrupted)) if p.metadata.uid == pod.metadata.uid)
        return found

    assert match_pod_failure_policy(policy, as_failed(42, disrupted=True)) == (None, False, "Ignore")  # first wins
    message, counts, action = match_pod_failure_policy(policy, as_failed(42))
    assert (counts, action) == (True, "FailJob")
    assert message == f"Container main for pod default/{pod.metadata.name} failed with exit code 42 matching " \
                      "FailJob rule at index 1"
    assert match_pod_failure_policy(policy, as_failed(3)) == (None, True, "Count")
    assert match_pod_failure_policy(policy, as_failed(0)) == (None, True, None)  # exit 0 matches no rule


def test_an_ignored_failure_is_not_counted_and_the_pod_is_replaced() -> None:
    """backoffLimit 0: without the policy the evicted pod's failure fails the Job; with Ignore on
    DisruptionTarget it is let go uncounted and replaced (after the 10 s pod-failure back-off)."""
    for rules, job_failed in ((None, True), ([IGNORE_DISRUPTION], False)):
        store, memory, _ = sync(create(manifest(rules, backoffLimit=0)), JobMemory())
        pod = pods_of(store)[0]
        store = failed(store, pod, 137, disrupted=True)
        store, memory, _ = sync(store, memory, now=3)
        job = stored(store)
        assert condition_true(job, "FailureTarget") is job_failed
        assert job.status.failed == (1 if job_failed else 0)
        released = store.get(ObjectKey("pods", "default", pod.metadata.name))
        assert released is not None and JOB_TRACKING_FINALIZER not in released.metadata.finalizers
        if not job_failed:
            store, memory, requests = sync(store, memory, now=40)
            assert [r.verb for r in requests if r.resource == "pods"] == ["create"]


def test_a_fail_job_rule_fails_the_job_with_its_message_and_deletes_the_others() -> None:
    store, memory, _ = sync(create(manifest([FAIL_ON_42], completions=2, parallelism=2)), JobMemory())
    first, _ = pods_of(store)
    store = failed(store, first, 42)
    store, memory, requests = sync(store, memory, now=3)
    assert [r.verb for r in requests if r.resource == "pods"] == ["delete", "patch", "patch"]
    job = stored(store)
    target = next(c for c in job.status.conditions if c.type == "FailureTarget")
    assert target.reason == "PodFailurePolicy" and "failed with exit code 42 matching FailJob rule at index 0" in \
        target.message
    assert not condition_true(job, "Failed")  # the deleted pod still terminating
    assert job.status.failed == 2  # the failed pod and the one deleted (finishing: counted failed)


def test_with_a_policy_a_pod_being_deleted_is_not_failed_until_terminal() -> None:
    """onlyReplaceFailedPods: a deleted pod still running is neither counted nor replaced until the
    kubelet reports its terminal phase (without a policy it is counted and replaced at once)."""
    for rules, replaced in ((None, True), ([IGNORE_DISRUPTION], False)):
        store, memory, _ = sync(create(manifest(rules)), JobMemory())
        pod = pods_of(store)[0]
        running = attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Running"))
        store = API.ok(store, Request(verb="update-status", user=ADMIN, obj=running))
        store = API.ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                      name=pod.metadata.name, grace_period_seconds=30))
        store, memory, requests = sync(store, memory, now=60)
        assert bool([r for r in requests if r.verb == "create"]) is replaced
        assert stored(store).status.failed == (1 if replaced else 0)
        assert stored(store).status.terminating == 1  # counted terminating either way


def _drained_mid_run(with_policy: bool) -> tuple[Job, list[Action]]:
    """`drained.yaml` where the drain comes while the Job's pod runs (the fair run would let it
    finish first), then the run a user expects: the Job and the actions taken."""
    scenario = load_scenario(DATA / "drained.yaml")
    if not with_policy:
        def strip(m: Any) -> Any:
            job = m.obj
            return attrs.evolve(m, obj=attrs.evolve(job, spec=attrs.evolve(job.spec, pod_failure_policy=None)))
        scenario = attrs.evolve(scenario, objects=tuple(strip(m) for m in scenario.objects))
    model = build_model(scenario)
    start = initial_state(model)
    expected = fair_run(model, start).trace
    running = run(model, start, expected[:next(i for i, a in enumerate(expected) if isinstance(a, ContainerExit))])
    drain = next(a for a in actions(model, running) if isinstance(a, UserStep))
    after = fair_run(model, step(model, running, drain))
    assert not after.exhausted
    jobs = [j for j in after.state.store.list("jobs.batch") if isinstance(j, Job)]
    assert len(jobs) == 1 and workload_steps_finish(model, after.state) is None
    assert jobs_finished(model, after.state) is None and job_pods_counted(model, after.state) is None
    return jobs[0], list(after.trace)


def test_a_drained_job_allowed_no_failure_completes_with_the_policy_and_fails_without() -> None:
    """backoffLimit 0, the pod evicted by `kubectl drain` while it runs. Without a pod failure
    policy the pod being deleted counts as failed at once (isPodFailed) and the Job fails; with one
    the controller waits for the pod's terminal phase (onlyReplaceFailedPods) — here Succeeded, as
    the model's kubelet stops a container on SIGTERM with exit 0; a Failed pod would be marked
    DisruptionTarget by the eviction and ignored — and the Job completes."""
    job, trace = _drained_mid_run(with_policy=True)
    assert condition_true(job, "Complete") and job.status.failed == 0
    assert any(isinstance(a, EvictForDrain) for a in trace)
    job, _ = _drained_mid_run(with_policy=False)
    assert condition_true(job, "Failed") and job.status.failed == 1
    assert [c.reason for c in job.status.conditions if c.type == "Failed"] == ["BackoffLimitExceeded"]


def test_a_success_policy_is_validated_as_upstream_and_immutable() -> None:
    indexed: dict[str, Any] = {"completionMode": "Indexed", "completions": 3, "parallelism": 3}
    cases: dict[str, dict[str, Any]] = {
        "spec.successPolicy: Invalid value": manifest(None, successPolicy={"rules": [{"succeededCount": 1}]},
                                                      completions=3),
        "spec.successPolicy.rules: Required value": manifest(None, successPolicy={"rules": []}, **indexed),
        "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes":
            manifest(None, successPolicy={"rules": [{}]}, **indexed),
        'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0,3": error parsing succeededIndexes: too '
        'large index: "3"': manifest(None, successPolicy={"rules": [{"succeededIndexes": "0,3"}]}, **indexed),
        'error parsing succeededIndexes: non-increasing order, previous: 2, current: 1':
            manifest(None, successPolicy={"rules": [{"succeededIndexes": "2,1"}]}, **indexed),
        "spec.successPolicy.rules[0].succeededCount: Invalid value: 4: must be less than or equal to 3 (the number "
        "of specified completions)": manifest(None, successPolicy={"rules": [{"succeededCount": 4}]}, **indexed),
        "spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number "
        "of indexes in the specified succeededIndexes field)":
            manifest(None, successPolicy={"rules": [{"succeededIndexes": "0-1", "succeededCount": 3}]}, **indexed),
    }
    for expected, body in cases.items():
        _, response = API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))
        assert response.code == 422 and expected in response.message, (expected, response.message)
    store = create(manifest(None, successPolicy={"rules": [{"succeededIndexes": "0", "succeededCount": 1}]},
                            **indexed))
    job = stored(store)
    _, response = API.send(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, success_policy=None))))
    assert response.code == 422 and "spec.successPolicy: Invalid value" in response.message


def test_the_leader_index_succeeding_completes_the_job_and_deletes_the_workers() -> None:
    """success_policy.go: index 0 succeeded meets the rule: SuccessCriteriaMet (reason
    SuccessPolicy), the running workers deleted and let go uncounted, then Complete once none is
    terminating (enactJobFinished)."""
    store = create(manifest(None, completionMode="Indexed", completions=3, parallelism=3,
                            successPolicy={"rules": [{"succeededIndexes": "0"}, {"succeededCount": 2}]}))
    store, memory, _ = sync(store, JobMemory())
    by_index = {p.metadata.annotations["batch.kubernetes.io/job-completion-index"]: p for p in pods_of(store)}
    done = attrs.evolve(by_index["0"], status=attrs.evolve(by_index["0"].status, phase="Succeeded"))
    store = API.ok(store, Request(verb="update-status", user=ADMIN, obj=done))
    store, memory, requests = sync(store, memory, now=3)
    assert sorted(r.name for r in requests if r.verb == "delete") == sorted(
        by_index[i].metadata.name for i in ("1", "2"))
    job = stored(store)
    met = next(c for c in job.status.conditions if c.type == "SuccessCriteriaMet")
    assert (met.reason, met.message) == ("SuccessPolicy", "Matched rules at index 0")
    assert not condition_true(job, "Complete") and job.status.terminating == 2
    assert (job.status.succeeded, job.status.failed, job.status.completed_indexes) == (1, 0, "0")
    assert all(JOB_TRACKING_FINALIZER not in p.metadata.finalizers for p in pods_of(store))
    for pod in pods_of(store):  # the kubelet stops the deleted workers and they go
        store = API.ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                      name=pod.metadata.name, grace_period_seconds=0))
    store, memory, _ = sync(store, memory, now=9)
    complete = next(c for c in stored(store).status.conditions if c.type == "Complete")
    assert (complete.reason, complete.message) == ("SuccessPolicy", "Matched rules at index 0")


def test_a_success_policy_job_completes_in_a_whole_cluster_with_nothing_lost() -> None:
    model = build_model(load_scenario(DATA / "leader.yaml"))
    state = initial_state(model)
    result = fair_run(model, state)
    for act in result.trace:
        state = step(model, state, act)
        assert job_pods_counted(model, state) is None
    job = next(j for j in result.state.store.list("jobs.batch") if isinstance(j, Job))
    assert condition_true(job, "Complete") and jobs_finished(model, result.state) is None
    assert [c.reason for c in job.status.conditions] == ["SuccessPolicy", "SuccessPolicy"]


def test_managed_by_the_job_controller_is_accepted_and_any_other_manager_refused() -> None:
    """managedBy: the Job controller's own name (JobControllerName) is the default behaviour; any
    other value hands the Job to another controller, which the model does not have — bad input
    naming the field; a Job created so through the API is skipped (managedByExternalController)."""
    store = create(manifest(None, managedBy="kubernetes.io/job-controller"))
    assert stored(store).spec.managed_by == "kubernetes.io/job-controller"
    store, _, requests = sync(store, JobMemory())
    assert [r.verb for r in requests if r.resource == "pods"] == ["create"]
    try:
        decode_object(manifest(None, managedBy="kueue.x-k8s.io/multikueue"))
    except DecodeError as err:
        assert "spec.managedBy" in str(err) and "not modelled" in str(err)
    else:
        raise AssertionError("another manager was accepted")
    body = decode_object(manifest(None))
    assert isinstance(body, Job)
    external = attrs.evolve(body, spec=attrs.evolve(body.spec, managed_by="kueue.x-k8s.io/multikueue"))
    store, response = API.send(API.base, Request(verb="create", user=ADMIN, obj=external))
    assert response.ok and sync(store, JobMemory())[2] == ()
    # syncOrphanPod leaves the finalizer of a pod such a Job controls, even once that Job finished
    owned = job_pod(stored(store), None)
    owned = attrs.evolve(owned, metadata=attrs.evolve(owned.metadata, name="shard-x", namespace="default"))
    store = API.ok(store, Request(verb="create", user=ADMIN, obj=owned))
    done = (Condition(type="SuccessCriteriaMet", status="True"), Condition(type="Complete", status="True"))
    store = API.ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(stored(store), status=attrs.evolve(
        stored(store).status, conditions=done, start_time=1, completion_time=1))))
    assert condition_true(stored(store), "Complete")
    orphan_sync = JobController().reconcile(store, ORPHAN_PREFIX + "default/shard-x", JobMemory(), 1)
    assert orphan_sync.requests == ()
    job = stored(store)
    _, response = API.send(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, managed_by=None))))
    assert response.code == 422 and "spec.managedBy: Invalid value" in response.message


def test_a_job_deleted_without_a_propagation_policy_orphans_its_pods() -> None:
    """batch/v1 DefaultGarbageCollectionPolicy is OrphanDependents (strategy.go): a DELETE with
    no policy adds the orphan finalizer; kubectl's Background does not."""
    for policy, finalizers in ((None, ("orphan",)), ("Background", ())):
        store = create(manifest(None))
        store = API.ok(store, Request(verb="delete", user=ADMIN, resource="jobs.batch", namespace="default",
                                      name="shard", propagation_policy=policy))
        left = store.get(ObjectKey("jobs.batch", "default", "shard"))
        assert (left.metadata.finalizers if left is not None else ()) == finalizers, policy


def test_completed_indexes_are_written_as_upstream_writes_them() -> None:
    """orderedIntervals.String: a run of two indexes is "a,b", of three or more "a-b"."""
    assert format_indexes([0, 1, 3, 5, 6, 7, 9]) == "0,1,3,5-7,9"
    assert parse_indexes("0,1,3,5-7,9", 10) == frozenset({0, 1, 3, 5, 6, 7, 9})
