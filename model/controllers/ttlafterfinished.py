"""The TTL-after-finished controller (`pkg/controller/ttlafterfinished/ttlafterfinished_controller.go`,
v1.33): it deletes a finished Job `ttlSecondsAfterFinished` seconds after it finished.

Event handlers (`keys_for_change`): a Job added or updated that is not being deleted and needs
cleanup (needsCleanup: the TTL set and a Complete or Failed condition True) enqueues its key; a
delete enqueues nothing (no DeleteFunc).

processJob (`reconcile`): the Job from the cache (gone: nothing); processTTL — being deleted or not
needing cleanup: nothing; the time left until the finish (the Complete or Failed condition's
lastTransitionTime, jobFinishTime) plus the TTL is positive: the key comes back then (enqueueAfter:
`wakeup_at`); else the Job is fetched from the API server (a live GET: "the Job TTL might be stale")
and, if processTTL says the fresh one has expired too, deleted with propagationPolicy Foreground and
its UID as precondition, so its pods are collected before it goes (the garbage collector,
`kubeprop.model.controllers.gc`). A GET answered 404 ends the work silently; any other failure, the
DELETE's included, requeues the key (handleErr's AddRateLimited).

Model choice: the GET and the DELETE are two reconciles of the key (as the pod GC's node GET,
`kubeprop.model.controllers.podgc`): the GET's answer is kept in the memory (`fresh`, by key) and
the key requeued; its next reconcile decides from that answer alone, as upstream's code after the
GET does. Between them the world may move, as it may between upstream's two requests. Not modelled:
events and metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from kubeprop.model.api.batch import Job, is_finished
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, split_key
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

__all__ = ["TTLAfterFinishedController", "TtlMemory", "expire_at", "uses_ttl"]

_JOBS = "jobs.batch"


@attrs.frozen(cache_hash=True)
class TtlMemory:
    """The live GET's answers still to act on, by key: the fresh Job, or None (answered 404)."""

    fresh: FrozenMap[str, Job | None] = EMPTY


def uses_ttl(objects: Iterable[Any]) -> bool:
    """Whether any of the scenario's objects is a Job with `ttlSecondsAfterFinished`, or a CronJob
    whose Job template sets it: the controller runs only then (`kubeprop.model.cluster.compose`;
    elsewhere it would never act)."""
    return any((isinstance(o, Job) and o.spec.ttl_seconds_after_finished is not None)
               or (isinstance(o, CronJob) and o.spec.job_template.spec.ttl_seconds_after_finished is not None)
               for o in objects)


def _finish_time(job: Job) -> int | None:
    """jobFinishTime: the lastTransitionTime of the first Complete or Failed condition that is True
    (None where it is unset: upstream's error, no cleanup)."""
    for c in job.status.conditions:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return c.last_transition_time
    return None


def _needs_cleanup(job: Job) -> bool:
    """needsCleanup: the TTL set and the Job finished."""
    return job.spec.ttl_seconds_after_finished is not None and is_finished(job)


def expire_at(job: Job) -> int | None:
    """getFinishAndExpireTime's expiry, for a Job not being deleted that needs cleanup (processTTL's
    first test); else None."""
    if job.metadata.deletion_timestamp is not None or not _needs_cleanup(job):
        return None
    finished = _finish_time(job)
    ttl = job.spec.ttl_seconds_after_finished
    return None if finished is None or ttl is None else finished + ttl


def _expired(job: Job, now: int) -> bool:
    """processTTL's answer: the time left (`expireAt - now`) is not positive."""
    at = expire_at(job)
    return at is not None and at <= now


def _tolerate(request: Request, response: Response) -> Literal["ignore"] | None:
    """The live GET answered 404: processJob returns nil."""
    return "ignore" if request.verb == "get" and response.code == 404 else None


@attrs.frozen
class TTLAfterFinishedController(ChangeHandlers):
    """The TTL-after-finished controller as a `Controller` (see the module docstring)."""

    name: str = "ttl-after-finished"
    watches: tuple[str, ...] = (_JOBS,)
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> TtlMemory:
        """No GET answered yet."""
        return TtlMemory()

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """addJob, updateJob: a Job not being deleted that needs cleanup."""
        job = change.object
        if change.type == "delete" or not isinstance(job, Job):
            return ()
        if job.metadata.deletion_timestamp is None and _needs_cleanup(job):
            return (f"{job.metadata.namespace}/{job.metadata.name}",)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """processJob: up to the live GET from the cache, or on from the GET's answer."""
        namespace, name = split_key(key)
        if key in memory.fresh:
            fresh = memory.fresh[key]
            memory = evolve(memory, fresh=memory.fresh.delete(key))
            if fresh is None or not _expired(fresh, now):
                return Reconciliation((), memory)
            delete = Request(verb="delete", user=self.identity, resource=_JOBS, namespace=namespace, name=name,
                             propagation_policy="Foreground", precondition_uid=fresh.metadata.uid)
            return Reconciliation((delete,), memory)
        job = view.get(ObjectKey(_JOBS, namespace, name))
        if not isinstance(job, Job) or not _expired(job, now):
            return Reconciliation((), memory)
        get = Request(verb="get", user=self.identity, resource=_JOBS, namespace=namespace, name=name)
        return Reconciliation((get,), memory, requeue=True, tolerate=_tolerate)

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """The live GET's answer, kept for the key's next reconcile (a failed GET keeps nothing:
        the key is requeued and starts again from the cache)."""
        if request.verb != "get" or request.resource != _JOBS:
            return memory
        key = f"{request.namespace}/{request.name}"
        if response.ok and isinstance(response.obj, Job):
            return evolve(memory, fresh=memory.fresh.set(key, response.obj))
        if response.code == 404:
            return evolve(memory, fresh=memory.fresh.set(key, None))
        return memory

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """enqueueAfter: when a finished Job's TTL runs out."""
        namespace, name = split_key(key)
        job = view.get(ObjectKey(_JOBS, namespace, name))
        return expire_at(job) if isinstance(job, Job) else None
