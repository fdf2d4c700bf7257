"""`job-pods-counted` and `jobs-finished` on states built from the settled `migrate.yaml` cluster:
what each flags, and the upstream states each must not flag (a pod counted failed while being
deleted that exits 0 later; a Job being deleted); and two recorded runs (tests/model/data/job/
suspend-finished-pod.json, audit16's, and scale-down-finished-pod.json) where a pod the Job
controller deleted itself finishes after, which upstream never counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from kubeprop.counterexamples.replay import Verdict, replay
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

DATA = Path(__file__).parents[1] / "model" / "data" / "job"
SCENARIO = DATA / "migrate.yaml"
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
                                                                   uid="late-uid", deletion_timestamp=33,
                                                                   deletion_grace_period_seconds=30))
    counted = attrs.evolve(job, status=attrs.evolve(job.status, failed=1))
    assert job_pods_counted(MODEL, _put(SETTLED, counted, extra)) is None
    # not counted at all: it finished while deleted gracefully, as a pod the Job controller deleted
    # itself (owed no count), which the state does not tell apart: not flagged either
    assert job_pods_counted(MODEL, _put(SETTLED, extra)) is None
    undeleted = attrs.evolve(extra, metadata=attrs.evolve(extra.metadata, deletion_timestamp=None,
                                                          deletion_grace_period_seconds=None))
    assert job_pods_counted(MODEL, _put(SETTLED, undeleted)) is not None  # never deleted, not counted: flagged


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


@pytest.mark.parametrize("recorded", ["suspend-finished-pod.json", "scale-down-finished-pod.json"])
def test_a_pod_the_job_controller_deleted_that_finishes_after_is_owed_no_count(recorded: str) -> None:
    """audit16's false alarm and its scale-down twin: a pod exits 0, its status not yet written;
    the user suspends the Job (or lowers its parallelism); the Job controller, which still sees the
    pod active, removes its finalizer and deletes it (deleteJobPods); the kubelet then writes
    Succeeded. Upstream's getValidPodsWithFilter skips a pod without the finalizer, so it never
    counts that pod either: no violation, at any step of the recorded run."""
    result = replay(DATA / recorded)
    # replayed as recorded (no fingerprint drifted: a STALE replay would still replay the trace)
    assert (result.verdict, result.drift_step, result.meets_expectation) == (Verdict.PASSES, None, True)
    assert result.violation is None and len(result.states) in (51, 57)
    for state in result.states:
        assert job_pods_counted(result.model, state) is None
    last = result.states[-1]
    pod = next(p for p in _pods(last) if p.status.phase == "Succeeded")
    assert pod.metadata.deletion_timestamp is not None and (pod.metadata.deletion_grace_period_seconds or 0) > 0
    assert not pod.metadata.finalizers
    status = _job(last).status
    assert (status.succeeded, status.failed) == (0, 0) and status.uncounted_terminated_pods == UncountedTerminatedPods()


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
