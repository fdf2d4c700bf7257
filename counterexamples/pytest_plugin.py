"""A pytest plugin (entry point `pytest11`): every counterexample file in a `corpus` folder is a
test item (`pytest counterexamples/`). The item replays the file and passes when the verdict is
the file's `expectation` (`reproduces` or `passes`); its failure message is the rendered trace.

Only `*.json` files whose parent folder is named `corpus` are collected, so the plugin leaves
every other test run alone; kubeprop itself is imported only when such a file is collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CORPUS_FOLDER = "corpus"


class CorpusMismatch(Exception):
    """A corpus file whose replay verdict is not its expectation."""


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect `corpus/*.json` files."""
    if file_path.suffix == ".json" and file_path.parent.name == CORPUS_FOLDER:
        return CorpusFile.from_parent(parent, path=file_path)
    return None


class CorpusFile(pytest.File):
    """One counterexample file: one item."""

    def collect(self) -> Any:
        yield CorpusItem.from_parent(self, name=self.path.stem)


class CorpusItem(pytest.Item):
    """Replay one corpus file and compare the verdict with its expectation."""

    def runtest(self) -> None:
        from kubeprop.counterexamples.render import render_text
        from kubeprop.counterexamples.replay import replay

        result = replay(self.path)
        if result.expected is None:
            raise CorpusMismatch(f"{self.path}: a corpus file needs an 'expectation' (reproduces or passes); "
                                 f"replay says {result.verdict}")
        if not result.meets_expectation:
            raise CorpusMismatch(f"expected {result.expected}, replay says {result.verdict}\n\n"
                                 + render_text(result, shown_path=str(self.path)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from kubeprop.counterexamples.format import CounterexampleError

        if isinstance(excinfo.value, CorpusMismatch | CounterexampleError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"counterexample {self.path.name}"
