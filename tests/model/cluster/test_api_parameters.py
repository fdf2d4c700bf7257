"""Model parameters that configure the API server (issue 12): `defaultTolerationSeconds` sets the
tolerationSeconds the DefaultTolerationSeconds admission plug-in adds
(plugin/pkg/admission/defaulttolerationseconds/admission.go, flags
--default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds, 300 by default),
for pods created while exploring and for pods among the scenario's manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import load_scenario

WEB = Path(__file__).parents[1] / "data" / "variants" / "web.yaml"
TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def _seconds(pod: Pod) -> dict[str, int | None]:
    return {t.key: t.toleration_seconds for t in pod.spec.tolerations if t.key in TAINTS}


@pytest.mark.parametrize("seconds", [None, 60])
def test_pods_created_by_controllers_get_the_configured_seconds(seconds: int | None) -> None:
    params: dict[str, object] = {"instantCaches": True}
    if seconds is not None:
        params["defaultTolerationSeconds"] = seconds
    model = build_model(load_scenario(WEB), parameters=params)
    state = settle(model, initial_state(model)).state
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    assert pods
    want = 300 if seconds is None else seconds
    assert all(_seconds(p) == dict.fromkeys(TAINTS, want) for p in pods)


def test_pods_in_the_manifests_get_the_scenarios_seconds(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: default}\n"
        "spec: {containers: [{name: app, image: app:1}]}\n")
    (tmp_path / "scenario.yaml").write_text(
        "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: [pod.yaml]\n"
        "topology: {nodes: [{name: worker-1, allocatable: {cpu: '1', memory: 1Gi, pods: '10'}}]}\n"
        "users: [{name: admin, clusterRoles: [cluster-admin]}]\nparameters: {defaultTolerationSeconds: 45}\n")
    scenario = load_scenario(tmp_path / "scenario.yaml")
    booted = [p for p in bootstrap(scenario).store.list("pods") if isinstance(p, Pod)]
    assert [_seconds(p) for p in booted] == [dict.fromkeys(TAINTS, 45)]
    stored = [p for p in initial_state(build_model(scenario)).store.list("pods") if isinstance(p, Pod)]
    assert [_seconds(p) for p in stored] == [dict.fromkeys(TAINTS, 45)]
    overridden = build_model(scenario, parameters={"defaultTolerationSeconds": 7})
    stored = [p for p in initial_state(overridden).store.list("pods") if isinstance(p, Pod)]
    assert [_seconds(p) for p in stored] == [dict.fromkeys(TAINTS, 7)]
