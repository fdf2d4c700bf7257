"""A counterexample file of the shipped corpus for tests to read or edit: `SOURCE`; `edited`
writes a copy changed by an edit, and `with_admission` is the edit tests of module references
make most often."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SOURCE = sorted((REPO / "counterexamples" / "corpus").glob("endpoints-ready-pods-*.json"))[0]
"""The first (by name) endpoints-ready-pods counterexample of the shipped corpus: it replays as
REPRODUCES and names no module of its own."""

Edit = Callable[[dict[str, Any]], None]


def edited(folder: Path, edit: Edit, name: str = "ce.json", indent: int | None = 1) -> Path:
    """`SOURCE`'s JSON changed in place by `edit`, written to `folder`/`name` (indented by
    `indent`, None: on one line); the file's path."""
    data = json.loads(SOURCE.read_text())
    edit(data)
    path = folder / name
    path.write_text(json.dumps(data, indent=indent))
    return path


def with_admission(ref: str) -> Edit:
    """The edit that makes the file's inline scenario name admission plugin `ref` (MODULE:ATTR)."""
    def edit(data: dict[str, Any]) -> None:
        entry = next(f for f in data["scenario"]["files"] if f["path"] == data["scenario"]["entry"])
        entry["text"] += f"admission: ['{ref}']\n"
    return edit
