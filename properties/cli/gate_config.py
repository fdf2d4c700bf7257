"""The gate's config file (YAML), read strictly: every problem at once, each at its line, exit 2.

    corpus: [counterexamples/corpus]          # folders of counterexample files (omit: the built-in corpus)
    allowImports: [my_policies]               # modules corpus files may import (default: none)
    replayTimeout: 300                        # seconds per corpus file (default 300)
    checks:
      - scenario: path/to/scenario.yaml       # default: FeastFlow
        variant: correct
        engine: bfs                           # portfolio | around | faults | pct | bfs | walk | hypothesis
        properties: [node-not-overcommitted]  # default: all (built-ins, the scenario's own, propertyModules')
        propertyModules: [team_checks]        # your own properties, MODULE[:ATTR] (as --properties)
        budget: 20                            # seconds
        maxDepth: 6
        maxStates: 5000                       # distinct states (BFS; default: no bound but the budget)
        parameters: {instantCaches: true}
        require: bounded                      # bounded | exhaustive | deterministic
        vacuous: warn                         # warn | fail: a property that could not have failed here

The gate fails closed, so a config that would check nothing is refused: a corpus folder that is
missing, is not a folder or holds no `*.json` file, `corpus: []`, `checks: []` and
`properties: []` (an empty list is not "the default": leave the field out for that), and the same
fields left null (`checks:` with every entry commented out), a budget that is not a finite
positive number of seconds, a depth below 1, a parameter outside its range, an unknown
property (not built in, nor defined by the check's `propertyModules` or its scenario's
`properties:`; the close match is named), a property module that does not import or defines no
property, an unknown variant or engine. Problems are listed in line order. Relative paths are
from the config file's folder.
"""

from __future__ import annotations

import math
import os
import stat
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import attrs

from kubeprop.counterexamples.check_bounds import MAX_STATES
from kubeprop.counterexamples.module_names import module_name_problem
from kubeprop.model.api.codec import FieldPath, format_path
from kubeprop.model.api.manifests import Problem
from kubeprop.model.api.yamlsource import (
    YamlDocument,
    YamlError,
    file_kind,
    load_yaml_documents,
    os_problem,
    stat_path,
)
from kubeprop.model.errors import InputError, describe_kind
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scenario.decode import Found, decode_all
from kubeprop.model.scenario.load import ScenarioError
from kubeprop.model.scenario.schema import boolean_word_problem, parameter_problem
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.properties.cli.check_args import NOT_AN_ENGINE
from kubeprop.properties.cli.commands import MAX_BUDGET_SECONDS
from kubeprop.properties.modules import load_own_scenario, load_properties, scenario_properties
from kubeprop.properties.registry import OPT_IN, PROPERTIES, Property, did_you_mean, registry_kept, select

BUILTIN_CORPUS = Path(str(resources.files("kubeprop.counterexamples") / "corpus"))
"""The reviewed corpus shipped with kubeprop (`counterexamples/corpus`)."""

MAX_DEPTH = 1_000_000
"""The deepest `maxDepth` accepted."""

ENGINES = ("portfolio", "around", "faults", "pct", "bfs", "walk", "hypothesis")
REQUIRES = ("bounded", "exhaustive", "deterministic")
"""What a check requires before a property "held": `bounded`, that the search ran (within any bound,
the budget included); `exhaustive`, that it finished; `deterministic`, that it stopped at its own
depth or state bound (or finished), so that its verdict is the same on every machine: a stop by
the budget (the wall clock, then only a safety limit) is inconclusive."""
VACUOUS = ("warn", "fail")
"""What a check does with a vacuous property (one that could not have failed in its scenario,
`kubeprop.properties.vacuity`): list it as a warning (a JUnit skip, the gate passes), or fail."""


@attrs.frozen
class CheckSpec:
    """One configured check."""

    scenario: str = ""
    variant: str = "correct"
    engine: str = "bfs"
    properties: tuple[str, ...] | None = None
    """The properties to check; None (the field left out): every one."""
    property_modules: tuple[str, ...] = ()
    budget: float = 20.0
    max_depth: int = 6
    max_states: int | None = None
    """The BFS's (and `around`'s) bound on distinct states; None: no bound but the budget."""
    parameters: FrozenMap[str, Any] = EMPTY
    require: Literal["bounded", "exhaustive", "deterministic"] | str = "bounded"
    vacuous: Literal["warn", "fail"] | str = "warn"


@attrs.frozen
class GateConfig:
    """The whole gate configuration; `corpus` None means the built-in corpus."""

    corpus: tuple[str, ...] | None = None
    checks: tuple[CheckSpec, ...] = ()
    """The checks to run; none (the field left out): `DEFAULT_CHECKS` (`checks: []` is refused)."""
    allow_imports: tuple[str, ...] = ()
    replay_timeout: float = 300.0


DEFAULT_CHECKS = (CheckSpec(engine="bfs", budget=300.0, max_depth=4, max_states=5000,
                            parameters=FrozenMap({"instantCaches": True}), require="deterministic"),)
"""The check of a gate without a config: a BFS of FeastFlow bounded by states and depth (it stops at
5,000 distinct states, within depth 4: the same states on every machine; 12 s at load 8.5 on 2 cores),
the 300 s budget only a safety limit whose hit is inconclusive (`require: deterministic`)."""


def load_config(path: Path | None) -> tuple[GateConfig, Path]:
    """The gate config (defaults when no file) and the folder its relative paths start from."""
    if path is None:
        return GateConfig(checks=DEFAULT_CHECKS), Path.cwd()
    try:
        docs = load_yaml_documents(path, keep_duplicates=True)
    except YamlError as err:
        raise ScenarioError([Problem.from_yaml_error(err)]) from None
    if len(docs) != 1:
        raise ScenarioError([Problem(str(path), 0, "", "a gate config holds exactly one YAML document")])
    doc = docs[0]
    if not isinstance(doc.data, dict):  # named, never quoted: `--config` may name any file (a netrc)
        raise ScenarioError([Problem(str(path), doc.line, "", f"not a gate config: expected a YAML mapping (corpus:, "
                                     f"checks:, …), got {describe_kind(doc.data)}")])
    found: Found = []
    config = decode_all(GateConfig, doc.data, (), found)
    if config is not None:
        found += config_problems(config, path.parent)
        if isinstance(doc.data, dict) and doc.data.get("checks") == []:
            found.append((("checks",), "lists no check; omit the field for the default (a bounded BFS of "
                                       "FeastFlow), or list at least one check"))
        found += _null_lists(doc.data)
        for i, spec in enumerate(config.checks):
            for name, value in spec.parameters.items():
                where = ("checks", i, "parameters", name)
                problem = boolean_word_problem(name, value, doc.written(where))
                found += [(where, problem)] if problem else []
    if found or doc.duplicates:
        problems = [Problem.from_yaml_error(err) for err in doc.duplicates]
        problems += [_problem(doc, where, message) for where, message in found]
        raise ScenarioError(sorted(problems, key=lambda p: p.line))  # stable: a line's fields keep their order
    return config, path.parent


NULL_DEFAULTS = {"checks": "the default check (a bounded BFS of FeastFlow)", "corpus": "the built-in corpus",
                 "properties": "every property"}
"""The list fields whose empty list is refused, and what leaving each out means (`_null_lists`)."""


def _null_lists(data: dict[str, Any]) -> Found:
    """`checks`, `corpus` or a check's `properties` written with no value (YAML null: `checks:` with
    its entries commented out): refused like the empty list, since the gate fails closed — a null
    read as "the default" would run other checks than the ones the config seemed to list."""
    places: list[FieldPath] = [(key,) for key in ("checks", "corpus") if key in data and data[key] is None]
    checks = data.get("checks")
    for i, spec in enumerate(checks if isinstance(checks, list) else ()):
        if isinstance(spec, dict) and "properties" in spec and spec["properties"] is None:
            places.append(("checks", i, "properties"))
    return [(where, f"is null (no value, as when every entry under it is commented out); omit the field for "
                    f"{NULL_DEFAULTS[str(where[-1])]}, or list at least one") for where in places]


def _problem(doc: YamlDocument, where: FieldPath, message: str) -> Problem:
    return Problem(doc.file, doc.line_of(where), format_path(where) if where else "", message)


def config_problems(config: GateConfig, base: Path) -> Found:
    """Every problem of a decoded config (see the module docstring)."""
    found: Found = []
    if config.corpus is not None and not config.corpus:
        found.append((("corpus",), "lists no folder; omit the field for the built-in corpus"))
    for i, folder in enumerate(config.corpus or ()):
        problem = _corpus_problem(resolve(folder, base))
        if problem:
            found.append((("corpus", i), problem))
    for i, module in enumerate(config.allow_imports):
        if module_name_problem(module):
            found.append((("allowImports", i), module_name_problem(module)))
    found += _seconds(config.replay_timeout, ("replayTimeout",))
    for i, spec in enumerate(config.checks):
        found += check_problems(spec, base, ("checks", i))
    return found


def resolve(path: str, base: Path) -> Path:
    """A path from the config: absolute, or relative to the config file's folder."""
    return Path(path) if Path(path).is_absolute() else base / path


def _corpus_problem(folder: Path) -> str:
    try:
        info = stat_path(folder)
    except YamlError as err:
        return err.message
    if info is None:
        return f"no such folder: {folder}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is {file_kind(info.st_mode)}, expected a folder of counterexample files"
    try:
        with os.scandir(folder) as entries:
            named = sorted((e for e in entries if e.name.endswith(".json")), key=lambda e: e.name)
    except OSError as err:
        return f"cannot list {folder}: {err.strerror or err}"
    unreadable = [f"{e.name}: {why}" for e in named if (why := _not_a_file(e))]
    if len(unreadable) < len(named):  # a file to replay; each other entry is a case of its own, naming it
        return ""
    return (f"{folder} holds no counterexample files (*.json); a gate that replays nothing fails"
            + "".join(f"; {why}" for why in unreadable))


def _not_a_file(entry: os.DirEntry[str]) -> str:
    """Why a corpus folder's entry is not a regular file to replay ('' when it is one): a symlink
    loop (`Too many levels of symbolic links`), a dangling link, a folder, a device. Trial 10: a
    loop made the whole folder `cannot list …` without naming the entry."""
    try:
        if entry.is_file():
            return ""
        info = os.stat(entry.path)
    except OSError as err:
        return os_problem(err)
    return f"is {file_kind(info.st_mode)}"


def _seconds(value: float, where: FieldPath) -> Found:
    if not (math.isfinite(value) and 0 < value <= MAX_BUDGET_SECONDS):
        return [(where, f"must be a positive number of seconds up to {MAX_BUDGET_SECONDS:,.0f}, got {value}")]
    return []


def check_problems(spec: CheckSpec, base: Path, at: FieldPath) -> Found:
    """Problems of one configured check."""
    found: Found = []
    if spec.engine not in ENGINES:
        what = f"{NOT_AN_ENGINE}; " if spec.engine == "expected" else ""
        found.append(((*at, "engine"), f"{what}must be one of: {', '.join(ENGINES)}"))
    if spec.require not in REQUIRES:
        found.append(((*at, "require"), f"must be one of: {', '.join(REQUIRES)}"))
    if spec.vacuous not in VACUOUS:
        found.append(((*at, "vacuous"), f"must be one of: {', '.join(VACUOUS)}"))
    if spec.variant not in VARIANTS:
        found.append(((*at, "variant"), f"unknown variant; valid: {', '.join(VARIANTS)}"))
    found += _seconds(spec.budget, (*at, "budget"))
    if not 1 <= spec.max_depth <= MAX_DEPTH:
        found.append(((*at, "maxDepth"), f"must be between 1 and {MAX_DEPTH:,}, got {spec.max_depth}"))
    if spec.max_states is not None and not 1 <= spec.max_states <= MAX_STATES:
        found.append(((*at, "maxStates"), f"must be between 1 and {MAX_STATES:,}, got {spec.max_states}"))
    for name, value in spec.parameters.items():
        problem = parameter_problem(name, value)
        if problem:
            found.append(((*at, "parameters", name), problem))
    if spec.properties is not None and not spec.properties:
        found.append(((*at, "properties"), "lists no property; omit the field to check every one, or name at "
                                           "least one"))
    with registry_kept():  # what the modules register on import stays out of the corpus replays and other checks
        found += property_problems(spec, base, at)
    if spec.scenario:
        scenario = resolve(spec.scenario, base)
        try:
            missing = stat_path(scenario) is None
        except YamlError as err:
            found.append(((*at, "scenario"), err.message))
        else:
            if missing:
                found.append(((*at, "scenario"), f"no such file or folder: {scenario}"))
    return found


def property_problems(spec: CheckSpec, base: Path, at: FieldPath) -> Found:
    """Each `propertyModules` entry that does not load, and each `properties` name that names no
    property: a built-in one, or one of the modules' or the scenario's own (`properties:`, loaded
    for this, as the check will). Names are judged only when everything they could come from
    loaded: a scenario that does not load is the check's error case, with its own problems."""
    found: Found = []
    extra: list[Property] = []
    for j, ref in enumerate(spec.property_modules):
        try:
            extra.extend(load_properties(ref))
        except InputError as err:
            found.append(((*at, "propertyModules", j), str(err)))
    if found or not spec.properties:
        return found
    if spec.scenario:
        try:
            extra.extend(scenario_properties(load_own_scenario(resolve(spec.scenario, base))))
        except (InputError, OSError):
            return found
    select([])  # registers the built-in properties
    known = {*PROPERTIES, *OPT_IN, *(p.name for p in extra)}
    for j, name in enumerate(spec.properties):
        try:
            select([name], extra=extra)
        except KeyError:
            found.append(((*at, "properties", j), f"unknown property {name!r}; {did_you_mean(name, known)}"))
    return found
