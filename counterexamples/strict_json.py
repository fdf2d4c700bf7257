"""The limits every counterexample file is held to when its JSON text is read (`format_read.parse`):
numbers no file holds (too many digits, out of range, NaN), nesting deeper than `MAX_DEPTH`, a key
written twice, and strings that are not text (a lone UTF-16 surrogate)."""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

__all__ = ["MAX_DEPTH", "MAX_NUMBER_DIGITS", "BadNumber", "json_object", "number_problems", "parse_constant",
           "parse_float", "parse_int", "shape_problem"]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a counterexample file may have (real files reach ~8)."""

MAX_NUMBER_DIGITS = 40
"""Longest number a counterexample file may write (seeds are 64-bit; steps and counts are small)."""


@attrs.frozen
class BadNumber:
    """A number in the JSON text that no counterexample file holds, in place of its value: the
    parser's hooks do not know where they are, so `number_problems` names each one's field path
    (trial 21: `a 41-digit integer` alone did not say which field)."""

    why: str


def parse_int(text: str) -> int | BadNumber:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        return BadNumber(f"a {len(text.lstrip('-'))}-digit integer (at most {MAX_NUMBER_DIGITS} digits)")
    return int(text)


def parse_float(text: str) -> float | BadNumber:
    value = float(text) if len(text) <= MAX_NUMBER_DIGITS + 10 else math.inf
    if not math.isfinite(value):
        return BadNumber(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is out of range")
    return value


def parse_constant(text: str) -> BadNumber:
    return BadNumber(f"{text} is not a JSON number")


def number_problems(data: Any) -> list[tuple[str, str]]:
    """(field path, why) for every `BadNumber` in parsed data (`violation.step`, `a 41-digit integer …`),
    found without recursion (within `MAX_DEPTH`: deeper is `shape_problem`'s)."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, BadNumber):
            found.append((where or "(top level)", value.why))
        elif depth < MAX_DEPTH and isinstance(value, dict):
            stack.extend((item, depth + 1, f"{where}.{key}" if where else key) for key, item in value.items())
        elif depth < MAX_DEPTH and isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value))
    return sorted(found)


class _Duplicated(dict[str, Any]):
    """A JSON object with a key written twice (`duplicate`): Python keeps the last value, other
    readers (and reviewers) the first, so two readers would see two different files."""

    duplicate = ""


def json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    duplicated = _Duplicated(data)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            duplicated.duplicate = key
            break
        seen.add(key)
    return duplicated


def shape_problem(data: Any) -> str | None:
    """Too deep a nesting, a key written twice or a string that is not text (a lone UTF-16
    surrogate), found without recursion; None if the data is fine."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            return f"{where or '(top level)'}: nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, _Duplicated):
            return (f"{where or '(top level)'}: the key {value.duplicate!r} is written twice (a reader that keeps "
                    "the first would see another file)")
        if isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    return f"{where or '(top level)'}: a key holds a lone surrogate, not text"
                stack.append((item, depth + 1, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value))
        elif isinstance(value, str) and _SURROGATE.search(value):
            return f"{where}: holds a lone surrogate, not text (is the file written by kubeprop?)"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
