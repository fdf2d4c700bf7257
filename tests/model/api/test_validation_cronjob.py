"""CronJob defaults, validation and storage through the API server (`SetDefaults_CronJob`,
ValidateCronJobCreate / validateCronJobSpec), and a folder with a bad CronJob refused naming each
field and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.batch import JobSpec
from kubeprop.model.api.batch_cronjob import CronJob, CronJobSpec, JobTemplateSpec
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey, decode_object
from kubeprop.model.api.pod import Container, PodSpec, PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request
from kubeprop.model.api.validation import validate_create, validate_update
from kubeprop.model.scenario.bootstrap import every_rejection
from kubeprop.model.scenario.load import ADMIN, load_scenario


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


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Etc/GMT+5", "Etc/GMT-14", "Europe/Berlin", "America/New_York",
                                  "US/Eastern", "Asia/Kolkata", "Australia/Lord_Howe", "Factory"])
def test_time_zones_go_loads_are_admitted(zone: str) -> None:
    """Any name of Go 1.24's embedded database (`backward`'s old names and `Factory` included)."""
    assert _errors(_cron(time_zone=zone)) == []


@pytest.mark.parametrize(("zone", "messages"), [
    ("", ["timeZone must be nil or non-empty string"]),
    ("Local", ["timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"]),
    ("local", ["timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
               "unknown time zone local"]),  # EqualFold, then LoadLocation's own error: no return between
    ("utc", ["unknown time zone utc"]), ("America", ["unknown time zone America"]),
    ("Mars/Olympus_Mons", ["unknown time zone Mars/Olympus_Mons"]), ("Etc/GMT+13", ["unknown time zone Etc/GMT+13"]),
    ("America/Coyhaique", ["unknown time zone America/Coyhaique"]),  # IANA 2025b: after Go 1.24's 2025a
    ("Europe..Berlin", ["time: invalid location name"]),  # its parts pass the character check
    ("../etc", ["unknown time zone ../etc"]), ("America/A_Name_Far_Too_Long", ["unknown time zone "
                                                                              "America/A_Name_Far_Too_Long"]),
    ("Europe/Berlin\n", ["unknown time zone Europe/Berlin\n"]),  # Go's `$` is the end of the text
])
def test_bad_time_zones(zone: str, messages: list[str]) -> None:
    """validateTimeZone's messages, each under spec.timeZone."""
    assert _errors(_cron(time_zone=zone)) == [f"spec.timeZone: Invalid value: {_go_quoted(zone)}: {m}"
                                              for m in messages]


def _go_quoted(text: str) -> str:
    """Go's %q of a string of printable ASCII and newlines."""
    return '"' + text.replace("\n", "\\n") + '"'


def test_a_bad_zone_is_a_422_and_a_good_one_is_stored() -> None:
    api = ApiHarness(bare_scenario())
    body = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "report", "namespace": "default"},
            "spec": {"schedule": "30 2 * * *", "timeZone": "Mars/Olympus_Mons", "jobTemplate": {"spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "c:1"}]}}}}}}
    _, refused = api.send(api.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))
    assert refused.code == 422
    assert 'spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons' in refused.message
    body["spec"]["timeZone"] = "Europe/Berlin"  # type: ignore[index]
    store = api.created(body)
    stored = store.get(ObjectKey("cronjobs.batch", "default", "report"))
    assert isinstance(stored, CronJob) and stored.spec.time_zone == "Europe/Berlin"


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
