"""`$retainKeys` in kubectl's three-way patch and the server's strategic merge, and the
client-side → server-side apply upgrade (lastAppliedManager).

Sources: `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go` (diffMaps with
BuildRetainKeysDirective, hasAdditionalNewField, applyRetainKeysDirective), the tags of
`staging/src/k8s.io/api/apps/v1/types.go` (DeploymentSpec.Strategy `retainKeys`) and
`staging/src/k8s.io/api/core/v1/types.go` (PodSpec.Volumes, PodSpec.ResourceClaims
`merge,retainKeys`), `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`
(interpretStrategicMergePatchError: 400), and
`staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/lastappliedmanager.go`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_harness import ApiHarness, bare_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api import ssa
from kubeprop.model.api.objects import Deployment, ObjectKey, decode_object
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.api.strategic import (
    LAST_APPLIED_ANNOTATION,
    PatchError,
    last_applied_text,
    strategic_merge_patch,
    three_way_merge_patch,
)

API = ApiHarness(bare_scenario())
CONFIG, BASE = API.config, API.base
KEY = ObjectKey("deployments.apps", "default", "web")
ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}


def _deployment(strategy: dict[str, Any] | None = None, volumes: list[dict[str, Any]] | None = None,
                image: str = "web:1") -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": "web", "image": image}]}
    if volumes is not None:
        pod["volumes"] = volumes
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}}
    if strategy is not None:
        spec["strategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": spec}


def _strategy(obj: dict[str, Any]) -> Any:
    return obj["spec"].get("strategy")


def _volumes(obj: dict[str, Any]) -> Any:
    return obj["spec"]["template"]["spec"].get("volumes")


# -- kubectl's three-way patch ------------------------------------------------------------------

def test_switching_to_recreate_sends_retain_keys_and_clears_the_defaulted_rolling_update() -> None:
    current = _deployment(ROLLING)
    patch = three_way_merge_patch({}, _deployment({"type": "Recreate"}), current, "Deployment")
    assert _strategy(patch) == {"type": "Recreate", "$retainKeys": ["type"]}
    assert _strategy(strategic_merge_patch(current, patch, "Deployment")) == {"type": "Recreate"}


def test_a_volume_changing_source_keeps_only_the_manifests_keys() -> None:
    current = _deployment(volumes=[{"name": "data", "emptyDir": {}}, {"name": "keep", "emptyDir": {}}])
    modified = _deployment(volumes=[{"name": "data", "configMap": {"name": "cfg"}}, {"name": "keep", "emptyDir": {}}])
    patch = three_way_merge_patch({}, modified, current, "Deployment")
    assert _volumes(patch) == [{"name": "data", "configMap": {"name": "cfg"}, "$retainKeys": ["configMap", "name"]}]
    assert _volumes(strategic_merge_patch(current, patch, "Deployment")) == _volumes(modified)


def test_a_field_only_the_live_object_has_is_cleared_by_retain_keys_alone() -> None:
    """hasAdditionalNewField: the patch for the map is otherwise empty, yet carries the directive,
    as upstream's does (the server then defaults rollingUpdate again)."""
    patch = three_way_merge_patch({}, _deployment({"type": "RollingUpdate"}), _deployment(ROLLING), "Deployment")
    assert patch == {"spec": {"strategy": {"$retainKeys": ["type"]}}}


def test_an_unchanged_retained_map_sends_nothing() -> None:
    assert three_way_merge_patch(_deployment(ROLLING), _deployment(ROLLING), _deployment(ROLLING), "Deployment") == {}


def test_retain_keys_follows_the_tags() -> None:
    """StatefulSetSpec.UpdateStrategy has no retainKeys tag, nor does a custom resource's map."""
    current = {"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}}
    modified = {"spec": {"updateStrategy": {"type": "OnDelete"}}}
    assert three_way_merge_patch({}, modified, current, "StatefulSet") == {"spec": {"updateStrategy": {
        "type": "OnDelete"}}}
    crd_modified = {"spec": {"strategy": {"type": "Recreate"}}}
    assert three_way_merge_patch({}, crd_modified, {"spec": {"strategy": ROLLING}}, "", strategic=False) == {
        "spec": {"strategy": {"type": "Recreate"}}}


# -- the server's strategic merge -------------------------------------------------------------

def test_a_patch_setting_a_field_its_retain_keys_omits_is_refused() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}}
    with pytest.raises(PatchError, match="invalid patch format of retainKeys"):
        strategic_merge_patch(_deployment(ROLLING), patch, "Deployment")
    with pytest.raises(PatchError):
        strategic_merge_patch(_deployment(ROLLING), {"spec": {"strategy": {"$retainKeys": "type"}}}, "Deployment")


def _request(store: Store, patch: dict[str, Any], patch_type: str, manager: str, force: bool = False) -> Result:
    return handle(store, Request(verb="patch", user="admin", resource="deployments.apps", namespace="default",
                                 name="web", patch=patch, patch_type=patch_type,  # type: ignore[arg-type]
                                 field_manager=manager, force=force), CONFIG, 100)


def _created(manifest: dict[str, Any], annotate: bool = True) -> Store:
    """The store with `manifest` created by an ordinary write (client-side apply's create)."""
    body = json.loads(json.dumps(manifest))
    if annotate:
        body["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: last_applied_text(manifest)}
    created = handle(BASE, Request(verb="create", user="admin", resource="deployments.apps", namespace="default",
                                   name="web", obj=decode_object(body, []),
                                   field_manager="kubectl-client-side-apply"), CONFIG, 100)
    assert created.response.code == 201, created.response
    return created.store


def test_the_server_answers_a_malformed_retain_keys_with_400() -> None:
    result = _request(_created(_deployment()), {"spec": {"strategy": {"$retainKeys": ["type"], "x": 1}}},
                      "strategic", "kubectl")
    assert (result.response.code, result.response.message) == (400, "invalid patch format of retainKeys")


# -- property: the retained map ends as the manifest says -------------------------------------

_VALUES = st.one_of(st.sampled_from(["a", "b", 1]), st.dictionaries(st.sampled_from(["x", "y"]),
                                                                    st.sampled_from(["1", "2"]), max_size=2))
_MAPS = st.dictionaries(st.sampled_from(["type", "rollingUpdate", "emptyDir", "configMap"]), _VALUES, max_size=3)


@settings(max_examples=80, deadline=None)
@given(original=st.none() | _MAPS, modified=_MAPS.filter(bool), current=st.none() | _MAPS)
def test_applying_the_three_way_patch_leaves_exactly_the_manifests_keys(
        original: dict[str, Any] | None, modified: dict[str, Any], current: dict[str, Any] | None) -> None:
    """For a retainKeys map: whatever the last-applied configuration and the live object hold,
    the patched object has the manifest's keys and its scalar values (nested maps still merge)."""
    for where, build in (("strategy", lambda m: _deployment(m)),
                         ("volume", lambda m: _deployment(volumes=None if m is None else [{"name": "v", **m}]))):
        before, want, live = build(original), build(modified), build(current)
        merged = strategic_merge_patch(live, three_way_merge_patch(before, want, live, "Deployment"), "Deployment")
        got = _strategy(merged) if where == "strategy" else _volumes(merged)[0]
        expected = modified if where == "strategy" else {"name": "v", **modified}
        assert set(got) == set(expected), where
        assert {k: v for k, v in got.items() if not isinstance(v, dict)} == {
            k: v for k, v in expected.items() if not isinstance(v, dict)}, where


# -- client-side → server-side apply (lastAppliedManager) -------------------------------------

def test_kubectls_first_server_side_apply_takes_over_the_client_side_applied_fields() -> None:
    store = _created(_deployment())
    result = _request(store, _deployment(image="web:2"), "apply", ssa.LAST_APPLIED_MANAGER)
    assert result.response.code == 200, result.response.message
    web = result.store.get(KEY)
    assert isinstance(web, Deployment) and web.spec.template.spec.containers[0].image == "web:2"
    assert json.loads(web.metadata.annotations[LAST_APPLIED_ANNOTATION])["spec"]["template"]["spec"][
        "containers"][0]["image"] == "web:2"


def test_only_kubectl_is_forgiven_and_only_fields_the_annotation_matches() -> None:
    """The image conflict is forgiven (the annotation sets web:1, as live), the replicas one is not
    (the annotation does not set replicas) and is the only one reported (conflictsDifference)."""
    store = _created(_deployment())
    other = _request(store, _deployment(image="web:2"), "apply", "ci")
    assert other.response.code == 409
    drifted = _request(store, {"spec": {"replicas": 4}}, "merge", "kubectl-scale").store
    kubectl = _request(drifted, {**_deployment(image="web:2"), "spec": {**_deployment(image="web:2")["spec"],
                                                                         "replicas": 1}},
                       "apply", ssa.LAST_APPLIED_MANAGER)
    assert (kubectl.response.code, kubectl.response.message) == (
        409, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas')


def test_without_the_annotation_kubectl_conflicts_as_any_manager() -> None:
    result = _request(_created(_deployment(), annotate=False), _deployment(image="web:2"), "apply",
                      ssa.LAST_APPLIED_MANAGER)
    assert result.response.code == 409
