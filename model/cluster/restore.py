"""etcd corruption and restore from a backup: `SnapshotEtcd` and `RestoreEtcd`.

The seed's §9 "Scenario 2: etcd Corruption" recovers by "Restore from backup … Data loss if backup
is old". What that does to a running cluster, upstream:

- `etcdctl snapshot save` (`SnapshotEtcd`) copies the keyspace of a live member at its current
  revision, with the MVCC history it still holds. The model takes at most one backup per run, at
  any moment before `Quiesce`: when it is taken is the choice that decides what the restore loses.
- `etcdutl snapshot restore` (`RestoreEtcd`, the etcd "Disaster recovery" guide) builds every
  member afresh from the snapshot: a new cluster whose keyspace and revision are the snapshot's.
  `--bump-revision N` (`etcdRestoreBumpRevision`, default 0 as in etcdutl) raises the revision
  so that resourceVersions do not go backwards; `--mark-compacted` (`etcdRestoreMarkCompacted`)
  marks every older revision compacted so that watches from them fail (etcd-io/etcd#16029, the
  Kubernetes guidance for restores). Members whose node is up start again (a lost quorum is
  healed by the restore).
- Kubernetes' procedure ("Operating etcd clusters for Kubernetes", Restoring an etcd cluster):
  stop every API server, restore, start them again. The restarted API servers break every watch;
  each reflector watches again from its last resourceVersion (`_rewatch`): below the restored
  revision it gets "410 Gone" from the restarted API server's watch cache, whose history starts
  there, and relists; otherwise the watch starts, also from a resourceVersion ahead of the
  restored revision — the cacher does not wait for it and sends only events above it, so such a
  cache keeps whatever it held and silently misses every event until the store's revision passes
  its own (what `--bump-revision` is for). The project "also recommends restarting Kubernetes
  components (kube-scheduler, kube-controller-manager, kubelet) to ensure that they don't rely
  on some stale data": `etcdRestoreRestartsComponents` (default false: the etcd steps alone).
- Until a component relists or restarts it acts on its cache, which may hold objects the store
  forgot; kubelets keep running the containers of pods the store forgot (they kill them once a
  relist shows the pods gone; a cache ahead of the restored revision never relists, so until the
  kubelet restarts) and find pods the store remembers but they had stopped.

Model choices: UIDs and generated names keep being drawn from the pre-restore counters (upstream
they are random, so a restored cluster does not reissue them); the restore takes no model time.

`Backup` also keeps ghost facts for the restore properties (`kubeprop.properties.restore`): the
UID counters the restore forgot (objects created after the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.store import Store
from kubeprop.model.cluster.faults import reset_component
from kubeprop.model.cluster.informers import (
    WATCH_CACHE,
    components,
    fresh_informer,
    hand_relist,
    remember_revisions,
)
from kubeprop.model.controllers.processes import own_processes
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import (
    CONTROLLER_MANAGER,
    ETCD_PREFIX,
    ClusterModel,
    ClusterState,
    etcd_available,
    is_up,
    kubelet,
    reaches_apiserver,
)
from kubeprop.model.state.informer import InformerState, ResourceCache

__all__ = ["HANDLERS", "Backup", "RestoreEtcd", "SnapshotEtcd", "enabled", "forgotten_uid", "uid_number"]


@attrs.frozen(order=True)
class SnapshotEtcd(Action):
    """`etcdctl snapshot save`: the operator backs up the keyspace (at most once per run)."""

    LANE = "faults"


@attrs.frozen(order=True)
class RestoreEtcd(Action):
    """etcd is corrupted and restored from the backup (`etcdutl snapshot restore` on every member,
    API servers restarted): the keyspace and revision go back to the snapshot's."""

    LANE = "faults"


@attrs.frozen(cache_hash=True)
class Backup:
    """The saved snapshot and, after a restore, the UID counters it forgot: objects whose UID
    number is in `forgotten` = (first, last) existed before the restore and not in the snapshot."""

    snapshot: Store
    forgotten: tuple[int, int] = (0, 0)
    restored_revision: int = 0
    """The store's revision right after the last restore (0: never restored)."""

    def __str__(self) -> str:
        saved = f"snapshot at revision {self.snapshot.revision} ({len(self.snapshot.objects)} objects)"
        return saved + (f", restored (revision now {self.restored_revision})" if self.restored_revision else "")


def uid_number(uid: str) -> int | None:
    """The counter behind a model UID (`Store.next_uid`: `00000000-0000-4000-8000-<n:012x>`)."""
    tail = uid.rpartition("-")[2]
    try:
        return int(tail, 16)
    except ValueError:
        return None


def forgotten_uid(state: ClusterState, uid: str) -> bool:
    """True if `uid` belonged to an object created after the backup and lost by a restore."""
    backup = state.etcd_backup
    n = uid_number(uid)
    return isinstance(backup, Backup) and n is not None and backup.forgotten[0] < n <= backup.forgotten[1]


def _can(model: ClusterModel, state: ClusterState) -> bool:
    return not state.quiesced and state.faults.allows(model.budget, "etcd_restore")


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """SnapshotEtcd while no backup exists (etcd must serve it); RestoreEtcd once something was
    written since the backup. Both only before Quiesce and within the `etcdRestore` budget."""
    if not _can(model, state):
        return
    backup = state.etcd_backup
    if backup is None:
        if etcd_available(model, state):
            yield SnapshotEtcd()
    elif state.store.revision > backup.snapshot.revision:
        yield RestoreEtcd()


def _snapshot(model: ClusterModel, state: ClusterState, act: SnapshotEtcd) -> ClusterState:
    return evolve(state, etcd_backup=Backup(state.store))


def restored_store(model: ClusterModel, current: Store, snapshot: Store) -> Store:
    """The keyspace after `etcdutl snapshot restore [--bump-revision N] [--mark-compacted]`, with
    the current UID and name counters."""
    bump = int(model.parameter("etcdRestoreBumpRevision"))
    store = evolve(snapshot, revision=snapshot.revision + bump, uids_issued=current.uids_issued,
                   names_generated=current.names_generated)
    if model.parameter("etcdRestoreMarkCompacted"):
        store = evolve(store, events=(), compacted=store.revision)
    return store


def _rewatch(model: ClusterModel, state: ClusterState, before: Store) -> ClusterState:
    """Every watch breaks with the API servers' restart, and each reflector watches again from its
    last resourceVersion R (`staging/src/k8s.io/client-go/tools/cache/reflector.go` `watch`:
    `ResourceVersion: r.LastSyncResourceVersion()` and no `SendInitialEvents`, whether or not the
    WatchListClient gate is on: it changes only the LIST of `ListAndWatch`). The restarted API
    server's cacher (`staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go` `Watch`) answers:

    - R below the restored revision S (and so below any compacted one): "too old resource
      version", 410 Gone. The restarted cacher's history begins at its first LIST, at S
      (`watch_cache.go` `getAllEventsSinceLocked`: `oldest = listResourceVersion + 1`, and
      `resourceVersion < oldest-1` is too old), so whatever etcd's own history still holds —
      `--mark-compacted` or not — the cache is stale and relists, keeping its objects until then;
    - R at S resumes and misses nothing;
    - R ahead of S resumes too: the cacher waits for a fresh enough cache only when the watch
      asks for initial events (`waitUntilWatchCacheFreshAndForceAllEvents`),
      `getAllEventsSinceLocked` fails only for a too old R, and the watcher sends only events
      above R (`cache_watcher.go`). Such a cache
      keeps what it holds, the objects the restore forgot too, and silently misses every event
      up to R (`informers.component_enabled` offers only events above a cache's revision) — the
      reason for `etcdutl snapshot restore --bump-revision` and `--mark-compacted`
      (etcd-io/etcd#16028, #16029). "Too large resource version" answers a LIST or GET at R
      (`watch_cache.go` `waitUntilFreshAndBlock`), which a re-watch does not send.

    The API server's own watch cache lists afresh. With instant caches every component reads the
    restored store at once and its handlers see the relist (`_instant_relist`)."""
    if model.instant_caches:
        return _instant_relist(model, state, before)
    informers = dict(state.informers)
    store = state.store
    for component, informer in state.informers.sorted_items():
        if component == WATCH_CACHE:
            informers[component] = fresh_informer(model, state, component)
            continue
        resources = {r: evolve(c, stale=True) if c.revision < store.revision else c
                     for r, c in informer.resources.items()}
        informers[component] = InformerState(FrozenMap(resources))
    return evolve(state, informers=FrozenMap(informers))


def _instant_relist(model: ClusterModel, state: ClusterState, before: Store) -> ClusterState:
    """What a relist hands the event handlers (`informers.hand_relist`: client-go's RealFIFO Replace and
    `shared_informer.go` OnUpdate): the vanished objects as deletions, then the restored store's objects
    as adds and updates, an update of an object held unchanged reaching only the handlers that act on a
    sync update. With instant caches the store before the restore is every component's cache."""
    now = state.store
    old, new = ResourceCache(before.objects, before.revision), ResourceCache(now.objects, now.revision)
    for component in components(model):
        if reaches_apiserver(state, component):
            state = hand_relist(model, state, component, old, new)
    return state


def _restart_components(model: ClusterModel, state: ClusterState) -> ClusterState:
    for component in (*model.scheduler_instances, CONTROLLER_MANAGER, *own_processes(model),
                      *(kubelet(n) for n in model.nodes)):
        if is_up(state, component):
            state = reset_component(model, remember_revisions(state, component), component)
    return state


def _restore(model: ClusterModel, state: ClusterState, act: RestoreEtcd) -> ClusterState:
    backup: Backup = state.etcd_backup
    before = state.store
    store = restored_store(model, state.store, backup.snapshot)
    rebuilt = frozenset(
        f"{ETCD_PREFIX}{m}" for m, host in zip(model.etcd_members, model.etcd_nodes or ("",) * len(model.etcd_members),
                                               strict=True)
        if not (host and f"node/{host}" in state.down)
    )
    record = Backup(backup.snapshot, (backup.snapshot.uids_issued, state.store.uids_issued), store.revision)
    state = evolve(state, store=store, down=state.down - rebuilt, etcd_backup=record,
                   faults=state.faults.spend("etcd_restore"))
    state = _rewatch(model, state, before)
    if model.parameter("etcdRestoreRestartsComponents"):
        state = _restart_components(model, state)
    return state


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    SnapshotEtcd: _snapshot,
    RestoreEtcd: _restore,
}
