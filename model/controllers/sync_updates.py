"""Which built-in controllers' handlers act on a sync update: a relisted object their cache held unchanged.

After a relist the informer hands each listed object its cache already held to `OnUpdate`
(`staging/src/k8s.io/client-go/tools/cache/controller.go` processDeltas); with equal old and new
resourceVersions `shared_informer.go` OnUpdate calls it a sync (`isSync`) and `sharedProcessor.distribute`
passes it to the listeners that are syncing. That flag (`p.listeners[listener]`) is set to true when a
handler is added (`addListener`) and recomputed only when the reflector's resync timer fires
(`reflector.go` startResync -> `shouldResync`), every `resyncCheckPeriod`. The controller manager's shared
informers take the factory's resync, 12 h times a random factor in [1, 2) (`--min-resync-period`,
`cmd/kube-controller-manager/app/controllermanager.go` ResyncPeriod), as their check period and as the
period of every handler added with `AddEventHandler`; such a handler is due at every check, so it is
always syncing, and so is every handler before the first check, 12-24 h after the controller manager
started (a handler registered with a resync of 0, the garbage collector's, is not syncing after it).
Informers whose check period a controller lowered by registering a shorter resync
(HorizontalPodAutoscalers: 15 s; Namespaces: `--namespace-sync-period` 5 min; StatefulSets only up
to v1.14, whose StatefulSet controller registered 30 s — since v1.15, kubernetes PR #75622, its set
handler has no period of its own) hand sync updates to that controller always, and to no other
handler of theirs after the first check (none of the modelled controllers has one there).

So a sync update reaches every modelled handler; what it does there is the handler's own business,
and many return at once on equal resourceVersions ("Periodic resync will send update events for all
known pods", the pattern of `pkg/controller/replicaset/replica_set.go` updatePod) or have no update
handler at all (a lister only). `IGNORED` names, per modelled controller, the watched resources whose
upstream update handler does nothing with an unchanged object; every other pair acts on it:

- replicaset (`pkg/controller/replicaset/replica_set.go`): pods ignored (updatePod returns on equal
  resourceVersions); ReplicaSets act (updateRS always enqueues: "a full informer resync can requeue any
  replica set ... whose last attempts at creating a pod have failed").
- deployment (`pkg/controller/deployment/deployment_controller.go`): ReplicaSets ignored
  (updateReplicaSet returns on equal resourceVersions); pods ignored (only a DeleteFunc is registered);
  Deployments act (updateDeployment enqueues).
- statefulset (`pkg/controller/statefulset/stateful_set.go`): pods ignored (updatePod returns on equal
  resourceVersions); PersistentVolumeClaims ignored (a lister only); StatefulSets act (the update
  handler always enqueues; registered with `AddEventHandler` from v1.15, before with
  `statefulSetResyncPeriod` 30 s).
- disruption (`pkg/controller/disruption/disruption.go`): pods and PodDisruptionBudgets act (updatePod,
  updateDb enqueue without comparing); ReplicaSets, Deployments and StatefulSets ignored (listers only).
- endpoints (`pkg/controller/endpoint/endpoints_controller.go`): pods ignored (updatePod ->
  `pkg/controller/util/endpoint/controller_utils.go` GetServicesToUpdateOnPodChange returns nothing on
  equal resourceVersions); Endpoints ignored (only onEndpointsDelete); Services act (onServiceUpdate).
- endpointslice (`pkg/controller/endpointslice/endpointslice_controller.go`): pods ignored (the same
  GetServicesToUpdateOnPodChange); EndpointSlices ignored (onEndpointSliceUpdate enqueues on a changed
  service label or managed-by, or when `endpointSliceTracker.ShouldSync` sees a generation it has not
  recorded: an unchanged slice has none of these); nodes ignored (updateNode acts on a changed Ready
  condition or zone label); Services act.
- garbagecollector (`pkg/controller/garbagecollector/graph_builder.go`): every resource ignored (its
  handlers are added with `ResourceResyncTime` 0; processGraphChanges acts on an update through
  referencesDiffs and processTransitions, which compare the old object with the new one).
- persistentvolume-binder (`pkg/controller/volume/persistentvolume/pv_controller_base.go`):
  StorageClasses ignored (a lister only); volumes and claims act (enqueueWork on every update; the
  controller also resyncs them every 15 s, `--pvclaimbinder-sync-period`).
- pvc-protection, pv-protection (`pkg/controller/volume/pvcprotection`, `pvprotection`): act (pvcAddedUpdated,
  podAddedDeletedUpdated and pvAddedUpdated do not compare versions).
- namespace, podgc: act. Upstream the namespace controller's own handler (resync 5 min) enqueues a
  terminating namespace on any update, and the pod GC runs every 20 s from its listers with no
  handlers; the model's event-driven stand-ins for those periodic passes keep every delivery.
- A scenario's own controllers act (controller-runtime's and most operators' handlers enqueue on every
  update), as does the HPA controller (its own 15 s handler resync; `enqueueHPA` drops a key already due).

The built-in handlers themselves (`keys_for_change`, given the old object) decide the same: a sync
update reaches them as an update whose old object is the new one, and an ignored pair's handler
enqueues nothing for it (`tests/model/cluster/test_relist_sync_updates.py` checks the table against
them); the table spares the handlers' work and keeps a scenario's own controllers acting.
"""

from __future__ import annotations

from typing import Any

_APPS = ("replicasets.apps", "deployments.apps", "statefulsets.apps")

IGNORED: frozenset[tuple[str, str]] = frozenset({
    ("replicaset", "pods"),
    ("deployment", "replicasets.apps"), ("deployment", "pods"),
    ("statefulset", "pods"), ("statefulset", "persistentvolumeclaims"),
    *(("disruption", r) for r in _APPS),
    ("endpoints", "pods"), ("endpoints", "endpoints"),
    ("endpointslice", "pods"), ("endpointslice", "endpointslices.discovery.k8s.io"), ("endpointslice", "nodes"),
    ("persistentvolume-binder", "storageclasses.storage.k8s.io"),
})
"""(controller name, resource) pairs whose upstream update handler does nothing with an unchanged object."""

GARBAGE_COLLECTOR = "garbagecollector"

_BUILT_IN = "kubeprop.model.controllers."


def ignores_sync_update(controller: Any, resource: str) -> bool:
    """Whether `controller`, a built-in one, does nothing with a sync update of `resource` (the garbage
    collector with none, whatever it watches: `DEFAULT_WATCHES`, CRDs, custom resources). A scenario's
    own controller, even one that replaces a built-in of the same name, acts on every update."""
    if not type(controller).__module__.startswith(_BUILT_IN):
        return False
    return controller.name == GARBAGE_COLLECTOR or (controller.name, resource) in IGNORED
