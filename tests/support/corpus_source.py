"""A counterexample file of the shipped corpus for tests to read or edit: `SOURCE`; `edited`
writes a copy changed by an edit, `with_admission` is the edit tests of module references
make most often, and `rehashed` makes an edited inline scenario replay (its content hash
recomputed)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kubeprop.model.scenario.load import load_scenario

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


def rehashed(path: Path, allow_imports: Iterable[str] = ()) -> Path:
    """The counterexample file at `path`, its inline scenario's content hash recomputed from the
    texts (loaded as replay loads them, importing `allow_imports`), so that an edited scenario
    replays instead of being refused as edited by hand; `path`."""
    data = json.loads(path.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for packed in data["scenario"]["files"]:
            target = Path(tmp) / packed["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(packed["text"])
        scenario = load_scenario(Path(tmp) / data["scenario"]["entry"], allow_imports=tuple(allow_imports))
    data["scenario"]["contentHash"] = scenario.content_hash
    path.write_text(json.dumps(data, indent=1))
    return path
