"""`cronjob-one-job-per-schedule`: two Jobs of one CronJob with the same scheduled time are a
violation naming both; Jobs of other times, of other CronJobs, or of no CronJob are not; and the
property is on by default only where a CronJob can exist."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.model.api.batch import Job
from kubeprop.model.api.batch_cronjob import SCHEDULED_TIMESTAMP_ANNOTATION
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.cronjobs import cronjob_one_job_per_schedule, has_cron_jobs

DATA = Path(__file__).parents[1] / "model" / "data"


def _job(name: str, at: str, owner_uid: str = "cj-1", kind: str = "CronJob") -> Job:
    ref = OwnerReference(api_version="batch/v1", kind=kind, name="report", uid=owner_uid, controller=True)
    return Job(metadata=ObjectMeta(name=name, namespace="default", uid=f"uid-{name}", owner_references=(ref,),
                                   annotations={SCHEDULED_TIMESTAMP_ANNOTATION: at}))


def _with(state: ClusterState, *jobs: Job) -> ClusterState:
    store = state.store
    for job in jobs:
        store = store.put(job, "ADDED")[0]
    return attrs.evolve(state, store=store)


def test_two_jobs_of_one_activation_are_a_violation() -> None:
    model = build_model(load_scenario(DATA / "cronjob" / "nightly.yaml"))
    state = initial_state(model)
    one, other_time = _job("report-a", "1970-01-01T00:01:00Z"), _job("report-b", "1970-01-01T00:02:00Z")
    assert cronjob_one_job_per_schedule(model, _with(state, one, other_time)) is None
    assert cronjob_one_job_per_schedule(model, _with(state, one, _job("x", "1970-01-01T00:01:00Z", "cj-2"))) is None
    assert cronjob_one_job_per_schedule(model, _with(state, one, _job("y", "1970-01-01T00:01:00Z", kind="Other"))) \
        is None
    found = cronjob_one_job_per_schedule(model, _with(state, one, _job("report-c", "1970-01-01T00:01:00Z")))
    assert found is not None
    message, names = found
    assert "Jobs report-a and report-c both run the activation of 1970-01-01T00:01:00Z" in message
    assert names == ("CronJob default/report", "Job default/report-a", "Job default/report-c")


def test_on_by_default_where_a_cronjob_can_exist() -> None:
    assert has_cron_jobs(load_scenario(DATA / "cronjob" / "nightly.yaml"))
    assert not has_cron_jobs(load_scenario(DATA / "job" / "migrate.yaml"))
