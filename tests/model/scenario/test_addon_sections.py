"""Bad environment, descheduler and maintenance sections are reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.scenario.load import ScenarioError, load_scenario

DATA = Path(__file__).parents[1] / "data"


def _broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    path = source.parent / f".broken-{tmp_path.name}.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(("source", "old", "new", "message"), [
    ("hpa/linear.yaml", "load: [150m]", "load: [150m]\n      levels: [1m]",
     "environment.usage[0]: exactly one of levels"),
    ("hpa/linear.yaml", "load: [150m]", "load: [150m]\n      resource: gpu",
     "environment.usage[0].resource: unsupported"),
    ("descheduler/duplicates.yaml", "intervalSeconds: 300", "intervalSeconds: 0",
     "descheduler.intervalSeconds: must be between 1 and 86,400"),
    ("descheduler/duplicates.yaml", "removeDuplicates: {}",
     "lowNodeUtilization: {thresholds: {cpu: 60}, targetThresholds: {cpu: 50}}",
     "descheduler.plugins.lowNodeUtilization.thresholds.cpu: must not exceed"),
    ("maintenance/blocked.yaml", "drain: {node: worker-1}", "drain: {node: worker-9}",
     "workload[0].drain.node: no node 'worker-9'"),
])
def test_bad_sections_name_the_field(tmp_path: Path, source: str, old: str, new: str, message: str) -> None:
    path = _broken(tmp_path, DATA / source, old, new)
    try:
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        assert message in str(err.value) and str(path) in str(err.value)
    finally:
        path.unlink()


NODES = """apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {capacity: {cpu: "2", memory: 4Gi, pods: "10"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {capacity: {cpu: "2", memory: 4Gi, pods: "10"}}
"""


@pytest.mark.parametrize("node", ["node-b", "node-c"])
def test_node_steps_name_the_nodes_of_node_manifests(tmp_path: Path, node: str) -> None:
    """The user trial: with the cluster's nodes given as Node manifests (no `topology.nodes`), a
    `cordon`/`drain`/`uncordon` step was refused: "no node 'node-b' in the topology"."""
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "nodes.yaml").write_text(NODES)
    (tmp_path / "scenario.yaml").write_text(
        "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: ops}\nmanifests: [manifests]\n"
        "users: [{name: admin, clusterRoles: [cluster-admin]}]\n"
        f"workload:\n  - cordon: {{node: {node}}}\n  - drain: {{node: {node}}}\n  - uncordon: {{node: {node}}}\n")
    if node == "node-b":
        assert [n.name for n in load_scenario(tmp_path).spec.topology.nodes] == ["node-a", "node-b"]
        return
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path)
    text = str(err.value)
    for i, step in enumerate(("cordon", "drain", "uncordon")):
        assert f"scenario.yaml:{7 + i}: workload[{i}].{step}.node: no node 'node-c' in the cluster; its nodes: " \
               "node-a, node-b" in text


def test_exit_codes_out_of_range_are_reported_with_those_of_the_wrong_type(tmp_path: Path) -> None:
    """`codes: [0, 256, -1, 1.5, '3', true]`: before, only the three that are no integer were reported
    (the list was left out, so its range was not judged); 256 and -1 showed only once those were
    fixed (audit 20b, F7)."""
    path = tmp_path / "exits.yaml"
    path.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: exits}\n"
                    "environment:\n  exits:\n    - {pods: {job-name: a}, codes: [0, 256, -1, 1.5, '3', true]}\n"
                    "    - {pods: {job-name: b}, codes: [0, 7]}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    found = {p.field: p.message for p in err.value.problems}
    assert set(found) == {f"environment.exits[0].codes[{k}]" for k in range(1, 6)}, found
    assert found["environment.exits[0].codes[1]"] == "must be an exit code from 0 to 255, got 256"
    assert found["environment.exits[0].codes[2]"] == "must be an exit code from 0 to 255, got -1"
    assert found["environment.exits[0].codes[3]"] == "expected an integer, got number 1.5"
