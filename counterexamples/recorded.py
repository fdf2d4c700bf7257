"""What a counterexample file records that replay can re-derive, compared with what replay gives.

A file is data from anyone (docs/counterexamples.md, "Files are data"): whatever it says about its
property and its violation is a claim until the replay checks it. Replay re-derives the property's
`statement`, `kind`, `upstream` and `module` from the property it resolves (registered, given or
allowed), and the violation's `message` and `objects` from the property failing at the recorded
step. Each recorded field that differs from the re-derived value is a `Mismatch`, and the replay is
STALE naming it (`property.statement: recorded 'All good', replay gives 'Every …'`): the model
changed or the file was edited, and either way the file does not say what kubeprop checked.

`upstream` and `module` are optional in a file (a writer leaves them out when empty): an absent
one records nothing, so nothing is compared. The rest of a file — `engine`, `kubeprop`,
`created`, `scenario.path` of an inline scenario, `note` — is provenance: shown as what the file
says (`PROVENANCE`), never checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from kubeprop.counterexamples.format_records import PropertyRecord, ViolationRecord
from kubeprop.counterexamples.printable import shown
from kubeprop.properties.registry import Property, Violation

PROVENANCE = "as the file records it, not checked"
"""How the commands label what a file says of its provenance (engine, seed, kubeprop version,
creation time, where an inline scenario was written from)."""

SHOWN_CHARS = 120
"""The most characters of a recorded or re-derived value a mismatch quotes."""


@attrs.frozen
class Mismatch:
    """A recorded field (`property.statement`) whose value is not the one replay re-derives."""

    field: str
    recorded: object
    now: object

    def __str__(self) -> str:
        return f"{self.field}: recorded {_quoted(self.recorded)}, replay gives {_quoted(self.now)}"


def _quoted(value: object) -> str:
    text = shown(repr(list(value) if isinstance(value, tuple) else value))
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def module_of(prop: Property) -> str:
    """The module defining the property's function (looking through `as_property`'s wrapper)."""
    check: Any = prop.check
    for cell in getattr(check, "__closure__", None) or ():
        inner = cell.cell_contents
        if callable(inner) and getattr(inner, "__module__", None):
            return str(inner.__module__)
    return str(getattr(check, "__module__", "") or "")


def property_record(prop: Property) -> PropertyRecord:
    """The property as a file records it (`trace.record` writes this; replay compares with it)."""
    return PropertyRecord(prop.name, prop.statement, prop.kind, prop.upstream, module_of(prop))


def property_mismatches(recorded: PropertyRecord, now: PropertyRecord) -> list[Mismatch]:
    """The property fields the file records otherwise than the resolved property has them (`now`,
    as a writer would record it); `upstream` and `module` only when the file records them."""
    found = [Mismatch(f"property.{name}", getattr(recorded, name), getattr(now, name))
             for name in ("statement", "kind", "upstream", "module")
             if getattr(recorded, name) != getattr(now, name)]
    return [m for m in found if m.recorded != "" or m.field in ("property.statement", "property.kind")]


def violation_mismatches(recorded: ViolationRecord, found: Violation | None) -> list[Mismatch]:
    """The violation fields the file records otherwise than the property reports them at the
    recorded step (none when it holds there: then there is nothing to compare)."""
    if found is None:
        return []
    out = []
    if recorded.message != found.message:
        out.append(Mismatch("violation.message", recorded.message, found.message))
    if tuple(recorded.objects) != tuple(found.objects):
        out.append(Mismatch("violation.objects", tuple(recorded.objects), tuple(found.objects)))
    return out


def mismatch_reason(mismatches: Sequence[Mismatch], tail: str) -> str:
    """A STALE reason for recorded fields that replay does not give: each mismatch, then `tail`
    (what the replay found, in the verdict's words)."""
    listed = "; ".join(str(m) for m in mismatches)
    return f"{listed} (the file was edited, or the model changed); {tail}"


def passes_reason(name: str, target: int, message: str, same_state: bool) -> str:
    """Why a file PASSES, saying whether the state at its violating step is the one it records
    (`same_state`: its fingerprint matches). A fixed model changes that state, or STALE comes
    first; the same state now holding means the property's verdict on it changed, not the run — a
    fixed property, or an edited file (a trace cut short, another property named): nothing replay
    can tell apart, so it is said, never refused (docs/counterexamples.md, "Passes files")."""
    if same_state:
        return (f"{name} now holds at step {target}, in the very state the file records there (same fingerprint): "
                "its verdict on that state changed, not the run — a fixed property, or an edited file (a trace cut "
                f"short, another property named) (recorded: {message})")
    return f"{name} now holds at step {target}, whose state differs from the recorded one (recorded: {message})"
