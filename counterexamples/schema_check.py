"""A small JSON Schema walker for `schema.json`: the published schema is the one source of truth
for the file's shape, and every problem is reported with the field path that holds it.

It understands the subset of draft 2020-12 that `schema.json` uses: `type` (one or a list),
`const`, `enum`, `properties`, `required`, `additionalProperties` (false or a schema), `items`,
`minimum`, `minLength`, `pattern` and local `$ref`s (`#/$defs/...`). Other keywords
(`description`, `title`, `$id`, ...) are annotations and ignored. Checks beyond the shape (an
action's class, a known variant) live in `format_read.py`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

Path_ = tuple[str | int, ...]
Problem_ = tuple[str, str]
"""(field path, message)."""

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


@cache
def schema() -> dict[str, Any]:
    """The published schema (`counterexamples/schema.json`)."""
    text = (resources.files("kubeprop.counterexamples") / "schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def field_path(path: Path_) -> str:
    """`trace[3].action` style."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


_ARTICLES = {"object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
             "number": "a number", "boolean": "a boolean", "null": "null"}
"""A schema type as a message names it (`must be an integer or null`)."""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    names = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number"}
    return names.get(type(value), "null")


def describe_value(value: Any) -> str:
    """What kind of JSON value `value` is, with the value when it is a scalar: `a string ("2")`,
    `a number (2.0)`, `a boolean (true)`, `null`, `an object`."""
    kind = _describe(value)
    if value is None or isinstance(value, dict | list):
        return kind
    text = json.dumps(value, ensure_ascii=False)
    return f"{kind} ({text if len(text) <= 40 else text[:39] + '…'})"


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def problems(value: Any, node: dict[str, Any] | None = None, path: Path_ = ()) -> list[Problem_]:
    """Every way `value` fails the schema (or the sub-schema `node`), as (field path, message) pairs."""
    node = schema() if node is None else node
    if "$ref" in node:
        ref = node["$ref"]
        return problems(value, schema()["$defs"][ref.rsplit("/", 1)[1]], path)
    where = field_path(path)
    if "const" in node and value != node["const"]:
        return [(where, f"must be {json.dumps(node['const'])} (got {json.dumps(value)[:60]})")]
    if "enum" in node and value not in node["enum"]:
        valid = ", ".join(json.dumps(v) for v in node["enum"])
        return [(where, f"must be one of {valid} (got {json.dumps(value)[:60]})")]
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_is_type(value, t) for t in types):
            return [(where, f"must be {' or '.join(_ARTICLES[t] for t in types)}, not {describe_value(value)}")]
    out = _scalar_problems(value, node, where)
    if isinstance(value, dict):
        out += _object_problems(value, node, path)
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            out += problems(item, node["items"], (*path, i))
    return out


def _scalar_problems(value: Any, node: dict[str, Any], where: str) -> list[Problem_]:
    if isinstance(value, str):
        if len(value) < node.get("minLength", 0):
            return [(where, "must not be empty")]
        if "pattern" in node and not re.search(node["pattern"], value):
            return [(where, f"must match {node['pattern']} (got {json.dumps(value)[:60]})")]
    if isinstance(value, int | float) and not isinstance(value, bool) and value < node.get("minimum", value):
        return [(where, f"must be at least {node['minimum']} (got {value})")]
    return []


def _object_problems(value: dict[str, Any], node: dict[str, Any], path: Path_) -> list[Problem_]:
    out: list[Problem_] = []
    props: dict[str, Any] = node.get("properties", {})
    for name in node.get("required", []):
        if name not in value:
            out.append((field_path((*path, name)), "missing (required)"))
    extra = node.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            out += problems(item, props[key], (*path, key))
        elif extra is False:
            valid = ", ".join(props)
            out.append((field_path((*path, key)), f"unknown field (valid: {valid})"))
        elif isinstance(extra, dict):
            out += problems(item, extra, (*path, key))
    return out
