"""A team's own properties, checked with `kubeprop check --properties team_checks` or named in a
scenario's `properties:` list (docs/properties.md walks through this file).

Each is a plain function of (model, state) returning None when the property holds, or a message
(and the objects involved) when it does not, registered with a decorator. Read `state.store` —
the API server's truth — not a component's cache. `needs` says what the property is about, so
that a scenario that cannot produce it gets the verdict "vacuous" instead of "held".
"""

from __future__ import annotations

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, Needs, convergence, safety

ZONE = "topology.kubernetes.io/zone"


@safety("eu-data-stays-in-eu", "A pod labelled residency=eu runs only on nodes of an eu-* zone.",
        "team policy: data residency", needs=Needs(("pods",)))
def eu_data_stays_in_eu(model: ClusterModel, state: ClusterState) -> CheckResult:
    for pod in state.store.list("pods"):
        if not isinstance(pod, Pod) or pod.metadata.labels.get("residency") != "eu" or not pod.spec.node_name:
            continue
        node = state.store.get(ObjectKey("nodes", "", pod.spec.node_name))
        zone = node.metadata.labels.get(ZONE, "") if isinstance(node, Node) else ""
        if not zone.startswith("eu-"):
            name = f"Pod {pod.metadata.namespace}/{pod.metadata.name}"
            return f"{name} (residency=eu) is bound to node {pod.spec.node_name} in zone {zone or '(none)'}", (
                name, f"Node {pod.spec.node_name}")
    return None


@safety("no-pods-in-kube-public", "Nothing runs in kube-public.", "team policy", needs=Needs(("pods",)))
def no_pods_in_kube_public(model: ClusterModel, state: ClusterState) -> CheckResult:
    for pod in state.store.list("pods", "kube-public"):
        return f"pod {pod.metadata.name} runs in kube-public", (f"Pod kube-public/{pod.metadata.name}",)
    return None


@convergence("statefulsets-have-two-replicas", "Every StatefulSet runs at least two replicas once settled.",
             "team policy: no single-replica databases", needs=Needs(("statefulsets.apps",)))
def statefulsets_have_two_replicas(model: ClusterModel, state: ClusterState) -> CheckResult:
    for sts in state.store.list("statefulsets.apps"):
        replicas = getattr(sts.spec, "replicas", None) or 0
        if replicas < 2:
            return f"StatefulSet {sts.metadata.namespace}/{sts.metadata.name} has {replicas} replica(s)", ()
    return None
