"""A pytest plugin (entry point `pytest11`): kubeprop counterexample files as test items.

It collects nothing unless asked, as Hypothesis' plugin does: name the corpus folders with the ini
setting `kubeprop_corpus` (pyproject: `[tool.pytest.ini_options] kubeprop_corpus =
["counterexamples/corpus"]`) or `--kubeprop-corpus DIR…` (several folders, or repeated; it takes
every argument up to the next option, so put test paths before it). Inside those folders only
files named like counterexample files are collected — every `*.json` file, whatever it holds, each
as one item marked `kubeprop_counterexample` (and, with pytest 8, every such entry that is not a
regular file: a FIFO, a device, a dangling link); a file that is not a readable counterexample
file (a misspelt `"kind"`, bad JSON) fails as bad input, and one named `bug.JSON` or
`bug.json.bak` fails as not replayed, as the gate reports them. The item replays the file and
passes when the verdict is the file's `expectation` (`reproduces` or `passes`) — for a file
without one, REPRODUCES, as `kubeprop replay --expect` and the gate judge it; its failure message
is the rendered trace. kubeprop's model is imported only when such a file runs. A file imports
no module it names (admission plug-ins, controllers, its property's module) unless the ini
setting `kubeprop_allow_imports` (or `--kubeprop-allow-import MODULE`) lists it.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

INI = "kubeprop_corpus"
ALLOW_INI = "kubeprop_allow_imports"
MARKER = "kubeprop_counterexample"


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
        "--kubeprop-corpus", action="extend", nargs="+", default=[], metavar="DIR", dest="kubeprop_corpus",
        help="replay the kubeprop counterexample files in each DIR as tests (several folders, or the option "
             "repeated; the folders it takes are the arguments up to the next option)")
    group.addoption(
        "--kubeprop-allow-import", action="append", default=[], metavar="MODULE", dest="kubeprop_allow_imports",
        help="let counterexample files import MODULE (repeatable; default: none)")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker every collected counterexample item carries; refuse a `--kubeprop-corpus`
    folder that is a test path it took by mistake (`_taken_test_path`)."""
    config.addinivalue_line("markers", f"{MARKER}: a kubeprop counterexample file replayed as a test")
    for folder in config.getoption("kubeprop_corpus"):
        why = _taken_test_path(Path(folder))
        if why:
            raise pytest.UsageError(f"--kubeprop-corpus {folder}: {why}, so it looks like a test path the option took "
                                    "as a corpus folder (it takes every argument up to the next option): put test "
                                    "paths before --kubeprop-corpus, or write --kubeprop-corpus=DIR")


def _taken_test_path(folder: Path) -> str:
    """Why `folder` cannot be a corpus folder but is a test path (`--kubeprop-corpus corpus tests/`
    takes both): it holds Python files, or is one; '' otherwise."""
    if folder.is_file():
        return "is a file, not a folder"
    try:
        python = sorted(p.name for p in folder.iterdir() if p.suffix == ".py")
    except OSError:
        return ""
    return f"holds Python files ({', '.join(python[:3])}{', …' if len(python) > 3 else ''})" if python else ""


def _corpus_folders(config: pytest.Config) -> list[Path]:
    folders = [Path(p) for p in config.getini(INI)]
    folders += [Path(p) for p in config.getoption("kubeprop_corpus")]
    return [p.resolve() for p in folders]


def _in_corpus(config: pytest.Config, path: Path) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder) for folder in _corpus_folders(config))


def _named_like_one(path: Path) -> bool:
    """Whether an entry of a corpus folder is named like a counterexample file: `*.json`, or with
    `.json` in its name in any case (`bug.JSON`, `bug.json.bak`), as the gate reads names."""
    return path.suffix == ".json" or ".json" in path.name.lower()


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect every file named like a counterexample file inside the configured corpus folders,
    and nothing else. Whatever such a file holds, it is an item: one that is not a readable
    counterexample file (a `"kind"` misspelt, bad JSON, another kind of JSON) fails as bad input,
    as the gate and `kubeprop replay` report it — never silently left out."""
    if not _named_like_one(file_path) or not _in_corpus(parent.config, file_path):
        return None
    return CorpusFile.from_parent(parent, path=file_path)


if hasattr(pytest, "Dir"):  # pytest 8: a corpus folder's entries that are not regular files are items too

    class CorpusDir(pytest.Directory):
        """A folder in a corpus folder, collected as pytest's own `Dir` collects one (its files
        through `pytest_collect_file`, its folders through `pytest_collect_directory`), plus an
        item for each entry named like a counterexample file that is neither a file nor a folder
        (a FIFO, a device, a dangling link), which pytest would pass over."""

        def collect(self) -> Any:
            ihook = self.ihook
            for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
                path = Path(entry.path)
                if not self.session.isinitpath(path, with_parents=True) and ihook.pytest_ignore_collect(
                        collection_path=path, config=self.config):
                    continue
                if entry.is_dir():
                    folder = ihook.pytest_collect_directory(path=path, parent=self)
                    if folder is not None:
                        yield folder
                elif entry.is_file():
                    yield from ihook.pytest_collect_file(file_path=path, parent=self)
                elif _named_like_one(path):
                    yield CorpusFile.from_parent(self, path=path)

    @pytest.hookimpl(optionalhook=True)
    def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        """A folder inside a configured corpus folder is a `CorpusDir`; others are pytest's."""
        if not _in_corpus(parent.config, path):
            return None
        return CorpusDir.from_parent(parent, path=path)


class NotReplayed(Exception):
    """A corpus entry named like a counterexample file that is not replayed as one."""


class CorpusFile(pytest.File):
    """One file named like a counterexample file: one item."""

    def collect(self) -> Any:
        item = CorpusItem.from_parent(self, name=self.path.name if self.path.suffix != ".json" else self.path.stem)
        item.add_marker(MARKER)
        yield item


class CorpusItem(pytest.Item):
    """Replay one corpus file and compare the verdict with its expectation."""

    def runtest(self) -> None:
        from kubeprop.counterexamples.replay_file import render_file_replay, replay_file

        if self.path.suffix != ".json":
            raise NotReplayed(f"{self.path}: named like a counterexample file but not *.json, so it is not replayed: "
                              "rename it to end in .json (the gate reports it the same way)")
        config = self.config
        allow = [*config.getini(ALLOW_INI), *config.getoption("kubeprop_allow_imports")]
        result = replay_file(self.path, allow_imports=allow, allow_advice=_allow_advice)
        if result.verdict != result.required:  # its expectation, else REPRODUCES (as replay --expect)
            raise CorpusMismatch(f"expected {result.required}, replay says {result.verdict}\n\n"
                                 + render_file_replay(result, shown_path=str(self.path)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from kubeprop.counterexamples.format_records import CounterexampleError

        if isinstance(excinfo.value, CorpusMismatch | CounterexampleError | NotReplayed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"counterexample {self.path.name}"
