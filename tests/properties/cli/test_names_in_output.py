"""A file name is data: a line feed or a bidi override in it cannot forge a line of the gate's log,
its JUnit or its summary, nor of `kubeprop replay` (the trial's log injection)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_run import run_gate
from corpus_source import SOURCE

from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
FORGED = "x.json: ok\n\ngate: 40 of 40 cases held; PASSED\n\n\u202e.json"
SHOWN = "x.json: ok\\x0a\\x0agate: 40 of 40 cases held; PASSED\\x0a\\x0a\\u202e.json"


def _forged_corpus(tmp_path: Path) -> Path:
    """The corpus's `passes` file (the correct model) flipped to `reproduces`: it replays, and fails."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    [fixed] = [p for p in sorted(SOURCE.parent.glob("*.json")) if '"expectation": "passes"' in p.read_text()]
    data = fixed.read_text().replace('"expectation": "passes"', '"expectation": "reproduces"')
    (corpus / FORGED).write_text(data)
    return corpus


def test_a_file_name_cannot_forge_a_line_of_the_gate_log_junit_or_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _forged_corpus(tmp_path)
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\nchecks: [{{scenario: {WEB}, budget: 5, maxDepth: 1, "
                      "properties: [node-not-overcommitted]}]\n")
    code, junit, summary = run_gate(tmp_path, config)
    out = capsys.readouterr().out
    assert code == 1, out
    lines = out.splitlines()
    assert not any(line.startswith("gate: 40 of 40") for line in lines), out
    assert any(line.startswith(f"FAIL corpus :: {SHOWN}: ") for line in lines), out
    assert lines[-1].endswith("FAILED")
    names = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert SHOWN in names
    text = summary.read_text()
    assert "\u202e" not in text and f"`{SHOWN}`" in text


def test_replay_shows_a_forged_name_on_one_line_and_a_command_that_names_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _forged_corpus(tmp_path) / FORGED
    main(["replay", str(path), "--html", str(tmp_path / "page.html")])
    out = capsys.readouterr().out
    page = (tmp_path / "page.html").read_text()
    assert "\u202e" not in page and f"{tmp_path}/corpus/{SHOWN}" in page
    assert "\u202e" not in out and "\ngate: 40" not in out
    assert f"counterexample  {tmp_path}/corpus/{SHOWN}\n" in out
    assert f"reproduce with: kubeprop replay $'{tmp_path}/corpus/{SHOWN}'\n" in out
    assert any(line.startswith(("PASSES", "REPRODUCES")) and SHOWN in line for line in out.splitlines())


def test_a_bad_input_error_shows_the_file_name_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad\n\nkubeprop replay: all good.json"
    path.write_text("{}")
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad\\x0a\\x0akubeprop replay: all good.json" in err
    assert "\nkubeprop replay: all good" not in err


def test_validate_shows_a_manifest_file_name_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mf"
    folder.mkdir()
    manifests = REPO / "examples" / "team_properties" / "manifests"
    for source in manifests.iterdir():
        name = "a\nFORGED LINE\n.yaml" if source.name == "app.yaml" else source.name
        (folder / name).write_text(source.read_text())
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "\nFORGED LINE" not in out
    assert "a\\x0aFORGED LINE\\x0a.yaml:" in out
