"""The Deployment controller with the ReplicaSet controller in a "perfect world": both reconcile
every queued key against the store itself, their requests are applied through the real API server
as system:kube-controller-manager, and the test plays the kubelet (binding pods and marking them
Ready, finishing graceful deletions) as system:admin."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from deployment_world import API, BASE, CM, World, bring_up, make_deployment, new_template

from kubeprop.model.api.apps import (
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
)
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.deployment import DeploymentController
from kubeprop.model.controllers.deployment_rollout import replica_failure
from kubeprop.model.controllers.podutil import is_pod_active, is_pod_ready
from kubeprop.model.controllers.replicaset import ReplicaSetController
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import ADMIN


def test_feastflow_backend_gets_one_hashed_replica_set_whose_pods_carry_generate_name_and_controller_refs() -> None:
    world = World(BASE)
    world.settle()
    d = world.deployment("feastflow-backend")
    (rs,) = world.replica_sets("feastflow-backend")
    template_hash = du.compute_hash(d.spec.template, None)
    assert rs.metadata.name == f"feastflow-backend-{template_hash}"
    assert set(template_hash) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(template_hash) <= 10
    assert rs.spec.replicas == 3
    assert rs.metadata.labels["pod-template-hash"] == template_hash
    assert rs.spec.selector is not None and rs.spec.selector.match_labels["pod-template-hash"] == template_hash
    assert rs.spec.template.metadata.labels["pod-template-hash"] == template_hash
    assert rs.metadata.annotations[du.REVISION_ANNOTATION] == "1"
    assert rs.metadata.annotations[du.DESIRED_REPLICAS_ANNOTATION] == "3"
    assert rs.metadata.annotations[du.MAX_REPLICAS_ANNOTATION] == "4"
    ref = rs.metadata.controller_ref()
    assert ref is not None and (ref.kind, ref.name, ref.uid, ref.block_owner_deletion) == (
        "Deployment", "feastflow-backend", d.metadata.uid, True)
    pods = world.pods("feastflow-backend")
    assert len(pods) == 3
    for pod in pods:
        assert pod.metadata.generate_name == f"{rs.metadata.name}-"
        assert pod.metadata.name.startswith(rs.metadata.name + "-")
        pod_ref = pod.metadata.controller_ref()
        assert pod_ref is not None and pod_ref.uid == rs.metadata.uid and pod_ref.kind == "ReplicaSet"


def test_status_fields_and_conditions_after_convergence() -> None:
    world = World(BASE)
    bring_up(world, "feastflow-backend")
    d = world.deployment("feastflow-backend")
    s = d.status
    assert (s.observed_generation, s.replicas, s.updated_replicas, s.ready_replicas, s.available_replicas,
            s.unavailable_replicas) == (d.metadata.generation, 3, 3, 3, 3, 0)
    available = du.find_condition(s.conditions, "Available")
    progressing = du.find_condition(s.conditions, "Progressing")
    assert available is not None and (available.status, available.reason) == ("True", "MinimumReplicasAvailable")
    assert progressing is not None and (progressing.status, progressing.reason) == ("True", "NewReplicaSetAvailable")


@attrs.define
class RolloutCheck:
    """After every write: at most `max_pods` active pods, at least `min_available` ready ones;
    records the extremes seen."""

    app: str
    max_pods: int
    min_available: int
    peak: int = 0
    trough: int = 1_000

    def __call__(self, store: Store) -> None:
        pods = [p for p in store.list("pods", "default")
                if isinstance(p, Pod) and p.metadata.labels.get("app") == self.app]
        active = [p for p in pods if is_pod_active(p)]
        ready = sum(1 for p in active if is_pod_ready(p))
        assert len(active) <= self.max_pods, f"{len(active)} pods"
        assert ready >= self.min_available, f"{ready} ready"
        self.peak, self.trough = max(self.peak, len(active)), min(self.trough, ready)


def roll(world: World, app: str) -> None:
    """Settle; make the first not-ready pod (by name) ready; repeat until nothing is left to do."""
    for _ in range(200):
        world.settle()
        pending = sorted((p for p in world.pods(app) if is_pod_active(p) and not is_pod_ready(p)),
                         key=lambda p: p.metadata.name)
        if not pending:
            return
        world.now += 1
        world.make_ready(pending[0])
    raise AssertionError("rollout did not end")


def test_rolling_update_of_ten_replicas_stays_within_surge_and_unavailability() -> None:
    world = World(make_deployment("web", 10))
    bring_up(world, "web")
    check = world.check = RolloutCheck("web", max_pods=13, min_available=8)
    world.update_deployment("web", new_template)
    roll(world, "web")
    assert (check.peak, check.trough) == (13, 8)
    old, new = world.replica_sets("web")
    assert (old.spec.replicas, new.spec.replicas) == (0, 10)
    assert new.metadata.annotations[du.REVISION_ANNOTATION] == "2"
    active = [p for p in world.pods("web") if is_pod_active(p)]
    assert all(p.metadata.owner_references[0].uid == new.metadata.uid for p in active)
    s = world.deployment("web").status
    assert (s.replicas, s.updated_replicas, s.available_replicas) == (10, 10, 10)


def test_recreate_never_runs_old_and_new_pods_together() -> None:
    world = World(make_deployment("web", 3, strategy="Recreate"))
    bring_up(world, "web")
    (old_rs,) = world.replica_sets("web")

    def check(store: Store) -> None:
        pods = [p for p in store.list("pods", "default")
                if isinstance(p, Pod) and p.metadata.labels.get("app") == "web"]
        old = [p for p in pods if p.metadata.owner_references[0].uid == old_rs.metadata.uid
               and p.status.phase not in ("Succeeded", "Failed")]
        new = [p for p in pods if p.metadata.owner_references[0].uid != old_rs.metadata.uid]
        assert not (old and new), "old and new pods at the same time"

    world.check = check
    world.update_deployment("web", new_template)
    world.settle()
    assert [p.metadata.deletion_timestamp is not None for p in world.pods("web")] == [True, True, True]
    assert len(world.replica_sets("web")) == 1  # waits for the terminating pods before creating the new RS
    world.finish_deletions()
    bring_up(world, "web")
    old, new = world.replica_sets("web")
    assert (old.spec.replicas, new.spec.replicas, new.status.ready_replicas) == (0, 3, 3)


@pytest.mark.parametrize("rule", [True, False])
def test_rollout_fencepost_variant_never_finishes(rule: bool) -> None:
    # maxSurge 0 and maxUnavailable 1% of 10 (floors to 0): upstream resolves unavailable to 1.
    world = World(make_deployment("web", 10, surge=0, unavailable="1%"),
                  controllers=(DeploymentController(unavailable_one_when_both_zero=rule), ReplicaSetController()))
    bring_up(world, "web")
    world.check = RolloutCheck("web", max_pods=10, min_available=9 if rule else 10)
    world.update_deployment("web", new_template)
    roll(world, "web")
    old, new = world.replica_sets("web")
    if rule:
        assert (old.spec.replicas, new.spec.replicas) == (0, 10)
    else:
        assert (old.spec.replicas, new.spec.replicas) == (10, 0)
        assert world.deployment("web").status.updated_replicas == 0


def test_fenceposts_resolve_like_upstream() -> None:
    assert du.resolve_fenceposts("25%", "25%", 10) == (3, 2)
    assert du.resolve_fenceposts("25%", "25%", 3) == (1, 0)
    assert du.resolve_fenceposts("25%", "25%", 1) == (1, 0)
    assert du.resolve_fenceposts(0, "1%", 10) == (0, 1)
    assert du.resolve_fenceposts(0, "1%", 10, zero_unavailable_to_one=False) == (0, 0)


def test_paused_deployment_does_not_roll_out_but_scales() -> None:
    world = World(make_deployment("web", 3))
    bring_up(world, "web")
    world.update_deployment("web", lambda d: attrs.evolve(new_template(d), spec=attrs.evolve(new_template(d).spec,
                                                                                             paused=True)))
    world.settle()
    (rs,) = world.replica_sets("web")
    progressing = du.find_condition(world.deployment("web").status.conditions, "Progressing")
    assert progressing is not None and (progressing.status, progressing.reason) == ("Unknown", "DeploymentPaused")
    world.update_deployment("web", lambda d: attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=5)))
    bring_up(world, "web")
    (rs,) = world.replica_sets("web")
    assert rs.spec.replicas == 5 and rs.metadata.annotations[du.DESIRED_REPLICAS_ANNOTATION] == "5"
    world.update_deployment("web", lambda d: attrs.evolve(d, spec=attrs.evolve(d.spec, paused=False)))
    bring_up(world, "web")
    old, new = world.replica_sets("web")
    assert (old.spec.replicas, new.spec.replicas) == (0, 5)


def test_progress_deadline_exceeded_when_pods_never_become_ready() -> None:
    world = World(make_deployment("web", 2, progress_deadline_seconds=60))
    world.settle()
    cond = du.find_condition(world.deployment("web").status.conditions, "Progressing")
    assert cond is not None and cond.status == "True" and cond.last_update_time == 1
    ctl = DeploymentController()
    assert ctl.wakeup_at(world.store, "default/web", 1) == 62
    world.now = 61
    world.settle()
    cond = du.find_condition(world.deployment("web").status.conditions, "Progressing")
    assert cond is not None and cond.status == "True"
    world.now = 62
    world.settle()
    cond = du.find_condition(world.deployment("web").status.conditions, "Progressing")
    assert cond is not None and (cond.status, cond.reason) == ("False", "ProgressDeadlineExceeded")
    assert ctl.wakeup_at(world.store, "default/web", 62) is None


def test_scaling_mid_rollout_is_proportional() -> None:
    world = World(make_deployment("web", 10))
    bring_up(world, "web")
    world.update_deployment("web", new_template)
    world.settle()  # new RS created at 3 (surge), old RS down to 8, new RS up to 5; no new pod ready
    old, new = world.replica_sets("web")
    assert (old.spec.replicas, new.spec.replicas) == (8, 5)
    assert old.metadata.annotations[du.MAX_REPLICAS_ANNOTATION] == "13"
    world.update_deployment("web", lambda d: attrs.evolve(d, spec=attrs.evolve(d.spec, replicas=20)))
    dc = DeploymentController()
    world.reconcile(dc, "default/web")
    old, new = world.replica_sets("web")
    # allowed = 20 + 5 surge = 25, to add 12, largest first: old 8 -> round(8*25/13) = 15 (+7),
    # new 5 -> round(5*25/13) = 10 (+5, all that is left); no leftover.
    assert (old.spec.replicas, new.spec.replicas) == (15, 10)
    assert old.metadata.annotations[du.MAX_REPLICAS_ANNOTATION] == "25"


def test_rs_fraction_falls_back_to_status_replicas_on_a_zero_or_malformed_max_replicas_annotation() -> None:
    """getReplicaSetFraction (v1.33, kubernetes/kubernetes#128535): a max-replicas annotation that
    is 0, signed, or beyond int32 (getNonNegativeInt32FromAnnotation: ParseUint base 10, 32 bits)
    counts as missing, so the Deployment's status.replicas is the base; only when that is 0 too
    does the ReplicaSet keep its size. Before, 0 meant no change and "+4", "-4", "1_0" were parsed."""
    def fraction(annotation: str, status_replicas: int = 10) -> int:
        d = Deployment(metadata=ObjectMeta(name="web", namespace="default"),
                       spec=DeploymentSpec(replicas=20, strategy=DeploymentStrategy(type="Recreate")),
                       status=DeploymentStatus(replicas=status_replicas))
        rs = ReplicaSet(metadata=ObjectMeta(name="web-1", namespace="default",
                                            annotations={du.MAX_REPLICAS_ANNOTATION: annotation}),
                        spec=ReplicaSetSpec(replicas=5))
        return du.rs_fraction(rs, d)

    # Scaled from status.replicas 10 to 20: the 5-replica set doubles, +5.
    assert [fraction(a) for a in ("0", "+4", "-4", " 4", "1_0", str(2**31))] == [5] * 6
    assert fraction("4") == 20 and fraction("0004") == 20  # 5 * 20 / 4 = 25: ParseUint takes leading zeros
    assert fraction("0", status_replicas=0) == 0


@pytest.mark.parametrize("annotation", ["+7", " 7", "0_7", str(2**31 + 7)])
def test_a_desired_replicas_annotation_that_is_not_plain_digits_is_no_scaling_event(annotation: str) -> None:
    """isScalingEvent reads the desired-replicas annotation with GetDesiredReplicasAnnotation
    (v1.33: getNonNegativeInt32FromAnnotation, ParseUint base 10, 32 bits), so a value with a sign,
    a space or `_`, or beyond int32 is skipped, not a scaling event. Mid-rollout the sync then rolls
    (nothing to do: the surge is used, no new pod ready) and leaves the old RS alone; a scaling
    event would run `scale`, which rewrites the annotation to spec.replicas. Python's `int` took
    "+7", " 7" and "0_7", and the model scaled."""
    world = World(make_deployment("web", 10))
    bring_up(world, "web")
    world.update_deployment("web", new_template)
    world.settle()
    old, _ = world.replica_sets("web")
    annotations = {**old.metadata.annotations, du.DESIRED_REPLICAS_ANNOTATION: annotation}
    assert world.send(Request(verb="update", user=ADMIN,
                              obj=attrs.evolve(old, metadata=attrs.evolve(old.metadata, annotations=annotations))))
    world.reconcile(DeploymentController(), "default/web")
    old, new = world.replica_sets("web")
    assert (old.spec.replicas, new.spec.replicas) == (8, 5)
    assert old.metadata.annotations[du.DESIRED_REPLICAS_ANNOTATION] == annotation


def test_revision_history_limit_keeps_only_the_newest_old_replica_sets() -> None:
    world = World(make_deployment("web", 1, revision_history_limit=1))
    bring_up(world, "web")
    for version in ("2", "3", "4"):
        world.update_deployment("web", lambda d, v=version: new_template(d, v))
        roll(world, "web")
        bring_up(world, "web")
    revisions = [rs.metadata.annotations[du.REVISION_ANNOTATION] for rs in world.replica_sets("web")]
    assert revisions == ["3", "4"]


def test_template_hash_is_deterministic_and_changes_with_the_collision_count() -> None:
    d = BASE.get(ObjectKey("deployments.apps", "default", "feastflow-backend"))
    assert isinstance(d, Deployment)
    assert du.compute_hash(d.spec.template, None) == du.compute_hash(d.spec.template, None)
    assert du.compute_hash(d.spec.template, 1) != du.compute_hash(d.spec.template, None)
    assert du.compute_hash(new_template(d).spec.template, None) != du.compute_hash(d.spec.template, None)


def test_keys_for_maps_replica_sets_to_their_deployment() -> None:
    world = World(BASE)
    world.settle()
    dc = DeploymentController()
    (rs,) = world.replica_sets("feastflow-backend")
    assert list(dc.keys_for(rs, world.store)) == ["default/feastflow-backend"]
    assert list(dc.keys_for(world.deployment("feastflow-frontend"), world.store)) == ["default/feastflow-frontend"]
    assert list(dc.keys_for(world.pods("feastflow-backend")[0], world.store)) == []


def test_replacing_one_strategy_keeps_the_rest_of_the_controller() -> None:
    # Issue 13: a Recreate Deployment under a controller whose Recreate strategy is the built-in
    # rolling update: old and new pods run together during the rollout, which a Recreate never does.
    from kubeprop.model.controllers.deployment import STRATEGIES, rolling_update

    controller = DeploymentController().with_strategy("Recreate", rolling_update)
    assert controller.strategies["RollingUpdate"] is STRATEGIES["RollingUpdate"]
    world = World(make_deployment("web", 3, strategy="Recreate"), controllers=(controller, ReplicaSetController()))
    bring_up(world, "web")
    (old_rs,) = world.replica_sets("web")
    overlap: list[bool] = []

    def check(store: Store) -> None:
        pods = [p for p in store.list("pods", "default") if isinstance(p, Pod) and p.metadata.labels.get("app") == "web"
                and is_pod_active(p)]
        overlap.append(len({p.metadata.owner_references[0].uid for p in pods}) > 1)

    world.check = check
    world.update_deployment("web", new_template)
    roll(world, "web")
    old, new = world.replica_sets("web")
    assert old.metadata.uid == old_rs.metadata.uid
    assert (old.spec.replicas, new.spec.replicas, new.status.ready_replicas) == (0, 3, 3)
    assert any(overlap), "the replaced strategy was not used: old and new pods never ran together"


def test_a_strategy_type_without_a_strategy_only_syncs_status() -> None:
    def frozen(plan: Any, view: Any, rs_list: Any) -> None:
        """A strategy that never rolls out."""

    world = World(make_deployment("web", 2), controllers=(DeploymentController().with_strategy("RollingUpdate", frozen),
                                                          ReplicaSetController()))
    world.settle()
    assert world.replica_sets("web") == [] and world.pods("web") == []


def _rs(name: str, failure: Condition | None) -> ReplicaSet:
    return ReplicaSet(metadata=ObjectMeta(name=name, namespace="default"),
                      status=ReplicaSetStatus(conditions=() if failure is None else (failure,)))


def test_the_deployment_takes_the_new_replica_sets_failure_first_and_drops_it_when_none_is_left() -> None:
    old = Condition(type="ReplicaFailure", status="True", reason="FailedDelete", message="old", last_transition_time=3)
    new = Condition(type="ReplicaFailure", status="True", reason="FailedCreate", message="new", last_transition_time=5)
    old_rs, new_rs = _rs("web-old", old), _rs("web-new", new)
    status = replica_failure(DeploymentStatus(), [old_rs, new_rs], new_rs)
    assert status.conditions == (evolve(new, last_update_time=5),)
    assert replica_failure(DeploymentStatus(), [old_rs, _rs("web-new", None)], _rs("web-new", None)).conditions == (
        evolve(old, last_update_time=3),)
    # the same status and reason: SetDeploymentCondition keeps the Deployment's condition as it is
    kept = replica_failure(status, [old_rs, new_rs], evolve(new_rs, status=ReplicaSetStatus(conditions=(
        evolve(new, message="later", last_transition_time=9),))))
    assert kept.conditions == status.conditions
    assert replica_failure(status, [_rs("web-new", None)], _rs("web-new", None)).conditions == ()


def test_a_refused_new_replica_set_create_sets_progressing_false_replica_set_create_error() -> None:
    """getNewReplicaSet (sync.go): a failed create of the new ReplicaSet sets Progressing False,
    ReplicaSetCreateError, on the Deployment and writes its status (with a progress deadline)."""
    store = make_deployment("web", 2)
    ctl = DeploymentController()
    decision = ctl.reconcile(store, "default/web", None, 4)
    create = next(r for r in decision.requests if r.verb == "create")
    assert create.resource == "replicasets.apps" and decision.after_failure is not None
    refused = Response(403, "Forbidden", f'replicasets.apps "{create.name}" is forbidden: exceeded quota: q')
    (status,) = decision.after_failure(create, refused)
    assert status.verb == "update-status" and isinstance(status.obj, Deployment)
    progressing = du.find_condition(status.obj.status.conditions, "Progressing")
    assert progressing is not None and (progressing.status, progressing.reason, progressing.message) == (
        "False", "ReplicaSetCreateError", f'Failed to create new replica set "{create.name}": {refused.message}')
    assert decision.after_failure(Request(verb="patch", user=CM, resource="replicasets.apps", name="x"), refused) == ()
    # a slow cache's AlreadyExists and a terminating namespace are no ReplicaSetCreateError upstream
    exists = Response(409, "AlreadyExists", f'replicasets.apps "{create.name}" already exists')
    terminating = Response(403, "Forbidden", f'replicasets.apps "{create.name}" is forbidden: unable to create new '
                                             'content in namespace default because it is being terminated')
    assert decision.after_failure(create, exists) == decision.after_failure(create, terminating) == ()
    # the same failure again: SetDeploymentCondition changes nothing, so nothing is written
    again = ctl.reconcile(API.handle(store, status, 5).store, "default/web", None, 6)
    assert again.after_failure is not None and again.after_failure(create, refused) == ()
    # without a progress deadline upstream writes nothing after the failure
    none = make_deployment("web", 2, progress_deadline_seconds=2147483647)
    assert ctl.reconcile(none, "default/web", None, 4).after_failure is None
