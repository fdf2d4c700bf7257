"""Running the `kubeprop` command line in-process, for the tests of its commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main


def kubeprop(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`kubeprop ARGV…` in this process: its exit code and what it printed to stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_gate(folder: Path, config: Path) -> tuple[int, Path, Path]:
    """`kubeprop gate --config CONFIG` in this process, its JUnit report, Markdown summary and
    counterexample files going into `folder` (junit.xml, summary.md, out/): its exit code and the
    reports' paths. What it printed stays captured for the test to read."""
    junit, summary = folder / "junit.xml", folder / "summary.md"
    code = main(["gate", "--config", str(config), "--junit", str(junit), "--summary", str(summary),
                 "--out", str(folder / "out")])
    return code, junit, summary
