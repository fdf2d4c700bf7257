"""The StatefulSet controller's PVC retention policy (StatefulSetAutoDeletePVC, KEP-1847: beta and on
by default in v1.27, GA in v1.32): the owner references the controller keeps on the claims of a
set's pods, so that the garbage collector deletes a claim with the set (`whenDeleted: Delete`) or
with the pod a scale-down removes (`whenScaled: Delete`). The controller itself deletes no claim.

Upstream (v1.32+, where the references are controller references):
`pkg/controller/statefulset/stateful_set_utils.go` getPersistentVolumeClaimRetentionPolicy,
matchesRef, hasUnexpectedController, hasNonControllerOwner, isClaimOwnerUpToDate,
updateClaimOwnerRefForSetAndPod, hasOwnerRef, hasStaleOwnerRef, addControllerRef,
podInOrdinalRange; `stateful_pod_control.go` ClaimsMatchRetentionPolicy,
UpdatePodClaimForRetentionPolicy, PodClaimIsStale.

Which references a claim should carry, for a pod in the ordinal range ("live") and for one outside
it ("condemned", being scaled away):

| whenScaled / whenDeleted | live ordinal | condemned ordinal |
|---|---|---|
| Retain / Retain | none | none |
| Retain / Delete | the set | the set |
| Delete / Retain | none | the pod |
| Delete / Delete | the set | the pod |

Each reference is a controller reference with blockOwnerDeletion (`metav1.NewControllerRef`). A
claim naming the set or the pod under another UID (a "stale" reference: an earlier set or pod of
that name) is left alone; a claim another controller owns loses only the set's and the pod's
references. The claims are read from the controller manager's cache and written with an update
(PUT) carrying the cached resourceVersion, so a stale cache is refused with a conflict and the
sync is retried, as upstream's `UpdateClaim`.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.core import PersistentVolumeClaim
from kubeprop.model.api.meta import OwnerReference
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, new_controller_ref
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView

RETAIN = "Retain"
DELETE = "Delete"
SET_API_VERSION, SET_KIND = "apps/v1", "StatefulSet"
POD_API_VERSION, POD_KIND = "v1", "Pod"


@attrs.frozen
class PodIdentity:
    """The pod whose claims are checked, as the controller holds it: its name, its UID ("" for a
    pod not created yet, as upstream's `newVersionedStatefulSetPod` has none) and whether it is
    outside the set's ordinal range (`!podInOrdinalRange`: scaled down)."""

    name: str
    uid: str
    condemned: bool


@attrs.frozen
class RetentionPolicy:
    """getPersistentVolumeClaimRetentionPolicy: Retain for a field left unset."""

    when_deleted: str = RETAIN
    when_scaled: str = RETAIN

    @property
    def retains_all(self) -> bool:
        """Retain / Retain, the default: the claims carry no reference of the set or its pods."""
        return self.when_deleted == RETAIN and self.when_scaled == RETAIN


def retention_policy(sts: StatefulSet) -> RetentionPolicy:
    """The set's policy (defaulting has filled both fields; an unset policy is Retain / Retain)."""
    policy = sts.spec.persistent_volume_claim_retention_policy
    if not isinstance(policy, Mapping):
        return RetentionPolicy()
    return RetentionPolicy(when_deleted=policy.get("whenDeleted") or RETAIN,
                           when_scaled=policy.get("whenScaled") or RETAIN)


def _matches(ref: OwnerReference, api_version: str, kind: str, name: str) -> bool:
    """matchesRef: same group/version, kind and name (not UID)."""
    return ref.api_version == api_version and ref.kind == kind and ref.name == name


def _matches_set(ref: OwnerReference, sts: StatefulSet) -> bool:
    return _matches(ref, SET_API_VERSION, SET_KIND, sts.metadata.name)


def _matches_pod(ref: OwnerReference, pod: PodIdentity) -> bool:
    return _matches(ref, POD_API_VERSION, POD_KIND, pod.name)


def has_owner_ref(claim: PersistentVolumeClaim, uid: str) -> bool:
    """hasOwnerRef: a reference with the owner's UID (controller or not)."""
    return bool(uid) and any(ref.uid == uid for ref in claim.metadata.owner_references)


def has_stale_owner_ref(claim: PersistentVolumeClaim, api_version: str, kind: str, name: str, uid: str) -> bool:
    """hasStaleOwnerRef: the first reference naming the object (group/version, kind, name) has
    another UID than `uid`; for a pod not created yet (`uid` "") any such reference is stale."""
    for ref in claim.metadata.owner_references:
        if _matches(ref, api_version, kind, name):
            return ref.uid != uid
    return False


def has_unexpected_controller(claim: PersistentVolumeClaim, sts: StatefulSet, pod: PodIdentity) -> bool:
    """hasUnexpectedController: under a policy other than Retain / Retain, a reference naming the
    set or the pod under another UID, or a controller reference to anything else."""
    if retention_policy(sts).retains_all:
        return False
    for ref in claim.metadata.owner_references:
        if _matches_set(ref, sts):
            if ref.uid != sts.metadata.uid:
                return True
        elif _matches_pod(ref, pod):
            if ref.uid != pod.uid:
                return True
        elif ref.controller:
            return True
    return False


def has_non_controller_owner(claim: PersistentVolumeClaim, sts: StatefulSet, pod: PodIdentity) -> bool:
    """hasNonControllerOwner: the set or the pod owns the claim without being its controller."""
    uids = {sts.metadata.uid, pod.uid} - {""}
    return any(ref.uid in uids and not ref.controller for ref in claim.metadata.owner_references)


def claim_owner_up_to_date(claim: PersistentVolumeClaim, sts: StatefulSet, pod: PodIdentity) -> bool:
    """isClaimOwnerUpToDate: True when the claim's references already follow the policy (see the
    module docstring's table), or when they must not be touched (a stale reference)."""
    if (has_stale_owner_ref(claim, SET_API_VERSION, SET_KIND, sts.metadata.name, sts.metadata.uid)
            or has_stale_owner_ref(claim, POD_API_VERSION, POD_KIND, pod.name, pod.uid)):
        return True
    owned_by_set = has_owner_ref(claim, sts.metadata.uid)
    owned_by_pod = has_owner_ref(claim, pod.uid)
    if has_unexpected_controller(claim, sts, pod):
        return not (owned_by_set or owned_by_pod)
    if has_non_controller_owner(claim, sts, pod):
        return False
    want_set, want_pod = _wanted_owners(retention_policy(sts), pod.condemned)
    return owned_by_set == want_set and owned_by_pod == want_pod


def _wanted_owners(policy: RetentionPolicy, condemned: bool) -> tuple[bool, bool]:
    """(set, pod): the references the policy asks of a claim (the module docstring's table; the
    values are Retain or Delete, as validation allows no other)."""
    if policy.when_scaled == DELETE:
        return (not condemned and policy.when_deleted == DELETE), condemned
    return policy.when_deleted == DELETE, False


def updated_owner_refs(claim: PersistentVolumeClaim, sts: StatefulSet,
                       pod: PodIdentity) -> tuple[OwnerReference, ...]:
    """updateClaimOwnerRefForSetAndPod: the claim's references with the set's and the pod's
    scrubbed, then the wanted ones added as controller references (none if another controller
    owns the claim)."""
    unexpected = has_unexpected_controller(claim, sts, pod)
    refs = [r for r in claim.metadata.owner_references if not (_matches_set(r, sts) or _matches_pod(r, pod))]
    if unexpected:
        return tuple(refs)
    want_set, want_pod = _wanted_owners(retention_policy(sts), pod.condemned)
    if want_set and not any(r.uid == sts.metadata.uid for r in refs):
        refs.append(new_controller_ref(sts))
    if want_pod and not any(r.uid == pod.uid for r in refs):
        refs.append(OwnerReference(api_version=POD_API_VERSION, kind=POD_KIND, name=pod.name, uid=pod.uid,
                                   controller=True, block_owner_deletion=True))
    return tuple(refs)


def claim_is_stale(claim: PersistentVolumeClaim, sts: StatefulSet, pod_name: str) -> bool:
    """PodClaimIsStale for one claim of a pod about to be created: with `whenScaled: Delete`, a
    claim still naming an earlier pod of that name (its owner, gone or going: the garbage collector
    will delete the claim) must not be used by the new pod, which would lose its volume."""
    if retention_policy(sts).when_scaled == RETAIN:
        return False
    return has_stale_owner_ref(claim, POD_API_VERSION, POD_KIND, pod_name, "")


def cached_claims(view: ObjectView, sts: StatefulSet, ordinal: int) -> list[PersistentVolumeClaim]:
    """The claims of one ordinal in the cache, `<template>-<set>-<ordinal>`
    (getPersistentVolumeClaimName; the claim lister's GetClaim: a missing one is skipped,
    "continuing to pick up in next iteration")."""
    found = []
    for tpl in sts.spec.volume_claim_templates:
        name = f"{tpl.metadata.name}-{sts.metadata.name}-{ordinal}"
        cached = view.get(ObjectKey("persistentvolumeclaims", sts.metadata.namespace, name))
        if isinstance(cached, PersistentVolumeClaim):
            found.append(cached)
    return found


def claim_owner_updates(view: ObjectView, sts: StatefulSet, pod: PodIdentity, ordinal: int,
                        done: set[str]) -> list[Request]:
    """UpdatePodClaimForRetentionPolicy (`stateful_pod_control.go`): an update of each cached claim
    of the pod whose owner references are not up to date, as the controller manager. A claim named
    in `done` (updated earlier in the same sync; added to it here) is not checked again: a Parallel
    set's pending pod has its claims fixed twice upstream (createMissingPersistentVolumeClaims, then
    UpdateStatefulPod), the second against the same cache, a conflict that RetryOnConflict retries
    until the cache has the first update."""
    requests = []
    for cached in cached_claims(view, sts, ordinal):
        name = cached.metadata.name
        if name in done or claim_owner_up_to_date(cached, sts, pod):
            continue
        refs = updated_owner_refs(cached, sts, pod)
        updated = evolve(cached, metadata=evolve(cached.metadata, owner_references=refs))
        requests.append(Request(verb="update", user=CONTROLLER_MANAGER_USER, obj=updated))
        done.add(name)
    return requests


def pod_claims_stale(view: ObjectView, sts: StatefulSet, ordinal: int) -> bool:
    """PodClaimIsStale (`stateful_pod_control.go`) for the pod of `ordinal` about to be created."""
    name = f"{sts.metadata.name}-{ordinal}"
    return any(claim_is_stale(c, sts, name) for c in cached_claims(view, sts, ordinal))
