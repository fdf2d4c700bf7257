"""The seed document's §1 claims about the API server, checked against the model (docs/claims.md).

Each test is the evidence quoted in docs/claims.md; if the model changes so that a verdict no
longer holds, the test fails and the page must be revisited.
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.admission import DEFAULT_PLUGINS, AdmissionPlugin, AdmissionRequest
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import (
    ApiObject,
    Container,
    Deployment,
    DeploymentSpec,
    PodSpec,
    PodTemplateSpec,
)
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import load_scenario

SCENARIO = load_scenario()
STORE = bootstrap(SCENARIO).store


def _deployment(name: str, replicas: int | None) -> Deployment:
    labels = FrozenMap({"app": name})
    return Deployment(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=DeploymentSpec(replicas=replicas, selector=LabelSelector(match_labels=labels),
                            template=PodTemplateSpec(ObjectMeta(labels=labels),
                                                     PodSpec(containers=(Container(name="c", image="x:1"),)))),
    )


def _break_replicas(req: AdmissionRequest) -> ApiObject:
    obj = req.obj
    assert obj is not None
    if isinstance(obj, Deployment):
        return attrs.evolve(obj, spec=attrs.evolve(obj.spec, replicas=-1))
    return obj


def test_mutation_runs_before_validation() -> None:
    """Seed §1 lists VALIDATION (3) before MUTATION (4). Upstream runs mutating admission first and
    validates its result: a mutating plug-in that breaks an object gets the object rejected."""
    plugin = AdmissionPlugin("BreakReplicas", mutate=_break_replicas)
    config = ApiServerConfig(users=SCENARIO.users, admission=(*DEFAULT_PLUGINS, plugin))
    result = handle(STORE, Request(verb="create", user="admin", obj=_deployment("web", 2)), config, 0)
    assert result.response.code == 422
    assert any(e.path == ("spec", "replicas") for e in result.response.errors)


def test_name_conflicts_are_found_at_storage_not_validation() -> None:
    """Seed §1 puts "Check for conflicts (name already exists?)" inside VALIDATION. Upstream finds
    an existing name only in the storage transaction, after validation: an invalid object with an
    existing name is 422 Invalid, a valid one 409 AlreadyExists."""
    config = ApiServerConfig(users=SCENARIO.users, admission=SCENARIO.admission)
    taken = "feastflow-backend"
    invalid = handle(STORE, Request(verb="create", user="admin", obj=_deployment(taken, -3)), config, 0)
    valid = handle(STORE, Request(verb="create", user="admin", obj=_deployment(taken, 3)), config, 0)
    assert (invalid.response.code, valid.response.code) == (422, 409)


def test_defaults_replicas_one() -> None:
    """Seed §1: "Apply defaults (replicas=1 if not specified)" — holds (scheme defaulting)."""
    config = ApiServerConfig(users=SCENARIO.users, admission=SCENARIO.admission)
    result = handle(STORE, Request(verb="create", user="admin", obj=_deployment("fresh", None)), config, 0)
    assert isinstance(result.response.obj, Deployment)
    assert (result.response.code, result.response.obj.spec.replicas) == (201, 1)


def test_create_produces_a_watch_event_not_a_deployment_created_event() -> None:
    """Seed §1: 'Event created: "DeploymentCreated"'. The API server records no Event object for a
    create; watchers get an ADDED watch event at the new revision."""
    config = ApiServerConfig(users=SCENARIO.users, admission=SCENARIO.admission)
    result = handle(STORE, Request(verb="create", user="admin", obj=_deployment("fresh", 1)), config, 0)
    assert [(e.type, str(e.key)) for e in result.events] == [("ADDED", "deployments.apps/default/fresh")]
    assert not any(k.resource == "events" for k in result.store.objects)
