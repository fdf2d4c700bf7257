"""Explorations marked `slow` run only when asked: `pytest -m slow` (or any `-m` expression that
selects them), or with KUBEPROP_SLOW=1 in the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("markexpr") or os.environ.get("KUBEPROP_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow exploration: run with `pytest -m slow`")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).parents:
            item.add_marker(skip)
