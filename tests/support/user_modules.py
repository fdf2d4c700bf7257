"""A user's folder of controllers and properties on the import path for one test (as `PYTHONPATH`
puts it there), with the property registry as it was once the test is over: importing a user's
properties module registers its properties."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kubeprop.properties.registry import PROPERTIES, select


@contextmanager
def user_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[None]:
    """`folder` on `sys.path` (undone by `monkeypatch`) and the registry restored afterwards."""
    monkeypatch.syspath_prepend(str(folder))
    select()  # the built-ins registered first, so that they are among what is restored
    saved = dict(PROPERTIES)
    try:
        yield
    finally:
        PROPERTIES.clear()
        PROPERTIES.update(saved)
