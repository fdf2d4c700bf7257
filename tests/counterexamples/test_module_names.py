"""Module names a file or flag gives are dotted Python identifiers, refused as bad input
otherwise, never suggested for allowing (the trial: `property.module: '../../evil'`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_source import SOURCE, edited, with_admission

from kubeprop.counterexamples.format import CounterexampleError, load
from kubeprop.counterexamples.module_names import is_module_name
from kubeprop.counterexamples.replay import replay
from kubeprop.model.errors import UsageError
from kubeprop.properties.cli.main import main

NOT_A_MODULE = "'../../evil' is not a module name: expected dotted Python identifiers"


@pytest.mark.parametrize(("name", "valid"), [
    ("team_checks", True), ("my_org.policies", True), ("ünï", True), ("../../evil", False), ("os/path", False),
    (".relative", False), ("a..b", False), ("", False), ("class", False), ("a.1b", False)])
def test_module_names_are_dotted_identifiers(name: str, valid: bool) -> None:
    assert is_module_name(name) is valid


def test_a_property_module_that_is_not_a_module_name_is_a_bad_field(tmp_path: Path) -> None:
    path = edited(tmp_path, lambda d: d["property"].update(module="../../evil"), indent=None)
    with pytest.raises(CounterexampleError, match=r"property\.module: " + NOT_A_MODULE):
        load(path)


def test_a_scenario_reference_that_is_not_a_module_name_is_refused_without_a_suggestion(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = edited(tmp_path, with_admission("../../evil:PLUGIN"), indent=None)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: scenario: " in err and NOT_A_MODULE in err
    assert "--allow-import" not in err


def test_allow_import_takes_module_names_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", "--allow-import", "../../evil", str(SOURCE)])
    assert exited.value.code == 2
    assert f"argument --allow-import: {NOT_A_MODULE}" in capsys.readouterr().err
    with pytest.raises(UsageError, match=f"allow_imports: {NOT_A_MODULE}"):
        replay(SOURCE, allow_imports=["../../evil"])
