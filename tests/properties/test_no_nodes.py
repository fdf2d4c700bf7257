"""A scenario file without nodes (trial 8, M2 and B3): it keeps the cluster it declares — no node,
unlike the same manifests given as a folder — and says so: `kubeprop validate` and `kubeprop check`
print a note, and the properties about pods on nodes are vacuous there instead of "held"."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.nodes import no_nodes_note
from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.validate import run_validate
from kubeprop.properties.registry import select
from kubeprop.properties.vacuity import BUILTIN_NEEDS, NO_NODE, vacuous_properties

WEB = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: web:v1, resources: {requests: {cpu: 100m}}}
"""
NODE = """apiVersion: v1
kind: Node
metadata: {name: late-1}
status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}}
"""
NODE_PROPERTIES = {"node-not-overcommitted", "pods-on-unknown-nodes-not-ready", "bindings-respect-hard-constraints",
                   "scheduler-decisions-sound", "schedulable-pods-bound", "one-running-pod-per-identity",
                   "read-write-once-volume-on-one-node"}


def _scenario(folder: Path, extra: str = "") -> Path:
    (folder / "web.yaml").write_text(WEB)
    path = folder / "scenario.yaml"
    path.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: nonodes}\n"
                    f"manifests: [web.yaml]\nfaults: {{nodeCrash: 1, partition: 1}}\n{extra}")
    return path


def test_a_scenario_file_without_topology_has_no_node_and_its_folder_has_three(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    assert build_model(load_scenario(path)).nodes == ()
    assert build_model(load_scenario(tmp_path / "web.yaml")).nodes == ("worker-1", "worker-2", "worker-3")


def test_node_properties_are_vacuous_without_a_node(tmp_path: Path) -> None:
    model = build_model(load_scenario(_scenario(tmp_path)))
    vacuous = vacuous_properties(model, select())
    assert set(vacuous) >= NODE_PROPERTIES
    # no StatefulSet, no claim: those two were vacuous already, for that reason
    assert {name for name, why in vacuous.items() if why == NO_NODE} == NODE_PROPERTIES - {
        "one-running-pod-per-identity", "read-write-once-volume-on-one-node"}
    assert {name for name, needs in BUILTIN_NEEDS.items() if needs.nodes} == NODE_PROPERTIES
    # with a node the fault budget decides, as before: nodeCrash and partition are budgeted
    with_node = build_model(load_scenario(_scenario(tmp_path, "topology:\n  nodes:\n    - {name: w, capacity: "
                                                              "{cpu: '2', memory: 4Gi, pods: '110'}}\n")))
    assert NO_NODE not in vacuous_properties(with_node, select()).values()
    assert "pods-on-unknown-nodes-not-ready" not in vacuous_properties(with_node, select())


def test_a_node_an_apply_step_writes_counts(tmp_path: Path) -> None:
    (tmp_path / "node.yaml").write_text(NODE)
    model = build_model(load_scenario(_scenario(tmp_path, "workload:\n  - apply: node.yaml\n")))
    assert not set(vacuous_properties(model, select())) & {"node-not-overcommitted", "schedulable-pods-bound"}


def test_validate_and_check_say_the_scenario_declares_no_nodes(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path)
    note = no_nodes_note(load_scenario(path).spec)
    assert note is not None and note.startswith("note: the scenario declares no nodes (no `topology.nodes`")
    out = io.StringIO()
    assert run_validate(path, "text", out) == 0
    assert out.getvalue().splitlines()[1] == note
    code = main(["check", str(path), "--engine", "bfs", "--max-depth", "2", "--budget", "20", "--progress", "none",
                 "--out", str(tmp_path / "out")])
    text = capsys.readouterr().out
    assert code in (0, 1), text
    assert text.splitlines()[1] == note
    assert re.search(r"node-not-overcommitted +vacuous", text)
    assert f"  pods-on-unknown-nodes-not-ready: {NO_NODE}\n" in text


def test_no_note_where_the_cluster_has_nodes(tmp_path: Path) -> None:
    _scenario(tmp_path)
    (tmp_path / "node.yaml").write_text(NODE)
    path = tmp_path / "with-node.yaml"
    path.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: [web.yaml, node.yaml]\n")
    assert no_nodes_note(load_scenario(path).spec) is None  # a Node manifest is the topology
    assert no_nodes_note(load_scenario(tmp_path / "web.yaml").spec) is None  # a folder's default workers
