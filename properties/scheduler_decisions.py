"""Z3-checked scheduling: every scheduler decision is sound and complete, as a property.

`scheduler-decisions-sound` (a safety property every engine can check) judges the scheduler's
two kinds of decision against the hard constraints encoded in `scheduling_encode` — always
the *default* profile's full set, whatever plugins the model's own scheduler runs:

* **soundness** — a pod the scheduler bound (PodScheduled=True, `pkg/registry/core/pod/storage`
  assignPod) must fit its node. In the state the binding is written (the pod's resourceVersion
  is the store's revision, its only condition is PodScheduled, set in this tick, and the write is
  not a later one of the same shape: `fresh_binding`), the snapshot is the cluster
  at binding time: the bound pods plus the scheduler's assumed pods. Z3 checks the pod on that
  node (static filters, resources, spread, inter-pod affinity); unsat is a violation carrying
  the minimal core in Kubernetes terms — only while the scheduler still holds the pod assumed
  (a binding that timed out after it was written, 504, is a failure to the scheduler: it forgot
  the pod and may have assumed other pods since, which the snapshot must not hold against the
  binding). In later states only the taints known to predate the
  binding are re-checked (`taints_at_binding`): a taint may be added after a pod was bound, and
  required node affinity is IgnoredDuringExecution; and only where PodScheduled is known to be the
  binding's (`bound_at`: the kubelet sets it too, on a pod created with spec.nodeName).
* **completeness** — a pod marked PodScheduled=False reason Unschedulable
  (`pkg/scheduler/schedule_one.go` handleSchedulingFailure) that the scheduler still parks
  although it has seen everything that would make it fit, and its queue had the chance to move it
  (`kubeprop.model.scheduler.requeue`: every pod, node and volume event delivered, the pod's own
  updates too — only the scheduler's own status patch may still be on its way — and no pod
  assumed and not yet bound), must fit no node: Z3 looking for a node under the same snapshot
  (nominated pods of higher or equal priority counted on their nodes, as
  RunFilterPluginsWithNominatedPods) and finding one is a violation naming it.

A pod with claims is refused the nodes VolumeBinding refuses it in the stored claims, volumes and
StorageClasses (`volume_refusals`: the model's own plug-in, a static filter like the encoding's
others): a pod waiting for its claim to be bound (Immediate) or for a node-local volume's node
fits no other node.

The Z3 checks (soundness on the snapshot, completeness) are made only while the scheduler's
informer has seen every pod and node event (other than the decision's own write) and every event
of the claims, volumes and StorageClasses it watches: a decision made on a lagging cache (a pod
seen before its claim: `persistentvolumeclaim "x" not found`) is upstream behaviour, not a
scheduler bug. A binding's node-local rules
(taints present at binding; required node affinity in the binding's own state) are judged always;
where one breaks because the scheduler's node cache had not yet seen the node's update,
`kubeprop check` reports it as upstream behaviour (`upstream_behaviour`,
scheduler-decides-on-stale-node-cache), not as a failure.

Results are cached by the (hashable) pod and snapshot values, so states where
nothing relevant changed cost a dictionary look-up; what the stored objects alone decide (which
pods are bound, parked or freshly bound, the bindings judged node-locally) is worked out once per
map of objects (`_Decisions`, by identity: most steps write no object), so that a state costs the
one fresh binding at most (only the object written last carries the store's revision) and the
pods marked Unschedulable.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache

import attrs

from kubeprop.model.api.core import Node, Taint
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.memo import LastValues
from kubeprop.model.scheduler import volumebinding
from kubeprop.model.scheduler.affinity import NamespaceLabels
from kubeprop.model.scheduler.component import SchedulerState
from kubeprop.model.scheduler.decide import NodeInfo, build_node_infos, pod_key, pod_priority
from kubeprop.model.scheduler.filters import find_untolerated_taint, required_node_affinity_matches
from kubeprop.model.scheduler.namespaces import namespace_view
from kubeprop.model.scheduler.namespaces import watches as namespace_watches
from kubeprop.model.scheduler.served import served
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up
from kubeprop.model.state.informer import ResourceEvents, event_index
from kubeprop.properties.registry import CheckResult, derived_read, safety
from kubeprop.properties.scheduling.encode import Encoding, Problem, Track, encode, static_reason
from kubeprop.properties.scheduling.explain import explain_core
from kubeprop.properties.scheduling.solver import DEFAULT_RLIMIT, Outcome, SchedulingSolver
from kubeprop.properties.scheduling.volumes import refusals, stored_volumes

__all__ = [
    "DEFAULT_RLIMIT",
    "Encoding",
    "Outcome",
    "Problem",
    "SchedulingSolver",
    "Track",
    "binding_violation",
    "bound_at",
    "encode",
    "explain_core",
    "feasibility",
    "fresh_binding",
    "scheduler_decisions_sound",
    "taints_at_binding",
    "unschedulable_violation",
    "volume_refusals",
]


def feasibility(problem: Problem, rlimit: int = DEFAULT_RLIMIT, down: tuple[str, ...] = ()) -> Outcome:
    """Can every pending pod of `problem` be placed at once (with the nodes in `down` removed)?"""
    return SchedulingSolver(problem, rlimit).check(down)


def _without(nodes: tuple[NodeInfo, ...], key: str) -> tuple[NodeInfo, ...]:
    return tuple(ni.with_pods(removed=frozenset({key})) if any(pod_key(p) == key for p in ni.pods) else ni
                 for ni in nodes)


@lru_cache(maxsize=2048)
def binding_violation(pod: Pod, node: str, nodes: tuple[NodeInfo, ...],
                      volumes: FrozenMap[str, str] = EMPTY, namespaces: NamespaceLabels | None = None) -> str | None:
    """Why binding `pod` to `node` breaks a hard constraint given the other pods in `nodes`
    (the pod itself, if there, is taken out first) and the nodes its volumes refuse (`volumes`,
    `volume_refusals`), or None when Z3 finds the binding feasible; `namespaces`: the namespaces'
    labels namespaceSelectors read (`Problem.namespaces`)."""
    others = _without(nodes, pod_key(pod))
    target = next((ni for ni in others if ni.name == node), None)
    if target is None:
        return f"node {node} does not exist"
    reason = static_reason(pod, target) or volumes.get(node)
    if reason is not None:
        return reason
    placed = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=node))
    solver = SchedulingSolver(Problem(others, (placed,), namespaces=namespaces), DEFAULT_RLIMIT)
    outcome = solver.check()
    if outcome.status != "unsat":
        return None
    return "Z3 unsat core: " + "; ".join(explain_core(solver.enc, outcome.core))


@lru_cache(maxsize=2048)
def unschedulable_violation(pod: Pod, nodes: tuple[NodeInfo, ...], volumes: FrozenMap[str, str] = EMPTY,
                            namespaces: NamespaceLabels | None = None) -> str | None:
    """A node Z3 can place `pod` on given the other pods in `nodes` and the nodes its volumes
    refuse (`volumes`), as a message, or None; `namespaces` as for `binding_violation`."""
    free = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=""))
    others = _without(nodes, pod_key(pod))
    refused = FrozenMap({pod_key(pod): volumes}) if volumes else EMPTY
    outcome = SchedulingSolver(Problem(others, (free,), refused, namespaces=namespaces),
                               DEFAULT_RLIMIT).check(minimise=False)
    if outcome.status != "sat":
        return None
    node = outcome.placement.get(pod_key(pod), "?")
    return f"Z3 places it on node {node} (every hard constraint holds there)"


# -- the property ---------------------------------------------------------------------------


def _scheduled(pod: Pod) -> tuple[str, int] | None:
    """(status, lastTransitionTime) of the pod's PodScheduled condition."""
    for cond in pod.status.conditions:
        if cond.type == "PodScheduled":
            return cond.status + ":" + cond.reason, cond.last_transition_time or 0
    return None


def _ours(pod: Pod) -> bool:
    return served(pod) and pod.metadata.deletion_timestamp is None


def _caught_up(model: ClusterModel, state: ClusterState, key: str) -> bool:
    """Whether every scheduler instance has seen all pod and node events except those of `key`,
    and every event of the claims, volumes and StorageClasses it watches (VolumeBinding's inputs)
    and of the namespaces it watches (InterPodAffinity's namespace lister)."""
    if model.instant_caches:
        return True
    index = event_index(state.store.events)  # (each resource's events in revision order: those after the
    for instance in model.scheduler_instances:  # cache's revision are a tail, found by bisection)
        informer = state.informers.get(instance)
        if informer is None:
            return False
        for resource in ("pods", "nodes", *volumebinding.watches(model, instance), *namespace_watches(model, instance)):
            cache = informer.resources.get(resource)
            if cache is None or cache.stale:
                return False
            revisions, events = index.get(resource, _NO_EVENTS)
            for event in events[bisect_right(revisions, cache.revision):]:
                if f"{event.key.namespace}/{event.key.name}" != key:
                    return False
    return True


_NO_EVENTS: ResourceEvents = ((), ())


def _over_schedulers(model: ClusterModel, state: ClusterState,
                     part: Callable[[SchedulerState], FrozenMap[str, str]]) -> dict[str, str]:
    """One map (pod → node) of `part` of every scheduler instance's memory, merged in the model's
    order of the instances."""
    out: dict[str, str] = {}
    for instance in model.scheduler_instances:
        memory = state.schedulers.get(instance)
        if isinstance(memory, SchedulerState):
            out.update(part(memory).items())
    return out


def _assumed(model: ClusterModel, state: ClusterState) -> dict[str, str]:
    """The pods the scheduler instances have assumed onto a node (pod key → node), their binding not yet observed."""
    return _over_schedulers(model, state, lambda memory: memory.assumed)


def volume_refusals(model: ClusterModel, state: ClusterState, pod: Pod) -> FrozenMap[str, str]:
    """The nodes VolumeBinding refuses `pod` in the stored objects (node name → reason): every node
    when its PreFilter rejects the pod (a claim missing, being deleted or Lost, or an unbound
    Immediate one), else the nodes its Filter rejects (`kubeprop.properties.scheduling.volumes`).
    Computed with the model's own plug-in, as the encoding's other static filters are
    (`kubeprop.properties.scheduling.encode`): the property judges the pod-to-pod constraints
    independently, not VolumeBinding's verdicts."""
    if not volumebinding.claim_names(pod):
        return EMPTY
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    return refusals(stored_volumes(model, state.store, pod), nodes)


def _nominations(model: ClusterModel, state: ClusterState) -> dict[str, str]:
    """The schedulers' nominators (`kubeprop.model.scheduler.nominator`): the nominations their
    cycles count, which the stored nominatedNodeName may not show yet (or ever, after a failed patch)."""
    return _over_schedulers(model, state, lambda memory: memory.nominated)


def _snapshot(model: ClusterModel, state: ClusterState) -> tuple[NodeInfo, ...]:
    """Every node with the pods bound to it or assumed onto it by a scheduler instance, and the
    pods the schedulers hold nominated to it."""
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    return build_node_infos(nodes, pods, _assumed(model, state), _nominations(model, state))


def fresh_binding(state: ClusterState, pod: Pod) -> bool:
    """The state in which the binding was written: nothing wrote the pod since (its last write,
    at the store's revision, has a binding's shape and is the binding: `_binding_write`)."""
    return (pod.metadata.resource_version == str(state.store.revision) and _fresh_shape(pod)
            and _binding_write(state, pod))


def _binding_write(state: ClusterState, pod: Pod) -> bool:
    """Whether the pod's last write — bound, one condition, not started — is its binding rather
    than a later write that keeps that shape (a graceful deletion, a label or owner change of a pod
    its kubelet has not started): the binding is written in its own tick (PodScheduled's
    lastTransitionTime is the clock), never on a pod being deleted (`pkg/registry/core/pod/storage/
    storage.go` setPodNodeAndMetadata refuses it), and onto a pod whose previous version was unbound
    (where the store's log still holds that version: compaction may have dropped it)."""
    scheduled = _scheduled(pod)
    if scheduled is None or scheduled[1] != state.clock or pod.metadata.deletion_timestamp is not None:
        return False
    key, revision = ObjectKey("pods", pod.metadata.namespace, pod.metadata.name), state.store.revision
    before = next((e.object for e in reversed(state.store.events) if e.revision < revision and e.key == key), None)
    return not (isinstance(before, Pod) and before.spec.node_name)


def bound_at(pod: Pod) -> int | None:
    """The tick the scheduler's binding set the pod's PodScheduled=True condition, or None when no
    binding is known to have set it.

    The kubelet writes PodScheduled=True too, with its first status of the pod (beside Initialized,
    in the same write: `pkg/kubelet/kubelet_pods.go` generateAPIPodStatus appends it, and
    `pkg/kubelet/status/status_manager.go` updateLastTransitionTime stamps it with that sync's
    time): on a pod created with spec.nodeName, which no scheduler ever judged
    (`pkg/scheduler/eventhandlers.go` queues only unassigned pods), that is the only PodScheduled it
    gets, and its time is not a binding's. A binding precedes the kubelet's first status (the
    kubelet runs only a pod bound to its node, and keeps the condition's time), so PodScheduled is
    known to be the binding's while the pod has no Initialized condition or an Initialized one set
    in a later tick; in the same tick the two cannot be told apart, and only the binding's own
    state (`fresh_binding`) judges it. (The model's kubelet sets Initialized=True once, at its
    first status: init containers count as done at start.)"""
    scheduled: int | None = None
    initialized: int | None = None
    for cond in pod.status.conditions:
        if cond.type == "PodScheduled" and cond.status == "True":
            scheduled = cond.last_transition_time or 0
        elif cond.type == "Initialized":
            initialized = cond.last_transition_time or 0
    if scheduled is None or (initialized is not None and initialized <= scheduled):
        return None
    return scheduled


def taints_at_binding(node: Node, fresh: bool, bound_at: int) -> tuple[Taint, ...]:
    """The node's taints known to have been there when the pod was bound (at tick `bound_at`): in
    the state the binding is written (`fresh`), all of them; later, only those added in an earlier
    tick. Upstream writes no timeAdded on NoSchedule taints (only NoExecute ones carry it:
    `kubectl taint`, the node lifecycle controller's condition taints), and a taint added in the
    binding's own tick may have come after it — counting either would blame the scheduler for a
    taint added after it decided (a node problem detector tainting a node the bindings filled)."""
    if fresh:
        return node.spec.taints
    return tuple(t for t in node.spec.taints if t.time_added is not None and t.time_added < bound_at)


@lru_cache(maxsize=4096)
def _node_local_violation(pod: Pod, node: Node, bound_at: int, fresh: bool) -> str | None:
    """Taints present at binding and — in the binding's own state — required node affinity (it is
    IgnoredDuringExecution: labels changed later do not make the binding wrong)."""
    taint = find_untolerated_taint(taints_at_binding(node, fresh, bound_at), pod.spec.tolerations)
    if taint is not None:
        return f"untolerated taint {taint.key}={taint.value}:{taint.effect}"
    if fresh and not required_node_affinity_matches(pod, NodeInfo.of(node)):
        return "node(s) didn't match Pod's node affinity/selector"
    return None


class _Decisions:
    """The scheduler's decisions recorded in one map of stored objects, judged as far as the
    objects alone allow (remembered by the map's identity: most steps write no pod or node).

    `local` holds the bindings that break a node-local rule when judged as *not* fresh (the
    common case), by their pod's position; `fresh` the bindings that would be fresh in the state
    whose revision is their resourceVersion (at most one object carries the store's revision:
    each write raises it), judged per state; `unschedulable` the pods marked Unschedulable with
    no node and no nomination, whose verdict depends on the schedulers' memories and caches."""

    __slots__ = ("fresh", "local", "unschedulable")

    def __init__(self, state: ClusterState) -> None:
        nodes = {n.metadata.name: n for n in state.store.list("nodes") if isinstance(n, Node)}
        self.local: list[tuple[int, CheckResult]] = []
        self.fresh: dict[str, list[tuple[int, Pod, Node, int]]] = {}
        self.unschedulable: list[Pod] = []
        pods = [p for p in state.store.list("pods") if isinstance(p, Pod) and _ours(p)]
        for index, pod in enumerate(pods):
            scheduled = _scheduled(pod)
            if scheduled is None:
                continue
            if scheduled[0] == "False:Unschedulable" and not pod.spec.node_name:
                if not pod.status.nominated_node_name:
                    self.unschedulable.append(pod)
                continue
            if not scheduled[0].startswith("True") or pod.spec.node_name not in nodes:
                continue
            node = nodes[pod.spec.node_name]
            bound = bound_at(pod)
            reason = _node_local_violation(pod, node, bound, False) if bound is not None else None
            if reason and bound is not None:
                self.local.append((index, _misbound(pod, bound, reason)))
            if _fresh_shape(pod):
                self.fresh.setdefault(pod.metadata.resource_version, []).append((index, pod, node, scheduled[1]))


_DECISIONS: LastValues[_Decisions] = LastValues()
_SNAPSHOTS: LastValues[tuple[NodeInfo, ...]] = LastValues()


def _misbound(pod: Pod, bound_at: int, reason: str) -> CheckResult:
    key, node = pod_key(pod), pod.spec.node_name
    return (f"Pod {key} is bound to node {node} (t={bound_at}), violating a hard constraint: {reason}",
            (f"Pod {key}", f"Node {node}"))


def _fresh_shape(pod: Pod) -> bool:
    """`fresh_binding` but for the revision: bound, one condition, not started."""
    return bool(pod.spec.node_name) and len(pod.status.conditions) == 1 and pod.status.phase in ("", "Pending")


def _fresh_violation(model: ClusterModel, state: ClusterState, pod: Pod, node: Node, bound_at: int) -> str | None:
    """Why a binding in the state it is written breaks a hard constraint (Z3 on the snapshot at
    binding time while the scheduler holds the pod assumed and its caches are caught up)."""
    key = pod_key(pod)
    if key in _assumed(model, state) and _caught_up(model, state, key):
        return binding_violation(pod, node.metadata.name, _cached_snapshot(model, state),
                                 volume_refusals(model, state, pod), namespace_view(model, state.store))
    return _node_local_violation(pod, node, bound_at, True)


def _binding_problem(model: ClusterModel, state: ClusterState, decisions: _Decisions) -> CheckResult:
    """The first binding, in pod order, that breaks a hard constraint: the fresh one judged in
    `state`, every other one as the objects alone judge it."""
    fresh = [entry for entry in decisions.fresh.get(str(state.store.revision), ()) if _binding_write(state, entry[1])]
    if not fresh:
        return decisions.local[0][1] if decisions.local else None
    now = {index for index, *_ in fresh}
    first = next(((i, found) for i, found in decisions.local if i not in now), None)
    for index, pod, node, bound_at in fresh:
        if first is not None and first[0] < index:
            break
        reason = _fresh_violation(model, state, pod, node, bound_at)
        if reason:
            return _misbound(pod, bound_at, reason)
    return first[1] if first is not None else None


def _parked(model: ClusterModel, state: ClusterState, key: str) -> bool:
    for instance in model.scheduler_instances:
        memory = state.schedulers.get(instance)
        if is_up(state, instance) and isinstance(memory, SchedulerState) and key in memory.unschedulable:
            return True
    return False


def _with_nominated(nodes: tuple[NodeInfo, ...], pod: Pod) -> tuple[NodeInfo, ...]:
    key, prio = pod_key(pod), pod_priority(pod)
    out = []
    for ni in nodes:
        added = [p for p in ni.nominated if pod_priority(p) >= prio and pod_key(p) != key]
        out.append(ni.with_pods(added=added) if added else ni)
    return tuple(out)


def _seen_as_stored(model: ClusterModel, state: ClusterState, pod: Pod) -> bool:
    """Whether every scheduler instance's cache holds `pod` as stored, as far as scheduling goes
    (same uid, spec and labels): the pod's own writes it has not seen yet are then status writes
    (the scheduler's own failure patch), none of the updates that make the queue retry a parked pod
    (`PriorityQueue.Update`, `kubeprop.model.scheduler.requeue.own_update_moves`: tolerations,
    labels, requests)."""
    if model.instant_caches:
        return True
    key = ObjectKey("pods", pod.metadata.namespace, pod.metadata.name)
    for instance in model.scheduler_instances:
        informer = state.informers.get(instance)
        cache = informer.resources.get("pods") if informer is not None else None
        cached = cache.objects.get(key) if cache is not None else None
        if not (isinstance(cached, Pod) and cached.metadata.uid == pod.metadata.uid and cached.spec == pod.spec
                and cached.metadata.labels == pod.metadata.labels):
            return False
    return True


def _unschedulable_problem(model: ClusterModel, state: ClusterState, decisions: _Decisions) -> CheckResult:
    """The first pod marked Unschedulable that a node could take although its scheduler has seen
    everything that would make it fit and its queue had the chance to move it: it is still parked,
    every pod, node and volume event has reached the schedulers (`_caught_up`) — the pod's own
    writes but for status ones too (`_seen_as_stored`) — and no scheduler holds an assumed pod (a
    pod assumed is not yet bound: its binding reaches the queue as an assigned pod added, the event
    that moves the pods it may help, `kubeprop.model.scheduler.requeue`; counting it on its node
    would judge the queue before that event)."""
    if not decisions.unschedulable or _assumed(model, state):
        return None
    for pod in decisions.unschedulable:
        key = pod_key(pod)
        if not _parked(model, state, key) or not _caught_up(model, state, key) or not _seen_as_stored(
                model, state, pod):
            continue
        witness = unschedulable_violation(pod, _with_nominated(_cached_snapshot(model, state), pod),
                                          volume_refusals(model, state, pod), namespace_view(model, state.store))
        if witness:
            return (f"Pod {key} is marked Unschedulable, but a node could take it: {witness}", (f"Pod {key}",))
    return None


def _cached_snapshot(model: ClusterModel, state: ClusterState) -> tuple[NodeInfo, ...]:
    """`_snapshot`, remembered by the identity of the objects and the schedulers' memories."""
    memories = tuple(state.schedulers.get(i) for i in model.scheduler_instances)
    return _SNAPSHOTS.get((model, state.store.objects, *memories), _snapshot, model, state)


@derived_read("fresh-binding-clock", ("store",))
def fresh_binding_clock(state: ClusterState) -> int | None:
    """The clock where it decides the verdict: while a pod's last write, at the store's revision, has
    a binding's shape, whether it is judged fresh depends on the clock (`_binding_write`: the binding
    is written in its own tick), so a verdict is reused only at the same clock; otherwise None.

    Its fields leave the clock out, so a `Tick` stays invisible to the partial-order reduction, as it
    was: a tick only ends a binding's freshness, and a fresh judgement finds every violation the later
    one does (`taints_at_binding` gives it all the node's taints, the later one a subset; node affinity
    is judged fresh only) — the state right after the `Bind`, which every order of the two passes
    through, is judged fresh whether the tick came before or after, on the same objects."""
    decisions = _DECISIONS.get((state.store.objects,), _Decisions, state)
    return state.clock if str(state.store.revision) in decisions.fresh else None


@safety("scheduler-decisions-sound",
        "Every pod the scheduler binds satisfies every hard scheduling constraint on its node at binding time "
        "(Z3-checked), and every pod it marks Unschedulable fits no node.",
        "pkg/scheduler/schedule_one.go; pkg/scheduler/framework/plugins/{nodeunschedulable,tainttoleration,"
        "nodeaffinity,nodeports,noderesources,podtopologyspread,interpodaffinity,volumebinding}",
        reads=("store", "informers", "schedulers", "down", "fresh-binding-clock"))
def scheduler_decisions_sound(model: ClusterModel, state: ClusterState) -> CheckResult:
    decisions = _DECISIONS.get((state.store.objects,), _Decisions, state)
    return _binding_problem(model, state, decisions) or _unschedulable_problem(model, state, decisions)

