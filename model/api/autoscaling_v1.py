"""`autoscaling/v1` HorizontalPodAutoscaler, decoded and converted to the stored `autoscaling/v2` form.

A v1.33 API server serves autoscaling/v1 beside v2 (v1 is not deprecated), and a manifest written
as `kubectl autoscale` makes it, or as the Kubernetes tutorials show it, is v1. The API server
converts it to its internal form on the way in (`pkg/apis/autoscaling/v1/conversion.go`
Convert_v1_HorizontalPodAutoscalerSpec_To_autoscaling_HorizontalPodAutoscalerSpec,
Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler): `scaleTargetRef`,
`minReplicas` and `maxReplicas` as they are; `targetCPUUtilizationPercentage` becomes one
`Resource` metric, cpu, target type Utilization with that average utilization; with none, the
conversion itself puts in cpu at `DefaultCPUUtilization` (80 %). The v1 defaults
(`pkg/apis/autoscaling/v1/defaults.go` SetDefaults_HorizontalPodAutoscaler: minReplicas 1) are the
v2 ones (`kubeprop.model.api.validation_policy.default_hpa`), and v1 has no `behavior`, so the
object is the v2 one the model already defaults, validates, stores and runs.

The round-trip annotations a v1 *output* carries (`autoscaling.alpha.kubernetes.io/conditions` and
`…/current-metrics`: status, which the conversion moves into the status and the create strategy
then clears) are dropped, as the conversion deletes them; `…/metrics` and `…/behavior` (more
metrics, scaling rules, in the older v2beta shapes) are refused as not modelled: write that HPA as
autoscaling/v2. Model choice: a `targetCPUUtilizationPercentage` below 1 is refused here, at its
own field (upstream's validation names the field it converts to,
`spec.metrics[0].resource.target.averageUtilization`, which a v1 manifest does not have, with the
same message); every other validation error has the same path in both versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from kubeprop.model.api.autoscaling import (
    CrossVersionObjectReference,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerSpec,
    MetricSpec,
    MetricTarget,
    ResourceMetricSource,
)
from kubeprop.model.api.codec import DecodeError, decode_attrs
from kubeprop.model.api.integers import Int32, Int64
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.evolve import evolve

API_VERSION: Final = "autoscaling/v1"
KIND: Final = "HorizontalPodAutoscaler"
DEFAULT_CPU_UTILIZATION: Final = 80
"""`autoscaling.DefaultCPUUtilization`: the target the conversion gives a v1 HPA that names none."""
DROPPED_ANNOTATIONS: Final = ("autoscaling.alpha.kubernetes.io/conditions",
                              "autoscaling.alpha.kubernetes.io/current-metrics")
REFUSED_ANNOTATIONS: Final = ("autoscaling.alpha.kubernetes.io/metrics", "autoscaling.alpha.kubernetes.io/behavior")


@attrs.frozen
class HorizontalPodAutoscalerSpecV1:
    """`staging/src/k8s.io/api/autoscaling/v1/types.go` HorizontalPodAutoscalerSpec."""

    scale_target_ref: CrossVersionObjectReference = CrossVersionObjectReference()
    min_replicas: Int32 | None = None
    max_replicas: Int32 = 0
    target_cpu_utilization_percentage: Int32 | None = attrs.field(
        default=None, metadata={"json": "targetCPUUtilizationPercentage"})


@attrs.frozen
class HorizontalPodAutoscalerStatusV1:
    """The v1 status, accepted and dropped (the create strategy clears an HPA's status)."""

    observed_generation: Int64 | None = None
    last_scale_time: Any = None
    current_replicas: Int32 = 0
    desired_replicas: Int32 = 0
    current_cpu_utilization_percentage: Int32 | None = attrs.field(
        default=None, metadata={"json": "currentCPUUtilizationPercentage"})


@attrs.frozen
class HorizontalPodAutoscalerV1:
    """An autoscaling/v1 HorizontalPodAutoscaler as written (`convert` gives the stored form)."""

    metadata: ObjectMeta = ObjectMeta()
    spec: HorizontalPodAutoscalerSpecV1 = HorizontalPodAutoscalerSpecV1()
    status: HorizontalPodAutoscalerStatusV1 = HorizontalPodAutoscalerStatusV1()


def _cpu(percent: int) -> MetricSpec:
    return MetricSpec(type="Resource", resource=ResourceMetricSource(
        name="cpu", target=MetricTarget(type="Utilization", average_utilization=percent)))


def convert(obj: HorizontalPodAutoscalerV1) -> HorizontalPodAutoscaler:
    """Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler (module docstring)."""
    spec = obj.spec
    target = spec.target_cpu_utilization_percentage
    metrics = (_cpu(DEFAULT_CPU_UTILIZATION if target is None else target),)
    annotations = obj.metadata.annotations
    for key in DROPPED_ANNOTATIONS:
        annotations = annotations.delete(key) if key in annotations else annotations
    return HorizontalPodAutoscaler(
        metadata=evolve(obj.metadata, annotations=annotations),
        spec=HorizontalPodAutoscalerSpec(scale_target_ref=spec.scale_target_ref, min_replicas=spec.min_replicas,
                                         max_replicas=spec.max_replicas, metrics=metrics))


def decode_hpa_v1(body: Mapping[str, Any]) -> HorizontalPodAutoscaler:
    """Decode an autoscaling/v1 HPA document (without apiVersion and kind), strictly, and convert
    it; every problem at once, at the v1 field that has it."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    decoded: HorizontalPodAutoscalerV1 = decode_attrs(HorizontalPodAutoscalerV1, body)
    annotations = decoded.metadata.annotations
    problems += [(("metadata", "annotations", key), "not modelled: metrics and scaling rules beyond a CPU target "
                  "in autoscaling/v1's round-trip annotations; write this HorizontalPodAutoscaler as "
                  "autoscaling/v2 (spec.metrics, spec.behavior)") for key in REFUSED_ANNOTATIONS if key in annotations]
    target = decoded.spec.target_cpu_utilization_percentage
    if target is not None and target < 1:
        problems.append((("spec", "targetCPUUtilizationPercentage"),
                         f"Invalid value: {target}: must be greater than 0 (upstream reports it at "
                         "spec.metrics[0].resource.target.averageUtilization, the field it converts to)"))
    if problems:
        (path, message), *_ = problems
        raise DecodeError(path, message, tuple(problems))
    return convert(decoded)
