"""A pod's `configMap`, `secret` and `projected` volumes: a missing object holds the pod (FailedMount).

Before SyncPod creates a pod's containers it waits for its volumes (`pkg/kubelet/kubelet.go` SyncPod →
`pkg/kubelet/volumemanager/volume_manager.go` WaitForAttachAndMount). The volume manager's reconciler
mounts each volume (`pkg/kubelet/volumemanager/reconciler/`, operation_generator's MountVolume.SetUp),
and the plug-ins of these volumes read their object through the kubelet's ConfigMap and Secret managers
— the same watch-fed caches as the containers' environment (`kubeprop.model.kubelet.config`):
- `configMap` (`pkg/volume/configmap/configmap.go` SetUpAt): a missing ConfigMap fails the mount unless
  the volume says `optional: true` (`configmap "<name>" not found`); an `items` key in neither `data`
  nor `binaryData` fails it unless optional (MakePayload: `configmap references non-existent config
  key: <key>`);
- `secret` (`pkg/volume/secret/secret.go` SetUpAt, the object named by `secretName`): likewise
  (`secret "<name>" not found`, `references non-existent secret key: <key>`);
- `projected` (`pkg/volume/projected/projected.go` collectData): each `configMap` and `secret` source
  likewise, with the same messages (the plug-in calls the two MakePayloads); its other sources
  (`downwardAPI`, `serviceAccountToken`, `clusterTrustBundle`) always resolve in the model.
The failed SetUp is reported as the event `FailedMount`, `MountVolume.SetUp failed for volume "<volume>"
: <error>` (`pkg/volume/util/operationexecutor/operation_generator.go`; events are not modelled:
`volume_errors` gives the messages). The pod stays Pending, its containers Waiting with reason
ContainerCreating (or PodInitializing; no container was created), until every volume mounts.

The retry: the reconciler (every 100 ms) tries a failed volume again only once its exponential
back-off ran out — 500 ms after the first failure, doubling up to 2 min 2 s
(`pkg/util/goroutinemap/exponentialbackoff/exponential_backoff.go` initialDurationBeforeRetry,
maxDurationBeforeRetry, Update, SafeToRetry; `pkg/volume/util/nestedpendingoperations`) —, and the
pod worker, blocked in WaitForAttachAndMount (polled every 300 ms), starts the containers once the
volumes are mounted. In the model the pod is admitted with `PodRuntime.mount_pending` and nothing
started; `MountVolumes` — the mount that succeeds, then the sync that starts what `StartPod` would
have — is enabled where the volume manager retried within the model's last tick (`mount_retry_due`)
and the kubelet's caches resolve every volume. While the volumes keep failing the retries come after
0.5, 1, 2, 4, … s, at most 122 s apart, so at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5, 127.5, 249.5, 371.5,
… s after the first failure. The reconciler's 100 ms period and the mount's own time put each a little
later, so the model rounds each retry time up to whole seconds — 1, 2, 4, 8, 16, 32, 64, 128, 250,
then every 122 s (`retry_offsets`) — and its clock moves in ticks (`bounds.tickSeconds`, 10 s by
default): a retry counts at the clock of the tick it falls in (`(now - tick, now]`). The retries count
from the admission (the first failed mount) or, after a kubelet restart, from the restart (a new
volume manager has no back-off: `PodRuntime.mount_from`). A retry that fails changes nothing the
cluster or a property sees (the status is the same; events are not modelled), so it is not a step;
the next retry time is a timer (`next_mount_retry`). So a ConfigMap created 45 s after the admission
is mounted at the retry at 64 s (the tick ending at 70 s with the default tick), not at once. Within
a tick the model does not order the retry and the object's creation, so the mount can come at the
end of the tick in which both happened. A retry the model lets pass although the volume would mount
(another step, then a `Tick`) stands for a mount that took until a later retry.

The pod worker's own timeout is left out: WaitForAttachAndMount (`volume_manager.go`,
`podAttachAndMountTimeout` 2 min 3 s, polling every 300 ms from the start) gives up with
`FailedMount` "Unable to attach or mount volumes: ..." and SyncPod fails; the pod worker syncs the
pod again at once if an update of it came meanwhile, else after `backOffPeriod` (10 s, `wait.Jitter`
factor 0.5: 10 to 15 s, picked up by the 1 s sync loop: `pod_workers.go` completeWork), and the new
sync's first poll starts the containers if the volumes are mounted by then. Only the retry at 128 s
falls in the first such gap (123 s to at most ~139 s after the first failure); later gaps drift
with the jitter. So a volume mounted at that retry may start the containers up to ~11 s later than
the model does (its tick ending after the mount): a real start one tick later is not explored (a
behaviour missed, never one added — the immediate re-sync makes the model's start real too).

The `kube-root-ca.crt` ConfigMap resolves in every namespace: the root CA publisher creates it there
(`pkg/controller/certificates/rootcacertpublisher/publisher.go`; not modelled), and every pod's
service account token volume projects it (a pod written from `kubectl get -o yaml` names it). A
mounted volume whose object is deleted later stays mounted (upstream's periodic remount fails, the
containers keep running and restart with it): the check is made before the containers first start only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kubeprop.model.api.core import ConfigMap, Secret
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.state.informer import ObjectView

__all__ = ["ROOT_CA_CONFIG_MAP", "mount_error", "mount_retry_due", "next_mount_retry", "retry_offsets",
           "volume_errors"]

INITIAL_BACKOFF_MS = 500
"""`exponential_backoff.go` initialDurationBeforeRetry."""
MAX_BACKOFF_MS = 122_000
"""`exponential_backoff.go` maxDurationBeforeRetry (2 min 2 s)."""


def _offsets_until_capped() -> tuple[int, ...]:
    """The retries' offsets in whole seconds (rounded up) while the back-off still doubles, and the
    first capped one."""
    offsets, total, backoff = [], 0, INITIAL_BACKOFF_MS
    while True:
        total += backoff
        offsets.append(-(-total // 1000))
        if backoff == MAX_BACKOFF_MS:
            return tuple(offsets)
        backoff = min(2 * backoff, MAX_BACKOFF_MS)


_DOUBLING = _offsets_until_capped()
_CAPPED_FROM = _DOUBLING[-1]
"""The first retry at the capped back-off; from there on every `MAX_BACKOFF_MS` (a whole number of
seconds plus the half second of the start, rounded up the same way each time)."""


def retry_offsets(count: int) -> tuple[int, ...]:
    """The first `count` retry times of a failing volume, in seconds after its first failure,
    rounded up to the model's clock: 1, 2, 4, 8, 16, 32, 64, 128, 250, 372, …"""
    out = list(_DOUBLING[:count])
    while len(out) < count:
        out.append(_CAPPED_FROM + (len(out) + 1 - len(_DOUBLING)) * MAX_BACKOFF_MS // 1000)
    return tuple(out)


def mount_retry_due(since: int, now: int, tick: int) -> bool:
    """Whether the volume manager retried a volume failing since `since` within the model's last
    tick before `now` (in `(now - tick, now]`)."""
    return next_mount_retry(since, now - tick) <= now


def next_mount_retry(since: int, now: int) -> int:
    """The first retry after `now` of a volume failing since `since`."""
    offset = now - since
    later = [o for o in _DOUBLING if o > offset]
    if later:
        return since + later[0]
    period = MAX_BACKOFF_MS // 1000
    return since + _CAPPED_FROM + ((offset - _CAPPED_FROM) // period + 1) * period
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
"""`rootcacertpublisher` RootCACertConfigMapName: in every namespace, its one key `ca.crt`."""
_ROOT_CA_KEYS = frozenset({"ca.crt"})


def _keys(obj: Any) -> frozenset[str]:
    """The keys a volume's `items` can name: a ConfigMap's `data` and `binaryData`, a Secret's `data`
    (its `stringData` merged in on write)."""
    if isinstance(obj, ConfigMap):
        return frozenset((*obj.data, *obj.binary_data))
    if isinstance(obj, Secret):
        return frozenset((*obj.data, *obj.string_data))
    return frozenset()


def _source_error(view: ObjectView, namespace: str, secret: bool, source: Mapping[str, Any], name: str) -> str | None:
    """SetUp's error for one ConfigMap or Secret (a volume, or a projected source), None if it mounts."""
    optional = source.get("optional") is True
    resource, lower = ("secrets", "secret") if secret else ("configmaps", "configmap")
    obj = view.get(ObjectKey(resource, namespace, name))
    if obj is None and not secret and name == ROOT_CA_CONFIG_MAP:
        keys = _ROOT_CA_KEYS
    elif obj is None:
        return None if optional else f'{lower} "{name}" not found'
    else:
        keys = _keys(obj)
    for item in source.get("items") or ():
        key = str(item.get("key", "")) if isinstance(item, Mapping) else ""
        if key not in keys and not optional:
            return f"references non-existent secret key: {key}" if secret \
                else f"configmap references non-existent config key: {key}"
    return None


def _sources(volume: Any) -> Iterator[tuple[bool, Mapping[str, Any], str]]:
    """(is a Secret, its source, the object's name) of each ConfigMap and Secret a volume mounts."""
    if isinstance(volume.config_map, Mapping):
        yield False, volume.config_map, str(volume.config_map.get("name") or "")
    if isinstance(volume.secret, Mapping):
        yield True, volume.secret, str(volume.secret.get("secretName") or "")
    projected = volume.projected.get("sources") if isinstance(volume.projected, Mapping) else None
    for source in projected or ():
        for secret, field in ((False, "configMap"), (True, "secret")):
            ref = source.get(field) if isinstance(source, Mapping) else None
            if isinstance(ref, Mapping):
                yield secret, ref, str(ref.get("name") or "")


def volume_errors(view: ObjectView, pod: Pod) -> tuple[str, ...]:
    """The `FailedMount` message of each volume of `pod` that does not mount from `view` (spec order;
    a projected volume's first failing source)."""
    found = []
    for volume in pod.spec.volumes:
        for secret, source, name in _sources(volume):
            error = _source_error(view, pod.metadata.namespace, secret, source, name)
            if error is not None:
                found.append(f'MountVolume.SetUp failed for volume "{volume.name}" : {error}')
                break
    return tuple(found)


def mount_error(view: ObjectView, pod: Pod | None) -> str | None:
    """The first volume of `pod` that does not mount (None if all do, or for None)."""
    if pod is None or not pod.spec.volumes:
        return None
    errors = volume_errors(view, pod)
    return errors[0] if errors else None
