"""The counterexample file format (schema version 2; version 1 files are read too): the
in-memory record, JSON in and out, strict loading, atomic content-addressed writes.

A file holds the scenario (inline texts, or a path plus content hash), the model variant and
parameter overrides, the property, the actions by value with a fingerprint of every state along
the trace, where the property fails, and who found it (engine, seed, kubeprop version, time).
`schema.json` (next to this module, and in docs/counterexamples.md) is the published shape;
`load` checks a file against it and then checks what a schema cannot say (every action decodes,
the variant and parameters exist, the violating step lies on the trace). Every problem names
its field: `trace[3].action: unknown action 'Foo'; known: …`.

Version 2 adds `model.system`: `cluster` (this module; version 1 files are cluster files) or `raft`
(a trace of the Raft model, `raft_trace.py`). `load` reads cluster files and refuses a Raft file
with a message pointing to `raft_trace.load`; `system_of` says which a file is.

Version 2 also adds lassos: a file whose `lasso.cycleStart` is k holds a stem (`trace[0..k-1]`) and
a cycle (`trace[k..]`) that returns to the state after the stem up to its cycle key
(`kubeprop.properties.explore.cyclekey`); its property is a cycle property (kind `liveness`) and
its violation is judged on the cycle, at the last step. Both additions are optional: a version 1
file is a version 2 cluster file without `lasso`.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import attrs

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.module_names import module_name_problem
from kubeprop.counterexamples.output import JSON_OWNER, OutputError, folder_link, replace_file, write_text
from kubeprop.counterexamples.schema_check import problems as schema_problems
from kubeprop.counterexamples.strict_json import (
    MAX_DEPTH,
    NumberError,
    json_object,
    parse_constant,
    parse_float,
    parse_int,
    shape_problem,
)
from kubeprop.counterexamples.versions import VERSIONS_DOC, installed_version, version_note
from kubeprop.model.api.codec import freeze_json, thaw_json
from kubeprop.model.api.manifests import ManifestError, Problem
from kubeprop.model.api.yamlsource import YamlError, decode_text, file_kind, read_input
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scenario.load import MAX_OBJECTS
from kubeprop.model.scenario.schema import parameter_problem
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.state.actions import Action, ActionError, action_from_json, to_json

MAX_PACKED_FILES = MAX_OBJECTS + 1
"""The most files an inline scenario packs: the scenario file, and the files its objects come from
(`MAX_OBJECTS` at most). Each is written to disk at replay: 200,000 empty files took 45 s."""

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Versions this kubeprop reads: 1 (cluster model only) and 2 (adds `model.system`)."""
READS_VERSIONS = READABLE_VERSIONS
KIND = "Counterexample"
Expectation = Literal["reproduces", "passes"]
Mode = Literal["inline", "path"]
Layout = Literal["scenario-file", "manifests"]


CONTINUATION_START = "continuationStart"
"""The `engine.options` key where a convergence counterexample records how many of its actions the
engine found: `trace[k:]` is the fair continuation recorded after them (`Counterexample.continuation_start`)."""


def length_words(steps: int, continuation_start: int | None = None) -> str:
    """A trace's length as every command prints it: `5 steps`, or for a convergence violation whose
    fair continuation is recorded after the engine's find, `3 steps, then a fair continuation of 66`."""
    if continuation_start is None or not 0 < continuation_start < steps:
        return f"{steps} step{'' if steps == 1 else 's'}"
    return (f"{continuation_start} step{'' if continuation_start == 1 else 's'}, then a fair continuation of "
            f"{steps - continuation_start}")


class CounterexampleError(ManifestError):
    """A counterexample file that cannot be read: every problem names the file and the field.
    A `ManifestError`, so the CLI reports it as bad input (exit 2)."""


@attrs.frozen
class PackedFile:
    """One file of an inline scenario: its path relative to the scenario's root, and its text."""

    path: str
    text: str


@attrs.frozen
class ScenarioRecord:
    """How to get the scenario back: inline texts (`files`, loading `entry`) or `path` + hash."""

    name: str
    mode: Mode
    layout: Layout
    path: str
    content_hash: str
    entry: str = ""
    files: tuple[PackedFile, ...] = ()


@attrs.frozen
class PropertyRecord:
    """The property as it was when the file was written."""

    name: str
    statement: str
    kind: Literal["safety", "convergence", "liveness", "invariant", "claim", "goal"] = "safety"
    """safety, convergence or liveness (cluster; liveness: a lasso's cycle property); invariant, claim
    or goal (a Raft check, `raft_trace.py`)."""
    upstream: str = ""
    module: str = ""


@attrs.frozen
class ViolationRecord:
    """Where and how the property failed: `step` 0 is the initial state, k the state after action k."""

    step: int
    message: str
    objects: tuple[str, ...] = ()


@attrs.frozen
class EngineRecord:
    """What found the trace: engine name, seed (None for deterministic engines), options."""

    name: str
    seed: int | None = None
    options: FrozenMap[str, Any] = EMPTY


@attrs.frozen
class Counterexample:
    """One counterexample: everything a file holds. `fingerprints[0]` is the initial state's,
    `fingerprints[k]` the state's after `actions[k-1]`."""

    scenario: ScenarioRecord
    variant: str
    parameters: FrozenMap[str, Any]
    property: PropertyRecord
    violation: ViolationRecord
    actions: tuple[Action, ...]
    fingerprints: tuple[str, ...]
    engine: EngineRecord
    kubeprop_version: str
    created: str
    expectation: Expectation | None = None
    note: str = ""
    cycle_start: int | None = None
    """For a lasso: the number of stem actions (the cycle is `actions[cycle_start:]`)."""

    @builtins.property
    def is_lasso(self) -> bool:
        """True for a lasso (stem + cycle)."""
        return self.cycle_start is not None

    @builtins.property
    def continuation_start(self) -> int | None:
        """For a convergence counterexample: the number of actions the engine found
        (`engine.options.continuationStart`); the rest of the trace is the fair continuation
        appended to show the property failing. None when the file does not say (a safety
        violation, a lasso, a file written before kubeprop recorded it)."""
        value = self.engine.options.get(CONTINUATION_START)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= len(self.actions):
            return None
        return value

    @builtins.property
    def violating_fingerprint(self) -> str:
        """The fingerprint of the state the property fails in."""
        return self.fingerprints[self.violation.step]

    @builtins.property
    def identity(self) -> str:
        """12 hex digits naming this violation: the property, the scenario, the model and the
        violating state (not the path to it, so the same violation found twice is one file)."""
        key = (self.property.name, self.scenario.content_hash, self.variant, self.parameters,
               self.violating_fingerprint)
        return fingerprint(key, 12)

    @builtins.property
    def file_name(self) -> str:
        """`<property>-<identity>.json`."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.property.name)
        return f"{safe}-{self.identity}.json"


# --- JSON out ------------------------------------------------------------------------------------

def _scenario_json(s: ScenarioRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"name": s.name, "mode": s.mode, "layout": s.layout, "path": s.path,
                           "contentHash": s.content_hash}
    if s.mode == "inline":
        out["entry"] = s.entry
        out["files"] = [{"path": f.path, "text": f.text} for f in s.files]
    return out


def to_data(ce: Counterexample) -> dict[str, Any]:
    """The counterexample as JSON data (schema version 2, `model.system: cluster`)."""
    prop: dict[str, Any] = {"name": ce.property.name, "statement": ce.property.statement, "kind": ce.property.kind}
    if ce.property.upstream:
        prop["upstream"] = ce.property.upstream
    if ce.property.module:
        prop["module"] = ce.property.module
    out: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "kind": KIND,
        "property": prop,
        "violation": {"step": ce.violation.step, "message": ce.violation.message,
                      "objects": list(ce.violation.objects)},
        "model": {"system": "cluster", "variant": ce.variant,
                  "parameters": {k: thaw_json(v) for k, v in ce.parameters.items()}},
        "scenario": _scenario_json(ce.scenario),
        "initial": {"fingerprint": ce.fingerprints[0]},
        "trace": [{"action": to_json(a), "fingerprint": fp} for a, fp in zip(ce.actions, ce.fingerprints[1:],
                                                                              strict=True)],
        "engine": {"name": ce.engine.name, "seed": ce.engine.seed,
                   "options": {k: thaw_json(v) for k, v in ce.engine.options.items()}},
        "kubeprop": ce.kubeprop_version,
        "created": ce.created,
    }
    if ce.cycle_start is not None:
        out["lasso"] = {"cycleStart": ce.cycle_start}
    if ce.expectation is not None:
        out["expectation"] = ce.expectation
    if ce.note:
        out["note"] = ce.note
    return out


def dumps(ce: Counterexample) -> str:
    """The file's text: indented JSON with a final newline."""
    return json.dumps(to_data(ce), indent=2, ensure_ascii=False) + "\n"


# --- JSON in -------------------------------------------------------------------------------------

def _fail(file: str, found: list[tuple[str, str]]) -> CounterexampleError:
    return CounterexampleError([Problem(file, 0, field, message) for field, message in found])


def _check_version(data: Any, file: str) -> None:
    if not isinstance(data, dict):
        raise _fail(file, [("(top level)", "must be a JSON object (is this a kubeprop counterexample file?)")])
    if "schema" not in data:
        raise _fail(file, [("schema", "missing: not a kubeprop counterexample file (no schema version)")])
    version = data["schema"]
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        readable = " and ".join(str(v) for v in READABLE_VERSIONS)
        wrote = data.get("kubeprop")
        by = f", written by kubeprop {wrote}" if isinstance(wrote, str) and wrote else ""
        raise _fail(file, [("schema", f"version {json.dumps(version)}{by} is not supported (this kubeprop, "
                                      f"{installed_version()}, reads versions {readable}): replay it with a kubeprop "
                                      f"that reads it; see {VERSIONS_DOC}")])


def check_header(data: Any, file: str, system: str, elsewhere: str) -> None:
    """What every reader checks first (this module's, `raft_trace`'s): a readable schema version,
    the schema (`schema_check`), and that the file is of model `system` — else `elsewhere` says
    which reader to use (`{system}` in it: the file's). CounterexampleError names each problem."""
    _check_version(data, file)
    found = schema_problems(data)
    if found:
        raise _fail(file, found)
    if system_of(data) != system:
        raise _fail(file, [("model.system", elsewhere.format(system=system_of(data)))])


def system_of(data: Any) -> str:
    """`cluster` or `raft`: the model a file's data belongs to (version 1 files are cluster files)."""
    model = data.get("model") if isinstance(data, dict) else None
    return str(model.get("system", "cluster")) if isinstance(model, dict) else "cluster"


def _decode_actions(data: dict[str, Any]) -> tuple[list[Action], list[tuple[str, str]]]:
    acts: list[Action] = []
    found: list[tuple[str, str]] = []
    for i, entry in enumerate(data["trace"]):
        try:
            acts.append(action_from_json(entry["action"]))
        except ActionError as err:
            found.append((f"trace[{i}].action", str(err)))
    return acts, found


def _semantic_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if data["schema"] == 1 and "system" in data["model"]:
        found.append(("model.system", "not in schema version 1 (version 2 has it)"))
    if data["property"]["kind"] not in ("safety", "convergence", "liveness"):
        found.append(("property.kind", "must be safety, convergence or liveness for the cluster model"))
    if data["property"]["kind"] == "liveness" and "lasso" not in data:
        found.append(("property.kind", "liveness (a cycle property) only in a lasso file"))
    module = data["property"].get("module", "")
    if module and module_name_problem(module):
        found.append(("property.module", module_name_problem(module)))
    if "scenario" not in data:
        return [*found, ("scenario", "missing (required for the cluster model)")]
    variant = data["model"]["variant"]
    if variant not in VARIANTS:
        found.append(("model.variant", f"unknown variant {variant!r}; valid: {', '.join(VARIANTS)}"))
    for name, value in data["model"]["parameters"].items():
        problem = parameter_problem(name, value)
        if problem is not None:
            found.append((f"model.parameters.{name}", problem))
    step, length = data["violation"]["step"], len(data["trace"])
    if step > length:
        found.append(("violation.step", f"{step} is past the end of the trace ({length} actions)"))
    found += _lasso_problems(data)
    scenario = data["scenario"]
    if scenario["mode"] == "inline":
        if not scenario.get("files"):
            found.append(("scenario.files", "required when mode is inline (the scenario's file texts)"))
        elif len(scenario["files"]) > MAX_PACKED_FILES:
            found.append(("scenario.files", f"holds {len(scenario['files']):,} files; a packed scenario holds at most "
                                            f"{MAX_PACKED_FILES:,} (its scenario file and a file per object at most)"))
        elif scenario.get("entry", "") not in {f["path"] for f in scenario["files"]} and scenario[
                "layout"] == "scenario-file":
            found.append(("scenario.entry", "must name one of scenario.files (the scenario file to load)"))
    return found


def _lasso_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    lasso = data.get("lasso")
    kind = data["property"]["kind"]
    if lasso is None:
        return [("property.kind", "a liveness property needs a lasso (stem and cycle)")] if kind == "liveness" else []
    if data["schema"] < 2:
        return [("lasso", "lassos need schema version 2")]
    length, start = len(data["trace"]), lasso["cycleStart"]
    found = []
    if start >= length:
        found.append(("lasso.cycleStart", f"{start} leaves no cycle (the trace has {length} actions)"))
    if data["violation"]["step"] != length:
        found.append(("violation.step", f"a lasso's violation is at the end of its cycle, step {length}"))
    if kind != "liveness":
        found.append(("property.kind", "a lasso's property is a liveness (cycle) property"))
    return found


def _parameter(value: Any) -> Any:
    return tuple(_parameter(v) for v in value) if isinstance(value, list) else value


def from_data(data: Any, file: str = "<counterexample>") -> Counterexample:
    """Check JSON data strictly and build the Counterexample; CounterexampleError names each problem."""
    check_header(data, file, "cluster", "a {system} counterexample: read it with "
                                        "kubeprop.counterexamples.raft_trace.load (kubeprop replay does)")
    acts, found = _decode_actions(data)
    found += _semantic_problems(data)
    if found:
        raise _fail(file, found + version_note(data, [field for field, _ in found], SCHEMA_VERSION))
    s = data["scenario"]
    p = data["property"]
    e = data["engine"]
    return Counterexample(
        scenario=ScenarioRecord(s["name"], s["mode"], s["layout"], s["path"], s["contentHash"], s.get("entry", ""),
                                tuple(PackedFile(f["path"], f["text"]) for f in s.get("files", ()))),
        variant=data["model"]["variant"],
        parameters=FrozenMap({k: _parameter(v) for k, v in data["model"]["parameters"].items()}),
        property=PropertyRecord(p["name"], p["statement"], p["kind"], p.get("upstream", ""), p.get("module", "")),
        violation=ViolationRecord(data["violation"]["step"], data["violation"]["message"],
                                  tuple(data["violation"]["objects"])),
        actions=tuple(acts),
        fingerprints=(data["initial"]["fingerprint"], *(t["fingerprint"] for t in data["trace"])),
        engine=EngineRecord(e["name"], e.get("seed"), FrozenMap(freeze_json(e.get("options", {})))),
        kubeprop_version=data["kubeprop"],
        created=data["created"],
        expectation=data.get("expectation"),
        note=data.get("note", ""),
        cycle_start=data["lasso"]["cycleStart"] if "lasso" in data else None,
    )


def _not_json_hint(text: str) -> str:
    """What a text that is not JSON looks like, when that says more than the parser's position: a
    binary file (a NUL character: nothing a JSON text holds unescaped), an empty one, or one
    that stops before its object closes."""
    if "\x00" in text:
        first = text.index("\x00") + 1
        return f"; the file holds NUL bytes (the first at character {first:,}): it is binary, not JSON text"
    if not text.strip():
        return "; the file is empty"
    return "; the file looks truncated" if not text.rstrip().endswith("}") else ""


def parse(text: str, file: str = "<counterexample>") -> Any:
    """A file's text as JSON data, with the limits every counterexample file is held to (numbers,
    nesting, keys written twice, surrogates); a truncated or malformed file is a CounterexampleError
    with the position."""
    try:
        data = json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant,
                          object_pairs_hook=json_object)
    except json.JSONDecodeError as err:
        hint = _not_json_hint(text)
        raise CounterexampleError([Problem(file, err.lineno, "", f"not valid JSON: {err.msg} (column "
                                                               f"{err.colno}){hint}")]) from None
    except NumberError as err:
        raise CounterexampleError([Problem(file, 0, "", f"not a counterexample: {err}")]) from None
    except RecursionError:
        raise CounterexampleError([Problem(file, 0, "", f"not a counterexample: nested more than {MAX_DEPTH} "
                                                        "levels deep")]) from None
    shape = shape_problem(data)
    if shape is not None:
        raise CounterexampleError([Problem(file, 0, "", f"not a counterexample: {shape}")])
    return data


def loads(text: str, file: str = "<counterexample>") -> Counterexample:
    """Parse a file's text into a Counterexample (`parse`, then the schema)."""
    return from_data(parse(text, file), file)


def read_data(path: Path | str) -> Any:
    """A counterexample file's JSON data: a regular UTF-8 file of at most MAX_INPUT_BYTES (a leading
    byte-order mark is read past, as RFC 8259 allows), parsed with `parse`'s limits. Every reader of
    counterexample files goes through here."""
    path = Path(path)
    try:
        raw = read_input(path)
    except YamlError as err:
        raise CounterexampleError([Problem(str(path), 0, "", err.message)]) from None
    try:
        text = decode_text(raw, str(path))  # the words validate uses for the same file
    except YamlError as err:
        raise CounterexampleError([Problem(str(path), err.line, "", err.message)]) from None
    return parse(text, str(path))


def load(path: Path | str) -> Counterexample:
    """Read and check one counterexample file (`read_data`, then the schema)."""
    return from_data(read_data(path), str(path))


# --- writing -------------------------------------------------------------------------------------

def write_atomic(path: Path, text: str, inputs: Iterable[Path] = (), owner: str | None = JSON_OWNER) -> None:
    """Write `text` to `path` without clobbering (`kubeprop.counterexamples.output.write_text`:
    atomic for new paths and regular files, written through links and devices, never an input,
    and by default only over a counterexample file)."""
    write_text(path, text, inputs, owner)


def own_file(path: Path) -> Any:
    """The data of the counterexample file at `path` in a counterexample folder, None if nothing is
    there; OutputError if something else is (a link, a folder, a device, a file that is not a
    counterexample file): a file's name is predictable from the violation, so a link or file
    planted under it must not be written through or replaced."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(f"cannot write {path}: it is a symbolic link; counterexample files are written only as "
                          "regular files into the output folder (remove the link)")
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"cannot write {path}: it is {file_kind(info.st_mode)}; give another output folder")
    try:
        data = read_data(path)
    except CounterexampleError:
        data = None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise OutputError(f"cannot write {path}: a file that is not a counterexample file has its name; kubeprop "
                          "replaces only its own files (move it away)")
    return data


def write(ce: Counterexample, where: Path | str, keep_shorter: bool = True) -> Path:
    """Write `ce` into folder `where` under its content-addressed name (or to `where` itself if it
    ends in `.json`: written as `output.write_text` writes a path the user names). In a folder, an
    existing counterexample file for the same violation whose trace is no longer than this one is
    kept (with `keep_shorter`), a longer one replaced atomically, and anything else under that name
    refused (`own_file`); a folder that is a symbolic link is refused (`output.folder_link`).
    Returns the path."""
    where = Path(where)
    if where.suffix == ".json":
        write_atomic(where, dumps(ce))
        return where
    linked = folder_link(where)
    if linked is not None:
        raise linked
    path = where / ce.file_name
    data = own_file(path)
    if keep_shorter and data is not None and _readable(data, path) and len(data["trace"]) <= len(ce.actions):
        return path
    replace_file(path, dumps(ce))
    return path


def _readable(data: Any, path: Path) -> bool:
    """Whether the counterexample file's data passes the schema (one that does not is replaced)."""
    try:
        from_data(data, str(path))
    except CounterexampleError:
        return False
    return True
