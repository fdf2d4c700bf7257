"""The Deployment controller (`pkg/controller/deployment/deployment_controller.go` syncDeployment).

One sync: read the Deployment from the cache; an empty selector only records observedGeneration;
claim the namespace's ReplicaSets (adopt matching orphans, release owned ones that stop
matching: `getReplicaSetsForDeployment`, `podutil.claim`); group the Deployment's pods by
controlling ReplicaSet (`getPodMapForDeployment`); then

- being deleted → status only (`syncStatusOnly`);
- the paused condition (`checkPausedConditions`);
- paused → `sync` (proportional scaling and history cleanup, no rollout);
- the `deprecated.deployment.rollback.to` annotation (on any Deployment, apps/v1 too) → the
  rollback (`deployment_rollback`: `rollback.go`), and the sync ends;
- a scaling event (an active ReplicaSet's desired-replicas annotation differs from
  spec.replicas: `isScalingEvent`) → `sync`;
- else the strategy: `rolloutRecreate` or `rolloutRolling` (`deployment_rollout`), looked up by
  `spec.strategy.type` in the controller's `strategies` — so a user can replace one strategy
  (`DeploymentController().with_strategy("RollingUpdate", mine)`) and keep the rest of the
  controller (claiming, scaling events, pausing, status, history).

The controller writes only through the API: create/update/delete ReplicaSets, patch ReplicaSet
owner references, update-status of the Deployment, and (a rollback only) update of the
Deployment itself. `deployment_plan` explains how upstream's
sequential writes map onto one reconcile's requests.

Choices and omissions (documented): the template hash uses the template's canonical JSON, not
go-spew (`deployment_util`); delayed requeues (`requeueStuckDeployment`'s AddAfter) are exposed as
`wakeup_at` for a timer component; event recording is not modelled. When the scaling-event check had to rewrite the new
ReplicaSet's annotations, upstream's second getAllReplicaSetsAndSyncRevision in the same sync
rewrites it again from the stale cache and fails with a conflict; the model ends the sync after
the first write and requeues, to the same effect. A sync that fails because the namespace is
terminating (`NamespaceTerminatingCause`) is not requeued (handleErr forgets it:
`deployment_plan.tolerate`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.api.objects import ApiObject, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.base import Change, ChangeHandlers, Memoryless, Reconciliation
from kubeprop.model.controllers.deployment_plan import (
    PROGRESSING,
    Plan,
    all_rss_and_sync_revision,
    sync_deployment_status,
    tolerate,
)
from kubeprop.model.controllers.deployment_rollback import rollback, rollback_to
from kubeprop.model.controllers.deployment_rollout import (
    PodMap,
    deployment_complete,
    rollout_recreate,
    rollout_rolling,
    sync,
)
from kubeprop.model.controllers.handlers import owned_change
from kubeprop.model.controllers.podutil import (
    CONTROLLER_MANAGER_USER,
    claim,
    controller_of,
    is_controlled_by,
    pods_in,
    split_key,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.informer import ObjectView


def _check_paused_conditions(plan: Plan) -> None:
    """checkPausedConditions: Progressing Unknown DeploymentPaused / DeploymentResumed (never
    over a ProgressDeadlineExceeded)."""
    d = plan.d
    if not du.has_progress_deadline(d):
        return
    cond = du.find_condition(d.status.conditions, PROGRESSING)
    if cond is not None and cond.reason == du.TIMED_OUT_REASON:
        return
    paused_cond = cond is not None and cond.reason == du.PAUSED_REASON
    if d.spec.paused and not paused_cond:
        plan.set_condition(du.new_condition(PROGRESSING, "Unknown", du.PAUSED_REASON, "Deployment is paused", plan.now))
    elif not d.spec.paused and paused_cond:
        plan.set_condition(du.new_condition(PROGRESSING, "Unknown", du.RESUMED_REASON, "Deployment is resumed",
                                            plan.now))


def _is_scaling_event(plan: Plan, view: ObjectView, rs_list: list[ReplicaSet]) -> bool:
    """isScalingEvent (`pkg/controller/deployment/sync.go`): an active RS's desired-replicas
    annotation differs from spec.replicas. The annotation is read by GetDesiredReplicasAnnotation
    (v1.33, `deployment/util/deployment_util.go`): ASCII digits up to MaxInt32 only; anything
    else (a sign, spaces, `_`, which Python's `int` would take) is no value and is skipped."""
    new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, False)
    for rs in du.active_rss([*old_rss, new_rs]):
        desired = du.annotation_int(rs, du.DESIRED_REPLICAS_ANNOTATION)
        if desired is None:
            continue
        if desired != du.replicas_of(plan.d):
            return True
    return False


RolloutStrategy = Callable[[Plan, ObjectView, Sequence[ReplicaSet]], None]
"""One Deployment strategy: one sync's rollout step. It gets the sync's `Plan` (`plan.d` the
Deployment as the cache shows it; `plan.write_rs`, `plan.delete_rs`, `plan.set_status` record the
requests the sync sends), the controller's view and the Deployment's ReplicaSets (claimed, oldest
first), and adds its requests to the plan. Upstream: `rolloutRecreate`, `rolloutRolling` in
`pkg/controller/deployment/{recreate,rolling}.go`."""


def recreate(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet]) -> None:
    """The built-in Recreate strategy (`rolloutRecreate`): old pods go before new ones come."""
    rollout_recreate(plan, view, rs_list, pod_map(view, plan.d, rs_list))


def rolling_update(plan: Plan, view: ObjectView, rs_list: Sequence[ReplicaSet]) -> None:
    """The built-in RollingUpdate strategy (`rolloutRolling`): within maxSurge / maxUnavailable."""
    rollout_rolling(plan, view, rs_list)


STRATEGIES: FrozenMap[str, RolloutStrategy] = FrozenMap({"Recreate": recreate, "RollingUpdate": rolling_update})
"""The built-in strategies by `spec.strategy.type` (the API accepts only these two types)."""


def pod_map(view: ObjectView, d: Deployment, rs_list: Iterable[ReplicaSet]) -> PodMap:
    """getPodMapForDeployment: the Deployment's pods (selector match) by controlling RS UID."""
    uids = {rs.metadata.uid for rs in rs_list}
    out: dict[str, list[Pod]] = {uid: [] for uid in sorted(uids)}
    for pod in pods_in(view, d.metadata.namespace):
        ref = controller_of(pod)
        if ref is not None and ref.uid in uids and selector_matches(d.spec.selector, pod.metadata.labels):
            out[ref.uid].append(pod)
    return {uid: tuple(pods) for uid, pods in out.items()}


@attrs.frozen
class DeploymentController(ChangeHandlers, Memoryless):
    """The Deployment controller as a `Controller` (see the module docstring); it keeps no memory
    (no expectations).

    - `unavailable_one_when_both_zero`: ResolveFenceposts' rule that maxUnavailable becomes 1 when
      both fenceposts resolve to 0; False is the `rollout-fencepost` variant.
    - `strategies`: the rollout step for each `spec.strategy.type` (`STRATEGIES`); replace one
      with `with_strategy`. A type with no strategy only gets its status synced.
    """

    unavailable_one_when_both_zero: bool = True
    name: str = "deployment"
    watches: tuple[str, ...] = ("deployments.apps", "replicasets.apps", "pods")
    identity: str = CONTROLLER_MANAGER_USER
    strategies: FrozenMap[str, RolloutStrategy] = STRATEGIES

    def with_strategy(self, strategy_type: str, strategy: RolloutStrategy) -> DeploymentController:
        """This controller with `strategy` for Deployments of `spec.strategy.type == strategy_type`
        (`Recreate` or `RollingUpdate`); the other strategy and everything else stay built in."""
        return evolve(self, strategies=self.strategies.set(strategy_type, strategy))

    def keys_for_change(self, change: Change, view: ObjectView) -> Iterable[str]:
        """The handlers NewDeploymentController registers. Deployments: addDeployment, updateDeployment
        and deleteDeployment enqueue it. ReplicaSets: addReplicaSet, updateReplicaSet, deleteReplicaSet
        (`kubeprop.model.controllers.handlers`: the resolved controlling Deployment, or for an orphan
        every Deployment whose non-empty selector matches it, getDeploymentsForReplicaSet). Pods: only
        `DeleteFunc: dc.deletePod` — an added or updated pod enqueues nothing."""
        obj = change.object
        namespace = obj.metadata.namespace
        if isinstance(obj, Deployment):
            return (f"{namespace}/{obj.metadata.name}",)
        if isinstance(obj, ReplicaSet):
            return owned_change(change, view, "deployments.apps", "Deployment", lambda rs: _matching(rs, view))
        if isinstance(obj, Pod) and change.type == "delete":
            return self._deleted_pod(obj, view)
        return ()

    def _deleted_pod(self, pod: Pod, view: ObjectView) -> tuple[str, ...]:
        """deletePod: "enqueue a Recreate Deployment once all of its pods have stopped running" — the
        Deployment of the pod's resolved ReplicaSet (getDeploymentForPod), when it is Recreate and its
        ReplicaSets control no pod any more (the pod map getPodMapForDeployment builds, inactive pods
        included; the ReplicaSets read from the cache, where upstream's ListReplicaSets asks the API
        server)."""
        namespace = pod.metadata.namespace
        rs = _owner(view, pod, "replicasets.apps", "ReplicaSet")
        d = _owner(view, rs, "deployments.apps", "Deployment") if rs is not None else None
        if not isinstance(d, Deployment) or d.spec.strategy.type != "Recreate":
            return ()
        rs_list = [r for r in view.list("replicasets.apps", namespace)
                   if isinstance(r, ReplicaSet) and is_controlled_by(r, d)]
        others = [p for pods in pod_map(view, d, rs_list).values() for p in pods if p.metadata.uid != pod.metadata.uid]
        return () if others else (f"{namespace}/{d.metadata.name}",)

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """syncDeployment (see the module docstring)."""
        namespace, name = split_key(key)
        d = view.get(ObjectKey("deployments.apps", namespace, name))
        if not isinstance(d, Deployment):
            return Reconciliation((), memory)
        plan = Plan(d, self.identity, now, self.unavailable_one_when_both_zero)
        if d.spec.selector is None or d.spec.selector.is_empty():
            if d.status.observed_generation < d.metadata.generation:
                plan.set_status(evolve(d.status, observed_generation=d.metadata.generation))
            return Reconciliation(plan.finish(), memory)
        candidates = [r for r in view.list("replicasets.apps", namespace) if isinstance(r, ReplicaSet)]
        claimed = claim(d, d.spec.selector, candidates, "replicasets.apps", self.identity)
        plan.requests.extend(claimed.requests)
        rs_list = sorted((r for r in claimed.owned if isinstance(r, ReplicaSet)), key=du.rs_by_creation_key)
        self._sync(plan, view, rs_list)
        return Reconciliation(plan.finish(), memory, plan.requeue, after_failure=plan.create_failure,
                              tolerate=tolerate)

    def _sync(self, plan: Plan, view: ObjectView, rs_list: list[ReplicaSet]) -> None:
        d = plan.d
        if d.metadata.deletion_timestamp is not None:
            new_rs, old_rss = all_rss_and_sync_revision(plan, view, rs_list, False)
            sync_deployment_status(plan, [*old_rss, new_rs], new_rs)
            return
        _check_paused_conditions(plan)
        if d.spec.paused:
            sync(plan, view, rs_list)
            return
        target = rollback_to(d)
        if target is not None:
            rollback(plan, view, rs_list, target)
            return
        written = len(plan.requests)
        if _is_scaling_event(plan, view, rs_list):
            sync(plan, view, rs_list)
            return
        if len(plan.requests) > written:
            plan.requeue = True
            return
        strategy = self.strategies.get(d.spec.strategy.type)
        if strategy is not None:
            strategy(plan, view, rs_list)

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """requeueStuckDeployment's AddAfter: with a progress deadline, an incomplete rollout whose
        Progressing condition has not timed out is re-checked at lastUpdateTime + deadline + 1 s
        (the first model second at which DeploymentTimedOut holds). Not part of the protocol."""
        namespace, name = split_key(key)
        d = view.get(ObjectKey("deployments.apps", namespace, name))
        if not isinstance(d, Deployment) or not du.has_progress_deadline(d):
            return None
        cond = du.find_condition(d.status.conditions, PROGRESSING)
        if cond is None or cond.reason == du.TIMED_OUT_REASON or cond.last_update_time is None:
            return None
        if deployment_complete(d, d.status):
            return None
        return max(cond.last_update_time + (d.spec.progress_deadline_seconds or 0) + 1, now)


def _matching(rs: ApiObject, view: ObjectView) -> tuple[str, ...]:
    """getDeploymentsForReplicaSet: the Deployments of the namespace whose non-empty selector matches `rs`."""
    namespace = rs.metadata.namespace
    return tuple(
        f"{namespace}/{d.metadata.name}" for d in view.list("deployments.apps", namespace)
        if isinstance(d, Deployment) and d.spec.selector is not None and not d.spec.selector.is_empty()
        and selector_matches(d.spec.selector, rs.metadata.labels)
    )


def _owner(view: ObjectView, obj: ApiObject, resource: str, kind: str) -> ApiObject | None:
    """resolveControllerRef: the cached controller of `obj` if kind and UID match."""
    ref = controller_of(obj)
    if ref is None or ref.kind != kind:
        return None
    owner = view.get(ObjectKey(resource, obj.metadata.namespace, ref.name))
    return owner if owner is not None and owner.metadata.uid == ref.uid else None
