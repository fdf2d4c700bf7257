"""ReplicaSet expectations: what the controller waits to see in its pod cache before it acts again.

Upstream (`pkg/controller/controller_utils.go` ControllerExpectations /
UIDTrackingControllerExpectations) keeps, per ReplicaSet key, a count of pending creations, the
set of pod keys whose deletion is pending, and the time the record was set. The pod event
handlers lower them: an ADD of a pod controlled by the ReplicaSet observes one creation
(`addPod` → CreationObserved); a pod that gets a deletionTimestamp or disappears observes its
deletion (`updatePod`/`deletePod` → DeletionObserved). A failed create or delete lowers them at
once (`manageReplicas`). `SatisfiedExpectations` is true iff there is no record, or nothing is
pending, or the record is older than the timeout (`ExpectationsTimeout`, 5 min; `isExpired`
uses a strict `>`).

Design in kubeprop: event handlers (`keys_for`) cannot change controller memory, so an
observation is *derived from the cache* when the controller next reconciles the key:

- creations are tracked by the created pod's UID and creation revision, taken from the create
  response in `observe`. A creation is observed once the pod cache has read the event stream up
  to that revision (the pod's ADD event was delivered, `podutil.cache_revision`), or, for a view
  whose revision is unknown — a cache awaiting its relist among them —, once the cache shows a pod
  with that UID. A stale cache gets no event until it relists, so upstream counts no ADD meanwhile;
  and after an etcd restore without `--bump-revision` its revision is one of the history the
  restore took back, which the store issues again: a pod created after the restore may have a
  revision the stale cache "passed" without ever seeing it;
- deletions are tracked by pod name and UID (as UIDTrackingControllerExpectations tracks keys).
  A deletion is observed once the cache shows no pod of that name, or one with another UID, or
  the pod with a deletionTimestamp — the cases in which upstream's handlers call
  DeletionObserved;
- a failed request drops every creation and deletion the reconcile had planned but not yet had
  answered: upstream lowers the failed one and the creations slowStartBatch skipped; the model
  sends requests one by one and stops at the first failure (`controllers.base`), so the deletes
  after a failed one are skipped too and lowered with it.

Differences from upstream's counters, all documented choices: an ADD of a pod the record did
not create (created by an earlier, overwritten record, or by someone else with a controller
reference to this ReplicaSet) lowers upstream's counter but not the model's record; and a pod
created and deleted again before a relist of the cache counts as observed in the model (its
creation revision was passed), while upstream never sees its ADD and waits for the timeout;
while the pod cache awaits a relist, a pod whose ADD and deletion were both delivered before its
watch broke counts as observed only after the relist (upstream counted it at the ADD): the
controller waits longer than upstream there, never acts sooner.
A record whose entries are all observed is removed from memory, so equal clusters have equal
controller memories (upstream keeps a fulfilled record until it is overwritten; both are
"satisfied").
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.podutil import cache_revision, controller_of
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

Memory = FrozenMap[str, "Expectation"]


@attrs.frozen(cache_hash=True)
class Expectation:
    """One ReplicaSet's pending expectations.

    - `timestamp`: model time the record was set (ExpectCreations / ExpectDeletions);
    - `unanswered_creates`: create requests planned whose responses have not arrived;
    - `creates`: (uid, creation revision) of created pods whose ADD is not yet observed;
    - `unanswered_deletes`: (pod name, uid) of planned deletes not yet answered, in order;
    - `deletes`: (pod name, uid) of deleted pods whose deletion is not yet observed.
    """

    timestamp: int
    unanswered_creates: int = 0
    creates: tuple[tuple[str, int], ...] = ()
    unanswered_deletes: tuple[tuple[str, str], ...] = ()
    deletes: tuple[tuple[str, str], ...] = ()

    @property
    def fulfilled(self) -> bool:
        """Nothing pending (upstream: add <= 0 and del <= 0)."""
        return not (self.unanswered_creates or self.creates or self.unanswered_deletes or self.deletes)


def _creation_observed(view: ObjectView, namespace: str, uid: str, revision: int) -> bool:
    seen = cache_revision(view, "pods")
    if seen is not None:
        return seen >= revision
    return any(p.metadata.uid == uid for p in view.list("pods", namespace))


def _deletion_observed(view: ObjectView, namespace: str, name: str, uid: str) -> bool:
    pod = view.get(ObjectKey("pods", namespace, name))
    return pod is None or pod.metadata.uid != uid or pod.metadata.deletion_timestamp is not None


def observe_cache(view: ObjectView, key: str, memory: Memory) -> Memory:
    """`memory` with the record of `key` lowered by everything the cache now shows (the effect
    of upstream's pod event handlers); a fulfilled record is removed."""
    record = memory.get(key)
    if record is None:
        return memory
    namespace = key.rpartition("/")[0]
    record = evolve(
        record,
        creates=tuple(c for c in record.creates if not _creation_observed(view, namespace, *c)),
        deletes=tuple(d for d in record.deletes if not _deletion_observed(view, namespace, *d)),
    )
    return memory.delete(key) if record.fulfilled else memory.set(key, record)


def satisfied(memory: Memory, key: str, now: int, timeout: int) -> bool:
    """SatisfiedExpectations: no record, nothing pending, or the record expired
    (`now - timestamp > timeout`)."""
    record = memory.get(key)
    return record is None or record.fulfilled or now - record.timestamp > timeout


def expect_creations(memory: Memory, key: str, count: int, now: int) -> Memory:
    """ExpectCreations: overwrite the record with `count` pending creations."""
    return memory.set(key, Expectation(now, unanswered_creates=count))


def expect_deletions(memory: Memory, key: str, pods: tuple[Pod, ...], now: int) -> Memory:
    """ExpectDeletions: overwrite the record with the pods about to be deleted."""
    marks = tuple((p.metadata.name, p.metadata.uid) for p in pods)
    return memory.set(key, Expectation(now, unanswered_deletes=marks))


def _drop_unanswered(memory: Memory) -> Memory:
    out = {}
    for key, record in memory.sorted_items():
        record = evolve(record, unanswered_creates=0, unanswered_deletes=())
        if not record.fulfilled:
            out[key] = record
    return FrozenMap(out) if out else EMPTY


def observe_response(memory: Memory, request: Request, response: Response) -> Memory:
    """The expectations after one API response (see the module docstring)."""
    if not response.ok:
        return _drop_unanswered(memory)
    if request.verb == "create" and isinstance(response.obj, Pod):
        ref = controller_of(response.obj)
        key = f"{response.obj.metadata.namespace}/{ref.name}" if ref is not None else ""
        record = memory.get(key)
        if record is None or record.unanswered_creates == 0:
            return memory
        mark = (response.obj.metadata.uid, int(response.obj.metadata.resource_version or 0))
        record = evolve(record, unanswered_creates=record.unanswered_creates - 1,
                        creates=(*record.creates, mark))
        return memory.set(key, record)
    if request.verb == "delete" and request.resource == "pods":
        return _delete_answered(memory, request.namespace, request.name)
    return memory


def _delete_answered(memory: Memory, namespace: str, name: str) -> Memory:
    for key, record in memory.sorted_items():
        if key.rpartition("/")[0] != namespace:
            continue
        for mark in record.unanswered_deletes:
            if mark[0] == name:
                rest = tuple(m for m in record.unanswered_deletes if m != mark)
                return memory.set(key, evolve(record, unanswered_deletes=rest,
                                              deletes=(*record.deletes, mark)))
    return memory
