"""`kubectl apply` when the manifest drops a key of a map the live object no longer has (another
client removed the whole map): the deletion is no error and the map comes back with the
manifest's keys only.

Upstream (`staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go` at v1.33,
CreateThreeWayMergePatch) the patch is `mergeMap(deletions, delta)`: the deletion (`"zone": null`)
travels beside the manifest's whole map, and the server's mergeMap, finding no such map, takes the
patch's value after discardNullValuesFromPatch and removeDirectives (an item with `$patch` is
dropped). A custom resource's JSON merge patch does the same (evanphx/json-patch mergeDocs:
pruneNulls). The model's patch holds the manifest's map alone; the tests pin that both shapes of
the patch leave the same object. gaps14 found the model matching upstream here, but for a
`$deleteFromPrimitiveList/<list>` of a list the target lacks, which made an empty list where
upstream adds none (preprocessDeletionListForMerging's isDeleteList).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.objects import Deployment, ObjectKey, decode_object, encode_object
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.api.strategic import (
    LAST_APPLIED_ANNOTATION,
    last_applied_text,
    strategic_merge_patch,
    three_way_merge_patch,
)
from kubeprop.model.api.writes_support import merge_patch

API = ApiHarness(bare_scenario())
CONFIG, BASE = API.config, API.base
KEY = ObjectKey("deployments.apps", "default", "web")


def _deployment(selector: dict[str, str] | None, annotations: dict[str, str] | None) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": "web", "image": "web:1"}]}
    if selector is not None:
        pod["nodeSelector"] = selector
    template: dict[str, Any] = {"labels": {"app": "web"}}
    if annotations is not None:
        template["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": template, "spec": pod}}}


def _request(store: Store, verb: str, **fields: Any) -> Result:
    result = handle(store, Request(verb=verb, user="admin", resource="deployments.apps", namespace="default",
                                   name="web", **fields), CONFIG, 100)
    assert result.response.ok, result.response
    return result


def _applied(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as `kubectl apply` sends it: with its last-applied-configuration annotation."""
    text = last_applied_text(manifest)
    return {**manifest, "metadata": {**manifest["metadata"], "annotations": {LAST_APPLIED_ANNOTATION: text}}}


def _pod_template(store: Store) -> Any:
    found = store.get(KEY)
    assert isinstance(found, Deployment)
    return found.spec.template


def test_a_deletion_inside_maps_the_live_object_lacks_leaves_the_manifests_keys() -> None:
    first = _deployment({"disk": "ssd", "zone": "a"}, {"team": "web", "note": "x"})
    store = _request(BASE, "create", obj=decode_object(_applied(first))).store
    removed = {"spec": {"template": {"metadata": {"annotations": None}, "spec": {"nodeSelector": None}}}}
    store = _request(store, "patch", patch=removed, patch_type="strategic").store  # another client
    assert not _pod_template(store).spec.node_selector and not _pod_template(store).metadata.annotations
    live = encode_object(store.get(KEY))
    second = _applied(_deployment({"disk": "ssd"}, {"team": "web"}))
    original = json.loads(live["metadata"]["annotations"][LAST_APPLIED_ANNOTATION])
    patch = three_way_merge_patch(original, second, live, "Deployment")
    pod = patch["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"disk": "ssd"} and pod["metadata"]["annotations"] == {"team": "web"}
    upstream = copy.deepcopy(patch)  # mergeMap(deletions, delta): the deletions ride along
    upstream["spec"]["template"]["spec"]["nodeSelector"]["zone"] = None
    upstream["spec"]["template"]["metadata"]["annotations"]["note"] = None
    for sent in (patch, upstream):
        template = _pod_template(_request(store, "patch", patch=sent, patch_type="strategic").store)
        assert dict(template.spec.node_selector) == {"disk": "ssd"}
        assert dict(template.metadata.annotations) == {"team": "web"}


def test_directives_inside_a_map_the_target_lacks_are_dropped_with_their_items() -> None:
    """removeDirectives: a keyed list's `$patch: delete` item inside a map the target lacks is no
    item; nulls go too (discardNullValuesFromPatch), at every depth."""
    target: dict[str, Any] = {"metadata": {"name": "web"}, "spec": {}}
    patch = {"spec": {"template": {"metadata": {"labels": {"app": "web", "old": None}},
                                   "spec": {"$setElementOrder/containers": [{"name": "web"}],
                                            "containers": [{"name": "web", "image": "web:1"},
                                                           {"name": "log", "$patch": "delete"}]}}}}
    assert strategic_merge_patch(target, patch, "Deployment")["spec"] == {"template": {
        "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}


def test_a_primitive_list_deletion_for_a_list_the_target_lacks_adds_no_list() -> None:
    """`$deleteFromPrimitiveList/finalizers` where the object has no finalizers (a controller
    removed the last one) removes nothing and creates no list; where it has, it removes."""
    live = {"metadata": {"name": "web", "uid": "u1"}}
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/keep"]}}
    assert strategic_merge_patch(live, patch, "Deployment") == live
    held = {"metadata": {"name": "web", "finalizers": ["example.com/keep", "example.com/other"]}}
    assert strategic_merge_patch(held, patch, "Deployment") == {"metadata": {"name": "web",
                                                                           "finalizers": ["example.com/other"]}}


def test_a_custom_resources_json_merge_patch_prunes_the_nulls_of_a_map_it_adds() -> None:
    original = {"spec": {"settings": {"a": 1, "b": 2}}}
    modified = {"spec": {"settings": {"a": 1}}}
    live = {"spec": {"replicas": 3}}  # another client removed `settings`
    patch = three_way_merge_patch(original, modified, live, "", strategic=False)
    assert patch == {"spec": {"settings": {"a": 1}}}
    upstream = {"spec": {"settings": {"a": 1, "b": None}}}  # CreateThreeWayJSONMergePatch's shape
    assert merge_patch(live, patch) == merge_patch(live, upstream) == {"spec": {"replicas": 3, "settings": {"a": 1}}}
