"""Properties of API server overload (docs/overload.md; `kubeprop.model.cluster.overload`).

- `system-flows-not-starved` (safety): while a workload flow floods the API server, every node's
  heartbeat (its Lease renewal) and the controller manager's and scheduler's leader-election
  renewals still get through — the reason API Priority and Fairness exists (KEP-1040) — and so
  does the renewal of each operator that runs as a process of its own (`_renewals`).
- `no-eviction-for-throttled-heartbeats` (safety): no pod is evicted by the taint manager from a
  node that is up and reachable and whose heartbeats only the flood stopped.

Convergence once the flood ends is the registered convergence properties, judged where the fair
continuation (which takes `EndOverload`) settles. Opt-in (`registry.OPT_IN`): checked when named,
or by default on a scenario whose fault budget has `overload`.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Pod
from kubeprop.model.api.rbac_authn import split_service_account_username
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.overload import (
    Overload,
    heartbeat_request,
    leader_election_request,
    refusal,
)
from kubeprop.model.controllers.processes import controllers_in, own_processes
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, kubelet, pod_key
from kubeprop.properties.registry import CheckResult, Property, as_property, register_opt_ins

__all__ = ["NO_EVICTION_FOR_THROTTLED_HEARTBEATS", "OVERLOAD_PROPERTIES", "SYSTEM_FLOWS_NOT_STARVED"]


def _starved(model: ClusterModel, state: ClusterState) -> CheckResult:
    if not isinstance(state.overload, Overload):
        return None
    for node in model.nodes:
        refused = refusal(model, state, "", heartbeat_request(node), kubelet(node))
        if refused is not None:
            return f"node {node}'s heartbeat is refused during the flood: {refused.code} {refused.message}", (
                f"Node {node}",)
    for user, component, request in _renewals(model):
        refused = refusal(model, state, user, request, component)
        if refused is not None:
            # the renewal is a user's request, not a stored object (the model keeps no Lease): no objects named
            return (f"user {user}'s leader-election renewal (update of Lease {request.namespace}/{request.name}) is "
                    f"refused during the flood: {refused.code} {refused.message}"), ()
    return None


def _renewals(model: ClusterModel) -> Iterator[tuple[str, str, Request]]:
    """The leader-election renewals the flood must let through, as (user, process, request): the
    controller manager's and the scheduler's, and each operator's that runs as a process of its own
    (`processes.own_processes`): such a process elects its leader itself (controller-runtime's
    manager, client-go's `leaderelection`), renewing a Lease of its own name with its own
    credentials, so APF classifies it by its controller's `identity` — a service account outside
    kube-system shares `workload-low` with the default flood, and is refused when the flood fills
    its hand. An operator compiled into the controller manager (`shared`) has no election of its own."""
    for user, component in (("system:kube-controller-manager", CONTROLLER_MANAGER),
                            ("system:kube-scheduler", model.scheduler_instances[0])):
        yield user, component, leader_election_request(user)
    for process in own_processes(model):
        for controller in controllers_in(model, process):
            user = str(controller.identity)
            parsed = split_service_account_username(user)
            namespace = parsed[0] if parsed is not None else "kube-system"
            yield user, process, Request(verb="update", user=user, resource="leases.coordination.k8s.io",
                                         namespace=namespace, name=controller.name)


def _evicted_for_throttling(model: ClusterModel, state: ClusterState) -> CheckResult:
    flood = state.overload
    if not isinstance(flood, Overload):
        return None
    silent = {n for n in model.nodes if refusal(model, state, "", heartbeat_request(n), kubelet(n)) is not None}
    healthy = {n for n in silent if f"node/{n}" not in state.down and n not in state.partitioned}
    for pod in state.store.list("pods"):
        if not isinstance(pod, Pod) or pod.spec.node_name not in healthy:
            continue
        cond = find_condition(pod.status.conditions, "DisruptionTarget")
        if cond is not None and cond.reason == "DeletionByTaintManager":
            return (f"Pod {pod_key(pod)} was evicted from {pod.spec.node_name}, which is up and reachable: only the "
                    "flood stopped its heartbeats", (f"Pod {pod_key(pod)}", f"Node {pod.spec.node_name}"))
    return None


SYSTEM_FLOWS_NOT_STARVED: Property = as_property(
    "system-flows-not-starved",
    "While a workload flow floods the API server, node heartbeats and leader-election renewals get through.",
    "staging/src/k8s.io/apiserver/pkg/util/flowcontrol (KEP-1040); apis/flowcontrol/bootstrap/default.go",
    "safety", _starved)

NO_EVICTION_FOR_THROTTLED_HEARTBEATS: Property = as_property(
    "no-eviction-for-throttled-heartbeats",
    "No pod is evicted from a healthy node whose heartbeats only an API server overload stopped.",
    "pkg/controller/nodelifecycle/node_lifecycle_controller.go; pkg/controller/tainteviction",
    "safety", _evicted_for_throttling)

OVERLOAD_PROPERTIES: tuple[Property, ...] = register_opt_ins(
    __name__, "overload", (SYSTEM_FLOWS_NOT_STARVED, NO_EVICTION_FOR_THROTTLED_HEARTBEATS))
"""Opt-in built-ins (`registry.OPT_IN`), checked by default on scenarios whose fault budget has
`overload` (docs/properties.md)."""
