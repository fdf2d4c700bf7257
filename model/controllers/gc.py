"""The garbage collector: deletes objects whose owners are gone, and carries out foreground and
orphan deletion.

Upstream: `pkg/controller/garbagecollector/garbagecollector.go` (attemptToDeleteItem,
classifyReferences, isDangling, processDeletingDependentsItem, attemptToOrphanWorker /
orphanDependents, removeFinalizer, deleteObject), `graph_builder.go` (which events enqueue what).

- An owner reference is *solid* (the owner exists with the same UID), *dangling* (absent, or a
  different UID under that name) or *waiting* (the owner is being deleted with the
  `foregroundDeletion` finalizer). At least one solid owner → keep the object, but patch out its
  dangling and waiting references. Else, a waiting owner and the object has dependents of its
  own → delete it Foreground (first making its references non-blocking if one of its dependents
  is itself deleting dependents: upstream's cycle guard). Else delete it with its own policy
  (Orphan / Foreground if it already carries that finalizer, else Background). Deletes carry
  UID and resourceVersion preconditions.
- An object being deleted with `foregroundDeletion` loses the finalizer (and so is removed by
  the API server) once no dependent with `blockOwnerDeletion` is left; an object being deleted
  with `orphan` first has its references removed from every dependent, then loses the finalizer.
- Upstream confirms an owner's absence with a live GET before calling a reference dangling (its
  dependency graph may lag), and remembers confirmed-absent owners in `absentOwnerCache`
  (`isDangling`; an LRU of `objectReference`s: the reference's coordinates, apiVersion, kind,
  name and UID, `ownerReferenceCoordinates` in `graph.go`, plus the namespace the GET used: the
  dependent's for a namespaced owner, "" for a cluster-scoped one; looked up under "" and under
  the dependent's namespace). The model does the same: an owner missing from the controller
  manager's cache is looked up with a GET; a 404 (or another UID) puts that GET's target
  (resource, namespace, name) and the reference's UID in the collector's memory
  (`GcMemory.absent`, lost on a crash as the LRU is) and the key is retried. A GET that finds the
  owner keeps the object; the key is retried until the cache catches up. The resource stands for
  apiVersion and kind (the RESTMapper's image of them): two references that map to the same
  resource, name and UID get the same GET answer upstream, so they are dangling together. A
  remembered absence holds for that target and UID only: another reference with the same UID (a
  copy-paste slip naming a live owner, or a cross-namespace one) is looked up on its own.
- A cluster-scoped dependent whose reference names a namespaced kind is left alone: upstream's
  `isDangling` returns `namespacedOwnerOfClusterScopedObjectErr` before any GET, and
  `attemptToDeleteWorker` forgets the item (no delete, no patch, no retry; GETs the references
  before it already sent stand, and so do their remembered absences).

`isDangling` and `attemptToDeleteWorker` read the same in both versions of `garbagecollector.go`
the search index holds: commit cb6ff2d8ce35 (older: `workerLock`, deletes without preconditions)
and 02830ed24bc1 (newer: deletes with the resourceVersion precondition, as the model's do).

Which resources: upstream the graph builder monitors every resource discovery lists as
deletable (`GetDeletableResources` in `garbagecollector.go`: the preferred resources supporting
delete, list and watch; `graph_builder.go` syncMonitors, less the ignored events), so a stored-only
kind (an Ingress, a PriorityClass, a Role …) is collected when its owner goes, and is an owner
whose deletion collects its dependents. The model watches `DEFAULT_WATCHES` (what its
built-in controllers create) and, per scenario, `collected_resources`: every resource of an object
its manifests or workload steps hold, of the kinds their CRDs define, and of the owners their
owner references name; with a controller of your own, which may create any kind, every resource
the API server serves. Without one no object of another kind can ever exist, and watching its
resource would only add an empty informer to every state (and a dropped-watch choice), so the
collector acts as upstream's does.

Model choices: the dependency graph is the controller manager's cache, scanned on demand. An
owner reference whose kind the model does not know counts as solid (upstream's RESTMapper fails
and the item is retried, never deleted), and so does one whose resource the collector does not
watch: only a kind defined by a CRD that no object of the scenario is, created at run time by a
controller of your own (upstream would start monitoring it after discovery's next resync).
Work-queue keys are `str(ObjectKey)` (`pods/default/x`, `nodes/worker-1`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import FOREGROUND_FINALIZER, ORPHAN_FINALIZER, KindInfo, OwnerReference
from kubeprop.model.api.objects import (
    ApiObject,
    CustomResourceDefinition,
    ObjectKey,
    known_kinds,
    object_key,
    qualified_resource,
)
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.base import Reconciliation
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView

DEFAULT_WATCHES: tuple[str, ...] = (
    "pods", "replicasets.apps", "deployments.apps", "statefulsets.apps", "persistentvolumeclaims",
    "services", "endpoints", "endpointslices.discovery.k8s.io", "configmaps", "secrets", "serviceaccounts",
)
_KINDS: dict[tuple[str, str], KindInfo] = known_kinds()
CRDS = "customresourcedefinitions.apiextensions.k8s.io"


def collected_resources(objects: Iterable[ApiObject], own_controllers: bool = False) -> tuple[str, ...]:
    """The resources beyond `DEFAULT_WATCHES` and CRDs the collector watches for a scenario whose
    manifests and workload steps hold `objects` (see the module docstring), sorted: each object's
    own resource, the resources its CRD defines, and the resources its owner references name
    (a built-in kind, or one of those CRDs); with `own_controllers`, every built-in resource too."""
    objects = tuple(objects)
    defined = {(i.api_version, i.kind): i for o in objects if isinstance(o, CustomResourceDefinition)
               for i in o.kind_infos()}
    found: set[str] = {qualified_resource(i) for i in _KINDS.values()} if own_controllers else set()
    for obj in objects:
        found.add(object_key(obj).resource)
        for ref in obj.metadata.owner_references:
            info = _KINDS.get((ref.api_version, ref.kind)) or defined.get((ref.api_version, ref.kind))
            if info is not None:
                found.add(qualified_resource(info))
    found.update(qualified_resource(i) for i in defined.values())
    return tuple(sorted(found - set(DEFAULT_WATCHES) - {CRDS}))


@attrs.frozen(order=True)
class AbsentOwner:
    """One owner a live GET confirmed absent: the GET's target and the reference's UID (an entry
    of upstream's `absentOwnerCache`; see the module docstring)."""

    resource: str
    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        """As a trace shows it: the GET's target as a work-queue key, then the UID."""
        return f"{ObjectKey(self.resource, self.namespace, self.name)} uid {self.uid}"


@attrs.frozen(cache_hash=True)
class GcMemory:
    """Owners a live GET confirmed absent (upstream `absentOwnerCache`)."""

    absent: frozenset[AbsentOwner] = frozenset()


def parse_key(key: str) -> ObjectKey:
    """The ObjectKey a work-queue key names (the inverse of `str(ObjectKey)`)."""
    parts = key.split("/")
    if len(parts) == 3:
        return ObjectKey(parts[0], parts[1], parts[2])
    return ObjectKey(parts[0], "", parts[-1])


def owner_kind(ref: OwnerReference, view: ObjectView | None = None) -> KindInfo | None:
    """The kind a reference names (the GC's RESTMapper): a built-in kind, or a kind defined by a
    CRD in the cache (the mapper discovers CRD kinds too). None for a kind nobody defines."""
    info = _KINDS.get((ref.api_version, ref.kind))
    if info is None and view is not None:
        for crd in view.list(CRDS):
            if isinstance(crd, CustomResourceDefinition):
                for candidate in crd.kind_infos():
                    if (candidate.api_version, candidate.kind) == (ref.api_version, ref.kind):
                        info = candidate
    return info


def owner_object_key(ref: OwnerReference, dependent: ApiObject, view: ObjectView | None = None) -> ObjectKey | None:
    """Where the owner a reference names lives (`owner_kind`; a namespaced owner in the
    dependent's namespace: `resourceDefaultNamespace`). None for a kind nobody defines."""
    info = owner_kind(ref, view)
    if info is None:
        return None
    return ObjectKey(qualified_resource(info), dependent.metadata.namespace if info.namespaced else "", ref.name)


def deleting_dependents(obj: ApiObject) -> bool:
    """isDeletingDependents: being deleted with the foregroundDeletion finalizer."""
    return obj.metadata.deletion_timestamp is not None and FOREGROUND_FINALIZER in obj.metadata.finalizers


@attrs.frozen
class _Classified:
    solid: tuple[OwnerReference, ...] = ()
    dangling: tuple[OwnerReference, ...] = ()
    waiting: tuple[OwnerReference, ...] = ()
    lookups: tuple[tuple[ObjectKey, OwnerReference], ...] = ()
    invalid: bool = False
    """A cluster-scoped object naming a namespaced owner (`namespacedOwnerOfClusterScopedObjectErr`):
    `lookups` are the GETs of the references before that one."""


@attrs.frozen
class GarbageCollector:
    """The garbage collector as a `Controller` (see the module docstring)."""

    watches: tuple[str, ...] = DEFAULT_WATCHES
    name: str = "garbagecollector"
    identity: str = CONTROLLER_MANAGER_USER

    def initial_memory(self) -> Any:
        """No owner is known absent at start."""
        return GcMemory()

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """Record an owner a GET did not find (404, or another object under that name)."""
        if request.verb != "get" or request.precondition_uid is None:
            return memory
        if response.code == 404 or (response.ok and response.obj is not None
                                    and response.obj.metadata.uid != request.precondition_uid):
            entry = AbsentOwner(request.resource, request.namespace, request.name, request.precondition_uid)
            return evolve(memory, absent=memory.absent | {entry})
        return memory

    def dependents(self, owner: ApiObject, view: ObjectView) -> list[ApiObject]:
        """Cached objects with a reference to `owner`'s UID (the graph's dependents)."""
        namespace = owner.metadata.namespace
        return [obj for resource in self.watches for obj in view.list(resource, namespace)
                if any(ref.uid == owner.metadata.uid for ref in obj.metadata.owner_references)]

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """The graph builder's triggers: a deleted owner → its dependents; an owner starting
        foreground/orphan deletion → itself (and its dependents); an object whose owner is not in
        the cache (or has another UID) → itself; an owner deleting dependents → re-checked on
        every event of one of its dependents."""
        own = object_key(obj)
        present = view.get(own) is not None
        keys: set[str] = set()
        if not present or deleting_dependents(obj):
            keys.update(str(object_key(d)) for d in self.dependents(obj, view))
        if present and obj.metadata.deletion_timestamp is not None and (
                FOREGROUND_FINALIZER in obj.metadata.finalizers or ORPHAN_FINALIZER in obj.metadata.finalizers):
            keys.add(str(own))
        for ref in obj.metadata.owner_references:
            okey = owner_object_key(ref, obj, view)
            owner = view.get(okey) if okey is not None and okey.resource in self.watches else None
            if owner is not None and owner.metadata.uid == ref.uid:
                if deleting_dependents(owner):
                    keys.add(str(okey))
                    keys.update((str(own),) if present else ())
            elif present and okey is not None and okey.resource in self.watches:
                keys.add(str(own))
        return tuple(sorted(keys))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """attemptToOrphan / processDeletingDependentsItem / attemptToDeleteItem for one object."""
        obj = view.get(parse_key(key))
        if obj is None:
            return Reconciliation(memory=memory)
        meta = obj.metadata
        if meta.deletion_timestamp is not None and ORPHAN_FINALIZER in meta.finalizers:
            return Reconciliation(self._orphan(obj, view), memory)
        if deleting_dependents(obj):
            return Reconciliation(self._deleting_dependents(obj, view), memory)
        if meta.deletion_timestamp is not None or not meta.owner_references:
            return Reconciliation(memory=memory)
        found = self._classify(obj, view, memory)
        if found.lookups or found.invalid:
            gets = tuple(self._get(k, ref) for k, ref in found.lookups)
            return Reconciliation(gets, memory, requeue=not found.invalid)  # invalid: forgetItem
        return Reconciliation(self._decide(obj, view, found), memory)

    def _classify(self, obj: ApiObject, view: ObjectView, memory: GcMemory) -> _Classified:
        """classifyReferences (isDangling on each reference in order), with missing owners to look
        up instead of a live GET; stops at a namespaced owner of a cluster-scoped object."""
        solid: list[OwnerReference] = []
        dangling: list[OwnerReference] = []
        waiting: list[OwnerReference] = []
        lookups: list[tuple[ObjectKey, OwnerReference]] = []
        for ref in obj.metadata.owner_references:
            info = owner_kind(ref, view)
            if info is None:
                solid.append(ref)  # upstream: a restMappingError, retried, never deleted
                continue
            okey = ObjectKey(qualified_resource(info), obj.metadata.namespace if info.namespaced else "", ref.name)
            if AbsentOwner(okey.resource, okey.namespace, okey.name, ref.uid) in memory.absent:
                dangling.append(ref)
                continue
            if info.namespaced and not obj.metadata.namespace:
                return _Classified(lookups=tuple(lookups), invalid=True)
            if okey.resource not in self.watches:
                solid.append(ref)  # a model choice (module docstring)
                continue
            owner = view.get(okey)
            if owner is None or owner.metadata.uid != ref.uid:
                lookups.append((okey, ref))
            elif deleting_dependents(owner):
                waiting.append(ref)
            else:
                solid.append(ref)
        return _Classified(tuple(solid), tuple(dangling), tuple(waiting), tuple(lookups))

    def _get(self, okey: ObjectKey, ref: OwnerReference) -> Request:
        """The live GET of isDangling; the expected UID rides in `precondition_uid` for `observe`."""
        return Request(verb="get", user=self.identity, resource=okey.resource, namespace=okey.namespace,
                       name=okey.name, precondition_uid=ref.uid)

    def _decide(self, obj: ApiObject, view: ObjectView, found: _Classified) -> tuple[Request, ...]:
        """attemptToDeleteItem's three cases."""
        meta = obj.metadata
        if found.solid:
            if not found.dangling and not found.waiting:
                return ()
            gone = {r.uid for r in (*found.dangling, *found.waiting)}
            kept = [r for r in meta.owner_references if r.uid not in gone]
            return (self._patch_refs(obj, kept),)
        deps = self.dependents(obj, view)
        if found.waiting and deps:
            requests: list[Request] = []
            rv: str | None = meta.resource_version
            if any(deleting_dependents(d) for d in deps):
                unblocked = [evolve(r, block_owner_deletion=False) if r.block_owner_deletion else r
                             for r in meta.owner_references]
                requests.append(self._patch_refs(obj, unblocked))
                rv = None
            return (*requests, self._delete(obj, "Foreground", rv))
        if ORPHAN_FINALIZER in meta.finalizers:
            policy = "Orphan"
        elif FOREGROUND_FINALIZER in meta.finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        return (self._delete(obj, policy, meta.resource_version),)

    def _deleting_dependents(self, owner: ApiObject, view: ObjectView) -> tuple[Request, ...]:
        """processDeletingDependentsItem: remove the finalizer once nothing blocks."""
        blocking = [d for d in self.dependents(owner, view) if any(
            r.uid == owner.metadata.uid and r.block_owner_deletion for r in d.metadata.owner_references)]
        if blocking:
            return ()
        return (self._remove_finalizer(owner, FOREGROUND_FINALIZER),)

    def _orphan(self, owner: ApiObject, view: ObjectView) -> tuple[Request, ...]:
        """attemptToOrphanWorker: drop references to `owner` from its dependents, then its finalizer."""
        requests = [
            self._patch_refs(dep, [r for r in dep.metadata.owner_references if r.uid != owner.metadata.uid])
            for dep in self.dependents(owner, view)
        ]
        return (*requests, self._remove_finalizer(owner, ORPHAN_FINALIZER))

    def _patch_refs(self, obj: ApiObject, refs: list[OwnerReference]) -> Request:
        body = {"metadata": {"ownerReferences": [encode(r) for r in refs] or None,
                             "resourceVersion": obj.metadata.resource_version}}
        return self._patch(obj, body)

    def _remove_finalizer(self, obj: ApiObject, finalizer: str) -> Request:
        kept = [f for f in obj.metadata.finalizers if f != finalizer]
        body = {"metadata": {"finalizers": kept or None, "resourceVersion": obj.metadata.resource_version}}
        return self._patch(obj, body)

    def _patch(self, obj: ApiObject, body: dict[str, Any]) -> Request:
        key = object_key(obj)
        return Request(verb="patch", user=self.identity, resource=key.resource, namespace=key.namespace,
                       name=key.name, patch=body)

    def _delete(self, obj: ApiObject, policy: str, resource_version: str | None) -> Request:
        key = object_key(obj)
        return Request(verb="delete", user=self.identity, resource=key.resource, namespace=key.namespace,
                       name=key.name, precondition_uid=obj.metadata.uid,
                       precondition_resource_version=resource_version, propagation_policy=policy)
