"""The kubelets: each node's agent, running pods as its own cache and the container runtime say.

This module decides which kubelet actions are enabled (`enabled`, `node_enabled`) and when its timers
fall (`next_timer`); what each action does is in `kubeprop.model.kubelet.handlers` (`HANDLERS`), and
the helpers both read — the kubelet's state and pod cache — in `kubeprop.model.kubelet.local`; `reset`
is its part of a component's restart (the prober's counts and the restart back-off start afresh).

A kubelet reads only its own cache (`view(model, state, kubelet(node))`, pods filtered to
`spec.nodeName == node`) and writes as `system:node:<node>`. Its actual pods and containers are a
`KubeletState` (`kubeprop.model.kubelet.runtime`), separate from the API: a partitioned node
keeps running a pod the API already shows terminating.

Actions (classes in `kubeprop.model.kubelet.actions`, upstream sources in each):
- `StartPod`: admit a bound pod and start its first init container(s) — a sidecar and what
  follows it —, or its containers (`pkg/kubelet/kubelet.go` SyncPod; init containers and sidecars:
  `kubeprop.model.kubelet.runtime`);
- `ProbeResult`: a readiness, liveness or startup probe outcome that changes something, no sooner
  than the prober allows (a timer, `kubeprop.model.kubelet.probes`: failureThreshold failures in a row,
  periodSeconds apart, after initialDelaySeconds; failures carried over a container's restart); a
  liveness or startup failure kills the container with its grace period — `ContainerExit` on SIGTERM,
  or `SigKillPod` / `PreStopOverrun` at the deadline (`kubeprop.model.kubelet.kill`);
- `RestartContainer` (a timer once in back-off; a regular container's waits, while none runs, until the
  last sidecar is started again: `kubeprop.model.kubelet.init_sync`), `ContainerExit` (a batch container ends); also the
  retry of a container whose ConfigMaps or Secrets did not resolve (CreateContainerConfigError:
  `kubeprop.model.kubelet.config`), taken from 10 s after the failure once the kubelet's caches resolve
  them differently;
- `MountVolumes`: a pod admitted while a `configMap`, `secret` or `projected` volume could not mount
  (its object or key missing: FailedMount, nothing started) has them mounted at a retry of the volume
  manager (an exponential back-off: 1, 2, 4, … s, at most 122 s apart) at which the kubelet's caches
  resolve them, and starts as `StartPod` would
  (`kubeprop.model.kubelet.volumes`);
- `SyncPodStatus`: the status manager writes the status the kubelet would report;
- graceful termination: `KillPod` (preStop hooks, SIGTERM; also of a pod whose cached phase is
  terminal while its containers run: `status.stops_terminal`), `StopGracefully` (the exit on SIGTERM, 0,
  143 or a code of the containers' classes: `exit_rules.stop_choices`; a pod with sidecars
  stops its regular containers first, then its sidecars one at a time, the last declared first:
  `runtime.PodRuntime.stop_in_turn`) | `SigKillPod` (at the deadline; `PreStopOverrun`: a preStop
  hook ran the whole grace period, SIGKILL 2 s later),
  `FinishTermination` (final status, then DELETE with grace 0; a pod its finalizers keep is then
  left alone: `PodRuntime.deleted`);
- `CleanupOrphan`: a pod gone from the API but still known locally is killed, then forgotten;
- `ActiveDeadlineExceeded`: a pod past `spec.activeDeadlineSeconds` is Failed and killed (a timer,
  `kubeprop.model.kubelet.deadline`);
- `UpdateNodeStatus`: post Ready=True when the API's Node says otherwise;
- `MemoryPressure`, `DiskPressure`, `DiskPressureReclaimed`, `PIDPressure`: node-pressure eviction
  (bounded by `memoryPressureEvents`, `diskPressureEvents`, `pidPressureEvents`:
  `kubeprop.model.kubelet.eviction`, `kubeprop.model.kubelet.pressure`).

Local actions (probes, restarts, kills, and acting on what its cache holds) happen while the node
is partitioned; actions that write are enabled only when `reaches_apiserver`. A partitioned
kubelet's cache is frozen (`view` gives it the snapshot it had when cut off), so it cannot see a
deletion made meanwhile. A kubelet *process* crash (`CrashComponent`) leaves the containers
running: the KubeletState stands for the runtime, which the restarted kubelet rediscovers; what lived
only in the process's memory — the prober's counts, the volume manager's and the containers' restart
back-off — starts afresh (`reset`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.actions import (
    CleanupOrphan,
    ContainerExit,
    DiskPressure,
    DiskPressureReclaimed,
    FinishTermination,
    KillPod,
    MemoryPressure,
    MountVolumes,
    PIDPressure,
    PreStopOverrun,
    ProbeResult,
    RestartContainer,
    SigKillPod,
    StartPod,
    StopGracefully,
    SyncPodStatus,
    UpdateNodeStatus,
)
from kubeprop.model.kubelet.config import RETRY_SECONDS
from kubeprop.model.kubelet.deadline import ActiveDeadlineExceeded, deadline_timer, past_deadline
from kubeprop.model.kubelet.eviction import disk_victims, eviction_victims, pid_victims
from kubeprop.model.kubelet.exit_rules import exit_choices, stop_choices
from kubeprop.model.kubelet.handlers import HANDLERS, holds_resources
from kubeprop.model.kubelet.init_sync import holds_back
from kubeprop.model.kubelet.kill import due as kill_due
from kubeprop.model.kubelet.kill import kill_deadlines, killing
from kubeprop.model.kubelet.local import cached_pods, config_errors_of, kubelet_state, mounts, same, store, user
from kubeprop.model.kubelet.logs import crash_node
from kubeprop.model.kubelet.pressure import DISK, MEMORY, PID, pressure_ends, pressure_left, pressures
from kubeprop.model.kubelet.probes import (
    liveness_failure_at,
    probe_timers,
    readiness_turns_at,
    restart_prober,
    startup_failure_at,
    startup_success_at,
)
from kubeprop.model.kubelet.runtime import (
    ContainerRuntime,
    KubeletState,
    PodRuntime,
    crash_container,
    initial_kubelet,
    restart_at,
)
from kubeprop.model.kubelet.status import get_phase, node_status_stale, pod_status, stops_terminal
from kubeprop.model.kubelet.volumes import mount_retry_due, next_mount_retry
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import (
    KUBELET_PREFIX,
    ClusterModel,
    ClusterState,
    is_up,
    kubelet,
    reaches_apiserver,
    view,
)

__all__ = [
    "HANDLERS", "ActiveDeadlineExceeded", "CleanupOrphan", "ContainerExit", "DiskPressure", "DiskPressureReclaimed",
    "FinishTermination", "KillPod", "KubeletState", "MemoryPressure", "MountVolumes", "PIDPressure", "PodRuntime",
    "PreStopOverrun", "ProbeResult",
    "RestartContainer", "SigKillPod",
    "StartPod", "StopGracefully", "SyncPodStatus", "UpdateNodeStatus", "cached_pods", "crash_container", "crash_node",
    "enabled", "holds_resources", "initial_kubelet", "kubelet_state", "next_timer", "node_enabled",
    "running_containers", "user",
]


def _observes(model: ClusterModel, state: ClusterState, node: str) -> bool:
    """Whether the kubelet acts on its cache: while it is up (a partitioned one on its snapshot)."""
    return is_up(state, kubelet(node))


def running_containers(k: KubeletState) -> Iterator[tuple[str, str]]:
    """(pod key, container name) of every running container and sidecar, in order (for `CrashContainer`)."""
    for key, runtime in k.pods.sorted_items():
        for c in (*runtime.sidecars, *runtime.containers):
            if c.running:
                yield key, c.name


# --- enabled ---------------------------------------------------------------------------------


def _enabled_admission(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    if not _observes(model, state, node):
        return
    k = kubelet_state(state, node)
    for key, pod in cached_pods(model, state, node).sorted_items():
        runtime = k.pods.get(key)
        deleting = pod.metadata.deletion_timestamp is not None
        if runtime is None and not deleting and pod.status.phase not in ("Succeeded", "Failed"):
            yield StartPod(node, key)
        elif (deleting and (runtime is None or (same(pod, runtime) and not runtime.terminating))) \
                or (runtime is not None and same(pod, runtime) and stops_terminal(pod, runtime)):
            yield KillPod(node, key)
    cached = cached_pods(model, state, node)
    for key, runtime in k.pods.sorted_items():
        if not same(cached.get(key), runtime) and not (runtime.terminating and runtime.any_running):
            yield CleanupOrphan(node, key)


def _enabled_containers(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        errors = None
        busy = killing(runtime)
        for c in (*runtime.init_containers, *runtime.containers):
            yield from _probe_results(node, key, runtime, c, state.clock)
            if runtime.exits_by_itself(c) or (c.running and c.kill_deadline is not None
                                              and state.clock < c.kill_deadline):  # on SIGTERM: `kill`
                for code in exit_choices(model, state, node, key, runtime, c):  # `exit_codes`, `environment.exits`
                    yield ContainerExit(node, key, c.name, code)
            if holds_back(runtime, c):  # the sync stops at the init containers: `init_sync`
                continue
            if c.config_error:
                if _retry_at(runtime, c) <= state.clock:
                    errors = config_errors_of(model, state, node, key) if errors is None else errors
                    if errors.get(c.name, "") != c.config_error:
                        yield RestartContainer(node, key, c.name)  # a new outcome: `kubelet.config`
            elif runtime.should_restart(c) and restart_at(c) <= state.clock and not busy:
                yield RestartContainer(node, key, c.name)  # not while SyncPod waits for a kill: `kill`
        if runtime.mount_pending and _mount_retry_due(model, runtime, state.clock) and mounts(model, state, node, key):
            yield MountVolumes(node, key)  # a retry, and the volumes resolve now: `kubelet.volumes`
        yield from _enabled_stops(model, state, node, key, runtime)


def _enabled_stops(model: ClusterModel, state: ClusterState, node: str, key: str,
                   runtime: PodRuntime) -> Iterator[Action]:
    """A terminating pod's exits on SIGTERM before its deadline (one `StopGracefully` per exit code:
    `exit_rules.stop_choices`), its SIGKILL at the deadline (or a preStop hook's overrun); the same
    deadline steps for a container killed for a failed probe (`kill.due`)."""
    now = state.clock
    sigkill, overrun = kill_due(runtime, now) if killing(runtime) else (False, False)
    if runtime.terminating and runtime.any_running:
        assert runtime.kill_deadline is not None
        past = now >= runtime.kill_deadline
        sigkill, overrun = sigkill or past, overrun or (past and runtime.hook_grace is not None)
        if not past:
            for code in stop_choices(model, state, node, key, runtime):
                yield StopGracefully(node, key, code)
    if sigkill:
        yield SigKillPod(node, key)
    if overrun:
        yield PreStopOverrun(node, key)  # instead of SIGKILL: the hook ran the grace period out


def _retry_at(runtime: PodRuntime, c: ContainerRuntime) -> int | float:
    """When the pod worker tries again to start a container whose configuration did not resolve
    (`config.RETRY_SECONDS` after the failed sync); never once the pod stops."""
    if c.running or runtime.terminating or runtime.evicted or runtime.rejected or runtime.deadline_exceeded:
        return math.inf
    return c.config_failed_at + RETRY_SECONDS


def _mounts_retried(runtime: PodRuntime) -> bool:
    """Whether the volume manager still retries the pod's volumes: not once the pod stops."""
    return not (runtime.terminating or runtime.evicted or runtime.rejected or runtime.deadline_exceeded)


def _mount_since(runtime: PodRuntime) -> int:
    """When the back-off of the pod's pending volumes began (`volumes`: the admission, or a restart)."""
    return runtime.admitted_at if runtime.mount_from is None else runtime.mount_from


def _mount_retry_due(model: ClusterModel, runtime: PodRuntime, now: int) -> bool:
    """Whether the volume manager retried the pod's pending volumes within the tick before `now`
    (`volumes.mount_retry_due`)."""
    return _mounts_retried(runtime) and mount_retry_due(_mount_since(runtime), now, model.tick_seconds)


def _mount_retry_at(runtime: PodRuntime, now: int) -> int | float:
    """The volume manager's next retry after `now` of the pod's pending volumes; never once it stops."""
    return next_mount_retry(_mount_since(runtime), now) if _mounts_retried(runtime) else math.inf


def _probe_results(node: str, key: str, runtime: PodRuntime, c: ContainerRuntime, now: int) -> Iterator[Action]:
    """The probe outcomes that change something, once the prober can have reached them
    (`kubeprop.model.kubelet.probes`): a readiness flip (Ready from the first probe, NotReady after
    failureThreshold failures), a startup success, and a startup or liveness failure — which kills.
    Liveness and startup probes stop once the pod terminates (`worker.go` doProbe: "Pod deletion
    requested, setting probe result to success"); readiness probes go on."""
    if c.kill_deadline is not None:  # the worker is on hold (`worker.go` onHold): only readiness goes on
        if c.started and c.has_readiness and now >= readiness_turns_at(c):
            yield ProbeResult(node, key, c.name, "readiness", not c.ready)
        return
    if c.startup_pending and not runtime.terminating:
        if now >= startup_success_at(c):
            yield ProbeResult(node, key, c.name, "startup", True)
        if now >= startup_failure_at(c):
            yield ProbeResult(node, key, c.name, "startup", False)
    if c.started and c.has_readiness and now >= readiness_turns_at(c):
        yield ProbeResult(node, key, c.name, "readiness", not c.ready)
    if c.started and c.has_liveness and not runtime.terminating and now >= liveness_failure_at(c):
        yield ProbeResult(node, key, c.name, "liveness", False)


def _enabled_deadlines(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    """`ActiveDeadlineExceeded` for each pod past its deadline (`kubeprop.model.kubelet.deadline`)."""
    cached = cached_pods(model, state, node)
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        pod = cached.get(key)
        if pod is not None and pod.spec.active_deadline_seconds is not None \
                and past_deadline(pod, runtime, get_phase(runtime), state.clock):
            yield ActiveDeadlineExceeded(node, key)


def _finishing(pod: Pod | None, runtime: PodRuntime) -> bool:
    return (same(pod, runtime) and runtime.terminating and not runtime.any_running
            and pod is not None and pod.metadata.deletion_timestamp is not None)


def _in_sync(pod: Pod, runtime: PodRuntime, now: int) -> bool:
    return pod_status(pod, runtime, now) == pod.status


_STATUS_IN_SYNC: IdentityMemo[bool] = IdentityMemo()
"""Whether a pod's API status is what its kubelet would report, by the identity of the cached pod
and its runtime: a step elsewhere on the node leaves both the very same objects. Not by the clock:
`pod_status` stamps it only on a condition whose type, status, reason or message changed, and such a
status differs from the API's whatever the stamp (`clock_window`)."""


def _enabled_writes(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    if not reaches_apiserver(state, kubelet(node)):
        return
    cached = cached_pods(model, state, node)
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        pod = cached.get(key)
        if pod is None or not same(pod, runtime) or runtime.deleted:
            continue  # a pod deleted and kept by finalizers: the status manager forgot it
        if _finishing(pod, runtime):
            yield FinishTermination(node, key)
        elif not _STATUS_IN_SYNC.get((pod, runtime), _in_sync, pod, runtime, state.clock):
            yield SyncPodStatus(node, key)
    obj = state.store.get(ObjectKey("nodes", "", node))
    if isinstance(obj, Node) and node_status_stale(obj.status, pressures(model, state, node)):
        yield UpdateNodeStatus(node)


def _enabled_pressure(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    """Each kind of pressure episode whose budget is left: memory and PID evict a top-ranked pod
    (none: no episode), disk evicts one or is relieved by garbage collection."""
    k = kubelet_state(state, node)
    if pressure_left(model, state.kubelets, MEMORY):
        for key, over in eviction_victims(k, view(model, state, kubelet(node))):
            yield MemoryPressure(node, key, over)
    if pressure_left(model, state.kubelets, DISK):
        yield DiskPressureReclaimed(node)
        for resource, key, over in disk_victims(k, view(model, state, kubelet(node))):
            yield DiskPressure(node, key, resource, over)
    if pressure_left(model, state.kubelets, PID):
        yield from (PIDPressure(node, key) for key in pid_victims(k, view(model, state, kubelet(node))))


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Every enabled kubelet action, node by node in name order."""
    for node in sorted(model.nodes):
        yield from node_enabled(model, state, node)


def node_enabled(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    """One node's enabled kubelet actions (what they read: `kubeprop.model.cluster.incremental`)."""
    if not is_up(state, kubelet(node)):
        return
    yield from _enabled_admission(model, state, node)
    yield from _enabled_containers(model, state, node)
    yield from _enabled_deadlines(model, state, node)
    yield from _enabled_writes(model, state, node)
    yield from _enabled_pressure(model, state, node)


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest future time a container's back-off ends, a SIGKILL deadline or a pod's
    active deadline falls, a node's pressure condition ends, a probe can first change something
    (`kubeprop.model.kubelet.probes`), a ConfigMap or Secret retry (`config`) or a volume's next mount
    retry (`volumes`) is due."""
    times: list[int] = []
    for node in sorted(model.nodes):
        if not is_up(state, kubelet(node)):
            continue
        times.extend(pressure_ends(model, kubelet_state(state, node)))
        for runtime in kubelet_state(state, node).pods.values():
            if runtime.kill_deadline is not None and runtime.any_running:
                times.append(runtime.kill_deadline)
            times.extend(kill_deadlines(runtime))
            waiting = [c for c in (*runtime.init_containers, *runtime.containers) if not holds_back(runtime, c)]
            times.extend(restart_at(c) for c in waiting
                         if runtime.should_restart(c) and not c.config_error)
            times.extend(int(r) for c in waiting if c.config_error and (r := _retry_at(runtime, c)) != math.inf)
            if runtime.mount_pending and (r := _mount_retry_at(runtime, state.clock)) != math.inf:
                times.append(int(r))
            if runtime.active_deadline_seconds is not None and (t := deadline_timer(runtime, get_phase(runtime))):
                times.append(t)
            if not runtime.terminating:
                times.extend(t for c in (*runtime.init_containers, *runtime.containers) for t in probe_timers(c))
    future = [t for t in times if t > state.clock]
    return min(future) if future else None


def reset(model: ClusterModel, state: ClusterState, component: str) -> ClusterState:
    """A kubelet process (re)starts (`RestartComponent`, also `RestartNode`): its containers keep
    running and keep their restart counts (the runtime's), its prober has new workers whose counts
    start at zero (`probes.restart_prober`), its volume manager retries the pending volumes with a
    fresh back-off (`restart_mounts`), and its container restart back-off starts empty
    (`forget_backoffs`)."""
    if not component.startswith(KUBELET_PREFIX):
        return state
    node = component.removeprefix(KUBELET_PREFIX)
    k = state.kubelets.get(node)
    if not isinstance(k, KubeletState):
        return state
    fresh = forget_backoffs(restart_mounts(restart_prober(k, state.clock), state.clock))
    return state if fresh is k else store(state, node, fresh)


def forget_backoffs(k: KubeletState) -> KubeletState:
    """A kubelet process that (re)starts has a new, empty container restart back-off: `klet.backOff`
    is made in NewMainKubelet (`pkg/kubelet/kubelet.go`: `flowcontrol.NewBackOff(base, boMax)`) and
    lives only in the process's memory (client-go `util/flowcontrol/backoff.go`: a map of entries).
    So `doBackOff` (`pkg/kubelet/kuberuntime/kuberuntime_manager.go`) finds no entry for any exited
    container — `IsInBackOffSince` is false — and restarts it at the first sync, where `Next` makes
    a fresh entry (10 s, or the cap if that is less). What survives is the runtime's: the containers,
    their exit times and restart counts (kept in the containers' labels and statuses). The model
    drops every container's entry (`ContainerRuntime.backoff`, `backoff_updated`). A node reboot's
    re-admitted pods start with none anyway (`logs.crash_node`)."""
    for key, pod in k.pods.sorted_items():
        fresh = pod
        for c in (*pod.init_containers, *pod.containers):
            if c.backoff or c.backoff_updated:
                fresh = fresh.with_container(evolve(c, backoff=0, backoff_updated=0))
        if fresh is not pod:
            k = k.with_pod(key, fresh)
    return k


def restart_mounts(k: KubeletState, now: int) -> KubeletState:
    """A kubelet process that (re)starts at `now` has a new volume manager: the back-off of the volumes
    still pending starts afresh (`volumes`: its first retry half a second after the restart's failure)."""
    for key, pod in k.pods.sorted_items():
        if pod.mount_pending:
            k = k.with_pod(key, evolve(pod, mount_from=now))
    return k
