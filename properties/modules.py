"""Your own properties, named by import path: `kubeprop check --properties MODULE[:ATTR]` and a
scenario's `properties:` list (docs/properties.md).

- `MODULE:ATTR`: the attribute is a `Property`, a list or tuple of them, or a function (called
  with no arguments) returning one of those;
- `MODULE` alone: every `Property` defined in the module (module-level names, in definition
  order: functions decorated with `@safety`/`@convergence`, `Property` values assigned to a name
  or held in a module-level list or tuple). A property the module only imports from elsewhere is
  left out.

The module must be importable: put its folder on `PYTHONPATH` (the console script does not add
the working folder to the import path). Loading imports the module and so runs its top-level
code; name only modules you trust. Every problem is an input error naming the reference, and
for a scenario the file, line and field (`properties[0]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.manifests import Problem
from kubeprop.model.errors import InputError, UsageError
from kubeprop.model.scenario.imports import effect_problem
from kubeprop.model.scenario.load import Scenario, ScenarioError, load_scenario
from kubeprop.properties.registry import (
    OPT_IN,
    OPT_IN_FAULT,
    OPT_IN_WHEN,
    PROPERTIES,
    Property,
    PropertyNameClash,
    import_registering,
    refuse_builtin_name,
    select,
)

__all__ = ["PropertyModuleError", "checked_properties", "find_property", "load_own_scenario", "load_properties",
           "property_problem", "scenario_properties"]

REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$")
"""`package.module` or `package.module:attribute`."""


class PropertyModuleError(UsageError, ValueError):
    """A property reference that does not import, or names no property."""


def _import(module: str, ref: str) -> Any:
    try:
        return import_registering(module)
    except ImportError as err:
        raise PropertyModuleError(f"cannot import {ref!r}: {err} (is its folder on PYTHONPATH?)") from None
    except PropertyNameClash as err:  # `@safety` with a built-in's name, as the module was imported
        raise PropertyModuleError(f"cannot load {ref!r}: {err}") from None


def _own_names(found: tuple[Property, ...], ref: str) -> tuple[Property, ...]:
    """`found`, once none of them is named like a built-in property (`refuse_builtin_name`)."""
    for prop in found:
        try:
            refuse_builtin_name(prop, ref.partition(":")[0])
        except PropertyNameClash as err:
            raise PropertyModuleError(f"cannot load {ref!r}: {err}") from None
    return found


def _from_value(value: Any, ref: str) -> tuple[Property, ...]:
    if callable(value) and not isinstance(value, Property):
        value = value()
    if isinstance(value, Property):
        return (value,)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Property) for v in value):
        return tuple(value)
    raise PropertyModuleError(f"{ref!r} is not a Property, a list of them, or a function returning one "
                              f"(got {type(value).__name__})")


def _defined_in(module: Any, name: str) -> tuple[Property, ...]:
    found: dict[str, Property] = {}
    for attr, value in vars(module).items():
        values = value if isinstance(value, list | tuple) else (value,)
        for v in values:
            if isinstance(v, Property) and v.source in ("", name) and v.name not in found:
                found[v.name] = v if v.source else attrs.evolve(v, source=f"{name}:{attr}")
    return tuple(found.values())


def load_properties(ref: str) -> tuple[Property, ...]:
    """The properties `ref` (`MODULE` or `MODULE:ATTR`) names, each with its `source` set so it
    pickles by reference. `PropertyModuleError` when it does not import or names none."""
    if not REF.match(ref):
        raise PropertyModuleError(f"{ref!r} is not MODULE or MODULE:ATTRIBUTE (e.g. team_checks or "
                                  "team_checks:NO_PUBLIC_PODS)")
    module_name, _, attr = ref.partition(":")
    if effect_problem(module_name):
        raise PropertyModuleError(effect_problem(module_name))
    module = _import(module_name, ref)
    if not attr:
        found = _defined_in(module, module_name)
        if not found:
            raise PropertyModuleError(f"module {module_name!r} defines no properties (decorate functions with "
                                      "@safety / @convergence from kubeprop.properties.registry)")
        return _own_names(found, ref)
    if not hasattr(module, attr):
        raise PropertyModuleError(f"cannot import {ref!r}: module {module_name!r} has no attribute {attr!r}")
    return _own_names(tuple(p if p.source else attrs.evolve(p, source=ref)
                            for p in _from_value(getattr(module, attr), ref)), ref)


def find_property(source: str, name: str) -> Property:
    """The property called `name` that `source` (a `Property.source`) defines: a registered one
    after importing the module, or one the reference names."""
    module_name, _, attr = source.partition(":")
    import_registering(module_name)
    if not attr and name in PROPERTIES:
        return PROPERTIES[name]
    for prop in load_properties(source):
        if prop.name == name:
            return prop
    raise PropertyModuleError(f"{source!r} defines no property called {name!r}")


def property_problem(ref: str) -> str:
    """What is wrong with a scenario's `properties:` entry `ref` ('' when it loads): the loader's
    check (`kubeprop.model.scenario.code_refs.property_problems`), so that `kubeprop validate`,
    `kubeprop check` and the gate report it with the scenario's other problems."""
    try:
        load_properties(ref)
    except InputError as err:
        return str(err)
    return ""


def load_own_scenario(path: Path | str | None) -> Scenario:
    """The user's own scenario (`load_scenario`, its imports trusted), its `properties:` entries
    judged with its other problems: every problem of the file in one `ScenarioError`."""
    return load_scenario(path, properties=property_problem)


def scenario_properties(scenario: Scenario) -> tuple[Property, ...]:
    """The properties a scenario's `properties:` list names; a `ScenarioError` names the file,
    line and entry of each reference that fails."""
    found: list[Property] = []
    problems: list[Problem] = []
    for i, ref in enumerate(scenario.spec.properties):
        try:
            found.extend(load_properties(ref))
        except PropertyModuleError as err:
            file, line = scenario.property_origin(i)
            problems.append(Problem(file, line, f"properties[{i}]", str(err)))
    if problems:
        raise ScenarioError(problems)
    return tuple(found)


def checked_properties(scenario: Scenario, names: Sequence[str] | None = None,
                       modules: Iterable[str] = ()) -> tuple[Property, ...]:
    """What a check of `scenario` covers: the named properties (None: every registered one, and
    the opt-in built-ins whose fault the scenario's budget enables or whose test accepts it) among
    the built-ins, the scenario's `properties:` and the `modules` given (`--properties`)."""
    select([])  # imports the built-in properties, opt-in ones included
    faults = scenario.spec.faults
    enabled = {name for name, kind in OPT_IN_FAULT.items() if int(getattr(faults, kind, 0))}
    enabled |= {name for name, applies in OPT_IN_WHEN.items() if applies(scenario)}
    extra = [p for name, p in OPT_IN.items() if names is None and name in enabled]
    extra += scenario_properties(scenario)
    for ref in modules:
        extra.extend(load_properties(ref))
    return select(None if names is None else list(names), extra=extra)
