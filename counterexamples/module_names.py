"""Module names as files and flags give them: dotted Python identifiers, checked before use.

A counterexample file (`property.module`, its scenario's `admission:` and `controllers:`
entries), a gate config (`allowImports`) and `kubeprop replay --allow-import` name Python
modules to import. A name that is not a module name (`../../evil`, `os/path`, `.relative`) is
refused as bad input naming the field, never passed on to the import system or suggested in a
command: `importlib.import_module("../../evil")` fails with a TypeError about a missing package.
Nor is a module whose import has effects (`kubeprop.properties.cli.__main__` runs the command
line again; `model.scenario.imports.effect_problem`), allowed or not.
"""

from __future__ import annotations

import keyword

from kubeprop.model.scenario.imports import effect_problem

__all__ = ["is_module_name", "module_name_problem"]


def is_module_name(name: str) -> bool:
    """Whether `name` is a dotted Python module name (`team_checks`, `my_org.policies`)."""
    parts = name.split(".")
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in parts)


def module_name_problem(name: str) -> str:
    """Why `name` is not a module name, or one that may be named ('' when it is one that may)."""
    if is_module_name(name):
        return effect_problem(name)
    return f"{name!r} is not a module name: expected dotted Python identifiers, such as team_checks or my_org.policies"
