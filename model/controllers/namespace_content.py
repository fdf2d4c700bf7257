"""What the namespace controller knows of a terminating namespace's content, and the status
conditions it derives from it.

Upstream: `pkg/controller/namespace/deletion/namespaced_resources_deleter.go`
(`deleteAllContentForGroupVersionResource`, `estimateGracefulTermination`,
`estimateGracefulTerminationForPods`, `deleteAllContent`) and
`pkg/controller/namespace/deletion/status_condition_utils.go` (`namespaceConditionUpdater`,
`ProcessContentTotals`, `makeDeleteContentCondition`, `updateConditions`).

An `Inventory` holds what the controller's live LISTs of one namespace answered (upstream lists
with the metadata client, never from an informer cache): every remaining item with whether it is
already being deleted, its finalizers and, for a pod that is not terminal, its
terminationGracePeriodSeconds.
"""

from __future__ import annotations

from collections import Counter

import attrs

from kubeprop.model.api.core import Namespace
from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ApiObject, known_kinds
from kubeprop.model.api.pod import Pod

FINALIZER_ESTIMATE_SECONDS = 15
"""`finalizerEstimateSeconds`: the wait assumed for items that carry finalizers."""

CONDITION_TYPES = ("NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                   "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining")
"""`conditionTypes`, in upstream's order (`staging/src/k8s.io/api/core/v1/types.go` names)."""
_OK = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": ("ContentDeleted",
                                        "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentRemoved", "All content successfully removed"),
}
"""`okReasons` and `okMessages`: the False ("it worked") variant of each condition."""


@attrs.frozen(order=True)
class Item:
    """One object a live LIST returned: its resource and name, whether it is already being deleted,
    its finalizers, and the grace period a pod that is not terminal asks for (else 0)."""

    resource: str
    name: str
    deleting: bool
    finalizers: tuple[str, ...] = ()
    grace: int = 0


def item_of(resource: str, obj: ApiObject) -> Item:
    """The inventory entry for a listed object."""
    grace = 0
    if isinstance(obj, Pod) and obj.status.phase not in ("Succeeded", "Failed"):
        grace = int(obj.spec.termination_grace_period_seconds or 0)
    meta = obj.metadata
    return Item(resource, meta.name, meta.deletion_timestamp is not None, tuple(meta.finalizers), grace)


@attrs.frozen(cache_hash=True)
class Inventory:
    """The live LISTs of one pass over a namespace (identified by its UID): the resources listed
    so far and the items they returned. Complete once every namespaced resource is listed."""

    uid: str
    listed: frozenset[str] = frozenset()
    items: tuple[Item, ...] = ()

    def add(self, resource: str, objects: tuple[ApiObject, ...]) -> Inventory:
        """The inventory with one more resource's LIST answer."""
        return Inventory(self.uid, self.listed | {resource},
                         tuple(sorted((*self.items, *(item_of(resource, o) for o in objects)))))

    def complete(self, resources: tuple[str, ...]) -> bool:
        """Every resource of `resources` was listed in this pass."""
        return self.listed.issuperset(resources)


_KINDS = known_kinds()


def _gvr(resource: str) -> str:
    """`schema.GroupVersionResource.String()` for a qualified resource of a built-in kind
    (`/v1, Resource=pods`, `apps/v1, Resource=deployments`); custom kinds print group and resource."""
    plural, _, group = resource.partition(".")
    version = next((i.version for i in _KINDS.values() if i.resource == plural and i.group == group), "")
    return f"{group}/{version}, Resource={plural}"


def _resource_group(resource: str) -> str:
    """`%s.%s` of a GVR's resource and group, as the condition message prints it (`pods.`)."""
    plural, _, group = resource.partition(".")
    return f"{plural}.{group}"


def _estimate(items: list[Item], namespace: Namespace, now: int) -> int:
    """`estimateGracefulTermination`: for pods, the longest terminationGracePeriodSeconds of a
    pod that is not terminal, or 0 once that long has passed since the namespace's deletion."""
    estimate = max((i.grace for i in items if i.resource == "pods"), default=0)
    deleted_at = namespace.metadata.deletion_timestamp or 0
    return 0 if now - deleted_at >= estimate else estimate


def conditions(namespace: Namespace, items: tuple[Item, ...], now: int, totals: bool = True) -> tuple[Condition, ...]:
    """The namespace's status conditions after a pass that found `items` remaining:
    `ProcessContentTotals` (only when `totals`), the "unexpected items still remain" error of a
    resource whose items have neither an estimate nor finalizers (`NamespaceDeletionContentFailure`),
    then `updateConditions` (the other types at their "ok" value; a transition time moves only when
    the status changes). `totals` is false for a pass that stopped at remaining pods
    (OrderedNamespaceDeletion: `deleteAllContent` returns before `ProcessContentTotals`, so
    NamespaceContentRemaining and NamespaceFinalizersRemaining read "ok" while pods remain)."""
    by_resource: dict[str, list[Item]] = {}
    for item in items:
        by_resource.setdefault(item.resource, []).append(item)
    failures = {
        "NamespaceContentRemaining": sorted(f"{_resource_group(r)} has {len(v)} resource instances"
                                            for r, v in by_resource.items()) if totals else [],
        "NamespaceFinalizersRemaining": sorted(f"{f} in {n} resource instances" for f, n in
                                               Counter(f for i in items for f in i.finalizers).items())
        if totals else [],
    }
    errors = sorted(f"unexpected items still remain in namespace: {namespace.metadata.name} for gvr: {_gvr(r)}"
                    for r, v in by_resource.items()
                    if not _estimate(v, namespace, now) and not any(i.finalizers for i in v))
    out = namespace.status.conditions
    for type_ in CONDITION_TYPES:
        reason, message = _OK[type_]
        status = "False"
        if type_ == "NamespaceContentRemaining" and failures[type_]:
            status, reason = "True", "SomeResourcesRemain"
            message = f"Some resources are remaining: {', '.join(failures[type_])}"
        elif type_ == "NamespaceFinalizersRemaining" and failures[type_]:
            status, reason = "True", "SomeFinalizerRemain"
            message = f"Some finalizers are remaining: {', '.join(failures[type_])}"
        elif type_ == "NamespaceDeletionContentFailure" and errors:
            status, reason = "True", "ContentDeletionFailed"
            message = f"Failed to delete all resource types, {len(errors)} remaining: {', '.join(errors)}"
        out = set_condition(out, Condition(type=type_, status=status, reason=reason, message=message,
                                           last_transition_time=now))
    return out
