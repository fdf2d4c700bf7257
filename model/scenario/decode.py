"""Decode a scenario file and report every problem at once.

`kubeprop.model.api.codec.decode_attrs` stops at the first bad field, which suits one API object.
A scenario file is edited by hand as a whole, so this decoder walks its nested sections itself
(every attrs class and every list of attrs classes of `ScenarioFile`) and hands only the leaves to
the codec: an unknown field, a wrong type or a bad quantity is recorded as a problem and that
field keeps its default, so one run lists every mistake. A list item that is not an object is
replaced by the item type's defaults, so the indexes of the items after it stay right.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

import attrs

from kubeprop.model.api.codec import DecodeError, FieldPath, decode, json_name
from kubeprop.model.errors import describe_value

Found = list[tuple[FieldPath, str]]
"""(field path, message) of each problem, in the order found."""


@cache
def _fields(cls: type) -> tuple[tuple[str, str, Any, bool], ...]:
    """(python name, JSON name, type, has default) of each init field of an attrs class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, json_name(f), hints[f.name], f.default is not attrs.NOTHING)
                 for f in attrs.fields(cls) if f.init)


def _optional_attrs(tp: Any) -> Any:
    """The attrs class of `SomeAttrsClass | None`, else None."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1 and attrs.has(args[0]):
        return args[0]
    return None


def _attrs_items(tp: Any) -> Any:
    """The item class of `tuple[SomeAttrsClass, ...]`, else None."""
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return item if attrs.has(item) else None
    return None


def decode_all(cls: type, value: Any, path: FieldPath, found: Found) -> Any:
    """`value` decoded as attrs class `cls`, recording every problem in `found`. Returns an
    instance (bad fields left at their defaults), or None if `value` is not an object at all."""
    if not isinstance(value, Mapping):
        found.append((path, f"expected an object, got {describe_value(value)}"))
        return None
    fields = _fields(cls)
    known = {jname for _, jname, _, _ in fields}
    refused: Mapping[str, str] = getattr(cls, "REFUSED_JSON_FIELDS", {})  # as the codec's
    for key in value:
        if key in refused:
            found.append(((*path, str(key)), f"not modelled: {refused[key]}"))
        elif key not in known:
            hint = ", ".join(sorted(known))
            found.append(((*path, str(key)), f"unknown field; valid fields are: {hint}"))
    kwargs: dict[str, Any] = {}
    for pyname, jname, tp, has_default in fields:
        if jname not in value or (value[jname] is None and has_default):
            if not has_default:
                found.append(((*path, jname), "Required value"))
            continue
        decoded = _field(tp, value[jname], (*path, jname), found)
        if decoded is not _BAD:
            kwargs[pyname] = decoded
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:  # a converter or validator of the class
        found.append((path, str(err)))
        return None


_BAD = object()


def _field(tp: Any, value: Any, path: FieldPath, found: Found) -> Any:
    """One field: nested sections recursively, leaves through the codec; _BAD on a problem."""
    section_cls = tp if attrs.has(tp) else _optional_attrs(tp)
    if section_cls is not None:
        section = decode_all(section_cls, value, path, found)
        return _BAD if section is None else section
    item_cls = _attrs_items(tp)
    if item_cls is not None:
        if not isinstance(value, list):
            found.append((path, f"expected a list, got {describe_value(value)}"))
            return _BAD
        items = []
        for i, item in enumerate(value):
            decoded = decode_all(item_cls, item, (*path, i), found)
            items.append(item_cls() if decoded is None else decoded)
        return tuple(items)
    try:
        return decode(tp, value, path)
    except DecodeError as err:
        found += err.problems
        return _BAD
    except OverflowError:  # an integer too large for a float field
        found.append((path, f"{describe_value(value)} is out of range"))
        return _BAD
