"""`kubectl wait --for=jsonpath=EXPRESSION[=VALUE]` for simple field paths: how a `wait` step's
`for: jsonpath=…` is read, and when it is met.

kubectl v1.33 (`staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go` conditionFuncFor,
processJSONPathInput, splitJSONPathInput; `wait/json.go` JSONPathWait):

- the text after `jsonpath=` is split on single `=` (a doubled `==` does not split): one part is
  an expression (met as soon as it finds a value: `matchAnyValue`), two are an expression and a
  value (quotes `'` and `"` trimmed from the value's ends; an empty value is refused: "jsonpath
  wait has to have a value after equal sign"), more are refused;
- the expression is relaxed as `kubectl get -o custom-columns` relaxes it
  (`staging/src/k8s.io/kubectl/pkg/cmd/get/customcolumn.go` RelaxedJSONPathExpression):
  `status.phase`, `.status.phase`, `{status.phase}` and `{.status.phase}` all mean
  `{.status.phase}`; one with a brace inside (`'{.status.phase}'`, as a shell line quotes it) is
  refused;
- the parser allows missing keys: a field (or list index) the object does not have finds nothing,
  and the wait is not met yet; a value found must be the only one, and with a VALUE it must not be
  an object or a list ("jsonpath leads to a nested object or list which is not supported": the
  command fails); else it is met when its text (`fmt.Sprintf("%v")`: a string as is, `true`,
  `42`) equals VALUE, both with surrounding white space trimmed.

The model runs the paths a user writes for a status field: dotted field names (letters, digits,
`_` and `-`), each optionally followed by list indices (`conditions[0]`). Filters, wildcards,
slices, recursive descent (`..`) and escaped dots are not modelled and are refused at load with
the reason. The wait's timeout, RBAC and watch are those of `condition=`
(`kubeprop.model.cluster.workload_wait`): kubectl runs both through `getObjAndCheckCondition`.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Jsonpath", "jsonpath_met", "jsonpath_now", "parse_jsonpath"]

Jsonpath = tuple[str, str]
"""(expression as kubectl relaxes it, `{.status.phase}`; VALUE, "" for any value)."""

_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")
"""`customcolumn.go` jsonRegexp."""
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[[0-9]+\])*)$")
"""A modelled path segment: a field name and optional list indices."""
FORMAT = "jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'"
"""kubectl's wording of the valid forms (processJSONPathInput)."""


def _split(text: str) -> list[str]:
    """splitJSONPathInput: split on single `=`, keep `==`."""
    parts, element, i = [], "", 0
    while i < len(text):
        if text[i] == "=":
            if i < len(text) - 1 and text[i + 1] == "=":
                element += "=="
                i += 2
                continue
            parts.append(element)
            element = ""
        else:
            element += text[i]
        i += 1
    return [*parts, element]


def parse_jsonpath(text: str) -> Jsonpath | str:
    """The `--for=jsonpath=` argument `text` (after `jsonpath=`) as (expression, value), or why it
    is refused: kubectl's own error, or a path the model does not run."""
    parts = _split(text)
    if len(parts) > 2:
        return f"jsonpath wait format must be --for={FORMAT}"
    match = _RELAXED.match(parts[0]) if parts[0] else None
    if parts[0] and match is None:
        return ("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or "
                "'{.name1.name2}' (write the expression as kubectl receives it, without the shell's quotes)")
    if match is None:
        return "jsonpath expression cannot be empty"
    spec = match.group(1) or match.group(2)
    value = parts[1].strip("'\"") if len(parts) == 2 else ""
    if len(parts) == 2 and not value:
        return "jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3"
    if _path(spec) is None:
        return (f"the jsonpath {{.{spec}}} is not modelled: only a simple field path is (field names of letters, "
                "digits, _ and -, each optionally with list indices: {.status.phase}, {.status.conditions[0].type})")
    return f"{{.{spec}}}", value


def _path(spec: str) -> tuple[str | int, ...] | None:
    """The keys and indices of a simple field path (`status.conditions[0].type`), or None."""
    keys: list[str | int] = []
    for segment in spec.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            return None
        keys.append(match.group(1))
        keys += [int(i) for i in re.findall(r"[0-9]+", match.group(2))]
    return tuple(keys)


def _text(value: Any) -> str:
    """Go's `fmt.Sprintf("%v")` of an unstructured scalar (JSON integers decode as int64)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _find(body: dict[str, Any], expression: str) -> Any:
    """The value a simple path finds in the object's JSON; None when a key or index is missing."""
    keys = _path(expression[2:-1])
    assert keys is not None  # parse_jsonpath refused anything else
    found: Any = body
    for key in keys:
        if isinstance(key, int):
            found = found[key] if isinstance(found, list) and key < len(found) else None
        else:
            found = found.get(key) if isinstance(found, dict) else None
        if found is None:
            return None
    return found


def jsonpath_now(body: dict[str, Any], expression: str) -> str:
    """What the expression finds now, for a message: `it is 'Failed'`, or `no such field`."""
    found = _find(body, expression)
    if found is None:
        return "no such field"
    return f"it is {_text(found)!r}" if not isinstance(found, dict | list) else "it is an object or a list"


def jsonpath_met(body: dict[str, Any], jsonpath: Jsonpath) -> bool | str:
    """Whether the object (its JSON, as kubectl decodes it) meets the wait (JSONPathWait
    checkCondition), or the error that fails the command."""
    expression, value = jsonpath
    found = _find(body, expression)
    if found is None:
        return False  # AllowMissingKeys: nothing found, not met yet
    if not value:
        return True
    if isinstance(found, dict | list):
        return "jsonpath leads to a nested object or list which is not supported"
    return _text(found).strip() == value.strip()
