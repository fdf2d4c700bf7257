"""The StatefulSet controller: stable pod identities `<set>-<ordinal>`, per-pod volumes, ordered
scaling and rolling updates.

Upstream: `pkg/controller/statefulset/stateful_set_control.go` (updateStatefulSet, processReplica,
processCondemned, computeReplicaStatus, updateStatefulSetStatus), `stateful_set_utils.go`
(newStatefulSetPod, updateIdentity, identityMatches, updateStorage, getPersistentVolumeClaims, isUnavailable,
completeRollingUpdate, inconsistentStatus), `stateful_pod_control.go` (CreateStatefulPod creates the
PVCs before the pod; ClaimsMatchRetentionPolicy, UpdatePodClaimForRetentionPolicy, PodClaimIsStale),
`stateful_set.go` (event handlers, getPodsForStatefulSet).
The pod of one ordinal (its name, identity labels, claims; the set's current revision) is built by
`kubeprop.model.controllers.statefulset_pod`; the plan of one sync (its requests) is a
`kubeprop.model.controllers.statefulset_sync.SyncPlan`.

- OrderedReady ("monotonic"): walk ordinals ascending and stop at the first pod that needs
  attention — Failed/Succeeded → delete (the replacement comes on a later sync, once the old pod
  is gone from the API); missing → create (PVCs first) and stop; terminating → stop; not Running
  and Ready (and available) → stop. Then scale down from the highest ordinal, only when every
  lower pod is healthy, one pod at a time, waiting for each to finish terminating. Parallel does
  the same without waiting (errors still stop the sync).
- Identity: the controller only creates a pod name absent from its cache, and etcd refuses a
  second object with the same name, so a terminating pod on an unreachable node (whose kubelet
  never confirms the kill) is not replaced until it is really gone from the API (force delete,
  PodGC after the Node is deleted, or the `node.kubernetes.io/out-of-service` taint: see podgc).
- Revisions (getStatefulSetRevisions, ApplyRevision): the update revision is the set's own
  template; the current revision is the one `status.currentRevision` names when it is known (the
  set's own, or the template the API server keeps for it: `kubeprop.model.api.revisions`), else
  the update revision. A missing replica is built by newVersionedStatefulSetPod: from the current
  revision's template, labelled with it, when its index is below the partition of a RollingUpdate
  set (upstream's `rollingUpdate == nil` branch, below `status.currentReplicas`, is unreachable
  after defaulting), else from the set's template at the update revision — so a canary's old pods
  evicted, deleted or lost with their node come back at the old revision, and with OnDelete every
  re-created pod takes the update revision. `status.currentRevision` moves to the update revision
  only when a RollingUpdate completes (completeRollingUpdate: every replica updated and ready);
  with OnDelete it stays (upstream too).
- Rolling update, the MaxUnavailableStatefulSet feature gate off (v1.33's default): pods with
  index ≥ partition whose `controller-revision-hash` label differs are deleted, highest first, one
  at a time, waiting while a pod at or above the one examined is unavailable; `maxUnavailable` is
  ignored even when stored. Gate on (`maxUnavailableStatefulSet`, on by default from v1.35):
  updateStatefulSetAfterInvariantEstablished — maxUnavailable (default 1, a percentage of the
  replicas rounded down, at least 1) less the unavailable replicas at any index, deleted highest
  first among the outdated ones at index ≥ partition (availability counts minReadySeconds:
  kubernetes PR #130909, v1.33).

Model choices (documented deviations):
- ControllerRevision objects are not modelled (`kubeprop.model.api.revisions`: the names, and
  the current revision's template kept with the set). The history limit (truncateHistory) and
  rollback's bump of a revision number change no pod and are left out.
- The PVC retention policy (`persistentVolumeClaimRetentionPolicy`, StatefulSetAutoDeletePVC, GA
  in v1.32) is kept as upstream keeps it (`kubeprop.model.controllers.statefulset_retention`): the
  claims get owner references to the set (`whenDeleted: Delete`, live ordinals) or to their pod
  (`whenScaled: Delete`, condemned ordinals, before the pod is deleted), written with updates, and
  the garbage collector deletes a claim once its owner is gone; a missing pod whose claim still
  names an earlier pod is not created until that claim is gone (PodClaimIsStale). The claims are
  bound by the PV controller and the scheduler (`kubeprop.model.controllers.persistentvolume`,
  `kubeprop.model.scheduler.volumebinding`).
- `spec.ordinals.start` (GA in v1.31) moves the range: the replicas are the ordinals start …
  start + replicas - 1 (`stateful_set_utils.go` getStartOrdinal, getEndOrdinal,
  podInOrdinalRange); a pod outside it is condemned. The slots below are *indices* into that
  range, as upstream's `replicas` slice, so `partition` counts from the first replica, not from
  ordinal 0, as upstream's rolling update does (`for target := len(replicas) - 1; target >=
  updateMin`).
- No periodic resync of the sets (v1.15 and later: kubernetes PR #75622 registers the set handler
  with `AddEventHandler`, no period; only the shared informers' 12–24 h resync is left, beyond any
  run). There is no claim handler either ("TODO: Watch volumes"), so a sync that returns without
  error while waiting on a claim is taken up only by the next event of the set or of its pods: a
  missing pod whose claim still names an earlier pod (PodClaimIsStale returns `true, nil`) waits
  after the garbage collector has deleted that claim — upstream behaviour, reported apart as
  `statefulset-stale-claim-stalls-until-resync` (`stale_claim_wait`). A claim being deleted when
  the pod is created is an error upstream (createPersistentVolumeClaims' aggregate error), retried
  by the rate-limited queue: the model requeues. `resync_period` (parameter
  `statefulSetResyncSeconds`, 0 by default) brings back the 30 s resync of v1.14 and before
  (`statefulSetResyncPeriod`, `kubeprop.model.controllers.resync`).
- UpdateStatefulPod only repairs the identity labels (hostname/subdomain/volumes of a pod are
  immutable, so upstream's update of them would be rejected anyway).
- Owned pods that stop being members (name does not parse as `<set>-<n>`) are not released.

The catalogue's `sts-split-brain` variant is `StatefulSetController(replace_terminating_pods=True)`:
a terminating pod in the ordinal range is treated as gone — force-deleted (grace 0, UID
precondition: the variant's own) and replaced in the same sync. The controller's other deletes go by
name with default options, as upstream's (`stateful_pod_control.go` realStatefulPodControlObjectManager
DeletePod: `Delete(ctx, pod.Name, metav1.DeleteOptions{})`). The API object disappears at once, but the kubelet
that runs the old container may not know yet (it is partitioned, or has not observed the
deletion), so the old container keeps running while the new pod with the same identity and the
same ReadWriteOnce claim is scheduled and started elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.apps import StatefulSet, StatefulSetStatus
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.revisions import revision_name
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Change, ChangeHandlers, Memoryless, Reconciliation
from kubeprop.model.controllers.deployment_util import scaled_value
from kubeprop.model.controllers.handlers import owned_change
from kubeprop.model.controllers.podutil import (
    CONTROLLER_MANAGER_USER,
    available_at,
    claim,
    is_controlled_by,
    pods_in,
    split_key,
)
from kubeprop.model.controllers.statefulset_pod import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    current_revision,
    parent_and_ordinal,
    start_ordinal,
)
from kubeprop.model.controllers.statefulset_retention import PodIdentity
from kubeprop.model.controllers.statefulset_sync import (
    SyncPlan,
    is_running_available,
    is_running_ready,
    is_terminating,
    is_unavailable,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView


def _pod_sets(pod: ApiObject, view: ObjectView) -> tuple[str, ...]:
    """getStatefulSetsForPod (GetPodStatefulSets): the sets of the pod's namespace whose selector matches it."""
    return tuple(
        f"{s.metadata.namespace}/{s.metadata.name}" for s in view.list("statefulsets.apps", pod.metadata.namespace)
        if isinstance(s, StatefulSet) and selector_matches(s.spec.selector, pod.metadata.labels)
    )


@attrs.frozen
class StatefulSetController(ChangeHandlers, Memoryless):
    """The StatefulSet controller as a `Controller` (see the module docstring); it keeps no memory
    (no expectations upstream).

    `replace_terminating_pods` (default False, upstream behaviour) is the sts-split-brain variant.
    """

    replace_terminating_pods: bool = False
    max_unavailable_gate: bool = attrs.field(default=False, metadata={"fingerprint": "omit-if-default"})
    """The MaxUnavailableStatefulSet feature gate (parameter `maxUnavailableStatefulSet`)."""
    resync_period: int = attrs.field(default=0, metadata={"fingerprint": "omit-if-default"})
    """The set handler's resync in seconds (parameter `statefulSetResyncSeconds`): 0, none, from
    v1.15 (kubernetes PR #75622); `STATEFULSET_RESYNC_SECONDS` (30) for v1.14 and before
    (`kubeprop.model.controllers.resync`)."""
    name: str = "statefulset"
    watches: tuple[str, ...] = ("statefulsets.apps", "pods", "persistentvolumeclaims")
    identity: str = CONTROLLER_MANAGER_USER

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The handlers NewStatefulSetController registers (`pkg/controller/statefulset/stateful_set.go`).
        StatefulSets: AddFunc, UpdateFunc (every update) and DeleteFunc enqueue the set; the
        handler is registered with `AddEventHandler`, no period of its own (v1.15 and later;
        before, `statefulSetResyncPeriod` 30 s: `resync_period`). Pods: addPod, updatePod, deletePod
        (`kubeprop.model.controllers.handlers`: the resolved controlling set, or for an orphan every
        set whose selector matches it, getStatefulSetsForPod). PersistentVolumeClaims: a lister only
        (`pvcListerSynced`), no handler ("TODO: Watch volumes"): a sync that waited on a claim
        without an error is not taken up by the claim's events."""
        obj = change.object
        if isinstance(obj, StatefulSet):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        if not isinstance(obj, Pod):
            return ()
        return owned_change(change, view, "statefulsets.apps", "StatefulSet", lambda pod: _pod_sets(pod, view))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncStatefulSet: claim pods, run updateStatefulSet, then write the status."""
        sync = self._sync(view, key, now)
        if sync is None:
            return Reconciliation(memory=memory)
        return Reconciliation(tuple(sync.requests), memory, sync.requeue)

    def stale_claim_wait(self, view: ObjectView, key: str, now: int) -> bool:
        """Whether a sync of `key` from `view` stops at a missing pod whose claim is stale
        (PodClaimIsStale): it returns without error, so nothing requeues the set."""
        sync = self._sync(view, key, now)
        return sync is not None and sync.stale_claim and not sync.requeue

    def _sync(self, view: ObjectView, key: str, now: int) -> SyncPlan | None:
        """The plan of one sync of `key` (requests, requeue), or None: the set is not cached."""
        namespace, name = split_key(key)
        sts = view.get(ObjectKey("statefulsets.apps", namespace, name))
        if not isinstance(sts, StatefulSet):
            return None
        members = [p for p in pods_in(view, namespace) if parent_and_ordinal(p.metadata.name)[0] == name]
        claimed = claim(sts, sts.spec.selector, members, "pods")
        pods = [p for p in claimed.owned if isinstance(p, Pod)]
        sync = SyncPlan(sts, view, now, revision_name(sts), *current_revision(sts), list(claimed.requests))
        replicas, condemned = self._partition(sts, pods)
        if sts.metadata.deletion_timestamp is None:
            self._update(sync, replicas, condemned)
        status = self._status(sync, [p for p in pods if parent_and_ordinal(p.metadata.name)[1] >= 0])
        if _inconsistent(sts.status, status):
            updated = evolve(sts, status=status)
            sync.requests.append(Request(verb="update-status", user=CONTROLLER_MANAGER_USER, obj=updated))
        return sync

    @staticmethod
    def _partition(sts: StatefulSet, pods: list[Pod]) -> tuple[dict[int, Pod], list[Pod]]:
        """Pods in the ordinal range [start, start + replicas) by index (ordinal - start); the
        others with an ordinal (condemned), highest ordinal first."""
        count = sts.spec.replicas if sts.spec.replicas is not None else 1
        start = start_ordinal(sts)
        replicas: dict[int, Pod] = {}
        condemned: list[Pod] = []
        for pod in pods:
            ordinal = parent_and_ordinal(pod.metadata.name)[1]
            if start <= ordinal < start + count:
                replicas[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        condemned.sort(key=lambda p: -parent_and_ordinal(p.metadata.name)[1])
        return replicas, condemned

    def _update(self, sync: SyncPlan, replicas: dict[int, Pod], condemned: list[Pod]) -> None:
        """updateStatefulSet after partitioning: replicas, the claims of condemned pods (their owner
        references, before any condemned pod is deleted: "Fix pod claims for condemned pods"), the
        condemned pods, then the rolling update."""
        count = sync.sts.spec.replicas if sync.sts.spec.replicas is not None else 1
        first_unavailable = self._first_unavailable(sync, replicas, condemned, count)
        slots: dict[int, Pod | None] = {i: replicas.get(i) for i in range(count)}
        for index in range(count):
            stop = self._process_replica(sync, slots, index)
            if sync.requeue or (stop and sync.monotonic):
                return
        for pod in condemned:
            sync.fix_claim_owners(PodIdentity(pod.metadata.name, pod.metadata.uid, condemned=True),
                                  parent_and_ordinal(pod.metadata.name)[1])
        for pod in condemned:
            if self._process_condemned(sync, pod, first_unavailable) and sync.monotonic:
                return
        if sync.sts.spec.update_strategy.type == "OnDelete":
            return
        if self.max_unavailable_gate:
            self._rolling_update_max_unavailable(sync, slots, count)
        else:
            self._rolling_update(sync, slots, count)

    @staticmethod
    def _first_unavailable(sync: SyncPlan, replicas: dict[int, Pod], condemned: list[Pod], count: int) -> Pod | None:
        """The lowest unavailable pod, replicas before condemned ones. A missing replica counts
        (upstream's placeholder pod); it is returned as None, which no condemned pod equals."""
        for index in range(count):
            pod = replicas.get(index)
            if pod is None or is_unavailable(pod, sync.min_ready, sync.now):
                return pod
        for pod in reversed(condemned):
            if is_unavailable(pod, sync.min_ready, sync.now):
                return pod
        return None

    def _process_replica(self, sync: SyncPlan, slots: dict[int, Pod | None], index: int) -> bool:
        """processReplica of the replica at `index` (ordinal start + index); True means "stop
        here" (only honoured in monotonic mode, except that a blocked PVC creation stops either
        way through `sync.requeue`). A missing pod whose claim still names an earlier pod of its
        name (PodClaimIsStale, `whenScaled: Delete`) is not created: the garbage collector is
        deleting that claim. The claims' owner references are fixed for a pending pod (with its
        missing claims) and, before its identity, for every existing pod in Parallel mode and for
        a healthy one in monotonic mode (ClaimsMatchRetentionPolicy, then UpdateStatefulPod: the
        monotonic-only waits come first upstream, the identity check under both policies)."""
        pod, ordinal = slots[index], start_ordinal(sync.sts) + index
        if pod is not None and pod.status.phase in ("Failed", "Succeeded"):
            if not is_terminating(pod):
                sync.delete(pod)
            return True
        if pod is not None and is_terminating(pod) and self.replace_terminating_pods:
            sync.force_delete(pod)
            pod = None
        if pod is None:
            if sync.claims_stale(ordinal):
                sync.stale_claim = True
                return True
            slots[index] = sync.create_pod(ordinal)
            return slots[index] is None or sync.monotonic
        identity = PodIdentity(pod.metadata.name, pod.metadata.uid, condemned=False)
        if pod.status.phase == "Pending":
            if not sync.create_claims(ordinal):
                return True
            sync.fix_claim_owners(identity, ordinal)
        if sync.monotonic and (is_terminating(pod) or not is_running_ready(pod)
                               or not is_running_available(pod, sync.min_ready, sync.now)):
            return True
        sync.fix_claim_owners(identity, ordinal)
        self._fix_identity(sync, pod, ordinal)
        return False

    @staticmethod
    def _fix_identity(sync: SyncPlan, pod: Pod, ordinal: int) -> None:
        """UpdateStatefulPod, restricted to the identity labels (see the module docstring): only
        when identityMatches fails — it checks the pod-name label, not the pod-index one
        (`stateful_set_utils.go`, v1.33) — and then updateIdentity sets both."""
        if pod.metadata.labels.get(POD_NAME_LABEL) == pod.metadata.name:
            return
        patch = {"metadata": {"labels": {POD_NAME_LABEL: pod.metadata.name, POD_INDEX_LABEL: str(ordinal)},
                              "resourceVersion": pod.metadata.resource_version}}
        sync.requests.append(Request(verb="patch", user=CONTROLLER_MANAGER_USER, resource="pods",
                                     namespace=pod.metadata.namespace, name=pod.metadata.name, patch=patch))

    @staticmethod
    def _process_condemned(sync: SyncPlan, pod: Pod, first_unavailable: Pod | None) -> bool:
        """processCondemned: wait for terminating pods; in monotonic mode only the first unhealthy
        pod may be deleted while it is unhealthy; delete one pod."""
        if is_terminating(pod):
            return True
        if sync.monotonic and pod is not first_unavailable and (
                not is_running_ready(pod) or not is_running_available(pod, sync.min_ready, sync.now)):
            return True
        sync.delete(pod)
        return True

    @staticmethod
    def _rolling_update(sync: SyncPlan, slots: dict[int, Pod | None], count: int) -> None:
        """Delete the highest-ordinal pod at index ≥ partition not at the update revision, one at
        a time, waiting while any such pod is unavailable."""
        rolling = sync.sts.spec.update_strategy.rolling_update
        update_min = (rolling.partition or 0) if rolling is not None else 0
        for index in range(count - 1, update_min - 1, -1):
            pod = slots.get(index)
            if pod is None:
                return
            if pod.metadata.labels.get(REVISION_LABEL) != sync.update_rev and not is_terminating(pod):
                sync.delete(pod)
                sync.current_delta -= 1
                return
            if is_unavailable(pod, sync.min_ready, sync.now):
                return

    @staticmethod
    def _rolling_update_max_unavailable(sync: SyncPlan, slots: dict[int, Pod | None], count: int) -> None:
        """updateStatefulSetAfterInvariantEstablished (the gate on): maxUnavailable less the
        unavailable replicas (any index; a missing one counts) outdated pods at index ≥ partition
        are deleted, highest first."""
        rolling = sync.sts.spec.update_strategy.rolling_update
        update_min, max_unavailable = 0, 1
        if rolling is not None:
            update_min = rolling.partition or 0
            max_unavailable = max(scaled_value(rolling.max_unavailable if rolling.max_unavailable is not None else 1,
                                               count, round_up=False), 1)
        unavailable = sum(1 for i in range(count) if (pod := slots.get(i)) is None
                          or is_unavailable(pod, sync.min_ready, sync.now))
        budget = max_unavailable - unavailable
        for index in range(count - 1, update_min - 1, -1):
            if budget <= 0:
                return
            pod = slots.get(index)
            if (pod is not None and pod.metadata.labels.get(REVISION_LABEL) != sync.update_rev
                    and not is_terminating(pod)):
                sync.delete(pod)
                sync.current_delta -= 1
                budget -= 1

    @staticmethod
    def _status(sync: SyncPlan, pods: list[Pod]) -> StatefulSetStatus:
        """computeReplicaStatus over the cached pods, then completeRollingUpdate."""
        sts = sync.sts
        current_rev = sync.current_rev
        live = [p for p in pods if not is_terminating(p)]
        status = StatefulSetStatus(
            observed_generation=sts.metadata.generation,
            replicas=len(pods),
            ready_replicas=sum(1 for p in pods if is_running_ready(p)),
            available_replicas=sum(1 for p in pods if is_running_available(p, sync.min_ready, sync.now)),
            current_replicas=sum(1 for p in live if p.metadata.labels.get(REVISION_LABEL) == current_rev)
            + sync.current_delta,
            updated_replicas=sum(1 for p in live if p.metadata.labels.get(REVISION_LABEL) == sync.update_rev),
            current_revision=current_rev, update_revision=sync.update_rev, collision_count=0,
            conditions=sts.status.conditions,
        )
        want = sts.spec.replicas if sts.spec.replicas is not None else 1
        if (sts.spec.update_strategy.type in ("", "RollingUpdate") and status.updated_replicas == want
                and status.ready_replicas == want and status.replicas == want):
            status = evolve(status, current_replicas=status.updated_replicas, current_revision=sync.update_rev)
        return status

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """When the sync is requeued by time alone, or None: upstream's syncStatefulSet enqueues the
        set again after minReadySeconds while its available replicas fall short of its replicas
        (`pkg/controller/statefulset/stateful_set.go` syncStatefulSet: `enqueueSSAfter(set,
        MinReadySeconds)`), a delayed requeue, not an immediate one. As for the ReplicaSet
        controller's (`replicaset.py` wakeup_at), the model wakes it when the first Running, Ready,
        not yet available pod becomes available: what the delayed sync is for. (An immediate
        requeue made the sync run again and again with the clock standing still, so a fair run
        never let the minReadySeconds pass: found by the generated campaign, seed 4 case 8.)"""
        namespace, name = split_key(key)
        sts = view.get(ObjectKey("statefulsets.apps", namespace, name))
        if not isinstance(sts, StatefulSet) or sts.spec.min_ready_seconds <= 0:
            return None
        ready = (p for p in pods_in(view, namespace) if parent_and_ordinal(p.metadata.name)[0] == name
                 and is_controlled_by(p, sts) and is_running_ready(p) and not is_terminating(p))
        return available_at(ready, sts.spec.min_ready_seconds, now)


def _inconsistent(old: StatefulSetStatus, new: StatefulSetStatus) -> bool:
    """inconsistentStatus: a status write is needed."""
    return (new.observed_generation > old.observed_generation or new.replicas != old.replicas
            or new.current_replicas != old.current_replicas or new.ready_replicas != old.ready_replicas
            or new.updated_replicas != old.updated_replicas or new.available_replicas != old.available_replicas
            or new.current_revision != old.current_revision or new.update_revision != old.update_revision)
