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

This module holds the entries, the matching and the recognizers of an etcd restore's rewinds and of
zero-grace deletes; the other recognizers live by the component whose race they recognize:
`upstream_behaviour_controllers` (Deployment, ReplicaSet, node lifecycle), `_scheduler`,
`_kubelet` (creator-bound pods), `_releases` (releases other than v1.33), `_restore` (a restore
that skips part of the documented procedure) and `_statefulset` (a set waiting on a stale claim).
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Sequence

import attrs

from kubeprop.model.api.core import Endpoints
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.restore import RestoreEtcd
from kubeprop.model.cluster.twin import CORRECT
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Violation
from kubeprop.properties.upstream_behaviour_controllers import (
    CREATE_TIMEOUT_CITATIONS,
    CREATE_TIMEOUT_SUMMARY,
    DAEMON_CREATE_TIMEOUT_CITATIONS,
    DAEMON_CREATE_TIMEOUT_SUMMARY,
    STALE_LISTER_CITATIONS,
    STALE_LISTER_SUMMARY,
    TRANSITION_LOST_CITATIONS,
    TRANSITION_LOST_SUMMARY,
    stale_replicaset_lister,
    timed_out_create,
    timed_out_daemon_create,
    transition_lost_in_crash,
)
from kubeprop.properties.upstream_behaviour_jobs import (
    RELEASED_UNDELETED_CITATIONS,
    RELEASED_UNDELETED_SUMMARY,
    STALE_FINISHED_JOB_CITATIONS,
    STALE_FINISHED_JOB_SUMMARY,
    released_not_deleted,
    stale_finished_job_sync,
)
from kubeprop.properties.upstream_behaviour_kubelet import (
    CREATOR_BOUND_CITATIONS,
    CREATOR_BOUND_SUMMARY,
    UNATTACHED_RWO_CITATIONS,
    UNATTACHED_RWO_SUMMARY,
    creator_bound_pods_overcommit,
    unattached_read_write_once,
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
    RESTORE_WATCH_AHEAD_CITATIONS,
    RESTORE_WATCH_AHEAD_PROPERTIES,
    RESTORE_WATCH_AHEAD_SUMMARY,
    restore_left_pod_assumed,
    restore_stalls_until_resync,
    restore_watch_ahead_missed_events,
)
from kubeprop.properties.upstream_behaviour_scheduler import (
    BIND_RACE_CITATIONS,
    BIND_RACE_SUMMARY,
    BIND_TIMEOUT_CITATIONS,
    BIND_TIMEOUT_SUMMARY,
    STALE_NODE_CITATIONS,
    STALE_NODE_SUMMARY,
    bind_timeout_then_reused,
    decided_on_stale_node_cache,
    node_changed_after_decision,
)
from kubeprop.properties.upstream_behaviour_statefulset import (
    STALE_CLAIM_CITATIONS,
    STALE_CLAIM_PROPERTIES,
    STALE_CLAIM_SUMMARY,
    stale_claim_stall,
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


def _binding_rewound_by_restore(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                violation: Violation) -> bool:
    """An etcd restore took the pod the violation names back to a version not bound to a node
    the violation names, which had been bound there before the restore, and that node's kubelet
    still runs the pod's containers from before (`_still_runs`: the first copy, not yet stopped)."""
    pod_key = violation.named("Pod")
    nodes = set(violation.all_named("Node"))
    if pod_key is None or not nodes:
        return False
    namespace, _, name = pod_key.partition("/")
    key = ObjectKey("pods", namespace, name)
    for i, act in enumerate(trace):
        if isinstance(act, RestoreEtcd):
            before, after = states[i].store.get(key), states[i + 1].store.get(key)
            if isinstance(before, Pod) and before.spec.node_name in nodes and not (
                    isinstance(after, Pod) and after.spec.node_name == before.spec.node_name) \
                    and _still_runs(states[-1], before):
                return True
    return False


def _still_runs(state: ClusterState, pod: Pod) -> bool:
    """The kubelet of the node `pod` is bound to runs containers of that pod (its uid) in `state`:
    the race's first copy has not stopped, so a second copy running is the race's own."""
    kubelet = state.kubelets.get(pod.spec.node_name)
    runtime = kubelet.pods.get(f"{pod.metadata.namespace}/{pod.metadata.name}") if kubelet is not None else None
    return runtime is not None and runtime.uid == pod.metadata.uid and runtime.any_running


def _deleted_at_once_while_running(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                   violation: Violation) -> bool:
    """A pod the violation names, with `terminationGracePeriodSeconds: 0`, was removed from the API
    server in one step (a delete without a grace period of its own, so the pod's 0 applied) while
    bound to a node the violation names whose kubelet still ran its containers: its controller then
    created the pod anew elsewhere, while the old containers ran on — and still run in the violating
    state (a violation after they stopped is not this race's)."""
    pods = set(violation.all_named("Pod"))
    nodes = set(violation.all_named("Node"))
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
            if _still_runs(after, old) and _still_runs(states[-1], old):
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


KNOWN: tuple[UpstreamBehaviour, ...] = (
    UpstreamBehaviour(name="deployment-stale-replicaset-lister", property="rollout-surge-bound",
                      summary=STALE_LISTER_SUMMARY, citations=STALE_LISTER_CITATIONS,
                      recognize=stale_replicaset_lister),
    UpstreamBehaviour(name="replicaset-create-timeout", property="replicaset-no-overcreation",
                      summary=CREATE_TIMEOUT_SUMMARY, citations=CREATE_TIMEOUT_CITATIONS,
                      recognize=timed_out_create),
    UpstreamBehaviour(name="daemonset-create-timeout", property="daemonset-one-pod-per-node",
                      summary=DAEMON_CREATE_TIMEOUT_SUMMARY, citations=DAEMON_CREATE_TIMEOUT_CITATIONS,
                      recognize=timed_out_daemon_create),
    UpstreamBehaviour(name="job-stale-finished-sync", property="job-pods-counted",
                      summary=STALE_FINISHED_JOB_SUMMARY, citations=STALE_FINISHED_JOB_CITATIONS,
                      recognize=stale_finished_job_sync),
    UpstreamBehaviour(name="job-pod-released-not-deleted", property="job-pods-counted",
                      summary=RELEASED_UNDELETED_SUMMARY, citations=RELEASED_UNDELETED_CITATIONS,
                      recognize=released_not_deleted),
    *(UpstreamBehaviour(name="scheduler-bind-timeout", property=prop, summary=BIND_TIMEOUT_SUMMARY,
                        citations=BIND_TIMEOUT_CITATIONS, recognize=bind_timeout_then_reused)
      for prop in ("node-not-overcommitted", "scheduler-decisions-sound")),
    *(UpstreamBehaviour(name="scheduler-binds-after-node-change", property=prop, summary=BIND_RACE_SUMMARY,
                        citations=BIND_RACE_CITATIONS, recognize=node_changed_after_decision)
      for prop in ("scheduler-decisions-sound", "bindings-respect-hard-constraints")),
    *(UpstreamBehaviour(name="scheduler-decides-on-stale-node-cache", property=prop, summary=STALE_NODE_SUMMARY,
                        citations=STALE_NODE_CITATIONS, recognize=decided_on_stale_node_cache)
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
    UpstreamBehaviour(name="nodelifecycle-transition-lost-in-crash", property="pods-on-unknown-nodes-not-ready",
                      summary=TRANSITION_LOST_SUMMARY, citations=TRANSITION_LOST_CITATIONS,
                      recognize=transition_lost_in_crash),
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
    *(UpstreamBehaviour(name="statefulset-stale-claim-stalls-until-resync", property=prop,
                        summary=STALE_CLAIM_SUMMARY, citations=STALE_CLAIM_CITATIONS, recognize=stale_claim_stall)
      for prop in STALE_CLAIM_PROPERTIES),
    UpstreamBehaviour(name="creator-bound-pods-overcommit-node", property="node-not-overcommitted",
                      summary=CREATOR_BOUND_SUMMARY, citations=CREATOR_BOUND_CITATIONS,
                      recognize=creator_bound_pods_overcommit),
    UpstreamBehaviour(name="read-write-once-volume-not-attached", property="read-write-once-volume-on-one-node",
                      summary=UNATTACHED_RWO_SUMMARY, citations=UNATTACHED_RWO_CITATIONS,
                      recognize=unattached_read_write_once),
    *(UpstreamBehaviour(name="etcd-restore-watch-ahead-misses-events", property=prop,
                        summary=RESTORE_WATCH_AHEAD_SUMMARY, citations=RESTORE_WATCH_AHEAD_CITATIONS,
                        recognize=restore_watch_ahead_missed_events)
      for prop in RESTORE_WATCH_AHEAD_PROPERTIES),
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
