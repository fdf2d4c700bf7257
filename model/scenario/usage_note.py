"""The note for an HPA whose pods' usage the scenario does not declare.

The model's metrics API reports only what `environment.usage` declares or a user environment
rule answers (`kubeprop.model.controllers.hpa.usage_known`): for pods of an undeclared usage it
returns nothing, so an HPA scaling on that resource reports ScalingActive False
(FailedGetResourceMetric) and never rescales — upstream's behaviour without metrics
(`pkg/controller/podautoscaler/horizontal.go` computeReplicasForMetrics). That is faithful to a
cluster whose values are unknown, but the user should not have to find it in a replay:
`kubeprop validate` and `kubeprop check` say it at load (`undeclared_usage_note`).
"""

from __future__ import annotations

from collections.abc import Iterable

from kubeprop.model.api.autoscaling import HorizontalPodAutoscaler
from kubeprop.model.api.objects import ApiObject, kind_info
from kubeprop.model.scenario.schema import ScenarioFile

__all__ = ["hpa_resources", "undeclared_usage_note"]


def hpa_resources(hpa: HorizontalPodAutoscaler) -> list[str]:
    """The resources of the HPA's Resource and ContainerResource metrics (cpu when it lists none:
    `pkg/apis/autoscaling/v2/defaults.go` SetDefaults_HorizontalPodAutoscaler, 80 % of cpu)."""
    if not hpa.spec.metrics:
        return ["cpu"]
    out = []
    for metric in hpa.spec.metrics:
        if metric.type == "Resource" and metric.resource is not None:
            out.append(metric.resource.name)
        elif metric.type == "ContainerResource" and metric.container_resource is not None:
            out.append(metric.container_resource.name)
    return list(dict.fromkeys(out))


def _target_labels(hpa: HorizontalPodAutoscaler, objects: list[ApiObject]) -> dict[str, str] | None:
    """The pod template labels of the HPA's scale target among the manifests (None: not there)."""
    ref, namespace = hpa.spec.scale_target_ref, hpa.metadata.namespace or "default"
    for obj in objects:
        if (kind_info(obj).kind == ref.kind and obj.metadata.name == ref.name
                and (obj.metadata.namespace or "default") == namespace):
            template = getattr(getattr(obj, "spec", None), "template", None)
            labels = getattr(getattr(template, "metadata", None), "labels", None)
            return dict(labels) if labels is not None else None
    return None


def undeclared_usage_note(spec: ScenarioFile, objects: Iterable[ApiObject]) -> str | None:
    """The note naming each manifest HPA (and resource) whose target's pods no `environment.usage`
    entry covers; None when every one is covered, or when the scenario has environment rules (a
    rule may answer for any pod: only running tells)."""
    if spec.environment.rules:
        return None
    listed = list(objects)
    missing = []
    for hpa in (o for o in listed if isinstance(o, HorizontalPodAutoscaler)):
        labels = _target_labels(hpa, listed)
        if labels is None:
            continue
        namespace = hpa.metadata.namespace or "default"
        resources = [r for r in hpa_resources(hpa) if not any(
            e.resource == r and e.namespace == namespace and all(labels.get(k) == v for k, v in e.pods.items())
            for e in spec.environment.usage)]
        if resources:
            missing.append(f"HorizontalPodAutoscaler {namespace}/{hpa.metadata.name} ({', '.join(resources)})")
    if not missing:
        return None
    return (f"note: no environment.usage declares the pods' usage that {'; '.join(missing)} scale"
            f"{'s' if len(missing) == 1 else ''} on: the model's metrics API has none for those pods, so the HPA "
            "reports FailedGetResourceMetric and never rescales; declare environment.usage (docs/hpa.md) to "
            "explore its scaling")
