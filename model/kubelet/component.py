"""The kubelets: each node's agent, running pods as its own cache and the container runtime say.

A kubelet reads only its own cache (`view(model, state, kubelet(node))`, pods filtered to
`spec.nodeName == node`) and writes as `system:node:<node>`. Its actual pods and containers are a
`KubeletState` (`kubeprop.model.kubelet.runtime`), separate from the API: a partitioned node
keeps running a pod the API already shows terminating.

Actions (classes in `kubeprop.model.kubelet.actions`, upstream sources in each):
- `StartPod`: admit a bound pod and start its first init container(s) — a sidecar and what
  follows it —, or its containers (`pkg/kubelet/kubelet.go` SyncPod; init containers and sidecars:
  `kubeprop.model.kubelet.runtime`);
- `ProbeResult`: a readiness, liveness or startup probe outcome that changes something;
- `RestartContainer` (a timer once in back-off), `ContainerExit` (a batch container ends);
- `SyncPodStatus`: the status manager writes the status the kubelet would report;
- graceful termination: `KillPod` (preStop hooks, SIGTERM; also of a pod whose cached phase is
  terminal while its containers run: `status.stops_terminal`), `StopGracefully` | `SigKillPod` (at
  the deadline; `PreStopOverrun`: a preStop hook ran the whole grace period, SIGKILL 2 s later),
  `FinishTermination` (final status, then DELETE with grace 0; a pod its finalizers keep is then
  left alone: `PodRuntime.deleted`);
- `CleanupOrphan`: a pod gone from the API but still known locally is killed, then forgotten;
- `ActiveDeadlineExceeded`: a pod past `spec.activeDeadlineSeconds` is Failed and killed (a timer,
  `kubeprop.model.kubelet.deadline`);
- `UpdateNodeStatus`: post Ready=True when the API's Node says otherwise;
- `MemoryPressure`: node-pressure eviction (bounded by `memoryPressureEvents`).

Local actions (probes, restarts, kills, and acting on what its cache holds) happen while the node
is partitioned; actions that write are enabled only when `reaches_apiserver`. A partitioned
kubelet's cache is frozen (`view` gives it the snapshot it had when cut off), so it cannot see a
deletion made meanwhile. A kubelet *process* crash (`CrashComponent`) leaves the containers
running: the KubeletState stands for the runtime, which the restarted kubelet rediscovers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import eviction
from kubeprop.model.kubelet.actions import (
    CleanupOrphan,
    ContainerExit,
    FinishTermination,
    KillPod,
    MemoryPressure,
    PreStopOverrun,
    ProbeResult,
    RestartContainer,
    SigKillPod,
    StartPod,
    StopGracefully,
    SyncPodStatus,
    UpdateNodeStatus,
)
from kubeprop.model.kubelet.admission import (
    admission_rejection,
    admit,
    admitted,
    kubelet_os,
    os_rejection,
    rejected_runtime,
    resource_rejection,
    visible_taints,
)
from kubeprop.model.kubelet.deadline import ActiveDeadlineExceeded, deadline_timer, exceed, past_deadline
from kubeprop.model.kubelet.eviction import eviction_victims, pressure_ends, pressure_rejection, pressured
from kubeprop.model.kubelet.runtime import (
    SIGKILL_EXIT_CODE,
    ContainerRuntime,
    KubeletState,
    PodRuntime,
    crash_container,
    crash_node,
    initial_kubelet,
    overrun,
    restart_at,
    restarted,
    sigterm,
)
from kubeprop.model.kubelet.status import (
    get_phase,
    merged_conditions,
    node_status,
    node_status_stale,
    pod_status,
    stops_terminal,
    transition_refused,
)
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, kubelet, reaches_apiserver, send, view
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "HANDLERS", "ActiveDeadlineExceeded", "CleanupOrphan", "ContainerExit", "FinishTermination", "KillPod",
    "KubeletState", "MemoryPressure", "PodRuntime", "PreStopOverrun", "ProbeResult", "RestartContainer", "SigKillPod",
    "StartPod", "StopGracefully", "SyncPodStatus", "UpdateNodeStatus", "crash_container", "crash_node", "enabled",
    "initial_kubelet", "next_timer", "running_containers",
]


def user(node: str) -> str:
    """The identity a node's kubelet writes as."""
    return f"system:node:{node}"


def kubelet_state(state: ClusterState, node: str) -> KubeletState:
    """A node's kubelet state (the initial one if the lead did not store any yet)."""
    k = state.kubelets.get(node)
    return k if isinstance(k, KubeletState) else initial_kubelet()


def _store(state: ClusterState, node: str, k: KubeletState) -> ClusterState:
    return evolve(state, kubelets=state.kubelets.set(node, k))


def _set_pod(state: ClusterState, node: str, key: str, pod: PodRuntime | None) -> ClusterState:
    return _store(state, node, kubelet_state(state, node).with_pod(key, pod))


_CACHED: IdentityMemo[FrozenMap[str, Pod]] = IdentityMemo(limit=1_024)
"""A node's pods by the identity of the map a kubelet's view lists them from, and the node: the
enabled actions ask for them three times a state, and a step that changes no pod leaves the
kubelet's cache the very same map."""


def _pod_source(source: Any) -> Any:
    """The map `source.list("pods")` reads: the pods cache of an informer, the objects of a store."""
    resources = getattr(source, "resources", None)
    if resources is not None:
        cache = resources.get("pods")
        return None if cache is None else cache.objects
    return source.objects


def cached_pods(model: ClusterModel, state: ClusterState, node: str) -> FrozenMap[str, Pod]:
    """The kubelet's pod cache: pods with spec.nodeName == node (its informer's field selector),
    remembered by the identity of the map they are listed from (`_CACHED`)."""
    source = view(model, state, kubelet(node))
    return _CACHED.get((_pod_source(source),), _list_pods, source, node, values=node)


def _list_pods(source: ObjectView, node: str) -> FrozenMap[str, Pod]:
    return FrozenMap({
        f"{p.metadata.namespace}/{p.metadata.name}": p
        for p in source.list("pods")
        if isinstance(p, Pod) and p.spec.node_name == node
    })


def _observes(model: ClusterModel, state: ClusterState, node: str) -> bool:
    """Whether the kubelet acts on its cache: while it is up (a partitioned one on its snapshot)."""
    return is_up(state, kubelet(node))


def running_containers(k: KubeletState) -> Iterator[tuple[str, str]]:
    """(pod key, container name) of every running container and sidecar, in order (for `CrashContainer`)."""
    for key, runtime in k.pods.sorted_items():
        for c in (*runtime.sidecars, *runtime.containers):
            if c.running:
                yield key, c.name


def _same(pod: Pod | None, runtime: PodRuntime) -> bool:
    return pod is not None and pod.metadata.uid == runtime.uid


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
        elif (deleting and (runtime is None or (_same(pod, runtime) and not runtime.terminating))) \
                or (runtime is not None and _same(pod, runtime) and stops_terminal(pod, runtime)):
            yield KillPod(node, key)
    cached = cached_pods(model, state, node)
    for key, runtime in k.pods.sorted_items():
        if not _same(cached.get(key), runtime) and not (runtime.terminating and runtime.any_running):
            yield CleanupOrphan(node, key)


def _enabled_containers(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    max_backoff = int(model.parameter("crashLoopBackOffMaxSeconds"))
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        for c in (*runtime.init_containers, *runtime.containers):
            if c.startup_pending and not runtime.terminating:
                yield ProbeResult(node, key, c.name, "startup", True)
                yield ProbeResult(node, key, c.name, "startup", False)
            if c.started and c.has_readiness:
                yield ProbeResult(node, key, c.name, "readiness", not c.ready)
            if c.started and c.has_liveness and not runtime.terminating:
                yield ProbeResult(node, key, c.name, "liveness", False)
            if runtime.exits_by_itself(c):
                yield ContainerExit(node, key, c.name, False)
                yield ContainerExit(node, key, c.name, True)
            if runtime.should_restart(c) and restart_at(c, max_backoff) <= state.clock:
                yield RestartContainer(node, key, c.name)
        if runtime.terminating and runtime.any_running:
            assert runtime.kill_deadline is not None
            yield StopGracefully(node, key) if state.clock < runtime.kill_deadline else SigKillPod(node, key)
            if runtime.hook_grace is not None and state.clock >= runtime.kill_deadline:
                yield PreStopOverrun(node, key)  # instead of SIGKILL: the hook ran the grace period out


def _enabled_deadlines(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    """`ActiveDeadlineExceeded` for each pod past its deadline (`kubeprop.model.kubelet.deadline`)."""
    cached = cached_pods(model, state, node)
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        pod = cached.get(key)
        if pod is not None and pod.spec.active_deadline_seconds is not None \
                and past_deadline(pod, runtime, get_phase(runtime), state.clock):
            yield ActiveDeadlineExceeded(node, key)


def _finishing(pod: Pod | None, runtime: PodRuntime) -> bool:
    return (_same(pod, runtime) and runtime.terminating and not runtime.any_running
            and pod is not None and pod.metadata.deletion_timestamp is not None)


def _in_sync(pod: Pod, runtime: PodRuntime, now: int) -> bool:
    return pod_status(pod, runtime, now) == pod.status


_STATUS_IN_SYNC: IdentityMemo[bool] = IdentityMemo()
"""Whether a pod's API status is what its kubelet would report, by the identity of the cached pod
and its runtime, and the clock: a step elsewhere on the node leaves both the very same objects."""


def _enabled_writes(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    if not reaches_apiserver(state, kubelet(node)):
        return
    cached = cached_pods(model, state, node)
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        pod = cached.get(key)
        if pod is None or not _same(pod, runtime) or runtime.deleted:
            continue  # a pod deleted and kept by finalizers: the status manager forgot it
        if _finishing(pod, runtime):
            yield FinishTermination(node, key)
        elif not _STATUS_IN_SYNC.get((pod, runtime), _in_sync, pod, runtime, state.clock, values=state.clock):
            yield SyncPodStatus(node, key)
    obj = state.store.get(ObjectKey("nodes", "", node))
    if isinstance(obj, Node) and node_status_stale(obj.status, pressured(model, state, node)):
        yield UpdateNodeStatus(node)


def _enabled_pressure(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    if eviction.pressure_spent_in(state.kubelets) >= int(model.parameter("memoryPressureEvents")):
        return
    k = kubelet_state(state, node)
    for key, over in eviction_victims(k, view(model, state, kubelet(node))):
        yield MemoryPressure(node, key, over)


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
    active deadline falls, or a node's memory pressure ends."""
    max_backoff = int(model.parameter("crashLoopBackOffMaxSeconds"))
    times: list[int] = []
    for node in sorted(model.nodes):
        if not is_up(state, kubelet(node)):
            continue
        if (end := pressure_ends(model, kubelet_state(state, node))) is not None:
            times.append(end)
        for runtime in kubelet_state(state, node).pods.values():
            if runtime.kill_deadline is not None and runtime.any_running:
                times.append(runtime.kill_deadline)
            times.extend(restart_at(c, max_backoff) for c in (*runtime.init_containers, *runtime.containers)
                         if runtime.should_restart(c))
            if runtime.active_deadline_seconds is not None and (t := deadline_timer(runtime, get_phase(runtime))):
                times.append(t)
    future = [t for t in times if t > state.clock]
    return min(future) if future else None


# --- handlers --------------------------------------------------------------------------------


def _runtime(state: ClusterState, node: str, key: str) -> PodRuntime:
    return kubelet_state(state, node).pods[key]


def start_pod(model: ClusterModel, state: ClusterState, act: StartPod) -> ClusterState:
    """Admit the cached pod and start every container, or reject it (nothing starts; the next
    SyncPodStatus reports it Failed): the eviction manager under memory pressure
    (`eviction.pressure_rejection`), then the OS checks, the resources and predicates, then the
    taints (`predicate.go` Admit's order)."""
    pods = cached_pods(model, state, act.node)
    pod = pods[act.pod]
    k = kubelet_state(state, act.node)
    node = state.store.get(ObjectKey("nodes", "", act.node))
    admitted = [pods[key] for key, runtime in k.pods.sorted_items()
                if key != act.pod and key in pods and holds_resources(runtime)]
    rejection = pressure_rejection(pod, pressured(model, state, act.node))
    rejection = rejection or os_rejection(kubelet_os(model, act.node), pod)
    if rejection is None and isinstance(node, Node):
        rejection = resource_rejection(node, admitted, pod)
    rejection = rejection or admission_rejection(visible_taints(state, act.node), pod)
    if rejection is not None:
        return _set_pod(state, act.node, act.pod, rejected_runtime(pod, state.clock, rejection))
    return _set_pod(state, act.node, act.pod, admit(model, k, act.node, pod, state.clock))


def holds_resources(runtime: PodRuntime) -> bool:
    """Whether an admitted pod still counts at admission (`kubelet_pods.go` GetActivePods →
    filterOutInactivePods): not once the pod worker knows it terminated (its kill requested and no
    container left running), nor while terminal with no kill requested (finished, evicted, rejected);
    a pod Failed for its active deadline whose containers are still stopping still counts."""
    if runtime.terminating:
        return runtime.any_running
    return get_phase(runtime) not in ("Succeeded", "Failed")


def probe_result(model: ClusterModel, state: ClusterState, act: ProbeResult) -> ClusterState:
    """Readiness flips `ready`; a startup success marks the container started (ready unless it has a
    readiness probe, whose probing begins: `prober/worker.go` doProbe), a sidecar's also starts the
    next init container (`computeInitContainerActions`); a liveness or startup failure kills the
    container (`kuberuntime_manager.go` computePodActions: "failed startup probe"), which restarts
    per `should_restart`."""
    runtime = _runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    if act.probe == "readiness":
        return _set_pod(state, act.node, act.pod, runtime.with_container(evolve(c, ready=act.success)))
    if act.probe == "startup" and act.success:
        c = evolve(c, startup_pending=False, ready=not c.has_readiness)
        runtime = runtime.with_container(c)
        return _set_pod(state, act.node, act.pod, runtime.start_next(state.clock) if c.restartable else runtime)
    runtime = runtime.with_container(c.exit(state.clock, SIGKILL_EXIT_CODE, "Error")).stop_sidecars(state.clock)
    return _set_pod(state, act.node, act.pod, runtime)


def restart_container(model: ClusterModel, state: ClusterState, act: RestartContainer) -> ClusterState:
    """The container starts again; its back-off entry doubles (capped)."""
    runtime = _runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    c = restarted(c, state.clock, int(model.parameter("crashLoopBackOffMaxSeconds")))
    runtime = runtime.with_container(c)
    if c.restartable:  # a sidecar at the front of the init sequence: the next one may start
        runtime = runtime.start_next(state.clock)
    return _set_pod(state, act.node, act.pod, runtime)


def container_exit(model: ClusterModel, state: ClusterState, act: ContainerExit) -> ClusterState:
    """A batch container ends: exit 0 (Completed) or 1 (Error). An init container's success
    starts the next init container, or the containers after the last one."""
    runtime = _runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    c = c.exit(state.clock, 0, "Completed") if act.success else c.exit(state.clock, 1, "Error")
    runtime = runtime.with_container(c)
    if act.success and runtime.is_init(c.name):
        runtime = runtime.start_next(state.clock)
    return _set_pod(state, act.node, act.pod, runtime.stop_sidecars(state.clock))


def _write_status(model: ClusterModel, state: ClusterState, node: str, pod: Pod, runtime: PodRuntime) -> tuple[
        ClusterState, bool]:
    """The status manager's sync (`status_manager.go` syncPod): GET the pod from the API server
    (not the cache), merge the generated status onto it (`merged_conditions`) and write it; a pod
    since recreated under the name refuses the write (the UID precondition)."""
    status = pod_status(pod, runtime, state.clock)
    if status == pod.status or transition_refused(pod, status):
        return state, status == pod.status  # a refused transition: "Status update on pod aborted"
    fresh = state.store.get(ObjectKey("pods", pod.metadata.namespace, pod.metadata.name))
    if isinstance(fresh, Pod) and fresh.metadata.uid == pod.metadata.uid \
            and fresh.status.conditions != pod.status.conditions:
        status = evolve(status, conditions=merged_conditions(fresh.status.conditions, status.conditions,
                                                             runtime.evicted))
    obj = evolve(pod, metadata=evolve(pod.metadata, resource_version=""), status=status)
    state, response = send(model, state, user(node), Request(verb="update-status", user=user(node), obj=obj),
                           kubelet(node))
    return state, response.ok


def sync_pod_status(model: ClusterModel, state: ClusterState, act: SyncPodStatus) -> ClusterState:
    """Write the status the kubelet would report."""
    pod = cached_pods(model, state, act.node)[act.pod]
    state, _ = _write_status(model, state, act.node, pod, _runtime(state, act.node, act.pod))
    return state


def kill_pod(model: ClusterModel, state: ClusterState, act: KillPod) -> ClusterState:
    """SIGTERM: the deadline is the pod's deletion grace period from now, at least 2 s. A deleted
    pod the kubelet never started (e.g. after a node reboot) is recorded with no container
    running, so `FinishTermination` deletes it (`pod_workers.go` SyncTerminatingPod)."""
    pod = cached_pods(model, state, act.node)[act.pod]
    runtime = kubelet_state(state, act.node).pods.get(act.pod)
    if runtime is None:
        runtime = evolve(admitted(model, kubelet_state(state, act.node), act.node, pod, state.clock,
                                   tuple(ContainerRuntime(c.name) for c in pod.spec.containers), ()),
                         pod_ip=pod.status.pod_ip)
        if pod.status.start_time is not None:
            runtime = evolve(runtime, admitted_at=pod.status.start_time)
    grace = pod.metadata.deletion_grace_period_seconds
    return _set_pod(state, act.node, act.pod, sigterm(runtime, state.clock, runtime.grace_seconds if grace is None
                                                      else grace))


def pre_stop_overrun(model: ClusterModel, state: ClusterState, act: PreStopOverrun) -> ClusterState:
    """The preStop hooks take the whole grace period: SIGKILL 2 s after it (`runtime.overrun`)."""
    return _set_pod(state, act.node, act.pod, overrun(_runtime(state, act.node, act.pod)))


def stop_gracefully(model: ClusterModel, state: ClusterState, act: StopGracefully) -> ClusterState:
    """Every running container exits 0 on SIGTERM."""
    runtime = _runtime(state, act.node, act.pod).kill_all(state.clock, 0, "Completed")
    return _set_pod(state, act.node, act.pod, runtime)


def sigkill_pod(model: ClusterModel, state: ClusterState, act: SigKillPod) -> ClusterState:
    """Every running container is killed (exit 137)."""
    runtime = _runtime(state, act.node, act.pod).kill_all(state.clock, SIGKILL_EXIT_CODE, "Error")
    return _set_pod(state, act.node, act.pod, runtime)


def finish_termination(model: ClusterModel, state: ClusterState, act: FinishTermination) -> ClusterState:
    """Terminal status, then DELETE with grace 0 and a UID precondition (`status_manager.go` syncPod,
    canBeDeleted); forget the pod once gone. A DELETE accepted while finalizers keep the pod (upstream
    202 Accepted: `endpoints/handlers/delete.go`) leaves it `deleted`: the pod worker keeps the uid
    finished and neither kills, writes nor deletes it again (`PodRuntime.deleted`)."""
    pod = cached_pods(model, state, act.node)[act.pod]
    runtime = _runtime(state, act.node, act.pod)
    state, ok = _write_status(model, state, act.node, pod, runtime)
    if not ok:
        return state
    namespace, name = act.pod.split("/", 1)
    request = Request(verb="delete", user=user(act.node), resource="pods", namespace=namespace, name=name,
                      grace_period_seconds=0, precondition_uid=runtime.uid)
    state, response = send(model, state, user(act.node), request, kubelet(act.node))
    kept = state.store.get(ObjectKey("pods", namespace, name))  # still there: answered 202 Accepted, not 200
    if response.ok and isinstance(kept, Pod) and _same(kept, runtime):
        state = _set_pod(state, act.node, act.pod, evolve(runtime, deleted=True))
    elif response.ok or response.code == 404:
        state = _set_pod(state, act.node, act.pod, None)
    return state


def cleanup_orphan(model: ClusterModel, state: ClusterState, act: CleanupOrphan) -> ClusterState:
    """SIGTERM the orphan's containers (grace from its admitted spec), or forget it if none runs."""
    runtime = _runtime(state, act.node, act.pod)
    if not runtime.any_running:
        return _set_pod(state, act.node, act.pod, None)
    return _set_pod(state, act.node, act.pod, sigterm(runtime, state.clock, runtime.grace_seconds))


def update_node_status(model: ClusterModel, state: ClusterState, act: UpdateNodeStatus) -> ClusterState:
    """Post the node's conditions (Ready=True, MemoryPressure as the eviction manager says) with a
    fresh heartbeat. The kubelet GETs its Node from the API server first (not from a cache), so
    this reads the store."""
    node = state.store.get(ObjectKey("nodes", "", act.node))
    assert isinstance(node, Node)
    obj = evolve(node, metadata=evolve(node.metadata, resource_version=""),
                 status=node_status(node.status, state.clock, pressured(model, state, act.node)))
    state, _ = send(model, state, user(act.node), Request(verb="update-status", user=user(act.node), obj=obj),
                    kubelet(act.node))
    return state


def memory_pressure(model: ClusterModel, state: ClusterState, act: MemoryPressure) -> ClusterState:
    """The threshold is observed met now (the node condition: `kubeprop.model.kubelet.eviction`) and
    the victim evicted: its containers are killed and it turns Failed/Evicted locally (reported
    by the next SyncPodStatus)."""
    k = kubelet_state(state, act.node)
    runtime = k.pods[act.pod].kill_all(state.clock, SIGKILL_EXIT_CODE, "Error")
    k = evolve(k.with_pod(act.pod, evolve(runtime, evicted=True)), pressure_events=k.pressure_events + 1,
               memory_pressure_at=state.clock)
    return _store(state, act.node, k)


def active_deadline_exceeded(model: ClusterModel, state: ClusterState, act: ActiveDeadlineExceeded) -> ClusterState:
    """The pod turns Failed (DeadlineExceeded) locally and its containers get SIGTERM."""
    return _set_pod(state, act.node, act.pod, exceed(_runtime(state, act.node, act.pod), state.clock))


HANDLERS: dict[type, Any] = {
    StartPod: start_pod, ProbeResult: probe_result, RestartContainer: restart_container,
    ContainerExit: container_exit, SyncPodStatus: sync_pod_status, KillPod: kill_pod,
    StopGracefully: stop_gracefully, SigKillPod: sigkill_pod, FinishTermination: finish_termination,
    CleanupOrphan: cleanup_orphan, UpdateNodeStatus: update_node_status, MemoryPressure: memory_pressure,
    ActiveDeadlineExceeded: active_deadline_exceeded, PreStopOverrun: pre_stop_overrun,
}
"""Action class → pure handler."""
