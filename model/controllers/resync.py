"""Periodic resyncs: a controller woken by time alone, every so many seconds, whatever happened.

Upstream a handler registered with `AddEventHandlerWithResyncPeriod(handler, period)`
(`staging/src/k8s.io/client-go/tools/cache/shared_informer.go`: each listener's `resyncPeriod`,
`shouldResync`/`determineNeedsResync`; the reflector's `resyncCheckPeriod` becomes the smallest
period registered before the informer starts) is handed every object of the informer's cache again
as an update of the object to itself (`DeltaFIFO.Resync`, a `Sync` delta; `processDeltas` calls
`OnUpdate(old, new)` with the same object) once per period. Up to v1.14 the StatefulSet controller
registered its set handler so, with `statefulSetResyncPeriod` = 30 s
(`pkg/controller/statefulset/stateful_set.go` NewStatefulSetController:
`setInformer.Informer().AddEventHandlerWithResyncPeriod(..., statefulSetResyncPeriod)`). Kubernetes PR
#75622 (v1.15, "StatefulSet controllers no longer force a resync every 30 seconds when nothing has
changed") registers it with `AddEventHandler`, no period: from v1.15 on, v1.33 included, only the
shared informer factory's resync (12 to 24 h, below) re-queues a set by time alone (closed PR #127020
discusses removing that one too). The controller has no handler for its claims ("TODO: Watch
volumes"), so a sync that waits on a claim without an error — PodClaimIsStale, `true, nil` — is not
taken up again until the set or one of its pods changes: after the garbage collector deletes the
stale claim no event reaches the set, and it waits (tests/model/data/resync/sts-stale-claim.yaml:
`workloads-ready` fails, reported as upstream behaviour `statefulset-stale-claim-stalls-until-resync`).
A claim being deleted when a pod is created is an error upstream (createPersistentVolumeClaims), which
the rate-limited queue retries: the controller's requeue, not a resync. The model's StatefulSet
controller has no resync by default; `statefulSetResyncSeconds: 30` (its `resync_period`) brings back
v1.14's, with which such a set is created within 30 s. (The twenty-third round, resync15, took the 30 s
resync for v1.33's and the stall for a false alarm: corrected in the twenty-eighth round, sts20.) The
pod handler has no resync (and `updatePod` ignores updates of an unchanged resourceVersion).

**The model's resync (`due`)** is a wake-up of the controller (`base.next_timer`, `base.on_tick`:
the clock's `Tick` reaches it and enqueues the key, as for `wakeup_at`) for every key of the
controller's primary resource (`watches[0]`) whose resync would do something: the key is not queued
already (a queued key is reconciled anyway; enqueueing it again merges with it), and a reconcile of
it now, from the controller manager's cache with the controller's memory, would send a request or
requeue the key. A resync whose reconcile would do nothing is left out: upstream it enqueues the
key, the reconcile finds nothing to do and writes nothing, the state the model is in already — so a
settled cluster has no such timer and stays settled (the fair run and the convergence judgements
end as before, where the HPA's 15 s period keeps `Tick` enabled until the run's ticks are spent),
and a key queued and failing (refused for good) keeps its rate-limited retries
(`kubeprop.model.controllers.queued_work`) and no resync timer of its own. The resync falls at the
next multiple of the period of model time: upstream's phase is the informer's start plus whole
periods, which the model fixes at time 0 (a restart of the controller manager keeps the same phase;
upstream's would move — any phase is one upstream can have, and the wait is never longer than one
period). Only built-in controllers resync (`period`): a user's controller's informers resync every
12 to 24 h (`kube-controller-manager`'s `ResyncPeriod`: `MinResyncPeriod` 12 h times a random
factor in [1, 2), `cmd/kube-controller-manager/app/controllermanager.go` ResyncPeriod), which no
scenario's run reaches, as the built-in controllers' shared informers' own resyncs.

The other periodic wake-ups of kube-controller-manager and what the model does with each are the
table in docs/controllers.md ("Periodic wake-ups").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kubeprop.model.controllers.user_calls import built_in
from kubeprop.model.controllers.work_queue import ControllerState
from kubeprop.model.state.component import Controller, Reconciliation
from kubeprop.model.state.informer import ObjectView

__all__ = ["STATEFULSET_RESYNC_SECONDS", "due", "period"]

STATEFULSET_RESYNC_SECONDS = 30
"""`statefulSetResyncPeriod` (`pkg/controller/statefulset/stateful_set.go`, v1.14 and before; removed in
v1.15 by kubernetes PR #75622): the value of `statefulSetResyncSeconds` for those releases."""

Decide = Callable[[Controller, ObjectView, str, Any, int], Reconciliation]
"""A decision of the controller, from a cache, for a key, with a memory, at a time (`base._decision`)."""


def period(controller: Controller) -> int | None:
    """The period of a built-in controller's resync in seconds (its optional `resync_period`), or
    None: a user's controller has none (see the module docstring)."""
    seconds = getattr(controller, "resync_period", None)
    if not built_in(controller) or not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return None
    return seconds


def due(controller: Controller, ctl_state: Any, view: ObjectView, now: int,
        decide: Decide) -> Iterator[tuple[str, int]]:
    """(key, time) for every key of `controller`'s primary resource in `view` that its next resync
    would wake to some purpose (not queued; its reconcile now sends a request or requeues it), at
    the next multiple of the period after `now`."""
    seconds = period(controller)
    if seconds is None or not isinstance(ctl_state, ControllerState):
        return
    at = (now // seconds + 1) * seconds
    for obj in view.list(controller.watches[0]):
        meta = obj.metadata
        key = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
        if key in ctl_state.queue:
            continue
        decision = decide(controller, view, key, ctl_state.memory, now)
        if decision.requests or decision.requeue:
            yield key, at
