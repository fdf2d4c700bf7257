"""The gate fails closed whatever a corpus file does, and refuses configs that would check nothing
(issue 15, items 1, 2, 4 and 5)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import run_gate
from corpus_source import SOURCE, edited, with_admission

from kubeprop.properties.cli.gate_config import BUILTIN_CORPUS
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
CHECK = f"checks: [{{scenario: {WEB}, budget: 5, maxDepth: 1, properties: [node-not-overcommitted]}}]\n"

MODULES = {
    "kp_gate_exiter": "import os\nos._exit(0)\n",
    # faulthandler off: no crash report in the test log
    "kp_gate_aborter": "import faulthandler\nimport os\nfaulthandler.disable()\nos.abort()\n",
    "kp_gate_hanger": "import time\nwhile True:\n    time.sleep(1)\n",
    "kp_gate_sysexit": "import sys\nsys.exit(0)\n",
}


def _corpus_file(folder: Path, name: str, module: str) -> None:
    edited(folder, with_admission(f"{module}:PLUGIN"), name, indent=None)


def test_corpus_files_that_exit_abort_or_hang_fail_the_gate_with_reasons(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    mods = tmp_path / "mods"
    mods.mkdir()
    for name, text in MODULES.items():
        (mods / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(mods))  # the forked replays inherit the import path
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in [*MODULES, "kp_gate_unallowed"]:
        _corpus_file(corpus, f"{name}.json", name)
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\nallowImports: [{', '.join(MODULES)}]\nreplayTimeout: 3\n{CHECK}")
    code, junit, summary = run_gate(tmp_path, config)
    out = capsys.readouterr().out
    assert code == 1, out
    reasons = {c.get("name"): c.find("error").get("message")  # type: ignore[union-attr]
               for c in ET.parse(junit).getroot().iter("testcase") if c.find("error") is not None}
    assert reasons["kp_gate_exiter.json"] == "the replay process exited with code 0 without a verdict"
    assert reasons["kp_gate_aborter.json"] == "the replay process was killed by SIGABRT"
    assert reasons["kp_gate_hanger.json"] == "the replay did not finish within 3 s (replayTimeout) and was killed"
    assert "calling it failed" in reasons["kp_gate_sysexit.json"] or "SystemExit" in reasons["kp_gate_sysexit.json"]
    assert "refusing to import module named in a file under review: 'kp_gate_unallowed' (" in reasons[
        "kp_gate_unallowed.json"]
    assert "FAILED" in summary.read_text()
    assert "gate: 1 of 6 cases held; FAILED" in out
    assert "kp_gate_exiter" not in sys.modules  # the parent never imported anything a corpus file named


def _config_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    (tmp_path / "empty").mkdir(exist_ok=True)
    (tmp_path / "good").mkdir(exist_ok=True)
    (tmp_path / "good" / SOURCE.name).write_text(SOURCE.read_text())
    config = tmp_path / "gate.yaml"
    config.write_text(text)
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    return capsys.readouterr().err.splitlines()[1:]


def test_a_config_that_would_check_nothing_is_refused_with_every_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if any(Path("/etc").glob("*.json")):
        pytest.skip("this machine's /etc holds *.json files")
    found = _config_problems(tmp_path, capsys, (
        "corpus: [corpsu, /etc, empty, gate.yaml]\n"
        "replayTimeout: .nan\n"
        "checks:\n"
        "  - {budget: -5, maxDepth: -1, parameters: {maxEndpointsPerSlice: 0}, properties: [nope]}\n"
        "  - {budget: .nan, variant: broken, scenario: missing.yaml}\n"))
    config = tmp_path / "gate.yaml"
    assert found == [
        f"{config}:1: corpus[0]: no such folder: {tmp_path / 'corpsu'}",
        f"{config}:1: corpus[1]: /etc holds no counterexample files (*.json); a gate that replays nothing fails",
        f"{config}:1: corpus[2]: {tmp_path / 'empty'} holds no counterexample files (*.json); a gate that replays "
        "nothing fails",
        f"{config}:1: corpus[3]: {config} is a regular file, expected a folder of counterexample files",
        f"{config}:2: replayTimeout: must be a positive number of seconds up to 10,000,000, got nan",
        f"{config}:4: checks[0].budget: must be a positive number of seconds up to 10,000,000, got -5.0",
        f"{config}:4: checks[0].maxDepth: must be between 1 and 1,000,000, got -1",
        f"{config}:4: checks[0].parameters.maxEndpointsPerSlice: must be between 1 and 1000, got 0",
        f"{config}:4: checks[0].properties[0]: unknown property 'nope'; valid: " + found[8].split("valid: ", 1)[1],
        f"{config}:5: checks[1].variant: unknown variant; valid: " + found[9].split("valid: ", 1)[1],
        f"{config}:5: checks[1].budget: must be a positive number of seconds up to 10,000,000, got nan",
        f"{config}:5: checks[1].scenario: no such file or folder: {tmp_path / 'missing.yaml'}",
    ]


def test_problems_come_in_line_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the user trial: a decoding problem (line 5) came before the checks' (lines 1, 2, 4)
    found = _config_problems(tmp_path, capsys, (
        "corpus: [corpsu]\n"
        "replayTimeout: -5\n"
        "checks:\n"
        "  - engine: bfss\n"
        "    budget: ten\n"
        "  - scenaro: x.yaml\n"))
    lines = [int(line.split(":")[1]) for line in found]
    assert lines == [1, 2, 4, 5, 6]


def test_unknown_property_names_and_property_modules_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        module_on_path: Callable[[str, str], Path]) -> None:
    module_on_path("kp_gate_props", "from kubeprop.properties.registry import safety\n\n"
                                    "@safety('team-rule', 'A team rule.', 'team')\n"
                                    "def team_rule(model, state):\n    return None\n")
    found = _config_problems(tmp_path, capsys, (
        f"corpus: [{tmp_path / 'good'}]\n"
        "checks:\n"
        f"  - {{scenario: {WEB}, properties: [node-not-overcomitted, team-rule], propertyModules: [kp_gate_props]}}\n"
        f"  - {{scenario: {WEB}, properties: [team-rule], propertyModules: [nope_mod, kp_gate_props]}}\n"
        "  - {properties: [xyzzy]}\n"))
    config = tmp_path / "gate.yaml"
    assert found[0].startswith(f"{config}:3: checks[0].properties[0]: unknown property 'node-not-overcomitted'; "
                               "did you mean 'node-not-overcommitted'? valid: ")
    assert "team-rule" in found[0]  # the property module's own names are valid
    # a module that does not load: its names cannot be judged, so only the module is reported
    assert found[1] == (f"{config}:4: checks[1].propertyModules[0]: cannot import 'nope_mod': No module named "
                        "'nope_mod' (is its folder on PYTHONPATH?)")
    assert found[2].startswith(f"{config}:5: checks[2].properties[0]: unknown property 'xyzzy'; valid: ")
    assert len(found) == 3


def test_a_boolean_parameter_written_as_yes_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _config_problems(tmp_path, capsys, f"corpus: [{tmp_path / 'good'}]\nchecks:\n"
                                               "  - parameters: {instantCaches: on, leaderElection: false}\n")
    assert found == [f"{tmp_path / 'gate.yaml'}:3: checks[0].parameters.instantCaches: must be true or false, got "
                     "'on' (YAML 1.1 reads it as true; write true or false)"]


def test_an_empty_corpus_list_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _config_problems(tmp_path, capsys, "corpus: []\n" + CHECK)
    assert found == [f"{tmp_path / 'gate.yaml'}:1: corpus: lists no folder; omit the field for the built-in corpus"]


def test_the_built_in_corpus_is_found() -> None:
    assert len(list(BUILTIN_CORPUS.glob("*.json"))) >= 5


@pytest.mark.parametrize("where", ["junit", "summary", "env", "input"])
def test_outputs_are_checked_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], where: str) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / SOURCE.name).write_text(SOURCE.read_text())
    config = tmp_path / "gate.yaml"
    config.write_text("corpus: [good]\n" + CHECK)
    argv = ["gate", "--config", str(config), "--budget", "1"]
    if where == "env":
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", ".")
    elif where == "input":
        argv += ["--junit", str(tmp_path / "good" / SOURCE.name)]
    else:
        argv += [f"--{where}", str(tmp_path)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "cannot write" in captured.err and captured.out == ""  # refused before any case ran
    assert (tmp_path / "good" / SOURCE.name).read_text() == SOURCE.read_text()


@pytest.mark.parametrize("budget", ["nan", "inf", "-1", "0", "1e400"])
def test_gate_budget_must_be_finite_and_positive(budget: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:  # refused as the flag is read, as check's --budget is
        main(["gate", "--budget", budget])
    assert info.value.code == 2
    assert f"argument --budget: must be a positive number of seconds up to 10,000,000, got '{budget}'" in (
        capsys.readouterr().err)  # what was typed, not `inf` or `-1.0`


def test_report_text_from_corpus_files_cannot_shape_the_summary_or_break_the_xml() -> None:
    from kubeprop.properties.cli.gate_report import Case, junit_xml, markdown_summary

    name = "a.json\n\n## kubeprop gate: PASSED (9/9 held)\n<img src=https://evil.example/x.png>\u202e\t"
    message = "FAILED | [click here](https://evil.example) ``x`` \x00\x1b[2J\ud800"
    cases = [Case("corpus", name, "failed", message, "detail \x07 end\r\n\u202eline 2")]
    summary = markdown_summary(cases)
    [heading, _, _, _, row] = summary.splitlines()
    assert heading == "## kubeprop gate: FAILED (0/1 held)"
    assert row.startswith("| ❌ | `corpus` | `a.json\\x0a\\x0a## kubeprop gate: PASSED (9/9 held)\\x0a<img "
                          "src=https://evil.example/x.png>\\u202e\\x09` | ")
    assert "| ```FAILED \\| [click here](https://evil.example) ``x`` \\x00\\x1b[2J\\ud800``` |" in row
    root = ET.fromstring(junit_xml(cases).encode())  # a NUL or ESC in XML 1.0 would be a parse error
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == ("a.json\\x0a\\x0a## kubeprop gate: PASSED (9/9 held)\\x0a"
                                                     "<img src=https://evil.example/x.png>\\u202e\\x09")
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == message.replace("\x00", "\\x00").replace(
        "\x1b", "\\x1b").replace("\ud800", "\\ud800")
    assert failure.text == "detail \\x07 end\\x0d\n\\u202eline 2"  # a trace keeps its lines, nothing else


def test_a_corpus_folders_other_entries_are_shown_and_a_misnamed_counterexample_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SOURCE.name).write_text(SOURCE.read_text())
    (corpus / "README.md").write_text("reviewed files\n")
    (corpus / "old").mkdir()
    config = tmp_path / "gate.yaml"
    config.write_text("corpus: [corpus]\n" + CHECK)
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    assert main(["gate", "--config", str(config), "--junit", str(junit), "--summary", str(summary),
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    # trial 8 (B1): the skipped entries were counted as held ("4 of 4 cases held")
    assert out.splitlines()[-1] == ("gate: 2 of 2 cases held, 2 skipped (not counterexample files: see their "
                                    "lines); PASSED")
    assert summary.read_text().startswith("## kubeprop gate: PASSED (2/2 held, 2 skipped)\n")
    assert "skip corpus :: README.md: not replayed: only *.json files in a corpus folder are counterexample " \
           "files" in out
    assert "skip corpus :: old: not replayed: a folder (corpus folders are not read recursively; list it under " \
           "corpus:)" in out
    assert len(ET.parse(junit).getroot().findall("testsuite/testcase/skipped")) == 2
    (corpus / "known-bug.JSON").write_text(SOURCE.read_text())  # replayed by nothing: the gate must not pass
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    assert "ERR  corpus :: known-bug.JSON: named like a counterexample file but not *.json, so it is not " \
           "replayed: rename it to end in .json" in capsys.readouterr().out


@pytest.mark.parametrize("engine", ["walk", "portfolio"])
def test_a_check_that_took_no_step_fails_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  engine: str) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [{REPO / 'counterexamples' / 'corpus'}]\n"
                      f"checks: [{{scenario: {WEB}, engine: {engine}, budget: 5, "
                      "properties: [node-not-overcommitted]}]\n")
    assert main(["gate", "--config", str(config), "--budget", "1e-9", "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {WEB} [correct, {engine}] :: node-not-overcommitted: inconclusive: the check took no step " \
           "within its budget (1e-09 s); nothing was checked" in out
