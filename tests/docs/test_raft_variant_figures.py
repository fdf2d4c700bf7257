"""docs/raft.md's figures for the two variants found from a scripted start are what the commands it
shows print: `kubeprop raft --variant V --check LeaderCompleteness` (no client history) and the
default run of every invariant (whose AckedWritesDurable and Linearizable record the history, so
more distinct states). The trial found the docs' 294 and 3,001 where it ran the second command."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.main import main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "raft.md"


def _distinct(*argv: str) -> int:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["raft", *argv, "--budget", "60"])
    assert code == ExitCode.VIOLATION, out.getvalue()
    found = re.search(r"^distinct states\s+(\d+)$", out.getvalue(), re.MULTILINE)
    assert found is not None, out.getvalue()
    return int(found.group(1))


@pytest.mark.parametrize("variant", ["transfer-no-log-check", "conf-change-no-pending-guard"])
def test_the_pages_figures_are_the_commands(variant: str) -> None:
    alone = _distinct("--variant", variant, "--check", "LeaderCompleteness")
    every = _distinct("--variant", variant)
    text = " ".join(PAGE.read_text().split())
    assert f"kubeprop raft --variant {variant} --check LeaderCompleteness # exit 1" in text
    assert f"kubeprop raft --variant {variant} # exit 1" in text
    at = text.index(f"kubeprop raft --variant {variant} --check")
    paragraph = text[text.rindex("The variant is found", 0, at):at]
    assert f"in {alone:,} distinct states" in paragraph and f"the default, {every:,}" in paragraph, paragraph
