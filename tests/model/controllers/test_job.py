"""The Job controller in whole clusters: the fair run of `tests/model/data/job/migrate.yaml` (two
completions, one at a time) and `shards.yaml` (an Indexed Job on two nodes, drained, uncordoned and
waited for with `kubectl wait --for=condition=complete`), the properties `job-pods-counted` and
`jobs-finished`, and the `job-legacy-tracking` variant (the controller before
JobTrackingWithFinalizers) found along the fair run."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.batch import JOB_TRACKING_FINALIZER, Job, condition_true
from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.maintenance import drain_filter
from kubeprop.model.controllers.job_util import job_pod
from kubeprop.model.controllers.registry import ADDON_CONTROLLERS
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema_addons import DrainStep
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.invariants import workload_steps_succeed
from kubeprop.properties.jobs import job_pods_counted, jobs_finished
from kubeprop.properties.workload_finish import workload_steps_finish

DATA = Path(__file__).parents[1] / "data" / "job"


def _job(state: ClusterState) -> Job:
    jobs = [j for j in state.store.list("jobs.batch") if isinstance(j, Job)]
    assert len(jobs) == 1
    return jobs[0]


def test_a_job_runs_its_completions_and_completes() -> None:
    model = build_model(load_scenario(DATA / "migrate.yaml"))
    assert "job" in {c.name for c in model.controllers}
    run = fair_run(model, initial_state(model))
    job = _job(run.state)
    assert condition_true(job, "Complete") and condition_true(job, "SuccessCriteriaMet")
    assert (job.status.succeeded, job.status.failed, job.status.active) == (2, 0, 0)
    pods = [p for p in run.state.store.list("pods") if isinstance(p, Pod)]
    assert len(pods) == 2 and all(p.status.phase == "Succeeded" and not p.metadata.finalizers for p in pods)
    assert job_pods_counted(model, run.state) is None and jobs_finished(model, run.state) is None


def test_an_indexed_job_survives_a_drain_and_the_wait_for_complete_returns() -> None:
    model = build_model(load_scenario(DATA / "shards.yaml"))
    run = fair_run(model, initial_state(model))
    job = _job(run.state)
    assert condition_true(job, "Complete") and job.status.completed_indexes == "0-2"
    assert job.status.succeeded == 3
    # the drain, the uncordon and the wait were taken, and each returned and succeeded
    assert [type(a).__name__ for a in run.trace].count("UserStep") == 3 and not run.exhausted
    assert workload_steps_finish(model, run.state) is None and workload_steps_succeed(model, run.state) is None
    assert job_pods_counted(model, run.state) is None


def test_the_controller_runs_only_where_a_job_can_exist() -> None:
    from kubeprop.model.controllers.job import JobController

    assert JobController in ADDON_CONTROLLERS
    model = build_model(load_scenario(Path(__file__).parents[1] / "data" / "daemonset" / "agents.yaml"))
    assert "job" not in {c.name for c in model.controllers}


@pytest.mark.parametrize(("variant", "violated"), [("job-legacy-tracking", True), ("correct", False)])
def test_legacy_tracking_lets_a_finished_pod_go_uncounted(variant: str, violated: bool) -> None:
    """Along the fair run: before JobTrackingWithFinalizers a finished pod carries no finalizer and
    is not counted until the next sync — a pod deleted then is lost; with it, never."""
    model = build_model(load_scenario(DATA / "migrate.yaml"), variant=variant)
    state = initial_state(model)
    found = None
    for act in fair_run(model, state).trace:
        state = step(model, state, act)
        found = found or job_pods_counted(model, state)
    assert (found is not None) is violated
    if violated:
        assert found is not None and "a pod deleted now is never counted" in found[0]


def test_jobs_finished_names_a_job_that_has_not_finished() -> None:
    model = build_model(load_scenario(DATA / "migrate.yaml"))
    state = initial_state(model)
    found = jobs_finished(model, state)
    assert found is not None and found[0].startswith("Job default/migrate: not finished, active 0, succeeded 0 of 2")
    pods = [p for p in fair_run(model, state).state.store.list("pods") if isinstance(p, Pod)]
    assert all(JOB_TRACKING_FINALIZER not in p.metadata.finalizers for p in pods)


def test_kubectl_drain_evicts_a_running_job_pod_as_a_replicated_one() -> None:
    """filters.go: a pod with a controller is not `unreplicated`; a Job pod is evicted without --force
    (and its Job, through the tracking finalizer, counts it failed and replaces it)."""
    model = build_model(load_scenario(DATA / "migrate.yaml"))
    job = _job(initial_state(model))
    pod = job_pod(job, None)
    running = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name="migrate-x", namespace="default"),
                           spec=attrs.evolve(pod.spec, node_name="worker-1"),
                           status=attrs.evolve(pod.status, phase="Running"))
    assert drain_filter([running], "worker-1", DrainStep(node="worker-1")) == ([running], [])
    bare = attrs.evolve(running, metadata=attrs.evolve(running.metadata, owner_references=()))
    assert drain_filter([bare], "worker-1", DrainStep(node="worker-1"))[1]  # refused without --force
