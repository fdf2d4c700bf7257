"""Trial 9, F2: pods requesting `ephemeral-storage` on the default workers, and on declared nodes
that declare none.

Every real kubelet reports an ephemeral-storage capacity (its root filesystem), so the default
workers of a bare manifest folder declare one (18Gi: `load.DEFAULT_WORKER_ALLOCATABLE`): a
Bitnami-style Deployment requesting 50Mi becomes available on its fair run (before: `3
Insufficient ephemeral-storage`, deployments-complete VIOLATED). A scenario's own nodes keep what
they declare, and `validate` and `check` say which of them lack the field when a pod requests it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.quantity import Quantity
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.nodes import ephemeral_storage_note
from kubeprop.properties.cli.main import main

REDIS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
      - name: redis
        image: bitnami/redis:7.4
        resources:
          requests: {cpu: 100m, memory: 128Mi, ephemeral-storage: 50Mi}
          limits: {cpu: 150m, memory: 192Mi, ephemeral-storage: 2Gi}
"""

SCENARIO = """\
apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {{name: declared}}
manifests: [app.yaml]
topology:
  nodes:
    - name: worker-1
      allocatable: {{{worker_1}}}
    - name: worker-2
      allocatable: {{cpu: '2', memory: 4Gi, pods: '110'}}
"""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.yaml").write_text(REDIS)
    return folder


def test_default_workers_declare_ephemeral_storage(tmp_path: Path) -> None:
    scenario = load_scenario(_folder(tmp_path))
    for node in scenario.spec.topology.nodes:
        assert node.allocatable["ephemeral-storage"] == Quantity.parse("18Gi")
    assert ephemeral_storage_note(scenario.spec, (m.obj for m in scenario.objects)) is None


def test_a_pod_requesting_ephemeral_storage_completes_on_the_default_workers(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The fair run of the trial's Deployment completes (it was a false alarm: VIOLATED)."""
    code = main(["check", str(_folder(tmp_path)), "--engine", "around", "--budget", "5",
                 "--property", "deployments-complete", "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "VIOLATED" not in out and "ephemeral-storage" not in out


def _declared(tmp_path: Path, worker_1: str) -> Path:
    (tmp_path / "app.yaml").write_text(REDIS)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(worker_1=worker_1))
    return path


def test_declared_nodes_without_ephemeral_storage_are_named(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    path = _declared(tmp_path, "cpu: '2', memory: 4Gi, pods: '110', ephemeral-storage: 18Gi")
    note = ephemeral_storage_note(load_scenario(path).spec, (m.obj for m in load_scenario(path).objects))
    assert note is not None
    assert note.startswith("note: Deployment default/redis requests ephemeral-storage, but node worker-2 declares "
                           "none")
    assert "worker-1" not in note and "allocatable" in note
    assert main(["validate", str(path)]) == 0
    assert note in capsys.readouterr().out.splitlines()
    main(["check", str(path), "--engine", "around", "--budget", "5", "--property", "deployments-complete",
          "--out", str(tmp_path / "out")])
    assert note in capsys.readouterr().out.splitlines()


def test_no_note_when_every_node_declares_it_or_no_pod_requests_it(tmp_path: Path) -> None:
    both = _declared(tmp_path, "cpu: '2', memory: 4Gi, pods: '110', ephemeral-storage: 18Gi")
    both.write_text(both.read_text().replace("pods: '110'}", "pods: '110', ephemeral-storage: 1Gi}"))
    scenario = load_scenario(both)
    assert all("ephemeral-storage" in n.allocatable for n in scenario.spec.topology.nodes)
    assert ephemeral_storage_note(scenario.spec, (m.obj for m in scenario.objects)) is None
    path = _declared(tmp_path, "cpu: '2', memory: 4Gi, pods: '110'")
    (tmp_path / "app.yaml").write_text(REDIS.replace(", ephemeral-storage: 50Mi", "").replace(
        ", ephemeral-storage: 2Gi", ""))
    plain = load_scenario(path)
    assert ephemeral_storage_note(plain.spec, (m.obj for m in plain.objects)) is None


def test_a_limit_alone_counts_as_the_request(tmp_path: Path) -> None:
    """Upstream defaults a pod's missing request to its limit (`SetDefaults_Pod`)."""
    path = _declared(tmp_path, "cpu: '2', memory: 4Gi, pods: '110'")
    (tmp_path / "app.yaml").write_text(REDIS.replace(", ephemeral-storage: 50Mi", ""))
    scenario = load_scenario(path)
    note = ephemeral_storage_note(scenario.spec, (m.obj for m in scenario.objects))
    assert note is not None and "nodes worker-1, worker-2 declare none" in note
