"""The deprecated rollback annotation (`kubeprop.model.controllers.deployment_rollback`; upstream
`pkg/controller/deployment/rollback.go`). audit21a: an apps/v1 Deployment applied with
`deprecated.deployment.rollback.to: "1"` (as an old extensions/v1beta1 export carries it) is rolled
back by v1.33's controller to revision 1's template, and the annotation cleared; the model ignored
the annotation and rolled web:2 out, so a wait for web:1 timed out (deploy-rollback-annotation,
`tests/model/data/deployment-rollback`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deployment_world import API, World, bring_up, make_deployment, new_template

from kubeprop.model.api.apps import Deployment
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.deployment import DeploymentController
from kubeprop.model.controllers.deployment_rollback import last_revision, rollback_to
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.registry import select

DATA = Path(__file__).resolve().parents[1] / "data" / "deployment-rollback"


def _annotated(d: Deployment, value: str) -> Deployment:
    return evolve(d, metadata=evolve(d.metadata, annotations=d.metadata.annotations.set(
        du.ROLLBACK_TO_ANNOTATION, value)))


def _at_revision_1() -> World:
    """Deployment `web` (2 replicas), rolled out: revision 1, all pods ready."""
    world = World(make_deployment("web", 2))
    bring_up(world, "web")
    return world


def test_the_audit_scenario_rolls_back_to_web_1_and_its_wait_succeeds() -> None:
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    run = fair_run(model, initial_state(model), max_steps=600)
    assert not run.exhausted
    (prop,) = select(["workload-steps-succeed"])
    assert prop.check(model, run.state) is None
    d = run.state.store.get(ObjectKey("deployments.apps", "default", "web"))
    assert isinstance(d, Deployment)
    assert d.spec.template.spec.containers[0].image == "web:1"
    assert du.ROLLBACK_TO_ANNOTATION not in d.metadata.annotations
    assert d.metadata.annotations[du.REVISION_ANNOTATION] == "3"  # revision 1's ReplicaSet, new again
    assert run.state.workload_next == 3


def test_a_rollback_in_the_sync_that_creates_the_new_replica_set_conflicts_then_succeeds() -> None:
    """The sync that meets the annotation first creates web:2's ReplicaSet and writes the status
    (revision 2), so its update of the Deployment, with the resourceVersion it read, is a 409; the
    retry writes nothing before the update, which lands: revision 1's template, annotation gone."""
    world = _at_revision_1()
    world.update_deployment("web", lambda d: _annotated(new_template(d), "1"))
    ctl = DeploymentController()
    decision = ctl.reconcile(world.store, "default/web", None, world.now)
    assert [(r.verb, r.resource) for r in decision.requests] == [
        ("create", "replicasets.apps"), ("update-status", "deployments.apps"), ("update", "deployments.apps")]
    codes = []
    for request in decision.requests:
        result = API.handle(world.store, request, world.now)
        world.store = result.store
        codes.append(result.response.code)
    assert codes == [201, 200, 409]
    retry = ctl.reconcile(world.store, "default/web", None, world.now)
    assert [(r.verb, r.resource) for r in retry.requests] == [("update", "deployments.apps")]
    world.reconcile(ctl, "default/web")
    d = world.deployment("web")
    assert du.ROLLBACK_TO_ANNOTATION not in d.metadata.annotations
    assert d.spec.template.spec.containers[0].env == ()
    assert du.POD_TEMPLATE_HASH_LABEL not in d.spec.template.metadata.labels
    bring_up(world, "web")
    (rs1,) = [r for r in world.replica_sets("web") if r.spec.template.spec.containers[0].env == ()]
    (rs2,) = [r for r in world.replica_sets("web") if r.spec.template.spec.containers[0].env != ()]
    assert (rs1.spec.replicas, rs2.spec.replicas) == (2, 0)
    assert rs2.metadata.annotations[du.REVISION_ANNOTATION] == "2"
    assert rs1.metadata.annotations[du.REVISION_ANNOTATION] == "3"
    assert rs1.metadata.annotations[du.REVISION_HISTORY_ANNOTATION] == "1"


@pytest.mark.parametrize("value", ["7", "-1"])
def test_a_revision_no_replica_set_has_only_clears_the_annotation(value: str) -> None:
    world = _at_revision_1()
    world.update_deployment("web", lambda d: _annotated(d, value))
    world.settle()
    d = world.deployment("web")
    assert du.ROLLBACK_TO_ANNOTATION not in d.metadata.annotations
    assert d.spec.template.spec.containers[0].env == ()
    assert len(world.replica_sets("web")) == 1


def test_revision_0_is_the_last_revision() -> None:
    world = _at_revision_1()
    world.update_deployment("web", new_template)
    bring_up(world, "web")
    world.update_deployment("web", lambda d: _annotated(d, "0"))
    world.settle()
    d = world.deployment("web")
    assert du.ROLLBACK_TO_ANNOTATION not in d.metadata.annotations
    assert d.spec.template.spec.containers[0].env == (), "back at revision 1's template"


def test_an_invalid_annotation_is_ignored_and_stays() -> None:
    """getRollbackTo: ParseInt fails → no rollback; nothing removes the annotation."""
    world = _at_revision_1()
    world.update_deployment("web", lambda d: _annotated(new_template(d), " 1"))
    bring_up(world, "web")
    d = world.deployment("web")
    assert d.metadata.annotations[du.ROLLBACK_TO_ANNOTATION] == " 1"
    assert d.spec.template.spec.containers[0].env != ()
    assert rollback_to(d) is None


def test_go_parse_int_rules_for_revisions() -> None:
    """strconv.ParseInt(v, 10, 64): a sign and ASCII digits within int64, nothing else."""
    assert [du.parse_int64(t) for t in ("3", "+3", "-3", "007")] == [3, 3, -3, 7]
    assert [du.parse_int64(t) for t in (" 3", "3 ", "3_0", "\u0663", "", "+", str(2**63))] == [None] * 7
    assert du.parse_int64(str(-(2**63))) == -(2**63)
    world = _at_revision_1()
    (rs,) = world.replica_sets("web")
    missing = evolve(rs, metadata=evolve(rs.metadata, annotations=rs.metadata.annotations.delete(
        du.REVISION_ANNOTATION)))
    odd = evolve(rs, metadata=evolve(rs.metadata, annotations=rs.metadata.annotations.set(
        du.REVISION_ANNOTATION, "2_0")))
    assert (du.revision(missing), du.revision(odd)) == (0, None)
    assert last_revision([rs, odd, missing]) == 0 and du.max_revision([rs, odd]) == 1
