"""The gate prints a violation's `relies on:` line (report10, trial finding), as `kubeprop check`
prints it under each violation and `kubeprop replay` under the one it replays: in the console
under the case's line, in JUnit at the head of the failure's text (a passing case's
`<system-out>`), and in the Markdown summary's result cell; a case without a violation has none."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kubeprop.properties.cli.gate import case_line
from kubeprop.properties.cli.gate_replay import corpus_case
from kubeprop.properties.cli.gate_report import Case, junit_xml, markdown_summary
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
CORPUS = REPO / "counterexamples" / "corpus"
ALONE = ("relies on: the control plane alone (no fault, no failing probe or container, no time waited out on the "
         "application)")


def test_every_output_shows_the_line() -> None:
    failed = Case("s", "p", "failed", "ReplicaSet owns 3 pods (5 steps)", "counterexample: x.json\n", 1.0, "x.json",
                  "relies on: fault Partition worker-1 at step 22")
    passed = Case("corpus", "a.json", "passed", "REPRODUCES, expected REPRODUCES", relies=ALONE)
    held = Case("s", "q", "passed", "held, exhaustive")
    assert case_line(failed) == ("FAIL s :: p: ReplicaSet owns 3 pods (5 steps)\n"
                                 "       relies on: fault Partition worker-1 at step 22")
    assert case_line(held) == "ok   s :: q: held, exhaustive"
    root = ET.fromstring(junit_xml([failed, passed, held]))
    failure = root.find(".//testcase[@name='p']/failure")
    assert failure is not None and failure.text == ("relies on: fault Partition worker-1 at step 22\n"
                                                    "counterexample: x.json\n\ncounterexample: x.json")
    assert root.findtext(".//testcase[@name='a.json']/system-out") == ALONE + "\n"
    assert root.find(".//testcase[@name='q']/system-out") is None
    rows = markdown_summary([failed, held]).splitlines()
    assert rows[4] == ("| ❌ | `s` | `p` | `ReplicaSet owns 3 pods (5 steps)`<br>"
                       "`relies on: fault Partition worker-1 at step 22` |")
    assert rows[5] == "| ✅ | `s` | `q` | `held, exhaustive` |"


def test_a_corpus_file_that_reproduces_carries_the_replays_line() -> None:
    partition = next(CORPUS.glob("one-running-pod-per-identity-*.json"))
    assert corpus_case(partition, ()).relies == "relies on: fault Partition worker-1 at step 22"
    fixed = CORPUS / "replicaset-no-overcreation-feb3795a6a40.json"
    assert corpus_case(fixed, ()).relies == ""  # PASSES: no violation, no line


def test_a_checks_violation_has_its_line_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "corpus").mkdir()
    fixed = CORPUS / "replicaset-no-overcreation-feb3795a6a40.json"  # a corpus must hold a file: one that PASSES
    (tmp_path / "corpus" / fixed.name).write_text(fixed.read_text())
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\nchecks:\n  - {{scenario: {WEB}, variant: rs-no-expectations, engine: bfs, "
                      "budget: 60, maxDepth: 5, maxStates: 6000, properties: [replicaset-no-overcreation]}\n")
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    code = main(["gate", "--config", str(config), "--junit", str(junit), "--summary", str(summary),
                 "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL "))
    assert lines[at + 1] == f"       {ALONE}"
    failure = ET.parse(junit).getroot().find(".//failure")
    assert failure is not None and (failure.text or "").startswith(ALONE + "\ncounterexample: ")
    assert f"<br>`{ALONE}` |" in summary.read_text()
