"""Counterexample files are data: replay runs no code a file names unless allowed, and hostile JSON is
bad input, never a crash (issue 15, items 1 and 4)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from corpus_source import SOURCE, edited, with_admission

from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.replay import Verdict, replay

MODULE = """\
from pathlib import Path
from kubeprop.model.api.admission import AdmissionPlugin
Path(__file__).with_name("RAN").write_text("imported")
PLUGIN = AdmissionPlugin("reviewed-plugin")
"""


@pytest.fixture
def module_folder(module_on_path: Callable[[str, str], Path]) -> Path:
    return module_on_path("kp_review_plugin", MODULE)


@pytest.mark.parametrize("ref", ["sys:exit", "os:abort", "builtins:input", "os:fork", "kp_review_plugin:PLUGIN"])
def test_replay_refuses_modules_an_inline_scenario_names(tmp_path: Path, module_folder: Path, ref: str) -> None:
    path = edited(tmp_path, with_admission(ref))
    with pytest.raises(CounterexampleError) as info:
        replay(path)
    [problem] = info.value.problems
    module = ref.partition(":")[0]
    assert problem.field == "imports"
    assert f"refusing to import module named in a file under review: '{module}' (" in problem.message
    if module == "kp_review_plugin":
        assert ": admission[0]); if you trust it, allow it by name: kubeprop replay --allow-import " in problem.message
    else:  # trial 10: never suggest allowing a module of the standard library; say why instead
        assert "--allow-import" not in problem.message
        assert (f": admission[0]); '{module}' is a module of Python's standard library, not a property or plug-in "
                "module: allowing it is not suggested") in problem.message
    assert not (module_folder / "RAN").exists()


def test_an_allowed_module_is_imported(tmp_path: Path, module_folder: Path) -> None:
    path = edited(tmp_path, with_admission("kp_review_plugin:PLUGIN"))
    # the scenario text changed, so its hash no longer matches: the import happened, then the edit was noticed
    with pytest.raises(CounterexampleError, match="contentHash: does not match the inline files"):
        replay(path, allow_imports=["kp_review_plugin"])
    assert (module_folder / "RAN").exists()


def test_a_path_mode_scenario_is_under_the_same_policy(tmp_path: Path, module_folder: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nadmission: ['kp_review_plugin:PLUGIN']\n"
                        "topology: {nodes: [{name: n, capacity: {cpu: '1', memory: 1Gi, pods: '10'}}]}\n")

    def edit(data: dict[str, Any]) -> None:
        data["scenario"] = {**data["scenario"], "mode": "path", "path": str(scenario)}

    with pytest.raises(CounterexampleError, match="refusing to import module named in a file under review: "
                                                  "'kp_review_plugin' "):
        replay(edited(tmp_path, edit))
    assert not (module_folder / "RAN").exists()


def test_property_module_is_imported_only_when_built_in_or_allowed(tmp_path: Path, module_folder: Path) -> None:
    def unknown(data: dict[str, Any]) -> None:
        data["property"] = {**data["property"], "name": "my-property", "module": "kp_review_plugin"}

    path = edited(tmp_path, unknown)
    with pytest.raises(CounterexampleError) as info:
        replay(path)
    assert info.value.problems[0].field == "imports"
    assert "file under review: 'kp_review_plugin' (property.module)" in info.value.problems[0].message
    assert not (module_folder / "RAN").exists()
    with pytest.raises(CounterexampleError, match="'my-property' is not a registered property \\(module "
                                                  "'kp_review_plugin', which the file names, defines none of that "
                                                  "name\\); valid: "):
        replay(path, allow_imports=["kp_review_plugin"])  # imported, but it registers no such property
    assert (module_folder / "RAN").exists()
    # the corpus files name kubeprop.properties.invariants: built in, no allowance needed
    assert json.loads(SOURCE.read_text())["property"]["module"] == "kubeprop.properties.invariants"
    assert replay(SOURCE).verdict == Verdict.REPRODUCES


def test_every_refused_module_is_named_at_once_with_the_command_that_allows_them(
        tmp_path: Path, module_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the user trial: a scenario's controller module and the property's module took three tries, one error each
    def both(data: dict[str, Any]) -> None:
        with_admission("kp_review_plugin:PLUGIN")(data)
        data["property"] = {**data["property"], "name": "my-property", "module": "kp_team_props"}

    path = edited(tmp_path, both)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path / 'elsewhere'}{os.pathsep}{module_folder}")
    with pytest.raises(CounterexampleError) as info:
        replay(path)
    [problem] = info.value.problems
    assert problem.field == "imports"
    assert "'kp_review_plugin' (" in problem.message and "'kp_team_props' (property.module)" in problem.message
    # the module was found through $PYTHONPATH, so the command says so (only the entry that holds it)
    assert (f"allow them by name: PYTHONPATH={module_folder} kubeprop replay --allow-import kp_review_plugin "
            f"--allow-import kp_team_props {path} (or") in problem.message
    assert not (module_folder / "RAN").exists()
    # one of them allowed: the other is refused, and the command still allows both
    with pytest.raises(CounterexampleError) as info:
        replay(path, allow_imports=["kp_review_plugin"])
    [problem] = info.value.problems
    assert "file under review: 'kp_team_props' (property.module); if you trust it" in problem.message
    assert "--allow-import kp_review_plugin --allow-import kp_team_props" in problem.message


def test_an_allowed_module_not_on_the_path_says_where_to_look(tmp_path: Path) -> None:
    path = edited(tmp_path, with_admission("kp_nowhere_module:PLUGIN"))
    with pytest.raises(CounterexampleError) as info:
        replay(path, allow_imports=["kp_nowhere_module"])
    assert info.value.problems[0].message.endswith(
        "ModuleNotFoundError: No module named 'kp_nowhere_module' (is its folder on PYTHONPATH?)")


def test_an_unknown_property_names_a_close_match_and_the_valid_ones(tmp_path: Path) -> None:
    def typo(data: dict[str, Any]) -> None:
        data["property"] = {**data["property"], "name": "endpoints-ready-pod"}

    with pytest.raises(CounterexampleError) as info:
        replay(edited(tmp_path, typo))
    message = info.value.problems[0].message
    assert message.startswith("'endpoints-ready-pod' is not a registered property; did you mean "
                              "'endpoints-ready-pods'? valid: ")
    assert "node-not-overcommitted" in message and "pass it to replay" not in message


@pytest.mark.parametrize(("text", "message"), [
    (SOURCE.read_text().replace('"schema": 1', '"schema": ' + "1" * 5000, 1),
     "not a counterexample: a 5000-digit integer (at most 40 digits)"),
    ("[" * 100_000 + "]" * 100_000, "not a counterexample: nested more than 64 levels deep"),
    ("[" * 70 + "]" * 70, "not a counterexample: [0][0][0]"),
    (SOURCE.read_text().replace('"created": "', '"created": "\\ud800', 1),
     "not a counterexample: created: holds a lone surrogate, not text"),
    (SOURCE.read_text().replace('"schema": 1', '"schema": NaN', 1), "not a counterexample: NaN is not a JSON number"),
    (SOURCE.read_text().replace('"schema": 1', '"schema": 1e999', 1),
     "not a counterexample: the number 1e999 is out of range"),
])
def test_hostile_json_is_bad_input(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ce.json"
    path.write_text(text)
    with pytest.raises(CounterexampleError) as info:
        load(path)
    assert str(info.value.problems[0].message).startswith(message)


def test_every_number_no_file_holds_is_named_by_its_field(tmp_path: Path) -> None:
    """Trial 21: a 41-digit `violation.step` was refused as `a 41-digit integer` without saying
    where; now each such number names its field path, all of them at once."""
    data = json.loads(SOURCE.read_text())
    text = json.dumps(data).replace(f'"step": {data["violation"]["step"]}', '"step": ' + "4" * 41, 1)
    text = text.replace('"schema": 1', '"schema": -1e999', 1).replace('"message": ', '"message": NaN, "m": ', 1)
    path = tmp_path / "ce.json"
    path.write_text(text)
    with pytest.raises(CounterexampleError) as info:
        load(path)
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("schema", "not a counterexample: the number -1e999 is out of range"),
        ("violation.message", "not a counterexample: NaN is not a JSON number"),
        ("violation.step", "not a counterexample: a 41-digit integer (at most 40 digits)")]


def test_non_utf8_and_odd_files_are_bad_input(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes(SOURCE.read_bytes().replace(b'"note"', b'"n\xe9te"', 1) + b"\xff")
    with pytest.raises(CounterexampleError, match="not valid UTF-8"):
        load(latin)
    with pytest.raises(CounterexampleError, match="is a character device, expected a regular file"):
        load("/dev/zero")
    with pytest.raises(CounterexampleError, match="is a directory"):
        load(tmp_path)


def test_inline_file_names_that_cannot_be_unpacked_are_bad_input(tmp_path: Path) -> None:
    def clash(data: dict[str, Any]) -> None:
        files = data["scenario"]["files"]
        files.append({"path": f"{files[0]['path']}/inside.yaml", "text": "x: 1\n"})  # a file used as a folder

    with pytest.raises(CounterexampleError) as info:
        replay(edited(tmp_path, clash))
    assert info.value.problems[0].field == "scenario.files[2].path"
    assert "cannot be unpacked" in info.value.problems[0].message


@pytest.mark.parametrize(("path", "why"), [
    ("/tmp/abs-pwned.yaml", "is absolute (/tmp/abs-pwned.yaml)"),
    ("../../pwned.yaml", "leaves the scenario's folder through '..' (../../pwned.yaml)")])
def test_a_packed_path_outside_the_scenario_says_what_is_wrong(tmp_path: Path, path: str, why: str) -> None:
    def outside(data: dict[str, Any]) -> None:
        data["scenario"]["files"].append({"path": path, "text": "x: 1\n"})

    with pytest.raises(CounterexampleError) as info:
        replay(edited(tmp_path, outside))
    [problem] = info.value.problems
    assert problem.field == "scenario.files[2].path"
    assert problem.message == f"{why}; must be a relative path inside the scenario, such as manifests/web.yaml"


def test_hostile_parameters_are_bad_input(tmp_path: Path) -> None:
    def params(data: dict[str, Any]) -> None:
        data["model"]["parameters"] = {"maxEndpointsPerSlice": 0, "instantCaches": "maybe"}

    with pytest.raises(CounterexampleError) as info:
        load(edited(tmp_path, params))
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("model.parameters.maxEndpointsPerSlice", "must be between 1 and 1000, got 0"),
        ("model.parameters.instantCaches", "must be true or false, got string 'maybe'"),
    ]


def test_the_pytest_plugin_never_opens_a_fifo_for_reading(tmp_path: Path) -> None:
    import os

    from kubeprop.counterexamples.format_records import CounterexampleError
    from kubeprop.counterexamples.replay import replay

    fifo = tmp_path / "waiting.json"
    os.mkfifo(fifo)  # nobody writes: a blocking open would hang the item (collecting it opens nothing)
    with pytest.raises(CounterexampleError, match="FIFO"):
        replay(fifo)  # what the plugin's item for it does (tests/counterexamples/test_plugin.py collects one)
