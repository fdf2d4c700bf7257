"""The StatefulSet controller's plan of one sync (`SyncPlan`: the requests it sends, in order, with
the status decrements upstream makes) and the pod states it reads (`stateful_set_utils.go`
isRunningAndReady, isRunningAndAvailable, isTerminating, isUnavailable; `stateful_pod_control.go`
CreateStatefulPod, DeleteStatefulPod). The controller that makes the plan is
`kubeprop.model.controllers.statefulset`.
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod, PodTemplateSpec
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, is_pod_available, is_pod_ready
from kubeprop.model.controllers.statefulset_pod import claim_objects, new_pod, start_ordinal
from kubeprop.model.controllers.statefulset_retention import PodIdentity, claim_owner_updates, pod_claims_stale
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView


def is_running_ready(pod: Pod) -> bool:
    """Running and Ready (`isRunningAndReady`)."""
    return pod.status.phase == "Running" and is_pod_ready(pod)


def is_running_available(pod: Pod, min_ready: int, now: int) -> bool:
    """Running and available `min_ready` seconds after Ready (`isRunningAndAvailable`)."""
    return pod.status.phase == "Running" and is_pod_available(pod, min_ready, now)


def is_terminating(pod: Pod) -> bool:
    """Being deleted (`isTerminating`: a deletionTimestamp)."""
    return pod.metadata.deletion_timestamp is not None


def is_unavailable(pod: Pod, min_ready: int, now: int) -> bool:
    """isUnavailable: not Running-and-available, or terminating (a not-yet-created pod counts)."""
    return not is_running_available(pod, min_ready, now) or is_terminating(pod)


@attrs.define
class SyncPlan:
    """The mutable plan of one sync: requests in order, and the status decrements upstream makes."""

    sts: StatefulSet
    view: ObjectView
    now: int
    update_rev: str
    current_rev: str
    current_template: PodTemplateSpec
    requests: list[Request] = attrs.field(factory=list)
    current_delta: int = 0
    requeue: bool = False
    retention_updated: set[str] = attrs.field(factory=set)
    stale_claim: bool = False
    """The sync stopped at a missing pod whose claim is stale (PodClaimIsStale: `true, nil`)."""

    @property
    def monotonic(self) -> bool:
        """OrderedReady (every policy but Parallel): one pod at a time, in order."""
        return self.sts.spec.pod_management_policy != "Parallel"

    @property
    def min_ready(self) -> int:
        """The set's minReadySeconds."""
        return self.sts.spec.min_ready_seconds

    def delete(self, pod: Pod) -> None:
        """DeleteStatefulPod: by name, default options (`stateful_pod_control.go` DeletePod), no
        precondition."""
        self.requests.append(Request(
            verb="delete", user=CONTROLLER_MANAGER_USER, resource="pods", namespace=pod.metadata.namespace,
            name=pod.metadata.name))

    def force_delete(self, pod: Pod) -> None:
        """The sts-split-brain variant's delete: grace 0, with the pod's UID as precondition."""
        self.requests.append(Request(
            verb="delete", user=CONTROLLER_MANAGER_USER, resource="pods", namespace=pod.metadata.namespace,
            name=pod.metadata.name, precondition_uid=pod.metadata.uid, grace_period_seconds=0))

    def create_claims(self, ordinal: int) -> bool:
        """createPersistentVolumeClaims: create every absent claim; False (stop, and requeue: the
        aggregate error) if one is being deleted."""
        blocked = False
        for pvc in claim_objects(self.sts, ordinal):
            cached = self.view.get(ObjectKey("persistentvolumeclaims", pvc.metadata.namespace, pvc.metadata.name))
            if cached is None:
                self.requests.append(Request(verb="create", user=CONTROLLER_MANAGER_USER, obj=pvc))
            elif cached.metadata.deletion_timestamp is not None:
                blocked = True
        if blocked:
            self.requeue = True
        return not blocked

    def create_pod(self, ordinal: int) -> Pod | None:
        """CreateStatefulPod: PVCs first, then the pod, then the owner references of the claims
        already cached (UpdatePodClaimForRetentionPolicy with the new pod, which has no UID yet: the
        claims created just now are not in the cache, so theirs are set on a later sync); None if a
        claim blocks creation."""
        if not self.create_claims(ordinal):
            return None
        pod = self.versioned_pod(ordinal)
        self.requests.append(Request(verb="create", user=CONTROLLER_MANAGER_USER, obj=pod))
        self.fix_claim_owners(PodIdentity(pod.metadata.name, "", condemned=False), ordinal)
        return pod

    def versioned_pod(self, ordinal: int) -> Pod:
        """newVersionedStatefulSetPod: at the current revision, from its template, below the
        partition of a RollingUpdate set (Go's `A && B || C`: the partition clause alone needs no
        RollingUpdate type, but validation allows `rollingUpdate` only with it); else at the
        update revision."""
        strategy = self.sts.spec.update_strategy
        rolling = strategy.rolling_update
        start = start_ordinal(self.sts)
        if ((strategy.type == "RollingUpdate" and rolling is None
             and ordinal < start + self.sts.status.current_replicas)
                or (rolling is not None and ordinal < start + (rolling.partition or 0))):
            current_set = evolve(self.sts, spec=evolve(self.sts.spec, template=self.current_template))
            return new_pod(current_set, ordinal, self.current_rev)
        return new_pod(self.sts, ordinal, self.update_rev)

    def fix_claim_owners(self, pod: PodIdentity, ordinal: int) -> None:
        """UpdatePodClaimForRetentionPolicy for one pod (`statefulset_retention.claim_owner_updates`)."""
        self.requests += claim_owner_updates(self.view, self.sts, pod, ordinal, self.retention_updated)

    def claims_stale(self, ordinal: int) -> bool:
        """PodClaimIsStale for the pod of `ordinal` about to be created."""
        return pod_claims_stale(self.view, self.sts, ordinal)
