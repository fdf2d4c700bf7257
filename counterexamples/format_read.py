"""Reading counterexample files: strict parsing (`parse`, `read_data`), the checks a schema cannot
say (`from_data`: every action decodes, the variant and parameters exist, the violating step lies
on the trace, a lasso's shape), and `load` / `loads`. Every problem names its file and field.

`check_header` and `read_data` serve the Raft reader (`raft_trace`) too. The file format as a whole
is described in `format`. This module may import `format_records`, the JSON limits
(`strict_json`), the schema check and the model's decoders; never `format` (which imports it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubeprop.counterexamples.format_forms import current_forms
from kubeprop.counterexamples.format_records import (
    MAX_PACKED_FILES,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    Counterexample,
    CounterexampleError,
    EngineRecord,
    PackedFile,
    PropertyRecord,
    ScenarioRecord,
    ViolationRecord,
)
from kubeprop.counterexamples.module_names import module_name_problem
from kubeprop.counterexamples.schema_check import describe_value
from kubeprop.counterexamples.schema_check import problems as schema_problems
from kubeprop.counterexamples.strict_json import (
    MAX_DEPTH,
    json_object,
    number_problems,
    parse_constant,
    parse_float,
    parse_int,
    shape_problem,
)
from kubeprop.counterexamples.versions import VERSIONS_DOC, installed_version, version_note
from kubeprop.model.api.codec import freeze_json
from kubeprop.model.api.manifests import Problem
from kubeprop.model.api.yamlsource import YamlError, decode_text, read_input
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.schema import parameter_problem
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.state.actions import Action, ActionError, action_from_json


def _fail(file: str, found: list[tuple[str, str]]) -> CounterexampleError:
    return CounterexampleError([Problem(file, 0, field, message) for field, message in found])


def _check_version(data: Any, file: str) -> None:
    if not isinstance(data, dict):
        raise _fail(file, [("(top level)", "must be a JSON object (is this a kubeprop counterexample file?)")])
    if "schema" not in data:
        raise _fail(file, [("schema", "missing: not a kubeprop counterexample file (no schema version)")])
    version = data["schema"]
    readable = " and ".join(str(v) for v in READABLE_VERSIONS)
    if not isinstance(version, int) or isinstance(version, bool):  # `"2"`, `2.0`, `true` are no version
        raise _fail(file, [("schema", f"must be an integer, the file format's version (this kubeprop reads "
                                      f"versions {readable} and writes {SCHEMA_VERSION}), not "
                                      f"{describe_value(version)}")])
    if version not in READABLE_VERSIONS:
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
    written = current_forms([entry["action"] for entry in data["trace"]])  # earlier kubeprops' forms
    for i, written_action in enumerate(written):
        try:
            acts.append(action_from_json(written_action))
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
    found += step_problems(data["violation"]["step"], len(data["trace"]))
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


def step_problems(step: int, length: int) -> list[tuple[str, str]]:
    """`violation.step` must be the trace's length: every writer (`trace.record`, a lasso's
    `record_lasso`, `raft_trace.record`) records the violation in the state after the last action,
    and replay judges the property there and checks every fingerprint before it. A smaller step
    would have replay judge an earlier state and leave the later fingerprints unchecked (a `passes`
    file set to step 0 passed on its initial state alone), so it is refused like a larger one."""
    if step == length:
        return []
    where = "past the end of the trace" if step > length else "not the end of the trace"
    return [("violation.step", f"{step} is {where} ({length} action{'' if length == 1 else 's'}): must be "
                               f"{length}, the state after the last action, where every writer records the "
                               "violation")]


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
    except RecursionError:
        raise CounterexampleError([Problem(file, 0, "", f"not a counterexample: nested more than {MAX_DEPTH} "
                                                        "levels deep")]) from None
    shape = shape_problem(data)
    found = [Problem(file, 0, "", f"not a counterexample: {shape}")] if shape is not None else []
    found += [Problem(file, 0, where, f"not a counterexample: {why}") for where, why in number_problems(data)]
    if found:
        raise CounterexampleError(found)
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

