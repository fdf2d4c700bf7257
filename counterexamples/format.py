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

This module writes files (`to_data`, `dumps`, `write`; `file_text` and `write_file` serve Raft
files too); the record itself is in `format_records` and reading in `format_read`.
`Counterexample`, `CounterexampleError`, `load` and `loads` are re-exported here, where the
documentation shows them. May import both; neither imports it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kubeprop.counterexamples.format_read import from_data, load, loads, read_data
from kubeprop.counterexamples.format_records import (
    KIND,
    SCHEMA_VERSION,
    Counterexample,
    CounterexampleError,
    ScenarioRecord,
)
from kubeprop.counterexamples.output import JSON_OWNER, OutputError, folder_link, replace_file, write_text
from kubeprop.model.api.codec import thaw_json
from kubeprop.model.api.yamlsource import file_kind
from kubeprop.model.state.actions import to_json

__all__ = ["Counterexample", "CounterexampleError", "dumps", "file_text", "load", "loads", "own_file", "to_data",
           "write", "write_atomic", "write_file"]


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


def file_text(data: Any) -> str:
    """A counterexample file's text from its JSON data, cluster or Raft: indented JSON with a final
    newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def dumps(ce: Counterexample) -> str:
    """The file's text: indented JSON with a final newline."""
    return file_text(to_data(ce))


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


def write_file(text: str, name: str, where: Path | str, keep: Callable[[Any, Path], bool] | None = None) -> Path:
    """Write a counterexample file's `text` into folder `where` under `name` (or to `where` itself if
    it ends in `.json`: written as `output.write_text` writes a path the user names). In a folder,
    anything under that name but a counterexample file is refused (`own_file`), and so is a folder
    that is a symbolic link (`output.folder_link`); an existing counterexample file is kept when
    `keep(its data, its path)` says so, else replaced atomically. Returns the path. Every writer of
    counterexample files (`write` here, `raft_trace.write`) goes through here."""
    where = Path(where)
    if where.suffix == ".json":
        write_atomic(where, text)
        return where
    linked = folder_link(where)
    if linked is not None:  # a link committed under the folder's name would send the file elsewhere
        raise linked
    path = where / name
    data = own_file(path)
    if keep is not None and data is not None and keep(data, path):
        return path
    replace_file(path, text)
    return path


def write(ce: Counterexample, where: Path | str, keep_shorter: bool = True) -> Path:
    """Write `ce` into folder `where` under its content-addressed name (or to `where` itself if it
    ends in `.json`), as `write_file` writes. In a folder, an existing counterexample file for the
    same violation whose trace is no longer than this one is kept (with `keep_shorter`), a longer
    one replaced atomically. Returns the path."""

    def no_longer(data: Any, path: Path) -> bool:
        return _readable(data, path) and len(data["trace"]) <= len(ce.actions)

    return write_file(dumps(ce), ce.file_name, where, no_longer if keep_shorter else None)


def _readable(data: Any, path: Path) -> bool:
    """Whether the counterexample file's data passes the schema (one that does not is replaced)."""
    try:
        from_data(data, str(path))
    except CounterexampleError:
        return False
    return True
