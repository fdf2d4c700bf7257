"""`kubeprop validate`, `kubeprop check` and the gate's configured checks report the same problems
of a scenario's code references — `admission:`, `controllers:`, `environment.rules:` and
`properties:` entries — all at once, each at its line (trial16, item 1: `validate` admitted a
scenario whose `properties:` entry did not import, and `check` named a `properties:` problem only
once the `controllers:` ones were fixed). A module refused by name is never imported.

Regenerate the golden file after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_code_refs_together.py` and review the diff."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_run import kubeprop, run_gate

from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.properties.modules import property_problem

GOLDEN = Path(__file__).parent / "golden" / "code_refs_together.txt"

SCENARIO = """\
apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: refs}
manifests: []
topology:
  nodes: [{name: w, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}]
admission:
  - kp_refs_missing_admission:PLUGIN
controllers:
  - this:s
  - antigravity:geohash
environment:
  rules: [kp_refs_missing_rules:RULE]
properties:
  - this
  - kp_refs_missing_props
  - not a reference
"""


def _scenario(folder: Path) -> Path:
    path = folder / "refs.yaml"
    path.write_text(SCENARIO)
    return path


def test_validate_check_and_gate_name_every_reference_problem_at_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path)
    text = []
    for argv in (["validate", str(path)], ["check", str(path), "--engine", "bfs", "--budget", "5"]):
        code, out, err = kubeprop(capsys, *argv)
        assert (code, out) == (2, ""), err
        text.append(f"$ kubeprop {argv[0]} refs.yaml  # exit {code}\n{err.replace(str(tmp_path), 'TMP')}")
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks: [{{scenario: {path}, budget: 5, maxDepth: 1}}]\n")
    code, junit, _ = run_gate(tmp_path, config)
    capsys.readouterr()
    errors = [c.find("error") for c in ET.parse(junit).getroot().iter("testcase")]
    gate = "\n".join(e.get("message", "") for e in errors if e is not None).replace(str(tmp_path), "TMP")
    text.append(f"$ kubeprop gate (checks: [{{scenario: refs.yaml}}])  # exit {code}\n{gate}\n")
    golden = "\n".join(text)
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(golden)
    assert golden == GOLDEN.read_text()
    for section in text:  # the same seven problems in each, at their lines
        for field in ("admission[0]", "controllers[0]", "controllers[1]", "environment.rules[0]",
                      "properties[0]", "properties[1]", "properties[2]"):
            assert f":{SCENARIO.splitlines().index(_line_of(field)) + 1}: {field}: " in section, (field, section)


def _line_of(field: str) -> str:
    """The scenario's line holding `field`'s entry, as written."""
    return {"admission[0]": "  - kp_refs_missing_admission:PLUGIN", "controllers[0]": "  - this:s",
            "controllers[1]": "  - antigravity:geohash",
            "environment.rules[0]": "  rules: [kp_refs_missing_rules:RULE]",
            "properties[0]": "  - this", "properties[1]": "  - kp_refs_missing_props",
            "properties[2]": "  - not a reference"}[field]


def test_a_property_module_not_allowed_is_refused_without_importing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scenario under review (`allow_imports`) names a property module it does not allow: the
    loader reports the refusal and never imports it (the module would write a file if it were)."""
    marker = tmp_path / "imported"
    (tmp_path / "kp_refs_marker.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.split("admission:")[0] + "properties: [kp_refs_marker]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, allow_imports=(), properties=property_problem)
    assert [(p.line, p.field) for p in err.value.problems] == [(7, "properties[0]")]
    assert "refusing to import module 'kp_refs_marker'" in err.value.problems[0].message
    assert not marker.exists()
