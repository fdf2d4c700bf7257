"""kubeprop.counterexamples: violations as replayable trace files.

The public surface:

- `check`, `CheckReport`, `assert_no_discovery`, `assert_discovery`, `explain`, `ENGINES`,
  `register_engine` (api.py): run an engine on a scenario from Python or pytest;
- `record`, `record_result`, `TraceError` (trace.py): an engine's trace → `Counterexample`;
- `load`, `loads`, `write`, `dumps`, `Counterexample`, `CounterexampleError` (format.py, which
  re-exports the record of format_records.py and the readers of format_read.py);
- `replay`, `ReplayResult`, `Verdict` (replay.py); `render_text` (render.py), `render_html`
  (render_html.py); `fingerprint` (fingerprint.py);
- `output.write_text` / `append_text` / `OutputError`: writing any output file without clobbering.

A counterexample file is data: replaying one imports no module it names unless allowed by name
(`replay(allow_imports=...)`).

`replay`, `fingerprint` and `render_html` are both a submodule and a function; the names here are the functions.

The names load lazily (PEP 562): importing this package, or one of its light modules (`printable`,
`output`), does not import the engines, so that `kubeprop --help` starts at once.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeprop.counterexamples.api import (
        ENGINES,
        CheckReport,
        assert_discovery,
        assert_no_discovery,
        check,
        explain,
        register_engine,
    )
    from kubeprop.counterexamples.fingerprint import fingerprint
    from kubeprop.counterexamples.format import Counterexample, CounterexampleError, dumps, load, loads, write
    from kubeprop.counterexamples.render import render_text
    from kubeprop.counterexamples.render_html import render_html
    from kubeprop.counterexamples.replay import ReplayResult, Verdict, replay
    from kubeprop.counterexamples.trace import TraceError, record, record_result

_HOME = {
    "api": ("ENGINES", "CheckReport", "assert_discovery", "assert_no_discovery", "check", "explain", "register_engine"),
    "fingerprint": ("fingerprint",),
    "format": ("Counterexample", "CounterexampleError", "dumps", "load", "loads", "write"),
    "render": ("render_text",),
    "render_html": ("render_html",),
    "replay": ("ReplayResult", "Verdict", "replay"),
    "trace": ("TraceError", "record", "record_result"),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}

__all__ = [
    "ENGINES", "CheckReport", "Counterexample", "CounterexampleError", "ReplayResult", "TraceError", "Verdict",
    "assert_discovery", "assert_no_discovery", "check", "dumps", "explain", "fingerprint", "load", "loads",
    "record", "record_result", "register_engine", "render_html", "render_text", "replay", "write",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    if name not in _SHADOWED:
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


_SHADOWED = ("fingerprint", "render_html", "replay")
"""Names of both a submodule and a function. Importing the submodule sets the package's attribute
to the module (the import system does, whenever it first loads it): `_Package` keeps these names
the functions, whatever was imported first."""


def _the_function(name: str) -> property:
    """A property of the package's module type: reads `name` as the function; the import system's
    setting of the submodule (kept in `sys.modules`) leaves it the function."""

    def read(_package: types.ModuleType) -> Any:
        return __getattr__(name)

    def keep(_package: types.ModuleType, _value: Any) -> None:
        pass

    return property(read, keep)


class _Package(types.ModuleType):
    """This package's module type: the `_SHADOWED` names are always the functions."""


for _name in _SHADOWED:
    setattr(_Package, _name, _the_function(_name))
sys.modules[__name__].__class__ = _Package
