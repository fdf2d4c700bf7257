"""The command's shell: --version, `python -m`, and which errors map to which exit code."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from kubeprop.model.errors import InputError, UnknownName
from kubeprop.properties.cli import main as cli
from kubeprop.properties.cli import validate as validate_cmd
from kubeprop.properties.cli.exit_codes import ExitCode


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"kubeprop {metadata.version('kubeprop')}"


def test_python_dash_m() -> None:
    done = subprocess.run([sys.executable, "-m", "kubeprop.properties.cli", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("kubeprop ")


@pytest.mark.parametrize(("error", "code"), [
    (InputError("scenario.yaml:3: spec.replicas: must be an integer"), ExitCode.BAD_INPUT),
    (UnknownName("unknown property 'x'; valid: a, b"), ExitCode.BAD_INPUT),
    (KeyError("a bug in the model"), ExitCode.INTERNAL),
    (ValueError("a bug in an engine"), ExitCode.INTERNAL),
])
def test_only_input_errors_are_bad_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         error: Exception, code: ExitCode) -> None:
    def boom(*_args: object) -> int:
        raise error

    monkeypatch.setattr(validate_cmd, "run_validate", boom)
    assert cli.main(["validate"]) == code
    err = capsys.readouterr().err
    assert ("internal error" in err) == (code == ExitCode.INTERNAL)
    assert "Traceback" not in err


def test_a_usage_error_is_bad_input_and_a_hint_without_the_synopsis(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["check", "--engine", "bfss"])
    assert info.value.code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "kubeprop check: bad input:",
        "argument --engine: invalid choice: 'bfss' (choose from 'portfolio', 'around', "
        "'faults', 'perturb', 'pct', 'bfs', 'walk', 'hypothesis', 'all', 'lasso', 'lasso-exhaustive')",
        "(try 'kubeprop check --help')",
    ]


@pytest.mark.parametrize(("argv", "problem"), [
    (["gate", "--budget", "1e400"], "argument --budget: must be a positive number of seconds up to 10,000,000, "
                                    "got '1e400'"),
    (["gate", "--budget=-1"], "argument --budget: must be a positive number of seconds up to 10,000,000, got '-1'"),
    (["check", "--budget", "1e400"], "argument --budget: must be a positive number of seconds up to 10,000,000, "
                                     "got '1e400'"),
])
def test_every_flag_error_has_one_style_and_echoes_what_was_typed(
        capsys: pytest.CaptureFixture[str], argv: list[str], problem: str) -> None:
    """Trial 3: the gate said `--budget inf` for 1e400 and `-1.0` for -1, under `bad input:`, while
    check said `error: argument --budget:`; now both say what the user typed, in one style."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == ExitCode.BAD_INPUT
    assert capsys.readouterr().err.splitlines() == [f"kubeprop {argv[0]}: bad input:", problem,
                                                   f"(try 'kubeprop {argv[0]} --help')"]


@pytest.mark.parametrize(("argv", "problem"), [
    (["schedule", "--rlimit", "-1"], "--rlimit -1: must be a positive number of Z3 resource units"),
    (["raft", "--servers", "3", "--down", "s9"], "--down: unknown member 's9'; valid: s1, s2, s3"),
    (["raft", "--max-down", "5"], "--max-down 5: must be 0..2 (fewer than the 3 members)"),
])
def test_bad_input_found_after_parsing_has_the_same_style(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                          problem: str) -> None:
    assert cli.main(argv) == ExitCode.BAD_INPUT
    assert capsys.readouterr().err.splitlines() == [f"kubeprop {argv[0]}: bad input:", problem]
