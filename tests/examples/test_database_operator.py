"""The Database operator example (examples/database_operator): a user-supplied controller
registered by a scenario converges, scales, and keeps its own properties."""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from cluster_harness import stored
from user_modules import user_folder

from kubeprop.model.api.objects import CustomObject, ObjectKey, Pod, Secret, Service, StatefulSet
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import Settled, settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send
from kubeprop.properties.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "database_operator"
DB = ObjectKey("databases.example.com", "default", "orders")
SERVICE = ObjectKey("services", "default", "orders")
SECRET = ObjectKey("secrets", "default", "orders-credentials")
STS = ObjectKey("statefulsets.apps", "default", "orders")


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example's properties module, with the example folder on sys.path (as
    `PYTHONPATH=examples/database_operator` does) so the scenario's `controllers:` imports."""
    with user_folder(monkeypatch, EXAMPLE):  # the module registers its properties, removed again afterwards
        # Loaded by file path under a name of its own, so the test does not depend on sys.modules.
        spec = importlib.util.spec_from_file_location("database_operator_properties",
                                                      EXAMPLE / "database_properties.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def _model(instant: bool) -> ClusterModel:
    return build_model(load_scenario(EXAMPLE / "scenario.yaml"), parameters={"instantCaches": instant})


def _replay(model: ClusterModel, start: ClusterState, settled: Settled) -> list[ClusterState]:
    """Every state of a settle trace, the start included."""
    states = [start]
    for act in settled.trace:
        states.append(step(model, states[-1], act))
    assert states[-1] == settled.state
    return states


def _database(state: ClusterState) -> CustomObject:
    return stored(state, DB, CustomObject)


def _ready(pod: Pod) -> bool:
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def _assert_converged(state: ClusterState, replicas: int) -> None:
    db = _database(state)
    for key, kind in ((SERVICE, Service), (SECRET, Secret), (STS, StatefulSet)):
        child = state.store.get(key)
        assert isinstance(child, kind), key
        [ref] = child.metadata.owner_references
        assert (ref.kind, ref.name, ref.uid) == ("Database", "orders", db.metadata.uid)
        assert ref.controller and ref.block_owner_deletion
    sts = state.store.get(STS)
    assert isinstance(sts, StatefulSet) and sts.spec.replicas == replicas
    pods = [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]
    assert sorted(p.metadata.name for p in pods) == [f"orders-{i}" for i in range(replicas)]
    assert all(_ready(p) and p.spec.containers[0].image.startswith("postgres") for p in pods)
    assert db.status == {"phase": "Ready", "readyReplicas": replicas, "observedGeneration": db.metadata.generation}


def _assert_properties(example: ModuleType, states: list[ClusterState]) -> None:
    for i, state in enumerate(states):
        assert example.check(example.ALWAYS, state) == [], f"state {i}"
    for i, (before, after) in enumerate(itertools.pairwise(states)):
        assert all(p(before, after) is None for p in example.TRANSITIONS), f"step {i + 1}"
    assert example.check(example.SETTLED, states[-1]) == []


def _kubectl_apply_v2(model: ClusterModel, state: ClusterState) -> ClusterState:
    """What `kubectl apply -f manifests-v2/` sends for the existing Database: a merge patch. It
    carries the current resourceVersion because the model's PATCH of a custom resource without one
    is refused (422; upstream a patch is applied to the current object, unconditionally)."""
    rv = _database(state).metadata.resource_version
    patch: dict[str, Any] = {"spec": {"replicas": 2}, "metadata": {"resourceVersion": rv}}
    request = Request(verb="patch", user="admin", resource=DB.resource, namespace="default", name="orders",
                      patch=patch)
    before = state.store.revision
    state, response = send(model, state, "admin", request, "user")
    assert response.ok, response
    if model.instant_caches:  # as `step` does: hand the write's events to every component at once
        state = deliver_instantly(model, state, (e for e in state.store.events if e.revision > before))
    return state


@pytest.mark.parametrize("instant", [True, False], ids=["instant-caches", "lagging-caches"])
def test_the_operator_converges_and_scales(example: ModuleType, instant: bool) -> None:
    model = _model(instant)
    start = initial_state(model)
    first = settle(model, start)
    assert not first.exhausted
    states = _replay(model, start, first)
    _assert_converged(first.state, replicas=1)
    assert _database(first.state).metadata.generation == 1
    secret = first.state.store.get(SECRET)
    _assert_properties(example, states)

    scaled = _kubectl_apply_v2(model, first.state)
    assert _database(scaled).metadata.generation == 2
    second = settle(model, scaled)
    assert not second.exhausted
    _assert_converged(second.state, replicas=2)
    assert second.state.store.get(SECRET) == secret  # credentials untouched by the scale-up
    _assert_properties(example, [first.state, *_replay(model, scaled, second)])


def test_the_workload_apply_step_scales_the_database(example: ModuleType) -> None:
    model = _model(True)
    settled = settle(model, initial_state(model)).state
    state = settle(model, step(model, settled, UserStep(0))).state
    _assert_converged(state, replicas=2)


def test_the_operator_is_idempotent_once_converged(example: ModuleType) -> None:
    model = _model(True)
    state = settle(model, initial_state(model)).state
    operator = next(c for c in model.controllers if c.name == "database")
    decision = operator.reconcile(state.store, "default/orders", operator.initial_memory(), state.clock)
    assert decision.requests == () and not decision.requeue


def test_a_property_fails_on_a_store_without_the_secret(example: ModuleType) -> None:
    model = _model(True)
    state = settle(model, initial_state(model)).state
    broken = attrs.evolve(state, store=attrs.evolve(state.store, objects=state.store.objects.delete(SECRET)))
    message = example.every_database_has_its_children(broken)
    assert message is not None and "secrets/default/orders-credentials is missing" in message
    assert example.ready_database_has_its_children(broken) is not None  # status says Ready, Secret gone
    assert example.every_database_has_its_children(state) is None


def test_credentials_properties_catch_a_changed_password(example: ModuleType) -> None:
    model = _model(True)
    state = settle(model, initial_state(model)).state
    secret = state.store.get(SECRET)
    assert isinstance(secret, Secret)
    tampered = attrs.evolve(secret, data=secret.data.set("password", "aHVudGVyMg=="))
    changed = attrs.evolve(state, store=attrs.evolve(state.store, objects=state.store.objects.set(SECRET, tampered)))
    assert example.credentials_secret_is_stable(changed) is not None
    assert example.credentials_never_change(state, changed) is not None
    # The operator repairs the Secret on its next reconcile.
    repaired = settle(model, attrs.evolve(changed, controllers=changed.controllers.set(
        "database", changed.controllers["database"].enqueue(("default/orders",))))).state
    assert repaired.store.get(SECRET).data == secret.data  # type: ignore[union-attr]


@pytest.mark.parametrize("instant", [True, False], ids=["instant-caches", "lagging-caches"])
def test_deleting_the_database_garbage_collects_its_children(example: ModuleType, instant: bool) -> None:
    # The garbage collector watches the scenario's custom resources: the Database's Service, Secret
    # and StatefulSet (and so its pods) go with it. The PersistentVolumeClaim stays, as upstream's
    # StatefulSet default (persistentVolumeClaimRetentionPolicy whenDeleted: Retain) keeps it.
    model = _model(instant)
    state = settle(model, initial_state(model)).state
    before = state.store.revision
    delete = Request(verb="delete", user="admin", resource=DB.resource, namespace="default", name="orders")
    state, response = send(model, state, "admin", delete, "user")
    assert response.ok, response
    if model.instant_caches:
        state = deliver_instantly(model, state, (e for e in state.store.events if e.revision > before))
    done = settle(model, state)
    assert not done.exhausted
    left = sorted(str(k) for k in done.state.store.objects if k.namespace == "default" and k.resource in (
        DB.resource, "services", "secrets", "statefulsets.apps", "pods", "persistentvolumeclaims"))
    assert left == ["persistentvolumeclaims/default/data-orders-0"]


def test_kubeprop_check_checks_the_scenarios_own_properties(example: ModuleType, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLE / "scenario.yaml"), "--engine", "walk", "--workers", "1", "--runs", "5",
                 "--max-depth", "30", "--budget", "60", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("ready-database-has-its-children", "every-database-has-its-children",
                 "database-status-matches-statefulset"):
        assert re.search(rf"{name} +held \(bounded\)", out), name
