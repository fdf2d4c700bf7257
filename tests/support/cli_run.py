"""Running the `kubeprop` command line in-process, for the tests of its commands."""

from __future__ import annotations

import pytest

from kubeprop.properties.cli.main import main


def kubeprop(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`kubeprop ARGV…` in this process: its exit code and what it printed to stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
