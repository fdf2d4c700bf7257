"""A scenario's size is bounded before any object is applied: a manifest folder of tens of
thousands of objects is bad input naming the count and the limit, not minutes of bootstrapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.scenario.load import MAX_OBJECTS, ScenarioError, load_scenario
from kubeprop.properties.cli.main import main

HEAD = "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\n"


def _config_maps(count: int, first: int = 0) -> str:
    return "---\n".join(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: default}}\n"
                        for i in range(first, first + count))


def test_too_many_objects_in_a_manifest_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "many.yaml").write_text(_config_maps(MAX_OBJECTS + 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    [problem] = info.value.problems
    assert problem.message == (f"the manifests define {MAX_OBJECTS + 1:,} objects; a scenario may define at most "
                               f"{MAX_OBJECTS:,} (every state of the model holds them all: model a smaller cluster)")
    assert main(["validate", str(tmp_path)]) == 2
    assert "a scenario may define at most" in capsys.readouterr().err


def test_apply_steps_count_too(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(_config_maps(MAX_OBJECTS // 2 + 1))
    (tmp_path / "more.yaml").write_text(_config_maps(MAX_OBJECTS // 2 + 1, first=MAX_OBJECTS))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(HEAD + "manifests: [base.yaml]\nworkload:\n  - apply: more.yaml\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (str(scenario), 5, "workload[0].apply")
    assert problem.message.startswith(f"the manifests and apply steps define {MAX_OBJECTS + 2:,} objects")


def test_as_many_as_the_limit_load(tmp_path: Path) -> None:
    (tmp_path / "many.yaml").write_text(_config_maps(MAX_OBJECTS))
    assert len(load_scenario(tmp_path).objects) == MAX_OBJECTS
