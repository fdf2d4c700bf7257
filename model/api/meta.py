"""Object metadata shared by every API kind, and the per-kind type information.

Mirrors `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go` (ObjectMeta, OwnerReference,
Condition). Timestamps are whole seconds of the model clock (the scenario starts at 0), not
RFC 3339 strings: the model's time is discrete (see `kubeprop.model.cluster.faults`).

Every class's field defaults mean "unset"; the API server's admission stage fills in the upstream
defaults, so an object as written in a manifest and as persisted can be told apart.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.integers import Int64
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
"""The garbage collector's finalizers (`FinalizerOrphanDependents`, `FinalizerDeleteDependents`):
the API server adds one for a delete with propagationPolicy Orphan or Foreground, and the
garbage collector removes it once it has orphaned, or deleted, the dependents."""


@attrs.frozen
class KindInfo:
    """What the API server needs to know about a kind: its group/version, REST resource, scope."""

    group: str
    version: str
    kind: str
    resource: str
    namespaced: bool
    status_subresource: bool = True

    @property
    def api_version(self) -> str:
        """`apps/v1`, or plain `v1` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version


@attrs.frozen
class OwnerReference:
    """A link from a dependent to its owner (`meta/v1 OwnerReference`), used by the GC and controllers."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None
    block_owner_deletion: bool | None = None


@attrs.frozen
class ManagedFieldsEntry:
    """One field manager's owned fields (`meta/v1 ManagedFieldsEntry`), kept by the API server for
    server-side apply (`kubeprop.model.api.ssa`); `fields_v1` is the fieldsV1 tree as frozen JSON.
    The model sets no `time`."""

    manager: str = ""
    operation: str = ""
    api_version: str = ""
    time: Any = None
    fields_type: str = ""
    fields_v1: Any = None
    subresource: str = ""


@attrs.frozen(cache_hash=True)
class ObjectMeta:
    """Standard object metadata (`meta/v1 ObjectMeta`)."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("selfLink",)

    name: str = ""
    generate_name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: Int64 = 0
    labels: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    annotations: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    owner_references: tuple[OwnerReference, ...] = ()
    finalizers: tuple[str, ...] = ()
    deletion_timestamp: Int64 | None = None
    deletion_grace_period_seconds: Int64 | None = None
    creation_timestamp: Int64 | None = None
    managed_fields: tuple[ManagedFieldsEntry, ...] = ()
    """Field ownership, written only by the API server (clients' values are ignored)."""

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with controller=true, if any (`metav1.GetControllerOf`)."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None


@attrs.frozen
class Condition:
    """A status condition (`type`, `status` True/False/Unknown, reason, message, times)."""

    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""
    last_transition_time: Int64 | None = None
    last_update_time: Int64 | None = None
    last_probe_time: Int64 | None = None
    last_heartbeat_time: Int64 | None = None
    observed_generation: Int64 | None = None


@attrs.frozen
class ObjectReference:
    """A reference to another object (`core/v1 ObjectReference`), e.g. an endpoint's targetRef."""

    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    resource_version: str = ""
    field_path: str = ""


def find_condition(conditions: tuple[Condition, ...], type_: str) -> Condition | None:
    """The condition of the given type, or None."""
    for cond in conditions:
        if cond.type == type_:
            return cond
    return None


def condition_unchanged(conditions: tuple[Condition, ...], new: Condition) -> bool:
    """`apipod.UpdatePodCondition` (`pkg/api/v1/pod/util.go`) would report no change: a condition of
    `new.type` with the same status, reason and message is already there (the transition times and
    probe times are not compared)."""
    old = find_condition(conditions, new.type)
    return old is not None and (old.status, old.reason, old.message) == (new.status, new.reason, new.message)


def set_condition(conditions: tuple[Condition, ...], new: Condition) -> tuple[Condition, ...]:
    """Replace (or append) the condition of `new.type`, keeping the transition time when the
    status is unchanged, as `k8s.io/apimachinery/pkg/api/meta/conditions.go` SetStatusCondition does."""
    out = []
    found = False
    for cond in conditions:
        if cond.type == new.type:
            found = True
            if cond.status == new.status:
                new = evolve(new, last_transition_time=cond.last_transition_time)
            out.append(new)
        else:
            out.append(cond)
    if not found:
        out.append(new)
    return tuple(out)
