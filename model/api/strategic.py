"""Strategic merge patch, and kubectl's three-way merge for client-side `kubectl apply`.

Lists are merged by the rules of the Go types' `patchStrategy`/`patchMergeKey` tags
(`staging/src/k8s.io/api/core/v1/types.go`, `.../apps/v1/types.go`, `.../apimachinery/pkg/apis/
meta/v1/types.go`): `LIST_KEYS` lists the model's keyed lists (containers by `name`, container
ports by `containerPort`, Service ports by `port`, env by `name`, volumes by `name`, volumeMounts by
`mountPath`, status conditions by `type`, ownerReferences by `uid`, …) and `metadata.finalizers`, a
list of strings merged as a set. Every other list is atomic (replaced whole). Custom resources have
no strategic merge (upstream answers 415): they use JSON merge patch (RFC 7386) and kubectl the
three-way JSON merge patch (`staging/src/k8s.io/apimachinery/pkg/util/jsonmergepatch/patch.go`).

`strategic_merge_patch` applies a patch as the API server does
(`staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go` StrategicMergeMapPatch): maps
merge recursively, `null` deletes, keyed lists merge item by item (`{"$patch": "delete", key: v}`
removes an item), `$setElementOrder/<list>` orders the merged items, `$deleteFromPrimitiveList/
<list>` removes strings from a set list, `$patch: replace` replaces a map.

`three_way_merge_patch` is kubectl's `CreateThreeWayMergePatch(original, modified, current)`
(same file): the patch holds the *deletions* from the last-applied configuration (`original`) to
the new manifest (`modified`) — fields and keyed items the user removed from the manifest — plus
the *changes and additions* from the live object (`current`) to the manifest. A field never in
the last-applied configuration (a replica count set by `kubectl scale`, a field another client
wrote) is left alone. A field tagged `patchStrategy:"retainKeys"` (`RETAIN_KEYS`) gets
`$retainKeys` — the manifest's non-null keys, sorted — whenever its patch is not empty or the live
object or the last-applied configuration has a field the manifest lacks (diffMaps with
BuildRetainKeysDirective, hasAdditionalNewField): switching a Deployment to `Recreate` clears the
defaulted `rollingUpdate`, and a volume whose source changes from emptyDir to configMap loses its
emptyDir, as `test/cmd/apply.sh` "kubectl apply should be able to clear defaulted fields" expects.

Deletions inside a map the live object lacks (a map the last-applied configuration and the manifest
have, which another client removed, and from which the manifest drops a key): upstream's patch is
`mergeMap(deletions, delta)` and so carries the deletions (`null`s) beside the manifest's whole map,
and the server, finding no such map, takes the patch's value without its nulls and directives
(mergeMap in v1.33: discardNullValuesFromPatch, kubernetes#107705, and removeDirectives,
kubernetes#117568: an item with `$patch` is dropped); a custom resource's JSON merge patch likewise (evanphx/json-patch
`mergeDocs`: pruneNulls). Here the patch holds the manifest's map alone, which the server merges
into nothing: the same object (`tests/model/api/test_apply_absent_maps.py`). A
`$deleteFromPrimitiveList/<list>` for a list the target lacks removes nothing and adds no list
(preprocessDeletionListForMerging's isDeleteList). Left out: upstream keeps any other directive
key (`$setElementOrder/<list>`, `$retainKeys`) of a map or keyed-list item the target lacks, which
strict decoding then refuses (422 `unknown field`): the three-way patch has such a key there only
for a keyed list or a retainKeys map inside a map the live object lacks (none of the model's
kinds: their pod specs and metadata are never absent, a Deployment's strategy is defaulted), or
for a keyed-list item another client removed whose own keyed lists the manifest also shrinks (a
container gone from the live template whose env loses a variable) — upstream's apply fails there
(mergeSliceWithoutSpecialElements appends the item as it is), the model's re-adds the item.

Left out, too: multi-field merge keys
(upstream's SSA list-map keys like containerPort+protocol; the patch merge key is the single
`containerPort`), `$patch: merge` on lists of primitives other than finalizers, and upstream's
exact interleaving of server-only list items with `$setElementOrder` (here: the ordered items
first, then the server-only ones in their old order).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

SET: Final = "$set"
"""A list of primitives merged as a set (patchStrategy merge without a merge key)."""

LIST_KEYS: Final[dict[tuple[str, ...], str]] = {
    ("containers",): "name", ("initContainers",): "name", ("ephemeralContainers",): "name",
    ("volumes",): "name", ("imagePullSecrets",): "name", ("hostAliases",): "ip",
    ("topologySpreadConstraints",): "topologyKey", ("schedulingGates",): "name", ("resourceClaims",): "name",
    ("containers", "ports"): "containerPort", ("initContainers", "ports"): "containerPort",
    ("containers", "env"): "name", ("initContainers", "env"): "name",
    ("containers", "volumeMounts"): "mountPath", ("initContainers", "volumeMounts"): "mountPath",
    ("containers", "volumeDevices"): "devicePath", ("initContainers", "volumeDevices"): "devicePath",
    ("metadata", "ownerReferences"): "uid", ("metadata", "finalizers"): SET,
    ("status", "conditions"): "type", ("status", "addresses"): "type",
}
"""Keyed lists by the suffix of their field path (list positions left out); `SET` for set lists."""

RETAIN_KEYS_DIRECTIVE: Final = "$retainKeys"
RETAIN_KEYS: Final[frozenset[tuple[str, ...]]] = frozenset({("volumes",), ("resourceClaims",)})
"""Fields tagged `patchStrategy:"merge,retainKeys"`, by path suffix: core/v1 PodSpec.Volumes and
PodSpec.ResourceClaims (`staging/src/k8s.io/api/core/v1/types.go`; each item is the retained map).
apps/v1 DeploymentSpec.Strategy (`patchStrategy:"retainKeys"`, `staging/src/k8s.io/api/apps/v1/
types.go`, the only one in apps/v1) is `retains_keys`' Deployment case."""


class PatchError(ValueError):
    """A strategic merge patch the server refuses (mergepatch's ErrBadPatchFormat*: a 400)."""

Names = tuple[str, ...]


def list_key(names: Names, kind: str) -> str | None:
    """The merge key of the list at field path `names` in an object of `kind` (`SET` for a set
    list), or None for an atomic list. `kind` "" means a custom resource."""
    if not kind and names[:1] != ("metadata",):
        return None  # a custom resource: lists are atomic (no x-kubernetes-list-type modelled)
    if kind == "Service" and names == ("spec", "ports"):
        return "port"
    for size in (2, 1):
        if len(names) >= size and names[-size:] in LIST_KEYS:
            return LIST_KEYS[names[-size:]]
    return None


def retains_keys(names: Names, kind: str) -> bool:
    """Whether the map at field path `names` (for a keyed list: each of its items) is tagged
    retainKeys in an object of `kind`."""
    if kind == "Deployment" and names == ("spec", "strategy"):
        return True
    return bool(kind) and names[-1:] in RETAIN_KEYS


def _keyed(items: list[Any], key: str) -> bool:
    return all(isinstance(item, dict) and key in item for item in items)


def _find(items: list[Any], key: str, value: Any) -> int:
    return next((i for i, item in enumerate(items) if item.get(key) == value), -1)


# -- applying a strategic merge patch (the API server) ------------------------------------------


def strategic_merge_patch(target: Any, patch: Any, kind: str, names: Names = ()) -> Any:
    """`target` (JSON data) with the strategic merge patch `patch` applied."""
    if not isinstance(patch, dict):
        return patch
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    result = _retained(dict(target) if isinstance(target, dict) else {}, patch)
    for field, value in patch.items():
        if field.startswith("$"):
            continue
        if value is None:
            result.pop(field, None)
            continue
        here = (*names, field)
        key = list_key(here, kind)
        current = result.get(field)
        if isinstance(value, list) and key == SET:
            result[field] = [*(current or []), *(v for v in value if v not in (current or []))]
        elif isinstance(value, list) and key is not None and _keyed(value, key) and isinstance(current, list):
            result[field] = _merge_keyed(current, value, key, kind, here, patch.get(f"$setElementOrder/{field}"))
        elif isinstance(value, list):
            result[field] = [_strip(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
        else:
            result[field] = strategic_merge_patch(current, value, kind, here)
    for field, removed in patch.items():
        name = field.split("/", 1)[1] if field.startswith("$deleteFromPrimitiveList/") else ""
        if name in result and isinstance(removed, list):  # (a list the target lacks stays absent)
            result[name] = [v for v in result[name] if v not in removed]
    return result


def _retained(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`target` without the fields the patch's `$retainKeys` does not name (applyRetainKeysDirective);
    PatchError if the directive is not a list or the patch sets a field it does not name."""
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return target
    keep = patch[RETAIN_KEYS_DIRECTIVE]
    if not isinstance(keep, list):
        raise PatchError("invalid patch format of retainKeys")
    for field, value in patch.items():
        if value is None or field == RETAIN_KEYS_DIRECTIVE or field.startswith(("$deleteFromPrimitiveList/",
                                                                                "$setElementOrder/")):
            continue
        if field not in keep:
            raise PatchError("invalid patch format of retainKeys")
    return {k: v for k, v in target.items() if k in keep}


def _strip(value: Any) -> Any:
    """A patch value as data: directives removed, nulls of new maps dropped."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    return value


def _merge_keyed(current: list[Any], patch: list[Any], key: str, kind: str, names: Names,
                 order: Any) -> list[Any]:
    merged = list(current)
    for item in patch:
        at = _find(merged, key, item[key]) if _keyed(merged, key) else -1
        if item.get("$patch") == "delete":
            merged = [m for m in merged if not (isinstance(m, dict) and m.get(key) == item[key])]
        elif at >= 0:
            merged[at] = strategic_merge_patch(merged[at], item, kind, names)
        else:
            merged.append(_strip(item))
    if isinstance(order, list) and _keyed(order, key):
        wanted = [o[key] for o in order]
        first = [m for w in wanted for m in merged if m.get(key) == w]
        merged = first + [m for m in merged if m.get(key) not in wanted]
    return merged


# -- kubectl's three-way patch (the client) -----------------------------------------------------


def three_way_merge_patch(original: Mapping[str, Any], modified: Mapping[str, Any], current: Mapping[str, Any],
                          kind: str, strategic: bool = True, names: Names = ()) -> dict[str, Any]:
    """The patch `kubectl apply` sends: deletions from `original` to `modified`, changes and
    additions from `current` to `modified`. `strategic=False` is the JSON merge variant (custom
    resources): every list is atomic."""
    patch: dict[str, Any] = {field: None for field in original if field not in modified}
    for field, want in modified.items():
        here = (*names, field)
        had, have = original.get(field), current.get(field)
        if isinstance(want, dict) and isinstance(have, dict):
            sub = three_way_merge_patch(had if isinstance(had, dict) else {}, want, have, kind, strategic, here)
            if sub:
                patch[field] = sub
        elif isinstance(want, list) and strategic:
            patch.update(_list_patch(field, had, want, have, kind, here))
        elif want != have:
            patch[field] = want
    if strategic and retains_keys(names, kind):
        return _with_retain_keys(patch, original, modified, current)
    return patch


def _with_retain_keys(patch: dict[str, Any], original: Mapping[str, Any], modified: Mapping[str, Any],
                      current: Mapping[str, Any]) -> dict[str, Any]:
    """`patch` with `$retainKeys` (the manifest's non-null keys, sorted) when it is not empty or
    the live object or the last-applied configuration has a non-null field the manifest lacks:
    diffMaps adds the directive to both the delta (current → modified) and the deletions
    (original → modified) patches under that condition, and CreateThreeWayMergePatch merges them."""
    keys = sorted(k for k, v in modified.items() if v is not None)
    extra = any(v is not None and k not in modified for side in (current, original) for k, v in side.items())
    if keys and (patch or extra):
        return {**patch, RETAIN_KEYS_DIRECTIVE: keys}
    return patch


def _list_patch(field: str, had: Any, want: list[Any], have: Any, kind: str, names: Names) -> dict[str, Any]:
    key = list_key(names, kind)
    had = had if isinstance(had, list) else []
    have = have if isinstance(have, list) else []
    if key == SET:
        out: dict[str, Any] = {}
        added = [v for v in want if v not in have]
        removed = [v for v in had if v not in want]
        if added:
            out[field] = added
        if removed:
            out[f"$deleteFromPrimitiveList/{field}"] = removed
        return out
    if key is None or not (_keyed(want, key) and _keyed(have, key) and _keyed(had, key)):
        return {} if want == have else {field: want}
    items: list[Any] = []
    for item in want:
        at = _find(have, key, item[key])
        if at < 0:
            items.append(item)
            continue
        before = had[_find(had, key, item[key])] if _find(had, key, item[key]) >= 0 else {}
        sub = three_way_merge_patch(before, item, have[at], kind, True, names)
        if sub:
            items.append({key: item[key], **sub})
    wanted = {item[key] for item in want}
    items += [{key: old[key], "$patch": "delete"} for old in had if old[key] not in wanted]
    if not items:
        return {}
    return {f"$setElementOrder/{field}": [{key: item[key]} for item in want], field: items}


# -- the last-applied-configuration annotation --------------------------------------------------

LAST_APPLIED_ANNOTATION: Final = "kubectl.kubernetes.io/last-applied-configuration"


def last_applied_text(manifest: Mapping[str, Any]) -> str:
    """The annotation's value for `manifest`: its JSON without the annotation itself, keys sorted
    (Go's encoding of an unstructured object), newline-terminated (`util.GetModifiedConfiguration`,
    staging/src/k8s.io/kubectl/pkg/util/apply.go)."""
    meta = dict(manifest.get("metadata", {}))
    annotations = {k: v for k, v in meta.get("annotations", {}).items() if k != LAST_APPLIED_ANNOTATION}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return json.dumps({**manifest, "metadata": meta}, sort_keys=True, separators=(",", ":")) + "\n"
