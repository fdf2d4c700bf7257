"""Decode JSON-shaped data (parsed manifests) into frozen API objects, and encode them back.

The API object classes are declarative attrs classes; this module walks their type hints, so a
new field needs no hand-written parsing. Decoding is strict, like kubectl's default server-side
field validation (`fieldValidation=Strict`, `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
fieldmanager`): an unknown field, a wrong type or a bad quantity is a `DecodeError` naming the
field path, so the manifest loader can turn it into `file:line: field: message`.

JSON names are the camelCase of the Python names (`termination_grace_period_seconds` →
`terminationGracePeriodSeconds`) unless a field's metadata says otherwise (`json="x"`). A field
whose metadata says `MODEL_ONLY` is state the model keeps with an object where upstream keeps it
elsewhere: it has no JSON name, is never encoded, and a document that sets it is refused as any
unknown field is.

Fields the model accepts without meaning are named by each class, and this module is their one
record: `IGNORED_JSON_FIELDS` are *dropped* (accepted, not stored; `recording_dropped` collects
the paths of those a document sets, for `kubeprop validate` to list), `REFUSED_JSON_FIELDS` maps
a field whose absence would change what the checker sees (scheduling, pod lifetime, names,
admission) to why, and setting it is a DecodeError (`spec.runtimeClassName: not modelled: …`);
`REFUSED_JSON_VALUES` does the same for some values of a string field (a PersistentVolume's
`persistentVolumeReclaimPolicy: Recycle`), and `ONLY_JSON_VALUES` for every value of a string field
but those listed (a Job's `managedBy` other than the Job controller's own).
"""

from __future__ import annotations

import math
import struct
import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Annotated, Any, Union

import attrs

from kubeprop.model.api.integers import GoInt
from kubeprop.model.api.quantity import Quantity, QuantityError
from kubeprop.model.errors import InputError, describe_value
from kubeprop.model.frozen import FrozenMap

FieldPath = tuple[str | int, ...]

JsonValue = Any
"""A decoded JSON value kept immutable: str, int, float, bool, None, tuple, FrozenMap."""


MODEL_ONLY = "model-only"
"""Field metadata key (`metadata={MODEL_ONLY: True}`): the field is not part of the JSON form."""


_DROPPED: ContextVar[list[FieldPath] | None] = ContextVar("kubeprop_codec_dropped", default=None)


@contextmanager
def recording_dropped() -> Iterator[list[FieldPath]]:
    """Within the block, every decode appends to the yielded list the path of each dropped field
    (an `IGNORED_JSON_FIELDS` name) the input sets, in input order."""
    found: list[FieldPath] = []
    token = _DROPPED.set(found)
    try:
        yield found
    finally:
        _DROPPED.reset(token)


def is_set(value: Any) -> bool:
    """Whether a JSON value says anything: not null, `false`, or an empty list or object."""
    return not (value is None or value is False or (isinstance(value, list | tuple | Mapping) and not value))


class DecodeError(InputError, ValueError):
    """A value does not fit the API schema; `path` is the field path from the object's root.

    `path` and `message` are the first problem; `problems` lists every one found in the object
    (an object's fields are all decoded before it fails, so a manifest's problems come at once)."""

    def __init__(self, path: FieldPath, message: str,
                 problems: tuple[tuple[FieldPath, str], ...] = ()) -> None:
        self.problems = problems or ((path, message),)
        super().__init__("\n".join(f"{format_path(p)}: {m}" for p, m in self.problems))
        self.path = path
        self.message = message


def format_path(path: FieldPath) -> str:
    """Render a field path the way Kubernetes does: `spec.containers[0].image`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("[") and part.endswith("]"):
            out += part  # a map key (`validation_fields.key`): `data[a.txt]`
        else:
            out += ("." if out else "") + part
    return out or "<root>"


def json_name(field: attrs.Attribute[Any]) -> str:
    """The JSON (camelCase) name of an attrs field."""
    explicit = field.metadata.get("json")
    if explicit:
        return str(explicit)
    head, *rest = field.name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def _fields(cls: Any) -> tuple[tuple[str, str, Any, bool], ...]:
    """(python name, json name, type, has default) for each init field of an attrs class."""
    hints = typing.get_type_hints(cls, include_extras=True)
    result = []
    for field in attrs.fields(cls):
        if not field.init or field.metadata.get(MODEL_ONLY):
            continue
        has_default = field.default is not attrs.NOTHING
        result.append((field.name, json_name(field), hints[field.name], has_default))
    return tuple(result)


@cache
def _omit_when(cls: Any) -> dict[str, Any]:
    """Scalar defaults ("", 0, False) that encoding omits, like Go's `omitempty`."""
    omit: dict[str, Any] = {}
    for field in attrs.fields(cls):
        default = field.default
        if default is not attrs.NOTHING and type(default) in (str, int, bool) and not default:
            omit[field.name] = default
    return omit


def _float32_text(value: float) -> str:
    """`strconv.FormatFloat(value, 'g', -1, 32)`: the shortest digits that give back the same
    float32, in %e form when the exponent is below -4 or at least 6; OverflowError for a value
    that is infinite as a float32."""
    single = struct.unpack("f", struct.pack("f", value))[0]  # (OverflowError, or infinite, past float32)
    if math.isinf(single):
        raise OverflowError(value)
    decimals = next(p for p in range(9) if struct.unpack("f", struct.pack("f", float(f"{single:.{p}e}")))[0]
                    == single)
    mantissa, _, exponent = f"{single:.{decimals}e}".partition("e")
    exp = int(exponent)
    if exp < -4 or exp >= 6:
        return f"{mantissa}e{exp:+03d}"
    return f"{single:.{max(decimals - exp, 0)}f}"


def json_key(key: Any, path: FieldPath) -> str:
    """A YAML mapping key as the string Kubernetes makes of it (sigs.k8s.io/yaml, yaml.go
    `convertToJSONableObject`): a string as is, a bool `true`/`false`, an int in decimal, a float
    as `FormatFloat(f, 'g', -1, 32)` (`.inf`, `-.inf`, `.nan`); any other key (null, a list) is
    "unsupported map key", a DecodeError."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return ".nan"
        try:
            return _float32_text(key)
        except OverflowError:  # beyond float32 once rounded to it: infinite, as Go's float32 is
            return ".inf" if key > 0 else "-.inf"
    raise DecodeError(path, f"unsupported map key {'null' if key is None else type(key).__name__}")


def _json_keys(value: Mapping[Any, Any], path: FieldPath) -> Mapping[str, Any]:
    """`value` with its keys as `json_key` makes them (`value` itself when they are all strings, as
    almost always); two keys making the same string are a DecodeError."""
    if all(type(key) is str for key in value):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        text = json_key(key, path)
        if text in out:
            raise DecodeError(path, f"the key {text!r} is written twice ({key!r} is the key {text!r} too)")
        out[text] = item
    return out


def freeze_json(value: Any, path: FieldPath = ()) -> JsonValue:
    """Make a parsed JSON value immutable and hashable (dicts → FrozenMap, lists → tuple); keys
    that are not strings (from YAML) become the strings Kubernetes makes of them (`json_key`)."""
    if isinstance(value, Mapping):
        return FrozenMap({k: freeze_json(v, (*path, k)) for k, v in _json_keys(value, path).items()})
    if isinstance(value, list | tuple):
        return tuple(freeze_json(v, (*path, i)) for i, v in enumerate(value))
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise DecodeError(path, f"unsupported value {value!r}")


def thaw_json(value: JsonValue) -> Any:
    """The inverse of `freeze_json`: plain dicts and lists, for output."""
    if isinstance(value, Mapping):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw_json(v) for v in value]
    return value


def _type_name(tp: Any) -> str:
    tp = _base(tp)
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "a list"
    if origin is FrozenMap or tp is FrozenMap:
        return "an object"
    if attrs.has(tp):
        return "an object"
    if tp is Quantity:
        return "a quantity such as 100m or 128Mi"
    names = {str: "a string", int: "an integer", bool: "a boolean", float: "a number"}
    return names.get(tp, str(tp))


def decode(tp: Any, value: Any, path: FieldPath = ()) -> Any:
    """Decode `value` (parsed JSON/YAML) as type `tp`; raise DecodeError naming the field."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return _decode_union(typing.get_args(tp), value, path)
    if tp is Any:
        return freeze_json(value, path)
    if origin is Annotated:
        return _decode_annotated(tp, value, path)
    if origin is tuple:
        return _decode_list(typing.get_args(tp)[0], value, path)
    if origin is FrozenMap:
        return _decode_map(typing.get_args(tp)[1], value, path)
    if attrs.has(tp):
        return decode_attrs(tp, value, path)
    return _decode_scalar(tp, value, path)


def _decode_list(item_tp: Any, value: Any, path: FieldPath) -> tuple[Any, ...]:
    """A list as a tuple of `item_tp`; a DecodeError lists the problems of every item."""
    if not isinstance(value, list | tuple):
        raise DecodeError(path, f"expected a list, got {describe_value(value)}")
    problems: list[tuple[FieldPath, str]] = []
    items = tuple(_collect(problems, item_tp, _go_null(item_tp, v), (*path, i)) for i, v in enumerate(value))
    _raise_all(problems)
    return items


def _decode_map(val_tp: Any, value: Any, path: FieldPath) -> FrozenMap[str, Any]:
    """An object as a FrozenMap of `val_tp`; a DecodeError lists the problems of every entry."""
    if not isinstance(value, Mapping):
        raise DecodeError(path, f"expected an object, got {describe_value(value)}")
    problems: list[tuple[FieldPath, str]] = []
    entries = {k: _collect(problems, val_tp, _go_null(val_tp, v), (*path, k))
               for k, v in _json_keys(value, path).items()}
    _raise_all(problems)
    return FrozenMap(entries)


_GO_ZERO: dict[Any, Any] = {str: "", int: 0, bool: False, float: 0.0}
"""The zero values of the scalar types, which Go's decoder leaves in place of a JSON null."""


def _go_null(tp: Any, value: Any) -> Any:
    """A JSON null as a list item or map value of a scalar type decodes to the type's zero value, as
    Go's decoder does (encoding/json `literalStore`: a null is ignored for a string, number or bool,
    and `object`/`array` store the element's zero value; the API server decodes with
    sigs.k8s.io/json, its fork): Helm renders `data: {KEY: null}`, and the API server stores `KEY: ""`."""
    return _GO_ZERO.get(_base(tp), value) if value is None else value


def _decode_union(options: tuple[Any, ...], value: Any, path: FieldPath) -> Any:
    if value is None and type(None) in options:
        return None
    concrete = [o for o in options if o is not type(None)]
    # int | str (IntOrString): pick by the JSON type.
    for option in concrete:
        if _base(option) in (int, str, bool) and _is_exactly(_base(option), value):
            return decode(option, value, path)
    errors = []
    recorded = _DROPPED.get()
    mark = len(recorded) if recorded is not None else 0
    for option in concrete:
        try:
            return decode(option, value, path)
        except DecodeError as err:
            errors.append(err)
            if recorded is not None:  # an option that did not fit dropped nothing
                del recorded[mark:]
    if len(errors) == 1:
        raise errors[0]
    wanted = " or ".join(_type_name(o) for o in concrete)
    raise DecodeError(path, f"expected {wanted}, got {describe_value(value)}")


def _base(tp: Any) -> Any:
    """The type an `Annotated` type annotates (`tp` itself for any other)."""
    return typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp


def _decode_annotated(tp: Any, value: Any, path: FieldPath) -> Any:
    """Decode as the annotated type, then check a `GoInt` annotation's range (`kubeprop.model.api.integers`)."""
    base, *extras = typing.get_args(tp)
    decoded = decode(base, value, path)
    for extra in extras:
        problem = extra.problem(decoded) if isinstance(extra, GoInt) else None
        if problem is not None:
            raise DecodeError(path, problem)
    return decoded


def _is_exactly(tp: type, value: Any) -> bool:
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _decode_scalar(tp: Any, value: Any, path: FieldPath) -> Any:
    if tp is Quantity:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise DecodeError(path, f"expected a quantity such as 100m or 128Mi, got {describe_value(value)}")
        try:
            return Quantity.parse(_quantity_text(value))
        except QuantityError as err:
            raise DecodeError(path, str(err)) from None
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, bool, float) and _is_exactly(tp, value):
        return value
    if isinstance(tp, type) and tp not in (str, int, bool, float):
        raise TypeError(f"codec cannot decode type {tp!r}")
    raise DecodeError(path, f"expected {_type_name(tp)}, got {describe_value(value)}{_yaml_number_hint(tp, value)}")


def _yaml_number_hint(tp: Any, value: Any) -> str:
    """For a number YAML read as a string: YAML 1.1 (PyYAML, as kubectl's sigs.k8s.io/yaml) reads
    1e308, 1.0e308 or 1e+3 as text, since its floats need a dot and a signed exponent (1.0e+308)."""
    if tp not in (int, float) or not isinstance(value, str) or "e" not in value.lower():
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    if not math.isfinite(number):
        return ""
    if tp is int:
        if not number.is_integer():
            return ""
        if abs(number) >= 2 ** 63:  # no int64 field holds it: spelling out its digits would not help
            return " (a whole number is written without an exponent, and this one is beyond any integer field's range)"
        return f" (a whole number is written without an exponent: {int(number)})"
    mantissa, _, exponent = value.lower().partition("e")
    signed = exponent if exponent[:1] in ("+", "-") else "+" + exponent
    written = (mantissa if "." in mantissa else mantissa + ".0") + "e" + signed
    return f" (YAML reads this exponent form as text: write {written})"


def _quantity_text(value: str | int | float) -> str | int:
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else int(value)
    return value


TYPE_META = ("apiVersion", "kind")
"""The inline TypeMeta of a kind's Go type. A kind's class (one with `INFO`) embedded in another
object — a StatefulSet's `spec.volumeClaimTemplates[]`, v1.PersistentVolumeClaim — accepts both as
strings and drops them, as the API server does: `pkg/apis/apps/v1/conversion.go`
Convert_v1_StatefulSetSpec_To_apps_StatefulSetSpec clears them whatever they say (and
Convert_apps_StatefulSetSpec_To_v1_StatefulSetSpec writes `v1` / `PersistentVolumeClaim` back, which
is why `kubectl get sts -o yaml` prints them). A top-level object's are read by `decode_object`."""


def decode_attrs(cls: type, value: Any, path: FieldPath = ()) -> Any:
    """Decode an object into attrs class `cls`, rejecting unknown fields (strict decoding); a
    DecodeError lists every problem of every field (`DecodeError.problems`), not only the first."""
    if not isinstance(value, Mapping):
        raise DecodeError(path, f"expected an object, got {describe_value(value)}")
    fields = _fields(cls)
    ignored: tuple[str, ...] = getattr(cls, "IGNORED_JSON_FIELDS", ())
    refused: Mapping[str, str] = getattr(cls, "REFUSED_JSON_FIELDS", {})
    type_meta = TYPE_META if path and hasattr(cls, "INFO") else ()
    known = {jname for _, jname, _, _ in fields} | set(ignored) | set(refused) | set(type_meta)
    unknown = [key for key in value if key not in known]
    hint = ", ".join(sorted(j for _, j, _, _ in fields)) if unknown else ""
    problems = [((*path, str(key)), f"unknown field; valid fields are: {hint}") for key in unknown]
    for key in type_meta:
        if key in value and value[key] is not None:
            _collect(problems, str, value[key], (*path, key))
    problems += [((*path, key), f"not modelled: {refused[key]}") for key in value
                 if key in refused and is_set(value[key])]
    refused_values: Mapping[str, Mapping[str, str]] = getattr(cls, "REFUSED_JSON_VALUES", {})
    problems += [((*path, key), f"not modelled: {refused_values[key][value[key]]}") for key in value
                 if key in refused_values and isinstance(value[key], str) and value[key] in refused_values[key]]
    only: Mapping[str, tuple[tuple[str, ...], str]] = getattr(cls, "ONLY_JSON_VALUES", {})
    problems += [((*path, key), f"not modelled: {only[key][1]}") for key in value
                 if key in only and isinstance(value[key], str) and value[key] not in only[key][0]]
    recorded = _DROPPED.get()
    if recorded is not None:
        recorded.extend((*path, key) for key in value if key in ignored and is_set(value[key]))
    kwargs: dict[str, Any] = {}
    for pyname, jname, tp, has_default in fields:
        if jname in value and not (value[jname] is None and has_default):
            kwargs[pyname] = _collect(problems, tp, value[jname], (*path, jname))
        elif not has_default:
            problems.append(((*path, jname), "Required value"))
    _raise_all(problems)
    return cls(**kwargs)


def _collect(problems: list[tuple[FieldPath, str]], tp: Any, value: Any, path: FieldPath) -> Any:
    """`decode(tp, value, path)`, or None with its problems appended to `problems`."""
    try:
        return decode(tp, value, path)
    except DecodeError as err:
        problems += err.problems
        return None


def _raise_all(problems: list[tuple[FieldPath, str]]) -> None:
    """Raise a DecodeError listing `problems`, if there are any."""
    if problems:
        (first_path, first_message), *_ = problems
        raise DecodeError(first_path, first_message, tuple(problems))


def encode(value: Any) -> Any:
    """Encode an API value as plain JSON data, omitting None and empty collections."""
    cls: Any = type(value)
    if attrs.has(cls):
        out: dict[str, Any] = {}
        omit = _omit_when(cls)
        for pyname, jname, tp, _ in _fields(cls):
            item = getattr(value, pyname)
            if item is None or (isinstance(item, tuple | FrozenMap) and not item and tp is not Any):
                continue
            if pyname in omit and type(item) is type(omit[pyname]) and item == omit[pyname]:
                continue
            encoded = encode(item)
            if isinstance(encoded, dict) and not encoded and attrs.has(type(item)):
                continue
            out[jname] = encoded
        return out
    if isinstance(value, FrozenMap):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    if isinstance(value, Quantity):
        return str(value)
    return value
