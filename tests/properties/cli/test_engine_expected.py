"""The engines table's `expected` line is the run a user expects, which around, perturb and
faults share, not an engine (trial 10: a user read it as one, and `--engine expected` was refused
without a word on what it is). Its line says so, and so does the refusal (golden)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_run import kubeprop

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"
REFUSAL = ("kubeprop check: bad input:\nargument --engine: 'expected' is the run a user expects, which around, "
           "perturb and faults share as their start (the engines table's 'expected' line: its steps are counted "
           "once), not an engine of its own; --engine around follows it first\n(try 'kubeprop check --help')\n")


def test_engine_expected_is_refused_saying_what_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        kubeprop(capsys, "check", str(WEB), "--engine", "expected")
    assert exited.value.code == 2 and capsys.readouterr().err == REFUSAL


def test_the_expected_line_of_the_engines_table_says_it_is_no_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "check", str(WEB), "--workers", "1", "--budget", "8", "--property",
                            "node-not-overcommitted", "--out", str(tmp_path), "--progress", "none")
    assert code == 0, out
    assert re.search(r"\n    expected    runs-done: .* \(the run a user expects, computed once for around, perturb, "
                     r"faults; their shared start, not an engine of its own: --engine around follows it first\)\n",
                     out), out
