"""A container's configuration from ConfigMaps and Secrets: `CreateContainerConfigError`.

Before it creates a container the kubelet builds its environment (`pkg/kubelet/kubelet_pods.go`
GenerateRunContainerOptions → makeEnvironmentVariables): `envFrom` first (`configMapRef`,
`secretRef`), then `env[].valueFrom` (`configMapKeyRef`, `secretKeyRef`), each object fetched once
per container from the kubelet's ConfigMap or Secret manager. An object that does not exist fails the
container unless the reference says `optional: true`: the manager's NotFound error, `configmap "<name>"
not found` / `secret "<name>" not found`; so does a missing key of an existing object (`couldn't find
key <key> in ConfigMap <ns>/<name>`, `... in Secret ...`). `kuberuntime_container.go` startContainer
turns a generateContainerConfig error into `ErrCreateContainerConfig`: the container is not created
and stays Waiting, reason `CreateContainerConfigError`, the error as its message (the kubelet's reason
cache, `convertToAPIContainerStatuses`). Other containers of the pod start independently (SyncPod
starts each of `ContainersToStart`); an init container that fails holds the ones after it.

The pod worker retries: a failed sync is requeued after `backOffPeriod`, 10 s (`pod_workers.go`
completeWork: `wait.Jitter(p.backOffPeriod, workerBackOffPeriodJitterFactor)`, jitter not modelled),
and each sync tries every container not running again, so the container starts once the object
appears. A retry whose outcome would be the same failure changes nothing observable (the same waiting
reason and message), so the model takes a retry (`RestartContainer` of a container whose
`config_error` is set) only when its outcome differs: from 10 s after the last failure, once the
kubelet's cache resolves the references differently (`retry_due`). No restart count is spent: the
container was never created (an exited container that fails again on restart keeps its count).

Where the kubelet reads the objects: upstream's default `configMapAndSecretChangeDetectionStrategy` is
Watch (`pkg/kubelet/configmap/configmap_manager.go` NewWatchingConfigMapManager,
`pkg/kubelet/util/manager/watch_based_manager.go`): a cache fed by a watch of each object the
kubelet's pods reference, started when a pod is registered, so a lookup reads that cache, not a live
GET. The model gives every kubelet an informer on `configmaps` and `secrets`
(`kubeprop.model.cluster.informers.watched`) and reads it through `view`: the kubelet may start a
container on a stale copy (a ConfigMap deleted since) or fail on one not delivered yet, and a
partitioned kubelet keeps the objects it had. Upstream watches the referenced objects only; the model
watches whole resources (more deliveries, the same objects for the references). Volumes (`configMap`,
`secret` and `projected` volumes of a missing object: the pod stays ContainerCreating, FailedMount) read
the same caches: `kubeprop.model.kubelet.volumes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeprop.model.api.core import ConfigMap, Secret
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Container, Pod
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.informer import ObjectView

__all__ = ["CONFIG_ERROR_REASON", "RETRY_SECONDS", "config_error", "config_errors"]

CONFIG_ERROR_REASON = "CreateContainerConfigError"
"""`kuberuntime_container.go` ErrCreateContainerConfig."""
RETRY_SECONDS = 10
"""`pkg/kubelet/kubelet.go` backOffPeriod: a pod whose sync failed is synced again after it."""

_KINDS = {"configMap": ("configmaps", "configmap", "ConfigMap"), "secret": ("secrets", "secret", "Secret")}
"""Reference kind → (resource, the manager's NotFound resource name, the kind in the key message)."""


def _ref(value: Any, field: str) -> Mapping[str, Any] | None:
    ref = value.get(field) if isinstance(value, Mapping) else None
    return ref if isinstance(ref, Mapping) else None


def _data(obj: Any) -> Mapping[str, Any]:
    """The keys a lookup sees: a ConfigMap's `data` (not `binaryData`: `configMap.Data[key]`), a
    Secret's `data` (its `stringData` merged in)."""
    if isinstance(obj, Secret):
        return {**obj.data, **obj.string_data}
    return obj.data if isinstance(obj, ConfigMap) else {}


def _lookup(view: ObjectView, namespace: str, kind: str, ref: Mapping[str, Any], key: str | None) -> str | None:
    """The error of one reference (None if it resolves or is optional and unresolved)."""
    resource, lower, title = _KINDS[kind]
    name = str(ref.get("name") or "")
    optional = ref.get("optional") is True
    obj = view.get(ObjectKey(resource, namespace, name))
    if obj is None:
        return None if optional else f'{lower} "{name}" not found'
    if key is not None and key not in _data(obj):
        return None if optional else f"couldn't find key {key} in {title} {namespace}/{name}"
    return None


def config_error(view: ObjectView, namespace: str, c: Container) -> str | None:
    """makeEnvironmentVariables' first error for `c`, in its order: envFrom, then env."""
    for source in c.env_from:
        for kind, field in (("configMap", "configMapRef"), ("secret", "secretRef")):
            ref = _ref(source, field)
            if ref is not None and (error := _lookup(view, namespace, kind, ref, None)) is not None:
                return error
    for var in c.env:
        if var.value:  # a value wins over valueFrom (`if runtimeVal != ""`)
            continue
        for kind, field in (("configMap", "configMapKeyRef"), ("secret", "secretKeyRef")):
            ref = _ref(var.value_from, field)
            if ref is not None and (error := _lookup(view, namespace, kind, ref, str(ref.get("key")))) is not None:
                return error
    return None


def config_errors(view: ObjectView, pod: Pod | None) -> FrozenMap[str, str]:
    """Container name → its CreateContainerConfigError message, for every init container and container
    of `pod` whose configuration does not resolve in `view` (empty for None)."""
    if pod is None:
        return EMPTY
    namespace = pod.metadata.namespace
    found = {c.name: error for c in (*pod.spec.init_containers, *pod.spec.containers)
             if (c.env_from or c.env) and (error := config_error(view, namespace, c)) is not None}
    return FrozenMap(found) if found else EMPTY
