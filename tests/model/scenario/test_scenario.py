"""Scenario loading: FeastFlow, bare manifest folders, and clear errors for bad scenario files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.objects import Deployment, Node, ObjectKey, StatefulSet
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ScenarioError, load_scenario


def test_feastflow_loads_and_every_object_is_admitted() -> None:
    scenario = load_scenario()
    assert scenario.name == "feastflow"
    result = bootstrap(scenario)
    assert not result.rejected, [str(o.response) for o in result.rejected]
    store = result.store
    backend = store.get(ObjectKey("deployments.apps", "default", "feastflow-backend"))
    assert isinstance(backend, Deployment) and backend.spec.replicas == 3
    assert isinstance(store.get(ObjectKey("statefulsets.apps", "default", "postgres")), StatefulSet)
    free = {}
    for name in ("worker-1", "worker-2", "worker-3"):
        node = store.get(ObjectKey("nodes", "", name))
        assert isinstance(node, Node)
        free[name] = (node.status.allocatable["cpu"], node.status.allocatable["memory"])
    assert free == {
        "worker-1": (Quantity.parse("400m"), Quantity.parse("512Mi")),
        "worker-2": (Quantity.parse("50m"), Quantity.parse("512Mi")),
        "worker-3": (Quantity.parse("600m"), Quantity.parse("1Gi")),
    }
    masters = [n for n in store.list("nodes") if isinstance(n, Node) and n.spec.taints]
    assert len(masters) == 3
    assert len(scenario.spec.topology.etcd) == 3


def test_scenario_content_hash_is_stable() -> None:
    assert load_scenario().content_hash == load_scenario().content_hash


def test_bare_manifest_folder_gets_default_topology(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    scenario = load_scenario(tmp_path)
    assert [n.name for n in scenario.spec.topology.nodes] == ["worker-1", "worker-2", "worker-3"]
    assert not bootstrap(scenario).rejected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\ntopology:\n  nodez: []\n",
         "topology.nodez: unknown field"),
        ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nvariant: broken\n", "variant: unknown variant"),
        ("apiVersion: kubeprop.dev/v1\nkind: Scenario\n", "apiVersion: must be kubeprop.dev/v1alpha1"),
        ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nparameters:\n  speed: 3\n", "parameters.speed: unknown"),
        ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nbounds:\n  maxDepth: deep\n",
         "bounds.maxDepth: expected an integer"),
        ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nadmission: ['no.such.module:x']\n", "cannot import"),
    ],
)
def test_bad_scenario_files_name_file_line_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert fragment in message
    assert f"{path}:" in message


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
