"""Server-side apply: field ownership (`metadata.managedFields`) and the apply merge.

Follows structured-merge-diff's `merge.Updater` (sigs.k8s.io/structured-merge-diff, `merge/update.go`
Apply, Update, prune) as wired by `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/`
(`fieldmanager.go`, `structuredmerge.go`, `skipnonapplied.go`, `stripmeta.go`, `conflict.go`):

- a *field set* is every leaf of an object's JSON (scalars, atomic lists, empty maps) plus every
  item of a keyed list (`strategic.LIST_KEYS`) and every value of a set list, as paths in
  upstream's fieldsV1 notation (`f:spec`, `k:{"name":"web"}`, `v:"x"`); apiVersion, kind and the
  server-set metadata (name, namespace, uid, resourceVersion, generation, timestamps,
  managedFields) are never owned (`stripMeta`), nor is status on the main resource or anything
  but status on `/status` (the strategies' reset fields);
- **apply** (manager M, config C): merge C into the live object; M's Apply set becomes C's fields;
  fields M applied last time, no longer in C and owned by no manager are removed (prune); every
  field the merge changed or added that another manager owns is a **conflict** → 409 unless
  `force`, which moves those fields to M;
- **update** by manager M (operation Update, per subresource): M takes every field it changed or
  added, other managers lose them, and fields it removed leave every set — updates never conflict.

Tracking starts at an object's first server-side apply (upstream's `NewSkipNonAppliedManager`):
an object created or updated only by ordinary writes has no managedFields, and on its first apply
its existing fields are attributed to the manager `before-first-apply` (operation Update), as
upstream does for an object without managedFields. Upstream v1.33 starts tracking at creation
(`DefaultTrackOnCreateProbability = 1`), so a real cluster names the creating manager in a
conflict where the model names `before-first-apply`; the model does not carry managedFields for
objects no one applies (it would grow every state). Entries carry no `time`.

The upgrade from client-side apply (`apply_upgrading`) is upstream's `lastAppliedManager`
(`staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/lastappliedmanager.go`, Apply and
allowedConflictsFromLastApplied; the same logic at the two stored revisions read, on
structured-merge-diff v6 and v7, and unchanged since the file's introduction in 2020): an apply by
the manager `kubectl` whose only conflicts are fields the live object's last-applied-configuration
annotation sets to their live values is applied as if forced — the documented way from `kubectl
apply` to `kubectl apply --server-side`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from kubeprop.model.api.codec import freeze_json, thaw_json
from kubeprop.model.api.meta import ManagedFieldsEntry
from kubeprop.model.api.strategic import SET, list_key

Path = tuple[str, ...]
FieldSet = frozenset[Path]
ManagerId = tuple[str, str, str]
"""(manager, operation Apply|Update, subresource): upstream keys managers by all three."""

BEFORE_FIRST_APPLY: Final = "before-first-apply"
LAST_APPLIED_MANAGER: Final = "kubectl"
"""The only manager whose applies upgrade client-side-applied fields (lastappliedmanager.go)."""
_UNOWNED_META: Final = frozenset({"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                  "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
                                  "generateName"})
_ITEM: Final = object()
"""The value recorded for a keyed-list item itself (its children are compared, not the item)."""


@attrs.frozen
class Conflict:
    """One field another manager owns that an apply would change."""

    manager: ManagerId
    api_version: str
    path: Path

    def __str__(self) -> str:
        return f"conflict with {describe_manager(self.manager, self.api_version)}: {render(self.path)}"


class ApplyConflict(Exception):
    """The apply changes fields other managers own (409 unless forced)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(conflict_message(conflicts))
        self.conflicts = conflicts


def describe_manager(manager: ManagerId, api_version: str) -> str:
    """`"kubectl"`, or `"kube-controller-manager" with subresource "status" using apps/v1`
    (conflict.go printManager; the model's entries have no time)."""
    name, operation, subresource = manager
    text = json.dumps(name)
    if subresource:
        text += f" with subresource {json.dumps(subresource)}"
    return f"{text} using {api_version}" if operation == "Update" else text


def conflict_message(conflicts: list[Conflict]) -> str:
    """conflict.go getConflictMessage."""
    if len(conflicts) == 1:
        return f"Apply failed with 1 conflict: {conflicts[0]}"
    lines: list[str] = []
    for manager in sorted({c.manager for c in conflicts}):
        version = next(c.api_version for c in conflicts if c.manager == manager)
        lines.append(f"conflicts with {describe_manager(manager, version)}:")
        lines += [f"- {render(c.path)}" for c in conflicts if c.manager == manager]
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def render(path: Path) -> str:
    """fieldpath.Path.String: `.spec.replicas`, `.spec.containers[name="web"].image`."""
    out = ""
    for part in path:
        tag, _, text = part.partition(":")
        if tag == "f":
            out += f".{text}"
        elif tag == "k":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(text).items()) + "]"
        else:
            out += f"[={text}]"
    return out


# -- field sets ----------------------------------------------------------------------------------


def leaves(obj: Mapping[str, Any], kind: str) -> dict[Path, Any]:
    """Every owned path of `obj` (JSON data) with its value (`_ITEM` for a keyed item itself)."""
    out: dict[Path, Any] = {}
    for field, value in obj.items():
        if field in ("apiVersion", "kind"):
            continue
        if field == "metadata" and isinstance(value, Mapping):  # stripMeta: metadata itself is never owned
            for name, child in value.items():
                if name not in _UNOWNED_META:
                    _walk(child, ("f:metadata", f"f:{name}"), ("metadata", name), kind, out)
            continue
        _walk(value, (f"f:{field}",), (field,), kind, out)
    return out


def _walk(value: Any, path: Path, names: tuple[str, ...], kind: str, out: dict[Path, Any]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out[path] = {}
        for field, child in value.items():
            _walk(child, (*path, f"f:{field}"), (*names, field), kind, out)
        return
    key = list_key(names, kind) if isinstance(value, list) else None
    if key == SET and all(not isinstance(v, dict | list) for v in value):
        for item in value:
            out[(*path, f"v:{json.dumps(item)}")] = item
    elif key and key != SET and all(isinstance(v, Mapping) and key in v for v in value):
        for item in value:
            item_path = (*path, "k:" + json.dumps({key: item[key]}, separators=(",", ":")))
            out[item_path] = _ITEM
            _walk(item, item_path, names, kind, out)
    else:
        out[path] = value


def field_set(obj: Mapping[str, Any], kind: str, subresource: str = "") -> FieldSet:
    """The paths a manager of `obj` owns (status only on `/status`, never on the main resource)."""
    return _scoped(frozenset(leaves(obj, kind)), subresource)


def _scoped(paths: Iterable[Path], subresource: str) -> FieldSet:
    status = subresource == "status"
    return frozenset(p for p in paths if (p[0] == "f:status") == status)


# -- managedFields (fieldsV1) --------------------------------------------------------------------


def to_fields_v1(paths: FieldSet) -> dict[str, Any]:
    """The fieldsV1 tree: each path a chain of keys; "." marks a member that also has children."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(part, {})
    for path in paths:
        node = root
        for part in path:
            node = node[part]
        if node:
            node["."] = {}
    return root


def from_fields_v1(tree: Any, prefix: Path = ()) -> FieldSet:
    """The inverse of `to_fields_v1`."""
    out: set[Path] = set()
    if isinstance(tree, Mapping):
        if not tree and prefix:
            out.add(prefix)
        for part, child in tree.items():
            if part == ".":
                out.add(prefix)
            else:
                out |= from_fields_v1(child, (*prefix, part))
    return frozenset(out)


def decode_managers(entries: Iterable[ManagedFieldsEntry]) -> dict[ManagerId, tuple[str, FieldSet]]:
    """managedFields → {manager id: (apiVersion, field set)}."""
    return {(e.manager, e.operation, e.subresource): (e.api_version, from_fields_v1(thaw_json(e.fields_v1)))
            for e in entries}


def encode_managers(managers: Mapping[ManagerId, tuple[str, FieldSet]]) -> tuple[ManagedFieldsEntry, ...]:
    """{manager id: (apiVersion, set)} → managedFields, in a stable order, empty sets dropped."""
    return tuple(
        ManagedFieldsEntry(manager=m, operation=op, api_version=version, fields_type="FieldsV1",
                           fields_v1=freeze_json(to_fields_v1(paths)), subresource=sub)
        for (m, op, sub), (version, paths) in sorted(managers.items()) if paths
    )


# -- merge, apply, update ------------------------------------------------------------------------


def merge(live: Any, config: Any, kind: str, names: tuple[str, ...] = ()) -> Any:
    """The applied configuration merged into the live object: maps recursively, keyed lists item
    by item (live order, new items appended), set lists as a union, anything else replaced."""
    if isinstance(live, Mapping) and isinstance(config, Mapping):
        out = dict(live)
        for field, value in config.items():
            out[field] = merge(live[field], value, kind, (*names, field)) if field in live else value
        return out
    if isinstance(live, list) and isinstance(config, list):
        key = list_key(names, kind)
        if key == SET:
            return [*live, *(v for v in config if v not in live)]
        if key and all(isinstance(v, Mapping) and key in v for v in (*live, *config)):
            out_items = list(live)
            for item in config:
                at = next((i for i, v in enumerate(out_items) if v[key] == item[key]), -1)
                if at < 0:
                    out_items.append(item)
                else:
                    out_items[at] = merge(out_items[at], item, kind, names)
            return out_items
    return config


def remove_paths(obj: Any, paths: FieldSet, kind: str) -> Any:
    """`obj` without the given owned paths (a removed keyed item goes whole)."""
    for path in sorted(paths, key=len, reverse=True):
        obj = _remove(obj, path)
    return obj


def _remove(value: Any, path: Path) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    tag, _, text = head.partition(":")
    if tag == "f" and isinstance(value, Mapping) and text in value:
        out = dict(value)
        if rest:
            out[text] = _remove(value[text], rest)
        else:
            del out[text]
        return out
    if tag in ("k", "v") and isinstance(value, list):
        match = json.loads(text)
        out_items = []
        for item in value:
            hit = (tag == "v" and item == match) or (
                tag == "k" and isinstance(item, Mapping) and all(item.get(k) == v for k, v in match.items()))
            if hit and not rest:
                continue
            out_items.append(_remove(item, rest) if hit else item)
        return out_items
    return value


def _compare(old: Mapping[str, Any], new: Mapping[str, Any], kind: str) -> tuple[FieldSet, FieldSet, FieldSet]:
    """(added, modified, removed) owned paths from `old` to `new`."""
    before, after = leaves(old, kind), leaves(new, kind)
    added = frozenset(after.keys() - before.keys())
    removed = frozenset(before.keys() - after.keys())
    modified = frozenset(p for p in before.keys() & after.keys()
                         if before[p] is not _ITEM and before[p] != after[p])
    return added, modified, removed


Managers = dict[ManagerId, tuple[str, FieldSet]]


def _take(managers: Managers, me: ManagerId, changed: FieldSet, removed: FieldSet, force: bool,
          api_version: str) -> list[Conflict]:
    """Other managers lose `changed` (conflicts unless `force`) and `removed`."""
    conflicts = [Conflict(m, version, p) for m, (version, paths) in sorted(managers.items()) if m != me
                 for p in sorted(paths & changed)]
    if conflicts and not force:
        return conflicts
    for m, (version, paths) in list(managers.items()):
        if m != me:
            managers[m] = (version, paths - changed - removed)
    return []


def apply(live: Mapping[str, Any], config: Mapping[str, Any], managers: Managers, manager: str, force: bool,
          kind: str, api_version: str, subresource: str = "") -> tuple[dict[str, Any], Managers]:
    """Server-side apply of `config` by `manager` onto `live` (JSON data): the new object and
    managers, or ApplyConflict. `managers` empty means the live object was never applied to."""
    managers = dict(managers)
    if not managers and live:
        managers[(BEFORE_FIRST_APPLY, "Update", subresource)] = (api_version, field_set(live, kind, subresource))
    me: ManagerId = (manager, "Apply", subresource)
    last = managers.get(me, (api_version, frozenset()))[1]
    managers[me] = (api_version, field_set(config, kind, subresource))
    merged = merge(dict(live), dict(config), kind)
    owned = frozenset().union(*(paths for _v, paths in managers.values()))
    merged = remove_paths(merged, last - owned, kind)
    added, modified, removed = _compare(live, merged, kind)
    conflicts = _take(managers, me, _scoped(added | modified, subresource), removed, force, api_version)
    if conflicts:
        raise ApplyConflict(conflicts)
    return merged, {m: v for m, v in managers.items() if v[1]}


def update(live: Mapping[str, Any], new: Mapping[str, Any], managers: Managers, manager: str, kind: str,
           api_version: str, subresource: str = "") -> Managers:
    """An ordinary write by `manager`: it takes what it changed; never conflicts."""
    managers = dict(managers)
    me: ManagerId = (manager, "Update", subresource)
    added, modified, removed = _compare(live, new, kind)
    changed = _scoped(added | modified, subresource)
    _take(managers, me, changed, removed, True, api_version)
    mine = managers.get(me, (api_version, frozenset()))[1]
    managers[me] = (api_version, (mine - removed) | changed)
    return {m: v for m, v in managers.items() if v[1]}


def apply_upgrading(live: Mapping[str, Any], config: Mapping[str, Any], managers: Managers, manager: str,
                    force: bool, kind: str, api_version: str,
                    last_applied: str | None) -> tuple[dict[str, Any], Managers]:
    """`apply`, with lastAppliedManager.Apply around it: for the manager `kubectl`, conflicts on
    fields the last-applied configuration (`last_applied`, the annotation's text) also sets, to
    the values the live object has, are forgiven — the apply is redone forced — and only the
    others are reported."""
    try:
        return apply(live, config, managers, manager, force, kind, api_version)
    except ApplyConflict as err:
        if manager != LAST_APPLIED_MANAGER or not last_applied:
            raise
        allowed = allowed_by_last_applied(live, last_applied, kind, api_version)
        if allowed is None:
            raise
        others = [c for c in err.conflicts if c.path not in allowed]
        if others:
            raise ApplyConflict(others) from None
    return apply(live, config, managers, manager, True, kind, api_version)


def allowed_by_last_applied(live: Mapping[str, Any], last_applied: str, kind: str,
                            api_version: str) -> FieldSet | None:
    """allowedConflictsFromLastApplied: the last-applied configuration's fields less those it
    sets differently from `live`, lacks or has that `live` lacks; None when the annotation is not
    a JSON object of the request's apiVersion (upstream then reports the conflicts as they are)."""
    try:
        applied = json.loads(last_applied)
    except ValueError:
        return None
    if not isinstance(applied, dict) or applied.get("apiVersion") != api_version:
        return None
    added, modified, removed = _compare(applied, live, kind)
    return frozenset(leaves(applied, kind)) - modified - added - removed
