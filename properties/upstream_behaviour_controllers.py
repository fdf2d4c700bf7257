"""Recognizers of upstream behaviour of the controller manager's controllers (Deployment,
ReplicaSet, DaemonSet, node lifecycle): what they do on the correct model when their informer caches lag
the API server, a write times out after it applied, or the controller manager crashes.
`upstream_behaviour.KNOWN` lists the entries; this module holds what they recognize and the
upstream source each rests on.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.restore import RestoreEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.deployment_util import resolve_fenceposts
from kubeprop.model.controllers.nodelifecycle_health import memory as nodelifecycle_memory
from kubeprop.model.controllers.podutil import controller_of
from kubeprop.model.state.actions import Action, CrashComponent, CrashDuringReconcile
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.registry import Violation, first_violation, select

__all__ = [
    "CREATE_TIMEOUT_CITATIONS",
    "CREATE_TIMEOUT_SUMMARY",
    "DAEMON_CREATE_TIMEOUT_CITATIONS",
    "DAEMON_CREATE_TIMEOUT_SUMMARY",
    "STALE_LISTER_CITATIONS",
    "STALE_LISTER_SUMMARY",
    "TRANSITION_LOST_CITATIONS",
    "TRANSITION_LOST_SUMMARY",
    "stale_replicaset_lister",
    "timed_out_create",
    "timed_out_daemon_create",
    "transition_lost_in_crash",
]

STALE_LISTER_SUMMARY = (
    "The Deployment controller sizes a new ReplicaSet from its ReplicaSet informer cache and keeps no "
    "expectations for ReplicaSets: when a rollout follows a sync whose ReplicaSet write has not yet "
    "reached that cache, it does not see the earlier ReplicaSet, counts 0 current replicas in "
    "NewRSNewReplicas and creates the new ReplicaSet at full size, so the Deployment's ReplicaSets "
    "ask for more than replicas + maxSurge pods until the cache catches up and the old one is "
    "scaled down.")
STALE_LISTER_CITATIONS = (
    "pkg/controller/deployment/deployment_controller.go getReplicaSetsForDeployment (dc.rsLister; "
    "the DeploymentController has no expectations)",
    "pkg/controller/deployment/sync.go getNewReplicaSet; "
    "pkg/controller/deployment/util/deployment_util.go NewRSNewReplicas",
    "https://github.com/kubernetes/kubernetes/issues/22061 (expectations in the Deployment controller, "
    "closed without them)",
)
CREATE_TIMEOUT_SUMMARY = (
    "A pod create that times out after the API server wrote the pod (504) is a failure to the "
    "ReplicaSet controller: it lowers its expectations for it as for a create that never happened "
    "and requeues the ReplicaSet, and the next sync, whose pod cache has not yet seen the pod, "
    "creates another; the extra pod is deleted once the cache catches up.")
DAEMON_CREATE_TIMEOUT_SUMMARY = (
    "A daemon pod create that times out after the API server wrote the pod (504) is a failure to the "
    "DaemonSet controller: it lowers its expectations for it as for a create that never happened and "
    "requeues the DaemonSet, and the next sync, whose pod cache has not yet seen the pod, finds the node "
    "without one and creates another; the extra pod is deleted once the cache catches up (all but the "
    "oldest, podsShouldBeOnNode).")
DAEMON_CREATE_TIMEOUT_CITATIONS = (
    "pkg/controller/daemon/daemon_controller.go syncNodes (a failed create: 'Failed creation, decrementing "
    "expectations for daemon set', CreationObserved)",
    "https://github.com/kubernetes/kubernetes/pull/86140 (timeouts no longer swallowed; the pod may have been "
    "created)",
)
CREATE_TIMEOUT_CITATIONS = (
    "pkg/controller/replicaset/replica_set.go manageReplicas (slowStartBatch; skipped and failed creates "
    "lower the expectations: 'the informer won't observe this pod'; once the cache shows the extra pod, "
    "diff > 0 and getPodsToDelete deletes it)",
    "https://github.com/kubernetes/kubernetes/pull/86140 (timeouts no longer swallowed; the review notes "
    "the pod may have been created) and https://github.com/kubernetes/kubernetes/issues/67662",
)
TRANSITION_LOST_SUMMARY = (
    "The node lifecycle controller marks a node's pods not Ready only when it sees the node's Ready "
    "condition leave True, and remembers a node whose pods it has yet to mark only in memory "
    "(nodesToRetry): a controller-manager crash between marking the node Unknown and marking its pods "
    "loses that, and the restarted controller, which finds the node already Unknown, never marks them. "
    "The model follows upstream here only with markPodsNotReadyOnTransitionOnly: true (docs/release.md).")
TRANSITION_LOST_CITATIONS = (
    "pkg/controller/nodelifecycle/node_lifecycle_controller.go monitorNodeHealth (MarkPodsNotReady on the "
    "Ready→not-Ready transition; nodesToRetry)",
    "https://github.com/kubernetes/kubernetes/issues/50067 and "
    "https://github.com/kubernetes/kubernetes/issues/135205 (open)",
)


def _owned_sets(objects: Sequence[object], uid: str) -> dict[str, ReplicaSet]:
    return {rs.metadata.name: rs for rs in objects
            if isinstance(rs, ReplicaSet) and (ref := controller_of(rs)) is not None and ref.uid == uid}


def _cache_behind(state: ClusterState, d: Deployment) -> bool:
    """The controller manager's ReplicaSet cache lacks one of `d`'s ReplicaSets, or holds an older
    version of one (the lister the Deployment controller reads)."""
    informer = state.informers.get(CONTROLLER_MANAGER)
    if informer is None:
        return False
    ns = d.metadata.namespace
    stored = _owned_sets(list(state.store.list("replicasets.apps", ns)), d.metadata.uid)
    cached = _owned_sets(list(informer.list("replicasets.apps", ns)), d.metadata.uid)
    return any(name not in cached or cached[name].metadata.resource_version != rs.metadata.resource_version
               for name, rs in stored.items())


def _over_surge(state: ClusterState, d: Deployment) -> bool:
    """`d`'s ReplicaSets, as stored, ask for more than replicas + maxSurge pods."""
    stored = _owned_sets(list(state.store.list("replicasets.apps", d.metadata.namespace)), d.metadata.uid)
    replicas = d.spec.replicas or 0
    rolling = d.spec.strategy.rolling_update
    surge, _ = resolve_fenceposts(rolling.max_surge if rolling else None,
                                  rolling.max_unavailable if rolling else None, replicas)
    return sum(rs.spec.replicas or 0 for rs in stored.values()) > replicas + surge


def _syncs(act: Action, controller: str, key: str) -> bool:
    """`act` is a sync of `key` by `controller`: a whole reconcile, or one the controller manager
    crashed in after its first requests reached the API server (`CrashDuringReconcile`). What such a
    sync wrote is what the whole sync would have written first, read from the same cache."""
    return isinstance(act, Reconcile | CrashDuringReconcile) and act.controller == controller and act.key == key


def stale_replicaset_lister(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                             violation: Violation) -> bool:
    """A sync of the Deployment, reading a ReplicaSet cache that was behind the store, created or
    scaled up a ReplicaSet so that the stored ReplicaSets ask for more than replicas + maxSurge
    pods, though they did not before the sync (within its cache's view the sync kept the bound);
    and the over-surge is still that sync's: since it, nothing but the Deployment controller's own
    syncs of the Deployment raised a ReplicaSet's spec.replicas or gave the Deployment another
    ReplicaSet (`_raised_by_another`) — an etcd restore aside: it brings back what was stored, the
    race's over-surge with it. A user's operator scaling a ReplicaSet up after the race breaks the
    bound on its own account: that violation is the user's."""
    key = violation.named("Deployment")
    if key is None or model.instant_caches:
        return False
    namespace, _, name = key.partition("/")
    recognized = False
    for before, after, act in zip(states, states[1:], trace, strict=False):
        d = after.store.get(ObjectKey("deployments.apps", namespace, name))
        if not isinstance(d, Deployment):
            recognized = False
        elif _syncs(act, "deployment", key):
            if _cache_behind(before, d) and not _over_surge(before, d) and _over_surge(after, d):
                recognized = True
        elif not isinstance(act, RestoreEtcd) and _raised_by_another(before, after, d):
            recognized = False
    return recognized


def _raised_by_another(before: ClusterState, after: ClusterState, d: Deployment) -> bool:
    """A step that is not a sync of `d` by the Deployment controller raised the spec.replicas of
    one of `d`'s ReplicaSets, as stored, or gave `d` a ReplicaSet asking for pods (created one, or
    one adopted: a ReplicaSet that was not `d`'s counts as 0)."""
    ns, uid = d.metadata.namespace, d.metadata.uid
    was = _owned_sets(list(before.store.list("replicasets.apps", ns)), uid)
    now = _owned_sets(list(after.store.list("replicasets.apps", ns)), uid)
    return any((rs.spec.replicas or 0) > (old.spec.replicas or 0 if (old := was.get(n)) is not None else 0)
               for n, rs in now.items())


def _owned_pods(state: ClusterState, resource: str, key: str) -> set[str]:
    namespace, _, name = key.partition("/")
    owner = state.store.get(ObjectKey(resource, namespace, name))
    if owner is None:
        return set()
    return {p.metadata.name for p in state.store.list("pods", namespace)
            if isinstance(p, Pod) and (ref := controller_of(p)) is not None and ref.uid == owner.metadata.uid}


def timed_out_create(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                      violation: Violation) -> bool:
    """A sync of the ReplicaSet consumed an injected timeout (504: the write applied, the client
    told it failed) while it created one of the ReplicaSet's pods, and a later sync of it, whose pod
    cache had not yet seen that pod, created another; and the violation is theirs: without those
    extra pods the violating state keeps the property (`_without_holds`)."""
    rs_key = violation.named("ReplicaSet")
    return rs_key is not None and _without_holds(
        model, states[-1], violation, _created_again(states, trace, "replicaset", "replicasets.apps", rs_key))


def timed_out_daemon_create(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                             violation: Violation) -> bool:
    """`timed_out_create` for a DaemonSet: a sync created one of its pods with a timed-out create, and a
    later sync, whose pod cache had not yet seen that pod, created another (on the same node: the
    first one's node still looked empty); without those extra pods the property holds."""
    key = violation.named("DaemonSet")
    return key is not None and _without_holds(
        model, states[-1], violation, _created_again(states, trace, "daemonset", "daemonsets.apps", key))


def _created_again(states: Sequence[ClusterState], trace: Sequence[Action], controller: str, resource: str,
                   key: str) -> dict[ObjectKey, str]:
    """The extra pods (key → uid) of the race: some sync of `key` by `controller` consumed an
    injected 504 and created a pod, and a later sync, whose pod cache lacked that pod, created these."""
    namespace = key.partition("/")[0]
    extra: dict[ObjectKey, str] = {}
    syncs = [i for i, act in enumerate(trace) if _syncs(act, controller, key)]
    for n, i in enumerate(syncs):
        before, after = states[i], states[i + 1]
        timed_out = (before.armed_failures.get(CONTROLLER_MANAGER) == 504
                     and CONTROLLER_MANAGER not in after.armed_failures)
        created = _owned_pods(after, resource, key) - _owned_pods(before, resource, key)
        if not (timed_out and created):
            continue
        for j in syncs[n + 1:]:
            informer = states[j].informers.get(CONTROLLER_MANAGER)
            unseen = informer is not None and any(
                informer.get(ObjectKey("pods", namespace, pod)) is None for pod in created)
            if not unseen:
                continue
            for pod in _owned_pods(states[j + 1], resource, key) - _owned_pods(states[j], resource, key):
                made = states[j + 1].store.get(ObjectKey("pods", namespace, pod))
                if made is not None:
                    extra[ObjectKey("pods", namespace, pod)] = made.metadata.uid
    return extra


def _without_holds(model: ClusterModel, state: ClusterState, violation: Violation, extra: dict[ObjectKey, str]) -> bool:
    """Some of the race's `extra` pods are still stored in `state`, and without them the violated
    property holds there for the objects the violation names (it may still fail for others, later
    in its order: another ReplicaSet, another node): the violation is the race's own, not a later
    one (a user's pod, a scale-down that went wrong) that the race merely preceded."""
    store, removed = state.store, False
    for key, uid in extra.items():
        found = store.get(key)
        if found is not None and found.metadata.uid == uid:
            store, _ = store.remove(key)
            removed = True
    if not removed:
        return False
    rest = first_violation(model, attrs.evolve(state, store=store), select([violation.property]))
    return rest is None or rest.objects != violation.objects



def transition_lost_in_crash(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                              violation: Violation) -> bool:
    """With upstream's rule (`markPodsNotReadyOnTransitionOnly`), the controller manager crashed
    while the node the violation names had gone Unknown and its pods were not marked yet, and the
    node has not been Ready since: the restarted controller never sees that transition again."""
    if not model.parameter("markPodsNotReadyOnTransitionOnly"):
        return False
    node = violation.named("Node")
    crash = CrashComponent(CONTROLLER_MANAGER)
    return node is not None and any((act == crash or isinstance(act, CrashDuringReconcile))
                                    and node in nodelifecycle_memory(states[i]).pods_not_ready_pending
                                    and not any(_ready(state, node) for state in states[i:])
                                    for i, act in enumerate(trace))


def _ready(state: ClusterState, name: str) -> bool:
    """The stored node's Ready condition is True: once the node is Ready again, its next loss is a
    new transition the controller sees, and a violation after it is not the lost one's."""
    node = state.store.get(ObjectKey("nodes", "", name))
    return isinstance(node, Node) and any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
