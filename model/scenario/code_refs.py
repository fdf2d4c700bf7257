"""The scenario's references to Python code: user controllers, environment rules, admission
plug-ins (each `module:attribute`, imported through `kubeprop.model.scenario.imports.resolve`,
which enforces what may be imported) and property references (checked for form here, imported only
when checked). `kubeprop.model.scenario.load` calls these while loading; each problem is added to
the caller's list so that a file's problems are reported all at once.

May import: the API's admission plug-in type, the component contract, the scenario schema and
imports; nothing of properties or counterexamples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubeprop.model.api.admission import DEFAULT_PLUGINS, AdmissionPlugin
from kubeprop.model.api.codec import format_path
from kubeprop.model.api.manifests import Problem
from kubeprop.model.api.yamlsource import YamlDocument
from kubeprop.model.errors import InputError
from kubeprop.model.scenario.imports import AllowImports, effect_problem, refusal, resolve
from kubeprop.model.scenario.schema import ScenarioFile
from kubeprop.model.state.component import Controller, namespaces_problem

__all__ = ["PROPERTY_REF", "PropertyCheck", "admission_plugins", "environment_rules", "problem_at",
           "property_problems", "property_ref_problems", "user_controllers"]


def problem_at(doc: YamlDocument | None, path: tuple[str | int, ...], message: str, where: str = "") -> Problem:
    """A problem at `path` of the scenario file (its line), or of the default scenario."""
    field = format_path(path) if path else ""
    if doc is None:
        return Problem(where or "<default scenario>", 0, field, message)
    return Problem(doc.file, doc.line_of(path), field, message)


PROPERTY_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$")
"""A `properties:` entry: `package.module` or `package.module:attribute` (imported only when checked)."""


def property_ref_problems(spec: ScenarioFile, doc: YamlDocument | None) -> list[Problem]:
    return [problem_at(doc, ("properties", i), f"{ref!r} is not MODULE or MODULE:ATTRIBUTE (e.g. team_checks or "
                                             "team_checks:NO_PUBLIC_PODS)")
            for i, ref in enumerate(spec.properties) if not PROPERTY_REF.match(ref)]


PropertyCheck = Callable[[str], str]
"""What is wrong with one well-formed `properties:` entry ('' when it loads): the properties
layer's loader (`kubeprop.properties.modules.property_problem`), passed in because the model never
imports properties."""


def property_problems(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem], allow: AllowImports,
                      check: PropertyCheck | None) -> None:
    """Each `properties:` entry that does not load, added to `problems` at its line, so that a
    scenario's property problems are reported with its other ones (`kubeprop validate` and
    `kubeprop check` alike). A malformed entry is `property_ref_problems`'s; a module that acts
    when imported (`effect_problem`), or one `allow` does not list, is refused and never reaches
    `check`, which imports it. Without `check` the entries are judged when the properties load."""
    if check is None:
        return
    for i, ref in enumerate(spec.properties):
        if not PROPERTY_REF.match(ref):
            continue
        module = ref.partition(":")[0]
        message = effect_problem(module) or (refusal(module) if allow is not None and module not in allow else "")
        message = message or check(ref)
        if message:
            problems.append(problem_at(doc, ("properties", i), message))


def admission_plugins(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem],
                       allow: AllowImports) -> tuple[AdmissionPlugin, ...]:
    """DEFAULT_PLUGINS plus the scenario's, imported from `module:attribute` paths."""
    plugins = list(DEFAULT_PLUGINS)
    for i, ref in enumerate(spec.admission):
        try:
            plugins.append(resolve(ref, allow, lambda v: isinstance(v, AdmissionPlugin), "an AdmissionPlugin"))
        except InputError as err:
            problems.append(problem_at(doc, ("admission", i), str(err)))
    return tuple(plugins)


def _is_controller(value: Any) -> bool:
    return not isinstance(value, type) and isinstance(value, Controller)


def _is_environment_rule(value: Any) -> bool:
    if isinstance(value, type):  # a class is a factory of rules, not a rule
        return False
    acts = callable(getattr(value, "targets", None)) and callable(getattr(value, "apply", None))
    return isinstance(getattr(value, "name", None), str) and (acts or callable(getattr(value, "usage", None)))


def environment_rules(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem],
                       allow: AllowImports) -> tuple[Any, ...]:
    """Environment rules named by import path: a value with a `name` and `usage` or
    `targets`+`apply`, or a class/function taking no arguments returning one (docs/hpa.md)."""
    out = []
    names: set[str] = set()
    for i, ref in enumerate(spec.environment.rules):
        path = ("environment", "rules", i)
        try:
            value = resolve(ref, allow, _is_environment_rule, "an environment rule (a `name` and `usage`, or "
                                                               "`targets` and `apply`)")
        except InputError as err:
            problems.append(problem_at(doc, path, str(err)))
            continue
        if value.name in names:
            problems.append(problem_at(doc, path, f"duplicate environment rule {value.name!r}"))
        names.add(value.name)
        out.append(value)
    return tuple(out)


def user_controllers(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem],
                      allow: AllowImports) -> tuple[Any, ...]:
    """Controllers named by import path: a Controller value, or a function/class returning one,
    whose optional `namespaces` is well formed (`namespaces_problem`)."""
    out = []
    for i, ref in enumerate(spec.controllers):
        what = "a Controller (name, watches, identity, reconcile, keys_for, …)"
        try:
            controller = resolve(ref, allow, _is_controller, what)
        except InputError as err:
            problems.append(problem_at(doc, ("controllers", i), str(err)))
            continue
        problem = namespaces_problem(controller)
        if problem is not None:
            problems.append(problem_at(doc, ("controllers", i), problem))
            continue
        out.append(controller)
    problems.extend(_cache_problems(spec, doc, out, len(out) == len(spec.controllers)))
    return tuple(out)


def _cache_problems(spec: ScenarioFile, doc: YamlDocument | None, controllers: list[Any], all_found: bool
                    ) -> list[Problem]:
    """`controllerCaches`: each value `own` or `shared`, each name one of the scenario's controllers
    (checked only when every `controllers:` entry resolved: a name may belong to one that did not)."""
    names = {getattr(c, "name", None) for c in controllers}
    out = []
    for name, cache in spec.controller_caches.sorted_items():
        if cache not in ("own", "shared"):
            out.append(problem_at(doc, ("controllerCaches", name),
                                  f"Unsupported value: {cache!r}: supported values: \"own\", \"shared\""))
        if all_found and name not in names:
            known = ", ".join(sorted(repr(n) for n in names if isinstance(n, str))) or "none"
            out.append(problem_at(doc, ("controllerCaches", name),
                                  f"no controller {name!r} among the scenario's `controllers:` (named: {known})"))
    return out
