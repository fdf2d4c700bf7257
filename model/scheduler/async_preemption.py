"""Asynchronous preemption (KEP-4832; feature gate SchedulerAsyncPreemption: alpha in v1.32, beta
and on by default in v1.33; parameter `schedulerAsyncPreemption`).

Upstream (`kubernetes/kubernetes` v1.33, `pkg/scheduler/framework/preemption/preemption.go`
prepareCandidateAsync; read from a copy with v1.33's signatures, and kubernetes PR #128170): the
scheduling cycle that picks a candidate puts the pod in the evaluator's `preempting` set, starts a
goroutine and nominates the node at once; the cycle then ends like any other preemption
(`handleSchedulingFailure`: the pod parked, PodScheduled=False with the FitError, the
nominatedNodeName: `prepare.record_failure`). The goroutine, concurrently with the scheduler's
later cycles and every other component:

1. clears the nominations of lower-priority pods nominated to the node (a failure only marks the
   goroutine's result as an error);
2. preempts every victim but the last in parallel (`Parallelizer().Until`): per victim the
   DisruptionTarget patch, then the delete (`prepare.mark_victim`, `prepare.delete_victim`); the
   patch is `util.PatchPodStatus`, retried up to 4 attempts while it fails with a 500 or 503
   (`kubeprop.model.scheduler.status_patch`), so only a failure it gave up on counts. The
   first failure cancels the goroutine's context: the calls not made yet are not made (those of
   the victims still to go, and the last victim's, which v1.33 still attempts with the cancelled
   context: kubernetes PR #135495, v1.36, stopped attempting it);
3. removes the pod from `preempting` ("before the last one is evicted", so that the last
   victim's deletion event, which may be the last event to come, finds the pod no longer held);
4. preempts the last victim;
5. ends: if any call failed, `Activate`s the pod (it leaves the unschedulable pods for the
   active queue).

While the pod is in `preempting`, DefaultPreemption's PreEnqueue keeps it out of the active queue
(`SchedulerState.held`, `kubeprop.model.scheduler.queue`); the victims' deletion events that
arrive meanwhile leave it parked (upstream its queueing hint for pod deletions is QueueSkip, and
the other plugins' hints move it only to be gated again).

Model actions (the goroutine's actor, `scheduler/<instance>/preemption`, apart from the
scheduling cycles): `ClearNominations(scheduler, pod)` (step 1); `PreemptVictim(scheduler, pod,
victim)`, one API call of one victim: an attempt of its patch (each retry a step of its own, so
that a fault can hit every attempt), or its delete once patched — every victim of the
batch is enabled at once (parallel calls reach the API server in any order), the last one only
after the batch; step 3 is taken with the call that finishes the batch (a local step merged into
the one before it). `ClearNominations` makes the retries of its patches within its step. Model choices: a victim call
cancelled in flight does not land (upstream it
may still reach the API server); the cycle's own status patch precedes the goroutine's first call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.nodeinfo import pod_priority
from kubeprop.model.scheduler.prepare import clear_lower_nominations, delete_victim, mark_victim, needs_mark
from kubeprop.model.scheduler.queue import Preparation, SchedulerState
from kubeprop.model.scheduler.status_patch import RETRY_STEPS, retriable
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, pod_key, view

__all__ = ["HANDLERS", "ClearNominations", "PreemptVictim", "enabled", "start"]


@attrs.frozen(order=True)
class ClearNominations(Action):
    """The preemption goroutine's first step: lower-priority nominations on the node cleared."""

    scheduler: str
    pod: str


@attrs.frozen(order=True)
class PreemptVictim(Action):
    """One API call of the preemption goroutine on `victim`: its DisruptionTarget patch, or its delete."""

    scheduler: str
    pod: str
    victim: str


def start(model: ClusterModel, state: ClusterState, instance: str, preemptor: Pod, node: str,
          victims: tuple[str, ...]) -> ClusterState:
    """prepareCandidateAsync: the pod enters `preempting`; the goroutine's steps follow."""
    cache = view(model, state, instance)
    scheduler_name = preemptor.spec.scheduler_name
    patched = frozenset(key for key in victims if not _needs_mark(cache.get(_key(key)), scheduler_name))
    prep = Preparation(node=node, batch=victims[:-1], last=victims[-1], patched=patched, stage="nominations",
                       priority=pod_priority(preemptor), scheduler_name=scheduler_name)
    memory: SchedulerState = state.schedulers[instance]
    key = pod_key(preemptor)
    runs = (*memory.preempting.get(key, ()), prep)
    return _set(state, instance, evolve(memory, preempting=memory.preempting.set(key, runs)))


def _key(victim: str) -> ObjectKey:
    namespace, _, name = victim.partition("/")
    return ObjectKey("pods", namespace, name)


def _needs_mark(victim: object, scheduler_name: str) -> bool:
    return not isinstance(victim, Pod) or needs_mark(victim, scheduler_name)


def _set(state: ClusterState, instance: str, memory: SchedulerState) -> ClusterState:
    return evolve(state, schedulers=state.schedulers.set(instance, memory))


def enabled(memory: SchedulerState, instance: str) -> Iterator[Action]:
    """The next steps of every preemption goroutine of `instance`."""
    for pod, runs in memory.preempting.sorted_items():
        seen: set[str] = set()
        for prep in runs:
            if prep.stage == "nominations":
                yield ClearNominations(instance, pod)
                continue
            for victim in (prep.batch if prep.stage == "victims" else (prep.last,)):
                if victim not in seen:  # two goroutines' calls on one victim: one action each step
                    seen.add(victim)
                    yield PreemptVictim(instance, pod, victim)


def _replace(state: ClusterState, instance: str, pod: str, index: int, prep: Preparation) -> ClusterState:
    """Goroutine `index` of `pod` goes on as `prep`."""
    memory: SchedulerState = state.schedulers[instance]
    runs = memory.preempting[pod]
    runs = (*runs[:index], prep, *runs[index + 1:])
    return _set(state, instance, evolve(memory, preempting=memory.preempting.set(pod, runs)))


def _end(state: ClusterState, instance: str, pod: str, index: int, failed: bool) -> ClusterState:
    """Goroutine `index` of `pod` ends; after a failure `Activate` moves the pod from the
    unschedulable pods (or the backoff queue) to the active queue (PreEnqueue passes: it left `preempting` before its
    last victim; a pod another goroutine still holds stays parked, gated)."""
    memory: SchedulerState = state.schedulers[instance]
    runs = memory.preempting[pod]
    rest = (*runs[:index], *runs[index + 1:])
    memory = evolve(memory, preempting=memory.preempting.set(pod, rest) if rest else memory.preempting.delete(pod))
    if failed and not memory.held(pod):  # (`activate` takes it from the backoff queue too)
        memory = evolve(memory, unschedulable=memory.unschedulable.delete(pod),
                        backoff=memory.backoff.delete(pod) if pod in memory.backoff else memory.backoff)
    return _set(state, instance, memory)


def _run(memory: SchedulerState, act: ClearNominations | PreemptVictim) -> tuple[int, Preparation]:
    """The goroutine `act` is a step of: the first (oldest) one that `act` is enabled for."""
    for index, prep in enumerate(memory.preempting.get(act.pod, ())):
        if isinstance(act, ClearNominations):
            if prep.stage == "nominations":
                return index, prep
        elif act.victim in (prep.batch if prep.stage == "victims" else (prep.last,) if prep.stage == "last" else ()):
            return index, prep
    raise AssertionError(f"{act} is not enabled")


def _clear(model: ClusterModel, state: ClusterState, act: ClearNominations) -> ClusterState:
    index, prep = _run(state.schedulers[act.scheduler], act)
    state, failed = clear_lower_nominations(model, state, act.scheduler, prep.priority, act.pod, prep.node)
    stage = "victims" if prep.batch else "last"
    return _replace(state, act.scheduler, act.pod, index, evolve(prep, stage=stage, failed=prep.failed or failed))


def _preempt_victim(model: ClusterModel, state: ClusterState, act: PreemptVictim) -> ClusterState:
    """One call of PreemptPod on the victim: an attempt of the patch (the victim then waits for its
    delete; after a 500 or 503, short of the fourth attempt, for the patch's next attempt), or the
    delete (the victim is done)."""
    index, prep = _run(state.schedulers[act.scheduler], act)
    if act.victim not in prep.patched:
        state, response = mark_victim(model, state, act.scheduler, prep.scheduler_name, act.victim)
        tries = prep.tries.delete(act.victim)
        if response.ok:
            return _replace(state, act.scheduler, act.pod, index,
                            evolve(prep, patched=prep.patched | {act.victim}, tries=tries))
        failures = prep.tries.get(act.victim, 0) + 1
        if retriable(response) and failures < RETRY_STEPS:  # PatchPodStatus's next attempt is a step of its own
            return _replace(state, act.scheduler, act.pod, index, evolve(prep, tries=tries.set(act.victim, failures)))
    else:
        state, response = delete_victim(model, state, act.scheduler, act.victim)
    if prep.stage == "last" or not response.ok:
        # the last victim done, or a failure: the cancelled context stops the batch's other calls
        # and the last victim's (no request reaches the API server)
        return _end(state, act.scheduler, act.pod, index, prep.failed or not response.ok)
    batch = tuple(v for v in prep.batch if v != act.victim)
    patched = prep.patched - {act.victim}
    return _replace(state, act.scheduler, act.pod, index,
                    evolve(prep, batch=batch, patched=patched, stage="victims" if batch else "last"))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    ClearNominations: _clear,
    PreemptVictim: _preempt_victim,
}
