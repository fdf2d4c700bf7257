"""One deployment sync's plan: the working copy of the Deployment, the requests decided so far,
and the steps shared by every strategy — finding or creating the new ReplicaSet with its
annotations (`getNewReplicaSet`, `SetNewReplicaSetAnnotations` in
`pkg/controller/deployment/sync.go` and `util/deployment_util.go`), scaling a ReplicaSet
(`scaleReplicaSet`), and the status (`calculateStatus`, `syncDeploymentStatus` in sync.go;
`syncRolloutStatus` in progress.go).

Upstream sends each write as soon as it decides it and carries on with the returned object. The
plan records the same writes in the same order, except that all writes of one ReplicaSet in a
sync are merged into its first request (upstream's later writes use the object the earlier write
returned, so they do not conflict; the merged request has the same final content), and all
Deployment status writes of a sync are merged into one update-status at the end (upstream
writes some earlier — getNewReplicaSet, checkPausedConditions — mutating the same in-memory
Deployment the final write starts from).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.apps import Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.podutil import controller_of, new_controller_ref
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView

PROGRESSING = "Progressing"
AVAILABLE = "Available"


class Plan:
    """The requests of one sync, built in upstream order (a local, mutable builder)."""

    def __init__(self, d: Deployment, user: str, now: int, zero_rule: bool) -> None:
        self.original = d
        self.d = d
        self.user = user
        self.now = now
        self.zero_rule = zero_rule
        self.requests: list[Request] = []
        self.requeue = False
        self._rs_request: dict[str, int] = {}
        self.create_failure: NewReplicaSetCreateFailure | None = None
        """What a failed create of the new ReplicaSet writes (`get_new_rs`), if one is planned."""
        self.after_status: list[Request] = []
        """Writes upstream sends after the sync's status writes (the rollback's Deployment update)."""

    def write_rs(self, rs: ReplicaSet, verb: Literal["create", "update"] = "update") -> None:
        """Create or update `rs`; a later write of the same ReplicaSet merges into the first."""
        index = self._rs_request.get(rs.metadata.name)
        if index is not None:
            self.requests[index] = evolve(self.requests[index], obj=rs)
            return
        self._rs_request[rs.metadata.name] = len(self.requests)
        self.requests.append(Request(verb=verb, user=self.user, resource="replicasets.apps",
                                     namespace=rs.metadata.namespace, name=rs.metadata.name, obj=rs))

    def delete_rs(self, rs: ReplicaSet) -> None:
        """Delete an old ReplicaSet (cleanupDeployment)."""
        self.requests.append(Request(verb="delete", user=self.user, resource="replicasets.apps",
                                     namespace=rs.metadata.namespace, name=rs.metadata.name))

    def set_status(self, status: DeploymentStatus) -> None:
        """Replace the working status."""
        self.d = evolve(self.d, status=status)

    def set_condition(self, cond: Condition) -> None:
        """SetDeploymentCondition on the working status."""
        self.set_status(evolve(self.d.status, conditions=du.set_condition(self.d.status.conditions, cond)))

    def set_revision(self, revision: str) -> None:
        """SetDeploymentRevision: the Deployment's revision annotation (written with the status,
        as upstream's UpdateStatus carries metadata)."""
        ann = self.d.metadata.annotations
        if ann.get(du.REVISION_ANNOTATION) != revision:
            meta = evolve(self.d.metadata, annotations=ann.set(du.REVISION_ANNOTATION, revision))
            self.d = evolve(self.d, metadata=meta)

    def update_deployment(self, d: Deployment) -> None:
        """Update the Deployment itself (PUT, with the resourceVersion the sync read: after a
        status write of the same sync it conflicts, as upstream's does), after the status."""
        self.after_status.append(Request(verb="update", user=self.user, resource="deployments.apps",
                                         namespace=d.metadata.namespace, name=d.metadata.name, obj=d))

    def finish(self) -> tuple[Request, ...]:
        """The requests, with one update-status if the status or annotations changed, then the
        Deployment update if any (`update_deployment`)."""
        out = list(self.requests)
        before = self.original
        if self.d.status != before.status or self.d.metadata.annotations != before.metadata.annotations:
            out.append(Request(verb="update-status", user=self.user, resource="deployments.apps",
                               namespace=before.metadata.namespace, name=before.metadata.name, obj=self.d))
        return (*out, *self.after_status)


def _revision_history(old_revision: str, history: str) -> str | None:
    """The revision-history annotation after `old_revision` is superseded (limited to
    maxRevHistoryLengthInChars by dropping the oldest entries; None if it cannot fit)."""
    if not history:
        return old_revision
    entries = history.split(",")
    total = len(history) + len(old_revision) + 1
    start = 0
    while total > du.MAX_REV_HISTORY_LENGTH_IN_CHARS and start < len(entries):
        total -= len(entries[start]) + 1
        start += 1
    if total > du.MAX_REV_HISTORY_LENGTH_IN_CHARS:
        return None
    return ",".join([*entries[start:], old_revision])


def new_rs_annotations(d: Deployment, rs: ReplicaSet, new_revision: int, exists: bool,
                       zero_rule: bool) -> tuple[ReplicaSet, bool]:
    """SetNewReplicaSetAnnotations: copy the Deployment's annotations (but annotationsToSkip),
    raise the revision to `new_revision` (keeping the superseded one in revision-history), and
    for a ReplicaSet about to be created set desired/max replicas. Returns (rs, changed)."""
    ann = dict(rs.metadata.annotations)
    changed = False
    for key, value in d.metadata.annotations.sorted_items():
        if key not in du.SKIP_COPY_ANNOTATIONS and ann.get(key) != value:
            ann[key] = value
            changed = True
    had_revision = du.REVISION_ANNOTATION in ann
    old_text = ann.get(du.REVISION_ANNOTATION, "")
    old = 0
    if old_text:
        parsed = du.parse_int64(old_text)
        if parsed is None:
            return _with_annotations(rs, ann), False
        old = parsed
    if old < new_revision:
        ann[du.REVISION_ANNOTATION] = str(new_revision)
        changed = True
        if had_revision:
            history = _revision_history(old_text, ann.get(du.REVISION_HISTORY_ANNOTATION, ""))
            if history is not None:
                ann[du.REVISION_HISTORY_ANNOTATION] = history
    out = _with_annotations(rs, ann)
    if not exists:
        desired, maximum = du.replicas_of(d), du.replicas_of(d) + du.max_surge(d, zero_rule)
        if du.replicas_annotations_need_update(out, desired, maximum):
            out = du.with_replicas_annotations(out, desired, maximum)
            changed = True
    return out, changed


def _with_annotations(rs: ReplicaSet, ann: dict[str, str]) -> ReplicaSet:
    return evolve(rs, metadata=evolve(rs.metadata, annotations=ann))


def _existing_new_rs(plan: Plan, existing: ReplicaSet, new_revision: int) -> ReplicaSet:
    d = plan.d
    rs, changed = new_rs_annotations(d, existing, new_revision, True, plan.zero_rule)
    if changed or rs.spec.min_ready_seconds != d.spec.min_ready_seconds:
        rs = evolve(rs, spec=evolve(rs.spec, min_ready_seconds=d.spec.min_ready_seconds))
        plan.write_rs(rs)
        return rs
    plan.set_revision(rs.metadata.annotations.get(du.REVISION_ANNOTATION, ""))
    if du.has_progress_deadline(d) and du.find_condition(d.status.conditions, PROGRESSING) is None:
        plan.set_condition(du.new_condition(PROGRESSING, "True", du.FOUND_NEW_RS_REASON,
                                            f'Found new replica set "{rs.metadata.name}"', plan.now))
    return rs


def new_rs_object(d: Deployment, old_rss: Sequence[ReplicaSet], zero_rule: bool, new_revision: int) -> ReplicaSet:
    """The new ReplicaSet getNewReplicaSet creates: `<deployment>-<hash>`, the hash label on its
    labels, selector and template, the Deployment as controller, NewRSNewReplicas replicas."""
    template_hash = du.compute_hash(d.spec.template, d.status.collision_count)
    labels = d.spec.template.metadata.labels.set(du.POD_TEMPLATE_HASH_LABEL, template_hash)
    template = evolve(d.spec.template, metadata=evolve(d.spec.template.metadata, labels=labels))
    selector = d.spec.selector or LabelSelector()
    selector = evolve(selector, match_labels=selector.match_labels.set(du.POD_TEMPLATE_HASH_LABEL, template_hash))
    rs = ReplicaSet(
        metadata=ObjectMeta(name=f"{d.metadata.name}-{template_hash}", namespace=d.metadata.namespace,
                            owner_references=(new_controller_ref(d),), labels=labels),
        spec=ReplicaSetSpec(replicas=0, min_ready_seconds=d.spec.min_ready_seconds, selector=selector,
                            template=template),
    )
    count = du.new_rs_new_replicas(d, [*old_rss, rs], rs)
    rs = evolve(rs, spec=evolve(rs.spec, replicas=count))
    return new_rs_annotations(d, rs, new_revision, False, zero_rule)[0]


def get_new_rs(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet],
               create: bool) -> ReplicaSet | None:
    """getNewReplicaSet: the existing new ReplicaSet (with annotations and minReadySeconds synced),
    or, if `create`, a new one. A name clash with a cached ReplicaSet that is not this
    Deployment's with an equal template is a hash collision: collisionCount + 1 and the sync
    ends (upstream learns it from AlreadyExists and the lister; the model reads the cache first)."""
    d = plan.d
    new_revision = du.max_revision(old_rss) + 1
    existing = du.find_new_rs(d, rs_list)
    if existing is not None:
        return _existing_new_rs(plan, existing, new_revision)
    if not create:
        return None
    rs = new_rs_object(d, old_rss, plan.zero_rule, new_revision)
    clash = view.get(ObjectKey("replicasets.apps", rs.metadata.namespace, rs.metadata.name))
    created = clash is None
    if isinstance(clash, ReplicaSet):
        ref = controller_of(clash)
        if ref is None or ref.uid != d.metadata.uid or not du.equal_ignore_hash(d.spec.template, clash.spec.template):
            plan.set_status(evolve(d.status, collision_count=(d.status.collision_count or 0) + 1))
            plan.requeue = True
            return None
        rs = clash
    if created:
        plan.write_rs(rs, "create")
        if du.has_progress_deadline(d):
            plan.create_failure = NewReplicaSetCreateFailure(d, plan.original, rs.metadata.name, plan.user, plan.now)
    plan.set_revision(str(new_revision))
    if created and du.has_progress_deadline(d):
        plan.set_condition(du.new_condition(PROGRESSING, "True", du.NEW_RS_REASON,
                                            f'Created new replica set "{rs.metadata.name}"', plan.now))
    return rs


def tolerate(request: Request, response: Response) -> Literal["forget"] | None:
    """A deployment sync's `tolerate` (`Reconciliation`): a sync that fails with
    `NamespaceTerminatingCause` (the create of the new ReplicaSet in a terminating namespace) ends
    there, but handleErr forgets the key instead of requeueing it
    (`pkg/controller/deployment/deployment_controller.go` handleErr)."""
    return "forget" if namespace_terminating(response.code, response.message) else None


@attrs.frozen
class NewReplicaSetCreateFailure:
    """A deployment sync's `after_failure` (`Reconciliation`): when the create of the new
    ReplicaSet fails, getNewReplicaSet (`pkg/controller/deployment/sync.go`) sets Progressing
    False, reason ReplicaSetCreateError, `Failed to create new replica set "<name>": <error>` on
    the Deployment as it is at that point (with a progress deadline) and writes its status before
    returning the error — except for AlreadyExists (a slow cache: upstream looks the ReplicaSet up
    and goes on or counts a hash collision) and a namespace that is terminating
    (`NamespaceTerminatingCause`: nothing to report). After any other failed request, nothing."""

    d: Deployment
    original: Deployment
    """The Deployment as the sync read it: nothing to write if the failure leaves it so."""
    rs_name: str
    user: str
    now: int

    def __call__(self, request: Request, response: Response) -> tuple[Request, ...]:
        if request.verb != "create" or request.resource != "replicasets.apps" or request.name != self.rs_name:
            return ()
        if response.reason == "AlreadyExists" or namespace_terminating(response.code, response.message):
            return ()
        cond = du.new_condition(PROGRESSING, "False", du.FAILED_RS_CREATE_REASON,
                                f'Failed to create new replica set "{self.rs_name}": {response.message}', self.now)
        d = evolve(self.d, status=evolve(self.d.status, conditions=du.set_condition(self.d.status.conditions, cond)))
        if d == self.original:
            return ()
        return (Request(verb="update-status", user=self.user, resource="deployments.apps",
                        namespace=d.metadata.namespace, name=d.metadata.name, obj=d),)


def all_rss_and_sync_revision(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet],
                              create: bool) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
    """getAllReplicaSetsAndSyncRevision: (new RS or None, all old RSs)."""
    existing = du.find_new_rs(plan.d, rs_list)
    old_rss = du.find_old_rss(plan.d, rs_list, existing)
    return get_new_rs(plan, view, rs_list, old_rss, create), old_rss


def scale_rs(plan: Plan, rs: ReplicaSet, new_scale: int) -> tuple[bool, ReplicaSet]:
    """scaleReplicaSet: write spec.replicas and the desired/max replicas annotations if either
    changes. Returns (size changed, the ReplicaSet as written)."""
    d = plan.d
    size_changed = du.replicas_of(rs) != new_scale
    desired, maximum = du.replicas_of(d), du.replicas_of(d) + du.max_surge(d, plan.zero_rule)
    if size_changed or du.replicas_annotations_need_update(rs, desired, maximum):
        rs = evolve(rs, spec=evolve(rs.spec, replicas=new_scale))
        rs = du.with_replicas_annotations(rs, desired, maximum)
        plan.write_rs(rs)
    return size_changed, rs


def scale_rs_and_record_event(plan: Plan, rs: ReplicaSet, new_scale: int) -> tuple[bool, ReplicaSet]:
    """scaleReplicaSetAndRecordEvent: nothing if the size is already right, else scale_rs."""
    if du.replicas_of(rs) == new_scale:
        return False, rs
    return scale_rs(plan, rs, new_scale)


def calculate_status(plan: Plan, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None) -> DeploymentStatus:
    """calculateStatus: counts from the ReplicaSets' status (unavailable from spec totals), and
    the Available condition (available ≥ replicas - maxUnavailable)."""
    d = plan.d
    available = du.available_replica_count(all_rss)
    status = evolve(
        d.status, observed_generation=d.metadata.generation, replicas=du.actual_replica_count(all_rss),
        updated_replicas=du.actual_replica_count([new_rs]), ready_replicas=du.ready_replica_count(all_rss),
        available_replicas=available, unavailable_replicas=max(du.replica_count(all_rss) - available, 0),
    )
    if available >= du.replicas_of(d) - du.max_unavailable(d, plan.zero_rule):
        cond = du.new_condition(AVAILABLE, "True", du.MIN_AVAILABLE_REASON, "Deployment has minimum availability.",
                                plan.now)
    else:
        cond = du.new_condition(AVAILABLE, "False", du.MIN_UNAVAILABLE_REASON,
                                "Deployment does not have minimum availability.", plan.now)
    return evolve(status, conditions=du.set_condition(status.conditions, cond))


def sync_deployment_status(plan: Plan, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None) -> None:
    """syncDeploymentStatus: the recomputed status."""
    plan.set_status(calculate_status(plan, all_rss, new_rs))
