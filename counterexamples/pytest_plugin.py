"""A pytest plugin (entry point `pytest11`): kubeprop counterexample files as test items.

It collects nothing unless asked, as Hypothesis' plugin does: name the corpus folders with the ini
setting `kubeprop_corpus` (pyproject: `[tool.pytest.ini_options] kubeprop_corpus =
["counterexamples/corpus"]`) or `--kubeprop-corpus=DIR` (one folder each, repeatable; written with
`=`: pytest chooses its rootdir and configuration file before it loads plugins, so it would take a
DIR given as an argument of its own for a test path, `_space_form`). Inside those folders only
files named like counterexample files are collected — every `*.json` file, whatever it holds, each
as one item marked `kubeprop_counterexample`: a symbolic link too, wherever it points (it is in
the folder), and, with pytest 8, every such entry that is not a regular file (a FIFO, a device, a
dangling link, a link loop); a file that is not a readable counterexample
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
import shlex
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
        "--kubeprop-corpus", action="append", default=[], metavar="DIR", dest="kubeprop_corpus",
        help="replay the kubeprop counterexample files in DIR as tests; write --kubeprop-corpus=DIR (with '=': "
             "pytest reads a separate DIR as a test path), repeat it for more folders")
    group.addoption(
        "--kubeprop-allow-import", action="append", default=[], metavar="MODULE", dest="kubeprop_allow_imports",
        help="let counterexample files import MODULE (repeatable; default: none)")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker every collected counterexample item carries; refuse `--kubeprop-corpus DIR`
    written as two arguments (`_space_form`)."""
    config.addinivalue_line("markers", f"{MARKER}: a kubeprop counterexample file replayed as a test")
    folder = _space_form(config)
    if folder is not None:
        ini = config.inipath or "none found"
        raise pytest.UsageError(
            f"--kubeprop-corpus {folder}: write --kubeprop-corpus={folder} (one folder each; repeat the option for "
            "more). pytest chooses its rootdir and configuration file from the test paths before it loads plugins, "
            f"so it took {folder} for a test path: rootdir {config.rootpath}, configuration file {ini} (the "
            "project's testpaths, addopts and kubeprop_corpus may be left out; pytest issue 1435)")
    _collect_option_folders(config)


def _collect_option_folders(config: pytest.Config) -> None:
    """Add each `--kubeprop-corpus` folder that none of the paths pytest collects contains to them:
    the option asks for its folder to be replayed, and pytest visits only its test paths (the
    command line's, else `testpaths`), so `pytest --kubeprop-corpus=../elsewhere` in a project
    with `testpaths = ["tests"]` replayed nothing, exit 0. A folder that does not exist is then
    pytest's own usage error. The ini setting's folders are left to the test paths (running one
    test file need not replay the corpus); nothing is added with `--pyargs`."""
    if getattr(config.option, "pyargs", False):
        return
    collected = [(config.invocation_params.dir / arg.split("::")[0]).resolve() for arg in config.args]
    for folder in config.getoption("kubeprop_corpus"):
        resolved = (config.invocation_params.dir / folder).resolve()
        if not any(resolved.is_relative_to(path) for path in collected):
            config.args.append(str(resolved))
            collected.append(resolved)


def _space_form(config: pytest.Config) -> str | None:
    """The value after a bare `--kubeprop-corpus` on the command line or in `PYTEST_ADDOPTS` (None:
    every one is written `--kubeprop-corpus=DIR`). pytest decides its rootdir and ini file by
    parsing the arguments with only its own options known (`Config.parse`, then
    `findpaths.determine_setup`), so the value of a plugin's option written as a separate
    argument is read as a test path, and a folder outside the project moves the rootdir away from
    the project's configuration (trial 10: `pytest --kubeprop-corpus ../elsewhere` replayed
    nothing, exit 0). pytest documents the hazard for plugin options holding a path (issue 1435).
    The ini setting's `addopts` are read after that decision: the form is harmless there."""
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *map(str, config.invocation_params.args)]
    if "--" in args:
        args = args[:args.index("--")]
    for i, arg in enumerate(args):
        if arg == "--kubeprop-corpus":
            return args[i + 1] if i + 1 < len(args) else "DIR"
    return None


def _corpus_folders(config: pytest.Config) -> list[Path]:
    folders = [Path(p) for p in config.getini(INI)]
    folders += [Path(p) for p in config.getoption("kubeprop_corpus")]
    return [p.resolve() for p in folders]


def _in_corpus(config: pytest.Config, path: Path) -> bool:
    """Whether `path` is in (or is) a configured corpus folder, as an entry: a symbolic link in the
    folder is in it wherever it points (its folder is resolved, not the link; trial 10: links out
    of the folder were left out silently, while the gate replays them)."""
    where = path.parent.resolve() / path.name if path.name else path.resolve()
    return any(where.is_relative_to(folder) for folder in _corpus_folders(config))


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
                kind = _kind(entry)
                if kind == "dir":
                    folder = ihook.pytest_collect_directory(path=path, parent=self)
                    if folder is not None:
                        yield folder
                elif kind == "file":
                    yield from ihook.pytest_collect_file(file_path=path, parent=self)
                elif _named_like_one(path):
                    yield CorpusFile.from_parent(self, path=path)

    def _kind(entry: os.DirEntry[str]) -> str:
        """`dir`, `file`, or `other` (a FIFO, a device, a dangling link, or a link that cannot be
        followed, such as a loop: its item's replay then says why, naming it)."""
        try:
            return "dir" if entry.is_dir() else "file" if entry.is_file() else "other"
        except OSError:  # ELOOP: Too many levels of symbolic links
            return "other"

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
