"""Actors: which "thread" of the cluster takes an action (an informer's watch, a controller, a
scheduler instance, a node's kubelet, the user, the clock, a fault), and which control-plane
component that is. The searches use it to tell runs apart by who moved (`around`, `pct`,
`contend`, shrinking by actor); `kubeprop.model.cluster.footprint` re-exports `actor`,
`component_of` and `USER`, and takes the kubelet, node lifecycle and scheduler action kinds from here.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.controllers import nodelifecycle
from kubeprop.model.controllers.base import Reconcile, SyncInformer
from kubeprop.model.controllers.processes import process_of
from kubeprop.model.kubelet import component as kubelet_mod
from kubeprop.model.scheduler.component import (
    Bind,
    ClearNominations,
    MarkUnschedulable,
    Preempt,
    PreemptVictim,
    RetryStatusPatch,
    Schedule,
)
from kubeprop.model.state import actions as act_mod
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel

__all__ = ["ACTORS_LIMIT", "KUBELET", "KUBELET_LOCAL", "KUBELET_WRITES", "NODELIFECYCLE", "SCHEDULER_PREEMPTION",
           "SCHEDULER_WRITES", "USER", "actor", "component_of"]

USER = "user"
"""`actor` of the workload's steps."""

KUBELET_LOCAL: tuple[type[Any], ...] = (
    kubelet_mod.StartPod, kubelet_mod.ProbeResult, kubelet_mod.RestartContainer, kubelet_mod.ContainerExit,
    kubelet_mod.KillPod, kubelet_mod.StopGracefully, kubelet_mod.SigKillPod, kubelet_mod.CleanupOrphan,
    kubelet_mod.MemoryPressure, kubelet_mod.ActiveDeadlineExceeded, kubelet_mod.PreStopOverrun,
    kubelet_mod.MountVolumes, kubelet_mod.DiskPressure, kubelet_mod.DiskPressureReclaimed, kubelet_mod.PIDPressure,
)
"""A kubelet's actions that write only its own runtime state."""
KUBELET_WRITES: tuple[type[Any], ...] = (kubelet_mod.SyncPodStatus, kubelet_mod.FinishTermination,
                                         kubelet_mod.UpdateNodeStatus)
"""A kubelet's actions that write through the API server."""
KUBELET = frozenset((*KUBELET_LOCAL, *KUBELET_WRITES))
NODELIFECYCLE: frozenset[type[Any]] = frozenset((
    nodelifecycle.StartNodeLifecycle, nodelifecycle.MonitorNodeHealth, nodelifecycle.MarkPodsNotReady,
    nodelifecycle.SyncNoScheduleTaints, nodelifecycle.TaintNode, nodelifecycle.UntaintNode,
    nodelifecycle.ScheduleTaintEviction, nodelifecycle.TaintEvictPod,
))
"""The node lifecycle controller's actions (one actor: its one goroutine per pass, in the model)."""
SCHEDULER_WRITES: tuple[type[Any], ...] = (Bind, MarkUnschedulable, Preempt, ClearNominations, PreemptVictim,
                                           RetryStatusPatch)
"""A scheduler instance's actions that write through the API server (its `Schedule` only assumes the
pod in its own cache): the binding, the failure's status patch and its retries, the nomination, and
the asynchronous preemption's calls."""
SCHEDULER_PREEMPTION: tuple[type[Any], ...] = (ClearNominations, PreemptVictim)
"""The asynchronous preemption goroutine's actions (`pkg/scheduler/framework/preemption/preemption.go`
prepareCandidateAsync; `kubeprop.model.scheduler.async_preemption`): an actor of their own, apart from
the instance's scheduling cycles."""


def actor(act: Action) -> str:
    """The actor ("thread") an action is a step of: an informer watch, a controller, a scheduler
    instance, a node's kubelet; the user, the clock; or a fault's kind and target
    (`Deliver(kubelet/worker-1, pods, 7)` → `informer/kubelet/worker-1/pods`). Remembered by the
    action's value (`_ACTORS`): the searches ask it of every enabled action at every step, and an
    action's fields are plain values, cheaper to hash than to classify again."""
    found = _ACTORS.get(act)
    if found is None:
        if len(_ACTORS) >= ACTORS_LIMIT:
            _ACTORS.clear()
        found = _ACTORS[act] = _actor(act)
    return found


ACTORS_LIMIT = 8192
"""Actions whose actor `actor` remembers before it forgets them all (bounded memory)."""
_ACTORS: dict[Action, str] = {}


def _actor(act: Action) -> str:
    kind = type(act).__name__
    if isinstance(act, act_mod.Deliver | act_mod.Relist):
        return f"informer/{act.component}/{act.resource}"
    if isinstance(act, Reconcile | SyncInformer):
        return f"controller/{act.controller}"
    if isinstance(act, act_mod.CrashDuringReconcile):
        return f"fault/{kind}/{CONTROLLER_MANAGER}"
    if type(act) in NODELIFECYCLE:
        return f"controller/{nodelifecycle.NAME}"
    if isinstance(act, SCHEDULER_PREEMPTION):
        return f"scheduler/{act.scheduler}/preemption"
    if isinstance(act, (Schedule, SCHEDULER_WRITES)):
        return f"scheduler/{act.scheduler}"
    if type(act) in KUBELET:
        return f"kubelet/{getattr(act, 'node', '')}"
    if isinstance(act, act_mod.UserStep):
        return USER
    if isinstance(act, act_mod.Tick):
        return "clock"
    target = next((v for f in ("component", "node") if isinstance(v := getattr(act, f, None), str)), "")
    return f"fault/{kind}/{target}" if target else kind


def component_of(act: Action, model: ClusterModel | None = None) -> str:
    """The control-plane component (process) an action is a step of ("" for the user's, the
    clock's and the environment's). A controller's step is its process's (`processes.process_of`):
    the controller manager, or `operator/<name>` for a user's controller that runs with a cache of
    its own — which only the `model` tells; without one, every controller is the controller
    manager's (right for the built-in ones, not for such an operator: pass the model)."""
    name = actor(act)
    if name.startswith("informer/"):
        return name.split("/", 1)[1].rsplit("/", 1)[0]
    if name.startswith("controller/"):
        controller = getattr(act, "controller", None)
        if model is not None and isinstance(controller, str):
            return process_of(model, controller)
        return CONTROLLER_MANAGER
    if name.startswith("scheduler/"):
        return name.split("/")[1]
    if name.startswith("kubelet/"):
        return name
    return ""
