"""A StatefulSet's revisions: their names, and the current revision's template the model keeps
with the set in place of its ControllerRevision.

Upstream (`pkg/controller/history/controller_history.go`, `pkg/controller/statefulset/
stateful_set_control.go` getStatefulSetRevisions, `stateful_set_utils.go` newRevision,
ApplyRevision): at each sync the StatefulSet controller turns the set's pod template into a
ControllerRevision (`<set>-<hash>`, its data the patch `{"spec":{"template":…,"$patch":"replace"}}`),
creating it when no equal revision exists; `status.updateRevision` names the revision of the
current template, `status.currentRevision` the revision the pods below the partition are built
from (the update revision when the set has no history yet, or when the revision it names is not
found), and the controller moves `currentRevision` to the update revision only when a rolling
update completes (`completeRollingUpdate`). ControllerRevisions are deleted only when not live
(`truncateHistory`: the current and update revisions and every pod's revision are kept).

Model choice: ControllerRevision objects are not modelled (a kind, an informer and the
controller's writes of it would add states to every StatefulSet scenario without changing what
the other components do). What the controller reads from them is one template: the current
revision's, when it is not the set's own. The model keeps it with the set, in
`StatefulSetStatus.current_revision_template` (model-only: never encoded nor decoded), and the API
server maintains it on every write of the set (`carry_current_revision`):

- a write that replaces the pod template while `status.currentRevision` names the revision of
  the old template keeps the old template (the controller created that revision when it synced
  the old template and wrote its name; upstream the ControllerRevision is still there, being live);
- a write after which `status.currentRevision` no longer names the kept template's revision, or
  names the revision of the new template (a rollback, or a completed rolling update), drops it.

The kept template is the one upstream's ControllerRevision holds in every run in which the
controller writes `status.currentRevision` only from a cache that holds the stored set: its status
writes carry the cached resourceVersion, so a stale one is refused (409). The one difference:
upstream reads revisions through an informer, so a sync whose revision cache lags may not find
the current revision and fall back to the update revision; the model always finds it. Revision
names are not byte-identical to a real cluster's (see `revision_name`).
"""

from __future__ import annotations

import json

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.codec import encode
from kubeprop.model.api.names import safe_encode_string
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.evolve import evolve
from kubeprop.model.memo import IdentityMemo

__all__ = ["carry_current_revision", "fnv32", "revision_name", "template_revision_name"]


def fnv32(data: bytes) -> int:
    """FNV-1 32-bit (`hash/fnv` New32, as `controller/history` HashControllerRevision uses)."""
    h = 0x811C9DC5
    for byte in data:
        h = (h * 0x01000193) % (1 << 32)
        h ^= byte
    return h


_REVISIONS: IdentityMemo[str] = IdentityMemo(limit=1_024)
"""Revision names by the template's identity and the set's name: a set's template is the very
same object from state to state, and the hash is a byte-by-byte loop over its JSON."""


def template_revision_name(name: str, template: PodTemplateSpec) -> str:
    """`<name>-<hash>` of the revision of `template` in the set `name`, remembered by the
    template's identity (`_REVISIONS`)."""
    return _REVISIONS.get((template,), _revision_name, name, template, values=name)


def revision_name(sts: StatefulSet) -> str:
    """`<set>-<hash>`: the update revision's name (history.ControllerRevisionName of
    HashControllerRevision over the template patch). The hash is upstream's
    `rand.SafeEncodeString(fnv32(data))` over a canonical JSON of
    `{"spec":{"template":…,"$patch":"replace"}}` (not byte-identical to Go's encoding, so the names
    differ from a real cluster's)."""
    return template_revision_name(sts.metadata.name, sts.spec.template)


def _revision_name(name: str, template_spec: PodTemplateSpec) -> str:
    template = encode(template_spec)
    patch = {"spec": {"template": {**template, "$patch": "replace"}}}
    data = json.dumps(patch, sort_keys=True, separators=(",", ":")).encode()
    digits = str(fnv32(data))
    return f"{name}-{safe_encode_string(digits)}"


def carry_current_revision(new: StatefulSet, old: StatefulSet) -> StatefulSet:
    """`new` (a write of the stored set `old`, its spec or its status) with the current revision's
    template maintained as the module docstring says."""
    kept = old.status.current_revision_template
    current = new.status.current_revision
    name = new.metadata.name
    if kept is not None and template_revision_name(name, kept) != current:
        kept = None
    replaced = new.spec.template != old.spec.template
    if replaced and current and template_revision_name(name, old.spec.template) == current:
        kept = old.spec.template
    if kept is not None and template_revision_name(name, new.spec.template) == current:
        kept = None
    if kept is new.status.current_revision_template:
        return new
    return evolve(new, status=evolve(new.status, current_revision_template=kept))
