"""Defaults and validation of HorizontalPodAutoscaler and PodDisruptionBudget.

Upstream: `pkg/apis/autoscaling/v2/defaults.go` (SetDefaults_HorizontalPodAutoscaler, the default
scaling rules), `pkg/apis/autoscaling/validation/validation.go` (ValidateHorizontalPodAutoscaler,
validateMetricSpec, validateScalingRules; HPAScaleToZero off, so minReplicas ≥ 1),
`pkg/apis/policy/validation/validation.go` (ValidatePodDisruptionBudgetSpec).
"""

from __future__ import annotations

from typing import Any, Final

from kubeprop.model.api.autoscaling import (
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior,
    HPAScalingPolicy,
    HPAScalingRules,
    MetricSpec,
    MetricTarget,
    ResourceMetricSource,
)
from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.api.validation_fields import (
    ErrorList,
    dns1123_label,
    forbidden,
    int_or_percent,
    invalid,
    label_selector,
    nonnegative,
    not_more_than_100_percent,
    not_supported,
    required,
)
from kubeprop.model.evolve import evolve

DEFAULT_CPU_UTILIZATION: Final = 80
MAX_STABILIZATION_WINDOW_SECONDS: Final = 3600
MAX_PERIOD_SECONDS: Final = 1800
SCALE_UP_RULES: Final = HPAScalingRules(
    stabilization_window_seconds=0, select_policy="Max",
    policies=(HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", 100, 15)),
)
"""`defaultHPAScaleUpRules`: no window; the larger of +4 pods and +100 % per 15 s."""
SCALE_DOWN_RULES: Final = HPAScalingRules(
    stabilization_window_seconds=None, select_policy="Max", policies=(HPAScalingPolicy("Percent", 100, 15),),
)
"""`defaultHPAScaleDownRules`: the window stays unset (the controller's
`--horizontal-pod-autoscaler-downscale-stabilization`, 300 s, fills it); −100 % per 15 s."""


def _rules(given: HPAScalingRules | None, default: HPAScalingRules) -> HPAScalingRules:
    """copyHPAScalingRules: each unset field of `given` from `default`."""
    if given is None:
        return default
    return HPAScalingRules(
        stabilization_window_seconds=(given.stabilization_window_seconds
                                      if given.stabilization_window_seconds is not None
                                      else default.stabilization_window_seconds),
        select_policy=given.select_policy if given.select_policy is not None else default.select_policy,
        policies=given.policies or default.policies,
    )


def default_hpa(obj: HorizontalPodAutoscaler) -> HorizontalPodAutoscaler:
    """SetDefaults_HorizontalPodAutoscaler: minReplicas 1, CPU at 80 % when no metric is given,
    and a given `behavior` completed with the default rules."""
    spec = obj.spec
    metrics = spec.metrics or (MetricSpec(type="Resource", resource=ResourceMetricSource(
        name="cpu", target=MetricTarget(type="Utilization", average_utilization=DEFAULT_CPU_UTILIZATION))),)
    behavior = spec.behavior
    if behavior is not None:
        behavior = HorizontalPodAutoscalerBehavior(scale_up=_rules(behavior.scale_up, SCALE_UP_RULES),
                                                   scale_down=_rules(behavior.scale_down, SCALE_DOWN_RULES))
    min_replicas = 1 if spec.min_replicas is None else spec.min_replicas
    return evolve(obj, spec=evolve(spec, min_replicas=min_replicas, metrics=metrics, behavior=behavior))


def default_pdb(obj: PodDisruptionBudget) -> PodDisruptionBudget:
    """PodDisruptionBudget has no defaults in v1 (`unhealthyPodEvictionPolicy` stays unset,
    which the eviction subresource reads as IfHealthyBudget)."""
    return obj


# --- HorizontalPodAutoscaler ---------------------------------------------------------------------

_SOURCES: Final = {"Object": "object", "Pods": "pods", "Resource": "resource", "External": "external",
                   "ContainerResource": "containerResource"}


def _target(t: MetricTarget, path: FieldPath) -> ErrorList:
    errs: ErrorList = []
    if not t.type:
        errs.append(required((*path, "type"), "must specify a metric target type"))
    if t.type not in ("Utilization", "Value", "AverageValue"):
        errs.append(invalid((*path, "type"), t.type, "must be either Utilization, Value, or AverageValue"))
    for name, q in (("value", t.value), ("averageValue", t.average_value)):
        if q is not None and q.sign() != 1:
            errs.append(invalid((*path, name), str(q), "must be positive"))
    if t.average_utilization is not None and t.average_utilization < 1:
        errs.append(invalid((*path, "averageUtilization"), t.average_utilization, "must be greater than 0"))
    return errs


def _resource_source(name: str, target: MetricTarget, container: str | None, path: FieldPath) -> ErrorList:
    errs: ErrorList = []
    if not name:
        errs.append(required((*path, "name"), "must specify a resource name"))
    if container is not None:
        errs += (dns1123_label(container, (*path, "container")) if container
                 else [required((*path, "container"), "must specify a container")])
    errs += _target(target, (*path, "target"))
    if target.average_utilization is None and target.average_value is None:
        errs.append(required((*path, "target", "averageUtilization"),
                             "must set either a target raw value or a target utilization"))
    if target.average_utilization is not None and target.average_value is not None:
        errs.append(forbidden((*path, "target", "averageValue"),
                              "may not set both a target raw value and a target utilization"))
    return errs


def _metric(spec: MetricSpec, path: FieldPath) -> ErrorList:
    """validateMetricSpec, for the sources the model decodes field by field (Resource,
    ContainerResource); the others are checked only for presence."""
    errs: ErrorList = []
    if not spec.type:
        errs.append(required((*path, "type"), "must specify a metric source type"))
    if spec.type not in _SOURCES:
        errs.append(not_supported((*path, "type"), spec.type, sorted(_SOURCES)))
    present = [json for attr, json in (("object", "object"), ("external", "external"), ("pods", "pods"),
                                       ("resource", "resource"), ("container_resource", "containerResource"))
               if getattr(spec, attr) is not None]
    if spec.resource is not None and present[0] == "resource":
        errs += _resource_source(spec.resource.name, spec.resource.target, None, (*path, "resource"))
    if spec.container_resource is not None and present[0] == "containerResource":
        c = spec.container_resource
        errs += _resource_source(c.name, c.target, c.container, (*path, "containerResource"))
    expected = _SOURCES.get(spec.type, "")
    if expected and expected not in present:
        errs.append(required((*path, expected), "must populate information for the given metric source"))
    if len(present) != 1:
        errs += [forbidden((*path, other), "must populate the given metric source only")
                 for other in present if other != expected]
    return errs


def _scaling_rules(rules: HPAScalingRules | None, path: FieldPath) -> ErrorList:
    if rules is None:
        return []
    errs: ErrorList = []
    window = rules.stabilization_window_seconds
    if window is not None and window < 0:
        errs.append(invalid((*path, "stabilizationWindowSeconds"), window, "must be greater than or equal to zero"))
    if window is not None and window > MAX_STABILIZATION_WINDOW_SECONDS:
        errs.append(invalid((*path, "stabilizationWindowSeconds"), window,
                            f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"))
    if rules.select_policy is not None and rules.select_policy not in ("Disabled", "Max", "Min"):
        errs.append(not_supported((*path, "selectPolicy"), rules.select_policy, ["Disabled", "Max", "Min"]))
    if not rules.policies:
        errs.append(required((*path, "policies"), "must specify at least one Policy"))
    for i, policy in enumerate(rules.policies):
        p = (*path, "policies", i)
        if policy.type not in ("Pods", "Percent"):
            errs.append(not_supported((*p, "type"), policy.type, ["Percent", "Pods"]))
        if policy.value <= 0:
            errs.append(invalid((*p, "value"), policy.value, "must be greater than zero"))
        if policy.period_seconds <= 0:
            errs.append(invalid((*p, "periodSeconds"), policy.period_seconds, "must be greater than zero"))
        if policy.period_seconds > MAX_PERIOD_SECONDS:
            errs.append(invalid((*p, "periodSeconds"), policy.period_seconds,
                                f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    return errs


def validate_hpa(obj: HorizontalPodAutoscaler) -> ErrorList:
    """validateHorizontalPodAutoscalerSpec (minReplicas ≥ 1: HPAScaleToZero is off by default)."""
    spec, path = obj.spec, ("spec",)
    errs: ErrorList = []
    if spec.min_replicas is not None and spec.min_replicas < 1:
        errs.append(invalid((*path, "minReplicas"), spec.min_replicas, "must be greater than or equal to 1"))
    if spec.max_replicas < 1:
        errs.append(invalid((*path, "maxReplicas"), spec.max_replicas, "must be greater than 0"))
    if spec.min_replicas is not None and spec.max_replicas < spec.min_replicas:
        errs.append(invalid((*path, "maxReplicas"), spec.max_replicas,
                            "must be greater than or equal to `minReplicas`"))
    ref = spec.scale_target_ref
    for name, value in (("kind", ref.kind), ("name", ref.name)):
        if not value:
            errs.append(required((*path, "scaleTargetRef", name), ""))
        elif value in (".", "..") or "/" in value or "%" in value:
            errs.append(invalid((*path, "scaleTargetRef", name), value, "may not contain '/' or '%'"))
    for i, metric in enumerate(spec.metrics):
        errs += _metric(metric, (*path, "metrics", i))
    if spec.behavior is not None:
        errs += _scaling_rules(spec.behavior.scale_up, (*path, "behavior", "scaleUp"))
        errs += _scaling_rules(spec.behavior.scale_down, (*path, "behavior", "scaleDown"))
    return errs


# --- PodDisruptionBudget -------------------------------------------------------------------------

def validate_pdb(obj: PodDisruptionBudget) -> ErrorList:
    """ValidatePodDisruptionBudgetSpec: not both minAvailable and maxUnavailable; each a
    non-negative int or a percentage ≤ 100 %; a valid selector; a known eviction policy."""
    spec, path = obj.spec, ("spec",)
    errs: ErrorList = []
    if spec.min_available is not None and spec.max_unavailable is not None:
        errs.append(invalid(path, _spec_text(spec), "minAvailable and maxUnavailable cannot be both set"))
    for name, value in (("minAvailable", spec.min_available), ("maxUnavailable", spec.max_unavailable)):
        errs += int_or_percent(value, (*path, name))
        errs += not_more_than_100_percent(value, (*path, name))
    errs += label_selector(spec.selector, (*path, "selector"))
    policy = spec.unhealthy_pod_eviction_policy
    if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
        errs.append(not_supported((*path, "unhealthyPodEvictionPolicy"), policy, ["AlwaysAllow", "IfHealthyBudget"]))
    return errs


def validate_pdb_status(obj: PodDisruptionBudget) -> ErrorList:
    """ValidatePodDisruptionBudgetStatusUpdate: the counts are non-negative."""
    s, path = obj.status, ("status",)
    return [e for name, v in (("disruptionsAllowed", s.disruptions_allowed), ("currentHealthy", s.current_healthy),
                              ("desiredHealthy", s.desired_healthy), ("expectedPods", s.expected_pods))
            for e in nonnegative(v, (*path, name))]


def _spec_text(spec: Any) -> str:
    return f"minAvailable={spec.min_available}, maxUnavailable={spec.max_unavailable}"
