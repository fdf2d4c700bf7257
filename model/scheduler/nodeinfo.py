"""The kube-scheduler's view of one node: the Node plus the pods its cache places there.

The scheduler decides from its informer cache, not from etcd: a node's `NodeInfo` holds every
non-terminal pod bound to the node *or assumed* onto it (scheduled, binding still in flight),
and the aggregated requests the NodeResourcesFit filter and the resource scores use.
Sources (repo `kubernetes/kubernetes`):

* `pkg/scheduler/framework/types.go` (NodeInfo.AddPod, Resource.Add / SetMaxResource,
  getNonMissingContainerRequests): `Requested` sums the pods' requests; `NonZeroRequested`
  does the same but counts a container without a cpu / memory request as 100m / 200Mi.
* `staging/src/k8s.io/component-helpers/resource/helpers.go` (PodRequests): pod request =
  max(Σ containers + Σ sidecars, every init container + the sidecars started before it) +
  overhead; restartable ("sidecar") init containers keep running next to the app containers.
* `pkg/scheduler/util/pod_resources.go`: DefaultMilliCPURequest = 100, DefaultMemoryRequest =
  200 MiB.
* `pkg/api/v1/resource` / `pkg/apis/core/v1/helper` IsScalarResourceName: extended
  (`example.com/gpu`), `hugepages-*`, `attachable-volumes-*` and `*kubernetes.io/*` resources
  are tracked as scalars; other unprefixed names (e.g. `storage`) are ignored.
* `pkg/scheduler/scheduler.go` (the assigned-pod informer's field selector): Succeeded and
  Failed pods are not in the cache; pods with a deletionTimestamp stay until they are gone.

Quantities are converted like upstream: cpu to millicores (`MilliValue`), everything else to
whole units (`Value`), both rounded up, after summing exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import attrs

from kubeprop.model.api.core import Node
from kubeprop.model.api.pod import Container, Pod, PodSpec
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.quota import add_resources, aggregate_containers
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.state.cluster import pod_key

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "NodeInfo",
    "build_node_infos",
    "is_scalar_resource",
    "pod_key",
    "pod_priority",
    "pod_requests",
]

DEFAULT_MILLI_CPU_REQUEST = 100  # pkg/scheduler/util/pod_resources.go
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

CPU, MEMORY, PODS, EPHEMERAL = "cpu", "memory", "pods", "ephemeral-storage"
_TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})

IntResources = FrozenMap[str, int]


def pod_priority(pod: Pod) -> int:
    """`corev1helpers.PodPriority`: spec.priority, 0 when unset."""
    return pod.spec.priority or 0


def is_scalar_resource(name: str) -> bool:
    """IsScalarResourceName: extended, hugepages, attachable-volumes or prefixed native resources."""
    if name.startswith(("hugepages-", "attachable-volumes-")) or "kubernetes.io/" in name:
        return True
    return "/" in name and not name.startswith("requests.")


def _to_int(name: str, quantity: Quantity) -> int:
    return quantity.milli_value() if name == CPU else quantity.value()


def _tracked(name: str) -> bool:
    return name in (CPU, MEMORY, EPHEMERAL) or is_scalar_resource(name)


def _container_requests(container: Container, non_zero: bool) -> dict[str, Quantity]:
    """A container's requests; with `non_zero`, missing cpu/memory get the scheduler defaults."""
    reqs = dict(container.resources.requests.items())
    if non_zero:
        reqs.setdefault(CPU, Quantity.from_milli(DEFAULT_MILLI_CPU_REQUEST))
        reqs.setdefault(MEMORY, Quantity.from_int(DEFAULT_MEMORY_REQUEST))
    return reqs


def pod_requests(pod: Pod, non_zero: bool = False) -> IntResources:
    """resourcehelper.PodRequests as the scheduler calls it, in scheduler units (cpu in milli).

    Only resources the scheduler tracks are returned (cpu, memory, ephemeral-storage, scalars).
    With `non_zero`, a container (or init container) without a cpu / memory request counts as
    100m / 200Mi (NonMissingContainerRequests; a request explicitly set to 0 stays 0).
    """
    return _spec_requests(pod.spec, non_zero)


@lru_cache(maxsize=4096)
def _spec_requests(spec: PodSpec, non_zero: bool) -> IntResources:
    """`pod_requests` of a pod spec (remembered: the engines ask for the same specs over and over)."""
    total = aggregate_containers(spec, lambda c: _container_requests(c, non_zero))
    add_resources(total, spec.overhead)
    return FrozenMap({n: _to_int(n, q) for n, q in total.items() if _tracked(n)})


def _sum(maps: Iterable[Mapping[str, int]]) -> IntResources:
    out: dict[str, int] = {}
    for m in maps:
        for name, v in m.items():
            out[name] = out.get(name, 0) + v
    return FrozenMap(out)


def _allocatable(node: Node) -> IntResources:
    """Resource.Add over node.status.allocatable (pods, cpu, memory, storage, scalars)."""
    return _allocatable_of(node.status.allocatable)


@lru_cache(maxsize=1024)
def _allocatable_of(alloc: FrozenMap[str, Quantity]) -> IntResources:
    return FrozenMap({n: _to_int(n, q) for n, q in alloc.items() if n == PODS or _tracked(n)})


_BUILT: IdentityMemo[NodeInfo] = IdentityMemo(limit=4_096)
"""NodeInfos by the identity of the node, its pods and the pods nominated to it."""


@attrs.frozen(cache_hash=True)
class NodeInfo:
    """A node as the scheduler sees it (`framework.NodeInfo`).

    `pods` are the pods the cache places on the node (bound or assumed), sorted by key;
    `nominated` are pending pods whose status.nominatedNodeName is this node (the scheduling
    queue's nominator), which the filters take into account for pods of lower or equal priority.
    `requested` sums the pods' requests; `non_zero_requested` uses the 100m / 200Mi defaults.
    """

    node: Node
    pods: tuple[Pod, ...] = ()
    nominated: tuple[Pod, ...] = ()
    allocatable: IntResources = EMPTY
    requested: IntResources = EMPTY
    non_zero_requested: IntResources = EMPTY

    @property
    def name(self) -> str:
        """The node's name."""
        return self.node.metadata.name

    @property
    def labels(self) -> FrozenMap[str, str]:
        """The node's labels."""
        return self.node.metadata.labels

    @classmethod
    def of(cls, node: Node, pods: Iterable[Pod] = (), nominated: Iterable[Pod] = ()) -> NodeInfo:
        """Build the NodeInfo of `node` holding `pods` (NewNodeInfo + SetNode + AddPod).

        Remembered by the identity of the node and pods (`_BUILT`): from one state to the next
        most nodes hold the very same objects, and the snapshot is built for every scheduling
        decision and every property that judges one."""
        ordered = tuple(sorted(pods, key=pod_key))
        waiting = tuple(sorted(nominated, key=pod_key))
        return _BUILT.get((node, *ordered, *waiting), cls._build, node, ordered, waiting, values=len(ordered))

    @classmethod
    def _build(cls, node: Node, ordered: tuple[Pod, ...], waiting: tuple[Pod, ...]) -> NodeInfo:
        return cls(
            node=node,
            pods=ordered,
            nominated=waiting,
            allocatable=_allocatable(node),
            requested=_sum(pod_requests(p) for p in ordered),
            non_zero_requested=_sum(pod_requests(p, non_zero=True) for p in ordered),
        )

    def with_pods(self, added: Iterable[Pod] = (), removed: frozenset[str] = frozenset()) -> NodeInfo:
        """A copy with `added` pods placed here and the pods keyed in `removed` taken away."""
        kept = [p for p in self.pods if pod_key(p) not in removed]
        return NodeInfo.of(self.node, [*kept, *added], self.nominated)


def _placement(pod: Pod, assumed: Mapping[str, str]) -> str:
    return pod.spec.node_name or assumed.get(pod_key(pod), "")


def build_node_infos(
    nodes: Iterable[Node], pods: Iterable[Pod], assumed: Mapping[str, str] = EMPTY,
    nominations: Mapping[str, str] | None = None,
) -> tuple[NodeInfo, ...]:
    """The scheduler cache snapshot: one NodeInfo per node, sorted by node name.

    A pod counts on a node if spec.nodeName names it or `assumed` (pod key -> node) places it
    there; terminal pods (Succeeded/Failed) are left out, pods being deleted still count.
    Unassigned, non-terminal, non-deleting pods with status.nominatedNodeName are recorded as
    nominated on that node — or, given the scheduler's `nominations` (its nominator, pod key →
    node: `kubeprop.model.scheduler.nominator`), the non-terminal pods nominated there, being
    deleted or not (upstream's nominator keeps a pod until its deletion event). Pods on unknown nodes
    are dropped (upstream keeps them on a node-less NodeInfo that the snapshot does not list).
    """
    by_node: dict[str, list[Pod]] = {}
    nominated: dict[str, list[Pod]] = {}
    for pod in pods:
        if pod.status.phase in _TERMINAL_PHASES:
            continue
        where = _placement(pod, assumed)
        if where:
            by_node.setdefault(where, []).append(pod)
        elif nominations is not None:  # the nominator's pods, being deleted or not (addGENominatedPods)
            node = nominations.get(pod_key(pod), "")
            if node:
                nominated.setdefault(node, []).append(pod)
        elif pod.metadata.deletion_timestamp is None:
            node = pod.status.nominated_node_name
            if node:
                nominated.setdefault(node, []).append(pod)
    ordered = sorted(nodes, key=lambda n: n.metadata.name)
    return tuple(
        NodeInfo.of(n, by_node.get(n.metadata.name, ()), nominated.get(n.metadata.name, ())) for n in ordered
    )
