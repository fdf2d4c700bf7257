"""The CronJob controller (`pkg/controller/cronjob/cronjob_controllerv2.go`, v1.33).

A CronJob's key is synced (`cronjob_sync.decide`) when an event enqueues it and at the time of its
next activation (`wakeup_at`: the `queue.AddAfter(key, nextScheduleTimeDuration)` each sync ends
with, asked of the cache as the clock's timers are); a sync creates the Job of the most recent
activation not yet started (named `<cronjob>-<minutes>`, so a time's Job is created once), within
`startingDeadlineSeconds`, as `concurrencyPolicy` allows (Forbid: none while one is active;
Replace: the active ones deleted first), unless the CronJob is suspended or being deleted; records
it in `status.active` and `status.lastScheduleTime`; drops finished and vanished Jobs from
`status.active`, sets `status.lastSuccessfulTime`, and deletes the finished Jobs beyond the history
limits (`cronjob_util`, `cronjob_sync`).

Event handlers (`keys_for_change`): CronJob add and delete enqueue it; an update enqueues it at
once unless the schedule or time zone changed (then only at the new schedule's next activation,
which `wakeup_at` computes from the updated cache); Job add, update and delete enqueue the CronJob
the Job's controller reference resolves to (kind, name, UID), the old one too when the reference
changed; a Job added while being deleted is handled as a delete; an update with the same
resourceVersion (a relist) enqueues nothing.

Time and runs: the model's clock moves by ticks (`bounds.tickSeconds`, 10 s by default), and a
fair run ticks at most `max_ticks` times (100 for convergence checks: 1,000 s of model time), so a
CronJob fires in a run only for activations within that span — an every-minute schedule some
sixteen times, an hourly or daily one (the first activation after model time 0, 1970-01-01 00:00
UTC) not at all. A CronJob keeps a timer pending for ever (unless `parked`), so `Tick` stays
enabled and a fair run ends when its ticks are spent: the convergence properties are judged there, after every Job the
run started has finished (the controllers and kubelets act before the next tick), as for the
HPA's periodic syncs.

Memory (`CronJobMemory`, lost on a crash as upstream's process state): the answers of the live
reads a sync made (`cronjob_sync.Live`), the status write that follows a Job's create
(`cronjob_sync.Pending`), and the keys whose sync ended without a requeue (`parked`: the Job of the
activation already existed, of another owner or already active; no activation wakes them until an
event queues them).

Time zones: `spec.timeZone` names any zone of Go 1.24's embedded database, and the schedule is
searched on that zone's wall clock, daylight saving time as robfig/cron handles it
(`kubeprop.model.api.cron_schedule`, `cron_zone`).

Not modelled: events and metrics; the rate limiter's delays (a failed sync is retried as any model
controller's).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.batch import Job
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.cronjob_sync import (
    CRONJOBS,
    JOBS,
    CleanupTolerance,
    Live,
    Pending,
    decide,
    job_ref,
    pending_write,
)
from kubeprop.model.controllers.cronjob_util import requeue_at, schedule_of
from kubeprop.model.controllers.handlers import same_version
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, resolve_controller_ref, split_key
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

__all__ = ["CronJobController", "CronJobMemory", "created_resources", "uses_cron_jobs"]


@attrs.frozen(cache_hash=True)
class CronJobMemory:
    """The controller's memory (module docstring); `asking` is the key whose live reads are out,
    `parked` the keys no activation wakes until an event queues them."""

    asking: str = ""
    live: FrozenMap[str, Live] = EMPTY
    pending: FrozenMap[str, Pending] = EMPTY
    parked: frozenset[str] = attrs.field(default=frozenset(), metadata={"fingerprint": "omit-if-default"})
    """The keys whose last sync ended without its requeue (`CronJobController.parked`)."""


def uses_cron_jobs(objects: Iterable[Any]) -> bool:
    """Whether any of the scenario's objects is a CronJob: the CronJob controller (and the Job
    controller, for the Jobs it makes) runs only then (`kubeprop.model.cluster.compose`)."""
    return any(isinstance(o, CronJob) for o in objects)


def created_resources(objects: Iterable[Any]) -> tuple[str, ...]:
    """The resources the CronJob controller creates for the scenario's objects (the Jobs, which the
    garbage collector must watch to delete their pods)."""
    return (JOBS,) if uses_cron_jobs(objects) else ()


def _key(obj: ApiObject) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def _owner_key(view: ObjectView, job: ApiObject) -> tuple[str, ...]:
    """resolveControllerRef: the key of the cached CronJob the Job's controller reference names."""
    owner = resolve_controller_ref(view, job, CRONJOBS, "CronJob")
    return (_key(owner),) if owner is not None else ()


def _job_keys(change: Change, view: ObjectView) -> tuple[str, ...]:
    """addJob, updateJob, deleteJob."""
    job, old = change.object, change.old
    if change.type == "update" and old is not None:
        if same_version(old, job):
            return ()
        keys: tuple[str, ...] = ()
        if old.metadata.controller_ref() != job.metadata.controller_ref() and old.metadata.controller_ref():
            keys = _owner_key(view, old)
        return keys + _owner_key(view, job)
    return _owner_key(view, job)


def _forget(memory: CronJobMemory, key: str) -> CronJobMemory:
    return evolve(memory, live=memory.live.delete(key) if key in memory.live else memory.live,
                  pending=memory.pending.delete(key) if key in memory.pending else memory.pending)


@attrs.frozen
class CronJobController(ChangeHandlers):
    """The CronJob controller as a `Controller` (see the module docstring).

    - `name_lock`: False gives each Job a generated name instead of `<cronjob>-<minutes>` (the
      `cronjob-no-name-lock` variant, parameter `cronJobNameLock`): the hazard syncCronJob's comment
      names — a sync that does not see its own last create (a restart between the create and the
      status write, a failed status write, lagging caches) starts that activation's Job again.
    """

    name_lock: bool = True
    name: str = "cronjob"
    watches: tuple[str, ...] = (CRONJOBS, JOBS)
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> CronJobMemory:
        """No live answers, nothing pending."""
        return CronJobMemory()

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The CronJob handlers (enqueueController, updateCronJob) and the Job handlers."""
        obj, old = change.object, change.old
        if isinstance(obj, CronJob):
            if change.type == "update" and isinstance(old, CronJob) and (
                    old.spec.schedule != obj.spec.schedule or old.spec.time_zone != obj.spec.time_zone):
                return ()  # enqueueControllerAfter(next activation): `wakeup_at`
            return (_key(obj),)
        return tuple(sorted(set(_job_keys(change, view)))) if isinstance(obj, Job) else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """sync (`cronjob_sync`)."""
        namespace, name = split_key(key)
        cron_job = view.get(ObjectKey(CRONJOBS, namespace, name))
        if key in memory.parked:  # an event queued it: its syncs requeue again
            memory = evolve(memory, parked=memory.parked - {key})
        if not isinstance(cron_job, CronJob):
            return Reconciliation((), _forget(memory, key))
        live = memory.live.get(key, Live())
        pending = memory.pending.get(key)
        if pending is not None and (pending.created is not None or pending.exists):
            requests, outcome = pending_write(self.identity, pending, live)
            if pending.created is None and pending.name not in live.jobs:  # the Job's live read
                return Reconciliation(requests, evolve(memory, asking=key), requeue=True, tolerate=CleanupTolerance())
            memory = _forget(memory, key)
            if outcome == "stall":
                memory = evolve(memory, parked=memory.parked | {key})
            return Reconciliation(requests, memory, requeue=outcome == "retry")
        jobs = [j for j in view.list(JOBS, namespace) if isinstance(j, Job)
                and (ref := j.metadata.controller_ref()) is not None and ref.name == name]
        decision = decide(self.identity, cron_job, jobs, live, now, self.name_lock)
        memory = _forget(memory, key)
        if decision.reads:
            return Reconciliation(decision.requests, evolve(memory, asking=key, live=memory.live.set(key, live)),
                                  requeue=True, tolerate=CleanupTolerance())
        if decision.pending is not None:
            memory = evolve(memory, pending=memory.pending.set(key, decision.pending))
        return Reconciliation(decision.requests, memory, requeue=decision.pending is not None,
                              tolerate=CleanupTolerance(decision.cleanup))

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """The answers of the live reads, and of the Job create a status write waits on (a create
        that failed otherwise ends the sync: nothing is pending)."""
        if request.verb == "get":
            return _observe_read(memory, request, response)
        if request.verb != "create" or request.resource != JOBS or request.obj is None:
            return memory
        owner = request.obj.metadata.controller_ref()
        key = f"{request.namespace}/{owner.name}" if owner is not None else ""
        pending = memory.pending.get(key)
        if pending is None or pending.name != request.obj.metadata.name:
            return memory
        if response.ok and isinstance(response.obj, Job):
            pending = evolve(pending, created=job_ref(response.obj))
        elif response.code == 409 and response.reason == "AlreadyExists":
            pending = evolve(pending, exists=True)
        else:
            return evolve(memory, pending=memory.pending.delete(key))
        return evolve(memory, pending=memory.pending.set(key, pending))

    def parked(self, memory: CronJobMemory) -> frozenset[str]:
        """The keys `wakeup_at` does not wake (`controllers.base`): their last sync found the Job
        name of its activation taken by a Job it does not control, or by one already in
        `status.active`, and returned without `AddAfter` (syncCronJob's IsAlreadyExists branch,
        `pkg/controller/cronjob/cronjob_controllerv2.go`), so nothing but an event queues them
        again. Upstream the informers' resync (12 to 24 h, `--min-resync-period`) would: past any
        run's horizon, so the model leaves it out."""
        return memory.parked

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """The CronJob's next activation (nextScheduleTimeDuration), unless a sync would end without
        a requeue (being deleted, suspended, an unusable schedule or zone; a key `parked` after an
        AlreadyExists is held back by its memory)."""
        namespace, name = split_key(key)
        cron_job = view.get(ObjectKey(CRONJOBS, namespace, name))
        if not isinstance(cron_job, CronJob) or cron_job.metadata.deletion_timestamp is not None \
                or cron_job.spec.suspend:
            return None
        schedule = schedule_of(cron_job)
        return requeue_at(cron_job, now, schedule) if schedule is not None else None


def _observe_read(memory: CronJobMemory, request: Request, response: Response) -> CronJobMemory:
    """A live read answered (found, or 404); a failed read answers nothing (it is asked again)."""
    if not response.ok and response.code != 404:
        return memory
    if request.resource == CRONJOBS:
        key = f"{request.namespace}/{request.name}"
        found = response.obj if response.ok and isinstance(response.obj, CronJob) else None
        live = evolve(memory.live.get(key, Live()), asked_cron_job=True, cron_job=found)
        return evolve(memory, live=memory.live.set(key, live))
    if request.resource == JOBS and memory.asking:
        job = response.obj if response.ok and isinstance(response.obj, Job) else None
        live = memory.live.get(memory.asking, Live())
        return evolve(memory, live=memory.live.set(memory.asking, evolve(live, jobs=live.jobs.set(request.name, job))))
    return memory
