"""Counterexample files written by another kubeprop: saying so when a file no longer reads.

A file names the model's actions, variant and parameters as the kubeprop that wrote it had them
(docs/counterexamples.md, "Files from other kubeprop versions"); a newer model may have renamed
or removed them. A problem in those fields of a file another version wrote gets a note naming both
versions and what to do (`version_note`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["VERSIONS_DOC", "VERSION_SENSITIVE", "installed_version", "version_note"]

VERSION_SENSITIVE = re.compile(r"trace\[\d+\]\.action|model\.variant|model\.parameters\.")
"""The fields a newer model may no longer read in an older file: its actions, variant and parameters."""
VERSIONS_DOC = 'docs/counterexamples.md, "Files from other kubeprop versions"'


def installed_version() -> str:
    """This kubeprop's version (`unknown` when not installed)."""
    from kubeprop.counterexamples.trace import kubeprop_version

    return kubeprop_version()


def version_note(data: dict[str, Any], fields: Iterable[str], writes: int) -> list[tuple[str, str]]:
    """For problems in version-sensitive `fields` of a file another kubeprop wrote: a `kubeprop`
    problem saying which version wrote it (and its schema), which this is (writing schema
    `writes`), and what to do."""
    if not any(VERSION_SENSITIVE.match(f) for f in fields):
        return []
    wrote, mine = data.get("kubeprop"), installed_version()
    if wrote == mine:
        return []
    writer = f"kubeprop {wrote}" if isinstance(wrote, str) and wrote else "a kubeprop that did not record its version"
    schema = json.dumps(data.get("schema"))
    return [("kubeprop", f"the file was written by {writer} (schema {schema}); this is kubeprop {mine} (writes "
                         f"schema {writes}), whose model may have renamed or removed the actions, variants or "
                         "parameters named above. Record the violation again with this kubeprop (kubeprop check on "
                         "the file's scenario, variant and property; replace the file with the new one), or replay "
                         f"it with the kubeprop that wrote it; see {VERSIONS_DOC}")]
