"""Pod and controller-reference helpers shared by the workload controllers.

Each rule cites its upstream source:

- `is_pod_active`: `pkg/controller/controller_utils.go` IsPodActive;
- `is_pod_available`: `pkg/api/v1/pod/util.go` IsPodAvailable (with `is_pod_ready` and
  `pod_ready_condition`, IsPodReady and GetPodReadyCondition, which live in `kubeprop.model.api.pod`
  for the API server's eviction too and are importable from here);
- `new_controller_ref`, `controller_of`, `is_controlled_by`: `metav1.NewControllerRef`,
  `metav1.GetControllerOf`, `metav1.IsControlledBy` (`apimachinery/pkg/apis/meta/v1/controller_ref.go`);
- `claim`: `pkg/controller/controller_ref_manager.go` BaseControllerRefManager.ClaimObject with
  AdoptPod / ReleasePod / AdoptReplicaSet / ReleaseReplicaSet. Upstream adopts and releases with a
  strategic merge patch that merges `ownerReferences` by UID; the model's PATCH verb is a JSON
  merge patch (lists are replaced), so the patch carries the object's whole reference list as
  the controller's cache shows it, with the controller's reference added or removed;
- `pod_template_object`: `pkg/controller/controller_utils.go` GetPodFromTemplate (labels,
  annotations and finalizers copied from the template, generateName `<owner>-`, the controller
  reference as the only owner reference);
- `cache_revision`: how far a component's cache of one resource has read the event stream
  (used for expectations: a pod's ADD event has been delivered iff the cache's pod revision is at
  least the pod's creation revision).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ApiObject, ObjectKey, kind_info
from kubeprop.model.api.pod import Pod, PodTemplateSpec
from kubeprop.model.api.pod import is_pod_ready as is_pod_ready
from kubeprop.model.api.pod import pod_ready_condition as pod_ready_condition
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.api.server import Request
from kubeprop.model.evolve import evolve
from kubeprop.model.state.cluster import pod_key as _pod_key
from kubeprop.model.state.informer import ObjectView

CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
"""The identity every kube-controller-manager controller writes as."""


def pod_key(obj: ApiObject) -> str:
    """`namespace/name` (`pkg/controller/controller_utils.go` PodKey; cache.MetaNamespaceKeyFunc)."""
    return _pod_key(obj)


def split_key(key: str) -> tuple[str, str]:
    """`namespace/name` → (namespace, name); a key without `/` is cluster-scoped."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def is_pod_active(pod: Pod) -> bool:
    """Phase not Succeeded/Failed and no deletionTimestamp (controller_utils.go IsPodActive)."""
    return pod.status.phase not in ("Succeeded", "Failed") and pod.metadata.deletion_timestamp is None


def is_pod_terminal(pod: Pod) -> bool:
    """Phase Succeeded or Failed."""
    return pod.status.phase in ("Succeeded", "Failed")


def is_pod_available(pod: Pod, min_ready_seconds: int, now: int) -> bool:
    """Ready, and Ready for longer than `min_ready_seconds` (pod/util.go IsPodAvailable:
    `minReadySeconds == 0 || lastTransitionTime + minReadySeconds` strictly before now; a missing
    transition time never counts as available when minReadySeconds > 0)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    cond = pod_ready_condition(pod)
    assert cond is not None
    return cond.last_transition_time is not None and cond.last_transition_time + min_ready_seconds < now


def available_at(ready: Iterable[Pod], min_ready_seconds: int, now: int) -> int | None:
    """The first model time one of the `ready` pods not yet available becomes available
    (`is_pod_available`: Ready for longer than `min_ready_seconds`), or None: when a controller
    whose sync requeues itself `AddAfter(key, minReadySeconds)` is woken by time alone."""
    times = [cond.last_transition_time + min_ready_seconds + 1 for pod in ready
             if (cond := pod_ready_condition(pod)) is not None and cond.last_transition_time is not None
             and not is_pod_available(pod, min_ready_seconds, now)]
    return min(times, default=None)


def controller_of(obj: ApiObject) -> OwnerReference | None:
    """The owner reference with controller=true (metav1.GetControllerOf)."""
    return obj.metadata.controller_ref()


def is_controlled_by(obj: ApiObject, owner: ApiObject) -> bool:
    """True if `obj`'s controller reference names `owner`'s UID (metav1.IsControlledBy)."""
    ref = controller_of(obj)
    return ref is not None and ref.uid == owner.metadata.uid


def new_controller_ref(owner: ApiObject) -> OwnerReference:
    """A controller reference to `owner` with blockOwnerDeletion (metav1.NewControllerRef)."""
    info = kind_info(owner)
    return OwnerReference(
        api_version=info.api_version, kind=info.kind, name=owner.metadata.name, uid=owner.metadata.uid,
        controller=True, block_owner_deletion=True,
    )


def owner_key_of(obj: ApiObject, kind: str) -> str | None:
    """`namespace/name` of `obj`'s controller if it is of `kind` (how event handlers find the
    owner to enqueue: `resolveControllerRef` compares kind, then UID against the cache)."""
    ref = controller_of(obj)
    if ref is None or ref.kind != kind:
        return None
    return f"{obj.metadata.namespace}/{ref.name}"


def resolve_controller_ref(view: ObjectView, obj: ApiObject, resource: str, kind: str) -> ApiObject | None:
    """The cached owner `obj`'s controller reference names, if kind and UID match
    (`resolveControllerRef` in the replicaset / deployment / statefulset controllers)."""
    ref = controller_of(obj)
    if ref is None or ref.kind != kind:
        return None
    owner = view.get(ObjectKey(resource, obj.metadata.namespace, ref.name))
    if owner is None or owner.metadata.uid != ref.uid:
        return None
    return owner


def _owner_refs_patch(refs: Iterable[OwnerReference]) -> dict[str, Any]:
    return {"metadata": {"ownerReferences": [encode(ref) for ref in refs]}}


@attrs.frozen
class Claim:
    """What ClaimObject decided for a list of candidates: the objects the owner controls after
    the claim (kept + adopted) and the PATCH requests that adopt or release objects."""

    owned: tuple[ApiObject, ...] = ()
    requests: tuple[Request, ...] = ()


def claim(owner: ApiObject, selector: LabelSelector | None, candidates: Iterable[ApiObject],
          resource: str, user: str = CONTROLLER_MANAGER_USER) -> Claim:
    """`ClaimObject` over `candidates` (controller_ref_manager.go): ignore objects another
    controller owns; keep owned objects that match; release owned ones that stop matching
    (unless the owner is being deleted); adopt matching orphans that are not being deleted
    (unless the owner is). `resource` is the candidates' qualified resource."""
    owned: list[ApiObject] = []
    requests: list[Request] = []
    owner_deleting = owner.metadata.deletion_timestamp is not None
    for obj in candidates:
        ref = controller_of(obj)
        matches = selector_matches(selector, obj.metadata.labels)
        if ref is not None:
            if ref.uid != owner.metadata.uid:
                continue
            if matches:
                owned.append(obj)
            elif not owner_deleting:
                kept = [r for r in obj.metadata.owner_references if r.uid != owner.metadata.uid]
                requests.append(_patch(obj, resource, kept, user))
            continue
        if owner_deleting or not matches or obj.metadata.deletion_timestamp is not None:
            continue
        if obj.metadata.namespace != owner.metadata.namespace:
            continue
        refs = [*obj.metadata.owner_references, new_controller_ref(owner)]
        requests.append(_patch(obj, resource, refs, user))
        owned.append(_with_owner_refs(obj, tuple(refs)))
    return Claim(tuple(owned), tuple(requests))


def _patch(obj: ApiObject, resource: str, refs: Iterable[OwnerReference], user: str) -> Request:
    return Request(verb="patch", user=user, resource=resource, namespace=obj.metadata.namespace,
                   name=obj.metadata.name, patch=_owner_refs_patch(refs))


def _with_owner_refs(obj: ApiObject, refs: tuple[OwnerReference, ...]) -> ApiObject:
    return evolve(obj, metadata=evolve(obj.metadata, owner_references=refs))


def pod_template_object(template: PodTemplateSpec, owner: ApiObject, namespace: str = "") -> Pod:
    """The pod a controller creates from a template (controller_utils.go GetPodFromTemplate):
    template labels, annotations and finalizers, generateName `<owner-name>-`, the owner's
    controller reference, the template's spec."""
    meta = ObjectMeta(
        generate_name=f"{owner.metadata.name}-", namespace=namespace or owner.metadata.namespace,
        labels=template.metadata.labels, annotations=template.metadata.annotations,
        finalizers=template.metadata.finalizers, owner_references=(new_controller_ref(owner),),
    )
    return Pod(metadata=meta, spec=template.spec)


def cache_revision(view: ObjectView, resource: str) -> int | None:
    """The revision up to which `view` has seen `resource`'s events (its
    `last_sync_resource_version`): the store's revision for an instant cache, the resource cache's
    delivered revision for an informer; None when not known (the resource is not watched, a view
    without the informer's freshness methods, or a cache awaiting its relist: after an etcd
    restore without `--bump-revision` its revision belongs to a history the restore took back,
    and the store issues those revisions again to other events, so passing one says nothing)."""
    if hasattr(view, "awaits_relist") and view.awaits_relist(resource):
        return None
    synced = view.last_sync_resource_version(resource) if hasattr(view, "last_sync_resource_version") else ""
    return int(synced) if synced.isdigit() else None


def pods_in(view: ObjectView, namespace: str) -> tuple[Pod, ...]:
    """The cached pods of a namespace, in key order."""
    return tuple(p for p in view.list("pods", namespace) if isinstance(p, Pod))
