"""A counterexample file's claims about its property and violation are checked, not repeated.

Trial 8 (F1) edited `property.statement`, `violation.message`, `violation.objects`,
`property.kind`, `property.upstream` and `property.module` by hand: replay said REPRODUCES "as
recorded", `--expect` and the gate passed, and the rendering showed the file's statement beside
a registered property. Each field replay re-derives is now compared (STALE naming the field,
"recorded X, replay gives Y"); provenance (engine, version, time, where an inline scenario was
written from) is shown labelled as the file's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.render_html import render_html
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.steps import result_json

BASE_REASON = "replicaset-no-overcreation fails at step 5, as recorded"


def _edited(path: Path, section: str, field: str, value: Any) -> Path:
    data = json.loads(path.read_text())
    data[section][field] = value
    out = path.with_name("edited.json")
    out.write_text(json.dumps(data, indent=2))
    return out


@pytest.mark.parametrize(("section", "field", "value"), [
    ("property", "statement", "All good, nothing to see."),
    ("property", "kind", "convergence"),
    ("property", "upstream", "kubernetes#1 says this is fine"),
    ("property", "module", "os"),
    ("violation", "message", "benign: expected behaviour, ignore"),
    ("violation", "objects", ["Pod default/evil"]),
])
def test_an_edited_field_is_stale_naming_it(rs_file: Path, section: str, field: str, value: Any) -> None:
    assert replay(rs_file).reason == BASE_REASON
    result = replay(_edited(rs_file, section, field, value))
    assert result.verdict == Verdict.STALE
    assert result.verdict != result.required  # so --expect, the gate and the pytest plugin fail
    assert result.reason.startswith(f"{section}.{field}: recorded {value!r}, replay gives ")
    assert "as recorded" not in result.reason
    assert result.reason.endswith("replicaset-no-overcreation fails at step 5")


def test_the_rendering_shows_the_resolved_statement_not_the_files(rs_file: Path) -> None:
    result = replay(_edited(rs_file, "property", "statement", "All good, nothing to see."))
    text = render_text(result)
    header = text.split("\n\n")[0]
    assert "property        replicaset-no-overcreation: A ReplicaSet whose spec.replicas never changed" in header
    assert "All good" in result.reason and text.count("All good") == 2  # the verdict's reason, its STALE line
    assert result_json(result)["property"]["statement"].startswith("A ReplicaSet whose")


def test_a_changed_message_shows_both(rs_file: Path) -> None:
    text = render_text(replay(_edited(rs_file, "violation", "message", "benign")))
    assert "the file records, at step 5: benign" in text
    assert "the replay's at step 5: ReplicaSet default/" in text


def test_the_page_says_plainly_what_the_file_records(rs_file: Path) -> None:
    """Trial 21: the page's `recorded … (the file's)` row repeated the violation's message in
    words a user had to decode; now a message the replay gives as well is shown once, and one
    that differs in a row saying whose it is."""
    same = render_html([replay(rs_file)])
    assert "(the file&#x27;s)" not in same and "<td>the file records</td>" not in same
    changed = render_html([replay(_edited(rs_file, "violation", "message", "benign"))])
    assert "<tr><td>the file records</td><td>benign</td></tr>" in changed


@pytest.mark.parametrize(("section", "field", "value", "shown"), [
    ("engine", "name", "manual", "found by        manual (seed -)"),
    ("scenario", "path", "/etc/shadow", "written from /etc/shadow (as the file records it, not checked)"),
    (None, "kubeprop", "99.0.0", "kubeprop 99.0.0"),
    (None, "created", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
])
def test_provenance_is_labelled_as_the_files(rs_file: Path, section: str | None, field: str, value: str,
                                             shown: str) -> None:
    data = json.loads(rs_file.read_text())
    (data if section is None else data[section])[field] = value
    edited = rs_file.with_name("edited.json")
    edited.write_text(json.dumps(data))
    result = replay(edited)
    assert result.verdict == Verdict.REPRODUCES
    found_by = next(line for line in render_text(result).splitlines() if line.startswith("found by"))
    assert shown in found_by
    assert found_by.endswith("(as the file records it, not checked)")


def test_an_edited_scenario_name_shows_the_loaded_one(rs_file: Path) -> None:
    data = json.loads(rs_file.read_text())
    data["scenario"]["name"] = "production-cluster"
    edited = rs_file.with_name("edited.json")
    edited.write_text(json.dumps(data))
    line = render_text(replay(edited)).splitlines()[2]
    assert line.startswith("scenario        web (inline, sha256 ")
    assert line.endswith("named 'production-cluster' in the file)")


def test_absent_optional_fields_are_not_compared(rs_file: Path) -> None:
    """A writer leaves `upstream` and `module` out when empty (and version 1 files may lack them):
    nothing recorded, nothing to compare."""
    data = json.loads(rs_file.read_text())
    del data["property"]["upstream"], data["property"]["module"]
    edited = rs_file.with_name("edited.json")
    edited.write_text(json.dumps(data))
    assert replay(edited).reason == BASE_REASON


def test_a_version_1_file_still_reproduces(rs_file: Path) -> None:
    data = json.loads(rs_file.read_text())
    data["schema"] = 1
    data["model"].pop("system", None)
    edited = rs_file.with_name("edited.json")
    edited.write_text(json.dumps(data))
    assert replay(edited).reason == BASE_REASON
