"""kubeprop's exceptions, one tree for every package.

    KubepropError                 anything kubeprop raises on purpose
    ├── InputError                the user's input is wrong (a file, a field, a flag): CLI exit 2
    │   ├── UsageError            a flag or argument is wrong or names nothing (unknown property, engine, variant)
    │   ├── ManifestError         manifests and scenarios (file:line: field: message, every problem at once)
    │   │   ├── ScenarioError
    │   │   └── CounterexampleError
    │   ├── YamlError, DecodeError, QuantityError, ActionError, RaftConfigError, ScaleError, ScriptError
    └── (anything else)           a bug in kubeprop: CLI exit 4 with a hint

The CLI's "bad input" path catches `InputError` only, so a bug in a model or an engine is never
reported as the user's mistake. Errors that library callers used to catch as `ValueError` or
`KeyError` still are (the subclasses keep those bases).
"""

from __future__ import annotations

__all__ = ["InputError", "KubepropError", "UnknownName", "UsageError"]


class KubepropError(Exception):
    """The root of every exception kubeprop raises on purpose."""


class InputError(KubepropError):
    """The user's input is wrong; the message names the input and what would be valid."""


class UsageError(InputError):
    """A flag or argument is wrong, or a combination of them is."""


class UnknownName(UsageError, KeyError):
    """A name (property, engine, variant, parameter) that names nothing; the message lists the valid ones.

    Also a `KeyError` for callers written against earlier releases."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
