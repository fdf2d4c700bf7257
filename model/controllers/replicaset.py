"""The ReplicaSet controller (`pkg/controller/replicaset/replica_set.go`).

`syncReplicaSet`: read the ReplicaSet from the cache (gone → forget its expectations); check
expectations (`replicaset_expectations`); list the namespace's pods, keep the active ones
(`controller.FilterActivePods`), claim them (adopt matching orphans, release owned pods that stop
matching, ignore pods other controllers own: `podutil.claim`); if expectations are satisfied and
the ReplicaSet is not being deleted, `manageReplicas`; then write the recomputed status if it
changed (`updateReplicaSetStatus`).

`manageReplicas`: diff = active owned pods - spec.replicas, capped at `burstReplicas` (500).
Too few: expect `diff` creations and create them in slow-start batches 1, 2, 4, …
(`slowStartBatch`); the model sends requests one at a time and the first failure stops the rest
(`controllers.base`), which is upstream's "a failing batch stops later batches" except that the
other creations of the failing batch, sent in parallel upstream, are not sent. Too many: expect
the deletions, then delete the first `diff` pods in the order of `controller.ActivePodsWithRanks`
(`getPodsToDelete`, ranks = active pods of the same controller's ReplicaSets on the same node).

The status write (`calculateStatus`, `replica_set_utils.go`) follows `manageReplicas` whatever it
did: when a create or delete failed, upstream's status gets the ReplicaFailure condition (status
True, reason FailedCreate or FailedDelete by the sign of active - spec.replicas, the error as its
message; kept as it is while one is there), and a sync without a failure removes it. Here the
first failed create or delete ends the requests, and the reconcile's `after_failure` sends the
status with the condition (`ReplicaFailureStatus`). Errors `manageReplicas` does not return are no
failure: a create refused because the namespace is terminating (`NamespaceTerminatingCause`; the
model reads it from NamespaceLifecycle's 403, `admission.namespace_terminating`) and a delete of a
pod already gone (404). The first is no error at all (`tolerate`): the other creates are still
sent, their expectations stay (slowStartBatch counted them successes; the record expires), and
the key is not requeued.

The requeues after minReadySeconds (updatePod's and syncReplicaSet's `AddAfter`) are a
wake-up, `wakeup_at`. Not modelled: the status-update retry with a fresh GET
(`updateReplicaSetStatus`; the model's update fails with 409 and the key is requeued); the
`canAdopt` re-read of the ReplicaSet before adopting; 404 on adopt counts as a failure (it stops the
remaining requests and requeues) where upstream ignores it; terminatingReplicas (feature gate
DeploymentReplicaSetTerminatingReplicas, off by default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cmp_to_key
from typing import Any, Literal

import attrs

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.apps import ReplicaSet, ReplicaSetStatus
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.validation_annotations import POD_DELETION_COST, parse_pod_deletion_cost
from kubeprop.model.controllers import replicaset_expectations as exp
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.handlers import labels_changed, on_delete, owned_change, same_version
from kubeprop.model.controllers.podutil import (
    CONTROLLER_MANAGER_USER,
    available_at,
    claim,
    controller_of,
    is_controlled_by,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    pod_ready_condition,
    pod_template_object,
    pods_in,
    split_key,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY
from kubeprop.model.state.informer import ObjectView

BURST_REPLICAS = 500
"""BurstReplicas (`pkg/controller/replicaset/replica_set.go`), the most pods one sync creates or
deletes: a constant the controller manager passes to NewReplicaSetController
(`cmd/kube-controller-manager/app/apps.go`), no flag sets it."""

SLOW_START_INITIAL_BATCH_SIZE = 1
"""controller.SlowStartInitialBatchSize."""

_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}

REPLICA_FAILURE = "ReplicaFailure"
"""apps.ReplicaSetReplicaFailure: a pod could not be created or deleted."""



def slow_start_batches(count: int, initial: int = SLOW_START_INITIAL_BATCH_SIZE) -> tuple[int, ...]:
    """The batch sizes slowStartBatch uses for `count` calls: initial, 2x, 4x, … capped by what is left."""
    sizes: list[int] = []
    batch = min(count, initial)
    remaining = count
    while remaining > 0:
        sizes.append(batch)
        remaining -= batch
        batch = min(2 * batch, remaining)
    return tuple(sizes)


_RS = "replicasets.apps"


def _pod_replica_sets(pod: ApiObject, view: ObjectView) -> tuple[str, ...]:
    """getPodReplicaSets: the ReplicaSets of the pod's namespace whose non-empty selector matches it."""
    namespace = pod.metadata.namespace
    return tuple(
        f"{namespace}/{rs.metadata.name}" for rs in view.list(_RS, namespace)
        if isinstance(rs, ReplicaSet) and rs.spec.selector is not None and not rs.spec.selector.is_empty()
        and selector_matches(rs.spec.selector, pod.metadata.labels)
    )


def _deletion_cost(pod: Pod) -> int:
    """helper.GetDeletionCostFromPodAnnotations: the core/v1 PodDeletionCost annotation as an int32,
    0 if missing or invalid; lower-cost pods are deleted first (feature PodDeletionCost, on by default)."""
    cost = parse_pod_deletion_cost(pod.metadata.annotations.get(POD_DELETION_COST, ""))
    return 0 if cost is None else cost


def _log_rank(then: int, now: int) -> int:
    """logarithmicRankDiff's per-time rank: floor(log2(elapsed in nanoseconds)), -1 if none elapsed."""
    elapsed_ns = (now - then) * 1_000_000_000
    return int(math.log2(elapsed_ns)) if elapsed_ns > 0 else -1


def max_container_restarts(pod: Pod) -> tuple[int, int]:
    """maxContainerRestarts (`pkg/controller/controller_utils.go`, v1.33): the highest restart count
    of the regular containers, then of the sidecars (init containers whose own restartPolicy is
    Always, matched to their statuses by name). Compared as a pair, as compareMaxContainerRestarts
    does: the regular count decides, the sidecars' only break a tie (kubernetes/kubernetes#124952).
    Restarts of ordinary init containers do not count."""
    regular = max((c.restart_count for c in pod.status.container_statuses), default=0)
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"}
    sidecar = max((c.restart_count for c in pod.status.init_container_statuses if c.name in sidecars), default=0)
    return regular, sidecar


def _ready_time(pod: Pod) -> int | None:
    cond = pod_ready_condition(pod)
    return cond.last_transition_time if cond is not None and cond.status == "True" else None


def _after_or_zero(t1: int | None, t2: int | None) -> bool:
    """afterOrZero: a missing time counts as later than any time."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _newer_first(t1: int | None, t2: int | None, a: Pod, b: Pod, now: int, logarithmic: bool) -> bool | None:
    """Criteria 6 and 8 of ActivePodsWithRanks.Less: the more recent time first (with
    LogarithmicScaleDown: by log2 bucket of age, then by UID); None when undecided."""
    if t1 == t2:
        return None
    if not logarithmic or t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    return a.metadata.uid < b.metadata.uid if diff == 0 else diff < 0


def pod_deletion_less(a: Pod, b: Pod, rank_a: int, rank_b: int, now: int, logarithmic: bool = True) -> bool:
    """controller.ActivePodsWithRanks.Less (`pkg/controller/controller_utils.go`): True if `a`
    should be deleted before `b`."""
    if a.spec.node_name != b.spec.node_name and (not a.spec.node_name or not b.spec.node_name):
        return not a.spec.node_name
    pa, pb = _PHASE_ORDINAL.get(a.status.phase, 0), _PHASE_ORDINAL.get(b.status.phase, 0)
    if pa != pb:
        return pa < pb
    if is_pod_ready(a) != is_pod_ready(b):
        return not is_pod_ready(a)
    if _deletion_cost(a) != _deletion_cost(b):
        return _deletion_cost(a) < _deletion_cost(b)
    if rank_a != rank_b:
        return rank_a > rank_b
    if is_pod_ready(a) and is_pod_ready(b):
        decided = _newer_first(_ready_time(a), _ready_time(b), a, b, now, logarithmic)
        if decided is not None:
            return decided
    restarts_a, restarts_b = max_container_restarts(a), max_container_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    decided = _newer_first(a.metadata.creation_timestamp, b.metadata.creation_timestamp, a, b, now, logarithmic)
    return bool(decided)


def pods_to_delete(pods: Iterable[Pod], related: Iterable[Pod], diff: int, now: int,
                   logarithmic: bool = True) -> tuple[Pod, ...]:
    """getPodsToDelete: rank each pod by the number of active related pods on its node
    (getPodsRankedByRelatedPodsOnSameNode), sort by `pod_deletion_less`, take the first `diff`.
    Upstream's sort is unstable over the lister's order; the model breaks ties by pod name."""
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            on_node[pod.spec.node_name] = on_node.get(pod.spec.node_name, 0) + 1
    ranked = [(pod, on_node.get(pod.spec.node_name, 0)) for pod in sorted(pods, key=lambda p: p.metadata.name)]

    def compare(x: tuple[Pod, int], y: tuple[Pod, int]) -> int:
        if pod_deletion_less(x[0], y[0], x[1], y[1], now, logarithmic):
            return -1
        if pod_deletion_less(y[0], x[0], y[1], x[1], now, logarithmic):
            return 1
        return 0

    ranked.sort(key=cmp_to_key(compare))
    return tuple(pod for pod, _ in ranked[:diff])


def calculate_status(rs: ReplicaSet, pods: Iterable[Pod], now: int, failure: str | None = None) -> ReplicaSetStatus:
    """calculateStatus (`pkg/controller/replicaset/replica_set_utils.go`): counts over the active
    owned pods; fully labeled = the template's labels as a selector match the pod's labels. With
    a `failure` (manageReplicas' error) a ReplicaFailure condition is added unless one is there
    (reason FailedCreate with too few pods, FailedDelete with too many); without, it is removed."""
    template_selector = LabelSelector(match_labels=rs.spec.template.metadata.labels)
    pods = tuple(pods)
    conditions = rs.status.conditions
    present = any(c.type == REPLICA_FAILURE for c in conditions)
    if failure is not None and not present:
        diff = len(pods) - (rs.spec.replicas if rs.spec.replicas is not None else 1)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions = (*conditions, Condition(type=REPLICA_FAILURE, status="True", reason=reason,
                                             message=failure, last_transition_time=now))
    elif failure is None and present:
        conditions = tuple(c for c in conditions if c.type != REPLICA_FAILURE)
    return evolve(
        rs.status,
        replicas=len(pods),
        fully_labeled_replicas=sum(1 for p in pods if selector_matches(template_selector, p.metadata.labels)),
        ready_replicas=sum(1 for p in pods if is_pod_ready(p)),
        available_replicas=sum(1 for p in pods if is_pod_available(p, rs.spec.min_ready_seconds, now)),
        observed_generation=rs.metadata.generation,
        conditions=conditions,
    )


def manage_error(request: Request, response: Response) -> str | None:
    """The error manageReplicas returns for a failed pod create or delete, or None when it returns
    none: a create refused because the namespace is terminating (`apierrors.HasStatusCause(err,
    v1.NamespaceTerminatingCause)`: `return nil`) or a delete of a pod already gone (NotFound is
    not sent to errCh), `pkg/controller/replicaset/replica_set.go` manageReplicas."""
    if _terminating_create(request, response):
        return None
    if request.verb == "delete" and response.code == 404:
        return None
    return response.message


def _terminating_create(request: Request, response: Response) -> bool:
    """A pod create refused because the namespace is terminating (`NamespaceTerminatingCause`)."""
    return request.verb == "create" and namespace_terminating(response.code, response.message)


def tolerate(request: Request, response: Response) -> Literal["ignore"] | None:
    """A reconcile's `tolerate`: manageReplicas' create function returns nil for a pod create refused
    because the namespace is terminating, so slowStartBatch counts it a success and goes on with the
    next creates, syncReplicaSet returns no error and the key is not requeued
    (`pkg/controller/replicaset/replica_set.go` manageReplicas, processNextWorkItem)."""
    return "ignore" if _terminating_create(request, response) else None


@attrs.frozen
class ReplicaFailureStatus:
    """A reconcile's `after_failure`: after a failed pod create or delete, the status write
    calculateStatus makes with manageReplicas' error (ReplicaFailure); after any other failed
    request (an adoption patch, the status update itself) nothing, as syncReplicaSet returns."""

    rs: ReplicaSet
    owned: tuple[Pod, ...]
    now: int
    user: str

    def __call__(self, request: Request, response: Response) -> tuple[Request, ...]:
        if request.resource != "pods" or request.verb not in ("create", "delete"):
            return ()
        status = calculate_status(self.rs, self.owned, self.now, manage_error(request, response))
        if status == self.rs.status:
            return ()
        return (Request(verb="update-status", user=self.user, resource="replicasets.apps",
                        namespace=self.rs.metadata.namespace, name=self.rs.metadata.name,
                        obj=evolve(self.rs, status=status)),)


@attrs.frozen
class ReplicaSetController(ChangeHandlers):
    """The ReplicaSet controller as a `Controller` (see the module docstring).

    - `expectations_timeout_seconds`: ExpectationsTimeout (model parameter
      `expectationsTimeoutSeconds`, upstream 300);
    - `use_expectations`: False disables expectations (every sync acts on the cache as it is):
      the `rs-no-expectations` variant, as is a timeout of 0;
    - `burst_replicas`: the per-sync cap on creations/deletions (upstream 500);
    - `logarithmic_scale_down`: feature gate LogarithmicScaleDown (on by default since 1.22);
    - `requeue_at_next_availability`: v1.34's requeue after minReadySeconds (model parameter
      `replicaSetRequeueAtNextAvailability`); the model's wake-ups are the same with either value
      (`wakeup_at` says why and what upstream differs in that the model does not track).
    """

    expectations_timeout_seconds: int = 300
    use_expectations: bool = True
    burst_replicas: int = BURST_REPLICAS
    logarithmic_scale_down: bool = True
    requeue_at_next_availability: bool = False
    name: str = "replicaset"
    watches: tuple[str, ...] = ("replicasets.apps", "pods")
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> exp.Memory:
        """No expectations recorded."""
        return EMPTY

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The handlers NewBaseController registers. ReplicaSets: addRS, updateRS and deleteRS enqueue
        the ReplicaSet (updateRS on every update: "a full informer resync can requeue any replica set
        ... whose last attempts at creating a pod have failed"; an update whose UID changed also runs
        deleteRS for the old one, of the same key). Pods: addPod, updatePod, deletePod
        (`kubeprop.model.controllers.handlers`: the pod's resolved controller, or the ReplicaSets of its
        namespace whose non-empty selector matches an orphan, getPodReplicaSets); updatePod hands a pod
        being deleted to deletePod, and its old self too when its labels changed ("we receive an update
        for modification of the deletion timestamp and expect an rs to create more replicas asap")."""
        obj = change.object
        if isinstance(obj, ReplicaSet):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        if not isinstance(obj, Pod):
            return ()
        old = change.old
        if change.type == "update" and old is not None and not same_version(old, obj) and (
                obj.metadata.deletion_timestamp is not None):
            keys = on_delete(view, obj, _RS, "ReplicaSet")
            if labels_changed(old, obj):
                keys += on_delete(view, old, _RS, "ReplicaSet")
            return tuple(sorted(set(keys)))
        return owned_change(change, view, _RS, "ReplicaSet", lambda pod: _pod_replica_sets(pod, view))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncReplicaSet (see the module docstring)."""
        namespace, name = split_key(key)
        rs = view.get(ObjectKey("replicasets.apps", namespace, name))
        if not isinstance(rs, ReplicaSet):
            return Reconciliation((), memory.delete(key) if key in memory else memory)
        memory = exp.observe_cache(view, key, memory)
        needs_sync = not self.use_expectations or exp.satisfied(memory, key, now, self.expectations_timeout_seconds)
        if rs.spec.selector is None:
            return Reconciliation((), memory)
        active = [p for p in pods_in(view, namespace) if is_pod_active(p)]
        claimed = claim(rs, rs.spec.selector, active, "pods", self.identity)
        requests = list(claimed.requests)
        owned = tuple(p for p in claimed.owned if isinstance(p, Pod))
        managed: list[Request] = []
        if needs_sync and rs.metadata.deletion_timestamp is None:
            managed, memory = self._manage(view, rs, owned, key, memory, now)
            requests.extend(managed)
        status = calculate_status(rs, owned, now)
        if status != rs.status:
            requests.append(Request(verb="update-status", user=self.identity, resource="replicasets.apps",
                                    namespace=namespace, name=name, obj=evolve(rs, status=status)))
        after = ReplicaFailureStatus(rs, owned, now, self.identity) if managed else None
        return Reconciliation(tuple(requests), memory, after_failure=after, tolerate=tolerate if managed else None)

    def _manage(self, view: ObjectView, rs: ReplicaSet, owned: tuple[Pod, ...], key: str, memory: exp.Memory,
                now: int) -> tuple[list[Request], exp.Memory]:
        """manageReplicas: the create or delete requests, and the expectations recorded for them."""
        diff = len(owned) - (rs.spec.replicas if rs.spec.replicas is not None else 1)
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            pod = pod_template_object(rs.spec.template, rs)
            creates = [Request(verb="create", user=self.identity, resource="pods", namespace=rs.metadata.namespace,
                               obj=pod) for _ in range(sum(slow_start_batches(count)))]
            return creates, exp.expect_creations(memory, key, count, now)
        if diff > 0:
            count = min(diff, self.burst_replicas)
            doomed = pods_to_delete(owned, related_pods(view, rs), count, now, self.logarithmic_scale_down)
            deletes = [Request(verb="delete", user=self.identity, resource="pods", namespace=p.metadata.namespace,
                               name=p.metadata.name) for p in doomed]
            return deletes, exp.expect_deletions(memory, key, doomed, now)
        return [], memory

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """Lower expectations after a response (`replicaset_expectations.observe_response`); not
        after a create refused because the namespace is terminating: slowStartBatch counted it a
        success, so no CreationObserved lowers its expectation (it expires with the record)."""
        if _terminating_create(request, response):
            return memory
        return exp.observe_response(memory, request, response)

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """When the set is requeued by time alone (`queue.AddAfter`,
        `pkg/controller/replicaset/replica_set.go`), or None. Not part of the `Controller` protocol;
        a timer component may use it.

        v1.33 arms two such requeues. updatePod: when a pod the set controls turns Ready and
        minReadySeconds > 0, `enqueueRSAfter(rs, minReadySeconds + 1 s)`, one per pod; syncReplicaSet:
        `AddAfter(minReadySeconds)` when the status it wrote has every replica ready and not every one
        available. The first wakes the set when each ready pod becomes available (Ready for longer than
        minReadySeconds, `is_pod_available`: on the model's whole-second clock, at its Ready transition
        + minReadySeconds + 1 s, the earliest updatePod's requeue can fire: the informer sees the
        transition at or after it), so the second adds no earlier time. v1.34 (kubernetes PR #132121,
        `requeue_at_next_availability`) makes the sync's requeue the first ready pod's availability
        (FindMinNextPodAvailabilityCheck) whenever ReadyReplicas != AvailableReplicas: on this clock
        the same times. What differs between them upstream is what the model does not track: in
        v1.33 a Ready transition the controller never saw as an update (the pod already Ready when its
        informer listed it after a restart, or Ready before the set's minReadySeconds was raised) arms
        no requeue, and of two AddAfter of the key the delaying queue keeps the earlier (a pod Ready,
        then not, then Ready again waits for the next event: kubernetes issue #108266). The model
        wakes the set at every ready pod's availability in both: never later than upstream."""
        namespace, name = split_key(key)
        rs = view.get(ObjectKey("replicasets.apps", namespace, name))
        if not isinstance(rs, ReplicaSet) or rs.spec.min_ready_seconds <= 0:
            return None
        ready = [p for p in pods_in(view, namespace)
                 if is_controlled_by(p, rs) and is_pod_active(p) and is_pod_ready(p)]
        return available_at(ready, rs.spec.min_ready_seconds, now)


def related_pods(view: ObjectView, rs: ReplicaSet) -> tuple[Pod, ...]:
    """getIndirectlyRelatedPods: the pods matching the selector of any ReplicaSet with the same
    controller (UID) as `rs`, each once; none when `rs` has no controller."""
    ref = controller_of(rs)
    if ref is None:
        return ()
    namespace = rs.metadata.namespace
    siblings = [
        other for other in view.list("replicasets.apps", namespace)
        if isinstance(other, ReplicaSet) and (other_ref := controller_of(other)) is not None
        and other_ref.uid == ref.uid
    ]
    seen: set[str] = set()
    out: list[Pod] = []
    for sibling in siblings:
        for pod in pods_in(view, namespace):
            if pod.metadata.uid not in seen and selector_matches(sibling.spec.selector, pod.metadata.labels):
                seen.add(pod.metadata.uid)
                out.append(pod)
    return tuple(out)
