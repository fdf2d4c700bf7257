"""A strategic merge patch applied to a frozen API object directly, field by field.

The API server applies a strategic merge patch to the stored object's JSON and decodes the result
(`server_apply.patched_object`; upstream's `smpPatcher` does the same:
`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go` strategicPatchObject converts the
current object with `runtime.DefaultUnstructuredConverter.ToUnstructured`, applyPatchToObject merges
with `strategicpatch.StrategicMergeMapPatch` and converts the result back into a new object). Every
field the patch does not name comes out of that as it went in, since a stored object decodes to
itself (`decode(encode(x)) == x`); so the model merges only where the patch reaches: a map of the
patch over an object field is merged into that object, field by field
(`strategic.strategic_merge_patch`'s map rule), and any other value of the patch — a scalar, a list,
`null`, a map over a map or list field — is merged with the field's JSON alone (with its
`$setElementOrder/` and `$deleteFromPrimitiveList/` directives) and that field alone decoded. A
status patch of one condition encodes and decodes the conditions, not the pod.

`merged_object` answers None — the long way then decides — for whatever it does not handle the same
way: a patch that is not a map, names `apiVersion` or `kind`, or holds any other directive
(`$patch`, `$retainKeys`) in a map over an object; a field unknown to the class (strict decoding
refuses it), ignored, refused, or with refused values; a value that does not decode, or a removed
field without a default (the long way's error names every problem); a custom resource (JSON merge
patch only); a class anywhere in the object with a field that is not part of its JSON (`MODEL_ONLY`,
or not an `__init__` argument), which the long way resets.
`tests/model/api/test_strategic_objects.py` compares both ways on random patches of the stored
objects of random runs.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

import attrs

from kubeprop.model.api.codec import MODEL_ONLY, DecodeError, _fields, _omit_when, decode, encode
from kubeprop.model.api.objects import ApiObject, CustomObject
from kubeprop.model.api.strategic import PatchError, strategic_merge_patch
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap

__all__ = ["merged_object"]

_DIRECTIVES = ("$setElementOrder/", "$deleteFromPrimitiveList/")
"""The directives the fast path passes on with the list they name."""


class _Fallback(Exception):
    """The fast path does not decide this patch (`merged_object` answers None)."""


def merged_object(old: ApiObject, patch: Any, kind: str) -> ApiObject | None:
    """`old` with the strategic merge patch `patch` applied, as decoding the patched JSON gives
    it; None where that is left to the long way (the module's docstring)."""
    if isinstance(old, CustomObject) or not isinstance(patch, dict) or "apiVersion" in patch or "kind" in patch:
        return None
    cls: Any = type(old)
    if not _plain_json(cls):
        return None
    try:
        merged: ApiObject = _merge(old, patch, kind, ())
    except (_Fallback, DecodeError, PatchError):
        return None
    return merged


@cache
def _plain_json(cls: Any) -> bool:
    """Whether every attrs class reachable from `cls` is all JSON: each field an `__init__` argument
    and part of the JSON form (decoding the encoded object resets no field)."""
    seen: set[Any] = set()
    todo: list[Any] = [cls]
    while todo:
        tp = todo.pop()
        if tp in seen:
            continue
        seen.add(tp)
        if attrs.has(tp):
            if any(not f.init or f.metadata.get(MODEL_ONLY) for f in attrs.fields(tp)):
                return False
            todo.extend(typing.get_type_hints(tp, include_extras=True).values())
        else:
            todo.extend(typing.get_args(tp))
    return True


@cache
def _by_json(cls: Any) -> dict[str, tuple[str, Any, bool, Any]]:
    """JSON name → (python name, type, has a default, the default) of the fields the fast path may
    set: not those with refused values (`REFUSED_JSON_VALUES`)."""
    refused = getattr(cls, "REFUSED_JSON_VALUES", {})
    defaults = {f.name: f.default for f in attrs.fields(cls)}
    return {jname: (pyname, tp, has_default, defaults[pyname]) for pyname, jname, tp, has_default in _fields(cls)
            if jname not in refused}


def _merge(value: Any, patch: dict[str, Any], kind: str, names: tuple[str, ...]) -> Any:
    """The attrs object `value` with the map `patch` merged into it."""
    cls: Any = type(value)
    fields = _by_json(cls)
    touched: dict[str, None] = {}
    for key in patch:
        if key.startswith("$"):
            prefix = next((p for p in _DIRECTIVES if key.startswith(p)), None)
            if prefix is None:
                raise _Fallback(key)
            key = key[len(prefix):]
        touched[key] = None
    changes: dict[str, Any] = {}
    for jname in touched:
        found = fields.get(jname)
        if found is None:
            raise _Fallback(jname)
        pyname = found[0]
        current = getattr(value, pyname)
        given = patch.get(jname)
        if isinstance(given, dict) and attrs.has(type(current)) and _only(patch, jname):
            changes[pyname] = _merge(current, given, kind, (*names, jname))
        else:
            changes[pyname] = _leaf(cls, found, current, patch, kind, names, jname)
    return evolve(value, **changes) if changes else value


def _only(patch: dict[str, Any], jname: str) -> bool:
    """Whether no directive of `patch` names field `jname`."""
    return all(f"{prefix}{jname}" not in patch for prefix in _DIRECTIVES)


_ABSENT: Any = object()


def _encoded(cls: type, pyname: str, tp: Any, item: Any) -> Any:
    """The field's JSON as `codec.encode` writes it into its object (`_ABSENT` where it leaves it out)."""
    if item is None or (isinstance(item, tuple | FrozenMap) and not item and tp is not Any):
        return _ABSENT
    omit = _omit_when(cls)
    if pyname in omit and type(item) is type(omit[pyname]) and item == omit[pyname]:
        return _ABSENT
    out = encode(item)
    if isinstance(out, dict) and not out and attrs.has(type(item)):
        return _ABSENT
    return out


def _leaf(cls: type, found: tuple[str, Any, bool, Any], current: Any, patch: dict[str, Any], kind: str,
          names: tuple[str, ...], jname: str) -> Any:
    """The field merged as the long way merges it (its JSON with the patch's entries for it), decoded."""
    pyname, tp, has_default, default = found
    encoded = _encoded(cls, pyname, tp, current)
    target = {} if encoded is _ABSENT else {jname: encoded}
    mini = {key: value for key, value in patch.items()
            if key == jname or (key.startswith("$") and key.split("/", 1)[-1] == jname)}
    merged = strategic_merge_patch(target, mini, kind, names)
    given = merged.get(jname)
    if given is None:
        if not has_default:
            raise _Fallback(jname)  # "Required value"
        maker = getattr(default, "factory", None)  # (an `attrs.Factory`)
        if maker is None:
            return default
        if default.takes_self:
            raise _Fallback(jname)
        return maker()
    return decode(tp, given, (*names, jname))
