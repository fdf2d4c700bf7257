"""The command that reproduces a counterexample file, and the modules replaying it imports.

A file under review imports no module unless the user allows it by name (`replay(allow_imports=…)`,
`kubeprop replay --allow-import MODULE`). So the "reproduce with:" line of `kubeprop check` and
`kubeprop replay` names every module the file does — its scenario's `admission:`, `controllers:`
and `environment.rules:` entries and its property's module — with an `--allow-import` flag each,
and starts with `PYTHONPATH=…` when those modules are found through entries of `$PYTHONPATH` (the
console script does not add the working folder to the import path, so the command would not find
them without it). The modules are read from the file as written, never imported here.

Two kinds of module are never suggested (`not_suggested`): the property's module when the
property is found by its name without importing it (a built-in, a time bound), as the replay
itself imports no module then; and a module that cannot be a property or plug-in module — one of
Python's standard library, of kubeprop itself (its properties live in `BUILTIN_MODULES`) or of a
library kubeprop depends on (`not_a_plugin`): a file naming `os` as its property's module was
answered with `--allow-import os` (trial 10). The replay's output says why instead
(`unsuggested_lines`).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.metadata
import os
import re
import stat
import sys
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import attrs

from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.format_records import Counterexample, CounterexampleError, ScenarioRecord
from kubeprop.counterexamples.printable import shell_word, shown
from kubeprop.counterexamples.scenario_pack import BUILTIN_FEASTFLOW, resolve_path
from kubeprop.model.api.yamlsource import YamlDocument, YamlError, format_path, parse_yaml_documents, read_text
from kubeprop.model.scenario.imports import named_references
from kubeprop.properties.registry import BUILTIN_MODULES


@attrs.frozen
class NamedModule:
    """A module a counterexample file names: where (`scenario.yaml:14: controllers[0]`, or
    `property.module`) and which module."""

    where: str
    module: str


def is_builtin(module: str) -> bool:
    """Whether `module` is one of the modules that define the built-in properties
    (`registry.BUILTIN_MODULES`, exactly: not a prefix), importable without an allowance."""
    return module in BUILTIN_MODULES


def _scenario_document(record: ScenarioRecord, file: str) -> YamlDocument | None:
    """The scenario document a record names (inline: its entry text; path mode: the file there now,
    if it is a regular file or a folder's scenario.yaml); None for FeastFlow or when unreadable."""
    if record.mode == "inline":
        texts = [f.text for f in record.files if f.path == record.entry]
        name = record.entry
    elif record.path == BUILTIN_FEASTFLOW:
        return None
    else:
        path = resolve_path(record, file)
        try:
            if path.is_dir():
                path = path / "scenario.yaml"
            if not stat.S_ISREG(path.stat().st_mode):
                return None
            texts, name = [read_text(path)], str(path)
        except (OSError, ValueError, YamlError):
            return None
    try:
        docs = [d for text in texts for d in parse_yaml_documents(text, name, keep_duplicates=True)]
    except YamlError:
        return None
    return next((d for d in docs if isinstance(d.data, dict) and d.data.get("kind") == "Scenario"), None)


def scenario_modules(record: ScenarioRecord, file: str) -> list[NamedModule]:
    """Every module the record's scenario names in a `module:attribute` reference, with its place."""
    doc = _scenario_document(record, file)
    if doc is None:
        return []
    return [NamedModule(f"{doc.file}:{line}: {format_path(field)}", module)
            for field, line, module in named_references(doc)]


@functools.cache
def _dependencies() -> frozenset[str]:
    """The top-level import names of the distributions kubeprop requires (not its extras'), read
    from the installed metadata; empty where it cannot be read."""
    try:
        required = {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower().replace("_", "-")
                    for r in importlib.metadata.requires("kubeprop") or () if "extra ==" not in r}
        mapping = importlib.metadata.packages_distributions()
    except (importlib.metadata.PackageNotFoundError, OSError, ValueError):
        return frozenset()
    return frozenset(top for top, dists in mapping.items()
                     if any(d.lower().replace("_", "-") in required for d in dists))


def not_a_plugin(module: str) -> str:
    """Why `module` cannot be a module of properties or plug-ins that a counterexample file may
    name ('' when it may be one): a module of Python's standard library, of kubeprop itself outside
    `BUILTIN_MODULES`, or of a library kubeprop depends on. Read from the name alone."""
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top in ("sitecustomize", "usercustomize", "__main__"):
        return "a module of Python's standard library"
    if top == "kubeprop" and not is_builtin(module):
        return "a module of kubeprop itself, where no property or plug-in of a scenario lives"
    if top in _dependencies():
        return "a module of a library kubeprop depends on"
    return ""


def not_suggested(named: Iterable[NamedModule]) -> list[tuple[NamedModule, str]]:
    """The modules of `named` that `--allow-import` is never suggested for (`not_a_plugin`), each
    with why."""
    return [(n, why) for n in named if (why := not_a_plugin(n.module))]


def unsuggested_lines(ce: Counterexample, path: str, scenario: bool = True) -> list[str]:
    """A line for each module replaying the file would import that the reproduce line does not
    allow because it cannot be a property or plug-in module (`not_a_plugin`): where the file names
    it, and why."""
    return [f"not allowed in that command: {shown(repr(n.module))} ({shown(n.where)}), {why}, is not a property or "
            "plug-in module (the file names it: it was edited, or is not what it claims)"
            for n, why in not_suggested(imported_modules(ce, path, scenario))]


def imported_modules(ce: Counterexample, path: str, scenario: bool = True) -> list[NamedModule]:
    """`file_modules` but the property's module when the property is found by its name without
    importing it in the fresh process the command starts (`_built_in`)."""
    named = file_modules(ce, path, scenario)
    if _built_in(ce.property.name):
        named = [n for n in named if n.where != "property.module"]
    return named


def _built_in(name: str) -> bool:
    """Whether a property called `name` is found by its name in a fresh process, without importing
    any module of the file's (a built-in one, an opt-in one or a time bound: `registry.builtin_named`).
    Not whether it is registered here: this process may have imported the user's module."""
    from kubeprop.properties.registry import builtin_named

    return bool(builtin_named(name))


def file_modules(ce: Counterexample, file: str, scenario: bool = True) -> list[NamedModule]:
    """Every module replaying `ce` imports: its scenario's (unless `scenario` is False: the user
    names the scenario) and its property's module (not for a lasso, whose cycle property is
    built in), kubeprop's own left out."""
    named = scenario_modules(ce.scenario, file) if scenario else []
    module = ce.property.module
    if module and not ce.is_lasso and not is_builtin(module):
        named.append(NamedModule("property.module", module))
    return named


def distinct(named: Iterable[NamedModule]) -> list[str]:
    """The module names, once each, in order."""
    return list(dict.fromkeys(n.module for n in named))


def pythonpath_entries(modules: Iterable[str]) -> list[str]:
    """The `$PYTHONPATH` entries (as written there) through which `modules` are found, in the
    variable's order: found by the import system's path finder, which imports nothing."""
    entries = [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e]
    used: list[str] = []
    for module in modules:
        top = module.partition(".")[0]
        for entry in entries:
            try:
                found = importlib.machinery.PathFinder.find_spec(top, [os.path.abspath(entry)])
            except (ImportError, OSError, ValueError):
                found = None
            if found is not None:
                if entry not in used:
                    used.append(entry)
                break
    return [e for e in entries if e in used]


def command(path: str | Path, modules: Collection[str], scenario: str | Path | None = None) -> str:
    """`[PYTHONPATH=…] kubeprop replay [--allow-import M]… [--scenario S] PATH`, quoted for a POSIX
    shell, each word on one visible line (`printable.shell_word`); `--scenario` when the replay ran
    on a scenario the user named."""
    named = ("--scenario", str(scenario)) if scenario is not None else ()
    words = ["kubeprop", "replay", *(w for m in modules for w in ("--allow-import", m)), *named, str(path)]
    line = " ".join(shell_word(w) for w in words)
    entries = pythonpath_entries(modules)
    return f"PYTHONPATH={shell_word(os.pathsep.join(entries))} {line}" if entries else line


def reproduce_command(path: str | Path, ce: Counterexample | None = None,
                      scenario: str | Path | None = None) -> str:
    """The command that replays the counterexample file at `path` (read from there unless `ce` is
    given) — on `scenario` when the replay being shown ran on a scenario the user named (whose own
    modules need no allowance); a file that cannot be read gets the bare `kubeprop replay PATH`."""
    if ce is None:
        try:
            ce = load(path)
        except (CounterexampleError, OSError, ValueError):
            return command(path, (), scenario)
    named = imported_modules(ce, str(path), scenario=scenario is None)
    refused = {n.module for n, _ in not_suggested(named)}
    return command(path, [m for m in distinct(named) if m not in refused], scenario)


AllowAdvice = Callable[[str, Collection[str]], str]
"""How to allow the modules a file names, in the words of whoever is replaying it: given the file
and every module it names, the advice after "if you trust them, allow them by name:"."""


def replay_advice(path: str, modules: Collection[str]) -> str:
    """The command line's advice: the `kubeprop replay` command that allows them (and the other ways)."""
    return f"{command(path, modules)} (or the gate config's allowImports, or allow_imports= in Python)"


def refusal(named: list[NamedModule], path: str, every: Collection[str], advice: AllowAdvice | None = None) -> str:
    """Why replaying `path` imports none of the `named` modules, and how to allow `every` module
    the file names (those allowed already too, so that it works as given): `advice`, by default
    the `kubeprop replay` command (`replay_advice`)."""
    listed = ", ".join(f"{shown(repr(n.module))} ({shown(n.where)})" for n in named)
    never = not_suggested(named)
    allowable = [m for m in every if not not_a_plugin(m)]
    they = "them" if len(distinct(named)) > 1 else "it"
    text = f"refusing to import module{'s' if they == 'them' else ''} named in a file under review: {listed}"
    if len(never) < len(named):
        text += f"; if you trust {they}, allow {they} by name: {(advice or replay_advice)(path, allowable)}"
    for n, why in never:
        text += (f"; {shown(repr(n.module))} is {why}, not a property or plug-in module: allowing it is not "
                 "suggested (the file was edited, or is not what it claims)")
    return text
