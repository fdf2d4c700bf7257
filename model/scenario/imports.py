"""The code a scenario names: `admission:` plug-ins and `controllers:`, as `module:attribute`.

Importing a module runs it, so naming one in a file is asking to run code. A scenario the user
gives on the command line is theirs, like a conftest.py, and its modules are imported. A scenario
that arrives inside a file under review (a counterexample being replayed, a corpus file in CI)
is data: its imports are refused unless the user allowed the module by name. `allow` is that
choice: None trusts the file; a collection of module names allows exactly those (no prefixes, no
submodules).

A value that is not a plug-in (or controller) itself is called only when it is a factory: a Python
function or class taking no arguments, defined in the module the entry names, and that module not
part of Python's standard library. Anything else is reported as not being a plug-in, never called:
a builtin such as `sys.exit`, `os.abort` or `input`; a standard-library function that happens to
take no arguments (`code:interact` opens a console on stdin, `pdb:set_trace` a debugger,
`getpass:getpass` a password prompt); a function another module merely imported.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Collection
from typing import Any

from kubeprop.model.api.yamlsource import FieldPath, YamlDocument
from kubeprop.model.errors import InputError

AllowImports = Collection[str] | None
"""None: import whatever the file names (the user's own file); else only these module names."""


class ImportRefused(InputError):
    """A file under review names a module the user did not allow."""


REFERENCE_FIELDS: tuple[FieldPath, ...] = (("admission",), ("controllers",), ("environment", "rules"))
"""The scenario fields whose entries are `module:attribute` references (each imports its module)."""

EFFECTFUL_MODULES = frozenset({"this", "antigravity", "idlelib.idle", "test.autotest"})
"""Standard-library modules whose import itself acts (prints the Zen of Python, opens a web
browser, starts IDLE, runs the regression tests). With every `__main__` module (`effect_problem`)
they can never be named, allowed or not. Not exhaustive: any module runs its top-level code when
imported, which is why a file under review names only modules the user allowed."""

NOT_FOUND_HINT = "(is its folder on PYTHONPATH?)"
"""Said of a module that is not found: the console script does not add the working folder to the path."""


def named_references(doc: YamlDocument) -> list[tuple[FieldPath, int, str]]:
    """(field, line, module) of every `module:attribute` reference a scenario document names, as
    written (read from the parsed YAML, before decoding: nothing is imported)."""
    found: list[tuple[FieldPath, int, str]] = []
    for where in REFERENCE_FIELDS:
        entries: Any = doc.data
        for part in where:
            entries = entries.get(part) if isinstance(entries, dict) else None
        for i, ref in enumerate(entries if isinstance(entries, list) else ()):
            module = ref.partition(":")[0] if isinstance(ref, str) else ""
            if module:
                found.append(((*where, i), doc.line_of((*where, i)), module))
    return found


def effect_problem(module: str) -> str:
    """Why `module` may never be imported for a file, a flag or a config ('' when it may): a
    `__main__` module (`kubeprop.properties.cli.__main__`, `pip.__main__`) runs its program when
    imported, and the `EFFECTFUL_MODULES` act as they are imported."""
    if "__main__" in module.split("."):
        return (f"{module!r} is a __main__ module, which runs its program when imported: never imported for a "
                "file, a flag or a config")
    if module in EFFECTFUL_MODULES:
        return f"{module!r} acts when imported (a standard-library module with effects): never imported"
    return ""


def refusal(module: str) -> str:
    """Why a file under review may not import `module`: the user did not allow it by name."""
    return (f"refusing to import module {module!r} named in a file under review; allow it by name if you trust it "
            f"(kubeprop replay --allow-import {module}, the gate config's allowImports, or allow_imports= in Python)")


def _not_found(err: BaseException, module_name: str) -> bool:
    """Whether `err` says the module itself (or a package above it) is not on the import path."""
    missing = getattr(err, "name", None) if isinstance(err, ModuleNotFoundError) else None
    return bool(missing) and (module_name == missing or module_name.startswith(f"{missing}."))


def import_reference(ref: str, allow: AllowImports) -> Any:
    """The attribute a `module:attribute` reference names. ImportRefused when `allow` does not
    list the module; InputError when the reference is malformed or the import fails."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise InputError(f"{ref!r}: expected module:attribute")
    if effect_problem(module_name):
        raise InputError(f"{ref!r}: {effect_problem(module_name)}")
    if allow is not None and module_name not in allow:
        raise ImportRefused(refusal(module_name))
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as err:  # a module's import can raise anything; report it as the file's problem
        hint = f" {NOT_FOUND_HINT}" if _not_found(err, module_name) else ""
        raise InputError(f"cannot import {ref!r} (module:attribute): {type(err).__name__}: {err}{hint}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InputError(f"cannot import {ref!r}: module {module_name!r} has no attribute {attr!r}") from None


def _factory(value: Any, module_name: str) -> bool:
    """Whether `value` is a factory the entry may call (see the module): a Python function or class
    that can be called with no arguments, defined in `module_name`, outside the standard library."""
    if not (inspect.isfunction(value) or inspect.isclass(value)):
        return False
    if getattr(value, "__module__", None) != module_name or module_name.partition(".")[0] in sys.stdlib_module_names:
        return False
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in signature.parameters.values())


def resolve(ref: str, allow: AllowImports, accepts: Callable[[Any], bool], what: str) -> Any:
    """The value a reference names, called first if it is a factory; InputError (with `what` the
    expected kind, e.g. "an AdmissionPlugin") if it is neither such a value nor a factory of one."""
    value = import_reference(ref, allow)
    if accepts(value):
        return value
    if not _factory(value, ref.partition(":")[0]):
        raise InputError(f"{ref!r} is not {what} (nor a function or class of that module, outside Python's "
                         "standard library, taking no arguments and returning one)")
    try:
        made = value()
    except (Exception, SystemExit) as err:
        raise InputError(f"{ref!r}: calling it failed: {type(err).__name__}: {err}") from None
    if not accepts(made):
        raise InputError(f"{ref!r} returned {type(made).__name__}, not {what}")
    return made
