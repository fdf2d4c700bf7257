"""The deployment controller's strategies: rolling update (`pkg/controller/deployment/rolling.go`),
recreate (`recreate.go`), proportional scaling and history cleanup (`sync.go` scale,
cleanupDeployment) and the rollout status with the Progressing condition (`progress.go`
syncRolloutStatus). Each step adds requests to a `deployment_plan.Plan`.

Ties that upstream leaves to Go's unstable sort or to lister order are broken by creation time
and then name (ReplicaSetsByCreationTimestamp), so plans are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubeprop.model.api.apps import Deployment, DeploymentStatus, ReplicaSet
from kubeprop.model.api.pod import Pod
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.deployment_plan import (
    PROGRESSING,
    Plan,
    all_rss_and_sync_revision,
    calculate_status,
    scale_rs,
    scale_rs_and_record_event,
    sync_deployment_status,
)
from kubeprop.model.controllers.replicaset import REPLICA_FAILURE
from kubeprop.model.evolve import evolve
from kubeprop.model.state.informer import ObjectView

PodMap = Mapping[str, Sequence[Pod]]
"""ReplicaSet UID → the Deployment's pods it controls (getPodMapForDeployment)."""


def deployment_complete(d: Deployment, status: DeploymentStatus) -> bool:
    """DeploymentComplete: updated = replicas = available = spec.replicas, generation observed."""
    r = du.replicas_of(d)
    return (status.updated_replicas == r and status.replicas == r and status.available_replicas == r
            and status.observed_generation >= d.metadata.generation)


def deployment_progressing(d: Deployment, status: DeploymentStatus) -> bool:
    """DeploymentProgressing: more updated, ready or available replicas, or fewer old ones."""
    old = d.status
    return (status.updated_replicas > old.updated_replicas
            or status.replicas - status.updated_replicas < old.replicas - old.updated_replicas
            or status.ready_replicas > old.ready_replicas or status.available_replicas > old.available_replicas)


def deployment_timed_out(d: Deployment, status: DeploymentStatus, now: int) -> bool:
    """DeploymentTimedOut: the Progressing condition's lastUpdateTime + progressDeadlineSeconds is
    strictly before now (already timed out stays timed out; a completed rollout never times out)."""
    if not du.has_progress_deadline(d):
        return False
    cond = du.find_condition(status.conditions, PROGRESSING)
    if cond is None or cond.reason == du.NEW_RS_AVAILABLE_REASON:
        return False
    if cond.reason == du.TIMED_OUT_REASON:
        return True
    deadline = d.spec.progress_deadline_seconds or 0
    return cond.last_update_time is not None and cond.last_update_time + deadline < now


def _progress_condition(plan: Plan, status: DeploymentStatus, new_rs: ReplicaSet | None) -> DeploymentStatus:
    d = plan.d
    what = f'ReplicaSet "{new_rs.metadata.name}"' if new_rs is not None else f'Deployment "{d.metadata.name}"'
    current = du.find_condition(d.status.conditions, PROGRESSING)
    if deployment_complete(d, status):
        cond = du.new_condition(PROGRESSING, "True", du.NEW_RS_AVAILABLE_REASON, f"{what} has successfully progressed.",
                                plan.now)
        return evolve(status, conditions=du.set_condition(status.conditions, cond))
    if deployment_progressing(d, status):
        cond = du.new_condition(PROGRESSING, "True", du.REPLICA_SET_UPDATED_REASON, f"{what} is progressing.", plan.now)
        conditions = status.conditions
        if current is not None:
            if current.status == "True":
                cond = evolve(cond, last_transition_time=current.last_transition_time)
            conditions = du.remove_condition(conditions, PROGRESSING)
        return evolve(status, conditions=du.set_condition(conditions, cond))
    if deployment_timed_out(d, status, plan.now):
        cond = du.new_condition(PROGRESSING, "False", du.TIMED_OUT_REASON, f"{what} has timed out progressing.",
                                plan.now)
        return evolve(status, conditions=du.set_condition(status.conditions, cond))
    return status


def sync_rollout_status(plan: Plan, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None) -> None:
    """syncRolloutStatus (`pkg/controller/deployment/progress.go`): calculateStatus plus the
    Progressing condition (dropped without a deadline; left alone once the rollout completed and
    nothing new rolls out), and the ReplicaSets' ReplicaFailure moved into the Deployment's
    conditions (`replica_failure`)."""
    d = plan.d
    status = calculate_status(plan, all_rss, new_rs)
    if not du.has_progress_deadline(d):
        status = evolve(status, conditions=du.remove_condition(status.conditions, PROGRESSING))
    current = du.find_condition(d.status.conditions, PROGRESSING)
    complete = (status.replicas == status.updated_replicas and current is not None
                and current.reason == du.NEW_RS_AVAILABLE_REASON)
    if du.has_progress_deadline(d) and not complete:
        status = _progress_condition(plan, status, new_rs)
    plan.set_status(replica_failure(status, all_rss, new_rs))


def replica_failure(status: DeploymentStatus, all_rss: Sequence[ReplicaSet | None],
                    new_rs: ReplicaSet | None) -> DeploymentStatus:
    """syncRolloutStatus' last step (`progress.go` getReplicaFailures): the new ReplicaSet's
    ReplicaFailure condition, else the first one among all ReplicaSets, set on the Deployment
    (`util.ReplicaSetToDeploymentCondition`: lastUpdateTime = lastTransitionTime; then
    SetDeploymentCondition, which keeps a condition of the same status and reason as it is); none:
    the Deployment's ReplicaFailure removed."""
    failures = (du.find_condition(rs.status.conditions, REPLICA_FAILURE) for rs in (new_rs, *all_rss) if rs is not None)
    found = next((c for c in failures if c is not None), None)
    if found is None:
        return evolve(status, conditions=du.remove_condition(status.conditions, REPLICA_FAILURE))
    cond = evolve(found, last_update_time=found.last_transition_time)
    return evolve(status, conditions=du.set_condition(status.conditions, cond))


def cleanup_deployment(plan: Plan, old_rss: Sequence[ReplicaSet]) -> None:
    """cleanupDeployment: delete the oldest (by revision) old ReplicaSets beyond
    revisionHistoryLimit, skipping any with replicas, unobserved generations or a deletionTimestamp."""
    d = plan.d
    if not du.has_revision_history_limit(d):
        return
    cleanable = sorted((rs for rs in old_rss if rs.metadata.deletion_timestamp is None), key=du.by_revision_key)
    diff = len(cleanable) - (d.spec.revision_history_limit or 0)
    for rs in cleanable[:max(diff, 0)]:
        if (rs.status.replicas != 0 or du.replicas_of(rs) != 0
                or rs.metadata.generation > rs.status.observed_generation):
            continue
        plan.delete_rs(rs)


def _sizes_for_scale(d: Deployment, rss: list[ReplicaSet], to_add: int, zero_rule: bool) -> dict[str, int]:
    """The proportional sizes of `scale`: each RS gets its proportion; the leftover goes to the first."""
    sizes: dict[str, int] = {}
    added = 0
    for rs in rss:
        share = du.proportion(rs, d, to_add, added, zero_rule) if to_add != 0 else 0
        sizes[rs.metadata.name] = du.replicas_of(rs) + share
        added += share
    if rss and to_add != 0:
        first = rss[0].metadata.name
        sizes[first] = max(sizes[first] + to_add - added, 0)
    return sizes


def scale(plan: Plan, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> None:
    """scale (sync.go): one active (or latest) RS takes the full size; a saturated new RS means
    old RSs go to 0; otherwise (rolling) the difference to spec.replicas + maxSurge is spread
    over the active RSs in proportion to their size at the max-replicas recorded in their
    annotation, largest first (ties: newer first when growing, older first when shrinking)."""
    d = plan.d
    target = du.find_active_or_latest(new_rs, old_rss)
    if target is not None:
        if du.replicas_of(target) != du.replicas_of(d):
            scale_rs_and_record_event(plan, target, du.replicas_of(d))
        return
    if du.is_saturated(d, new_rs):
        for old in du.active_rss(old_rss):
            scale_rs_and_record_event(plan, old, 0)
        return
    if not du.is_rolling(d):
        return
    rss = du.active_rss([*old_rss, new_rs])
    allowed = du.replicas_of(d) + du.max_surge(d, plan.zero_rule) if du.replicas_of(d) > 0 else 0
    to_add = allowed - du.replica_count(rss)
    if to_add > 0:
        rss.sort(key=du.rs_by_creation_key, reverse=True)
    elif to_add < 0:
        rss.sort(key=du.rs_by_creation_key)
    rss.sort(key=du.replicas_of, reverse=True)
    sizes = _sizes_for_scale(d, rss, to_add, plan.zero_rule)
    for rs in rss:
        scale_rs(plan, rs, sizes[rs.metadata.name])


def sync(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet]) -> None:
    """sync (sync.go): scaling events and paused Deployments — scale, clean up when paused, status."""
    new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, False)
    scale(plan, new_rs, old_rss)
    if plan.d.spec.paused:
        cleanup_deployment(plan, old_rss)
    sync_deployment_status(plan, [*old_rss, new_rs], new_rs)


def reconcile_new_rs(plan: Plan, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
    """reconcileNewReplicaSet: shrink a too-large new RS, else grow it by NewRSNewReplicas."""
    d = plan.d
    if du.replicas_of(new_rs) == du.replicas_of(d):
        return False
    if du.replicas_of(new_rs) > du.replicas_of(d):
        return scale_rs_and_record_event(plan, new_rs, du.replicas_of(d))[0]
    return scale_rs_and_record_event(plan, new_rs, du.new_rs_new_replicas(d, all_rss, new_rs))[0]


def cleanup_unhealthy_replicas(plan: Plan, old_rss: list[ReplicaSet], max_cleanup: int
                               ) -> tuple[list[ReplicaSet], int] | None:
    """cleanupUnhealthyReplicas: oldest first, scale each old RS down by its unavailable
    replicas, at most `max_cleanup` in total. None on upstream's "invalid scale down" error."""
    old_rss = sorted(old_rss, key=du.rs_by_creation_key)
    total = 0
    for i, rs in enumerate(old_rss):
        if total >= max_cleanup:
            break
        replicas = du.replicas_of(rs)
        if replicas == 0 or replicas == rs.status.available_replicas:
            continue
        count = min(max_cleanup - total, replicas - rs.status.available_replicas)
        if replicas - count > replicas:
            return None
        old_rss[i] = scale_rs_and_record_event(plan, rs, replicas - count)[1]
        total += count
    return old_rss, total


def scale_down_old_for_rolling(plan: Plan, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet]) -> int:
    """scaleDownOldReplicaSetsForRollingUpdate: oldest first, remove available replicas above
    spec.replicas - maxUnavailable."""
    d = plan.d
    min_available = du.replicas_of(d) - du.max_unavailable(d, plan.zero_rule)
    available = du.available_replica_count(all_rss)
    if available <= min_available:
        return 0
    wanted = available - min_available
    total = 0
    for rs in sorted(old_rss, key=du.rs_by_creation_key):
        if total >= wanted:
            break
        if du.replicas_of(rs) == 0:
            continue
        count = min(du.replicas_of(rs), wanted - total)
        scale_rs_and_record_event(plan, rs, du.replicas_of(rs) - count)
        total += count
    return total


def reconcile_old_rss(plan: Plan, all_rss: Sequence[ReplicaSet], old_rss: list[ReplicaSet],
                      new_rs: ReplicaSet) -> bool:
    """reconcileOldReplicaSets: maxScaledDown = all - (replicas - maxUnavailable) - new RS's
    unavailable; clean up unhealthy old replicas, then scale old RSs down."""
    d = plan.d
    if du.replica_count(old_rss) == 0:
        return False
    min_available = du.replicas_of(d) - du.max_unavailable(d, plan.zero_rule)
    new_unavailable = du.replicas_of(new_rs) - new_rs.status.available_replicas
    max_scaled_down = du.replica_count(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    cleaned = cleanup_unhealthy_replicas(plan, old_rss, max_scaled_down)
    if cleaned is None:
        return False
    old_rss, cleanup_count = cleaned
    scaled_down = scale_down_old_for_rolling(plan, [*old_rss, new_rs], old_rss)
    return cleanup_count + scaled_down > 0


def rollout_rolling(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet]) -> None:
    """rolloutRolling: create the new RS if needed; scale it up if possible (then stop); else
    scale old RSs down if possible (then stop); else clean up when complete; status."""
    new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, True)
    if new_rs is None:
        return
    all_rss = [*old_rss, new_rs]
    if reconcile_new_rs(plan, all_rss, new_rs):
        sync_rollout_status(plan, all_rss, new_rs)
        return
    if reconcile_old_rss(plan, all_rss, du.active_rss(old_rss), new_rs):
        sync_rollout_status(plan, all_rss, new_rs)
        return
    if deployment_complete(plan.d, plan.d.status):
        cleanup_deployment(plan, old_rss)
    sync_rollout_status(plan, all_rss, new_rs)


def old_pods_running(new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet], pod_map: PodMap) -> bool:
    """oldPodsRunning: old RSs report replicas, or some pod of an old RS is not Succeeded/Failed
    (terminating pods and Unknown pods count)."""
    if du.actual_replica_count(old_rss) > 0:
        return True
    for rs_uid, pods in sorted(pod_map.items()):
        if new_rs is not None and rs_uid == new_rs.metadata.uid:
            continue
        if any(p.status.phase not in ("Failed", "Succeeded") for p in pods):
            return True
    return False


def rollout_recreate(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet], pod_map: PodMap) -> None:
    """rolloutRecreate: scale every old RS to 0 (then stop); wait while old pods run; then create
    the new RS if needed and scale it to spec.replicas; clean up when complete; status."""
    new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, False)
    all_rss: list[ReplicaSet | None] = [*old_rss, new_rs]
    scaled_down = False
    for rs in du.active_rss(old_rss):
        scaled_down = scale_rs_and_record_event(plan, rs, 0)[0] or scaled_down
    if scaled_down or old_pods_running(new_rs, old_rss, pod_map):
        sync_rollout_status(plan, all_rss, new_rs)
        return
    if new_rs is None:
        new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, True)
        if new_rs is None:
            return
        all_rss = [*old_rss, new_rs]
    scale_rs_and_record_event(plan, new_rs, du.replicas_of(plan.d))
    if deployment_complete(plan.d, plan.d.status):
        cleanup_deployment(plan, old_rss)
    sync_rollout_status(plan, all_rss, new_rs)
