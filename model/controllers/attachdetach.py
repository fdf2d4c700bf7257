"""The attach/detach controller's detach: when a volume whose pod left a node is detached from it.

Upstream: `pkg/controller/volume/attachdetach/reconciler/reconciler.go` reconcile (v1.33), every
100 ms: for each attached volume that is no longer in the desired state of the world on its node
(its pods there terminated — `pkg/volume/util/util.go` IsPodTerminated — or gone), it sets the detach
request time (`actual_state_of_world.go` SetDetachRequestTime: the first time only; a volume desired
again resets it, ResetDetachRequestTime) and detaches unless the node still reports the volume
mounted (`attachedVolume.MountedByNode`, from `node.status.volumesInUse`: `attach_detach_controller.go`
processVolumesInUse) — `forceDetach` (the node unhealthy, `nodeIsHealthy`: its Ready condition not
True, or the node not in the controller's cache; and more than `maxWaitForUnmountDuration`, 6 min,
since the request) and the `node.kubernetes.io/out-of-service` taint (`hasOutOfServiceTaint`: the key
only) override it. The kubelet reports a volume in use while it is mounted or to be mounted
(`pkg/kubelet/volumemanager/volume_manager.go` GetVolumesInUse, attachable volumes only) through its
node status sync (`pkg/kubelet/kubelet_node_status.go` setters.VolumesInUse, every
`nodeStatusUpdateFrequency`, 10 s); after a crash the last report stays.

In the model (`kubeprop.model.kubelet.volumes` decides the Multi-Attach refusal; this module keeps
the entries it reads, `AttachDetachMemory`, as the controller manager's memory `ATTACH_DETACH`):
- when a pod event reaches the running controller manager (`on_events`), a pod bound to a node that
  left the desired state (DELETED, or terminated) and whose status shows its volumes mounted
  (`attached_before`) makes an entry for that node and each of its claims, dated the clock (kept if
  the same pod already made it: the request time is set once); a pod event of a pod still desired
  there ends it (ResetDetachRequestTime);
- a `Tick` (`on_tick`) ends every entry that the controller would detach: the node's kubelet reaches
  the API server and none of its pods holds the claim mounted with a container running (the unmount
  reported by the next status sync: the model's tick stands for `nodeStatusUpdateFrequency`), or the
  node is unhealthy in the controller manager's cache and more than `MAX_WAIT_FOR_UNMOUNT_SECONDS`
  passed since the entry's date, or the node has the out-of-service taint;
- `next_timer` is the clock the next such `Tick` needs: at once where an entry can end now, else the
  6-minute deadline, so the clock reaches it with nothing else pending;
- a restart of the controller manager keeps the entries (upstream rebuilds its attachments from
  `node.status.volumesAttached`) with the request time reset to the restart (`initial_memory`: the
  new reconciler sets it afresh).
All of it runs only in a scenario where a volume the controller attaches and keeps on one node can
exist (`kubeprop.model.kubelet.volumes.can_attach`); the memory is in `state.controllers` only while
it holds an entry, so a state without one is the state the model had without this module.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.controllers.podgc import OUT_OF_SERVICE_TAINT, node_ready
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.volumes import (
    ATTACH_DETACH,
    AttachDetachMemory,
    attached_before,
    can_attach,
    claim_names,
    is_terminated,
    wait_key,
)
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, reaches_apiserver, view
from kubeprop.model.state.cluster import kubelet as kubelet_name

__all__ = ["MAX_WAIT_FOR_UNMOUNT_SECONDS", "initial_memory", "next_timer", "on_events", "on_tick", "runs"]

MAX_WAIT_FOR_UNMOUNT_SECONDS = 360
"""`--attach-detach-reconcile-max-wait-unmount-duration` (`pkg/controller/volume/attachdetach/config`
ReconcilerMaxWaitForUnmountDuration default, 6 min); the force detach comes once more than this passed."""

_RUNS: list[Any] = [None, False]


def runs(model: ClusterModel) -> bool:
    """Whether the model keeps the attach/detach controller's memory (`can_attach`, remembered for
    the last model)."""
    if _RUNS[0] is not model:
        _RUNS[:] = [model, can_attach(model)]
    return bool(_RUNS[1])


def _memory(state: ClusterState) -> AttachDetachMemory:
    found = state.controllers.get(ATTACH_DETACH)
    return found if isinstance(found, AttachDetachMemory) else AttachDetachMemory()


def _with_waits(state: ClusterState, waits: FrozenMap[str, tuple[int, str]]) -> ClusterState:
    """The state with the memory holding `waits` (absent while there are none: a state without a wait
    is the very state the model had before the memory existed, its fingerprint included)."""
    if waits == _memory(state).waits:
        return state
    memories = state.controllers.set(ATTACH_DETACH, AttachDetachMemory(waits)) if waits \
        else state.controllers.delete(ATTACH_DETACH)
    return evolve(state, controllers=memories)


def initial_memory(model: ClusterModel, state: ClusterState) -> dict[str, AttachDetachMemory]:
    """The memory at a (re)start of the controller manager: the entries kept, each dated afresh
    (none: no memory)."""
    waits = _memory(state).waits
    if not runs(model) or not waits:
        return {}
    return {ATTACH_DETACH: AttachDetachMemory(FrozenMap({k: (state.clock, uid) for k, (_, uid) in waits.items()}))}


def _pod_event(waits: FrozenMap[str, tuple[int, str]], event: WatchEvent, now: int
               ) -> FrozenMap[str, tuple[int, str]]:
    """One pod event through the desired state of the world: a pod that left its node starts the
    wait of its claims there, one still desired ends it."""
    pod = event.object
    if not isinstance(pod, Pod) or not pod.spec.node_name:
        return waits
    left = event.type == "DELETED" or is_terminated(pod)
    for claim in claim_names(pod):
        key = wait_key(pod.spec.node_name, claim)
        if not left:
            waits = waits.delete(key)
            continue
        if not attached_before(pod):
            continue
        found = waits.get(key)
        # kept: the same pod's request time; a pod that had left before (its DELETED after its termination)
        if found is None or (found[1] != pod.metadata.uid and not (event.type == "DELETED" and is_terminated(pod))):
            waits = waits.set(key, (now, pod.metadata.uid))
    return waits


def on_events(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """The pod informer's handlers (podAdd, podUpdate, podDelete → the desired state of the world) and
    the reconciler's detach request time, for the pod events that reached the running controller manager."""
    if component != CONTROLLER_MANAGER or not runs(model) or not is_up(state, CONTROLLER_MANAGER):
        return state
    if not any(e.key.resource == "pods" for e in events):
        return state
    waits = _memory(state).waits
    for event in events:
        if event.key.resource == "pods":
            waits = _pod_event(waits, event, state.clock)
    return _with_waits(state, waits)


def _holds(state: ClusterState, node: str, claim: str) -> bool:
    """Whether a pod of `node`'s kubelet holds `claim` mounted: not waiting for its mount, a container
    running (the volume manager unmounts once the pod's containers stopped)."""
    runtimes = state.kubelets.get(node)
    return runtimes is not None and any(
        claim in r.claims and not r.mount_pending and r.any_running for r in runtimes.pods.values())


def _detachable(model: ClusterModel, state: ClusterState, key: str, since: int) -> bool:
    """Whether the reconciler detaches the entry's volume at `state.clock`: the unmount reported, the
    6-minute wait over on an unhealthy node, or the out-of-service taint."""
    node, claim = key.split("|", 1)
    found = view(model, state, CONTROLLER_MANAGER).get(ObjectKey("nodes", "", node))
    cached = found if isinstance(found, Node) else None
    if cached is not None and any(t.key == OUT_OF_SERVICE_TAINT for t in cached.spec.taints):
        return True
    if state.clock - since > MAX_WAIT_FOR_UNMOUNT_SECONDS and (cached is None or not node_ready(cached)):
        return True
    return reaches_apiserver(state, kubelet_name(node)) and not _holds(state, node, claim)


def on_tick(model: ClusterModel, before: ClusterState, after: ClusterState) -> ClusterState:
    """The detaches the reconciler makes by the end of the tick (the entries `_detachable` ends)."""
    if not runs(model) or not is_up(after, CONTROLLER_MANAGER):
        return after
    waits = _memory(after).waits
    for key, (since, _) in _memory(after).waits.items():
        if _detachable(model, after, key, since):
            waits = waits.delete(key)
    return _with_waits(after, waits)


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The next `Tick` a detach needs: the next second where an entry can end now, else the earliest
    6-minute deadline still ahead (None without entries, or while the controller manager is down)."""
    if not runs(model) or not is_up(state, CONTROLLER_MANAGER):
        return None
    waits = _memory(state).waits
    if not waits:
        return None
    deadlines = []
    for key, (since, _) in waits.items():
        if _detachable(model, state, key, since):
            return state.clock + 1
        deadline = since + MAX_WAIT_FOR_UNMOUNT_SECONDS + 1
        if deadline > state.clock:
            deadlines.append(deadline)
    return min(deadlines) if deadlines else None
