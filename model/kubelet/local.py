"""What every kubelet action reads and writes: its runtime state and its pod cache.

A kubelet's own state is the `KubeletState` the lead keeps per node (`ClusterState.kubelets`); its
view of the API is its informer's pod cache, filtered to `spec.nodeName == node`
(`pkg/kubelet/config/apiserver.go` NewSourceApiserver's field selector). The helpers here are shared
by the enabled actions (`kubeprop.model.kubelet.component`) and their handlers
(`kubeprop.model.kubelet.handlers`).
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.pod import Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.kubelet.config import config_errors
from kubeprop.model.kubelet.runtime import KubeletState, PodRuntime, initial_kubelet
from kubeprop.model.kubelet.volumes import mount_error, multi_attach_error
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet, view
from kubeprop.model.state.informer import ObjectView

__all__ = ["cached_pods", "config_errors_of", "kubelet_state", "mounts", "pod_runtime", "same", "set_pod", "store",
           "user"]


def user(node: str) -> str:
    """The identity a node's kubelet writes as."""
    return f"system:node:{node}"


def kubelet_state(state: ClusterState, node: str) -> KubeletState:
    """A node's kubelet state (the initial one if the lead did not store any yet)."""
    k = state.kubelets.get(node)
    return k if isinstance(k, KubeletState) else initial_kubelet()


def store(state: ClusterState, node: str, k: KubeletState) -> ClusterState:
    """The state with the node's kubelet state replaced."""
    return evolve(state, kubelets=state.kubelets.set(node, k))


def set_pod(state: ClusterState, node: str, key: str, pod: PodRuntime | None) -> ClusterState:
    """The state with one of the node's pods set (forgotten when None)."""
    return store(state, node, kubelet_state(state, node).with_pod(key, pod))


def pod_runtime(state: ClusterState, node: str, key: str) -> PodRuntime:
    """A pod the node's kubelet runs (it must)."""
    return kubelet_state(state, node).pods[key]


def same(pod: Pod | None, runtime: PodRuntime) -> bool:
    """Whether the cached pod is the one the kubelet runs (the same uid)."""
    return pod is not None and pod.metadata.uid == runtime.uid


_CACHED: IdentityMemo[FrozenMap[str, Pod]] = IdentityMemo(limit=1_024)
"""A node's pods by the identity of the map a kubelet's view lists them from, and the node: the
enabled actions ask for them three times a state, and a step that changes no pod leaves the
kubelet's cache the very same map."""


def _pod_source(source: Any) -> Any:
    """The map `source.list("pods")` reads: the pods cache of an informer, the objects of a store."""
    resources = getattr(source, "resources", None)
    if resources is not None:
        cache = resources.get("pods")
        return None if cache is None else cache.objects
    return source.objects


def cached_pods(model: ClusterModel, state: ClusterState, node: str) -> FrozenMap[str, Pod]:
    """The kubelet's pod cache: pods with spec.nodeName == node (its informer's field selector),
    remembered by the identity of the map they are listed from (`_CACHED`)."""
    source = view(model, state, kubelet(node))
    return _CACHED.get((_pod_source(source),), _list_pods, source, node, values=node)


def _list_pods(source: ObjectView, node: str) -> FrozenMap[str, Pod]:
    return FrozenMap({
        f"{p.metadata.namespace}/{p.metadata.name}": p
        for p in source.list("pods")
        if isinstance(p, Pod) and p.spec.node_name == node
    })


def config_errors_of(model: ClusterModel, state: ClusterState, node: str, key: str) -> FrozenMap[str, str]:
    """The CreateContainerConfigError of each container of the pod the kubelet runs as `key`, as its
    ConfigMap and Secret caches resolve them (`kubeprop.model.kubelet.config`); none for a pod gone
    from its cache or replaced (the kubelet then only stops it)."""
    pod = cached_pods(model, state, node).get(key)
    runtime = kubelet_state(state, node).pods.get(key)
    if pod is None or (runtime is not None and not same(pod, runtime)):
        return EMPTY
    return config_errors(view(model, state, kubelet(node)), pod)


def mounts(model: ClusterModel, state: ClusterState, node: str, key: str) -> bool:
    """Whether every volume of the cached pod `key` mounts from the kubelet's ConfigMap and Secret caches
    (`kubeprop.model.kubelet.volumes`) and its attachable volumes are attached to no other node
    (`multi_attach_error`); False for a pod gone from its cache or replaced (the kubelet then only stops it)."""
    pod = cached_pods(model, state, node).get(key)
    runtime = kubelet_state(state, node).pods.get(key)
    if pod is None or (runtime is not None and not same(pod, runtime)):
        return False
    return mount_error(view(model, state, kubelet(node)), pod) is None and multi_attach_error(state, node, pod) is None
