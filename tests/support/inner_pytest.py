"""A pytest run inside the test's own process, for the tests of the counterexample plugin.

The plugin's tests ran `python -m pytest …` as a child process: each child started an interpreter
and imported pytest and kubeprop again (about a CPU second each, most of those tests' cost). Here
the run is pytest's own in-process one (`Pytester.runpytest_inprocess`): `pytest.main` with a
fresh configuration and plugin manager, which loads the `pytest11` entry points (the kubeprop
plugin among them) as a separate run does, in the folder the test names, with its stdout and
stderr captured; `sys.modules` and `sys.path` are restored afterwards. What differs from a child:
modules already imported stay imported (kubeprop's model is not imported again), and the
environment is the test's, less `PYTEST_ADDOPTS` (`Pytester` clears it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

PytestRun = Callable[..., subprocess.CompletedProcess[str]]
"""`run(where, *args)`: `pytest -q -p no:cacheprovider ARGS` run in the folder `where`."""


def run_pytest(pytester: pytest.Pytester, where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pytest -q -p no:cacheprovider ARGS` run in `where`, as `subprocess.run(..., text=True)`
    would report it: its exit code, and its stdout and stderr as text."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        done = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", *args)
    return subprocess.CompletedProcess(args=["pytest", *args], returncode=int(done.ret),
                                       stdout="\n".join(done.outlines) + "\n",
                                       stderr="\n".join(done.errlines) + "\n")
