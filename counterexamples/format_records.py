"""The counterexample record in memory: what one counterexample file holds (`Counterexample` and
its parts), the format's version and kind, the error every reader raises (`CounterexampleError`), and
how every command words a trace's length (`length_words`).

The file format as a whole is described in `format` (which writes these records as JSON);
`format_read` reads them back. This module may import the model's types (actions, frozen maps,
scenario limits) and `fingerprint`; nothing of reading or writing files.
"""

from __future__ import annotations

import builtins
import re
from typing import Any, Literal

import attrs

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.manifests import ManifestError
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scenario.load import MAX_OBJECTS
from kubeprop.model.state.actions import Action

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
        violation, a lasso, a file written before kubeprop recorded it), and for any but a
        convergence property: only for one does a writer record it (`trace.record_result`), so
        in another file it is not taken at its word."""
        if self.property.kind != "convergence" or self.cycle_start is not None:
            return None
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

