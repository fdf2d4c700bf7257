"""Known behaviours of real Kubernetes that violate a built-in property on the correct model.

A property states what a user may rely on; a few races of upstream Kubernetes itself break one.
When the correct model (no variant) reproduces such a race, the counterexample is true of the
real cluster — it is not caused by the user's manifests or controllers, and no change of theirs
removes it. Each entry of `KNOWN` names the property, recognizes the situation in a trace (not
just the property's name: a violation of the same property for another reason is still
reported as a violation) and carries the upstream source or issue it rests on. `kubeprop check`
and `kubeprop gate` report a violation an entry recognizes under its own heading, write its
counterexample as usual, and do not fail on it unless `--strict` is given.

Under a variant (`--variant V`) a violation is the variant's unless the variant plays no part in
it: its trace replays on the variant's correct twin — the same scenario, parameters and fault
budget, the variant's mechanism undone — to a violation of the same property, which an entry
recognizes there (`upstream_twin`). Then it is reported as on the correct model, with a line saying
it happens without the variant, and the search goes on for the variant's own bug.

An entry without a citation is not allowed (`UpstreamBehaviour` refuses it): a violation on the
correct model that upstream does not share is a model bug, to be fixed in the model.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Sequence

import attrs

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.api.core import Endpoints, Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.restore import RestoreEtcd
from kubeprop.model.cluster.twin import CORRECT
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.deployment_util import resolve_fenceposts
from kubeprop.model.controllers.nodelifecycle_health import memory as nodelifecycle_memory
from kubeprop.model.controllers.podutil import controller_of
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.scheduler.decide import NodeInfo
from kubeprop.model.state.actions import Action, CrashComponent, CrashDuringReconcile
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.registry import Violation
from kubeprop.properties.scheduling.encode import static_reason
from kubeprop.properties.upstream_behaviour_kubelet import (
    CREATOR_BOUND_CITATIONS,
    CREATOR_BOUND_SUMMARY,
    creator_bound_pods_overcommit,
)
from kubeprop.properties.upstream_behaviour_releases import (
    ENDPOINTS_STALE_CACHE_CITATIONS,
    ENDPOINTS_STALE_CACHE_SUMMARY,
    endpoints_skipped_on_stale_cache,
)
from kubeprop.properties.upstream_behaviour_restore import (
    RESTORE_ASSUMED_CITATIONS,
    RESTORE_ASSUMED_SUMMARY,
    RESTORE_RESYNC_CITATIONS,
    RESTORE_RESYNC_SUMMARY,
    restore_left_pod_assumed,
    restore_stalls_until_resync,
)
from kubeprop.properties.upstream_twin import judged, states_of, without_variant

__all__ = ["HEADING", "KNOWN", "UpstreamBehaviour", "explanation", "match", "states_of"]

HEADING = "upstream behaviour, not caused by your manifests or controllers"
"""The heading `kubeprop check` prints above the violations an entry recognizes."""

Recognizer = Callable[[ClusterModel, Sequence[ClusterState], Sequence[Action], Violation], bool]
"""Given the model, the states of the trace (initial state first, violating state last), the
trace's actions and the violation: True when the violation is this behaviour."""


def _cited(instance: UpstreamBehaviour, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
    if not value or not all(c.strip() for c in value):
        raise ValueError(f"upstream behaviour {instance.name!r} has no citation: a violation on the correct "
                         "model without an upstream source or issue is a model bug")


@attrs.frozen
class UpstreamBehaviour:
    """One known upstream race: the property it breaks, what happens, where upstream shows it."""

    name: str
    property: str
    summary: str
    citations: tuple[str, ...] = attrs.field(validator=_cited)
    recognize: Recognizer = attrs.field(eq=False, repr=False)


def _named(violation: Violation, kind: str) -> str | None:
    """The `ns/name` (or name) of the first object of `kind` a violation names."""
    return next((obj.partition(" ")[2] for obj in violation.objects if obj.partition(" ")[0] == kind), None)


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


def _stale_replicaset_lister(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                             violation: Violation) -> bool:
    """A sync of the Deployment, reading a ReplicaSet cache that was behind the store, created or
    scaled up a ReplicaSet so that the stored ReplicaSets ask for more than replicas + maxSurge
    pods, though they did not before the sync (within its cache's view the sync kept the bound)."""
    key = _named(violation, "Deployment")
    if key is None or model.instant_caches:
        return False
    namespace, _, name = key.partition("/")
    for before, after, act in zip(states, states[1:], trace, strict=False):
        if not _syncs(act, "deployment", key):
            continue
        d = after.store.get(ObjectKey("deployments.apps", namespace, name))
        if isinstance(d, Deployment) and _cache_behind(before, d) and not _over_surge(before, d) \
                and _over_surge(after, d):
            return True
    return False


def _node_changed_after_decision(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                 violation: Violation) -> bool:
    """The violating step is the scheduler's binding of the pod; its scheduling decision (the last
    `Schedule` of the pod, onto the same node) was sound on the node as stored then, and the node
    changed in between so that the pod no longer passes the node's own filters (cordoned, tainted,
    relabelled)."""
    found = _binding_and_decision(trace, violation)
    if found is None:
        return False
    pod_key, node_name, decision = found
    namespace, _, name = pod_key.partition("/")
    pod = states[-1].store.get(ObjectKey("pods", namespace, name))
    then = states[decision + 1].store.get(ObjectKey("nodes", "", node_name))
    now = states[-1].store.get(ObjectKey("nodes", "", node_name))
    if not (isinstance(pod, Pod) and isinstance(then, Node) and isinstance(now, Node)) or then == now:
        return False
    return static_reason(pod, NodeInfo.of(then)) is None and static_reason(pod, NodeInfo.of(now)) is not None


def _binding_and_decision(trace: Sequence[Action], violation: Violation) -> tuple[str, str, int] | None:
    """(pod, node, index of the decision) when the violating step is the scheduler's binding of
    the pod the violation names onto the node it names, decided by the pod's last `Schedule`."""
    pod_key, node_name = _named(violation, "Pod"), _named(violation, "Node")
    if not trace or pod_key is None or node_name is None:
        return None
    bind = trace[-1]
    if not (isinstance(bind, Bind) and bind.pod == pod_key):
        return None
    decision = next((i for i in range(len(trace) - 2, -1, -1)
                     if isinstance(trace[i], Schedule) and getattr(trace[i], "pod", None) == pod_key), None)
    if decision is None or getattr(trace[decision], "node", None) != node_name:
        return None
    return pod_key, node_name, decision


def _decided_on_stale_node_cache(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                 violation: Violation) -> bool:
    """The violating step is the scheduler's binding of the pod; its scheduling decision (the last
    `Schedule` of the pod, onto the same node) was taken while the scheduler's node cache held an
    older version of the node than the store, one the pod passes the node's own filters on, though
    the node as stored at the binding fails them (tainted, cordoned, relabelled before the decision,
    but not yet seen by the scheduler's informer)."""
    found = _binding_and_decision(trace, violation)
    if found is None or model.instant_caches:
        return False
    pod_key, node_name, decision = found
    informer = states[decision].informers.get(getattr(trace[decision], "scheduler", ""))
    if informer is None:
        return False
    namespace, _, name = pod_key.partition("/")
    node = ObjectKey("nodes", "", node_name)
    pod = states[-1].store.get(ObjectKey("pods", namespace, name))
    cached, stored, now = informer.get(node), states[decision].store.get(node), states[-1].store.get(node)
    if not (isinstance(pod, Pod) and isinstance(cached, Node) and isinstance(stored, Node) and isinstance(now, Node)):
        return False
    if cached.metadata.resource_version == stored.metadata.resource_version:
        return False
    return static_reason(pod, NodeInfo.of(cached)) is None and static_reason(pod, NodeInfo.of(now)) is not None


def _owned_pods(state: ClusterState, rs_key: str) -> set[str]:
    namespace, _, name = rs_key.partition("/")
    rs = state.store.get(ObjectKey("replicasets.apps", namespace, name))
    if not isinstance(rs, ReplicaSet):
        return set()
    return {p.metadata.name for p in state.store.list("pods", namespace)
            if isinstance(p, Pod) and (ref := controller_of(p)) is not None and ref.uid == rs.metadata.uid}


def _timed_out_create(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                      violation: Violation) -> bool:
    """A sync of the ReplicaSet consumed an injected timeout (504: the write applied, the client
    told it failed) while it created one of the ReplicaSet's pods, and a later sync of it, whose pod
    cache had not yet seen that pod, created another."""
    rs_key = _named(violation, "ReplicaSet")
    if rs_key is None:
        return False
    syncs = [i for i, act in enumerate(trace) if _syncs(act, "replicaset", rs_key)]
    for n, i in enumerate(syncs):
        before, after = states[i], states[i + 1]
        timed_out = (before.armed_failures.get(CONTROLLER_MANAGER) == 504
                     and CONTROLLER_MANAGER not in after.armed_failures)
        created = _owned_pods(after, rs_key) - _owned_pods(before, rs_key)
        if not (timed_out and created):
            continue
        for j in syncs[n + 1:]:
            informer = states[j].informers.get(CONTROLLER_MANAGER)
            unseen = informer is not None and any(
                informer.get(ObjectKey("pods", rs_key.partition("/")[0], pod)) is None for pod in created)
            if unseen and _owned_pods(states[j + 1], rs_key) - _owned_pods(states[j], rs_key):
                return True
    return False


def _bind_timeout_then_reused(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                              violation: Violation) -> bool:
    """A binding of some pod onto the violation's node timed out after it was written (504): the
    scheduler forgot the pod; later it assumed another pod onto that node while its pod cache still
    showed the first one unbound."""
    node = _named(violation, "Node")
    if node is None:
        return False
    for i, act in enumerate(trace):
        if not isinstance(act, Bind):
            continue
        before, after = states[i], states[i + 1]
        namespace, _, name = act.pod.partition("/")
        bound = after.store.get(ObjectKey("pods", namespace, name))
        if not (before.armed_failures.get(act.scheduler) == 504 and act.scheduler not in after.armed_failures
                and isinstance(bound, Pod) and bound.spec.node_name == node):
            continue
        for j in range(i + 1, len(trace)):
            later = trace[j]
            informer = states[j].informers.get(act.scheduler)
            if isinstance(later, Schedule) and later.scheduler == act.scheduler and later.pod != act.pod \
                    and later.node == node and informer is not None:
                cached = informer.get(ObjectKey("pods", namespace, name))
                if isinstance(cached, Pod) and not cached.spec.node_name:
                    return True
    return False


def _transition_lost_in_crash(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                              violation: Violation) -> bool:
    """With upstream's rule (`markPodsNotReadyOnTransitionOnly`), the controller manager crashed
    while the node the violation names had gone Unknown and its pods were not marked yet: the
    restarted controller never sees that transition again."""
    if not model.parameter("markPodsNotReadyOnTransitionOnly"):
        return False
    node = _named(violation, "Node")
    crash = CrashComponent(CONTROLLER_MANAGER)
    return node is not None and any((act == crash or isinstance(act, CrashDuringReconcile))
                                    and node in nodelifecycle_memory(states[i]).pods_not_ready_pending
                                    for i, act in enumerate(trace))


def _binding_rewound_by_restore(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                violation: Violation) -> bool:
    """An etcd restore took the pod the violation names back to a version not bound to a node
    the violation names, which had been bound there before the restore (so its kubelet may run it)."""
    pod_key = _named(violation, "Pod")
    nodes = {obj.partition(" ")[2] for obj in violation.objects if obj.partition(" ")[0] == "Node"}
    if pod_key is None or not nodes:
        return False
    namespace, _, name = pod_key.partition("/")
    key = ObjectKey("pods", namespace, name)
    for i, act in enumerate(trace):
        if isinstance(act, RestoreEtcd):
            before, after = states[i].store.get(key), states[i + 1].store.get(key)
            if isinstance(before, Pod) and before.spec.node_name in nodes and not (
                    isinstance(after, Pod) and after.spec.node_name == before.spec.node_name):
                return True
    return False


def _deleted_at_once_while_running(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                   violation: Violation) -> bool:
    """A pod the violation names, with `terminationGracePeriodSeconds: 0`, was removed from the API
    server in one step (a delete without a grace period of its own, so the pod's 0 applied) while
    bound to a node the violation names whose kubelet still ran its containers: its controller then
    created the pod anew elsewhere, while the old containers ran on."""
    pods = {obj.partition(" ")[2] for obj in violation.objects if obj.partition(" ")[0] == "Pod"}
    nodes = {obj.partition(" ")[2] for obj in violation.objects if obj.partition(" ")[0] == "Node"}
    for before, after in itertools.pairwise(states):
        for pod_key in pods:
            namespace, _, name = pod_key.partition("/")
            key = ObjectKey("pods", namespace, name)
            old, new = before.store.get(key), after.store.get(key)
            if not isinstance(old, Pod) or old.spec.termination_grace_period_seconds != 0 \
                    or old.metadata.deletion_timestamp is not None or (nodes and old.spec.node_name not in nodes):
                continue
            if isinstance(new, Pod) and new.metadata.uid == old.metadata.uid:
                continue
            kubelet = after.kubelets.get(old.spec.node_name)
            runtime = kubelet.pods.get(pod_key) if kubelet is not None else None
            if runtime is not None and runtime.uid == old.metadata.uid and runtime.any_running:
                return True
    return False


_ZERO_GRACE_SUMMARY = (
    "A pod whose terminationGracePeriodSeconds is 0 is removed from the API server at once by any delete "
    "that names no grace period (the taint eviction controller's, the disruption of a drain, a user's "
    "kubectl delete): the API server does not wait for the kubelet to confirm that its containers stopped. "
    "A StatefulSet then creates the pod of the same identity again, possibly on another node, while the "
    "kubelet that ran the old one (partitioned, or not yet synced) keeps its containers: the identity runs "
    "twice, its ReadWriteOnce volume is mounted on two nodes. Kubernetes documents the setting as unsafe for "
    "StatefulSet pods.")
_ZERO_GRACE_CITATIONS = (
    "pkg/registry/core/pod/strategy.go CheckGracefulDelete (no grace period in the options: the pod's "
    "terminationGracePeriodSeconds, 0 deletes immediately); staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go "
    "BeforeDelete",
    "pkg/controller/tainteviction/taint_eviction.go deletePodHandler (addConditionAndDeletePod: "
    "metav1.DeleteOptions{} without a grace period)",
    "https://kubernetes.io/docs/tasks/run-application/force-delete-stateful-set-pod/ ('the practice of setting a "
    "pod.Spec.TerminationGracePeriodSeconds of 0 seconds is unsafe and strongly discouraged for StatefulSet Pods')",
)


def _revision_rewound(states: Sequence[ClusterState], trace: Sequence[Action]) -> bool:
    """An etcd restore in the trace took the store's revision back: the snapshot's revision, plus
    any `--bump-revision`, is below the revision before the restore (so resourceVersions issued
    before it are issued again)."""
    return any(isinstance(act, RestoreEtcd) and states[i + 1].store.revision < states[i].store.revision
               for i, act in enumerate(trace))


def _rewound_before_violation(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                              violation: Violation) -> bool:
    return _revision_rewound(states, trace)


ENDPOINTS_LOOP_STEPS = 500
"""Steps of the fair continuation `_endpoints_tracker_loops` follows: one that has not settled by
then and ends with the Endpoints controller's tracker meeting its Endpoints' resourceVersion is in
the loop (in the runs found, it starts within a few steps)."""


def _tracker_meets_endpoints(state: ClusterState) -> bool:
    """The Endpoints controller's stale-version tracker holds, for some Service, the
    resourceVersion that Service's Endpoints object has in the store now."""
    found = state.controllers.get("endpoints")
    tracker = getattr(found, "memory", None)
    if not isinstance(tracker, FrozenMap):
        return False
    for key, version in tracker.items():
        namespace, _, name = str(key).partition("/")
        endpoints = state.store.get(ObjectKey("endpoints", namespace, name))
        if isinstance(endpoints, Endpoints) and endpoints.metadata.resource_version == version:
            return True
    return False


def _endpoints_tracker_loops(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                             violation: Violation) -> bool:
    """A restore took the revision back, and the Endpoints controller's tracker meets the current
    resourceVersion of an Endpoints object — where the violating state stands, or where its fair
    continuation stands after `ENDPOINTS_LOOP_STEPS` without settling."""
    if not _revision_rewound(states, trace):
        return False
    if _tracker_meets_endpoints(states[-1]):
        return True
    run = settle(model, states[-1], max_steps=ENDPOINTS_LOOP_STEPS)
    return run.exhausted and _tracker_meets_endpoints(run.state)


_RESTORE_CITATIONS = (
    "https://github.com/etcd-io/etcd/issues/16028 (restoring etcd without breaking the API's guarantees: after "
    "`etcdutl snapshot restore` the revision goes back to the snapshot's, so resourceVersions are reissued)",
    "https://github.com/etcd-io/etcd/pull/16029 (`--bump-revision`, 'so that clients shouldn't see decreasing "
    "revisions'; with `--mark-compacted`) and "
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster",
)
_RESTORE_HINT = (
    " The scenario restores with etcdutl's defaults; `etcdRestoreBumpRevision`, `etcdRestoreMarkCompacted` and "
    "`etcdRestoreRestartsComponents` model the documented procedure (docs/restore.md).")


_BIND_TIMEOUT_SUMMARY = (
    "A binding that times out after the API server wrote it (504) is a failure to the scheduler: it "
    "forgets the assumed pod (ForgetPod) and does not requeue it once its informer shows it bound, but "
    "until then its cache counts the node's resources as free, and it may place another pod there; "
    "the kubelet then rejects the pod that does not fit (OutOfcpu).")
_BIND_TIMEOUT_CITATIONS = (
    "pkg/scheduler/schedule_one.go handleBindingCycleError (ForgetPod) and handleSchedulingFailure ('the pod "
    "may have been bound successfully, but timed out returning its response to the scheduler')",
    "pkg/scheduler/backend/cache/cache.go ForgetPod, AddPod",
)

_BIND_RACE_SUMMARY = (
    "The scheduler decides in its scheduling cycle and binds in a separate binding cycle without "
    "filtering again, and the API server's binding checks only the pod: a node cordoned, tainted or "
    "relabelled between the decision and the binding still gets the pod (the kubelet admits it: only "
    "NoExecute taints are checked at admission).")
_BIND_RACE_CITATIONS = (
    "pkg/scheduler/schedule_one.go scheduleOne (schedulingCycle, then bindingCycle in its own goroutine; "
    "no filter runs after assume)",
    "pkg/registry/core/pod/storage/storage.go BindingREST setPodNodeAndMetadata (checks the pod's deletion, "
    "nodeName and scheduling gates only)",
)

_STALE_NODE_SUMMARY = (
    "The scheduler filters nodes on a snapshot of its own cache, which its node informer fills: a node "
    "tainted, cordoned or relabelled in the API server whose update has not yet reached that informer "
    "still passes the filters, and the binding (which the API server checks only against the pod) puts "
    "the pod there; the kubelet admits it (only NoExecute taints are checked at admission).")
_STALE_NODE_CITATIONS = (
    "pkg/scheduler/schedule_one.go schedulePod (sched.Cache.UpdateSnapshot: filters run on the scheduler "
    "cache's snapshot); pkg/scheduler/eventhandlers.go updateNodeInCache (the node informer fills the cache)",
    "pkg/registry/core/pod/storage/storage.go BindingREST setPodNodeAndMetadata (checks the pod's deletion, "
    "nodeName and scheduling gates only)",
)

KNOWN: tuple[UpstreamBehaviour, ...] = (
    UpstreamBehaviour(
        name="deployment-stale-replicaset-lister",
        property="rollout-surge-bound",
        summary=(
            "The Deployment controller sizes a new ReplicaSet from its ReplicaSet informer cache and keeps no "
            "expectations for ReplicaSets: when a rollout follows a sync whose ReplicaSet write has not yet "
            "reached that cache, it does not see the earlier ReplicaSet, counts 0 current replicas in "
            "NewRSNewReplicas and creates the new ReplicaSet at full size, so the Deployment's ReplicaSets "
            "ask for more than replicas + maxSurge pods until the cache catches up and the old one is "
            "scaled down."),
        citations=(
            "pkg/controller/deployment/deployment_controller.go getReplicaSetsForDeployment (dc.rsLister; "
            "the DeploymentController has no expectations)",
            "pkg/controller/deployment/sync.go getNewReplicaSet; "
            "pkg/controller/deployment/util/deployment_util.go NewRSNewReplicas",
            "https://github.com/kubernetes/kubernetes/issues/22061 (expectations in the Deployment controller, "
            "closed without them)",
        ),
        recognize=_stale_replicaset_lister,
    ),
    UpstreamBehaviour(
        name="replicaset-create-timeout",
        property="replicaset-no-overcreation",
        summary=(
            "A pod create that times out after the API server wrote the pod (504) is a failure to the "
            "ReplicaSet controller: it lowers its expectations for it as for a create that never happened "
            "and requeues the ReplicaSet, and the next sync, whose pod cache has not yet seen the pod, "
            "creates another; the extra pod is deleted once the cache catches up."),
        citations=(
            "pkg/controller/replicaset/replica_set.go manageReplicas (slowStartBatch; skipped and failed creates "
            "lower the expectations: 'the informer won't observe this pod')",
            "https://github.com/kubernetes/kubernetes/pull/86140 (timeouts no longer swallowed; the review notes "
            "the pod may have been created) and https://github.com/kubernetes/kubernetes/issues/67662",
        ),
        recognize=_timed_out_create,
    ),
    *(UpstreamBehaviour(name="scheduler-bind-timeout", property=prop, summary=_BIND_TIMEOUT_SUMMARY,
                        citations=_BIND_TIMEOUT_CITATIONS, recognize=_bind_timeout_then_reused)
      for prop in ("node-not-overcommitted", "scheduler-decisions-sound")),
    *(UpstreamBehaviour(name="scheduler-binds-after-node-change", property=prop, summary=_BIND_RACE_SUMMARY,
                        citations=_BIND_RACE_CITATIONS, recognize=_node_changed_after_decision)
      for prop in ("scheduler-decisions-sound", "bindings-respect-hard-constraints")),
    *(UpstreamBehaviour(name="scheduler-decides-on-stale-node-cache", property=prop, summary=_STALE_NODE_SUMMARY,
                        citations=_STALE_NODE_CITATIONS, recognize=_decided_on_stale_node_cache)
      for prop in ("scheduler-decisions-sound", "bindings-respect-hard-constraints")),
    *(UpstreamBehaviour(name="zero-grace-pod-deleted-while-running", property=prop, summary=_ZERO_GRACE_SUMMARY,
                        citations=_ZERO_GRACE_CITATIONS, recognize=_deleted_at_once_while_running)
      for prop in ("one-running-pod-per-identity", "read-write-once-volume-on-one-node")),
    UpstreamBehaviour(
        name="etcd-restore-rewinds-binding",
        property="one-running-pod-per-identity",
        summary=(
            "An etcd restore, even with the documented procedure, takes a pod bound after the snapshot back to "
            "its unbound version; the scheduler binds it again, possibly to another node, while the kubelet that "
            "started it keeps its containers until its pod watch, relisting after the restore, shows the pod no "
            "longer bound there. Until then the pod runs on two nodes."),
        citations=(
            "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster "
            "(the restore rewinds every object to the snapshot; restart components so they do not rely on stale data)",
            "pkg/kubelet/kubelet.go HandlePodRemoves (a pod is killed once the kubelet's pod source no longer lists it "
            "on its node)",
        ),
        recognize=_binding_rewound_by_restore,
    ),
    UpstreamBehaviour(
        name="etcd-restore-rewinds-resource-versions",
        property="resource-versions-monotonic",
        summary=(
            "An etcd restore without --bump-revision takes the revision back to the snapshot's: a client that "
            "saw a later resourceVersion before the restore lists or watches at an older one after it."
            + _RESTORE_HINT),
        citations=_RESTORE_CITATIONS,
        recognize=_rewound_before_violation,
    ),
    UpstreamBehaviour(
        name="etcd-restore-reissues-endpoints-version",
        property="settles",
        summary=(
            "The Endpoints controller remembers the resourceVersion its last update of a Service's Endpoints "
            "replaced and takes its cache for out of date while the cached Endpoints has that version (the "
            "tracker compares by equality). An etcd restore without --bump-revision issues that version again, "
            "so every sync of the Service requeues, forever, until the controller manager restarts."
            + _RESTORE_HINT),
        citations=(
            "pkg/controller/endpoint/endpoints_tracker.go IsStale (equal resourceVersion); "
            "pkg/controller/endpoint/endpoints_controller.go syncService ('endpoints informer cache is out of date')",
            *_RESTORE_CITATIONS,
        ),
        recognize=_endpoints_tracker_loops,
    ),
    UpstreamBehaviour(
        name="nodelifecycle-transition-lost-in-crash",
        property="pods-on-unknown-nodes-not-ready",
        summary=(
            "The node lifecycle controller marks a node's pods not Ready only when it sees the node's Ready "
            "condition leave True, and remembers a node whose pods it has yet to mark only in memory "
            "(nodesToRetry): a controller-manager crash between marking the node Unknown and marking its pods "
            "loses that, and the restarted controller, which finds the node already Unknown, never marks them. "
            "The model follows upstream here only with markPodsNotReadyOnTransitionOnly: true (docs/release.md)."),
        citations=(
            "pkg/controller/nodelifecycle/node_lifecycle_controller.go monitorNodeHealth (MarkPodsNotReady on the "
            "Ready→not-Ready transition; nodesToRetry)",
            "https://github.com/kubernetes/kubernetes/issues/50067 and "
            "https://github.com/kubernetes/kubernetes/issues/135205 (open)",
        ),
        recognize=_transition_lost_in_crash,
    ),
    *(UpstreamBehaviour(name="endpoints-stale-cache-before-v1.31", property=prop,
                        summary=ENDPOINTS_STALE_CACHE_SUMMARY, citations=ENDPOINTS_STALE_CACHE_CITATIONS,
                        recognize=endpoints_skipped_on_stale_cache)
      for prop in ("endpoints-match-ready-pods", "endpoints-ready-pods")),
    *(UpstreamBehaviour(name="etcd-restore-leaves-pod-assumed", property=prop, summary=RESTORE_ASSUMED_SUMMARY,
                        citations=RESTORE_ASSUMED_CITATIONS, recognize=restore_left_pod_assumed)
      for prop in ("schedulable-pods-bound", "deployments-complete", "workloads-ready")),
    *(UpstreamBehaviour(name="etcd-restore-stalls-until-resync", property=prop, summary=RESTORE_RESYNC_SUMMARY,
                        citations=RESTORE_RESYNC_CITATIONS, recognize=restore_stalls_until_resync)
      for prop in ("deployments-complete", "workloads-ready")),
    UpstreamBehaviour(name="creator-bound-pods-overcommit-node", property="node-not-overcommitted",
                      summary=CREATOR_BOUND_SUMMARY, citations=CREATOR_BOUND_CITATIONS,
                      recognize=creator_bound_pods_overcommit),
)
"""Every known upstream behaviour, in the order they are matched."""


def match(model: ClusterModel, violation: Violation, trace: Sequence[Action],
          known: Sequence[UpstreamBehaviour] = KNOWN) -> UpstreamBehaviour | None:
    """The known upstream behaviour this violation (reached by `trace` from the initial state of
    `model`) is, or None. On a variant's model, only one the variant plays no part in: the trace
    replays on the correct twin to a violation of the same property and an entry recognizes it
    there, on the twin's states (`upstream_twin.judged`); any other violation under a variant is the
    variant's. The twin is built only when some entry names the violated property."""
    candidates = [b for b in known if b.property == violation.property]
    if not candidates:
        return None
    on = judged(model, violation, trace)
    if on is None:  # a trace that does not replay (on the twin, to the violation) is not recognized
        return None
    return next((b for b in candidates if b.recognize(on.model, on.states, trace, on.violation)), None)


def explanation(behaviour: UpstreamBehaviour, width: int = 96, variant: str = CORRECT) -> tuple[str, ...]:
    """The lines `kubeprop check` prints under a violation that is `behaviour`: what happens, then
    (found under a `variant`) that it happens without the variant too, then each citation."""
    lines = textwrap.wrap(f"{behaviour.name}: {behaviour.summary}", width)
    also = () if variant == CORRECT else tuple(textwrap.wrap(without_variant(variant), width, break_on_hyphens=False))
    return (*lines, *also, *(f"upstream: {c}" for c in behaviour.citations))
