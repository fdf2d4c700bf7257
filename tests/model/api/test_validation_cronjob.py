"""CronJob defaults, validation and storage through the API server (`SetDefaults_CronJob`,
ValidateCronJobCreate / validateCronJobSpec), and a folder with a bad CronJob refused naming each
field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.batch import JobSpec
from kubeprop.model.api.batch_cronjob import CronJob, CronJobSpec, JobTemplateSpec
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import Container, PodSpec, PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.validation import validate_create, validate_update
from kubeprop.model.api.validation_cronjob import timezone_offset
from kubeprop.model.scenario.bootstrap import every_rejection
from kubeprop.model.scenario.load import load_scenario


def _cron(name: str = "report", **spec: object) -> CronJob:
    template = PodTemplateSpec(spec=PodSpec(restart_policy="Never", containers=(Container(name="c", image="c:1"),)))
    fields: dict[str, object] = {"schedule": "*/5 * * * *", "job_template": JobTemplateSpec(spec=JobSpec(
        template=template))}
    fields.update(spec)
    return apply_defaults(CronJob(metadata=ObjectMeta(name=name, namespace="default"),
                                  spec=CronJobSpec(**fields)))  # type: ignore[arg-type]


def _errors(cron: CronJob) -> list[str]:
    return [str(e) for e in validate_create(cron)]


def test_defaults() -> None:
    spec = _cron().spec
    assert (spec.concurrency_policy, spec.suspend, spec.successful_jobs_history_limit,
            spec.failed_jobs_history_limit) == ("Allow", False, 3, 1)
    assert spec.job_template.spec.backoff_limit is None  # each Job gets the Job defaults when created
    assert spec.job_template.spec.template.spec.termination_grace_period_seconds == 30  # the pod template's defaults
    assert _cron(concurrency_policy="Forbid", successful_jobs_history_limit=0).spec.successful_jobs_history_limit == 0
    assert _errors(_cron()) == []


def test_the_name_limit_and_the_schedule() -> None:
    assert _errors(_cron("r" * 52)) == []
    long = "r" * 53
    assert _errors(_cron(long)) == [f'metadata.name: Invalid value: "{long}": must be no more than 52 characters']
    assert _errors(_cron(schedule="")) == ["spec.schedule: Required value"]
    assert _errors(_cron(schedule="* * *")) == ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, '
                                                'found 3: [* * *]']
    assert _errors(_cron(schedule="TZ=UTC 0 * * * *")) == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field '
        'instead']


@pytest.mark.parametrize(("zone", "offset"), [("UTC", 0), ("Etc/UTC", 0), ("Etc/GMT+5", -5 * 3600),
                                              ("Etc/GMT-14", 14 * 3600), ("Etc/GMT+13", None), ("Etc/GMT-05", None),
                                              ("Europe/Berlin", None)])
def test_time_zones_the_model_knows(zone: str, offset: int | None) -> None:
    assert timezone_offset(zone) == offset
    assert (_errors(_cron(time_zone=zone)) == []) == (offset is not None)


@pytest.mark.parametrize(("zone", "message"), [
    ("", "timeZone must be nil or non-empty string"), ("Local", "timeZone must be an explicit time zone"),
    ("../etc", "unknown time zone ../etc"), ("America/A_Name_Far_Too_Long", "unknown time zone"),
])
def test_bad_time_zones(zone: str, message: str) -> None:
    (error,) = _errors(_cron(time_zone=zone))
    assert error.startswith("spec.timeZone: Invalid value") and message in error


def test_the_policy_limits_and_the_job_template() -> None:
    assert _errors(_cron(concurrency_policy="Sometimes")) == [
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']
    assert _errors(_cron(starting_deadline_seconds=-1, failed_jobs_history_limit=-1)) == [
        "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
        "spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0"]
    cron = _cron()
    template = cron.spec.job_template
    selector = JobSpec(template=template.spec.template, selector=LabelSelector(), manual_selector=True)
    errors = _errors(CronJob(metadata=cron.metadata, spec=CronJobSpec(
        schedule="@hourly", concurrency_policy="Allow", job_template=JobTemplateSpec(spec=selector))))
    assert [e.split(":")[0] for e in errors] == ["spec.jobTemplate.spec.selector",
                                                 "spec.jobTemplate.spec.manualSelector"]
    assert validate_update(cron, cron) == []


def test_a_bad_cronjob_is_refused_naming_each_field_and_line(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "s.yaml").write_text(
        "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nmanifests: [m]\n"
        "topology: {nodes: [{name: n1, allocatable: {cpu: '1', memory: 1Gi, pods: '10'}}]}\n")
    (tmp_path / "m" / "cj.yaml").write_text(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: default}\nspec:\n"
        "  schedule: '0 0 * * 8'\n  concurrencyPolicy: Never\n  jobTemplate:\n    spec:\n      template:\n"
        "        spec:\n          containers: [{name: c, image: c}]\n")
    problems = every_rejection(load_scenario(tmp_path / "s.yaml"))
    found = [(p.line, p.field) for p in problems]
    assert found == [(5, "spec.schedule"), (6, "spec.concurrencyPolicy"),
                     (10, "spec.jobTemplate.spec.template.spec.restartPolicy")]
    assert "end of range (8) above maximum (6): 8" in problems[0].message
