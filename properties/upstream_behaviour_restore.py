"""Recognizers of upstream behaviour after an etcd restore that skips part of Kubernetes'
documented procedure (docs/restore.md): what a real cluster does when the scheduler and the
controller manager are not restarted after the restore. `upstream_behaviour.KNOWN` lists the
entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.apps import ReplicaSet
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import WATCH_CACHE, filters
from kubeprop.model.cluster.restore import RestoreEtcd
from kubeprop.model.controllers.base import decide, queued
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up
from kubeprop.properties.registry import Violation


def pod_and_owners(state: ClusterState, pod: Pod) -> set[str]:
    """The pod and the workloads it belongs to, as a violation names objects (`Kind ns/name`):
    its controller (a ReplicaSet or StatefulSet) and the ReplicaSet's Deployment, as stored."""
    namespace = pod.metadata.namespace
    names = {f"Pod {namespace}/{pod.metadata.name}"}
    ref = pod.metadata.controller_ref()
    if ref is None:
        return names
    names.add(f"{ref.kind} {namespace}/{ref.name}")
    if ref.kind == "ReplicaSet":
        owner = state.store.get(ObjectKey("replicasets.apps", namespace, ref.name))
        parent = owner.metadata.controller_ref() if owner is not None else None
        if parent is not None:
            names.add(f"{parent.kind} {namespace}/{parent.name}")
    return names


def _unbound_by_restore(states: Sequence[ClusterState], trace: Sequence[Action]) -> set[str]:
    """The pods (`ns/name`) a restore in the trace took from bound back to unbound (same UID)."""
    found = set()
    for i, act in enumerate(trace):
        if not isinstance(act, RestoreEtcd):
            continue
        for before in states[i].store.list("pods"):
            if not isinstance(before, Pod) or not before.spec.node_name:
                continue
            after = states[i + 1].store.get(ObjectKey("pods", before.metadata.namespace, before.metadata.name))
            if isinstance(after, Pod) and after.metadata.uid == before.metadata.uid and not after.spec.node_name:
                found.add(f"{before.metadata.namespace}/{before.metadata.name}")
    return found


def restore_left_pod_assumed(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                             violation: Violation) -> bool:
    """Without the restart of the components (`etcdRestoreRestartsComponents: false`), a restore
    took a bound pod back to unbound, and in the violating state that pod — of the workload the
    violation names — is still unbound in the store and still assumed by a scheduler."""
    if model.parameter("etcdRestoreRestartsComponents"):
        return False
    named = set(violation.objects)
    last = states[-1]
    for key in _unbound_by_restore(states, trace):
        namespace, _, name = key.partition("/")
        pod = last.store.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.spec.node_name or not pod_and_owners(last, pod) & named:
            continue
        if any(key in memory.assumed for memory in last.schedulers.values()):
            return True
    return False


RESTORE_ASSUMED_SUMMARY = (
    "An etcd restore takes a pod the scheduler bound after the backup back to its unbound version. When "
    "the scheduler's pod informer had not yet delivered the binding, it gets no event for the pod and keeps "
    "it assumed: assumed pods never expire and an update of an assumed pod is not queued, so the pod stays "
    "Pending until the scheduler restarts — what the restore procedure's restart of the components is for "
    "(`etcdRestoreRestartsComponents: true`).")
RESTORE_ASSUMED_CITATIONS = (
    "pkg/scheduler/scheduler.go (durationToExpireAssumedPod = 0: assumed pods never expire; "
    "https://github.com/kubernetes/kubernetes/issues/106361)",
    "pkg/scheduler/eventhandlers.go updatePodInSchedulingQueue (an assumed pod's update is not queued)",
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster "
    "('restart Kubernetes components (kube-scheduler, kube-controller-manager, kubelet) to ensure that they "
    "don't rely on some stale data')",
)


_CONTROLLERS = {"Deployment": ("deployment", "deployments.apps"), "ReplicaSet": ("replicaset", "replicasets.apps"),
                "StatefulSet": ("statefulset", "statefulsets.apps")}
"""A workload kind a violation names → the controller that syncs it and the resource."""


def _workload_keys(state: ClusterState, violation: Violation) -> list[tuple[str, ObjectKey]]:
    """The workloads the violation names, with a Deployment's ReplicaSets and a ReplicaSet's
    Deployment, as (controller, stored key)."""
    keys: list[tuple[str, ObjectKey]] = []
    for obj in violation.objects:
        kind, _, name = obj.partition(" ")
        if kind not in _CONTROLLERS:
            continue
        namespace, _, plain = name.partition("/")
        controller, resource = _CONTROLLERS[kind]
        keys.append((controller, ObjectKey(resource, namespace, plain)))
        rs = state.store.get(ObjectKey("replicasets.apps", namespace, plain)) if kind == "ReplicaSet" else None
        ref = rs.metadata.controller_ref() if rs is not None else None
        if ref is not None and ref.kind == "Deployment":
            keys.append(("deployment", ObjectKey("deployments.apps", namespace, ref.name)))
        if kind == "Deployment":
            keys += [("replicaset", ObjectKey("replicasets.apps", namespace, r.metadata.name))
                     for r in state.store.list("replicasets.apps", namespace)
                     if isinstance(r, ReplicaSet) and (o := r.metadata.controller_ref()) is not None
                     and o.kind == "Deployment" and o.name == plain]
    return keys


def _touched_by_restore(states: Sequence[ClusterState], trace: Sequence[Action], keys: set[ObjectKey]) -> bool:
    """A restore (without the components' restart) changed one of `keys`, or a pod one of them
    owns, in the store."""
    for i, act in enumerate(trace):
        if not isinstance(act, RestoreEtcd):
            continue
        before, after = states[i].store, states[i + 1].store
        if any(before.get(key) != after.get(key) for key in keys):
            return True
        owners = {(key.namespace, key.name) for key in keys}
        pods = {(p.metadata.namespace, p.metadata.name) for st in (before, after) for p in st.list("pods")
                if isinstance(p, Pod) and (ref := p.metadata.controller_ref()) is not None
                and (p.metadata.namespace, ref.name) in owners}
        if any(before.get(ObjectKey("pods", ns, n)) != after.get(ObjectKey("pods", ns, n)) for ns, n in pods):
            return True
    return False


def restore_stalls_until_resync(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                violation: Violation) -> bool:
    """Without the components' restart, a restore changed the workload the violation names (or its
    pods), and in the violating state no key of it is queued although a sync would act now (create,
    scale, write status): the controller waits for an event the restore took back — its caches
    already match the restored store, or its expectations await pods the restore removed — and
    upstream only the informers' periodic resync re-queues it."""
    if model.parameter("etcdRestoreRestartsComponents"):
        return False
    keys = _workload_keys(states[-1], violation)
    if not keys or not _touched_by_restore(states, trace, {key for _, key in keys}):
        return False
    if _stalled(model, states[-1], keys):
        return True
    # a trace that ends where the property first fails: judge where its fair run settles
    run = settle(model, states[-1], max_steps=RESYNC_SETTLE_STEPS)
    return not run.exhausted and _stalled(model, run.state, keys)


RESYNC_SETTLE_STEPS = 5000
"""Steps of the fair run `restore_stalls_until_resync` follows from a violating state that is not
yet settled (as the convergence properties' continuation)."""


def _stalled(model: ClusterModel, state: ClusterState, keys: Sequence[tuple[str, ObjectKey]]) -> bool:
    """No key of the workload is queued, yet a sync of one would send a request now."""
    if not is_up(state, CONTROLLER_MANAGER):
        return False
    waiting = set(queued(model, state))
    for controller, key in keys:
        name = f"{key.namespace}/{key.name}"
        if (controller, name) not in waiting and decide(model, state, controller, name).requests:
            return True
    return False


RESTORE_RESYNC_SUMMARY = (
    "After an etcd restore without the restart of the controller manager, a controller may wait for an event "
    "the restore took back: it synced the workload after the backup and the restore undid that sync's writes "
    "before its informers delivered them (its caches then match the restored store), or its expectations "
    "await pods the restore removed. No watch event re-queues the workload; upstream the informers' periodic "
    "resync does, 12 to 24 hours later, and until then the workload stays as the restore left it. The restore "
    "procedure's restart of the components (`etcdRestoreRestartsComponents: true`) avoids it.")
RESTORE_RESYNC_CITATIONS = (
    "cmd/kube-controller-manager/app/controllermanager.go ResyncPeriod (MinResyncPeriod 12h times a random "
    "factor from 1 to 2: the shared informers' resync)",
    "pkg/controller/replicaset/replica_set.go updateRS ('a full informer resync can requeue any replica set "
    "that don't yet have pods ... instead of those replica sets stalling indefinitely'); "
    "pkg/controller/controller_utils.go ExpectationsTimeout",
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster "
    "('restart Kubernetes components ... to ensure that they don't rely on some stale data')",
)


def _ahead_of_restore(states: Sequence[ClusterState], trace: Sequence[Action]) -> dict[tuple[str, str], int]:
    """The caches a restore in the trace left watching from ahead of the restored revision, and
    the revision each watches from: (component, resource) → R, for every cache (not the API
    server's own watch cache) that after the restore is live (not awaiting a relist) at a revision
    R above the store's. With the components' restart or with `--bump-revision` past every cache
    there is none; with `--mark-compacted` every cache is below the compacted revision and relists."""
    ahead: dict[tuple[str, str], int] = {}
    for i, act in enumerate(trace):
        if not isinstance(act, RestoreEtcd):
            continue
        after = states[i + 1]
        for component, informer in after.informers.sorted_items():
            for resource, cache in informer.resources.sorted_items():
                if component != WATCH_CACHE and not cache.stale and cache.revision > after.store.revision:
                    ahead[(component, resource)] = cache.revision
    return ahead


def _missed_event(states: Sequence[ClusterState], trace: Sequence[Action], component: str, resource: str,
                  revision: int) -> bool:
    """The cache (`component`, `resource`), left ahead at `revision` by a restore, never gets an
    event it needs: at the restore it held a version of an object other than the restored store's
    (what the restore forgot or took back; no event will correct it until a write of that object
    above `revision`), or a write after the restore was of `resource` at a revision up to
    `revision` (the watch skips it)."""
    keep = filters(component).get(resource)
    for i, act in enumerate(trace):
        if not isinstance(act, RestoreEtcd):
            continue
        store, cache = states[i + 1].store, states[i + 1].informers[component].resources.get(resource)
        if cache is None:
            continue
        stored = {o.metadata.uid: o.metadata.resource_version for o in store.list(resource)
                  if keep is None or keep(o)}
        cached = {o.metadata.uid: o.metadata.resource_version for o in cache.objects.values()}
        if stored != cached:
            return True
        for before, now in zip(states[i + 1:-1], states[i + 2:], strict=True):
            if any(e.key.resource == resource and before.store.revision < e.revision <= revision
                   for e in now.store.events):
                return True
    return False


def restore_watch_ahead_missed_events(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                      violation: Violation) -> bool:
    """A restore left a component's cache watching from a resourceVersion ahead of the restored
    revision (no `--bump-revision` past it, no `--mark-compacted`, no restart of the components),
    and that cache missed an event: it kept objects the restore forgot or took back, or the watch
    skipped a write made after the restore at a revision it had already passed."""
    if model.parameter("etcdRestoreRestartsComponents"):
        return False
    return any(_missed_event(states, trace, component, resource, revision)
               for (component, resource), revision in _ahead_of_restore(states, trace).items())


RESTORE_WATCH_AHEAD_SUMMARY = (
    "After an etcd restore without --bump-revision (etcdutl's default) the store's revision goes back to the "
    "snapshot's, while the restarted API server accepts a re-watch from a resourceVersion ahead of it: the cacher "
    "does not wait for that revision (it waits only for a watch that asks for initial events) and sends only "
    "events above it. A component whose cache was ahead keeps every object the restore forgot or took back, and "
    "silently misses every event until the store's revision passes its own: its kubelet keeps running pods the "
    "store forgot, the scheduler never sees pods created meanwhile, a controller acts on owners that no longer "
    "exist, and the ReplicaSet controller, which counts a creation only on its pod's ADD event, waits for its "
    "expectations to expire and creates the pods again. This is what `etcdutl snapshot restore --bump-revision` "
    "with `--mark-compacted` is for (then every watch gets 410 Gone and relists), or the restart of the "
    "components (`etcdRestoreRestartsComponents: true`).")
RESTORE_WATCH_AHEAD_CITATIONS = (
    "staging/src/k8s.io/client-go/tools/cache/reflector.go watch (the re-watch after a broken watch asks "
    "ResourceVersion: LastSyncResourceVersion(), no SendInitialEvents)",
    "staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go Watch, waitUntilWatchCacheFreshAndForceAllEvents "
    "(waits only when SendInitialEvents); watch_cache.go getAllEventsSinceLocked (fails only with 'too old resource "
    "version'); cache_watcher.go process ('only send events newer than resourceVersion')",
    "https://github.com/etcd-io/etcd/issues/16028 and https://github.com/etcd-io/etcd/pull/16029 (`--bump-revision` "
    "with `--mark-compacted`: after a restore the revision goes back, and watchers ahead of it miss events)",
    "pkg/controller/replicaset/replica_set.go addPod (CreationObserved on an ADD event); "
    "pkg/controller/controller_utils.go ExpectationsTimeout (5 minutes)",
    "https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster "
    "('restart Kubernetes components ... to ensure that they don't rely on some stale data')",
)
RESTORE_WATCH_AHEAD_PROPERTIES = (
    "no-orphan-pods-running", "restore-no-forgotten-owner-writes", "replicaset-no-overcreation",
    "deployments-complete", "workloads-ready", "schedulable-pods-bound", "endpoints-match-ready-pods",
    "endpoints-ready-pods", "settles")
"""What a cache that misses events after a restore can break: a kubelet runs pods the store forgot and not those
it brought back; a controller writes for a forgotten owner or creates pods again once its expectations expire;
pods created meanwhile are never scheduled, counted or put in endpoints, and a cluster may settle so or loop."""
