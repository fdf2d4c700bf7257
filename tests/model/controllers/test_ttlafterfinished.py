"""The TTL-after-finished controller (`pkg/controller/ttlafterfinished/ttlafterfinished_controller.go`):
single reconciles on the bare scenario (the handlers, the timer, the live GET, the Foreground
DELETE with the UID precondition) and the fair run of `tests/model/data/job/cleanup.yaml`, where
the finished Job and its pod are gone 30 s after it completed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.batch import Job
from kubeprop.model.api.batch_cronjob import CronJob, CronJobSpec, JobTemplateSpec
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.objects import ObjectKey, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.base import Change
from kubeprop.model.controllers.registry import ADDON_CONTROLLERS
from kubeprop.model.controllers.ttlafterfinished import TTLAfterFinishedController, TtlMemory, uses_ttl
from kubeprop.model.scenario.load import ADMIN, load_scenario

API = ApiHarness(bare_scenario())
KEY = "default/report"
DATA = Path(__file__).parents[1] / "data" / "job"


def manifest(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "report", "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "r", "image": "report:1"}]}}, **spec}}


def stored(store: Store) -> Job | None:
    obj = store.get(ObjectKey("jobs.batch", "default", "report"))
    assert obj is None or isinstance(obj, Job)
    return obj


def finished(store: Store, at: int, type_: str = "Complete") -> Store:
    """The Job controller's final status write: the condition True since `at`."""
    job = stored(store)
    assert job is not None
    conditions = (Condition(type="SuccessCriteriaMet" if type_ == "Complete" else "FailureTarget", status="True",
                            last_transition_time=at),
                  Condition(type=type_, status="True", last_transition_time=at))
    status = attrs.evolve(job.status, conditions=conditions, start_time=at,
                          completion_time=at if type_ == "Complete" else None)
    return API.ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(job, status=status)), at)


def created(**spec: Any) -> Store:
    store, response = API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(manifest(**spec))))
    assert response.ok, response.message
    return store


def run(ctl: TTLAfterFinishedController, store: Store, memory: TtlMemory, now: int
        ) -> tuple[Store, TtlMemory, tuple[Request, ...], bool]:
    decision = ctl.reconcile(store, KEY, memory, now)
    memory = decision.memory
    for request in decision.requests:
        store, response = API.send(store, request, now)
        memory = ctl.observe(memory, request, response)
    return store, memory, decision.requests, decision.requeue


def test_a_job_with_a_ttl_is_admitted_and_a_negative_one_refused() -> None:
    store = created(ttlSecondsAfterFinished=30)
    job = stored(store)
    assert job is not None and job.spec.ttl_seconds_after_finished == 30
    _, response = API.send(API.base, Request(verb="create", user=ADMIN,
                                             obj=decode_object(manifest(ttlSecondsAfterFinished=-1))))
    assert response.code == 422 and "spec.ttlSecondsAfterFinished" in response.message
    # mutable: no immutability rule names it
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, ttl_seconds_after_finished=60))))
    assert (stored(store) or job).spec.ttl_seconds_after_finished == 60


def test_handlers_enqueue_a_finished_job_with_a_ttl_only() -> None:
    ctl = TTLAfterFinishedController()
    store = created(ttlSecondsAfterFinished=30)
    running = stored(store)
    assert running is not None and list(ctl.keys_for_change(Change("add", running), store)) == []
    store = finished(store, 5)
    done = stored(store)
    assert done is not None
    assert list(ctl.keys_for_change(Change("update", done, running), store)) == [KEY]
    assert list(ctl.keys_for_change(Change("delete", done), store)) == []  # no DeleteFunc
    no_ttl = attrs.evolve(done, spec=attrs.evolve(done.spec, ttl_seconds_after_finished=None))
    assert list(ctl.keys_for_change(Change("update", no_ttl, running), store)) == []


def test_the_timer_then_the_live_get_then_a_foreground_delete() -> None:
    ctl = TTLAfterFinishedController()
    store = finished(created(ttlSecondsAfterFinished=30), 5, "Failed")
    assert ctl.wakeup_at(store, KEY, 6) == 35  # the Failed condition's lastTransitionTime + the TTL
    store, memory, requests, _ = run(ctl, store, TtlMemory(), 20)
    assert requests == ()  # not expired yet: the timer brings the key back
    store, memory, requests, requeue = run(ctl, store, memory, 35)
    assert [r.verb for r in requests] == ["get"] and requeue and KEY in memory.fresh
    store, memory, requests, requeue = run(ctl, store, memory, 35)
    job_uid = requests[0].precondition_uid
    assert [(r.verb, r.propagation_policy) for r in requests] == [("delete", "Foreground")] and job_uid
    assert not requeue and not memory.fresh
    gone = stored(store)  # the API server keeps it until the garbage collector removed its dependents
    assert gone is not None and gone.metadata.deletion_timestamp == 35
    assert "foregroundDeletion" in gone.metadata.finalizers


def test_the_fresh_job_decides_a_ttl_raised_meanwhile_keeps_it() -> None:
    """processJob re-checks the TTL on the Job the GET returns: raised since the cache saw it, the
    Job stays (and the timer of the new TTL brings it back)."""
    ctl = TTLAfterFinishedController()
    cache = finished(created(ttlSecondsAfterFinished=0), 5)
    job = stored(cache)
    assert job is not None
    live = API.ok(cache, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        job, spec=attrs.evolve(job.spec, ttl_seconds_after_finished=100))))
    decision = ctl.reconcile(cache, KEY, TtlMemory(), 5)  # expired, as the cache shows it
    assert [r.verb for r in decision.requests] == ["get"]
    store, response = API.send(live, decision.requests[0], 5)
    memory = ctl.observe(decision.memory, decision.requests[0], response)
    store, memory, requests, _ = run(ctl, cache, memory, 6)  # from the answer, not the stale cache
    assert requests == () and stored(store) is not None and not memory.fresh
    assert ctl.wakeup_at(live, KEY, 6) == 105


def test_a_job_gone_before_the_get_is_left_alone() -> None:
    ctl = TTLAfterFinishedController()
    store = finished(created(ttlSecondsAfterFinished=0), 5)
    _, memory, requests, _ = run(ctl, API.base, TtlMemory(), 5)
    assert requests == ()  # not in the cache
    decision = ctl.reconcile(store, KEY, TtlMemory(), 5)
    _, response = API.send(API.base, decision.requests[0], 5)  # the live GET finds nothing
    assert response.code == 404 and decision.tolerate is not None
    assert decision.tolerate(decision.requests[0], response) == "ignore"
    memory = ctl.observe(decision.memory, decision.requests[0], response)
    assert ctl.reconcile(store, KEY, memory, 5).requests == ()


def test_a_finished_job_and_its_pod_are_gone_after_the_ttl() -> None:
    assert TTLAfterFinishedController in ADDON_CONTROLLERS
    model = build_model(load_scenario(DATA / "cleanup.yaml"))
    assert "ttl-after-finished" in {c.name for c in model.controllers}
    result = fair_run(model, initial_state(model))
    assert not result.exhausted
    assert not list(result.state.store.list("jobs.batch"))
    assert not list(result.state.store.list("pods")) and result.state.clock >= 30
    without = build_model(load_scenario(DATA / "migrate.yaml"))
    assert "ttl-after-finished" not in {c.name for c in without.controllers}


def test_the_controller_runs_where_a_job_or_a_cronjob_template_sets_a_ttl() -> None:
    job = decode_object(manifest(ttlSecondsAfterFinished=30))
    assert isinstance(job, Job)
    cron = CronJob(spec=CronJobSpec(job_template=JobTemplateSpec(spec=job.spec)))
    assert uses_ttl([job]) and uses_ttl([cron])
    untimed = attrs.evolve(job, spec=attrs.evolve(job.spec, ttl_seconds_after_finished=None))
    assert not uses_ttl([untimed, CronJob(spec=CronJobSpec(job_template=JobTemplateSpec(spec=untimed.spec)))])
