"""The correct twin of a variant's model (`kubeprop.model.cluster.twin`): the same scenario,
parameters, fault budget and code-given controllers, with only the variant's mechanism undone."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.cluster.twin import correct_twin
from kubeprop.model.controllers.replicaset import ReplicaSetController
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.variants import SETTINGS, VARIANTS, mechanism

DATA = Path(__file__).resolve().parents[1] / "data" / "variants"
WEB = DATA / "web.yaml"


def test_the_correct_model_is_its_own_twin() -> None:
    model = build_model(load_scenario(WEB))
    assert correct_twin(model) is model


def test_the_twin_undoes_the_mechanism_and_keeps_every_other_parameter() -> None:
    model = build_model(load_scenario(WEB), parameters={"expectationsTimeoutSeconds": 60},
                        variant="rs-no-expectations")
    twin = correct_twin(model)
    assert twin.variant == "correct" and twin.scenario is model.scenario and twin.budget == model.budget
    assert model.parameter("replicaSetExpectations") is False and twin.parameter("replicaSetExpectations") is True
    # lagging caches are how upstream runs, not the bug: kept; and so is the caller's own parameter
    assert twin.parameter("instantCaches") is False and twin.parameter("expectationsTimeoutSeconds") == 60
    assert {k for k in model.parameters if model.parameters[k] != twin.parameters[k]} == {"replicaSetExpectations"}
    assert twin == build_model(load_scenario(WEB), parameters={"expectationsTimeoutSeconds": 60})


def test_the_twin_keeps_the_instant_caches_reduction_a_variant_refused() -> None:
    """`instantCaches` is a setting (`SETTINGS`): a scenario that asks for instant caches gets the
    lagging ones a variant needs, and so does the variant's twin."""
    model = build_model(load_scenario(WEB), parameters={"instantCaches": True}, variant="endpoints-terminating")
    assert correct_twin(model).parameter("instantCaches") is True
    stale = build_model(load_scenario(WEB), variant="endpoints-stale-cache")
    twin = correct_twin(stale)
    assert twin.parameter("instantCaches") is False and twin.parameter("endpointsStaleCacheTracking") is True


def test_a_dual_scheduler_twin_runs_one_scheduler_under_leader_election() -> None:
    model = build_model(load_scenario(WEB), variant="dual-scheduler")
    twin = correct_twin(model)
    assert model.scheduler_instances == ("scheduler", "scheduler-2")
    assert twin.scheduler_instances == ("scheduler",) and twin.parameter("leaderElection") is True


def test_the_twin_keeps_the_controllers_given_in_code() -> None:
    mine = ReplicaSetController(use_expectations=False)
    model = build_model(load_scenario(WEB), variant="endpoints-terminating", controllers=(mine,))
    twin = correct_twin(model)
    assert any(c is mine for c in twin.controllers) and twin.added_controllers == (mine,)
    assert [c.name for c in twin.controllers] == [c.name for c in model.controllers]


def test_every_variant_has_a_mechanism_and_only_settings_are_kept() -> None:
    for name, variant in VARIANTS.items():
        undone = mechanism(name)
        assert set(undone) == set(variant.parameters) - SETTINGS
        assert name == "correct" or undone, name  # a variant that changed nothing would be its own twin
