"""The pods a scenario asks for, and what the default scheduler does with them one at a time.

`desired_pods(state, scale)` builds, for every Deployment, StatefulSet and stand-alone
ReplicaSet in the scenario's initial store (its manifests as the API server admitted them),
`replicas` pods from the pod template — named `<workload>-<i>`, owned by the workload, with
the API server's defaults (`model/api/defaults.py` apply_defaults) and the DefaultTolerationSeconds
admission plug-in applied — plus the scenario's bare pods. No controller runs: the pods are
what the controllers would create (`pkg/controller/replicaset`, `pkg/controller/statefulset`),
without generated name suffixes. `greedy(nodes, pods)` replays the default scheduler: pods in
its queue order (priority, then creation, then name; `pending_queue`), each bound to the first
of its top-scoring nodes (`schedule_one`), the next pod seeing it placed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from kubeprop.model.api.apps import Deployment, ReplicaSet, StatefulSet
from kubeprop.model.api.defaults import apply_defaults, default_toleration_seconds
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.store import Store
from kubeprop.model.errors import InputError
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.decide import NodeInfo, SchedulerProfile, pod_key, pod_priority, schedule_one

__all__ = ["Greedy", "ScaleError", "desired_count", "desired_pods", "greedy", "workload_names"]

Workload = Deployment | StatefulSet | ReplicaSet


class ScaleError(InputError, ValueError):
    """A --scale name that matches no workload (the message lists the valid ones)."""


def _workloads(store: Store) -> list[Workload]:
    out: list[Workload] = []
    for resource in ("deployments.apps", "statefulsets.apps", "replicasets.apps"):
        for obj in store.list(resource):
            if isinstance(obj, Deployment | StatefulSet) or (
                    isinstance(obj, ReplicaSet) and obj.metadata.controller_ref() is None):
                out.append(obj)
    return out


def workload_names(store: Store) -> list[str]:
    """Every workload as "namespace/name"."""
    return [pod_key(w) for w in _workloads(store)]


def _resolve_scale(workloads: list[Workload], scale: Mapping[str, int]) -> dict[str, int]:
    """--scale keys ("name" or "namespace/name") to workload refs; ScaleError on a bad name."""
    out: dict[str, int] = {}
    refs = [pod_key(w) for w in workloads]
    for name, replicas in scale.items():
        hits = [r for r in refs if r == name or r.split("/", 1)[1] == name]
        if len(hits) != 1:
            problem = "matches no workload" if not hits else f"is ambiguous ({', '.join(hits)})"
            raise ScaleError(f"--scale {name}={replicas}: {problem}; valid: {', '.join(refs) or '(none)'}")
        out[hits[0]] = replicas
    return out


def _pod(w: Workload, index: int) -> Pod:
    template = w.spec.template
    meta = ObjectMeta(
        name=f"{w.metadata.name}-{index}", namespace=w.metadata.namespace, labels=template.metadata.labels,
        annotations=template.metadata.annotations, creation_timestamp=0,
        owner_references=(OwnerReference(api_version="apps/v1", kind=type(w).__name__, name=w.metadata.name,
                                         uid=w.metadata.uid, controller=True),),
    )
    pod = apply_defaults(Pod(metadata=meta, spec=template.spec))
    assert isinstance(pod, Pod)
    return default_toleration_seconds(pod)


def _counts(store: Store, scale: Mapping[str, int]) -> list[tuple[Workload, int]]:
    workloads = _workloads(store)
    replicas = _resolve_scale(workloads, scale)
    return [(w, replicas.get(pod_key(w), w.spec.replicas if w.spec.replicas is not None else 1)) for w in workloads]


def _bare(store: Store) -> list[Pod]:
    return [p for p in store.list("pods") if isinstance(p, Pod) and p.metadata.controller_ref() is None]


def desired_count(store: Store, scale: Mapping[str, int] = FrozenMap()) -> int:
    """How many pending pods `desired_pods` would return, without building them (so a caller can
    refuse a size before paying for it)."""
    return sum(count for _, count in _counts(store, scale)) + sum(1 for p in _bare(store) if not p.spec.node_name)


def desired_pods(store: Store, scale: Mapping[str, int] = FrozenMap()) -> tuple[tuple[Pod, ...], tuple[Pod, ...]]:
    """(bound pods, pending pods) the scenario asks for; `scale` overrides replicas by workload."""
    pending = [_pod(w, i) for w, count in _counts(store, scale) for i in range(count)]
    bare = _bare(store)
    bound = tuple(p for p in bare if p.spec.node_name)
    return bound, (*pending, *(p for p in bare if not p.spec.node_name))


@attrs.frozen
class Greedy:
    """The one-at-a-time result: pod key -> node, and the FitError message of each pod left Pending."""

    placement: FrozenMap[str, str]
    pending: FrozenMap[str, str]


def _bind(nodes: Sequence[NodeInfo], pod: Pod, node: str) -> list[NodeInfo]:
    bound = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=node))
    return [ni.with_pods(added=[bound]) if ni.name == node else ni for ni in nodes]


def greedy(nodes: Sequence[NodeInfo], pods: Iterable[Pod], profile: SchedulerProfile = SchedulerProfile()) -> Greedy:
    """Schedule `pods` one by one in queue order, each onto its first top-scoring node."""
    order = sorted(pods, key=lambda p: (-pod_priority(p), p.metadata.creation_timestamp or 0, pod_key(p)))
    infos = list(nodes)
    placement: dict[str, str] = {}
    pending: dict[str, str] = {}
    for pod in order:
        result = schedule_one(pod, infos, profile)
        if result.best:
            placement[pod_key(pod)] = result.best[0]
            infos = _bind(infos, pod, result.best[0])
        else:
            pending[pod_key(pod)] = result.message
    return Greedy(FrozenMap(placement), FrozenMap(pending))
