"""The deprecated rollback of a Deployment (`pkg/controller/deployment/rollback.go`: rollback,
rollbackToTemplate, updateDeploymentAndClearRollbackTo, getRollbackTo; `util/deployment_util.go`
LastRevision, Revision, SetFromReplicaSetTemplate, SetDeploymentAnnotationsTo).

extensions/v1beta1's `spec.rollbackTo` round-trips through the annotation
`deprecated.deployment.rollback.to`, and the controller reads the annotation on every Deployment
it syncs, whatever version wrote it: an apps/v1 object carrying it (an old export applied again,
or a hand-written annotation) is rolled back too. `syncDeployment` (`deployment_controller.go`)
runs the rollback after the paused check and before the scaling event and the strategy, and the
sync ends there.

One rollback: `getAllReplicaSetsAndSyncRevision` with create (the new ReplicaSet is created if it
does not exist yet, and the Deployment's revision synced); revision 0 means the last revision
(`LastRevision`: the second highest); the ReplicaSet of that revision gives the Deployment its
template (less the pod-template-hash label) and its annotations (the Deployment keeps its own of
`annotationsToSkip`), unless the templates are already equal; in every case the annotation is
removed and the Deployment updated (PUT) — also when no ReplicaSet has that revision ("Unable to
find the revision to rollback to": the rollback is given up). Events are not modelled.

The update carries the resourceVersion the sync read, so when the same sync wrote the status first
(a new ReplicaSet created, the revision or a condition changed) it conflicts and the key is
retried, as upstream's does (its UpdateStatus result is discarded and the in-memory Deployment
keeps the old resourceVersion); the retry finds nothing left to write first and updates.

rollback.go read at kubernetes/kubernetes commits 032aec2ee891 and 8f9412eae995 (the two newest the
search index holds, with contextual logging: `LastRevision(logger, …)`; the same code). The
search index holds no recent `deployment_controller.go`: the place of the rollback in
syncDeployment (after the paused check, before isScalingEvent) is read from copies of its
contextual-logging version quoted in public notes, and is the same in every older version stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.deployment_plan import Plan, all_rss_and_sync_revision
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView


def rollback_to(d: Deployment) -> int | None:
    """getRollbackTo: the annotation's revision (`strconv.ParseInt(v, 10, 64)`); None when it is
    missing, empty or not a number (an invalid one is ignored and stays)."""
    text = d.metadata.annotations.get(du.ROLLBACK_TO_ANNOTATION, "")
    return du.parse_int64(text) if text else None


def last_revision(rss: Sequence[ReplicaSet]) -> int:
    """LastRevision: the second highest revision (0 if there is none); unparseable ones skipped."""
    highest, second = 0, 0
    for rs in rss:
        value = du.revision(rs)
        if value is None:
            continue
        if value >= highest:
            highest, second = value, highest
        elif value > second:
            second = value
    return second


def rollback(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet], target: int) -> None:
    """rollback: plan the sync's writes for a rollback to revision `target` (see the module docstring)."""
    new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, True)
    if new_rs is None:
        return  # a hash collision: getNewReplicaSet's error ends the sync (the status write counts it)
    all_rss = [*old_rss, new_rs]
    if target == 0:
        target = last_revision(all_rss)
        if target == 0:
            _clear_rollback_to(plan, plan.d)  # "Unable to find last revision."
            return
    for rs in all_rss:
        if du.revision(rs) == target:
            _rollback_to_template(plan, rs)
            return
    _clear_rollback_to(plan, plan.d)  # "Unable to find the revision to rollback to."


def _rollback_to_template(plan: Plan, rs: ReplicaSet) -> None:
    """rollbackToTemplate: the ReplicaSet's template and annotations on the Deployment (unless
    the templates are equal ignoring the hash), then the annotation cleared and the update."""
    d = plan.d
    if not du.equal_ignore_hash(d.spec.template, rs.spec.template):
        kept = {k: v for k, v in d.metadata.annotations.items() if k in du.SKIP_COPY_ANNOTATIONS}
        kept.update((k, v) for k, v in rs.metadata.annotations.items() if k not in du.SKIP_COPY_ANNOTATIONS)
        d = evolve(d, spec=evolve(d.spec, template=du.without_hash(rs.spec.template)),
                   metadata=evolve(d.metadata, annotations=kept))
    _clear_rollback_to(plan, d)


def _clear_rollback_to(plan: Plan, d: Deployment) -> None:
    """updateDeploymentAndClearRollbackTo: `d` without the annotation, updated (`Plan.update_deployment`)."""
    annotations = {k: v for k, v in d.metadata.annotations.items() if k != du.ROLLBACK_TO_ANNOTATION}
    plan.update_deployment(evolve(d, metadata=evolve(d.metadata, annotations=annotations)))
