"""A scenario's size is bounded before any object is applied: a manifest folder of tens of
thousands of objects is bad input naming the count and the limit, not minutes of bootstrapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import HEAD

from kubeprop.model.scenario.load import (
    MAX_OBJECTS,
    ScenarioError,
    declared_count,
    default_scenario_file,
    load_scenario,
)
from kubeprop.properties.cli.main import main


def _config_maps(count: int, first: int = 0) -> str:
    return "---\n".join(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: default}}\n"
                        for i in range(first, first + count))


def _default_declared(folder: Path) -> int:
    """The default topology's nodes and the default user with its binding (a bare manifest folder's)."""
    return declared_count(default_scenario_file(str(folder)))


def test_too_many_objects_in_a_manifest_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "many.yaml").write_text(_config_maps(MAX_OBJECTS + 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    [problem] = info.value.problems
    total = MAX_OBJECTS + 1 + _default_declared(tmp_path)
    past = 4 * (MAX_OBJECTS - _default_declared(tmp_path)) + 1  # each ConfigMap 3 lines and a `---`
    assert problem.message == (f"the manifests with the topology and the users define {total:,} objects; a scenario "
                               f"may define at most {MAX_OBJECTS:,} (every state of the model holds them all: model "
                               f"a smaller cluster); the first object past the limit is at {tmp_path / 'many.yaml'}:"
                               f"{past}")
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
    count = MAX_OBJECTS - _default_declared(tmp_path)
    (tmp_path / "many.yaml").write_text(_config_maps(count))
    assert len(load_scenario(tmp_path).objects) == count


@pytest.mark.parametrize(("section", "line", "field"), [("nodes", 4, "topology.nodes"), ("users", 3, "users")])
def test_the_topology_and_the_users_count_too(tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str,
                                             line: int, field: str) -> None:
    """20,000 nodes or 20,000 users took minutes to bootstrap: they are objects of every state too."""
    many = 3_000  # a user is two objects here: itself and its binding
    if section == "nodes":
        body = "topology:\n  nodes:\n" + "".join(
            f"    - {{name: n{i}, allocatable: {{cpu: '1', memory: 1Gi, pods: '10'}}}}\n" for i in range(2 * many))
    else:
        body = "users:\n" + "".join(f"  - {{name: u{i}, clusterRoles: [view]}}\n" for i in range(many))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(HEAD + body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario)
    [problem] = info.value.problems
    assert (problem.line, problem.field) == (line, field)
    assert problem.message.startswith(f"the topology's nodes and the users with their bindings define {2 * many:,} "
                                      f"objects; a scenario may define at most {MAX_OBJECTS:,}")
    assert main(["validate", str(scenario)]) == 2
    assert "a scenario may define at most" in capsys.readouterr().err
