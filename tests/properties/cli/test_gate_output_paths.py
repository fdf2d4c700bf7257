"""Output paths create no folder the user did not ask kubeprop to own, and the gate names every bad
one at once (trial 11, the CI gate user: `gate --junit /nonexistent/x.xml` created `/nonexistent/`
at the file system's root, and with two bad output paths the gate named only the first)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus_source import SOURCE

from kubeprop.counterexamples.output import OutputError, write_text
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.main import main


def test_an_output_file_in_a_missing_folder_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"x\.xml: the folder .*/gone does not exist; kubeprop creates no folder "
                                          r"for an output file"):
        write_text(tmp_path / "gone" / "deeper" / "x.xml", "<x/>")
    assert os.listdir(tmp_path) == []


def test_the_gate_names_every_bad_output_path_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "plain").write_text("x")
    code = main(["gate", "--junit", str(tmp_path / "gone" / "x.xml"), "--summary", str(tmp_path / "plain" / "s.md"),
                 "--out", str(tmp_path / "gone" / "sub" / "out"), "--budget", "1"])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert f"argument --out: cannot write {tmp_path / 'gone' / 'sub' / 'out'}: the folder {tmp_path / 'gone'} does " \
           "not exist" in err
    assert f"argument --junit: cannot write {tmp_path / 'gone' / 'x.xml'}: the folder {tmp_path / 'gone'} does not " \
           "exist; kubeprop creates no folder for an output file" in err
    assert f"argument --summary: cannot write {tmp_path / 'plain' / 's.md'}: " in err
    assert sorted(os.listdir(tmp_path)) == ["plain"]


def test_a_bad_config_and_a_bad_output_path_are_named_together(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text("checks: []\n")
    assert main(["gate", "--config", str(config), "--junit", str(config)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "checks: lists no check" in err and f"argument --junit: cannot write {config}: it is the input file" in err


def test_replay_html_in_a_missing_folder_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(SOURCE), "--html", str(tmp_path / "gone" / "page.html")]) == ExitCode.BAD_INPUT
    assert "the folder" in capsys.readouterr().err and os.listdir(tmp_path) == []


def test_check_out_creates_its_folder_but_not_the_ones_above(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--out", str(tmp_path / "gone" / "out")])
    assert exited.value.code == ExitCode.BAD_INPUT
    assert "argument --out: cannot write" in capsys.readouterr().err and os.listdir(tmp_path) == []
