"""`job-pods-counted` and `jobs-finished` on states built from the settled `migrate.yaml` cluster:
what each flags, and the upstream states each must not flag (a pod counted failed while being
deleted that exits 0 later; a Job being deleted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.batch import (
    Job,
    JobStatus,
    PodFailurePolicy,
    PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
    SuccessPolicy,
    SuccessPolicyRule,
    UncountedTerminatedPods,
    condition_true,
)
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.jobs import JOB_PODS_COUNTED, JOBS_FINISHED, has_jobs, job_pods_counted, jobs_finished
from kubeprop.properties.registry import OPT_IN_WHEN

SCENARIO = Path(__file__).parents[1] / "model" / "data" / "job" / "migrate.yaml"
MODEL = build_model(load_scenario(SCENARIO))
SETTLED = fair_run(MODEL, initial_state(MODEL)).state


def _put(state: ClusterState, *objs: Any) -> ClusterState:
    store = state.store
    for obj in objs:
        store = store.put(obj, "MODIFIED")[0]
    return attrs.evolve(state, store=store)


def _job(state: ClusterState) -> Job:
    return next(j for j in state.store.list("jobs.batch") if isinstance(j, Job))


def _pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods") if isinstance(p, Pod)]


def test_checked_by_default_where_a_job_can_exist() -> None:
    assert has_jobs(load_scenario(SCENARIO))
    assert {JOB_PODS_COUNTED.name, JOBS_FINISHED.name} <= set(OPT_IN_WHEN)
    assert (JOB_PODS_COUNTED.kind, JOBS_FINISHED.kind) == ("safety", "convergence")


def test_a_finished_pod_let_go_uncounted_is_flagged_and_an_uncounted_one_is_not() -> None:
    job = _job(SETTLED)
    assert job_pods_counted(MODEL, SETTLED) is None
    lost = attrs.evolve(job, status=attrs.evolve(job.status, succeeded=1))  # one of the two not counted
    found = job_pods_counted(MODEL, _put(SETTLED, lost))
    assert found is not None and found[1][0] == "Job default/migrate" and found[1][1].startswith("Pod default/")
    # the same count with that pod's UID in uncountedTerminatedPods: counted at the next sync, fine
    uid = _pods(SETTLED)[0].metadata.uid
    listed = attrs.evolve(lost, status=attrs.evolve(lost.status, uncounted_terminated_pods=UncountedTerminatedPods(
        succeeded=(uid,))))
    assert job_pods_counted(MODEL, _put(SETTLED, listed)) is None
    # a Job being deleted lets its pods go without counting them (canRemoveFinalizer): out of scope
    deleting = attrs.evolve(lost, metadata=attrs.evolve(lost.metadata, deletion_timestamp=5))
    assert job_pods_counted(MODEL, _put(SETTLED, deleting)) is None


def test_a_pod_counted_failed_that_succeeds_later_is_no_violation() -> None:
    """Deleted while running (a drain), counted failed, then exits 0: upstream's counters are
    succeeded 2, failed 1 for three finished pods."""
    job = _job(SETTLED)
    extra = attrs.evolve(_pods(SETTLED)[0], metadata=attrs.evolve(_pods(SETTLED)[0].metadata, name="migrate-zzz",
                                                                   uid="late-uid", deletion_timestamp=3))
    counted = attrs.evolve(job, status=attrs.evolve(job.status, failed=1))
    assert job_pods_counted(MODEL, _put(SETTLED, counted, extra)) is None
    assert job_pods_counted(MODEL, _put(SETTLED, extra)) is not None  # not counted at all: flagged


def test_an_indexed_job_counting_an_index_twice_is_flagged() -> None:
    job = _job(SETTLED)
    indexed = attrs.evolve(job, spec=attrs.evolve(job.spec, completion_mode="Indexed"),
                           status=JobStatus(succeeded=2, completed_indexes="1", conditions=job.status.conditions))
    found = job_pods_counted(MODEL, _put(SETTLED, indexed))
    assert found is not None and "an index counted twice" in found[0]


def test_jobs_finished_holds_where_the_job_completed_and_not_before() -> None:
    assert jobs_finished(MODEL, SETTLED) is None
    job = _job(SETTLED)
    suspended = attrs.evolve(job, spec=attrs.evolve(job.spec, suspend=True), status=JobStatus())
    assert jobs_finished(MODEL, _put(SETTLED, suspended)) is None
    running = attrs.evolve(job, status=JobStatus(active=1))
    found = jobs_finished(MODEL, _put(SETTLED, running))
    assert found is not None and "not finished, active 1" in found[0]


def test_a_failure_the_pod_failure_policy_ignores_is_no_lost_pod() -> None:
    """pod_failure_policy.go: a failed pod an Ignore rule matches (here DisruptionTarget, as an
    eviction leaves it) is let go uncounted on purpose; the same pod without the policy is lost."""
    job = _job(SETTLED)
    pod = _pods(SETTLED)[0]
    evicted = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name="migrate-evicted", uid="evicted-uid"),
                           status=attrs.evolve(pod.status, phase="Failed", conditions=(
                               *pod.status.conditions, Condition(type="DisruptionTarget", status="True"))))
    assert job_pods_counted(MODEL, _put(SETTLED, evicted)) is not None
    rule = PodFailurePolicyRule(action="Ignore", on_pod_conditions=(
        PodFailurePolicyOnPodConditionsPattern(type="DisruptionTarget", status="True"),))
    ignoring = attrs.evolve(job, spec=attrs.evolve(job.spec, pod_failure_policy=PodFailurePolicy(rules=(rule,))))
    assert job_pods_counted(MODEL, _put(SETTLED, ignoring, evicted)) is None


def test_pods_let_go_after_a_success_policy_was_met_are_no_lost_pods() -> None:
    """canRemoveFinalizer: a Job that met its success criteria releases every pod, and counts
    neither those still running then nor what becomes of them; with a success policy some are."""
    job = _job(SETTLED)
    assert condition_true(job, "SuccessCriteriaMet")
    pod = _pods(SETTLED)[0]
    worker = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name="migrate-worker", uid="worker-uid"),
                          status=attrs.evolve(pod.status, phase="Failed"))
    assert job_pods_counted(MODEL, _put(SETTLED, worker)) is not None
    leader_only = SuccessPolicy(rules=(SuccessPolicyRule(succeeded_indexes="0"),))
    with_policy = attrs.evolve(job, spec=attrs.evolve(job.spec, success_policy=leader_only))
    assert job_pods_counted(MODEL, _put(SETTLED, with_policy, worker)) is None
