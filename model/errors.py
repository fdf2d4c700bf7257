"""kubeprop's exceptions, one tree for every package.

    KubepropError                 anything kubeprop raises on purpose
    ├── InputError                the user's input is wrong (a file, a field, a flag): CLI exit 2
    │   ├── UsageError            a flag or argument is wrong or names nothing (unknown property, engine, variant)
    │   ├── ManifestError         manifests and scenarios (file:line: field: message, every problem at once)
    │   │   ├── ScenarioError
    │   │   └── CounterexampleError
    │   ├── YamlError, DecodeError, QuantityError, ActionError, RaftConfigError, ScaleError, ScriptError
    │   └── UserCodeError         the user's controller or property raised, or returned something invalid
    └── (anything else)           a bug in kubeprop: CLI exit 4 with a hint

The CLI's "bad input" path catches `InputError` only, so a bug in a model or an engine is never
reported as the user's mistake. Errors that library callers used to catch as `ValueError` or
`KeyError` still are (the subclasses keep those bases).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["InputError", "KubepropError", "UnknownName", "UsageError", "UserCodeError", "describe_kind",
           "describe_value"]

SHOWN_TEXT = 40
"""The most characters of a wrong string or number a message shows (`describe_value`)."""


class KubepropError(Exception):
    """The root of every exception kubeprop raises on purpose."""


class InputError(KubepropError):
    """The user's input is wrong; the message names the input and what would be valid."""


class UsageError(InputError):
    """A flag or argument is wrong, or a combination of them is."""


class UserCodeError(InputError):
    """The user's own code — a controller of a scenario, a property — raised, or a reconcile returned
    something that is not a `Reconciliation` of `Request`s. The message names the controller and key
    (or the property and state), the exception and the user's file:line (`kubeprop.model.user_code`);
    raised `from` the user's exception, so a test runner shows its whole traceback."""


class UnknownName(UsageError, KeyError):
    """A name (property, engine, variant, parameter) that names nothing; the message lists the valid ones.

    Also a `KeyError` for callers written against earlier releases."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def describe_value(value: object) -> str:
    """A wrong value as an input error shows it, in YAML's and JSON's words: `null`, `boolean
    true`, `number 42`, `string 'abc'` (longer ones cut to `SHOWN_TEXT` characters), `a list`, `an
    object`, else the value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float | str):
        kind = "string" if isinstance(value, str) else "number"
        try:
            text = repr(value)
        except ValueError:  # an integer of more digits than Python converts to text
            return f"a {kind} too long to show"
        return f"{kind} {text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT - 3] + '...'}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def describe_kind(value: object) -> str:
    """What `value` is, showing none of it: for content that may not be a manifest at all — a
    document that is not an object (a file a manifest folder links to, `/etc/passwd`, a private
    key), where `describe_value` would quote a secret into a CI log. `null`, `boolean true`, `a
    number`, `a string of 58 characters`, `a list of 3 items`, `an object`, else the value's type."""
    if value is None or isinstance(value, bool):
        return describe_value(value)
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {len(value):,} character{'s' if len(value) != 1 else ''}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value):,} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
