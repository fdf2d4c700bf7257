"""`kubeprop gate` says what its BFS's "held" covers under a depth bound and takes `--no-reduction`,
as `kubeprop check` does (`tests/properties/cli/test_reduced_depth.py`): the same warning and the
same flag, from the same code (`check_table.reduced_depth`, `check.add_reduction_argument`). The
scenario's ample set at the start is `Quiesce` alone, so its one-step counterexample lies two deep
in the reduced search; `maxDepth: 1` then "holds" unless the reduction is off."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import run_gate
from corpus_source import SOURCE
from user_modules import user_folder

from kubeprop.properties.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "explore" / "data" / "reduced-depth"
SUITE = f"{DATA / 'scenario.yaml'} [correct, bfs]"
WARNING = (f"warning: {SUITE}: bfs: 'held, bounded (depth-bound)' means held within depth 1 of the reduced search: "
           "partial-order reduction (ample sets) took only some of the enabled actions at 1 state, so a state "
           "within 1 step of the start may lie deeper in it and go unchecked; --no-reduction checks every state "
           "within the depth")


@pytest.fixture(autouse=True)
def on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _config(tmp_path: Path, properties: str = "[workload-not-started]") -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / SOURCE.name).write_text(SOURCE.read_text())
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus]\nchecks:\n  - {{scenario: {DATA / 'scenario.yaml'}, engine: bfs, "
                      f"budget: 30, maxDepth: 1, propertyModules: [depth_properties], properties: {properties}}}\n")
    return config


def test_a_narrowed_depth_bound_warns_in_the_log_junit_and_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit, summary = run_gate(tmp_path, _config(tmp_path))
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"ok   {SUITE} :: workload-not-started: held, bounded (depth-bound)" in out
    assert WARNING + "\n" in out
    [suite] = [s for s in ET.parse(junit).getroot().iter("testsuite") if s.get("name") == SUITE]
    assert suite.findtext("system-out") == f"warning: {WARNING.removeprefix(f'warning: {SUITE}: ')}\n"
    assert "held within depth 1 of the reduced search" in summary.read_text()


def test_no_reduction_checks_every_state_within_the_depth(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    code = main(["gate", "--config", str(config), "--no-reduction", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"FAIL {SUITE} :: workload-not-started: " in out and "(1 step)" in out
    assert "reduced search" not in out


def test_no_warning_where_the_reduction_narrowed_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Convergence properties judged: no ample sets, so the bounded "held" covers every state."""
    code, _, _ = run_gate(tmp_path, _config(tmp_path, "[workload-not-started, deployments-complete]"))
    out = capsys.readouterr().out
    assert "reduced search" not in out, out
    assert code in (0, 1)


@pytest.mark.parametrize("flag", ["--no-reduction=yes", "--no-reduction=false", "--reduction"])
def test_a_bad_flag_is_bad_input(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The flag takes no value, and there is no `--reduction`: exit 2, the flag named, no traceback."""
    with pytest.raises(SystemExit) as exited:
        main(["gate", flag])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("kubeprop gate: bad input:") or err.startswith("kubeprop: bad input:"), err
    assert "--no-reduction" in err or "--reduction" in err
    assert "Traceback" not in err


def test_help_names_the_flag_as_check_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["gate", "--help"])
    gate = " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    check = " ".join(capsys.readouterr().out.split())
    shared = ("the BFS without partial-order reduction: every state within {}, shortest counterexamples (more "
              "transitions; the reduction's ample sets may reach a state only deeper, so a depth bound covers "
              "fewer states)")
    assert shared.format("each check's maxDepth") in gate
    assert shared.format("--max-depth") in check
