"""Node objects in the manifests are the topology (issue 13 item 2): no default workers added, the
scenario's `topology.nodes` and Node manifests together is an error naming both."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import deployment_head

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.state.cluster import kubelet
from kubeprop.properties.cli.main import main

NODE = """apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{topology.kubernetes.io/zone: {zone}}}
spec: {{unschedulable: {cordoned}}}
status:
  allocatable: {{cpu: "1", memory: 2Gi, pods: "10"}}
"""
APP = deployment_head(3, "default") + """\
    spec:
      containers: [{name: web, image: web:1, resources: {requests: {cpu: 600m, memory: 64Mi}}}]
"""


def _folder(tmp_path: Path, names: tuple[str, ...] = ("a", "b", "c")) -> Path:
    folder = tmp_path / "cluster"
    folder.mkdir()
    (folder / "nodes.yaml").write_text("---\n".join(
        NODE.format(name=n, zone="z1" if i < 2 else "z2", cordoned="false") for i, n in enumerate(names)))
    (folder / "app.yaml").write_text(APP)
    return folder


def test_a_folder_with_nodes_has_exactly_those_nodes(tmp_path: Path) -> None:
    scenario = load_scenario(_folder(tmp_path))
    assert [n.name for n in scenario.spec.topology.nodes] == ["a", "b", "c"]
    decl = scenario.spec.topology.nodes[0]
    assert decl.labels["topology.kubernetes.io/zone"] == "z1" and str(decl.allocatable["cpu"]) == "1"
    model = build_model(scenario)
    assert model.nodes == ("a", "b", "c")
    state = initial_state(model)
    assert sorted(k.name for k in state.store.objects if k.resource == "nodes") == ["a", "b", "c"]
    assert kubelet("a") in state.informers or model.instant_caches
    assert "system:node:c" in scenario.users
    nodes = [o for o in bootstrap(scenario).outcomes if o.origin == "topology"]
    assert [(o.obj.metadata.name, o.source is not None, o.response.ok) for o in nodes] == [
        ("a", True, True), ("b", True, True), ("c", True, True)]  # created once, from the manifest's line


def test_a_folder_without_nodes_still_gets_the_default_workers(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.yaml").write_text(APP)
    assert [n.name for n in load_scenario(folder).spec.topology.nodes] == ["worker-1", "worker-2", "worker-3"]


def test_a_scenario_without_topology_takes_the_manifests_nodes(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: [cluster]\n")
    assert [n.name for n in load_scenario(scenario).spec.topology.nodes] == ["a", "b", "c"]
    assert folder.exists()


def test_topology_and_node_manifests_together_is_an_error_naming_both(tmp_path: Path) -> None:
    _folder(tmp_path)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: [cluster]\n"
                        "topology:\n  nodes:\n    - name: w\n      allocatable: {cpu: '1', memory: 1Gi, pods: '10'}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario)
    text = str(err.value)
    assert f"{scenario}:5: topology.nodes: nodes are declared here and as Node manifests" in text
    assert "cluster/nodes.yaml:1 Node a" in text and "declare them in one place" in text


def test_a_node_manifest_without_a_size_is_an_error_at_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "nodes.yaml").write_text("apiVersion: v1\nkind: Node\nmetadata: {name: tiny}\n")
    with pytest.raises(ScenarioError, match=r"nodes.yaml:1: status.allocatable: Node tiny: needs status.allocatable"):
        load_scenario(folder)


def test_kubeprop_schedule_on_a_folder_with_three_nodes_answers_about_three(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 3 pods of 600m on three 1-CPU nodes: one each, and only a, b, c are ever named.
    code = main(["schedule", str(_folder(tmp_path))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 pod(s) to place on 3 node(s)" in out
    assert "worker-" not in out
    assert main(["schedule", str(tmp_path / "cluster"), "--drain", "a"]) == 1  # 3 × 600m do not fit on b and c


def test_a_relative_manifest_folder_resolves_from_the_working_folder(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: `kubeprop schedule examples/x/manifests` looked for examples/x/examples/x/manifests.
    _folder(tmp_path)
    monkeypatch.chdir(tmp_path.parent)
    scenario = load_scenario(Path(tmp_path.name) / "cluster")
    assert [n.name for n in scenario.spec.topology.nodes] == ["a", "b", "c"]
    assert len(scenario.objects) == 4
