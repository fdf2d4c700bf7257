"""Shared by every test folder: `tests/support/` on the import path, so a test imports the helpers
several folders share (`api_harness`, `cluster_harness`) by name; fixtures several folders use; and
the suite's Hypothesis profile."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

SUPPORT = str(Path(__file__).resolve().parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)

settings.register_profile("kubeprop-tests", deadline=None)
settings.load_profile("kubeprop-tests")
"""No per-example deadline: Hypothesis' default (200 ms) is a timing assertion, and timings belong
in benchmarks/, not in tests — on a loaded machine it failed examples that are correct. A test's
own `@settings` still sets its example count."""


@pytest.fixture
def module_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """Writes a module `name` with `source` into a fresh folder on the import path and returns the
    folder; the path and any imported copy of the module are restored after the test."""
    folder = tmp_path / "mods"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))

    def write(name: str, source: str) -> Path:
        (folder / f"{name}.py").write_text(source)
        monkeypatch.delitem(sys.modules, name, raising=False)
        return folder

    return write
