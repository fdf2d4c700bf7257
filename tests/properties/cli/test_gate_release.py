"""Trial 17: a corpus file recorded under a v1.31 scenario replays under it, whatever the checks run
on; the gate says so (`replays under:`) and notes a check's scenario of the same name that differs
(`scenario differs:`), in the log, the summary and JUnit `<property>` elements — verdicts unchanged.
And `kubeprop check`'s header names the parameters a scenario sets that are not the defaults."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from catalogue_searches import rs_search

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.trace import record
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.gate_config import load_config
from kubeprop.properties.cli.gate_replay import corpus_case, linked_scenarios
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
VARIANTS = REPO / "tests" / "model" / "data" / "variants"
V131 = "parameters:\n  nodeMonitorGracePeriodSeconds: 40\n  orderedNamespaceDeletion: false\n"
DIFFERS = ("scenario differs: its own scenario web, which it replays under, differs from checks[0] web-v131.yaml "
           "(same name): parameters nodeMonitorGracePeriodSeconds 40 → 50 (default), orderedNamespaceDeletion "
           "false → true (default)")
UNDER = ("replays under: nodeMonitorGracePeriodSeconds=40, orderedNamespaceDeletion=false (from the file's own "
         "scenario, written from ")


def _scenario(folder: Path, extra: str) -> Path:
    if not (folder / "web").exists():
        shutil.copytree(VARIANTS / "web", folder / "web")
    path = folder / "web-v131.yaml"
    path.write_text((VARIANTS / "web.yaml").read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.fixture(name="gate")
def gate_fixture(tmp_path: Path) -> Path:
    """A gate config whose corpus holds a file recorded under web-v131.yaml, then edited to v1.33."""
    scenario = _scenario(tmp_path, V131)
    model = build_model(load_scenario(scenario), variant="rs-no-expectations")
    report = rs_search(model)
    assert report.violation is not None
    write(record(model, report.trace, report.violation, engine="bfs"), tmp_path / "corpus")
    _scenario(tmp_path, "")  # the team moves its scenario to v1.33
    config = tmp_path / "gate.yaml"
    config.write_text("corpus: [corpus]\nchecks:\n  - {scenario: web-v131.yaml, engine: bfs, budget: 5, maxDepth: 2, "
                      "properties: [replicaset-no-overcreation]}\n", encoding="utf-8")
    return config


def test_the_gate_says_which_scenario_a_corpus_file_replays_under(gate: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    code = main(["gate", "--config", str(gate), "--junit", str(junit), "--summary", str(summary),
                 "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().out.splitlines()
    assert code == ExitCode.OK  # REPRODUCES, as the file expects: the notes change no verdict
    at = next(i for i, line in enumerate(lines) if line.startswith("ok   corpus :: "))
    assert "REPRODUCES, expected REPRODUCES" in lines[at]
    assert lines[at + 2].startswith(f"       {UNDER}") and lines[at + 3] == f"       {DIFFERS}"
    properties = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert f"scenario differs: {properties['scenario differs']}" == DIFFERS
    assert f"replays under: {properties['replays under']}".startswith(UNDER)
    assert f"<br>`{DIFFERS}` |" in summary.read_text(encoding="utf-8")


def test_no_note_when_the_checks_scenario_is_the_files(gate: Path, tmp_path: Path) -> None:
    _scenario(tmp_path, V131)  # back to the scenario the file was recorded from
    config, base = load_config(gate)
    case = corpus_case(next((tmp_path / "corpus").glob("*.json")), (), linked_scenarios(config, base))
    assert [label for label, _ in case.notes] == ["replays under"]


def test_the_check_header_names_the_scenarios_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _scenario(tmp_path, V131 + "variant: rs-no-expectations\n")
    main(["check", str(scenario), "--engine", "walk", "--budget", "1e-9", "--out", str(tmp_path / "out")])
    assert capsys.readouterr().out.splitlines()[0] == (
        "kubeprop check: scenario web, variant rs-no-expectations, parameters nodeMonitorGracePeriodSeconds=40, "
        "orderedNamespaceDeletion=false")
