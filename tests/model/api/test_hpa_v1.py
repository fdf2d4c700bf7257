"""autoscaling/v1 HorizontalPodAutoscaler (audit14: refused, "no kind HorizontalPodAutoscaler in
version autoscaling/v1", though a v1.33 API server serves it). Decoded and converted as
`pkg/apis/autoscaling/v1/conversion.go` converts it: targetCPUUtilizationPercentage becomes a cpu
Utilization metric, none becomes cpu at 80 %; minReplicas defaults to 1 (`defaults.go`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_run import kubeprop

from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.objects import decode_object
from kubeprop.model.api.validation_policy import default_hpa


def _v1(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", **metadata},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, **spec}}


def _v2(metrics: list[dict[str, Any]] | None, **spec: Any) -> dict[str, Any]:
    body = _v1(spec)
    body["apiVersion"] = "autoscaling/v2"
    if metrics is not None:
        body["spec"]["metrics"] = metrics
    return body


def _cpu(percent: int) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                      "averageUtilization": percent}}}


def test_a_v1_hpa_is_the_v2_hpa_its_conversion_gives() -> None:
    """Failed before: a DecodeError at `kind`."""
    v1 = decode_object(_v1({"minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 50}))
    assert isinstance(v1, HorizontalPodAutoscaler)
    assert v1 == decode_object(_v2([_cpu(50)], minReplicas=2, maxReplicas=10))


def test_without_a_target_the_conversion_puts_cpu_at_80_and_min_replicas_defaults_to_1() -> None:
    v1 = decode_object(_v1({"maxReplicas": 3}))
    assert isinstance(v1, HorizontalPodAutoscaler)
    assert v1 == decode_object(_v2([_cpu(80)], maxReplicas=3))
    assert default_hpa(v1).spec.min_replicas == 1


def test_status_and_its_round_trip_annotations_are_dropped() -> None:
    body = _v1({"maxReplicas": 3}, annotations={"autoscaling.alpha.kubernetes.io/conditions": "[]", "team": "a"})
    body["status"] = {"currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 12}
    v1 = decode_object(body)
    assert isinstance(v1, HorizontalPodAutoscaler) and dict(v1.metadata.annotations) == {"team": "a"}


def test_v1_bad_input_names_the_v1_fields() -> None:
    body = _v1({"maxReplicas": 3, "targetCPUUtilizationPercentage": 0, "metrics": []},
               annotations={"autoscaling.alpha.kubernetes.io/metrics": "[]"})
    with pytest.raises(DecodeError) as err:
        decode_object(body)
    assert [p for p, _ in err.value.problems] == [("spec", "metrics")]  # unknown in v1, first
    del body["spec"]["metrics"]
    with pytest.raises(DecodeError) as err:
        decode_object(body)
    assert [p for p, _ in err.value.problems] == [
        ("metadata", "annotations", "autoscaling.alpha.kubernetes.io/metrics"),
        ("spec", "targetCPUUtilizationPercentage")]
    assert "must be greater than 0" in err.value.problems[1][1]


def test_validate_reports_the_line_and_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "hpa.yaml").write_text(
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n"
        "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 3\n"
        "  targetCPUUtilizationPercentage: -5\n")
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 2
    assert "hpa.yaml:7: spec.targetCPUUtilizationPercentage: Invalid value: -5: must be greater than 0" in out + err
