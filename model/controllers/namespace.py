"""The namespace controller: empties a namespace being deleted, then finalizes it.

Upstream: `pkg/controller/namespace/namespace_controller.go` (a namespace informer; a namespace
is queued when an event shows it with a deletionTimestamp; a worker runs
`namespacedResourcesDeleter.Delete`; `ResourcesRemainingError` requeues after half the estimate)
and `pkg/controller/namespace/deletion/namespaced_resources_deleter.go` (`Delete`,
`updateNamespaceStatusFunc`, `deleteAllContent`, `deleteCollection`, `deleteEachItem`,
`listCollection`, `finalizeNamespace`). The API server's side is in `kubeprop.model.api.server_delete`
(the first DELETE marks the namespace Terminating) and `kubeprop.model.api.server_write.finalize`
(the finalize subresource; once spec.finalizers and metadata.finalizers are empty the namespace is
removed).

One reconcile of a namespace with a deletionTimestamp that is not yet `finalized` (spec.finalizers
not empty: `Delete` returns early only when it is empty, whichever tokens it holds, so a namespace
whose spec.finalizers lost `kubernetes` but holds another token is emptied too, and its finalize
write then leaves spec.finalizers as they are; read in both versions of the file the search index
holds, commits 00bdb3fade2e and 023feb4a622f, the rule unchanged between them):

1. `updateNamespaceStatusFunc`: phase Terminating, if it is not yet;
2. if the controller holds no complete live inventory of this namespace (its first pass, or after
   a crash, or a pass whose requests failed): LIST every namespaced resource live, remember the
   answers (`namespace_content.Inventory`) and requeue;
3. otherwise take the pass's items: with the OrderedNamespaceDeletion gate (`ordered`, parameter
   `orderedNamespaceDeletion`, on by default in v1.33) the inventory's pods while any remains,
   else every item; write the status conditions `deleteAllContent` derives from them (when they
   changed; a pass that stopped at pods sets no content totals, as upstream returns before
   `ProcessContentTotals`), then
   - nothing remained: finalize (remove `kubernetes` from spec.finalizers), as `Delete` does once
     `deleteAllContent` estimates 0 and found nothing;
   - some item of the pass is not yet being deleted: DELETE each such item (propagationPolicy
     Background, the kind's own grace period: pods gracefully) and LIST everything again (the
     "verify" lists), then requeue;
   - every item of the pass is already being deleted: wait for the watch events that show them
     gone (then LIST again), as upstream waits `estimate/2+1` seconds.

OrderedNamespaceDeletion (KEP-5080; `deleteAllContent` in v1.33: `deleteAllContentForGroupVersionResource`
on the pods GVR first, `return estimate, ...` while `numRemaining` pods are left, the pods GVR
skipped in the loop over the rest) keeps a namespace's other objects — a NetworkPolicy, a Secret,
a ServiceAccount — until its pods are gone; without the gate (v1.32 and before) they go at once
and a pod may run on without them.

Model choices: upstream's deleteCollection is a server-side list-and-delete; the model deletes
item by item from its own live LIST, which is upstream's `deleteEachItem` and gives the same
writes. Upstream reissues the deletes every pass; the model skips items already being deleted (a
repeated DELETE of such an item writes nothing, except that an explicit Background policy would
drop an `orphan` / `foregroundDeletion` finalizer set by an earlier delete). Upstream retries on a
timer; the model waits for watch events of the resources the controller manager watches, and
polls (requeues) only while an item of another resource remains. The 5 s delay before a queued
namespace is processed (for HA API servers' admission caches) is left out: the model's
NamespaceLifecycle admission reads the store itself. Status and finalize writes carry no
resourceVersion, as upstream's `retryOnConflictError` (a fresh GET, then the write again) ends
the same way; they carry the namespace's UID, so a namespace deleted and created again under the
same name is never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.core import Namespace
from kubeprop.model.api.objects import BUILTIN_KINDS, ApiObject, CustomResourceDefinition, ObjectKey, qualified_resource
from kubeprop.model.api.server import Request, Response, resolve_type
from kubeprop.model.controllers.base import Change, ChangeHandlers, Reconciliation
from kubeprop.model.controllers.gc import CRDS, DEFAULT_WATCHES
from kubeprop.model.controllers.namespace_content import Inventory, Item, conditions
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scenario.load import Scenario
from kubeprop.model.state.informer import ObjectView

FINALIZER = "kubernetes"
"""`v1.FinalizerKubernetes`, the token this controller removes (`--finalizer-token` default)."""
NAMESPACED_BUILTINS: tuple[str, ...] = tuple(sorted(
    qualified_resource(cls.INFO) for cls in BUILTIN_KINDS if cls.INFO.namespaced))
"""Every namespaced resource the model's API server serves for built-in kinds (its discovery)."""


def may_delete_namespaces(scenario: Scenario, objects: Iterable[ApiObject], controllers: Iterable[Any]) -> bool:
    """Whether a namespace can be deleted in the scenario: a workload `delete` step names a
    Namespace, a user's controller runs (it may delete anything), or a Namespace has owner
    references (the garbage collector deletes it when they are gone). Built-in components never
    delete namespaces otherwise, so elsewhere the controller would never act."""
    crds = [o for o in objects if isinstance(o, CustomResourceDefinition)]
    for step in scenario.spec.workload:
        info = resolve_type(step.delete.kind, crds) if step.delete is not None else None
        if info is not None and info.kind == "Namespace" and info.group == "":
            return True
    return any(True for _ in controllers) or any(
        isinstance(o, Namespace) and o.metadata.owner_references for o in objects)


def namespaced_custom_resources(objects: Iterable[ApiObject]) -> tuple[str, ...]:
    """The namespaced resources the CRDs among `objects` define, sorted."""
    return tuple(sorted({qualified_resource(info) for o in objects if isinstance(o, CustomResourceDefinition)
                         for info in o.kind_infos() if info.namespaced}))


@attrs.frozen(cache_hash=True)
class NamespaceMemory:
    """The live inventory of each namespace being emptied (upstream keeps none: its lists are
    made and used within one `Delete` call; the model's requests of one reconcile are decided
    before any is sent, so the answers are used by the next reconcile). Lost on crash."""

    inventories: FrozenMap[str, Inventory] = EMPTY


def terminating(namespace: ApiObject | None) -> bool:
    """Being deleted and not `finalized` (spec.finalizers not empty, whether or not it holds this
    controller's token: `Delete` in namespaced_resources_deleter.go)."""
    return (isinstance(namespace, Namespace) and namespace.metadata.deletion_timestamp is not None
            and bool(namespace.spec.finalizers))


@attrs.frozen
class NamespaceController(ChangeHandlers):
    """The namespace controller as a `Controller` (see the module docstring). `watches`: namespaces,
    then the resources whose removal it waits for (those the garbage collector already watches,
    so the controller manager's informers are the same but for namespaces): `of` works them out."""

    custom_resources: tuple[str, ...] = ()
    """Namespaced CRD-defined resources the scenario can create: listed in every pass, besides
    those of the CRDs in the controller manager's cache."""
    watches: tuple[str, ...] = ("namespaces", *DEFAULT_WATCHES)
    ordered: bool = True
    """The OrderedNamespaceDeletion feature gate (parameter `orderedNamespaceDeletion`; beta and on
    by default in v1.33, locked on from v1.34): pods are deleted first, the rest once none is left.
    False: every item at once (v1.32 and before)."""
    name: str = "namespace"
    identity: str = CONTROLLER_MANAGER_USER

    @classmethod
    def of(cls, custom_resources: tuple[str, ...] = (), also_watches: tuple[str, ...] = (),
           ordered: bool = True) -> NamespaceController:
        """The controller for a cluster whose controller manager also watches `also_watches` (the
        garbage collector's resources), whose scenario can create `custom_resources`, with the
        OrderedNamespaceDeletion gate `ordered`."""
        more = set(also_watches) | set(custom_resources)
        return cls(custom_resources, ("namespaces", *DEFAULT_WATCHES, *sorted(more - {"namespaces", *DEFAULT_WATCHES})),
                   ordered)

    def initial_memory(self) -> Any:
        """No inventory at start."""
        return NamespaceMemory()

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """A live LIST's answer joins the inventory of the pass under way."""
        inventory = memory.inventories.get(request.namespace) if request.verb == "list" else None
        if inventory is None or not response.ok:
            return memory
        return NamespaceMemory(memory.inventories.set(request.namespace, inventory.add(request.resource,
                                                                                       response.items)))

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """A namespace being deleted, added or updated: NewNamespaceController registers AddFunc and
        UpdateFunc, both enqueueNamespace ("don't queue if we aren't deleted"), and no DeleteFunc (a
        removed namespace enqueues nothing; its inventory, if any, is dropped by the next reconcile).
        For any other object, its namespace if that is being deleted: the model's stand-in for
        upstream's timed requeue while content remains (module docstring), on every kind of event."""
        obj = change.object
        if isinstance(obj, Namespace):
            return (obj.metadata.name,) if change.type != "delete" and terminating(obj) else ()
        namespace = obj.metadata.namespace
        if namespace and terminating(view.get(ObjectKey("namespaces", "", namespace))):
            return (namespace,)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """One pass of `namespacedResourcesDeleter.Delete` (see the module docstring)."""
        namespace = view.get(ObjectKey("namespaces", "", key))
        kept = FrozenMap({n: i for n, i in memory.inventories.items()
                          if isinstance(ns := view.get(ObjectKey("namespaces", "", n)), Namespace)
                          and ns.metadata.uid == i.uid})
        if not isinstance(namespace, Namespace) or not terminating(namespace):
            return Reconciliation(memory=NamespaceMemory(kept.delete(key) if key in kept else kept))
        requests: list[Request] = []
        if namespace.status.phase != "Terminating":
            namespace = evolve(namespace, status=evolve(namespace.status, phase="Terminating"))
            requests.append(self._status(namespace))
        resources = self._resources(view)
        inventory = kept.get(key)
        fresh = NamespaceMemory(kept.set(key, Inventory(namespace.metadata.uid)))
        if inventory is None or not inventory.complete(resources):
            return Reconciliation((*requests, *self._lists(key, resources)), fresh, requeue=True)
        pods_first = self._pods_first(inventory)
        pending = pods_first or inventory.items
        status = conditions(namespace, pending, now, totals=not pods_first)
        if status != namespace.status.conditions:
            namespace = evolve(namespace, status=evolve(namespace.status, conditions=status))
            requests = [self._status(namespace)]
        if not inventory.items:
            return Reconciliation((*requests, self._finalize(namespace)), NamespaceMemory(kept.delete(key)))
        deletes = [Request(verb="delete", user=self.identity, resource=i.resource, namespace=key, name=i.name,
                           propagation_policy="Background") for i in pending if not i.deleting]
        unwatched = any(i.resource not in self.watches for i in pending)
        cached = any(view.get(ObjectKey(i.resource, key, i.name)) is not None for i in pending)
        if deletes or unwatched or not cached:
            return Reconciliation((*requests, *deletes, *self._lists(key, resources)), fresh, requeue=True)
        return Reconciliation(tuple(requests), NamespaceMemory(kept))

    def _pods_first(self, inventory: Inventory) -> tuple[Item, ...]:
        """With `ordered`, the remaining pods: while there are any, a pass deletes and waits for
        them alone (`deleteAllContent` deletes the pods first and returns while some remain).
        Empty without `ordered` or once no pod is left: the pass takes every item."""
        return tuple(i for i in inventory.items if i.resource == "pods") if self.ordered else ()

    def _resources(self, view: ObjectView) -> tuple[str, ...]:
        """Discovery: the built-in namespaced resources, the scenario's namespaced custom resources
        and those of every CRD in the cache."""
        custom = (qualified_resource(info) for crd in view.list(CRDS) if isinstance(crd, CustomResourceDefinition)
                  for info in crd.kind_infos() if info.namespaced)
        return tuple(sorted({*NAMESPACED_BUILTINS, *self.custom_resources, *custom}))

    def _lists(self, namespace: str, resources: tuple[str, ...]) -> tuple[Request, ...]:
        return tuple(Request(verb="list", user=self.identity, resource=r, namespace=namespace) for r in resources)

    def _status(self, namespace: Namespace) -> Request:
        """UpdateStatus, unconditional but for the UID (see the module docstring)."""
        obj = evolve(namespace, metadata=evolve(namespace.metadata, resource_version=""))
        return Request(verb="update-status", user=self.identity, obj=obj)

    def _finalize(self, namespace: Namespace) -> Request:
        """`finalizeNamespace`: spec.finalizers without this controller's token, sorted."""
        finalizers = tuple(sorted({f for f in namespace.spec.finalizers if f != FINALIZER}))
        obj = evolve(namespace, spec=evolve(namespace.spec, finalizers=finalizers),
                     metadata=evolve(namespace.metadata, resource_version=""))
        return Request(verb="finalize", user=self.identity, resource="namespaces", name=namespace.metadata.name,
                       obj=obj)
