"""What one DaemonSet sync decides from its caches: the pods to create and delete, and the status.

Upstream (v1.33) `pkg/controller/daemon/daemon_controller.go` getNodesToDaemonPods (claimed pods
by target node; pods both terminal and being deleted left out), podsShouldBeOnNode, manage,
getUnscheduledPodsWithoutNode, updateDaemonSetStatus; `pkg/controller/daemon/update.go`
rollingUpdate, findUpdatedPodsOnNode, updatedDesiredNodeCounts; `pkg/controller/daemon/util/
daemonset_util.go` UnavailableCount, SurgeCount, AllowsSurge, IsPodUpdated.

Per node (`podsShouldBeOnNode`): shouldRun and no pod → create one; shouldContinueRunning → pods
not being deleted that Failed are deleted (unless the failed-pod back-off holds them: `FailedPods`;
the first one deleted updates the node's entry, so a second on the node waits for the next sync),
Succeeded ones deleted, and of the others: without surge all but the oldest are deleted; with
surge the oldest new-hash and the oldest old-hash pods are kept (the old one deleted once it is
not ready or the new one is available), the rest deleted, and a node left with none gets one;
neither → every pod not being deleted is deleted. A node that has any pod, even one being deleted,
gets no new pod until it is gone: never two on one node without surge.

The walk's order: upstream's rolling update ranges over `nodeToDaemonPods`, a Go map, in an order
that varies from run to run (Go starts a map's iteration at a random place). The counts it makes
(unavailable pods, surging nodes, available pods) do not depend on it; which candidates it takes
does, when it may take fewer than there are: without surge the first `maxUnavailable - unavailable`
available old pods it meets, with surge the first `maxSurge - surging` nodes to surge onto and the
first `available - desired` old pods on nodes that should no longer run one. (A candidate is
skipped only once the count has reached the maximum, and then none is taken.) The model walks the
nodes in name order from a `start` node, wrapping around: "" (the fair run's, and every reconcile's
but the environment's choice) from the first name; `walk_starts` gives the other starts that take
other pods or nodes, so that the environment chooses among them (`daemonset_order.ReconcileFrom`):
any one candidate can go first, so with one pod replaced at a time (the default `maxUnavailable` 1)
every choice upstream can make is there; with more, the consecutive runs of candidates by name.
A lookup error ends the whole walk whatever the order: the surge half asks the node lister for the
node of every old pod that has no new one, and a node no longer cached (deleted, its pods not yet
collected) fails the sync (`Plan.missing_node`, the first such node by name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from kubeprop.model.api.apps import DaemonSet, DaemonSetStatus
from kubeprop.model.api.core import Node
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers.daemonset_util import REVISION_HASH_LABEL, node_should_run, oldest_first
from kubeprop.model.controllers.deployment_util import scaled_value
from kubeprop.model.controllers.podutil import is_pod_available, is_pod_ready
from kubeprop.model.evolve import evolve

__all__ = ["FailedPodCheck", "Plan", "daemon_status", "plan_manage", "plan_rolling_update", "walk_starts"]

NodePods = Mapping[str, tuple[Pod, ...]]
FailedPodCheck = Callable[[str], bool]
"""Whether a failed pod on the node may be deleted now (the back-off allows it; `Next` is then
recorded by the caller)."""


@attrs.frozen
class Plan:
    """syncNodes' input: the nodes needing a pod, the pods to delete (by name), and the nodes whose
    failed pod the back-off held (`enqueueDaemonSetAfter`) or let through (`Next`)."""

    create_on: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    failed_deleted_on: tuple[str, ...] = ()
    failed_held_on: tuple[str, ...] = ()
    missing_node: str | None = None
    """rollingUpdate's error: the node of an old pod the surge half looked up is not in the
    cache (`couldn't get node for nodeName`): the sync ends there, nothing sent, the key requeued."""


def _is_terminal(pod: Pod) -> bool:
    return pod.status.phase in ("Succeeded", "Failed")


def node_pods(pods: tuple[Pod, ...], target: Callable[[Pod], str | None]) -> dict[str, tuple[Pod, ...]]:
    """getNodesToDaemonPods(ds, includeDeletedTerminal=false): the claimed pods by target node."""
    out: dict[str, list[Pod]] = {}
    for pod in pods:
        if _is_terminal(pod) and pod.metadata.deletion_timestamp is not None:
            continue
        node = target(pod)
        if node is not None:
            out.setdefault(node, []).append(pod)
    return {node: tuple(found) for node, found in out.items()}


def surge_count(ds: DaemonSet, desired: int) -> int:
    """util.SurgeCount: maxSurge scaled (rounded up) for a RollingUpdate DaemonSet, else 0."""
    rolling = ds.spec.update_strategy.rolling_update
    if ds.spec.update_strategy.type != "RollingUpdate" or rolling is None:
        return 0
    return scaled_value(rolling.max_surge, desired, True)


def unavailable_count(ds: DaemonSet, desired: int) -> int:
    """util.UnavailableCount: maxUnavailable scaled (rounded up) for a RollingUpdate DaemonSet, else 0."""
    rolling = ds.spec.update_strategy.rolling_update
    if ds.spec.update_strategy.type != "RollingUpdate" or rolling is None:
        return 0
    return scaled_value(rolling.max_unavailable, desired, True)


def is_pod_updated(pod: Pod, hash_: str) -> bool:
    """util.IsPodUpdated without the template generation: the pod's hash label is the current one."""
    return bool(hash_) and pod.metadata.labels.get(REVISION_HASH_LABEL) == hash_


def _on_node(node: Node, ds: DaemonSet, pods: tuple[Pod, ...] | None, hash_: str, now: int,
             failed_ok: FailedPodCheck) -> Plan:
    """podsShouldBeOnNode (module docstring)."""
    name = node.metadata.name
    should_run, should_continue = node_should_run(node, ds)
    if should_run and pods is None:
        return Plan(create_on=(name,))
    if not should_continue:
        return Plan(delete=tuple(p.metadata.name for p in pods or () if p.metadata.deletion_timestamp is None))
    delete: list[str] = []
    running: list[Pod] = []
    deleted_failed, held = False, False
    for pod in pods or ():
        if pod.metadata.deletion_timestamp is not None:
            continue
        if pod.status.phase == "Failed":
            # IsInBackOffSinceUpdate, then Next: after one failed pod's delete the node's entry was
            # updated just now, so a second failed pod on the node is held by it.
            if not deleted_failed and failed_ok(name):
                deleted_failed = True
                delete.append(pod.metadata.name)
            else:
                held = True
        elif pod.status.phase == "Succeeded":
            delete.append(pod.metadata.name)
        else:
            running.append(pod)
    create: tuple[str, ...] = ()
    running = oldest_first(running)
    if surge_count(ds, 1) == 0:
        delete += [p.metadata.name for p in running[1:]]
    elif not running:
        create = (name,) if should_run else ()
    elif len(running) > 1:
        delete += _surge_extras(ds, running, hash_, now)
    return Plan(create, tuple(delete), (name,) if deleted_failed else (), (name,) if held else ())


def _surge_extras(ds: DaemonSet, running: list[Pod], hash_: str, now: int) -> list[str]:
    """With surge: keep the oldest new-hash and oldest old-hash pods, delete the rest; the old one
    too once it is not ready or the new one is available."""
    delete: list[str] = []
    newest: Pod | None = None
    oldest: Pod | None = None
    for pod in running:
        if pod.metadata.labels.get(REVISION_HASH_LABEL) == hash_:
            if newest is None:
                newest = pod
                continue
        elif oldest is None:
            oldest = pod
            continue
        delete.append(pod.metadata.name)
    if newest is not None and oldest is not None and (
            not is_pod_ready(oldest) or is_pod_available(newest, ds.spec.min_ready_seconds, now)):
        delete.append(oldest.metadata.name)
    return delete


def plan_manage(ds: DaemonSet, nodes: tuple[Node, ...], by_node: NodePods, hash_: str, now: int,
                failed_ok: FailedPodCheck) -> Plan:
    """manage: podsShouldBeOnNode for every node, then the unscheduled pods whose target node is gone."""
    create: list[str] = []
    delete: list[str] = []
    deleted_failed: list[str] = []
    held: list[str] = []
    for node in nodes:
        plan = _on_node(node, ds, by_node.get(node.metadata.name), hash_, now, failed_ok)
        create += plan.create_on
        delete += plan.delete
        deleted_failed += plan.failed_deleted_on
        held += plan.failed_held_on
    names = {n.metadata.name for n in nodes}
    delete += [p.metadata.name for node, pods in sorted(by_node.items()) if node not in names
               for p in pods if not p.spec.node_name]
    return Plan(tuple(create), tuple(delete), tuple(deleted_failed), tuple(held))


def _updated_on_node(pods: tuple[Pod, ...], hash_: str) -> tuple[Pod | None, Pod | None, bool]:
    """findUpdatedPodsOnNode: (new pod, old pod, at most one of each) among pods not being deleted."""
    new: Pod | None = None
    old: Pod | None = None
    for pod in pods:
        if pod.metadata.deletion_timestamp is not None:
            continue
        if is_pod_updated(pod, hash_):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def _desired_counts(ds: DaemonSet, nodes: tuple[Node, ...], by_node: NodePods) -> tuple[int, int, NodePods]:
    """updatedDesiredNodeCounts: maxSurge, maxUnavailable (1 when both would be 0), and the node map
    with an empty entry for every node that should run a pod."""
    out = dict(by_node)
    desired = 0
    for node in nodes:
        if node_should_run(node, ds)[0]:
            desired += 1
            out.setdefault(node.metadata.name, ())
    surge, unavailable = surge_count(ds, desired), unavailable_count(ds, desired)
    if desired > 0 and unavailable == 0 and surge == 0:
        unavailable = 1
    return surge, unavailable, out


def _walk(all_nodes: NodePods, start: str) -> list[tuple[str, tuple[Pod, ...]]]:
    """The nodes in the order the walk meets them: by name from `start`, wrapping around."""
    ordered = sorted(all_nodes.items())
    return [item for item in ordered if item[0] >= start] + [item for item in ordered if item[0] < start]


def plan_rolling_update(ds: DaemonSet, nodes: tuple[Node, ...], by_node: NodePods, hash_: str, now: int,
                        start: str = "") -> Plan:
    """rollingUpdate, its walk over the nodes begun at `start` (module docstring)."""
    surge, max_unavailable, all_nodes = _desired_counts(ds, nodes, by_node)
    if surge != 0:
        return _plan_surge(ds, nodes, all_nodes, hash_, now, surge, start)
    unavailable = 0
    replace: list[str] = []
    candidates: list[str] = []
    for _, pods in _walk(all_nodes, start):
        new, old, ok = _updated_on_node(pods, hash_)
        if not ok or (old is None) == (new is None):
            unavailable += 1
        elif new is not None:
            unavailable += not is_pod_available(new, ds.spec.min_ready_seconds, now)
        elif old is not None and not is_pod_available(old, ds.spec.min_ready_seconds, now):
            replace.append(old.metadata.name)
            unavailable += 1
        elif old is not None and unavailable < max_unavailable:
            candidates.append(old.metadata.name)
    remaining = min(max(max_unavailable - unavailable, 0), len(candidates))
    return Plan(delete=(*replace, *candidates[:remaining]))


def walk_starts(ds: DaemonSet, nodes: tuple[Node, ...], by_node: NodePods, hash_: str, now: int) -> tuple[str, ...]:
    """The starts of the walk, other than "", whose rolling update takes other pods or nodes than
    the walk by name (and than each other): for each such outcome the first node it starts from.
    Empty where the order changes nothing (every candidate taken, or none)."""
    def outcome(plan: Plan) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(plan.create_on), frozenset(plan.delete)

    seen = {outcome(plan_rolling_update(ds, nodes, by_node, hash_, now))}
    starts: list[str] = []
    for name in sorted(_desired_counts(ds, nodes, by_node)[2])[1:]:
        found = outcome(plan_rolling_update(ds, nodes, by_node, hash_, now, name))
        if found not in seen:
            seen.add(found)
            starts.append(name)
    return tuple(starts)


def _missing_node(nodes: tuple[Node, ...], all_nodes: NodePods, hash_: str) -> str | None:
    """The first node by name of an old pod with no new one beside it that the node cache lacks:
    the surge half looks up every such node, whatever its order, and the first failed look-up ends it."""
    names = {n.metadata.name for n in nodes}
    for name, pods in sorted(all_nodes.items()):
        new, old, ok = _updated_on_node(pods, hash_)
        if ok and old is not None and new is None and name not in names:
            return name
    return None


def _plan_surge(ds: DaemonSet, nodes: tuple[Node, ...], all_nodes: NodePods, hash_: str, now: int,
                max_surge: int, start: str = "") -> Plan:
    """rollingUpdate's surge half: create new pods next to unavailable old ones, up to maxSurge next
    to available ones, delete an old pod once its node's new pod is available."""
    missing = _missing_node(nodes, all_nodes, hash_)
    if missing is not None:
        return Plan(missing_node=missing)  # nodeLister.Get's error ends rollingUpdate
    by_name = {n.metadata.name: n for n in nodes}
    min_ready = ds.spec.min_ready_seconds
    delete: list[str] = []
    should_not_run: list[str] = []
    candidates: list[str] = []
    allowed: list[str] = []
    surging = available = 0
    desired = sum(1 for n in nodes if node_should_run(n, ds)[0])
    for name, pods in _walk(all_nodes, start):
        new, old, ok = _updated_on_node(pods, hash_)
        if not ok:
            surging += 1
            continue
        counted = old if old is not None else new
        available += counted is not None and is_pod_available(counted, min_ready, now)
        if old is None:
            continue
        if new is not None:
            if not is_pod_available(new, min_ready, now):
                surging += 1
            else:
                delete.append(old.metadata.name)
            continue
        runs = node_should_run(by_name[name], ds)[0]
        if not is_pod_available(old, min_ready, now):
            (allowed if runs else delete).append(name if runs else old.metadata.name)
        elif not runs:
            should_not_run.append(old.metadata.name)
        elif surging < max_surge:
            candidates.append(name)
    deletable = min(max(available - desired, 0), len(should_not_run))
    remaining = min(max(max_surge - surging, 0), len(candidates))
    return Plan(create_on=(*allowed, *candidates[:remaining]), delete=(*delete, *should_not_run[:deletable]))


def daemon_status(ds: DaemonSet, nodes: tuple[Node, ...], by_node: NodePods, hash_: str, now: int,
                  observe_generation: bool) -> DaemonSetStatus:
    """updateDaemonSetStatus / storeDaemonSetStatus: the counts over the nodes (the oldest pod of
    each node that should run one), observedGeneration raised only when the sync managed pods."""
    desired = current = misscheduled = ready = updated = available = 0
    for node in nodes:
        pods = by_node.get(node.metadata.name, ())
        if not node_should_run(node, ds)[0]:
            misscheduled += bool(pods)
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = oldest_first(pods)[0]
        if is_pod_ready(pod):
            ready += 1
            available += is_pod_available(pod, ds.spec.min_ready_seconds, now)
        updated += is_pod_updated(pod, hash_)
    status = evolve(ds.status, desired_number_scheduled=desired, current_number_scheduled=current,
                    number_misscheduled=misscheduled, number_ready=ready, updated_number_scheduled=updated,
                    number_available=available, number_unavailable=desired - available)
    if status == ds.status and ds.status.observed_generation >= ds.metadata.generation:
        return ds.status
    if observe_generation:
        status = evolve(status, observed_generation=ds.metadata.generation)
    return status
