"""Custom objects checked against their CustomResourceDefinition's OpenAPI v3 schema.

The API server validates every write of a custom object against the served version's
`openAPIV3Schema` and, with field validation `Strict` (what `kubectl apply` asks for by default
since v1.27, `--validate=strict`), refuses fields the schema does not declare instead of dropping
them. Upstream:

- unknown fields: `staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning/
  algorithm.go` (`Prune`: a field is kept when `properties` declares it or `additionalProperties`
  gives a schema; `x-kubernetes-preserve-unknown-fields` keeps the rest; `apiVersion`, `kind` and
  `metadata` are skipped at the root and in `x-kubernetes-embedded-resource` objects); the
  strict-mode error is KEP-2885's (`keps/sig-api-machinery/2885-server-side-unknown-field-validation`);
- values: `staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/validation/validation.go`
  (`NewSchemaValidator` → go-openapi `validate.SchemaValidator`: type, nullable, enum, required,
  minimum/maximum and their exclusive forms, minLength/maxLength, pattern, minItems/maxItems,
  minProperties/maxProperties, multipleOf, allOf/anyOf/oneOf/not), with
  `x-kubernetes-int-or-string` accepting an integer or a string.

Not checked (documented in docs/objects.md): `format`, CEL rules (`x-kubernetes-validations`),
list-type/map-type uniqueness. Defaults and the removal of nulls a field may not hold are
`kubeprop.model.api.crd_defaulting`'s. Messages
follow go-openapi's (`spec.replicas in body must be of type integer: "string"`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeGuard

import re2

from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.ext import CustomResourceDefinition
from kubeprop.model.api.validation_fields import (
    ErrorList,
    invalid,
    not_supported,
    render_path,
    required,
)
from kubeprop.model.frozen import FrozenMap

META_FIELDS: Final = frozenset({"apiVersion", "kind", "metadata"})
"""Fields the schema never governs at the root or in an embedded resource (pruning's metaFields)."""


def _mapping(value: Any) -> Mapping[str, Any]:
    """A keyword's object value, or {} where a malformed schema gives something else (upstream
    refuses such a CRD when it is created; the model does not validate CRDs themselves)."""
    return value if isinstance(value, Mapping) else {}


def _listed(value: Any) -> tuple[Any, ...]:
    """A keyword's list value (`enum`, `required`, `allOf`, …), or () where it is malformed."""
    return tuple(value) if isinstance(value, tuple | list) else ()


def version_schema(crd: CustomResourceDefinition, version: str) -> Any:
    """The `openAPIV3Schema` of `version` (None when the version has none)."""
    for v in crd.spec.versions:
        if v.name == version and isinstance(v.schema, Mapping):
            return v.schema.get("openAPIV3Schema")
    return None


def validate_custom(schema: Any, body: Mapping[str, Any]) -> ErrorList:
    """The value errors of a custom object's `body` against `schema` (apiVersion, kind and
    metadata are not the schema's); none when the CRD gives no schema."""
    if not isinstance(schema, Mapping):
        return []
    errors: ErrorList = []
    check(schema, body, (), errors, None, root=True)
    return errors


def unknown_fields(schema: Any, body: Mapping[str, Any]) -> list[tuple[FieldPath, str]]:
    """The fields of `body` that pruning would drop, each with the fields its schema declares there
    (what strict field validation refuses: `kubectl apply`, whose default is `--validate=strict`)."""
    if not isinstance(schema, Mapping):
        return []
    found: list[tuple[FieldPath, str]] = []
    check(schema, body, (), [], found, root=True)
    return found


def prune(schema: Any, value: Any, root: bool = True) -> Any:
    """`value` without the fields `schema` does not declare (pruning/algorithm.go `Prune`, `root`:
    the resource's root, which counts as an embedded resource): what the API server stores when the
    writer did not ask for strict field validation (the server's default is `Warn`). apiVersion,
    kind and metadata are kept in an object whose own schema is `x-kubernetes-embedded-resource`;
    under `x-kubernetes-preserve-unknown-fields` undeclared fields stay, declared ones are pruned
    by their schema, and so are list items (`skipPrune`)."""
    if not isinstance(schema, Mapping):
        return value
    return _prune(schema, value, root, False)


def _prune(schema: Any, value: Any, embedded: bool, skip: bool) -> Any:
    """pruning.go `prune` (`skip`: `skipPrune`, inside a list of a preserve-unknown-fields schema)."""
    if not isinstance(schema, Mapping):
        return value
    embedded = embedded or bool(schema.get("x-kubernetes-embedded-resource"))
    keep_unknown = skip or bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    if isinstance(value, Mapping):
        props = _mapping(schema.get("properties"))
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for name, child in value.items():
            if embedded and name in META_FIELDS:
                out[name] = child
            elif name in props:
                out[name] = _prune(props[name], child, False, False)
            elif isinstance(extra, Mapping):
                out[name] = _prune(extra, child, False, False)
            elif keep_unknown:
                out[name] = child
        return FrozenMap(out) if isinstance(value, FrozenMap) else out
    if isinstance(value, tuple | list):
        return type(value)(_prune(schema.get("items"), item, False, keep_unknown) for item in value)
    return value


def _type_name(value: Any) -> str:
    """go-openapi's name for a JSON value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def _where(path: FieldPath) -> str:
    return render_path(path) or "body"


def _type_ok(schema: Mapping[str, Any], value: Any) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return _type_name(value) in ("integer", "string")
    want = schema.get("type")
    if not want:
        return True
    have = _type_name(value)
    return have == want or (want == "number" and have == "integer")


Unknown = list[tuple[FieldPath, str]] | None
"""Where `check` collects undeclared fields (None: not judged, as inside allOf/anyOf/oneOf/not)."""


def check(schema: Mapping[str, Any], value: Any, path: FieldPath, errors: ErrorList, unknown: Unknown,
          root: bool = False, skip: bool = False) -> None:
    """Validate `value` at `path` against `schema`: value errors to `errors`, undeclared fields to
    `unknown` (`skip`: an item of a preserve-unknown-fields list, whose undeclared fields pruning
    keeps, `skipPrune`)."""
    if value is None:
        if not schema.get("nullable") and (schema.get("type") or schema.get("x-kubernetes-int-or-string")):
            want = schema.get("type") or "integer or string"
            errors.append(invalid(path, None, f"{_where(path)} in body must be of type {want}: \"null\""))
        return
    if not _type_ok(schema, value):
        want = schema.get("type") or "integer or string"
        errors.append(invalid(path, value, f"{_where(path)} in body must be of type {want}: \"{_type_name(value)}\""))
        return
    enum = _listed(schema.get("enum"))
    if enum and value not in enum:
        errors.append(not_supported(path, value, [v if isinstance(v, str) else json.dumps(v) for v in enum]))
    _check_bounds(schema, value, path, errors)
    _check_combinators(schema, value, path, errors)
    if isinstance(value, Mapping):
        embedded = root or bool(schema.get("x-kubernetes-embedded-resource"))
        _check_object(schema, value, path, errors, unknown, embedded, skip)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = schema.get("items")
        skip = skip or bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        for i, item in enumerate(value):
            if isinstance(items, Mapping):
                check(items, item, (*path, i), errors, unknown, skip=skip)


def _check_object(schema: Mapping[str, Any], value: Mapping[str, Any], path: FieldPath, errors: ErrorList,
                  unknown: Unknown, embedded: bool, skip: bool) -> None:
    """Required and declared fields, and the schema of each field (pruning.go's walk)."""
    props = _mapping(schema.get("properties"))
    extra = schema.get("additionalProperties")
    preserve = skip or bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    for name in _listed(schema.get("required")):
        if isinstance(name, str) and name not in value:
            errors.append(required((*path, name)))
    for name in sorted(value):
        if embedded and name in META_FIELDS:
            continue
        if name in props:
            if isinstance(props[name], Mapping):
                check(props[name], value[name], (*path, name), errors, unknown)
        elif isinstance(extra, Mapping):
            check(extra, value[name], (*path, f"[{name}]"), errors, unknown)
        elif unknown is not None and not preserve:
            unknown.append(((*path, name), ", ".join(sorted(props)) or "none"))


_SIZES: Final = (
    ("minLength", str, True, "be at least {b} chars long"),
    ("maxLength", str, False, "be at most {b} chars long"),
    ("minItems", tuple | list, True, "have at least {b} items"),
    ("maxItems", tuple | list, False, "have at most {b} items"),
    ("minProperties", Mapping, True, "have at least {b} properties"),
    ("maxProperties", Mapping, False, "have at most {b} properties"),
)
"""Size keywords: (keyword, the values it applies to, whether it is a lower bound, go-openapi's words)."""


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_bounds(schema: Mapping[str, Any], value: Any, path: FieldPath, errors: ErrorList) -> None:
    """Sizes, numeric bounds and patterns (go-openapi's validators and their messages)."""
    where = _where(path)
    for key, kinds, lower, words in _SIZES:
        bound = schema.get(key)
        short_or_long = isinstance(bound, int) and isinstance(value, kinds) and (
            len(value) < bound if lower else len(value) > bound)
        if short_or_long:
            errors.append(invalid(path, value, f"{where} in body should {words.format(b=bound)}"))
    if _is_number(value):
        _check_range(schema, value, path, errors)
    pattern = schema.get("pattern")
    if isinstance(value, str) and isinstance(pattern, str):
        compiled = _compiled(pattern)
        if compiled is not None and compiled.search(value) is None:
            errors.append(invalid(path, value, f"{where} in body should match '{pattern}'"))


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    """`pattern` compiled as RE2, the syntax and linear-time matching of Go's `regexp` that the API
    server uses, so a hostile pattern cannot make a check hang (None: not valid RE2 — upstream
    refuses such a CRD; here the pattern is not judged)."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error:
        return None


def _check_range(schema: Mapping[str, Any], value: float, path: FieldPath, errors: ErrorList) -> None:
    """minimum / maximum (inclusive unless exclusiveMinimum / exclusiveMaximum) and multipleOf."""
    where = _where(path)
    low, high = schema.get("minimum"), schema.get("maximum")
    if _is_number(low):
        strict = bool(schema.get("exclusiveMinimum"))
        if value < low or (strict and value == low):
            rel = "greater than" if strict else "greater than or equal to"
            errors.append(invalid(path, value, f"{where} in body should be {rel} {low}"))
    if _is_number(high):
        strict = bool(schema.get("exclusiveMaximum"))
        if value > high or (strict and value == high):
            rel = "less than" if strict else "less than or equal to"
            errors.append(invalid(path, value, f"{where} in body should be {rel} {high}"))
    step = schema.get("multipleOf")
    if _is_number(step) and step > 0 and not math.isclose(value / step, round(value / step)):
        errors.append(invalid(path, value, f"{where} in body should be a multiple of {step}"))


def _check_combinators(schema: Mapping[str, Any], value: Any, path: FieldPath, errors: ErrorList) -> None:
    """allOf / anyOf / oneOf / not: value validation only (they declare no fields for pruning)."""
    where = _where(path)

    def fails(sub: Any) -> bool:
        found: ErrorList = []
        if isinstance(sub, Mapping):
            _check_value_only(sub, value, path, found)
        return bool(found)

    for sub in _listed(schema.get("allOf")):
        if isinstance(sub, Mapping):
            _check_value_only(sub, value, path, errors)
    any_of = _listed(schema.get("anyOf"))
    if any_of and all(fails(s) for s in any_of):
        errors.append(invalid(path, value, f"{where} in body must validate at least one schema (anyOf)"))
    one_of = _listed(schema.get("oneOf"))
    if one_of and sum(not fails(s) for s in one_of) != 1:
        errors.append(invalid(path, value, f"{where} in body must validate one and only one schema (oneOf)"))
    if isinstance(schema.get("not"), Mapping) and not fails(schema["not"]):
        errors.append(invalid(path, value, f"{where} in body must not validate the schema (not)"))


def _check_value_only(schema: Mapping[str, Any], value: Any, path: FieldPath, errors: ErrorList) -> None:
    """A combinator branch: its value constraints, without unknown-field judgement."""
    check(schema, value, path, errors, None)
