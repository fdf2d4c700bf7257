"""The gate reports a property that could not have failed in its check's scenario as vacuous, as
`kubeprop check` does — never "held" — in its log, JUnit and summary; it passes unless the check
says `vacuous: fail` (trial 3: `variant: sts-split-brain` on manifests without faults printed
"ok … held, bounded" and PASSED)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_run import run_gate
from corpus_source import SOURCE

from kubeprop.properties.cli.gate_report import code_span

REPO = Path(__file__).resolve().parents[3]
DB = REPO / "tests" / "model" / "data" / "variants" / "db-restart.yaml"
SUITE = f"{DB} [sts-split-brain, bfs]"
NO_FAULT = "variant sts-split-brain cannot show: no fault budget for nodeCrash or partition (scenario `faults:`)"
VACUOUS_VARIANT = f"vacuous: {NO_FAULT}"
VACUOUS_RS = ("vacuous: no ReplicaSet can exist (not in the manifests or workload steps, nor made by a built-in "
               "controller)")


def _gate(tmp_path: Path, check: str) -> tuple[int, Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / SOURCE.name).write_text(SOURCE.read_text())
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\nchecks:\n  - {{scenario: {DB}, variant: sts-split-brain, "
                      f"engine: bfs, budget: 10, maxDepth: 1, {check}}}\n")
    return run_gate(tmp_path, config)


def test_a_vacuous_property_is_a_warning_in_the_log_junit_and_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit, summary = _gate(tmp_path, "properties: [node-not-overcommitted, one-running-pod-per-identity, "
                                           "replicaset-no-overcreation]")
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert f"ok   {SUITE} :: node-not-overcommitted: held, bounded (depth-bound)" in lines
    assert f"WARN {SUITE} :: one-running-pod-per-identity: {VACUOUS_VARIANT}" in lines  # the variant's
    assert f"WARN {SUITE} :: replicaset-no-overcreation: {VACUOUS_RS}" in lines  # its own
    assert f"warning: {SUITE}: {NO_FAULT}" in lines
    assert lines[-1] == "gate: 2 of 4 cases held, 2 vacuous (could not have failed here: see their reasons); PASSED"

    [suite] = [s for s in ET.parse(junit).getroot().iter("testsuite") if s.get("name") == SUITE]
    assert (suite.get("tests"), suite.get("skipped"), suite.get("failures")) == ("3", "2", "0")
    assert [s.get("message") for s in suite.iter("skipped")] == [VACUOUS_VARIANT, VACUOUS_RS]
    assert suite.findtext("system-out") == f"warning: {NO_FAULT}\n"

    text = summary.read_text()
    assert text.startswith("## kubeprop gate: PASSED (2/4 held, 2 vacuous)\n")
    assert f"| ⚠️ | `{SUITE}` | `replicaset-no-overcreation` | `{VACUOUS_RS}` |" in text
    assert f"- ⚠️ `{SUITE}`: {code_span(NO_FAULT)}" in text  # ``…`faults:`…``: a backtick inside


def test_vacuous_fail_fails_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit, summary = _gate(tmp_path, "properties: [one-running-pod-per-identity], vacuous: fail")
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"FAIL {SUITE} :: one-running-pod-per-identity: {VACUOUS_VARIANT} (vacuous: fail)" in out.splitlines()
    assert out.splitlines()[-1] == "gate: 1 of 2 cases held; FAILED"
    failures = [f.get("message") for f in ET.parse(junit).getroot().iter("failure")]
    assert failures == [f"{VACUOUS_VARIANT} (vacuous: fail)"]  # one failure: no extra case for the variant
    assert summary.read_text().startswith("## kubeprop gate: FAILED (1/2 held)\n")


def test_vacuous_fail_fails_a_check_whose_variant_cannot_show(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """No property checked is one the variant is caught by, yet the check as a whole is vacuous."""
    code, _, _ = _gate(tmp_path, "properties: [node-not-overcommitted], vacuous: fail")
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"FAIL {SUITE} :: variant sts-split-brain: {VACUOUS_VARIANT} (vacuous: fail)" in out.splitlines()
    assert f"ok   {SUITE} :: node-not-overcommitted: held, bounded (depth-bound)" in out.splitlines()


def test_vacuous_takes_warn_or_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit, _ = _gate(tmp_path, "vacuous: ignore")
    assert code == 2
    assert "gate.yaml:3: checks[0].vacuous: must be one of: warn, fail" in capsys.readouterr().err
    assert not junit.exists()
