"""A property module imported twice in one process (trial 21, u3/ci): the gate's config loaded the
scenario, which imported the user's property module inside `registry_kept` (its properties rolled
back afterwards); the corpus replay then imported it again, found it cached in `sys.modules` (so
its `@safety` decorators did not run again) and refused a valid file: `'one-result-per-ticket' is
not a registered property (module 'ticket_properties', which the file names, defines none of that
name)`. Now the registry remembers what each module registered (`registry.import_registering`):
what is registered after importing a module never depends on whether it was imported before."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import kubeprop
from user_modules import user_folder

from kubeprop.counterexamples.replay_file import replay_file
from kubeprop.properties.modules import load_properties
from kubeprop.properties.registry import PROPERTIES, registry_kept, select

DATA = Path(__file__).resolve().parent / "data" / "registry-reimport"
MODULE = "reimport_properties"
PROPERTY = "first-step-never-taken"


def _not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module as in a new process: not imported (its properties not registered)."""
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    assert PROPERTY not in PROPERTIES


@pytest.fixture(name="folder")
def folder_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """A copy of the data folder on the import path, with a corpus file of the module's property
    that `kubeprop check` wrote; the module then not imported, as in the next process."""
    folder = tmp_path / "ci"
    shutil.copytree(DATA, folder)
    with user_folder(monkeypatch, folder):
        _not_imported(monkeypatch)
        with registry_kept():
            code, out, err = kubeprop(capsys, "check", str(folder / "scenario.yaml"), "--property", PROPERTY,
                                      "--budget", "20", "--out", str(folder / "corpus"))
        assert code == 1, out + err
        _not_imported(monkeypatch)
        yield folder


def _corpus_file(folder: Path) -> Path:
    (found,) = (folder / "corpus").glob(f"{PROPERTY}-*.json")
    return found


def test_the_gate_replays_a_corpus_file_of_a_module_its_config_loaded(folder: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kubeprop(capsys, "gate", "--config", str(folder / "gate.yaml"), "--out", str(folder / "out"))
    name = _corpus_file(folder).name
    assert f"ok   corpus :: {name}: REPRODUCES, expected REPRODUCES" in out, out + err  # trial 21: ERR, unreadable
    assert code == 0, out + err


def test_a_check_then_a_replay_in_one_process(folder: Path) -> None:
    with registry_kept():  # as a check of the gate loads the module
        assert [p.name for p in load_properties(MODULE)] == [PROPERTY]
    assert PROPERTY not in PROPERTIES  # rolled back
    result = replay_file(_corpus_file(folder), allow_imports=[MODULE])
    assert result.verdict.value == "REPRODUCES", result.reason


def test_a_file_replayed_twice_in_one_process(folder: Path) -> None:
    for _ in range(2):
        with registry_kept():  # as the gate replays each corpus file
            result = replay_file(_corpus_file(folder), allow_imports=[MODULE])
        assert result.verdict.value == "REPRODUCES", result.reason


def test_a_replay_then_a_selection_by_name(folder: Path) -> None:
    with registry_kept():
        replay_file(_corpus_file(folder), allow_imports=[MODULE])
    load_properties(MODULE)  # a check's `--properties`: the registry now as after a first import
    assert select([PROPERTY])[0].name == PROPERTY
