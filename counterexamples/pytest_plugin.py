"""A pytest plugin (entry point `pytest11`): kubeprop counterexample files as test items.

It collects nothing unless asked, as Hypothesis' plugin does: name the corpus folders with the ini
setting `kubeprop_corpus` (pyproject: `[tool.pytest.ini_options] kubeprop_corpus =
["counterexamples/corpus"]`) or `--kubeprop-corpus DIR` (repeatable). Inside those folders only
`*.json` files that say `"kind": "Counterexample"` are collected, each as one item marked
`kubeprop_counterexample`. The item replays the file and passes when the verdict is the file's
`expectation` (`reproduces` or `passes`) — for a file without one, REPRODUCES, as `kubeprop
replay --expect` and the gate judge it; its failure message is the rendered trace. kubeprop's
model is imported only when such a file runs. A file imports no module it names (admission
plug-ins, controllers, its property's module) unless the ini setting `kubeprop_allow_imports`
(or `--kubeprop-allow-import MODULE`) lists it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

INI = "kubeprop_corpus"
ALLOW_INI = "kubeprop_allow_imports"
MARKER = "kubeprop_counterexample"
_SNIFF_BYTES = 4096


def _allow_advice(path: str, modules: Collection[str]) -> str:
    """How to let a corpus file import its modules, in the plugin's words (not `kubeprop replay`'s):
    its command-line option or its ini setting."""
    flags = " ".join(f"--kubeprop-allow-import {module}" for module in modules)
    return f"pytest {flags}, or list {'them' if len(modules) > 1 else 'it'} under the ini setting {ALLOW_INI}"


class CorpusMismatch(Exception):
    """A corpus file whose replay verdict is not its expectation."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--kubeprop-corpus DIR` and the `kubeprop_corpus` ini setting."""
    parser.addini(INI, type="paths", default=[],
                  help="folders whose kubeprop counterexample files (*.json) are replayed as tests")
    parser.addini(ALLOW_INI, type="linelist", default=[],
                  help="modules kubeprop counterexample files may import (admission plug-ins, controllers)")
    group = parser.getgroup("kubeprop")
    group.addoption(
        "--kubeprop-corpus", action="append", default=[], metavar="DIR", dest="kubeprop_corpus",
        help="replay the kubeprop counterexample files in DIR as tests (repeatable)")
    group.addoption(
        "--kubeprop-allow-import", action="append", default=[], metavar="MODULE", dest="kubeprop_allow_imports",
        help="let counterexample files import MODULE (repeatable; default: none)")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker every collected counterexample item carries."""
    config.addinivalue_line("markers", f"{MARKER}: a kubeprop counterexample file replayed as a test")


def _corpus_folders(config: pytest.Config) -> list[Path]:
    folders = [Path(p) for p in config.getini(INI)]
    folders += [Path(p) for p in config.getoption("kubeprop_corpus")]
    return [p.resolve() for p in folders]


def _is_counterexample(path: Path) -> bool:
    """A quick look at the head of a regular file: kubeprop's files say `"kind": "Counterexample"`
    early. A FIFO or device named `*.json` is not opened for reading (that could block)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        head = os.read(fd, _SNIFF_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)
    return b'"kind": "Counterexample"' in head or b'"kind":"Counterexample"' in head


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect counterexample files inside the configured corpus folders, and nothing else."""
    if file_path.suffix != ".json":
        return None
    folders = _corpus_folders(parent.config)
    resolved = file_path.resolve()
    if not any(resolved.is_relative_to(folder) for folder in folders) or not _is_counterexample(file_path):
        return None
    return CorpusFile.from_parent(parent, path=file_path)


class CorpusFile(pytest.File):
    """One counterexample file: one item."""

    def collect(self) -> Any:
        item = CorpusItem.from_parent(self, name=self.path.stem)
        item.add_marker(MARKER)
        yield item


class CorpusItem(pytest.Item):
    """Replay one corpus file and compare the verdict with its expectation."""

    def runtest(self) -> None:
        from kubeprop.counterexamples.render import render_text
        from kubeprop.counterexamples.replay import replay

        config = self.config
        allow = [*config.getini(ALLOW_INI), *config.getoption("kubeprop_allow_imports")]
        result = replay(self.path, allow_imports=allow, allow_advice=_allow_advice)
        if result.verdict != result.required:  # its expectation, else REPRODUCES (as replay --expect)
            raise CorpusMismatch(f"expected {result.required}, replay says {result.verdict}\n\n"
                                 + render_text(result, shown_path=str(self.path)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from kubeprop.counterexamples.format import CounterexampleError

        if isinstance(excinfo.value, CorpusMismatch | CounterexampleError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"counterexample {self.path.name}"
