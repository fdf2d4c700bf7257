"""Which node's faults are worth trying first (`perturb_placements`): the nodes in the order of the
workloads their loss reaches that no earlier node's does (Sieve's pruning of perturbations with
the same effect, Sun et al., OSDI 2022)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from kubeprop.model.api.objects import Pod
from kubeprop.model.state.actions import Action, Partition
from kubeprop.model.state.cluster import ClusterState


def by_reach(state: ClusterState, acts: Sequence[Action]) -> list[Action]:
    """`acts` with the faults on a node ordered among themselves by the workloads they reach
    (`node_order`), a partition (its pods keep running, unseen) before a crash on each node; the
    other actions stay where they were."""
    slots = [i for i, a in enumerate(acts) if isinstance(getattr(a, "node", None), str)]
    nodes = list(dict.fromkeys(acts[i].node for i in slots))  # type: ignore[attr-defined]
    order = {name: rank for rank, name in enumerate(node_order(state, nodes))}
    faults = sorted((acts[i] for i in slots), key=lambda a: (order[a.node], not isinstance(a, Partition)))  # type: ignore[attr-defined]
    out = list(acts)
    for i, act in zip(slots, faults, strict=True):
        out[i] = act
    return out


def node_order(state: ClusterState, nodes: Sequence[str]) -> list[str]:
    """`nodes` in the order their loss is worth trying, greedily: next the node whose pods belong
    to the most workloads no earlier node's pods belong to (`workloads_on`), then with the most
    pods of those, then with the most pods (losing the busiest node has the most effects); ties
    in `nodes`' order. The effects of losing a node are those of the
    controllers replacing its pods, and a node of the same workloads as an earlier one mostly
    repeats them (Sieve's pruning of perturbations with the same effect, Sun et al., OSDI 2022):
    a database's node comes before a second node of web replicas."""
    on = workloads_on(state)
    left, covered, out = list(nodes), set[tuple[str, str, str]](), list[str]()

    def reach(name: str) -> tuple[int, int, int]:
        pods = on.get(name, Counter[tuple[str, str, str]]())
        new = [w for w in pods if w not in covered]
        total = sum(pods.values())
        return len(new), sum(pods[w] for w in new), total

    while left:
        best = max(left, key=reach)  # `max` keeps the earliest of the best
        left.remove(best)
        out.append(best)
        covered.update(on.get(best, ()))
    return out


def workloads_on(state: ClusterState) -> dict[str, Counter[tuple[str, str, str]]]:
    """Node → the workloads of the pods bound there, with their pod counts. A pod's workload is
    its controller followed up one ReplicaSet to the Deployment that owns it (a Deployment's pods
    of two revisions are one workload), as (kind, namespace, name); a pod without a controller is
    its own."""
    owners = {rs.metadata.uid: rs.metadata.controller_ref() for rs in state.store.list("replicasets.apps")}
    out: dict[str, Counter[tuple[str, str, str]]] = {}
    for pod in state.store.list("pods"):
        if not isinstance(pod, Pod) or not pod.spec.node_name:
            continue
        ref = pod.metadata.controller_ref()
        if ref is not None and ref.kind == "ReplicaSet":
            ref = owners.get(ref.uid) or ref
        namespace = pod.metadata.namespace or "default"
        key = ("Pod", namespace, pod.metadata.name) if ref is None else (ref.kind, namespace, ref.name)
        out.setdefault(pod.spec.node_name, Counter())[key] += 1
    return out
