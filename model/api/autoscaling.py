"""`autoscaling/v2` HorizontalPodAutoscaler (`staging/src/k8s.io/api/autoscaling/v2/types.go`).

Every metric source type decodes; the model computes `Resource` and `ContainerResource`
metrics (from the environment's usage, `kubeprop.model.cluster.environment`). `Pods`, `Object`
and `External` sources decode as opaque JSON: the controller reports them as metrics it cannot
get (there is no custom or external metrics API in the model). `tolerance` in the scaling rules
(`HPAConfigurableTolerance`, alpha in v1.33, off by default) is accepted and ignored, as a
v1.33 API server with the gate off drops it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.integers import Int32, Int64
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta
from kubeprop.model.api.quantity import Quantity


@attrs.frozen
class CrossVersionObjectReference:
    """The scale target: kind, name and apiVersion of a workload in the HPA's namespace."""

    kind: str = ""
    name: str = ""
    api_version: str = ""


@attrs.frozen
class MetricTarget:
    """`Utilization` (averageUtilization, percent of requests), `Value` or `AverageValue`."""

    type: str = ""
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: Int32 | None = None


@attrs.frozen
class ResourceMetricSource:
    """A resource (cpu, memory) of every container of the target's pods."""

    name: str = ""
    target: MetricTarget = MetricTarget()


@attrs.frozen
class ContainerResourceMetricSource:
    """A resource of one named container of the target's pods."""

    name: str = ""
    target: MetricTarget = MetricTarget()
    container: str = ""


@attrs.frozen
class MetricSpec:
    """One metric: `type` says which of the source fields is set."""

    type: str = ""
    resource: ResourceMetricSource | None = None
    container_resource: ContainerResourceMetricSource | None = None
    pods: Any = None
    object: Any = None
    external: Any = None


@attrs.frozen(order=True)
class HPAScalingPolicy:
    """At most `value` pods (`Pods`) or percent (`Percent`) of change per `periodSeconds`."""

    type: str = ""
    value: Int32 = 0
    period_seconds: Int32 = 0


@attrs.frozen
class HPAScalingRules:
    """One direction's rules: stabilisation window, rate policies, and how to pick among them."""

    IGNORED_JSON_FIELDS: ClassVar[tuple[str, ...]] = ("tolerance",)

    stabilization_window_seconds: Int32 | None = None
    select_policy: str | None = None
    policies: tuple[HPAScalingPolicy, ...] = ()


@attrs.frozen
class HorizontalPodAutoscalerBehavior:
    """Scale-up and scale-down rules (defaulted as a whole when either is given)."""

    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None


@attrs.frozen(cache_hash=True)
class HorizontalPodAutoscalerSpec:
    """What to scale, within which bounds, on which metrics, and how fast."""

    scale_target_ref: CrossVersionObjectReference = CrossVersionObjectReference()
    min_replicas: Int32 | None = None
    max_replicas: Int32 = 0
    metrics: tuple[MetricSpec, ...] = ()
    behavior: HorizontalPodAutoscalerBehavior | None = None


@attrs.frozen
class MetricValueStatus:
    """A metric's current value (one of the three forms)."""

    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: Int32 | None = None


@attrs.frozen
class ResourceMetricStatus:
    """The current value of a resource metric."""

    name: str = ""
    current: MetricValueStatus = MetricValueStatus()


@attrs.frozen
class ContainerResourceMetricStatus:
    """The current value of a container resource metric."""

    name: str = ""
    current: MetricValueStatus = MetricValueStatus()
    container: str = ""


@attrs.frozen
class MetricStatus:
    """The current value of one metric of the spec."""

    type: str = ""
    resource: ResourceMetricStatus | None = None
    container_resource: ContainerResourceMetricStatus | None = None
    pods: Any = None
    object: Any = None
    external: Any = None


@attrs.frozen
class HorizontalPodAutoscalerStatus:
    """What the HPA controller last observed and decided."""

    observed_generation: Int64 | None = None
    last_scale_time: Int64 | None = None
    current_replicas: Int32 = 0
    desired_replicas: Int32 = 0
    current_metrics: tuple[MetricStatus, ...] = ()
    conditions: tuple[Condition, ...] = ()


@attrs.frozen(cache_hash=True)
class HorizontalPodAutoscaler:
    """A HorizontalPodAutoscaler: scales a workload through its scale subresource."""

    INFO: ClassVar[KindInfo] = KindInfo("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
                                        namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: HorizontalPodAutoscalerSpec = HorizontalPodAutoscalerSpec()
    status: HorizontalPodAutoscalerStatus = HorizontalPodAutoscalerStatus()
