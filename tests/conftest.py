"""Shared by every test folder: `tests/support/` on the import path, so a test imports the helpers
several folders share (`api_harness`, `cluster_harness`) by name; and fixtures several folders use."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SUPPORT = str(Path(__file__).resolve().parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)


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
