"""The resource metrics API (`metrics.k8s.io`, metrics-server) as the model sees it.

Usage is what metrics-server would report (PodMetrics, scraped from each kubelet): the scenario
declares it in `environment.usage` (`kubeprop.model.scenario.schema_addons`), and the
environment's choices among the declared levels are `EnvironmentState` in `state.addons`
(changed by the actions of `kubeprop.model.cluster.environment`):

- `levels`: each selected pod's usage is one of the levels (every pod starts at the first);
- `load`: a total demand shared equally by the selected pods that are Ready and not terminating
  (pods that serve traffic); a pod that does not serve gets no share.

A user environment rule with a `usage(model, state, pod, container, resource) -> int | None`
method replaces the declared usage where it answers (milli-units).

A pod has metrics only while it is Running on a node whose kubelet is up and reachable, from
`metricsResolutionSeconds` after it started (metrics-server needs a scrape after the start;
upstream's resolution is 15 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from kubeprop.model.api.objects import Pod
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet, reaches_apiserver

if TYPE_CHECKING:
    from kubeprop.model.scenario.schema_addons import UsageDecl

KEY = "environment"
"""The environment's entry in `state.addons`."""


@attrs.frozen(cache_hash=True)
class EnvironmentState:
    """The levels the environment chose: `pods` maps `<entry>|<namespace>/<pod>` to a level
    index (absent: the first level); `loads` maps `<entry>` to a load level index."""

    pods: FrozenMap[str, int] = EMPTY
    loads: FrozenMap[str, int] = EMPTY


def environment_state(state: ClusterState) -> EnvironmentState:
    """The environment's choices so far."""
    found = state.addons.get(KEY)
    return found if isinstance(found, EnvironmentState) else EnvironmentState()


def selects(entry: UsageDecl, pod: Pod) -> bool:
    """Whether a usage declaration covers this pod."""
    return pod.metadata.namespace == entry.namespace and selector_matches(
        LabelSelector(match_labels=entry.pods), pod.metadata.labels)


def serving(pod: Pod) -> bool:
    """Ready, Running and not terminating: the pod gets a share of the load."""
    ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    return ready and pod.status.phase == "Running" and pod.metadata.deletion_timestamp is None


def _container_of(entry: UsageDecl, pod: Pod) -> str:
    if entry.container:
        return entry.container
    return pod.spec.containers[0].name if pod.spec.containers else ""


def rules(model: ClusterModel) -> tuple[Any, ...]:
    """The scenario's user environment rules."""
    return tuple(getattr(model.scenario, "environment_rules", ()))


def declared_usage(model: ClusterModel, state: ClusterState, pod: Pod, container: str, resource: str) -> int:
    """The usage the scenario declares for a container (milli-units; 0 if none does)."""
    env = environment_state(state)
    total = 0
    for i, entry in enumerate(model.scenario.spec.environment.usage):
        if entry.resource != resource or _container_of(entry, pod) != container or not selects(entry, pod):
            continue
        if entry.levels:
            level = env.pods.get(f"{i}|{pod.metadata.namespace}/{pod.metadata.name}", 0)
            total += entry.levels[level].milli_value()
        elif entry.load and serving(pod):
            count = sum(1 for p in state.store.list("pods", entry.namespace)
                        if isinstance(p, Pod) and selects(entry, p) and serving(p))
            total += entry.load[env.loads.get(str(i), 0)].milli_value() // max(1, count)
    return total


def has_metrics(model: ClusterModel, state: ClusterState, pod: Pod) -> bool:
    """Whether metrics-server reports this pod now (see the module docstring)."""
    node = pod.spec.node_name
    if pod.status.phase != "Running" or not node or pod.status.start_time is None:
        return False
    if not reaches_apiserver(state, kubelet(node)):
        return False
    return state.clock >= pod.status.start_time + int(model.parameter("metricsResolutionSeconds"))


def usage_millis(model: ClusterModel, state: ClusterState, pod: Pod, container: str, resource: str) -> int:
    """A container's usage of `resource` in milli-units: a user rule's answer, else the declared."""
    for rule in rules(model):
        usage: Callable[..., int | None] | None = getattr(rule, "usage", None)
        if usage is not None:
            value = usage(model, state, pod, container, resource)
            if value is not None:
                return int(value)
    return declared_usage(model, state, pod, container, resource)


def metric_containers(pod: Pod) -> list[str]:
    """The containers a pod's PodMetrics lists: those that run beside each other once the pod is
    Running — the containers and the restartable (sidecar) init containers (the kubelet's
    resource metrics report the running containers; regular init containers have exited)."""
    return [c.name for c in pod.spec.containers] + [c.name for c in pod.spec.init_containers
                                                    if c.restart_policy == "Always"]


def pod_metric(model: ClusterModel, state: ClusterState, pod: Pod, resource: str, container: str = "") -> int | None:
    """What the resource metrics API reports for a pod (all its `metric_containers`, or one):
    milli-units, or None when the pod has no metrics (or not that container)."""
    if not has_metrics(model, state, pod):
        return None
    names = [name for name in metric_containers(pod) if not container or name == container]
    if container and not names:
        return None
    return sum(usage_millis(model, state, pod, name, resource) for name in names)
