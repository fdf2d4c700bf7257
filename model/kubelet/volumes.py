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

A claim's volume that must be attached also waits for the attach/detach controller
(`multi_attach_error`): `pkg/controller/volume/attachdetach/reconciler/reconciler.go` attaches a volume
whose PV is attachable (`kubeprop.model.api.volume.attachable`: CSI, unless the driver's CSIDriver
object — read from the store, as the controller's CSIDriver lister would — says `attachRequired:
false`, as NFS-like drivers do) and forbids multi-attach (its
access modes hold neither ReadWriteMany nor ReadOnlyMany: isMultiAttachForbidden) to no second node
while it is attached to one ("Multi-Attach error for volume "<pv>" Volume is already used by pod(s)
<pods>", reportMultiAttachError), and the kubelet's WaitForAttachAndMount waits (FailedMount). The
volume counts as attached to a node while a pod there that named its claim has mounted it (its
runtime on that node's kubelet, not `mount_pending`; or, the kubelet's memory lost with its node, its
status shows a container that ran or refused its configuration: `attached_before`) and is not
terminated (`pkg/volume/util/util.go` IsPodTerminated, which the controller's desired state of the
world follows: phase Succeeded or Failed, or being deleted with no container running) in the API
server or in the controller manager's cache (the controller's pod informer: a pod deleted from the
store holds its volume until the controller sees it go, `_desired_views`). Volumes that are
not attached (hostPath, local, NFS, a CSI driver that does not attach) are mounted on any number of
nodes: ReadWriteOnce is not enforced for them.

The detach (`reconciler.go` reconcile, v1.33; `kubeprop.model.controllers.attachdetach`): once the
holding pod leaves the controller's desired state of the world (terminated, or gone, as its cache
sees it), the volume stays attached to its node while the node reports it in use
(`node.status.volumesInUse`, written by the kubelet's status sync: `attachedVolume.MountedByNode`),
unless `forceDetach` — the node unhealthy (`nodeIsHealthy`: its Ready condition not True, or the node
gone from the controller's cache) and more than `maxWaitForUnmountDuration` (6 min,
`--attach-detach-reconcile-max-wait-unmount-duration`) past the detach request
(`SetDetachRequestTime`, the controller's first reconcile after the pod left) — or the node has the
`node.kubernetes.io/out-of-service` taint (`hasOutOfServiceTaint`, the key only; `NodeOutOfServiceVolumeDetach`,
GA 1.28). The model keeps one entry per node and claim from the pod's departure (the controller
manager's memory `AttachDetachMemory`, written when the pod event reaches it) and the volume counts
as attached there until a `Tick` finds one of those three: the node's kubelet reaches the API server
and none of its pods holds the claim mounted with a container running (the unmount, then the status
sync: `nodeStatusUpdateFrequency`, 10 s, the model's tick), the 6 minutes on an unhealthy node, or
the taint. So after a node crash a StatefulSet's replacement pod (once the old one is force-deleted,
collected with its Node or by podgc's gcTerminating on an out-of-service node) waits about 6 min on
its new node in ContainerCreating ("Multi-Attach error for volume "<pv>" Volume is already
exclusively attached to one node and can't be attached to another", reportMultiAttachError when no
desired pod holds it), and with the out-of-service taint it starts at the next mount retry.
Left out (each a behaviour missed, the detach coming earlier than upstream's): an entry is made only
for a pod whose last status shows its volumes mounted (`attached_before`; upstream's
`mountedByNode` starts True at the attach), and only when the pod event reaches the running
controller manager (a pod gone while it was down: upstream rebuilds the attachments from
`node.status.volumesAttached` and detaches after the same wait; the model at once); the
attacher's and
detacher's own time is not modelled (the attach is taken at the mount).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.core import ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.storage import CSI_DRIVERS, CSIDriver, StorageClass, cluster_storage_class, makes_csi_volumes
from kubeprop.model.api.volume import (
    CLAIMS,
    VOLUMES,
    attachable,
    csi_driver,
    forbids_multi_attach,
    multi_attach_forbidden,
)
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.volumebinding import sees_volumes
from kubeprop.model.state.cluster import CONTROLLER_MANAGER
from kubeprop.model.state.informer import ObjectView

if TYPE_CHECKING:
    from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["ATTACH_DETACH", "ROOT_CA_CONFIG_MAP", "AttachDetachMemory", "attached_before", "can_attach", "claim_names",
           "has_claims", "is_terminated", "mount_error", "mount_retry_due", "multi_attach_error", "next_mount_retry",
           "retry_offsets", "volume_errors", "wait_key"]

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


def is_terminated(pod: Pod) -> bool:
    """IsPodTerminated (`pkg/volume/util/util.go`): Succeeded or Failed, or being deleted with no
    container running in its status."""
    if pod.status.phase in ("Succeeded", "Failed"):
        return True
    running = any(isinstance(c.state, Mapping) and "running" in c.state for c in pod.status.container_statuses)
    return pod.metadata.deletion_timestamp is not None and not running


def attached_before(pod: Pod) -> bool:
    """Whether the pod's status shows that its kubelet got past WaitForAttachAndMount: a container
    (init or regular) running or terminated, with a previous run, or refused its configuration
    (CreateContainerConfigError comes after the mounts). Its volumes are then attached to its node."""
    for c in (*pod.status.init_container_statuses, *pod.status.container_statuses):
        state = c.state if isinstance(c.state, Mapping) else {}
        waiting = state.get("waiting")
        if "running" in state or "terminated" in state or c.last_state is not None or (
                isinstance(waiting, Mapping) and waiting.get("reason") == "CreateContainerConfigError"):
            return True
    return False


ATTACH_DETACH = "attach-detach"
"""The attach/detach controller's memory's name among the controller manager's (`state.controllers`)."""


@attrs.frozen(cache_hash=True)
class AttachDetachMemory:
    """What the attach/detach controller's actual state of the world holds beyond the pods: for each
    node and claim whose last pod there left the desired state of the world while the node still
    reported the volume in use (`wait_key`), when the detach was requested and that pod's UID
    (`actual_state_of_world.go` detachRequestedTime). The volume stays attached to that node while
    the entry lasts (`kubeprop.model.controllers.attachdetach` makes and ends entries)."""

    waits: FrozenMap[str, tuple[int, str]] = EMPTY


def wait_key(node: str, claim: str) -> str:
    """The key of `AttachDetachMemory.waits` for `node` and the claim `namespace/name`."""
    return f"{node}|{claim}"


def claim_names(pod: Pod) -> tuple[str, ...]:
    """The claims (`namespace/name`) the volumes of `pod` name, in spec order."""
    return tuple(f"{pod.metadata.namespace}/{v.persistent_volume_claim.claim_name}" for v in pod.spec.volumes
                 if v.persistent_volume_claim is not None)


def _waiting_elsewhere(state: ClusterState, node: str, claim: str) -> bool:
    """Whether the volume of `claim` stays attached to a node other than `node` after its pod left
    (an `AttachDetachMemory` entry)."""
    memory = state.controllers.get(ATTACH_DETACH)
    if not isinstance(memory, AttachDetachMemory) or not memory.waits:
        return False
    for key in memory.waits:
        other, held = key.split("|", 1)
        if held == claim and other != node:
            return True
    return False


def _desired_views(state: ClusterState) -> tuple[ObjectView, ...]:
    """Where the controller's desired state of the world is read: its pod informer (the controller
    manager's cache), and the store (a pod the kubelet mounted before the controller's cache had it:
    the model attaches at the mount). A pod counts while either shows it not terminated, so a pod
    deleted or terminated holds its volume until the controller's handler sees it go and makes the
    detach wait (`kubeprop.model.controllers.attachdetach`), never a step between the two."""
    cache = state.informers.get(CONTROLLER_MANAGER)
    return (state.store,) if cache is None else (state.store, cache)


def _desired(views: tuple[ObjectView, ...], key: ObjectKey, uid: str | None = None) -> Pod | None:
    """The pod at `key` that one of `views` shows not terminated (with that `uid`, if given), or None."""
    for source in views:
        pod = source.get(key)
        if isinstance(pod, Pod) and (uid is None or pod.metadata.uid == uid) and not is_terminated(pod):
            return pod
    return None


def _attached_elsewhere(state: ClusterState, node: str, claim: str) -> list[str]:
    """The names of the pods on nodes other than `node` that hold the claim `namespace/name`
    attached, not terminated in the controller's desired state of the world (`_desired_views`):
    mounted by their kubelet, or — their kubelet's memory lost with its node (`crash_node`) — shown
    attached by their status (`attached_before`): the volume stays attached to the crashed node
    while the pod is desired."""
    users, views = set(), _desired_views(state)
    for other, kubelet in state.kubelets.sorted_items():
        if other == node:
            continue
        for key, runtime in kubelet.pods.sorted_items():
            if claim in runtime.claims and not runtime.mount_pending and \
                    _desired(views, ObjectKey("pods", *key.split("/", 1)), runtime.uid) is not None:
                users.add(key.split("/", 1)[1])
    namespace, name = claim.split("/", 1)
    for source in views:
        for pod in source.list("pods", namespace):
            if isinstance(pod, Pod) and pod.spec.node_name not in ("", node) and attached_before(pod) \
                    and any(v.persistent_volume_claim is not None and v.persistent_volume_claim.claim_name == name
                            for v in pod.spec.volumes) and not is_terminated(pod):
                users.add(pod.metadata.name)
    return sorted(users)


def has_claims(pod: Pod) -> bool:
    """Whether a volume of `pod` names a claim: only such a pod's mount can wait for an attachment
    (`multi_attach_error` is None for any other, whatever the store and the other kubelets hold)."""
    return any(v.persistent_volume_claim is not None for v in pod.spec.volumes)


def can_attach(model: ClusterModel) -> bool:
    """Whether a volume the attach/detach controller keeps on one node (`attachable` and
    `multi_attach_forbidden`) can exist in the scenario: it runs the PV controller, and a
    PersistentVolume of its manifests or workload steps is one, or the provisioner of the cluster's
    class or of a StorageClass there creates CSI volumes (`makes_csi_volumes`, the test
    `kubeprop.model.cluster.provisioner.volume_for` uses: the `zonal` default class, a generic CSI
    driver) and a claim there (an object, or a StatefulSet's `volumeClaimTemplates`) could be provisioned —
    a class other than "" — with access modes that forbid multi-attach (the volume gets the
    claim's). A static over-approximation (which class a claim gets, and a CSIDriver object's
    `attachRequired`, are not looked at): where it is False no pod's mount ever waits for an
    attachment, and the footprints need not say that a mount reads the other kubelets."""
    if not sees_volumes(model):
        return False
    objects = (*(m.obj for m in model.scenario.objects), *(o for step in model.workload_objects for o in step))
    if any(isinstance(o, PersistentVolume) and attachable(o) and multi_attach_forbidden(o) for o in objects):
        return True
    choice = str(model.parameter("defaultStorageClass"))
    builtin = cluster_storage_class(choice)
    provisioners = {o.provisioner for o in objects if isinstance(o, StorageClass)} | (
        {builtin.provisioner} if builtin is not None else set())
    if not any(makes_csi_volumes(p, choice) for p in provisioners):
        return False
    claims = (*(o for o in objects if isinstance(o, PersistentVolumeClaim)),
              *(t for o in objects if isinstance(o, StatefulSet) for t in o.spec.volume_claim_templates))
    return any(c.spec.storage_class_name != "" and forbids_multi_attach(c.spec.access_modes) for c in claims)


def multi_attach_error(state: ClusterState, node: str, pod: Pod) -> str | None:
    """The attach/detach controller's refusal to attach a volume of `pod`'s claims to `node` while it
    is attached to another node (see the module's docstring), or None."""
    namespace = pod.metadata.namespace
    for volume in pod.spec.volumes:
        ref = volume.persistent_volume_claim
        if ref is None:
            continue
        claim = state.store.get(ObjectKey(CLAIMS, namespace, ref.claim_name))
        if not isinstance(claim, PersistentVolumeClaim) or not claim.spec.volume_name:
            continue
        pv = state.store.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
        if not isinstance(pv, PersistentVolume) or not multi_attach_forbidden(pv):
            continue
        driver = state.store.get(ObjectKey(CSI_DRIVERS, "", csi_driver(pv)))
        if not attachable(pv, driver if isinstance(driver, CSIDriver) else None):
            continue
        claim_key = f"{namespace}/{ref.claim_name}"
        users = _attached_elsewhere(state, node, claim_key)
        if users:
            return (f'Multi-Attach error for volume "{pv.metadata.name}" Volume is already used by pod(s) '
                    f'{", ".join(users)}')
        if _waiting_elsewhere(state, node, claim_key):  # (reportMultiAttachError: no desired pod holds it)
            return (f'Multi-Attach error for volume "{pv.metadata.name}" Volume is already exclusively attached '
                    "to one node and can't be attached to another")
    return None
