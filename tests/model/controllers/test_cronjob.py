"""The CronJob controller in whole clusters: the fair run of `tests/model/data/cronjob/nightly.yaml`
(every minute, Forbid, one successful Job kept), the property `cronjob-one-job-per-schedule`, and
the `cronjob-no-name-lock` variant against the correct model on `restart.yaml` (a daily backup;
the controller manager crashes right after the Job's create, before the status write) and on
`new-york.yaml` (the same on New York's wall clock)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.batch import Job, condition_true
from kubeprop.model.api.batch_cronjob import SCHEDULED_TIMESTAMP_ANNOTATION, CronJob
from kubeprop.model.cluster import build_model, initial_state, step
from kubeprop.model.cluster.compose import actions
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.base import next_timer as controller_timer
from kubeprop.model.controllers.cronjob import CronJobController
from kubeprop.model.controllers.registry import ADDON_CONTROLLERS
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent
from kubeprop.model.state.cluster import ClusterModel, ClusterState, view
from kubeprop.properties.cronjobs import cronjob_one_job_per_schedule
from kubeprop.properties.jobs import jobs_finished

DATA = Path(__file__).parents[1] / "data" / "cronjob"


def _jobs(state: ClusterState) -> dict[str, Job]:
    return {j.metadata.name: j for j in state.store.list("jobs.batch") if isinstance(j, Job)}


def test_a_cronjob_starts_a_job_every_minute_and_keeps_its_history() -> None:
    model = build_model(load_scenario(DATA / "nightly.yaml"))
    assert {"cronjob", "job"} <= {c.name for c in model.controllers}
    assert CronJobController in ADDON_CONTROLLERS
    state = initial_state(model)
    run = fair_run(model, state)
    seen: dict[str, str] = {}
    for act in run.trace:
        state = step(model, state, act)
        assert cronjob_one_job_per_schedule(model, state) is None
        for name, job in _jobs(state).items():
            seen.setdefault(name, job.metadata.annotations[SCHEDULED_TIMESTAMP_ANNOTATION])
    end = run.state
    assert end.clock == 1000  # the run's 100 ticks of 10 s
    assert seen == {f"report-{m}": f"1970-01-01T00:{m:02d}:00Z" for m in range(1, 17)}
    (cron,) = [c for c in end.store.list("cronjobs.batch") if isinstance(c, CronJob)]
    assert (cron.status.last_schedule_time, cron.status.active) == (960, ())
    assert cron.status.last_successful_time is not None and cron.status.last_successful_time >= 960
    kept = _jobs(end)
    assert list(kept) == ["report-16"] and condition_true(kept["report-16"], "Complete")  # history limit 1
    assert {p.metadata.labels.get("batch.kubernetes.io/job-name") for p in end.store.list("pods")} == {"report-16"}
    assert jobs_finished(model, end) is None


def _crash_after_first_create(model: ClusterModel) -> ClusterState:
    """The fair run up to the CronJob controller's first Job create, then the controller manager
    crashed before the status write that records it, and the fair run on from there."""
    state = initial_state(model)
    for act in fair_run(model, state).trace:
        state = step(model, state, act)
        if any(p.created is not None for _, p in state.controllers["cronjob"].memory.pending.sorted_items()):
            break
    crash = next(a for a in actions(model, state) if isinstance(a, CrashComponent)
                 and a.component == "controller-manager")
    return step(model, state, crash)


@pytest.mark.parametrize(("scenario", "stamp"), [("restart.yaml", "1970-01-01T00:01:00Z"),
                                                 ("new-york.yaml", "1969-12-31T19:01:00-05:00")])
def test_the_job_name_is_the_lock_across_a_restart(scenario: str, stamp: str) -> None:
    """Upstream's lock: after the restart the controller finds the Job unrecorded, creates it again,
    is answered AlreadyExists, reads it and records it. Without the lock (the variant) the same run
    starts the activation's Job twice. `new-york.yaml`'s `1 19 * * *` on New York's wall clock is
    model time 60 as `restart.yaml`'s `1 0 * * *` in UTC (its Job's timestamp in New York's offset)."""
    for variant, expected_jobs in (("correct", 1), ("cronjob-no-name-lock", 2)):
        model = build_model(load_scenario(DATA / scenario), variant=variant)
        state = _crash_after_first_create(model)
        violations = []
        most = 0
        for act in fair_run(model, state, max_ticks=20).trace:
            state = step(model, state, act)
            most = max(most, len(_jobs(state)))
            if (found := cronjob_one_job_per_schedule(model, state)) is not None:
                violations.append(found)
        assert most == expected_jobs, variant
        assert bool(violations) == (variant != "correct"), variant
        (cron,) = [c for c in state.store.list("cronjobs.batch") if isinstance(c, CronJob)]
        assert cron.status.last_schedule_time == 60
        assert {j.metadata.annotations[SCHEDULED_TIMESTAMP_ANNOTATION] for j in _jobs(state).values()} == {stamp}


def _cron_jobs_made(model: ClusterModel) -> tuple[set[str], ClusterState]:
    """The names of the Jobs the CronJob controller made in the fair run, and its end."""
    return _cron_jobs_made_from(model, initial_state(model))


def _cron_jobs_made_from(model: ClusterModel, state: ClusterState) -> tuple[set[str], ClusterState]:
    """The names of the Jobs the CronJob controller made in the fair run from `state`, and its end."""
    names: set[str] = set()
    for act in fair_run(model, state).trace:
        state = step(model, state, act)
        names |= {name for name, job in _jobs(state).items()
                  if (ref := job.metadata.controller_ref()) is not None and ref.kind == "CronJob"}
    return names, state


def test_a_job_of_another_owner_on_the_activation_name_stalls_the_cronjob() -> None:
    """audit22a: `squat.yaml`'s user Job `report-2` takes the name of the 120 s activation's Job.
    syncCronJob's IsAlreadyExists branch GETs it, finds it not controlled by the CronJob and returns
    `nil, updateStatus, nil` (`pkg/controller/cronjob/cronjob_controllerv2.go`): no AddAfter, so
    the key is synced again only by an event (or the informers' 12-24 h resync, past the run). The
    CronJob's own Job events came before, so upstream starts no Job after report-1."""
    model = build_model(load_scenario(DATA / "squat.yaml"))
    names, end = _cron_jobs_made(model)
    assert names == {"report-1"}
    assert end.controllers["cronjob"].memory.parked == frozenset({"default/report"})
    cache = view(model, end, "controller-manager")
    assert CronJobController().wakeup_at(cache, "default/report", end.clock) is not None  # held back by its memory
    assert controller_timer(model, end) is None
    assert end.clock < 180  # nothing else keeps time going
    # an event queuing the key before the next activation: the same AlreadyExists, parked again
    again, still = _cron_jobs_made_from(model, _queued(end, end.clock))
    assert again == {"report-1"} and still.controllers["cronjob"].memory.parked == frozenset({"default/report"})
    # one at 185 s: its sync starts the 180 s activation's Job and the requeues go on
    names, after = _cron_jobs_made_from(model, _queued(end, 185))
    assert {"report-3", "report-4"} <= names and "report-2" not in names
    assert after.controllers["cronjob"].memory.parked == frozenset()


def _queued(state: ClusterState, clock: int) -> ClusterState:
    """`state` at `clock` with the CronJob's key queued, as an event would queue it."""
    cronjob = state.controllers["cronjob"].enqueue(["default/report"])
    return attrs.evolve(state, clock=clock, controllers=state.controllers.set("cronjob", cronjob))
