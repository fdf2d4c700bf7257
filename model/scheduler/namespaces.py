"""The scheduler's namespace informer: what InterPodAffinity's namespace selectors read.

Upstream the InterPodAffinity plugin holds the namespace lister of the scheduler's shared informer
factory (`pkg/scheduler/framework/plugins/interpodaffinity/plugin.go` New: `nsLister`) and reads
it for every namespaceSelector (mergeAffinityTermNamespacesIfNotEmpty, GetNamespaceLabelsSnapshot).

Model choice, as for PodDisruptionBudgets (`kubeprop.model.scheduler.pdbs`): a scheduler instance
watches namespaces only in scenarios that can need them — a pod or a pod template of the
scenario's manifests or workload steps (a custom object: any `namespaceSelector` key) has a pod
(anti-)affinity term with a namespaceSelector (`sees_namespace_selectors`). Elsewhere it has no
namespace view and the affinity code assumes the namespaces the pods are in, labelled only
`kubernetes.io/metadata.name` (`affinity.implied_namespaces`): the same answer wherever no
namespaceSelector appears; a pod that a user's controller creates with one in such a scenario is
judged by that assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from kubeprop.model.api.objects import CustomResourceDefinition, Namespace
from kubeprop.model.api.pod import PodAffinityTerm
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.affinity import NamespaceLabels
from kubeprop.model.scheduler.framework import SchedulerProfile
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.model.state.informer import ObjectView

__all__ = ["RESOURCE", "has_namespace_selector", "namespace_view", "profile_with_namespaces",
           "sees_namespace_selectors", "watches"]

RESOURCE = "namespaces"
_NAMESPACE_SELECTOR = "namespaceSelector"


def has_namespace_selector(value: Any) -> bool:
    """Whether `value` (an API object, or any part of one) holds a pod (anti-)affinity term with a
    namespaceSelector; in a custom object's content, any `namespaceSelector` key."""
    if isinstance(value, PodAffinityTerm):
        return value.namespace_selector is not None
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return False
    if isinstance(value, Mapping):
        return any(k == _NAMESPACE_SELECTOR or has_namespace_selector(v) for k, v in value.items())
    if isinstance(value, tuple | list):
        return any(has_namespace_selector(v) for v in value)
    if attrs.has(type(value)):
        return any(has_namespace_selector(getattr(value, f.name)) for f in attrs.fields(type(value)))
    return False


def sees_namespace_selectors(model: ClusterModel) -> bool:
    """Whether the scenario's manifests or workload steps have a namespaceSelector in a pod
    (anti-)affinity term (computed once, kept in `model.derived`). A CustomResourceDefinition's
    schema is not looked into (it describes such fields, it does not set them)."""
    found = model.derived.get(__name__)
    if not isinstance(found, bool):
        objects = [*(m.obj for m in model.scenario.objects), *(o for step in model.workload_objects for o in step)]
        found = model.derived[__name__] = any(has_namespace_selector(o) for o in objects
                                              if not isinstance(o, CustomResourceDefinition))
    return found


def watches(model: ClusterModel, component: str) -> tuple[str, ...]:
    """A scheduler instance watches namespaces where the scenario can need them (a `Hooks.watches`
    source)."""
    return (RESOURCE,) if component in model.scheduler_instances and sees_namespace_selectors(model) else ()


def namespace_view(model: ClusterModel, view: ObjectView) -> NamespaceLabels | None:
    """The labels of every namespace in a scheduler's cache (None where it does not watch them)."""
    if not sees_namespace_selectors(model):
        return None
    found = (n for n in view.list(RESOURCE) if isinstance(n, Namespace))
    return FrozenMap({n.metadata.name: n.metadata.labels for n in found})


def profile_with_namespaces(model: ClusterModel, view: ObjectView) -> SchedulerProfile:
    """The model's scheduler profile reading the namespace view of the cache `view`."""
    profile: SchedulerProfile = model.scheduler_profile
    labels = namespace_view(model, view)
    return profile if labels is None else evolve(profile, namespace_labels=labels)
