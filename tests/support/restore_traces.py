"""Traces of restore.yaml (tests/model/data/variants) that several tests replay: the Deployment
controller's stale ReplicaSet lister (`RACE`, with `instantCaches: false`) and the Endpoints
controller looping after a restore without --bump-revision (`SETTLES_AFTER_RESTORE`)."""

from __future__ import annotations

from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.kubelet.component import StartPod, SyncPodStatus
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.state.actions import Action, Deliver, Quiesce, UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER

SETTLES_AFTER_RESTORE: tuple[Action, ...] = (
    Reconcile("endpoints", "default/web"), Deliver(CONTROLLER_MANAGER, "endpoints", 11), SnapshotEtcd(),
    Reconcile("deployment", "default/web"), Deliver(CONTROLLER_MANAGER, "replicasets.apps", 12),
    Reconcile("replicaset", "default/web-9b8d4d75"), Deliver("scheduler", "pods", 14), Deliver("scheduler", "pods", 15),
    Deliver(CONTROLLER_MANAGER, "pods", 14), Deliver(CONTROLLER_MANAGER, "pods", 15),
    Deliver("kubelet/worker-2", "pods", 14), Deliver("kubelet/worker-2", "pods", 15),
    Reconcile("endpointslice", "default/web"), Schedule("scheduler", "default/web-9b8d4d75-cm7j4", "worker-1"),
    Schedule("scheduler", "default/web-9b8d4d75-tpl4p", "worker-2"), Bind("scheduler", "default/web-9b8d4d75-tpl4p"),
    Deliver(CONTROLLER_MANAGER, "pods", 18), Deliver("kubelet/worker-2", "pods", 18),
    StartPod("worker-2", "default/web-9b8d4d75-tpl4p"), SyncPodStatus("worker-2", "default/web-9b8d4d75-tpl4p"),
    Deliver(CONTROLLER_MANAGER, "pods", 19), Reconcile("endpoints", "default/web"), RestoreEtcd(), Quiesce(),
)
"""PCT's find at seed 1 on restore.yaml: the Endpoints controller updates the Endpoints after the
backup (its tracker remembers the replaced version, which is the snapshot's), then etcd is restored."""

SYNC = Reconcile(controller="deployment", key="default/web")
RACE: tuple[Action, ...] = (UserStep(0), SYNC, Deliver(component=CONTROLLER_MANAGER, resource="deployments.apps",
                                                       revision=11), SYNC)
"""`kubectl set image` before the Deployment controller's first sync, whose ReplicaSet write has not
reached its cache when it syncs the rollout (as in test_upstream_behaviour.py)."""
