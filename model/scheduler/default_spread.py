"""The selector of the system-default topology spreading: `helper.DefaultSelector`.

Upstream (`kubernetes/kubernetes`, v1.33): the PodTopologySpread plugin's default arguments use
`defaultingType: System` (`pkg/scheduler/apis/config/v1/defaults.go`), so a pod without
topologySpreadConstraints of its own is *scored* with two ScheduleAnyway constraints, hostname
maxSkew 3 and zone maxSkew 5 (`pkg/scheduler/framework/plugins/podtopologyspread/plugin.go`
systemDefaultConstraints; `common.go` buildDefaultConstraints; the scoring is in
`kubeprop.model.scheduler.spread`). Their selector is built from the scheduler's informer caches
(`pkg/scheduler/framework/plugins/helper/spread.go` DefaultSelector):

- the selectors of every Service in the pod's namespace whose (non-nil) selector matches the
  pod's labels, merged into one label set;
- plus, if the pod's controller is a ReplicaSet or StatefulSet (`apps/v1`) found in the cache,
  that object's selector requirements (`selector.Add`: ANDed, matchLabels as `In` requirements).

An empty result means no default spreading (`buildDefaultConstraints`: `selector.Empty()`).
ReplicationControllers are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeprop.model.api.apps import ReplicaSet, StatefulSet
from kubeprop.model.api.core import Service
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.selectors import LabelSelector, LabelSelectorRequirement
from kubeprop.model.state.informer import ObjectView

__all__ = ["DEFAULT_SPREAD_RESOURCES", "default_selector"]

DEFAULT_SPREAD_RESOURCES: tuple[str, ...] = ("services", "replicasets.apps", "statefulsets.apps")
"""What the scheduler lists for the default selector (besides pods and nodes)."""

_OWNER_RESOURCES = {("apps/v1", "ReplicaSet"): "replicasets.apps", ("apps/v1", "StatefulSet"): "statefulsets.apps"}


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _owner_requirements(pod: Pod, view: ObjectView) -> tuple[LabelSelectorRequirement, ...]:
    """The requirements of the pod's controlling ReplicaSet/StatefulSet selector, if cached (a
    stored selector passed validation, so LabelSelectorAsSelector cannot fail on it)."""
    ref = pod.metadata.controller_ref()
    resource = _OWNER_RESOURCES.get((ref.api_version, ref.kind)) if ref is not None else None
    if ref is None or resource is None:
        return ()
    owner = view.get(ObjectKey(resource, pod.metadata.namespace, ref.name))
    selector = owner.spec.selector if isinstance(owner, ReplicaSet | StatefulSet) else None
    if selector is None:
        return ()
    labels = tuple(LabelSelectorRequirement(k, "In", (v,)) for k, v in selector.match_labels.sorted_items())
    return (*labels, *selector.match_expressions)


def default_selector(pod: Pod, view: ObjectView) -> LabelSelector | None:
    """DefaultSelector for `pod` from the scheduler's caches; None when it selects nothing
    more specific than everything (then no default constraints apply)."""
    merged: dict[str, str] = {}
    for svc in view.list("services", pod.metadata.namespace):
        if isinstance(svc, Service) and svc.spec.selector is not None and _matches(svc.spec.selector,
                                                                                   pod.metadata.labels):
            merged.update(svc.spec.selector)
    selector = LabelSelector(match_labels=merged, match_expressions=_owner_requirements(pod, view))
    return None if selector.is_empty() else selector
