"""The DaemonSet controller (`pkg/controller/daemon/daemon_controller.go`, v1.33).

`syncDaemonSet`: read the DaemonSet from the cache (gone → forget its expectations); a selector
`{}` ("selecting all pods") or a DaemonSet being deleted → nothing; the current template's hash
(`daemonset_util.template_hash`, upstream the current ControllerRevision's); claim the
namespace's pods (`podutil.claim`: adopt matching orphans, release owned pods that stop
matching); group them by target node (`daemonset_plan.node_pods`). With expectations not
satisfied only the status is written, observedGeneration unchanged. Otherwise `manage`
(`daemonset_plan.plan_manage`), then — when manage planned nothing, so the expectations it set
are satisfied — the rolling update of a RollingUpdate DaemonSet (`plan_rolling_update`), then
the status with observedGeneration raised (`daemon_status`, written only when it changed).

`syncNodes`: SetExpectations(creates, deletes) (`replicaset_expectations`' record with both), at
most `burst_replicas` (250) of each; the creates first (the slow-start batches' sizes add up to
all of them), then the deletes. A failed create lowers the expectation of it and of the creates
not sent; the deletes and the status are still sent (upstream the deletes follow whatever the
creates did, and updateDaemonSetStatus follows updateDaemonSet's error). A failed delete is
observed at once; one of a pod already gone (404) is no error. A create refused because the
namespace is terminating is no error either.

Failed daemon pods are deleted through a back-off per DaemonSet UID, observed generation and
node (`failedPodsBackoff`: flowcontrol.NewBackOff(1 s, 15 min); IsInBackOffSinceUpdate, Next,
entries expire after twice the maximum): a failed pod whose deletion the back-off holds stays
(after one failed pod's delete on a node the entry is fresh, so a second waits), and the key is
retried the entry's delay after this sync (`enqueueDaemonSetAfter(ds, delay)`; `memory_wakeups`).

A rolling update that cannot find the node of an old pod in the node cache fails the sync
(`daemonset_plan.Plan.missing_node`): nothing is sent, not even the status, and the key is requeued.
Which old pods a rolling update replaces first follows upstream's walk over a Go map, in no fixed
order: the walk starts at `walk_start` (by name from the first node for ""), and `walk_starts` names
the other starts that replace other pods, which the environment chooses among
(`daemonset_order.ReconcileFrom`; `daemonset_plan`'s docstring).

Event handlers (`keys_for_change`): DaemonSets add/update/delete enqueue themselves; pods as the
ReplicaSet controller's (`handlers.owned_change`, orphans to every DaemonSet of the namespace
whose non-empty selector matches), a pod update that sets a deletionTimestamp handed to
deletePod; nodes: an added node enqueues the DaemonSets that should run on it, an updated one
those whose (shouldRun, shouldContinueRunning) changed (`updateNode`; shouldIgnoreNodeUpdate only
skips updates that cannot change them); a deleted node enqueues nothing (no DeleteFunc).

Not modelled: ControllerRevision objects (history, cleanupHistory, collisionCount), the status
update's retries with a fresh GET (a 409 requeues the key), the canAdopt re-read, events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers import replicaset_expectations as exp
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.daemonset_plan import (
    Plan,
    daemon_status,
    node_pods,
    plan_manage,
    plan_rolling_update,
    walk_starts,
)
from kubeprop.model.controllers.daemonset_util import daemon_pod, node_should_run, target_node_name, template_hash
from kubeprop.model.controllers.handlers import on_delete, owned_change, same_version
from kubeprop.model.controllers.podutil import (
    CONTROLLER_MANAGER_USER,
    available_at,
    claim,
    is_pod_ready,
    pods_in,
    split_key,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

__all__ = ["BURST_REPLICAS", "DaemonSetController", "DaemonSetMemory", "uses_daemon_sets"]

BURST_REPLICAS = 250
"""daemon_controller.go BurstReplicas: the most pods one sync creates, and deletes."""

BACKOFF_INITIAL = 1
BACKOFF_MAX = 15 * 60
"""failedPodsBackoff = flowcontrol.NewBackOff(1*time.Second, 15*time.Minute), in seconds."""

_DS = "daemonsets.apps"


@attrs.frozen(cache_hash=True)
class DaemonSetMemory:
    """The controller's memory: its expectations (`replicaset_expectations`), the failed-pod
    back-off (`failedPodsBackoffKey` → (last update, delay)), and the keys a held failed pod
    requeues (key → when the back-off ends)."""

    expectations: exp.Memory = EMPTY
    backoff: FrozenMap[str, tuple[int, int]] = EMPTY
    held: FrozenMap[str, int] = EMPTY


def _not_synced(ds: DaemonSet) -> bool:
    """syncDaemonSet's early returns for a DaemonSet it leaves alone: an empty selector, or being deleted."""
    selector = ds.spec.selector
    return (selector is not None and selector.is_empty()) or ds.metadata.deletion_timestamp is not None


def _unexpired(memory: Any, now: int) -> Any:
    """`memory` without the failed-pod back-off entries expired at `now`."""
    return evolve(memory, backoff=FrozenMap({k: e for k, e in memory.backoff.sorted_items() if not _expired(e, now)}))


def _expired(entry: tuple[int, int], now: int) -> bool:
    """hasExpired: the entry was last updated more than twice the maximum delay ago."""
    return now - entry[0] > 2 * BACKOFF_MAX


def _backoff_next(entry: tuple[int, int] | None, now: int) -> tuple[int, int]:
    """Backoff.Next: the initial delay for a new or expired entry, else twice the last (capped)."""
    if entry is None or _expired(entry, now):
        return now, BACKOFF_INITIAL
    return now, min(2 * entry[1], BACKOFF_MAX)


def _terminating_create(request: Request, response: Response) -> bool:
    return request.verb == "create" and namespace_terminating(response.code, response.message)


def tolerate(request: Request, response: Response) -> Literal["ignore"] | None:
    """syncNodes' errors that are none: a create refused because the namespace is terminating,
    a delete of a pod already gone (404)."""
    if _terminating_create(request, response) or (request.verb == "delete" and response.code == 404):
        return "ignore"
    return None


@attrs.frozen
class _AfterFailure:
    """After a failed pod create or delete: the deletes not yet sent, and the status write (nothing
    after a failed claim patch: upstream's getNodesToDaemonPods fails manage and the status alike)."""

    rest: tuple[Request, ...]

    def __call__(self, request: Request, response: Response) -> tuple[Request, ...]:
        if request.resource != "pods" or request.verb not in ("create", "delete") or request not in self.rest:
            return ()  # a failed adoption or status write ends the sync (getNodesToDaemonPods' error)
        after = self.rest[self.rest.index(request) + 1:]
        return tuple(r for r in after if r.verb != "create")


def _matching(view: ObjectView, pod: ApiObject) -> tuple[str, ...]:
    """GetPodDaemonSets: the DaemonSets of the pod's namespace whose non-empty selector matches it."""
    namespace = pod.metadata.namespace
    return tuple(f"{namespace}/{ds.metadata.name}" for ds in view.list(_DS, namespace)
                 if isinstance(ds, DaemonSet) and ds.spec.selector is not None and not ds.spec.selector.is_empty()
                 and selector_matches(ds.spec.selector, pod.metadata.labels))


def uses_daemon_sets(objects: Iterable[Any]) -> bool:
    """Whether any of the scenario's objects is a DaemonSet: the controller runs only then
    (`kubeprop.model.cluster.compose`; elsewhere it would never act, and its idle state would change
    every recorded trace's fingerprints)."""
    return any(isinstance(o, DaemonSet) for o in objects)


def _nodes(view: ObjectView) -> tuple[Node, ...]:
    return tuple(sorted((n for n in view.list("nodes") if isinstance(n, Node)), key=lambda n: n.metadata.name))


@attrs.frozen
class DaemonSetController(ChangeHandlers):
    """The DaemonSet controller as a `Controller` (see the module docstring).

    - `expectations_timeout_seconds`: ExpectationsTimeout (parameter `expectationsTimeoutSeconds`);
    - `use_expectations`: False acts on the cache as it is at every sync (the
      `ds-no-expectations` variant);
    - `burst_replicas`: the per-sync cap on creations and on deletions (upstream 250);
    - `walk_start`: the node the rolling update's walk starts at ("": the first by name), the
      environment's choice (`walk_starts`, `daemonset_order.ReconcileFrom`).
    """

    expectations_timeout_seconds: int = 300
    use_expectations: bool = True
    burst_replicas: int = BURST_REPLICAS
    walk_start: str = ""
    name: str = "daemonset"
    watches: tuple[str, ...] = (_DS, "pods", "nodes")
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> DaemonSetMemory:
        """No expectations, no back-off."""
        return DaemonSetMemory()

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """addDaemonset/updateDaemonset/deleteDaemonset, addPod/updatePod/deletePod, addNode/updateNode."""
        obj = change.object
        if isinstance(obj, DaemonSet):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        if isinstance(obj, Node):
            return self._node_keys(change, obj, view)
        if not isinstance(obj, Pod):
            return ()
        old = change.old
        if change.type == "update" and old is not None and not same_version(old, obj) and (
                obj.metadata.deletion_timestamp is not None):
            return on_delete(view, obj, _DS, "DaemonSet")
        return owned_change(change, view, _DS, "DaemonSet", lambda pod: _matching(view, pod))

    def _node_keys(self, change: Change, node: Node, view: ObjectView) -> tuple[str, ...]:
        """addNode: the DaemonSets that should run on the node; updateNode: those whose verdict changed."""
        if change.type == "delete":
            return ()
        old = change.old if change.type == "update" else None
        keys = []
        for ds in view.list(_DS):
            if not isinstance(ds, DaemonSet):
                continue
            verdict = node_should_run(node, ds)
            if (old is None and verdict[0]) or (isinstance(old, Node) and node_should_run(old, ds) != verdict):
                keys.append(f"{ds.metadata.namespace}/{ds.metadata.name}")
        return tuple(sorted(keys))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncDaemonSet (see the module docstring)."""
        namespace, name = split_key(key)
        ds = view.get(ObjectKey(_DS, namespace, name))
        expectations = memory.expectations
        memory = evolve(_unexpired(memory, now), held=memory.held.delete(key) if key in memory.held else memory.held)
        if not isinstance(ds, DaemonSet):
            return Reconciliation((), evolve(memory, expectations=expectations.delete(key))
                                  if key in expectations else memory)
        if _not_synced(ds):
            return Reconciliation((), memory)
        expectations, satisfied, claimed, by_node = self._observed(view, key, ds, expectations, now)
        nodes, hash_ = _nodes(view), template_hash(ds)
        requests = list(claimed.requests)
        plan = Plan()
        if satisfied:
            plan, memory = self._manage(ds, nodes, by_node, hash_, now, memory)
            if not plan.create_on and not plan.delete and ds.spec.update_strategy.type == "RollingUpdate":
                plan = plan_rolling_update(ds, nodes, by_node, hash_, now, self.walk_start)
                if plan.missing_node is not None:  # rollingUpdate's error: no syncNodes, no status
                    return Reconciliation(tuple(requests), evolve(memory, expectations=expectations), requeue=True)
        synced = self._sync_nodes(ds, plan, by_node, hash_)
        if self.use_expectations and (synced or satisfied):
            expectations = self._expect(expectations, key, plan, by_node, now)
        requests += synced
        status = daemon_status(ds, nodes, by_node, hash_, now, observe_generation=satisfied)
        if status != ds.status:
            requests.append(Request(verb="update-status", user=self.identity, resource=_DS, namespace=namespace,
                                    name=name, obj=evolve(ds, status=status)))
        memory = evolve(memory, expectations=expectations)
        after = _AfterFailure(tuple(requests)) if synced else None
        return Reconciliation(tuple(requests), memory, requeue=key in memory.held, after_failure=after,
                              tolerate=tolerate if synced else None)

    def walk_starts(self, view: ObjectView, key: str, memory: Any, now: int) -> tuple[str, ...]:
        """The starts of the rolling update's walk, other than "", that would make this reconcile
        replace other old pods (`daemonset_plan.walk_starts`): empty unless the reconcile reaches the
        rolling update — a RollingUpdate DaemonSet, expectations satisfied, manage with nothing to do."""
        ds = view.get(ObjectKey(_DS, *split_key(key)))
        if not isinstance(ds, DaemonSet) or ds.spec.update_strategy.type != "RollingUpdate" or _not_synced(ds):
            return ()
        memory = _unexpired(memory, now)
        _, satisfied, _, by_node = self._observed(view, key, ds, memory.expectations, now)
        if not satisfied:
            return ()
        nodes, hash_ = _nodes(view), template_hash(ds)
        plan, _ = self._manage(ds, nodes, by_node, hash_, now, memory)
        if plan.create_on or plan.delete:
            return ()
        return walk_starts(ds, nodes, by_node, hash_, now)

    def _observed(self, view: ObjectView, key: str, ds: DaemonSet, expectations: Any, now: int
                  ) -> tuple[Any, bool, Any, dict[str, tuple[Pod, ...]]]:
        """What a sync of `ds` reads before it plans (syncDaemonSet): its expectations with the cache
        observed, whether they are satisfied, the claim of its pods and the claimed pods by node —
        shared by `reconcile` and `walk_starts`, which must see the same."""
        expectations = exp.observe_cache(view, key, expectations)
        satisfied = not self.use_expectations or exp.satisfied(expectations, key, now,
                                                                 self.expectations_timeout_seconds)
        claimed = claim(ds, ds.spec.selector, pods_in(view, ds.metadata.namespace), "pods", self.identity)
        by_node = node_pods(tuple(p for p in claimed.owned if isinstance(p, Pod)), target_node_name)
        return expectations, satisfied, claimed, by_node

    def _manage(self, ds: DaemonSet, nodes: tuple[Node, ...], by_node: dict[str, tuple[Pod, ...]], hash_: str,
                now: int, memory: DaemonSetMemory) -> tuple[Plan, DaemonSetMemory]:
        """manage, with the failed-pod back-off read and advanced."""
        prefix = f"{ds.metadata.uid}/{ds.status.observed_generation}/"
        backoff = memory.backoff

        def failed_ok(node: str) -> bool:
            entry = backoff.get(prefix + node)
            return entry is None or now - entry[0] >= entry[1]

        plan = plan_manage(ds, nodes, by_node, hash_, now, failed_ok)
        for node in plan.failed_deleted_on:
            backoff = backoff.set(prefix + node, _backoff_next(backoff.get(prefix + node), now))
        held = memory.held
        key = f"{ds.metadata.namespace}/{ds.metadata.name}"
        if plan.failed_held_on:  # enqueueDaemonSetAfter(ds, failedPodsBackoff.Get(key)): from now
            wake = now + min(backoff[prefix + node][1] for node in plan.failed_held_on)
            held = held.set(key, wake)
        return plan, evolve(memory, backoff=backoff, held=held)

    def _sync_nodes(self, ds: DaemonSet, plan: Plan, by_node: dict[str, tuple[Pod, ...]],
                    hash_: str) -> list[Request]:
        """syncNodes' requests: the creates, then the deletes, each capped at `burst_replicas`."""
        namespace = ds.metadata.namespace
        creates = [Request(verb="create", user=self.identity, resource="pods", namespace=namespace,
                           obj=daemon_pod(ds, node, hash_)) for node in plan.create_on[:self.burst_replicas]]
        deletes = [Request(verb="delete", user=self.identity, resource="pods", namespace=namespace, name=pod)
                   for pod in plan.delete[:self.burst_replicas]]
        return creates + deletes

    def _expect(self, expectations: exp.Memory, key: str, plan: Plan, by_node: dict[str, tuple[Pod, ...]],
                now: int) -> exp.Memory:
        """SetExpectations(creates, deletes); a record with nothing pending is dropped (satisfied)."""
        creates = min(len(plan.create_on), self.burst_replicas)
        names = plan.delete[:self.burst_replicas]
        uids = {p.metadata.name: p.metadata.uid for pods in by_node.values() for p in pods}
        marks = tuple((n, uids.get(n, "")) for n in names)
        record = exp.Expectation(now, unanswered_creates=creates, unanswered_deletes=marks)
        return expectations.delete(key) if record.fulfilled else expectations.set(key, record)

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """The expectations after a response: a create or delete answered lowers or moves its entry;
        a failed create drops the creates not yet answered (it and the ones not sent), a failed
        delete (404 among them) is observed at once; a create refused because the namespace is
        terminating lowers nothing (the record expires)."""
        expectations = memory.expectations
        if response.ok or _terminating_create(request, response):
            if response.ok:
                expectations = exp.observe_response(expectations, request, response)
            return evolve(memory, expectations=expectations)
        if request.verb not in ("create", "delete") or request.resource != "pods":
            return memory
        out = {}
        for key, record in expectations.sorted_items():
            if request.verb == "create":
                record = evolve(record, unanswered_creates=0)
            else:
                record = evolve(record, unanswered_deletes=tuple(
                    m for m in record.unanswered_deletes if m[0] != request.name))
            if not record.fulfilled:
                out[key] = record
        return evolve(memory, expectations=FrozenMap(out) if out else EMPTY)

    def memory_wakeups(self, memory: DaemonSetMemory, queue: tuple[str, ...]) -> Iterable[tuple[str, int]]:
        """When a failed pod's back-off ends, for the DaemonSets it holds (`enqueueDaemonSetAfter`)."""
        return tuple((key, at) for key, at in memory.held.sorted_items() if key in queue)

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """With minReadySeconds, the first time a ready pod becomes available (updateDaemonSetStatus
        and updatePod's `enqueueDaemonSetAfter`)."""
        namespace, name = split_key(key)
        ds = view.get(ObjectKey(_DS, namespace, name))
        if not isinstance(ds, DaemonSet) or ds.spec.min_ready_seconds <= 0:
            return None
        ready = (p for p in pods_in(view, namespace) if p.metadata.deletion_timestamp is None and is_pod_ready(p)
                 and (ref := p.metadata.controller_ref()) is not None and ref.uid == ds.metadata.uid)
        return available_at(ready, ds.spec.min_ready_seconds, now)
