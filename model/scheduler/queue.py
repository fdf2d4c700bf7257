"""The scheduling queue of one scheduler instance: active pods, parked (unschedulable) pods, the
events that move parked pods back, and the periodic flush of pods parked too long.

Upstream (`kubernetes/kubernetes` v1.33, `pkg/scheduler/backend/queue/scheduling_queue.go`):
`PriorityQueue` pops the active queue by priority, then enqueue time. A pod that found no node is
parked in `unschedulablePods` with a timestamp and the plugins that rejected it
(`UnschedulablePlugins`, `Parked.plugins`). `MoveAllToActiveOrBackoffQueue(event)` moves the
parked pods whose rejecting plugins' queueing hints say the event may help (isPodWorthRequeuing,
SchedulerQueueingHints on by default since v1.32), and `PriorityQueue.Update` a parked pod whose
own update may help it: `kubeprop.model.scheduler.requeue` says which (an assigned pod added or
updated: InterPodAffinity, PodTopologySpread, NodeResourcesFit; the pod's own tolerations, labels
or requests; coarser, erring toward moving, for Node, volume and assigned-pod deletion events).
A failed binding moves every parked pod (`schedule_one.go` handleBindingCycleError forgets the
assumed pod and moves all parked pods with `AssignedPodDelete`, since the assumed pod's resources
were freed). A pod the
scheduler assumed but had not bound yet and that is deleted takes the same path: its binding
fails with 404 upstream; the model drops the assumption when the deletion event arrives and
moves the parked pods then. `flushUnschedulablePodsLeftover` runs every 30 s and moves every pod
parked for more than `podMaxInUnschedulablePodsDuration` (5 min since v1.24, kubernetes PR
#108761; 60 s before; parameter `podMaxInUnschedulablePodsSeconds`) — the net for events the
queueing hints do not cover (a hint's QueueSkip that was wrong, a missed event).

A pod whose asynchronous preemption runs (`SchedulerState.preempting`, KEP-4832, beta and on by
default in v1.33: `kubeprop.model.scheduler.async_preemption`) is *held*: DefaultPreemption's
PreEnqueue (`pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`, "waiting
for the preemption for this pod to be finished") keeps it out of the active queue, so an event
that moves the parked pods leaves it parked (upstream: moveToActiveQ runs PreEnqueue, and the
gated pod goes back to `unschedulablePods` with its timestamp), and the flush does not move it.

A moved pod still backing off goes to the backoff queue, not the active queue, and a pod whose
binding failed goes to the error backoff queue (`SchedulerState.backoff`,
`kubeprop.model.scheduler.backoff`): it is tried when its back-off ends (a timer) or — with
SchedulerPopFromBackoffQ, v1.33 — as soon as the active queue is empty (`next_pod`).

Model choices: the flush passes fall on multiples of 30 s of model time (upstream: 30 s from the
scheduler's start). A parked pod is flushed only if the scheduler's inputs changed since it was
parked — its pod and node caches (their revisions) or its assume cache: the decision is a pure
function of those, so a retry on unchanged inputs parks the pod again with the same message and
writes nothing (a stutter step the model leaves out, which keeps model time from running on
forever for a pod no node will ever fit).
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.defaults import DEFAULT_SCHEDULER_NAME
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.objects import ApiObject, Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.backoff import Backoff, backoff_seconds, expired
from kubeprop.model.scheduler.pdbs import RESOURCE, sees_pdbs
from kubeprop.model.scheduler.requeue import VOLUME_RESOURCES
from kubeprop.model.scheduler.served import served
from kubeprop.model.scheduler.volumeassume import VolumeDecisions
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, pod_key
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "DEFAULT_SCHEDULER_NAME",
    "FLUSH_PERIOD_SECONDS",
    "Parked",
    "PatchRetry",
    "Preparation",
    "SchedulerState",
    "inputs",
    "is_gated",
    "next_flush",
    "next_pod",
    "next_timer",
    "on_tick",
    "pending_queue",
    "served",
]

FLUSH_PERIOD_SECONDS = 30
"""`scheduling_queue.go` Run: `wait.Until(p.flushUnschedulablePodsLeftover, 30*time.Second, ...)`."""

Inputs = tuple[tuple[int, ...], FrozenMap[str, str]]


@attrs.frozen(cache_hash=True)
class Parked:
    """A parked pod: when it was parked (the queue's timestamp), the scheduler's inputs then
    (cache revisions of pods and nodes, and the assume cache), and the plugins that rejected it
    (`QueuedPodInfo.UnschedulablePlugins`, whose queueing hints decide which events move it:
    `kubeprop.model.scheduler.requeue`; empty: any event moves it)."""

    since: int
    inputs: Inputs
    plugins: frozenset[str] = frozenset()


@attrs.frozen(cache_hash=True)
class Preparation:
    """One asynchronous preemption under way (the goroutine of `Evaluator.prepareCandidateAsync`,
    v1.33): the nominated `node`; `batch`, the victims preempted in parallel (all but the last)
    still to finish; `last`, the victim preempted after the pod left `preempting`; `patched`, the
    victims whose next call is their deletion (their DisruptionTarget patch is done, or the cycle's
    snapshot already had that condition: `UpdatePodCondition` sends nothing); `stage`:
    "nominations" (clearing lower-priority nominations, the goroutine's first call), "victims"
    (the batch), "last"; `failed`: an API call failed, so the goroutine ends by activating the pod.
    The preemptor's priority and `schedulerName` are the cycle's (both immutable)."""

    node: str
    batch: tuple[str, ...]
    last: str
    patched: frozenset[str]
    stage: str
    priority: int
    scheduler_name: str
    failed: bool = False
    tries: FrozenMap[str, int] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The failed attempts so far of each victim's DisruptionTarget patch whose last attempt failed
    retriably (`util.PatchPodStatus` retries it: `kubeprop.model.scheduler.status_patch`); each next
    attempt is a `PreemptVictim` step of its own. Empty unless a 500 or 503 answered one."""

    @property
    def held(self) -> bool:
        """Whether the preemptor is still in the evaluator's `preempting` set (until the batch is done)."""
        return self.stage != "last"


@attrs.frozen(cache_hash=True)
class PatchRetry:
    """A failure patch being retried (`kubeprop.model.scheduler.status_patch`): the PodScheduled
    `condition` it sets (None: the patch leaves the conditions alone), the `nominated` node it
    writes ("" clears; None: the patch leaves it alone), the `attempts` made, and whether a
    scheduling cycle sent it (`cycle`: the next cycle waits for it) or a binding goroutine."""

    condition: Condition | None
    nominated: str | None
    attempts: int = 0
    cycle: bool = True


@attrs.frozen(cache_hash=True)
class SchedulerState:
    """One scheduler instance's memory: assumed pods (pod key → node; binding not yet observed)
    and the unschedulable pods. Lost when the scheduler crashes."""

    assumed: FrozenMap[str, str] = EMPTY
    unschedulable: FrozenMap[str, Parked] = EMPTY
    bound: frozenset[str] = frozenset()
    """Assumed pods whose binding call succeeded, awaiting the informer's confirmation
    (`cache.FinishBinding`)."""
    binding_volumes: FrozenMap[str, VolumeDecisions | ApiObject] = attrs.field(
        default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """VolumeBinding's memory (`kubeprop.model.scheduler.volumeassume`), in one map: by assumed pod
    (namespace/name) the podVolumes of a pod whose claims are not all bound, from its Reserve until
    its binding cycle ends (`volume_binds`), and by cache key (resource/namespace/name) the binder's
    assume caches of claims and volumes (`volume_cache`). One field, empty in scenarios without
    WaitForFirstConsumer claims, so that their states, fingerprints and cycle keys stay as they were."""
    preempting: FrozenMap[str, tuple[Preparation, ...]] = attrs.field(
        default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The asynchronous preemptions under way, by preemptor (more than one when a pod, released
    before its last victim's calls, preempts again: upstream starts a second goroutine); empty
    when nothing preempts (or `schedulerAsyncPreemption` is off), and left out of fingerprints then."""
    nominated: FrozenMap[str, str] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The nominator (pod key → node, `kubeprop.model.scheduler.nominator`): the nominations the
    scheduling cycles see, set by the scheduler's own preemption before its write reaches the API
    server; empty (and left out of fingerprints) in scenarios where nothing is nominated."""
    seen: FrozenMap[str, str] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The nominatedNodeName the pod informer last delivered for each unassigned pod that has one
    (the old object of the next update, `kubeprop.model.scheduler.nominator`)."""

    retrying: FrozenMap[str, PatchRetry] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The failure patches whose last attempt failed retriably, by pod (`util.PatchPodStatus`'s
    `retry.OnError`, `kubeprop.model.scheduler.status_patch`); empty, and left out of fingerprints,
    unless a 500 or 503 answered one."""

    attempts: FrozenMap[str, int] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The failed scheduling attempts of each pod the instance has not yet seen bound or deleted
    (a cycle that parks it, a binding that fails), capped (`kubeprop.model.scheduler.backoff`):
    upstream's `QueuedPodInfo.Attempts` wherever a back-off is computed, since every attempt but a
    pod's last, successful one ends in a failure (counted at the failure, an assumed pod carries
    none more)."""
    backoff: FrozenMap[str, Backoff] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """The backoff queue (`podBackoffQ` and `podErrorBackoffQ`): pods waiting for their back-off to
    end before they are tried again; empty, and left out of fingerprints, unless a pod waits."""

    @property
    def volume_binds(self) -> FrozenMap[str, VolumeDecisions]:
        """The podVolumes of the assumed pods (`binding_volumes`); `sent` once PreBind wrote them."""
        if not self.binding_volumes:
            return EMPTY
        return FrozenMap({k: v for k, v in self.binding_volumes.items() if isinstance(v, VolumeDecisions)})

    @property
    def volume_cache(self) -> FrozenMap[str, ApiObject]:
        """The assume caches' objects (`binding_volumes`), each until the informer delivers a newer
        one or it is restored."""
        if not self.binding_volumes:
            return EMPTY
        return FrozenMap({k: v for k, v in self.binding_volumes.items() if not isinstance(v, VolumeDecisions)})

    def with_volumes(self, binds: FrozenMap[str, VolumeDecisions], cache: FrozenMap[str, ApiObject]
                     ) -> SchedulerState:
        """The memory with VolumeBinding's podVolumes and assume caches replaced."""
        merged: dict[str, VolumeDecisions | ApiObject] = {**binds, **cache}
        return evolve(self, binding_volumes=FrozenMap(merged) if merged else EMPTY)

    def held(self, key: str) -> bool:
        """DefaultPreemption's PreEnqueue rejects the pod: one of its preemptions still holds it."""
        return any(p.held for p in self.preempting.get(key, ()))

    def park(self, key: str, since: int, inputs: Inputs, plugins: frozenset[str] = frozenset()) -> SchedulerState:
        """The pod goes to the unschedulable pods (`AddUnschedulableIfNotPresent`), with the plugins
        that rejected it."""
        return evolve(self, unschedulable=self.unschedulable.set(key, Parked(since, inputs, plugins)))

    def move_all(self, clock: int) -> SchedulerState:
        """MoveAllToActiveOrBackoffQueue: every parked pod is tried again, but for the held ones
        (PreEnqueue gates them, and they stay parked); one still backing off goes to the backoff
        queue (`requeuePodWithQueueingStrategy`)."""
        if not self.unschedulable:
            return self
        return self.move_some(frozenset(self.unschedulable), clock)

    def move_some(self, moved: frozenset[str], clock: int) -> SchedulerState:
        """MoveAllToActiveOrBackoffQueue with a PreEnqueueCheck: the parked pods in `moved` are
        tried again (but for the held ones), through the backoff queue while they back off."""
        going = [k for k in sorted(self.unschedulable) if k in moved and not (self.preempting and self.held(k))]
        if not going:
            return self
        backoff = self.backoff
        for key in going:
            until = self.unschedulable[key].since + backoff_seconds(self.attempts.get(key, 0))
            if until > clock:  # isPodBackingoff
                backoff = backoff.set(key, Backoff(until))
        kept = FrozenMap({k: p for k, p in self.unschedulable.items() if k not in going})
        return evolve(self, unschedulable=kept, backoff=backoff)

    def back_off(self, key: str, clock: int) -> SchedulerState:
        """A pod that failed with an error goes to `podErrorBackoffQ` (at once: no event needed),
        or to the active queue when it has no back-off."""
        until = clock + backoff_seconds(self.attempts.get(key, 0))
        if until <= clock:
            return self
        return evolve(self, backoff=self.backoff.set(key, Backoff(until, error=True)))

    def forget(self, key: str) -> SchedulerState:
        """The pod left the queue for good (its cache shows it bound or deleted): its attempts and
        any back-off go."""
        if key not in self.attempts and key not in self.backoff:
            return self
        return evolve(self, attempts=self.attempts.delete(key) if key in self.attempts else self.attempts,
                      backoff=self.backoff.delete(key) if key in self.backoff else self.backoff)


def _candidates(view_: ObjectView, memory: SchedulerState) -> list[Pod]:
    """Unbound, non-terminating, ungated pods for the default scheduler (`served`), not assumed,
    not parked as unschedulable, not held by their asynchronous preemption, and not waiting for
    their failure patch's retries."""
    return [
        p for p in view_.list("pods")
        if isinstance(p, Pod) and not p.spec.node_name and p.metadata.deletion_timestamp is None
        and served(p) and not is_gated(p)
        and p.status.phase not in ("Succeeded", "Failed")
        and pod_key(p) not in memory.assumed and pod_key(p) not in memory.unschedulable
        and not (memory.preempting and memory.held(pod_key(p)))
        and pod_key(p) not in memory.retrying
    ]


def _active_order(p: Pod) -> tuple[int, int, str]:
    """The activeQ's order (PrioritySort): priority (high first), then creation time, then name."""
    return -(p.spec.priority or 0), p.metadata.creation_timestamp or 0, pod_key(p)


def pending_queue(view_: ObjectView, memory: SchedulerState) -> list[Pod]:
    """The active queue: the candidate pods (`_candidates`) not in the backoff queue, by priority
    (high first), then creation time, then name. A gated pod stays out (see `is_gated`) until an
    update removes its last gate, and so does a pod whose asynchronous preemption holds it
    (`SchedulerState.held`), one whose failure patch is being retried (`SchedulerState.retrying`),
    and one backing off (`SchedulerState.backoff`)."""
    pods = [p for p in _candidates(view_, memory) if pod_key(p) not in memory.backoff]
    return sorted(pods, key=_active_order)


def next_pod(view_: ObjectView, memory: SchedulerState, pop_from_backoff: bool) -> Pod | None:
    """`Pop`: the head of the active queue; when it is empty and SchedulerPopFromBackoffQ is on
    (`pop_from_backoff`), the head of `podBackoffQ` — the earliest back-off end, then the active
    queue's order (`lessBackoffCompletedWithPriority`) — never an error back-off."""
    queue = pending_queue(view_, memory)
    if queue:
        return queue[0]
    if not pop_from_backoff or not memory.backoff:
        return None
    waiting = [p for p in _candidates(view_, memory)
               if pod_key(p) in memory.backoff and not memory.backoff[pod_key(p)].error]
    if not waiting:
        return None
    return min(waiting, key=lambda p: (memory.backoff[pod_key(p)].until, *_active_order(p)))


def is_gated(pod: Pod) -> bool:
    """The SchedulingGates PreEnqueue plugin (`pkg/scheduler/framework/plugins/schedulinggates/
    scheduling_gates.go`, GA in v1.30): a pod with any `spec.schedulingGates` is kept out of the
    active queue ("waiting for scheduling gates: [...]", UnschedulableAndUnresolvable); upstream it
    waits among the unschedulable pods as gated until the pod update that removes its last gate
    (the UpdatePodSchedulingGatesEliminated event the plugin registers) queues it. It is never
    tried, so it gets no FailedScheduling and no Unschedulable condition: its PodScheduled=False
    reason SchedulingGated is the API server's, written at creation (`kubeprop.model.api.server_write`).
    In the model the pod simply enters `pending_queue` once the scheduler's cache shows it ungated."""
    return bool(pod.spec.scheduling_gates)


def inputs(model: ClusterModel, state: ClusterState, instance: str, memory: SchedulerState) -> Inputs:
    """What a scheduling decision of `instance` depends on: the revisions of its pod and node
    caches (the store's revision with instant caches) — and of its PDB cache where the scenario
    has PDBs (preemption prefers victims without PDB violations), and of its claim, volume and
    StorageClass caches where it can have claims (VolumeBinding) — and its assume cache."""
    resources: tuple[str, ...] = ("nodes", "pods", RESOURCE) if sees_pdbs(model) else ("nodes", "pods")
    if any(c.name == "persistentvolume-binder" for c in model.controllers):
        resources = (*resources, *sorted(VOLUME_RESOURCES))
    informer = state.informers.get(instance)
    if informer is None:  # instant caches: the newest pod/node(/PDB) write and how many there are
        objs = [o for k, o in state.store.objects.items() if k.resource in resources]
        newest = max((int(o.metadata.resource_version or 0) for o in objs), default=0)
        marks: tuple[int, ...] = (newest, len(objs))
    else:
        marks = tuple(informer.resources[r].revision if r in informer.resources else 0 for r in resources)
    return marks, memory.assumed


def next_flush(since: int, after: int, max_seconds: int) -> int:
    """The first flush pass strictly after `after` at which a pod parked at `since` has been
    parked for more than `max_seconds`."""
    earliest = max(after, since + max_seconds)
    return (earliest // FLUSH_PERIOD_SECONDS + 1) * FLUSH_PERIOD_SECONDS


def _flushable(model: ClusterModel, state: ClusterState, instance: str) -> list[tuple[str, int]]:
    """(pod, next flush time) of each parked pod whose scheduling inputs changed since parking
    (not a held one: PreEnqueue would gate it again)."""
    memory = state.schedulers.get(instance)
    if not isinstance(memory, SchedulerState) or not memory.unschedulable or not is_up(state, instance):
        return []
    now = inputs(model, state, instance, memory)
    limit = int(model.parameter("podMaxInUnschedulablePodsSeconds"))
    return [(key, next_flush(p.since, state.clock, limit))
            for key, p in memory.unschedulable.sorted_items() if p.inputs != now and not memory.held(key)]


def _backoff_ends(model: ClusterModel, state: ClusterState, instance: str) -> list[int]:
    """When each pod in `instance`'s backoff queue ends its back-off."""
    memory = state.schedulers.get(instance)
    if not isinstance(memory, SchedulerState) or not memory.backoff or not is_up(state, instance):
        return []
    return [b.until for b in memory.backoff.values()]


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The next flush pass that would move a parked pod (see the module docstring), or the next end
    of a back-off (`flushBackoffQCompleted`)."""
    times = [at for instance in model.scheduler_instances for _, at in _flushable(model, state, instance)]
    times += [at for instance in model.scheduler_instances for at in _backoff_ends(model, state, instance)]
    return min(times) if times else None


def on_tick(model: ClusterModel, before: ClusterState, after: ClusterState) -> ClusterState:
    """flushUnschedulablePodsLeftover for every flush pass the tick went through, and
    flushBackoffQCompleted: the pods whose back-off ended join the active queue."""
    schedulers = after.schedulers
    for instance in model.scheduler_instances:
        due = {key for key, at in _flushable(model, before, instance) if at <= after.clock}
        memory = schedulers.get(instance)
        if not isinstance(memory, SchedulerState):
            continue
        new = memory
        if due:
            new = evolve(new, unschedulable=FrozenMap({k: p for k, p in new.unschedulable.items() if k not in due}))
        if new.backoff:
            backoff = expired(new.backoff, after.clock)
            new = new if backoff is new.backoff else evolve(new, backoff=backoff)
        if new is not memory:
            schedulers = schedulers.set(instance, new)
    return after if schedulers is after.schedulers else evolve(after, schedulers=schedulers)
