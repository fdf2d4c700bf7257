"""The gate's checks from the second trial: empty lists are refused, suites are unique, and a
scenario that does not load is one bad-input case that never quotes the file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from corpus_source import SOURCE

from kubeprop.properties.cli.gate import suite_names
from kubeprop.properties.cli.gate_config import CheckSpec
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
QUICK = "engine: bfs, budget: 5, maxDepth: 1, properties: [node-not-overcommitted]"


def _gate(tmp_path: Path, checks: str) -> tuple[int, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / SOURCE.name).write_text(SOURCE.read_text())
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\n{checks}")
    junit = tmp_path / "junit.xml"
    code = main(["gate", "--config", str(config), "--junit", str(junit), "--out", str(tmp_path / "out")])
    return code, junit


@pytest.mark.parametrize(("checks", "expected"), [
    ("checks: []\n", "gate.yaml:2: checks: lists no check; omit the field for the default"),
    (f"checks:\n  - scenario: {WEB}\n    properties: []\n",
     "gate.yaml:4: checks[0].properties: lists no property; omit the field to check every one"),
])
def test_an_empty_checks_or_properties_list_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       checks: str, expected: str) -> None:
    code, junit = _gate(tmp_path, checks)
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err
    assert not junit.exists()  # refused before any work


def test_suite_names_are_unique_and_keep_their_place() -> None:
    same = CheckSpec(scenario="web.yaml")
    assert suite_names([same, CheckSpec(scenario="web.yaml", engine="walk"), same]) == [
        "web.yaml [correct, bfs] checks[0]", "web.yaml [correct, walk]", "web.yaml [correct, bfs] checks[2]"]
    assert suite_names([CheckSpec()]) == ["feastflow [correct, bfs]"]


def test_two_checks_of_one_scenario_get_two_suites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit = _gate(tmp_path, f"checks:\n  - {{scenario: {WEB}, {QUICK}}}\n  - {{scenario: {WEB}, {QUICK}}}\n")
    assert code == 0, capsys.readouterr().out
    suites = [s.get("name") for s in ET.parse(junit).getroot().iter("testsuite")]
    assert suites == ["corpus", f"{WEB} [correct, bfs] checks[0]", f"{WEB} [correct, bfs] checks[1]"]


def test_a_scenario_that_is_not_one_is_one_bad_input_case_without_its_content(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    code, junit = _gate(tmp_path, f"checks:\n  - {{scenario: {WEB}, {QUICK}}}\n  - scenario: passwd\n")
    out = capsys.readouterr().out
    assert code == 1
    assert "root:x" not in out and "root:x" not in junit.read_text()
    errors = [line for line in out.splitlines() if line.startswith("ERR")]
    assert errors == [f"ERR  passwd [correct, bfs] :: scenario: bad input: checks[1].scenario passwd: {secret}:1: "
                      "not a scenario file: expected a YAML mapping with apiVersion and kind (a kind: Scenario "
                      "document, or manifests), got a string of 79 characters in document 1"]
    assert "crashed" not in out


def test_a_scenario_with_a_bad_field_is_one_case_naming_file_line_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\ntopology: 7\n")
    code, _ = _gate(tmp_path, "checks:\n  - scenario: bad.yaml\n")
    out = capsys.readouterr().out
    assert code == 1
    [error] = [line for line in out.splitlines() if line.startswith("ERR")]
    assert error.startswith(f"ERR  bad.yaml [correct, bfs] :: scenario: bad input: checks[0].scenario bad.yaml: "
                            f"{bad}:4: topology: ")


def test_a_corpus_file_refused_an_import_says_how_in_the_gates_words(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import json

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data = json.loads(SOURCE.read_text())
    data["property"] = {**data["property"], "name": "team-property", "module": "kp_team_props"}
    (corpus / "team.json").write_text(json.dumps(data))
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\nchecks:\n  - {{scenario: {WEB}, {QUICK}}}\n")
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    [error] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ERR")]
    assert error.endswith("if you trust it, allow it by name: list it under the gate config's allowImports: "
                          "[kp_team_props]")
