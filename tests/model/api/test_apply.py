"""Strategic merge patch, kubectl's three-way apply patch, and server-side apply (issue 12).

Sources: `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`
(StrategicMergeMapPatch, CreateThreeWayMergePatch), sigs.k8s.io/structured-merge-diff `merge/update.go`
(Apply, Update, prune) and `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/`
(`skipnonapplied.go`, `conflict.go`).
"""

from __future__ import annotations

from typing import Any

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api import ssa
from kubeprop.model.api.objects import Deployment, ObjectKey
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.api.strategic import strategic_merge_patch, three_way_merge_patch

API = ApiHarness(bare_scenario())
CONFIG, BASE = API.config, API.base
KEY = ObjectKey("deployments.apps", "default", "web")


def _container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def _manifest(replicas: int | None = None, containers: list[dict[str, Any]] | None = None,
              labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": containers or [_container("web", "web:1")]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    meta: dict[str, Any] = {"name": "web", "namespace": "default"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def _apply(store: Store, config: dict[str, Any], manager: str, force: bool = False) -> Result:
    return handle(store, Request(verb="patch", user="admin", resource="deployments.apps", namespace="default",
                                 name="web", patch=config, patch_type="apply", field_manager=manager, force=force),
                  CONFIG, 100)


def _patch(store: Store, body: dict[str, Any], patch_type: str = "merge", manager: str = "") -> Result:
    return handle(store, Request(verb="patch", user="admin", resource="deployments.apps", namespace="default",
                                 name="web", patch=body, patch_type=patch_type,  # type: ignore[arg-type]
                                 field_manager=manager), CONFIG, 100)


def _stored(store: Store) -> Deployment:
    d = store.get(KEY)
    assert isinstance(d, Deployment)
    return d


def _owners(d: Deployment) -> dict[tuple[str, str], set[str]]:
    return {(m, op): {ssa.render(p) for p in paths}
            for (m, op, _sub), (_v, paths) in ssa.decode_managers(d.metadata.managed_fields).items()}


# -- strategic merge patch ----------------------------------------------------------------------

def test_strategic_patch_merges_containers_by_name() -> None:
    live = _manifest(containers=[_container("web", "web:1"), _container("log", "log:1")])
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "log:2"}]}}}}
    merged = strategic_merge_patch(live, patch, "Deployment")
    assert merged["spec"]["template"]["spec"]["containers"] == [_container("web", "web:1"), _container("log", "log:2")]


def test_strategic_patch_directives() -> None:
    live = {"metadata": {"finalizers": ["a/x", "b/y"]},
            "spec": {"template": {"spec": {"containers": [_container("a", "a"), _container("b", "b")]}}}}
    patch = {"metadata": {"finalizers": ["c/z"], "$deleteFromPrimitiveList/finalizers": ["a/x"]},
             "spec": {"template": {"spec": {
                 "$setElementOrder/containers": [{"name": "c"}, {"name": "b"}],
                 "containers": [{"name": "a", "$patch": "delete"}, _container("c", "c")]}}}}
    merged = strategic_merge_patch(live, patch, "Deployment")
    assert merged["metadata"]["finalizers"] == ["b/y", "c/z"]
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["c", "b"]


def test_tolerations_are_atomic() -> None:
    live = {"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}
    assert strategic_merge_patch(live, {"spec": {"tolerations": [{"key": "c"}]}}, "Pod") == {
        "spec": {"tolerations": [{"key": "c"}]}}


# -- kubectl's three-way patch ------------------------------------------------------------------

def test_three_way_deletes_what_the_manifest_dropped_and_keeps_what_it_never_had() -> None:
    original = _manifest(labels={"app": "web", "tier": "front"})
    modified = _manifest(labels={"app": "web"})
    current = _manifest(replicas=5, labels={"app": "web", "tier": "front"})
    patch = three_way_merge_patch(original, modified, current, "Deployment")
    assert patch == {"metadata": {"labels": {"tier": None}}}  # replicas (set by a scale) untouched


def test_three_way_removes_a_container_and_an_env_var_by_key() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    original = _manifest(containers=[_container("web", "web:1", env=env), _container("log", "log:1")])
    modified = _manifest(containers=[_container("web", "web:1", env=env[:1])])
    patch = three_way_merge_patch(original, modified, original, "Deployment")
    containers = patch["spec"]["template"]["spec"]["containers"]
    assert {"name": "log", "$patch": "delete"} in containers
    web = next(c for c in containers if c["name"] == "web")
    assert web["env"] == [{"name": "B", "$patch": "delete"}]
    merged = strategic_merge_patch(original, patch, "Deployment")
    assert merged["spec"]["template"]["spec"]["containers"] == modified["spec"]["template"]["spec"]["containers"]


def test_three_way_json_merge_replaces_lists_of_custom_resources() -> None:
    original = {"spec": {"items": [1, 2], "old": True}}
    modified = {"spec": {"items": [1]}}
    assert three_way_merge_patch(original, modified, original, "", strategic=False) == {
        "spec": {"old": None, "items": [1]}}


def test_strategic_patch_through_the_server() -> None:
    store = _apply(BASE, _manifest(containers=[_container("web", "web:1"), _container("log", "log:1")]),
                   "kubectl").store
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "log:2"}]}}}}
    result = _patch(store, patch, "strategic")
    assert result.response.code == 200
    images = [c.image for c in _stored(result.store).spec.template.spec.containers]
    assert images == ["web:1", "log:2"]


# -- server-side apply --------------------------------------------------------------------------

def test_apply_creates_with_the_appliers_fields() -> None:
    result = _apply(BASE, _manifest(replicas=3), "ci")
    assert result.response.code == 201
    owners = _owners(_stored(result.store))
    assert list(owners) == [("ci", "Apply")]
    assert ".spec.replicas" in owners[("ci", "Apply")]
    assert '.spec.template.spec.containers[name="web"].image' in owners[("ci", "Apply")]


def test_two_appliers_conflict_unless_forced() -> None:
    store = _apply(BASE, _manifest(replicas=3), "ci").store
    clash = _apply(store, _manifest(replicas=5), "ops")
    assert clash.response.code == 409 and clash.store == store
    assert clash.response.message == 'Apply failed with 1 conflict: conflict with "ci": .spec.replicas'
    same = _apply(store, _manifest(replicas=3), "ops")
    assert same.response.code == 200  # the same value is shared, not a conflict
    forced = _apply(store, _manifest(replicas=5), "ops", force=True)
    assert forced.response.code == 200 and _stored(forced.store).spec.replicas == 5
    owners = _owners(_stored(forced.store))
    assert ".spec.replicas" in owners[("ops", "Apply")] and ".spec.replicas" not in owners[("ci", "Apply")]


def test_a_field_the_applier_drops_is_removed_and_defaulted() -> None:
    store = _apply(BASE, _manifest(replicas=3, labels={"team": "a"}), "ci").store
    result = _apply(store, _manifest(), "ci")
    d = _stored(result.store)
    assert d.spec.replicas == 1 and "team" not in d.metadata.labels


def test_an_update_takes_ownership_and_the_next_apply_conflicts_with_it() -> None:
    store = _apply(BASE, _manifest(replicas=3), "ci").store
    scaled = _patch(store, {"spec": {"replicas": 5}}, manager="kubectl-scale")
    assert scaled.response.code == 200
    owners = _owners(_stored(scaled.store))
    assert owners[("kubectl-scale", "Update")] == {".spec.replicas"}
    kept = _apply(scaled.store, _manifest(), "ci")  # no replicas: not ci's any more, so not pruned
    assert kept.response.code == 200 and _stored(kept.store).spec.replicas == 5
    clash = _apply(scaled.store, _manifest(replicas=3), "ci")
    assert clash.response.code == 409
    assert clash.response.message == ('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: '
                                      ".spec.replicas")


def test_first_apply_to_an_unmanaged_object_meets_before_first_apply() -> None:
    created = handle(BASE, Request(verb="create", user="admin", obj=_stored(_apply(BASE, _manifest(replicas=2),
                                                                                     "x").store)), CONFIG, 100)
    assert created.response.code == 201 and not _stored(created.store).metadata.managed_fields
    clash = _apply(created.store, _manifest(replicas=4), "ci")
    assert clash.response.code == 409 and '"before-first-apply" using apps/v1' in clash.response.message
    same = _apply(created.store, _manifest(replicas=2), "ci")
    assert same.response.code == 200
    assert ("before-first-apply", "Update") in _owners(_stored(same.store))


def test_apply_needs_a_field_manager() -> None:
    assert _apply(BASE, _manifest(), "").response.code == 422
