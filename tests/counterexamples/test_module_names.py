"""Module names a file or flag gives are dotted Python identifiers, refused as bad input
otherwise, never suggested for allowing (the trial: `property.module: '../../evil'`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_source import SOURCE, edited, with_admission

from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.format_records import CounterexampleError
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


# --- H2 (trial 5): "built-in" is the exact set of modules defining built-in properties, and no
# module whose import acts (a `__main__`) is ever named --------------------------------------------

MAIN = "kubeprop.properties.cli.__main__"


def test_builtin_modules_are_exactly_those_that_define_the_builtin_properties() -> None:
    from kubeprop.counterexamples.reproduce import is_builtin
    from kubeprop.properties.registry import BUILTIN_MODULES, OPT_IN, PROPERTIES, select

    select()
    sources = {p.source.partition(":")[0] for p in (*PROPERTIES.values(), *OPT_IN.values())
               if p.source.startswith("kubeprop.")}
    assert sources == set(BUILTIN_MODULES)
    assert all(is_builtin(m) for m in BUILTIN_MODULES)
    for other in ("kubeprop.properties", "kubeprop.properties.cli", "kubeprop.properties.cli.main", MAIN,
                  "kubeprop.properties.invariants.x", "kubeprop.properties.invariantsx"):
        assert not is_builtin(other), other


@pytest.mark.parametrize("name", [MAIN, "pip.__main__", "__main__", "this", "antigravity"])
def test_a_module_whose_import_acts_is_never_a_module_name_to_use(name: str) -> None:
    from kubeprop.counterexamples.module_names import module_name_problem

    assert module_name_problem(name)


def test_a_file_naming_a_main_module_is_a_bad_field_and_never_imports_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, MAIN, raising=False)
    path = edited(tmp_path, lambda d: d["property"].update(name="no-such-property", module=MAIN))
    with pytest.raises(CounterexampleError, match=r"property\.module: .*__main__ module"):
        load(path)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert "property.module" in err and "__main__ module" in err and "--allow-import" not in err
    assert MAIN not in sys.modules


def test_a_kubeprop_module_outside_the_builtin_set_needs_an_allowance(tmp_path: Path) -> None:
    """`kubeprop.properties.cli.main` imports harmlessly, but it is not a built-in property module:
    a file naming it is refused like any other module (the prefix rule let it through)."""
    path = edited(tmp_path, lambda d: d["property"].update(name="no-such-property",
                                                           module="kubeprop.properties.cli.main"))
    with pytest.raises(CounterexampleError, match=r"refusing to import .*'kubeprop\.properties\.cli\.main'"):
        replay(path)


def test_a_main_module_is_refused_in_every_place_that_names_modules(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kubeprop.model.errors import InputError
    from kubeprop.model.scenario.imports import import_reference
    from kubeprop.properties.modules import PropertyModuleError, load_properties

    with pytest.raises(SystemExit):
        main(["replay", "--allow-import", MAIN, str(SOURCE)])
    assert "__main__ module" in capsys.readouterr().err
    with pytest.raises(UsageError, match="__main__ module"):
        replay(SOURCE, allow_imports=[MAIN])
    with pytest.raises(InputError, match="__main__ module"):
        import_reference(f"{MAIN}:main", None)  # even in the user's own scenario
    with pytest.raises(PropertyModuleError, match="__main__ module"):
        load_properties(MAIN)
    path = edited(tmp_path, with_admission(f"{MAIN}:main"), indent=None)
    assert main(["replay", "--allow-import", "x", str(path)]) == 2
    err = capsys.readouterr().err
    assert "scenario: " in err and "__main__ module" in err
