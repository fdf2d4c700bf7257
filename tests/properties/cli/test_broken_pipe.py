"""A reader that stops reading (`kubeprop schedule | head -1`) ends the command quietly with 141."""

from __future__ import annotations

import subprocess
import sys

from kubeprop.properties.cli.exit_codes import ExitCode


def test_a_closed_pipe_is_exit_141_without_a_message() -> None:
    child = subprocess.Popen([sys.executable, "-m", "kubeprop.properties.cli", "schedule"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()  # the reader goes away after one line, as `head -1` does
    err = child.stderr.read().decode()
    child.stderr.close()
    code = child.wait(timeout=120)
    assert first.startswith(b"Scenario feastflow")
    assert code == ExitCode.BROKEN_PIPE
    # stderr holds only `schedule`'s progress lines (--progress auto off a terminal), no message and no
    # "done … (exit N)" line claiming another exit code
    assert all(line.startswith("kubeprop schedule: ") and "exit" not in line for line in err.splitlines()), err
