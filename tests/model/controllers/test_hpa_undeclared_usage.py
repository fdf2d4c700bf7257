"""An HPA whose pods' usage the scenario does not declare (trial 9, s1-helm/replay-v2-full.txt).

The model does not know such usage, so its metrics API returns nothing for those pods: the HPA
sets ScalingActive False (FailedGetResourceMetric) and leaves the replicas alone, as upstream's
does without metrics (`horizontal.go` computeReplicasForMetrics / reconcileAutoscaler). Before,
it read usage 0 and scaled the Deployment down to minReplicas, undoing the user's `scale`.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.objects import Deployment, ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.usage_note import undeclared_usage_note
from kubeprop.properties.cli.main import main

DATA = Path(__file__).parents[1] / "data" / "hpa"
HPA = ObjectKey("horizontalpodautoscalers.autoscaling", "default", "web")
WEB = ObjectKey("deployments.apps", "default", "web")


def _scenario(tmp_path: Path, usage: str) -> Path:
    text = (DATA / "linear.yaml").read_text()
    start = text.index("environment:")
    path = tmp_path / "scenario.yaml"
    path.write_text(text[:start] + usage + text[text.index("parameters:"):])
    (tmp_path / "linear").mkdir()
    (tmp_path / "linear" / "app.yaml").write_text((DATA / "linear" / "app.yaml").read_text())
    return path


def _settled_at(path: Path, replicas: int) -> tuple[Deployment, HorizontalPodAutoscaler]:
    """The user's `kubectl scale --replicas` before the HPA's first sync, then the cluster settles."""
    model = build_model(load_scenario(path))
    state = initial_state(model)
    deployment = state.store.get(WEB)
    assert isinstance(deployment, Deployment)
    scaled = attrs.evolve(deployment, spec=attrs.evolve(deployment.spec, replicas=replicas))
    store, _, _ = state.store.put(scaled, "MODIFIED")
    state = settle(model, attrs.evolve(state, store=store), max_steps=3000, max_ticks=60).state
    final, hpa = state.store.get(WEB), state.store.get(HPA)
    assert isinstance(final, Deployment) and isinstance(hpa, HorizontalPodAutoscaler)
    return final, hpa


def test_no_declared_usage_leaves_the_users_scale_and_says_why(tmp_path: Path) -> None:
    deployment, hpa = _settled_at(_scenario(tmp_path, ""), 3)
    assert deployment.spec.replicas == 3  # was 1: minReplicas, from a usage of 0
    active = next(c for c in hpa.status.conditions if c.type == "ScalingActive")
    assert (active.status, active.reason) == ("False", "FailedGetResourceMetric")
    assert active.message.endswith("unable to get metrics for resource cpu: no metrics returned from resource "
                                   "metrics API")  # upstream's text alone; the model's reason is in the load note


def test_usage_declared_for_another_resource_does_not_count(tmp_path: Path) -> None:
    usage = "environment:\n  usage:\n    - pods: {app: web}\n      resource: memory\n      levels: [10Mi]\n"
    deployment, hpa = _settled_at(_scenario(tmp_path, usage), 3)
    assert deployment.spec.replicas == 3
    assert {c.type: c.reason for c in hpa.status.conditions}["ScalingActive"] == "FailedGetResourceMetric"


def test_declared_zero_usage_still_scales_down(tmp_path: Path) -> None:
    """A declared 0 is a known value: the HPA scales the target down to minReplicas."""
    usage = "environment:\n  usage:\n    - pods: {app: web}\n      levels: ['0']\n"
    deployment, hpa = _settled_at(_scenario(tmp_path, usage), 3)
    assert deployment.spec.replicas == 1
    assert {c.type: c.reason for c in hpa.status.conditions}["ScalingActive"] == "ValidMetricFound"


def test_validate_and_check_say_so_at_load(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The note names the HPA and the resource; a scenario declaring the usage gets none."""
    path = _scenario(tmp_path, "")
    note = undeclared_usage_note(load_scenario(path).spec, (m.obj for m in load_scenario(path).objects))
    assert note is not None and note.startswith(
        "note: no environment.usage declares the pods' usage that HorizontalPodAutoscaler default/web (cpu) scales on")
    assert main(["validate", str(path)]) == 0
    assert note in capsys.readouterr().out.splitlines()
    main(["check", str(path), "--engine", "around", "--budget", "3", "--property", "deployments-complete",
          "--out", str(tmp_path / "out")])
    assert note in capsys.readouterr().out.splitlines()
    declared = load_scenario(DATA / "linear.yaml")
    assert undeclared_usage_note(declared.spec, (m.obj for m in declared.objects)) is None
