"""A workload `apply:` step's custom objects are decoded with the CRDs the cluster has when the step
runs (trial 11, the operator author): a file holding only a Widget, whose CRD is among the scenario's
manifests, was refused as "unknown kind Widget", while `kubectl apply -f widget.yaml` applies it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kubeprop.counterexamples.scenario_pack import pack
from kubeprop.model.api.objects import CustomObject
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import ScenarioError, load_scenario

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {color: {type: string}}}
"""
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {color: blue}
"""
OTHER = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: default}
"""


def _scenario(tmp_path: Path, manifests: dict[str, str], steps: list[str]) -> Path:
    (tmp_path / "m").mkdir()
    for name, text in manifests.items():
        (tmp_path / "m" / name).write_text(text)
    for name, text in {"crd.yaml": CRD, "widget.yaml": WIDGET}.items():
        (tmp_path / name).write_text(text)
    workload = "".join(f"  - apply: {step}\n" for step in steps)
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: kubeprop.dev/v1alpha1
        kind: Scenario
        metadata: {name: widgets}
        manifests: [m]
        topology:
          nodes: [{name: worker-1, allocatable: {cpu: "2", memory: 2Gi, pods: "10"}}]
        workload:
        """) + workload)
    return path


def _widgets(path: Path) -> list[str]:
    model = build_model(load_scenario(path))
    done = fair_run(model, initial_state(model), max_steps=400)
    return [o.metadata.name for o in done.state.store.objects.values() if isinstance(o, CustomObject)]


def test_a_custom_object_whose_crd_is_among_the_manifests(tmp_path: Path) -> None:
    path = _scenario(tmp_path, {"crd.yaml": CRD}, ["widget.yaml"])
    assert _widgets(path) == ["w1"]
    assert "widget.yaml" in [f.path for f in pack(load_scenario(path)).files]  # recorded with a counterexample


def test_a_custom_object_whose_crd_an_earlier_step_applied(tmp_path: Path) -> None:
    path = _scenario(tmp_path, {"other.yaml": OTHER}, ["crd.yaml", "widget.yaml"])
    assert _widgets(path) == ["w1"]


def test_a_crd_applied_only_by_a_later_step_is_not_known_yet(tmp_path: Path) -> None:
    path = _scenario(tmp_path, {"other.yaml": OTHER}, ["widget.yaml", "crd.yaml"])
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert problem.field == "kind" and "unknown kind Widget (example.com/v1)" in problem.message
    assert "applied by an earlier step" in problem.message
