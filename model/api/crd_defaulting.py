"""What the API server makes of a custom object before it validates and stores it: pruning, the
removal of nulls a field may not hold, and the schema's `default:` values; and the CRD's own check
that those defaults are valid.

Upstream (apiextensions-apiserver, v1.33):

- `pkg/apiserver/customresource_handler.go`: `unstructuredSchemaCoercer.apply` prunes the decoded
  object (`pruning.PruneWithOptions`) and then calls `PruneNonNullableNullsWithoutDefaults`; the
  codec's `unstructuredDefaulter` then runs `defaulting.Default`, on every decode: the body of a
  create or update, and each object read back from storage;
- `pkg/apiserver/schema/defaulting/prunenulls.go` (`PruneNonNullableNullsWithoutDefaults`): a null
  where the schema (a property's or `additionalProperties`') is neither `nullable` nor defaulted
  is dropped, as if the field had not been written;
- `pkg/apiserver/schema/defaulting/algorithm.go` (`Default`): a property with a `default` that is
  absent, or null without `nullable`, gets (a copy of) the default; an `additionalProperties`
  value or list item that is null without `nullable` gets that schema's default (still null
  when it has none); then every child is defaulted in turn, so a default applied to an object
  is itself defaulted inside. `x-kubernetes-preserve-unknown-fields` changes nothing here;
- `pkg/apiserver/schema/defaulting/validation.go` (`ValidateDefaults`, called by the CRD's
  validation, `pkg/apis/apiextensions/validation/validation.go`): each default, along
  `properties` and `items` (not `additionalProperties`), must survive pruning unchanged ("must
  not have unknown fields") and validate against its own schema; a CRD whose default does not is
  refused (422).

Not modelled (docs/objects.md): defaults of `metadata`, `apiVersion` and `kind` in embedded
resources (upstream validates them with a surrounding object; here they are not judged), and
defaulting on reads from storage after the CRD's schema changed (the model defaults at write
time, which is the same while the schema stays as the objects were written under).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeprop.model.api.codec import FieldPath, freeze_json
from kubeprop.model.api.crd_schema import META_FIELDS, check, prune
from kubeprop.model.api.validation_fields import ErrorList, invalid
from kubeprop.model.frozen import FrozenMap


def coerce(schema: Any, value: Any) -> Any:
    """A custom object's content as the API server keeps it: pruned, without the nulls its schema
    does not allow, then defaulted (`unstructuredSchemaCoercer.apply`, then the codec's defaulter)."""
    if not isinstance(schema, Mapping):
        return value
    return default(schema, prune_nulls(schema, prune(schema, value)))


def _nullable(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("nullable"))


def _has_default(schema: Mapping[str, Any]) -> bool:
    """Whether `schema` gives a default (`default: null` is none: Go's `Default.Object == nil`)."""
    return schema.get("default") is not None


def _like(original: Mapping[str, Any], items: dict[str, Any]) -> Mapping[str, Any]:
    """`items` as the same kind of map as `original` (frozen in the model's states)."""
    return FrozenMap(items) if isinstance(original, FrozenMap) else items


def _copy(value: Any, frozen: bool) -> Any:
    """A default's value put into an object (`runtime.DeepCopyJSONValue`): frozen in frozen content."""
    return freeze_json(value) if frozen else _thawed(value)


def _thawed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thawed(v) for v in value]
    return value


def _field_schema(schema: Any, name: str) -> Mapping[str, Any] | None:
    """The schema of field `name` (prunenulls.go `getSchemaForField`): its property's, else
    `additionalProperties`' when that is a schema."""
    if not isinstance(schema, Mapping):
        return None
    props = schema.get("properties")
    if isinstance(props, Mapping) and isinstance(props.get(name), Mapping):
        found: Mapping[str, Any] = props[name]
        return found
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else None


def prune_nulls(schema: Any, value: Any) -> Any:
    """`value` without the nulls of fields whose schema is neither nullable nor defaulted
    (`PruneNonNullableNullsWithoutDefaults`); a null with a default is left for `default`."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for name, child in value.items():
            sub = _field_schema(schema, name)
            if child is None and sub is not None and not _nullable(sub) and not _has_default(sub):
                continue
            out[name] = prune_nulls(sub, child)
        return _like(value, out)
    if isinstance(value, tuple | list):
        items = schema.get("items") if isinstance(schema, Mapping) else None
        return type(value)(prune_nulls(items, item) for item in value)
    return value


def _needs_default(value: Any, schema: Mapping[str, Any]) -> bool:
    """algorithm.go `isNonNullableNull`."""
    return value is None and not _nullable(schema)


def default(schema: Any, value: Any) -> Any:
    """`value` with the schema's defaults applied (`defaulting.Default`)."""
    if not isinstance(schema, Mapping):
        return value
    if isinstance(value, Mapping):
        return _default_object(schema, value)
    if isinstance(value, tuple | list):
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return value
        frozen = isinstance(value, tuple)
        return type(value)(default(items, _copy(items.get("default"), frozen) if _needs_default(item, items)
                                   else item) for item in value)
    return value


def _default_object(schema: Mapping[str, Any], value: Mapping[str, Any]) -> Mapping[str, Any]:
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    extra = schema.get("additionalProperties")
    frozen = isinstance(value, FrozenMap)
    out = dict(value)
    for name, prop in props.items():
        if isinstance(prop, Mapping) and _has_default(prop) and (name not in out or _needs_default(out[name], prop)):
            out[name] = _copy(prop["default"], frozen)
    for name, child in out.items():
        if isinstance(props.get(name), Mapping):
            out[name] = default(props[name], child)
        elif name not in props and isinstance(extra, Mapping):
            if _needs_default(child, extra):
                child = _copy(extra.get("default"), frozen)
            out[name] = default(extra, child)
    return _like(value, out)


def default_errors(versions: Sequence[Any], path: FieldPath) -> ErrorList:
    """The CRD's invalid defaults (`ValidateDefaults` for each version's `openAPIV3Schema`, the
    root counting as an embedded resource), at `spec.versions[i].schema.openAPIV3Schema…default`."""
    errors: ErrorList = []
    for i, version in enumerate(versions):
        schema = version.schema.get("openAPIV3Schema") if isinstance(version.schema, Mapping) else None
        if isinstance(schema, Mapping):
            _walk(schema, (*path, "versions", i, "schema", "openAPIV3Schema"), True, False, errors)
    return errors


def _walk(schema: Mapping[str, Any], path: FieldPath, embedded: bool, inside_meta: bool,
          errors: ErrorList) -> None:
    """validation.go `validate`: this schema's default, then its items' and properties'."""
    embedded = embedded or bool(schema.get("x-kubernetes-embedded-resource"))
    if embedded:
        inside_meta = False
    if _has_default(schema) and not inside_meta:
        _check_default(schema, path, embedded, errors)
    items = schema.get("items")
    if isinstance(items, Mapping):
        _walk(items, (*path, "items"), False, inside_meta, errors)
    props = schema.get("properties")
    for name, sub in (props.items() if isinstance(props, Mapping) else ()):
        if isinstance(sub, Mapping):
            _walk(sub, (*path, "properties", f"[{name}]"), False, inside_meta or (embedded and name in META_FIELDS),
                  errors)


def _check_default(schema: Mapping[str, Any], path: FieldPath, embedded: bool, errors: ErrorList) -> None:
    """One default: pruned it must stay the same, and it must be valid against its schema."""
    value = schema["default"]
    where = (*path, "default")
    if prune(schema, value, embedded) != value:
        errors.append(invalid(where, value, "must not have unknown fields"))
    check(schema, value, where, errors, None, root=embedded)
