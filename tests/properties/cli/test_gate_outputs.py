"""The gate's output paths checked before any work (trial 20, the CI gate user): `--out` naming the
gate's own corpus folder wrote new counterexamples into it, where the next run replayed them as
expected REPRODUCES (unreviewed files joined the corpus silently); `--junit same.xml --summary
same.xml` ran every check, wrote the JUnit file, then exited 2 saying the file was "a file
kubeprop did not write"; `--junit ""` said "cannot write .: it is a directory"."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from corpus_source import SOURCE

from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.main import main

NO_CHECK = "checks:\n  - budget: 30\n    properties: [nonexistent-property]\n"
"""A check the config refuses only once it loads: unused here, every test is refused before."""


def _gate(tmp_path: Path) -> tuple[Path, Path]:
    """A gate config with a corpus folder of one file (`corpus`), and the config's path."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SOURCE, corpus / SOURCE.name)
    config = tmp_path / "gate.yaml"
    config.write_text("corpus: [corpus]\nchecks:\n  - maxDepth: 1\n    budget: 5\n"
                      "    properties: [node-not-overcommitted]\n")
    return config, corpus


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["gate", *args])
    out, err = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT, out + err
    assert "running checks" not in err and out == "", "refused before any work"
    return err


@pytest.mark.parametrize("out", ["corpus", "corpus/", "sub/../corpus", "link", "link/new", "corpus/new"])
def test_out_in_the_gates_own_corpus_is_refused_before_the_run(tmp_path: Path, out: str,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config, corpus = _gate(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to("corpus")
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(corpus))
    err = _refused(["--config", "gate.yaml", "--out", out], capsys)
    where = "is in the" if "new" in out else "is the"
    assert f"argument --out: cannot write into {Path(out)}: it {where} corpus folder corpus (corpus: in gate.yaml), " \
           "whose *.json files the gate replays" in err
    assert "Give --out a folder outside every corpus folder (the default kubeprop-out, say)" in err
    assert sorted(os.listdir(corpus)) == before and config.exists()


def test_out_in_the_builtin_corpus_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builtin = SOURCE.parent
    before = sorted(os.listdir(builtin))
    err = _refused(["--out", str(builtin), "--junit", str(tmp_path / "j.xml")], capsys)
    assert f"argument --out: cannot write into {builtin}: it is the corpus folder {builtin} (the built-in " \
           "corpus)" in err
    assert sorted(os.listdir(builtin)) == before and not (tmp_path / "j.xml").exists()


def test_a_report_file_in_a_corpus_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, corpus = _gate(tmp_path)
    err = _refused(["--config", str(config), "--junit", str(corpus / "j.xml"), "--out", str(tmp_path / "out")],
                   capsys)
    assert f"argument --junit: cannot write {corpus / 'j.xml'}: it is in the corpus folder corpus" in err
    assert not (corpus / "j.xml").exists()


def test_an_out_folder_beside_the_corpus_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal is of the corpus, not of names like it: `corpus-out` and the folder above pass
    the output checks (the run then fails on the unknown property, as a config problem)."""
    config, _ = _gate(tmp_path)
    config.write_text("corpus: [corpus]\n" + NO_CHECK)
    monkeypatch.chdir(tmp_path)
    for out in ("corpus-out", "."):
        assert main(["gate", "--config", "gate.yaml", "--out", out]) == ExitCode.BAD_INPUT
        err = capsys.readouterr().err
        assert "nonexistent-property" in err and "argument --out" not in err


@pytest.mark.parametrize(("flags", "refused", "clash"), [
    (["--junit", "same.xml", "--summary", "same.xml"], "--summary", "--junit names the same path, for the JUnit XML"),
    (["--junit", "same", "--out", "same"], "--junit", "--out names the same path, for the folder for new "
                                                      "counterexample files"),
    (["--summary", "./x/../same.md", "--junit", "same.md"], "--summary", "--junit names the same path"),
])
def test_two_outputs_naming_one_path_are_refused_before_the_run(tmp_path: Path, flags: list[str], refused: str,
                                                                clash: str, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _gate(tmp_path)
    (tmp_path / "x").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    err = _refused(["--config", "gate.yaml", *flags], capsys)
    assert f"argument {refused}: cannot write " in err and clash in err
    assert f"each output needs a path of its own: give {refused} another name" in err
    assert not any(p.name.startswith("same") for p in tmp_path.iterdir())


def test_a_clash_is_told_before_what_the_file_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The trial's second run: same.xml held the JUnit of the first, and --summary was refused as
    "a file kubeprop did not write"; the clash is what to fix."""
    config, _ = _gate(tmp_path)
    same = tmp_path / "same.xml"
    same.write_text("<?xml version='1.0' encoding='utf-8'?>\n<testsuites name=\"kubeprop gate\" tests=\"1\" />\n")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    err = _refused(["--config", str(config), "--junit", str(same), "--summary", str(same)], capsys)
    assert f"argument --summary: cannot write {same}: --junit names the same path" in err
    assert "did not write" not in err and "argument --junit" not in err


def test_the_step_summary_and_junit_on_one_file_name_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = _gate(tmp_path)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "j.xml"))
    err = _refused(["--config", str(config), "--junit", str(tmp_path / "j.xml")], capsys)
    assert "argument --junit: cannot write" in err and "$GITHUB_STEP_SUMMARY names the same path" in err


def test_devices_may_take_several_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = _gate(tmp_path)
    config.write_text("corpus: [corpus]\n" + NO_CHECK)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["gate", "--config", str(config), "--junit", os.devnull, "--summary", os.devnull]) \
        == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "nonexistent-property" in err and "argument --" not in err


@pytest.mark.parametrize(("flag", "valid"), [
    ("--junit", "give a file name (such as --junit junit.xml), or leave the flag out to write no JUnit XML"),
    ("--summary", "give a file name (such as --summary summary.md), or leave the flag out"),
    ("--out", "give a folder for new counterexample files (the default is kubeprop-out)"),
])
def test_an_empty_output_value_is_named_as_empty(tmp_path: Path, flag: str, valid: str,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = _gate(tmp_path)
    monkeypatch.chdir(tmp_path)
    err = _refused(["--config", str(config), flag, ""], capsys)
    assert f"argument {flag}: the value is empty; {valid}" in err and "directory" not in err


@pytest.mark.parametrize(("command", "flag"), [(["gate", "--config"], "--config"), (["replay"], "FILE"),
                                               (["replay", str(SOURCE), "--scenario"], "--scenario"),
                                               (["check", "--out"], "--out")])
def test_an_empty_path_is_not_the_working_folder(command: list[str], flag: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, ""])
    err = capsys.readouterr().err
    assert exited.value.code == ExitCode.BAD_INPUT
    assert f"argument {flag}: the value is empty; give " in err and "directory" not in err


def test_replay_html_empty_is_named_as_empty(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(SOURCE), "--html", ""]) == ExitCode.BAD_INPUT
    out, err = capsys.readouterr()
    assert "argument --html: the value is empty; give a file name for the page" in err and out == ""


def test_a_nul_byte_in_every_output_is_named_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(["--out", "a\0b", "--junit", "a\0b"], capsys)
    assert "argument --out: cannot write a\\0b: the path contains a NUL byte" in err
    assert "argument --junit: cannot write a\\0b: the path contains a NUL byte" in err and "Traceback" not in err
