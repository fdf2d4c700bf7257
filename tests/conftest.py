"""Shared by every test folder: `tests/support/` on the import path, so a test imports the helpers
several folders share (`api_harness`, `cluster_harness`) by name; fixtures several folders use; the
suite's Hypothesis profile; and the `slow` marker's rule."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

SUPPORT = str(Path(__file__).resolve().parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)

pytest_plugins = ["pytester"]
"""pytest's `pytester` fixture: the counterexample plugin's tests run pytest in their own process
(tests/support/inner_pytest.py)."""

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (long explorations, pyproject's markers) run only when asked for: with a
    `-m` expression that names them (`pytest -m slow`), or with KUBEPROP_SLOW=1 in the environment.
    Everywhere in tests/: the rule used to live in tests/properties/explore and tests/etcd only, so
    the `slow` tests of tests/model, tests/examples and tests/properties ran in the default run."""
    if "slow" in (config.getoption("markexpr") or "") or os.environ.get("KUBEPROP_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow exploration: run with `pytest -m slow`")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
