"""`--out` is checked before any work, and a counterexample file that still cannot be written
keeps its finding (the trial: a violation thrown away for a planted link)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeprop.counterexamples.output import OutputError, check_output_folder
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.main import main

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"
RS_BUG = [str(WEB), "--engine", "bfs", "--variant", "rs-no-expectations", "--property", "replicaset-no-overcreation",
          "--max-depth", "5", "--budget", "60"]


def _exit_code(argv: list[str]) -> int:
    """The command's exit code: `check` refuses a bad `--out` as argparse does (SystemExit), the gate
    with its other output paths, all at once (a return)."""
    try:
        return main(argv)
    except SystemExit as exited:
        return int(exited.code or 0)


def test_check_output_folder_refuses_a_path_under_a_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(OutputError, match=r"plain is a regular file, not a folder"):
        check_output_folder(tmp_path / "plain" / "out")
    with pytest.raises(OutputError, match=r"it is a regular file, not a folder"):
        check_output_folder(tmp_path / "plain")
    check_output_folder(tmp_path / "new")
    assert os.listdir(tmp_path) == ["plain"]  # the probe's folder was removed again
    with pytest.raises(OutputError, match=r"the folder .*/new does not exist; kubeprop creates the output folder "
                                          r"itself, not the folders above it"):  # trial11: not /nonexistent/
        check_output_folder(tmp_path / "new" / "deeper")
    assert os.listdir(tmp_path) == ["plain"]


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs sysfs")
def test_check_output_folder_refuses_a_folder_that_cannot_be_created() -> None:
    with pytest.raises(OutputError, match=r"cannot write /sys/kubeprop-out: cannot create the folder"):
        check_output_folder(Path("/sys/kubeprop-out"))


@pytest.mark.parametrize("command", ["check", "gate"])
def test_an_out_under_a_plain_file_is_bad_input_before_any_work(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain").write_text("x")
    assert _exit_code([command, "--out", str(tmp_path / "plain" / "out")]) == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    assert "argument --out: cannot write" in captured.err and "is a regular file, not a folder" in captured.err
    assert captured.out == ""


def test_a_link_planted_at_the_file_name_keeps_the_violation(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first"
    assert main(["check", *RS_BUG, "--out", str(first)]) == ExitCode.VIOLATION
    capsys.readouterr()
    [written] = first.iterdir()
    shared, victim = tmp_path / "shared", tmp_path / "victim.txt"
    shared.mkdir()
    victim.write_text("not yours")
    (shared / written.name).symlink_to(victim)
    code = main(["check", *RS_BUG, "--out", str(shared)])
    out = capsys.readouterr().out
    assert code == ExitCode.VIOLATION, out
    assert "replicaset-no-overcreation  VIOLATED (5 steps)" in out
    assert f"  not recorded: cannot write {shared / written.name}: it is a symbolic link" in out
    assert "    1. Reconcile(controller=deployment, key=default/web)" in out  # the trace, inline
    assert victim.read_text() == "not yours" and (shared / written.name).is_symlink()


@pytest.mark.parametrize("command", ["check", "gate"])
def test_a_committed_out_link_is_bad_input_naming_it(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 5 (u3/20): a checkout's `kubeprop-out -> /elsewhere` made the gate write its
    counterexample files outside the checkout; the default `--out` was never checked at all."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "kubeprop-out").symlink_to(elsewhere)
    (checkout / "real").mkdir()
    (checkout / "real" / "linked").symlink_to(elsewhere)
    monkeypatch.chdir(checkout)
    for out in ([], ["--out", "kubeprop-out"], ["--out", "kubeprop-out/sub"], ["--out", "real/linked"]):
        assert _exit_code([command, *out, "--budget", "1"]) == ExitCode.BAD_INPUT
        err = capsys.readouterr().err
        assert "argument --out: cannot write " in err and "a symbolic link (to " in err, err
    assert os.listdir(elsewhere) == []


def test_writing_into_a_linked_folder_is_refused(tmp_path: Path) -> None:
    """The API's `save_to` (and a folder swapped for a link after the check) too."""
    from corpus_source import SOURCE

    from kubeprop.counterexamples.format import write
    from kubeprop.counterexamples.format_read import load

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    with pytest.raises(OutputError, match=r"out: it is a symbolic link"):
        write(load(SOURCE), tmp_path / "out")
    assert os.listdir(elsewhere) == []
    write(load(SOURCE), elsewhere)  # the real folder itself is fine
    assert len(os.listdir(elsewhere)) == 1
