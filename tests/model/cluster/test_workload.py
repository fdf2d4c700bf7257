"""Workload steps as kubectl runs them (issue 12): client-side apply is kubectl's three-way merge
(staging/src/k8s.io/kubectl/pkg/cmd/apply/, strategicpatch.CreateThreeWayMergePatch), server-side
apply tracks field ownership, `delete` resolves custom kinds through their CRD, and any error a
step gets is a scenario error reported by `workload-steps-succeed`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from cluster_harness import stored
from scenario_text import HEAD, ONE_WORKER, widgets_crd

from kubeprop.model.api.objects import CustomObject, Deployment, ObjectKey, Pod
from kubeprop.model.api.strategic import LAST_APPLIED_ANNOTATION
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select

USERS = "users: [{name: admin, clusterRoles: [cluster-admin]}, {name: viewer, clusterRoles: [view]}]\n"
STEPS_SUCCEED = select(["workload-steps-succeed"])
KEY = ObjectKey("deployments.apps", "default", "web")


def _deployment(image: str, labels: dict[str, str], env: list[str], replicas: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": image, "env": [{"name": n, "value": "1"} for n in env]}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": labels}, "spec": spec}


def _scenario(tmp: Path, files: dict[str, Any], workload: str, manifests: str = "[]") -> ClusterModel:
    for name, body in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(body if isinstance(body, str) else json.dumps(body))
    (tmp / "scenario.yaml").write_text(
        HEAD + ONE_WORKER + USERS
        + f"manifests: {manifests}\nworkload:\n{workload}")
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True})


def _run_steps(model: ClusterModel, state: ClusterState | None = None) -> ClusterState:
    """Every workload step in order, each as soon as it is enabled, the cluster settling in between."""
    state = state or initial_state(model)
    for index in range(len(model.scenario.spec.workload)):
        assert UserStep(index) in actions(model, state), f"step {index} not enabled"
        state = settle(model, step(model, state, UserStep(index)), max_steps=400).state
    return state


def _web(state: ClusterState) -> Deployment:
    return stored(state, KEY, Deployment)


def test_client_side_apply_is_a_three_way_merge(tmp_path: Path) -> None:
    v1 = _deployment("web:1", {"app": "web", "tier": "front"}, ["A", "B"])
    v2 = _deployment("web:2", {"app": "web"}, ["A"])
    model = _scenario(tmp_path, {"v1/web.json": v1, "v2/web.json": v2},
                      "  - apply: v1\n  - scale: {deployment: default/web, replicas: 5}\n  - apply: v2\n")
    state = _run_steps(model)
    d = _web(state)
    assert d.spec.replicas == 5  # never in the last-applied configuration: the scale stays
    assert "tier" not in d.metadata.labels  # removed from the manifest since the last apply: deleted
    container = d.spec.template.spec.containers[0]
    assert container.image == "web:2" and [e.name for e in container.env] == ["A"]
    assert json.loads(d.metadata.annotations[LAST_APPLIED_ANNOTATION])["metadata"]["labels"] == {"app": "web"}
    assert first_violation(model, state, STEPS_SUCCEED) is None


def test_dropping_replicas_that_were_applied_restores_the_default(tmp_path: Path) -> None:
    """kubectl's documented behaviour: a field removed from the manifest is deleted, even if a
    scale changed it since; the default (1) returns."""
    model = _scenario(tmp_path, {"v1/web.json": _deployment("web:1", {"app": "web"}, [], replicas=2),
                                 "v2/web.json": _deployment("web:1", {"app": "web"}, [])},
                      "  - apply: v1\n  - scale: {deployment: default/web, replicas: 5}\n  - apply: v2\n")
    assert _web(_run_steps(model)).spec.replicas == 1


def test_two_server_side_appliers_conflict(tmp_path: Path) -> None:
    files = {"ci/web.json": _deployment("web:1", {"app": "web"}, [], replicas=3),
             "ops/web.json": _deployment("web:1", {"app": "web"}, [], replicas=5)}
    workload = ("  - apply: {path: ci, serverSide: true, fieldManager: ci}\n"
                "  - apply: {path: ops, serverSide: true, fieldManager: ops}\n")
    model = _scenario(tmp_path, files, workload)
    state = _run_steps(model)
    assert _web(state).spec.replicas == 3
    found = first_violation(model, state, STEPS_SUCCEED)
    assert found is not None
    assert found.message == ("workload step 2 (kubectl apply -f ops --server-side --field-manager=ops) failed: "
                             '409 Conflict: Apply failed with 1 conflict: conflict with "ci": .spec.replicas')
    forced = _scenario(tmp_path, files, workload.replace("fieldManager: ops}", "fieldManager: ops, force: true}"))
    state = _run_steps(forced)
    assert _web(state).spec.replicas == 5 and first_violation(forced, state, STEPS_SUCCEED) is None


CRD = widgets_crd("[wd]")


@pytest.mark.parametrize("kind", ["Widget", "widgets", "wd", "widgets.example.com"])
def test_delete_of_a_custom_kind_reaches_its_group(tmp_path: Path, kind: str) -> None:
    model = _scenario(tmp_path, {"m/widgets.yaml": CRD}, f"  - delete: {{kind: {kind}, name: w1}}\n", "[m]")
    state = initial_state(model)
    key = ObjectKey("widgets.example.com", "default", "w1")
    assert isinstance(state.store.get(key), CustomObject)
    state = _run_steps(model, state)
    assert state.store.get(key) is None
    assert first_violation(model, state, STEPS_SUCCEED) is None


def test_delete_of_an_unknown_kind_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, {}, "  - delete: {kind: Gadget, name: g1}\n")
    assert "workload[0].delete.kind" in str(err.value) and "Gadget" in str(err.value)
    assert ":6:" in str(err.value) or "scenario.yaml:" in str(err.value)


def test_delete_waits_until_its_target_exists() -> None:
    model = build_model(load_scenario(Path(__file__).parents[1] / "data" / "variants" / "db-restart.yaml"),
                        parameters={"instantCaches": True})
    state = initial_state(model)
    assert UserStep(0) not in actions(model, state)  # db-0 does not exist yet
    state = settle(model, state).state
    assert isinstance(state.store.get(ObjectKey("pods", "default", "db-0")), Pod)
    assert UserStep(0) in actions(model, state)
    after = step(model, state, UserStep(0))
    assert first_violation(model, after, STEPS_SUCCEED) is None


def test_set_image_of_a_missing_container_is_kubectls_error(tmp_path: Path) -> None:
    model = _scenario(tmp_path, {"v1/web.json": _deployment("web:1", {"app": "web"}, [])},
                      "  - apply: v1\n  - setImage: {deployment: default/web, container: nope, image: x:2}\n")
    state = _run_steps(model)
    found = first_violation(model, state, STEPS_SUCCEED)
    assert found is not None and 'unable to find container named "nope"' in found.message
    assert [c.image for c in _web(state).spec.template.spec.containers] == ["web:1"]


def test_set_image_changes_only_the_named_container(tmp_path: Path) -> None:
    two = _deployment("web:1", {"app": "web"}, [])
    two["spec"]["template"]["spec"]["containers"].append({"name": "log", "image": "log:1"})
    model = _scenario(tmp_path, {"v1/web.json": two},
                      "  - apply: v1\n  - setImage: {deployment: default/web, container: log, image: log:2}\n")
    state = _run_steps(model)
    assert [c.image for c in _web(state).spec.template.spec.containers] == ["web:1", "log:2"]


def _with_init(image: str) -> dict[str, Any]:
    body = _deployment(image, {"app": "web"}, [])
    body["spec"]["template"]["spec"]["initContainers"] = [{"name": "migrate", "image": "migrate:1"}]
    return body


def _images(state: ClusterState) -> tuple[list[str], list[str]]:
    spec = _web(state).spec.template.spec
    return [c.image for c in spec.init_containers], [c.image for c in spec.containers]


@pytest.mark.parametrize(("container", "image", "expected"), [
    ("migrate", "migrate:2", (["migrate:2"], ["web:1"])),
    ("'*'", "all:2", (["all:2"], ["all:2"])),
])
def test_set_image_finds_init_containers_and_star(tmp_path: Path, container: str, image: str,
                                                   expected: tuple[list[str], list[str]]) -> None:
    """kubectl v1.33 sets the image in `spec.InitContainers` too, and `*` names every container
    (set_image.go `Run`: `setImage` on both lists, an error only when neither has the name) —
    audit17's scenario."""
    model = _scenario(tmp_path, {"v1/web.json": _with_init("web:1")},
                      "  - apply: v1\n"
                      f"  - setImage: {{deployment: default/web, container: {container}, image: {image}}}\n")
    state = _run_steps(model)
    assert first_violation(model, state, STEPS_SUCCEED) is None
    assert _images(state) == expected


def test_set_image_to_the_same_image_sends_nothing(tmp_path: Path) -> None:
    """kubectl skips a patch of `{}` (set_image.go `Run`: "no changes"): a user who may only read
    the Deployment (`view`) sets its image to the one it has, and nothing is refused — a PATCH
    would have been (403)."""
    model = _scenario(tmp_path, {"v1/web.json": _with_init("web:1")},
                      "  - apply: v1\n  - setImage: {deployment: default/web, container: web, image: web:1}\n"
                      "    as: viewer\n")
    state = _run_steps(model)
    assert first_violation(model, state, STEPS_SUCCEED) is None
    assert _images(state) == (["migrate:1"], ["web:1"])


def test_a_step_the_server_cannot_answer_is_retried_not_reported() -> None:
    model = build_model(load_scenario(), parameters={"instantCaches": True})  # FeastFlow: 3 etcd members
    state = initial_state(model)
    members = frozenset(f"etcd/{m}" for m in model.etcd_members[:2])
    no_quorum = attrs.evolve(state, down=state.down | members)
    after = step(model, no_quorum, UserStep(0))
    assert after.workload_next == 0 and not after.workload_errors
    assert UserStep(0) in actions(model, after)
    healed = step(model, attrs.evolve(after, down=state.down), UserStep(0))
    assert healed.workload_next == 1 and first_violation(model, healed, STEPS_SUCCEED) is None
