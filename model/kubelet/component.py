"""The kubelets: each node's agent, running pods as its own cache and the container runtime say.

A kubelet reads only its own cache (`view(model, state, kubelet(node))`, pods filtered to
`spec.nodeName == node`) and writes as `system:node:<node>`. Its actual pods and containers are a
`KubeletState` (`kubeprop.model.kubelet.runtime`), separate from the API: a partitioned node
keeps running a pod the API already shows terminating.

Actions (upstream sources in each class):
- `StartPod`: admit a bound pod and start its first init container, or its containers
  (`pkg/kubelet/kubelet.go` SyncPod; init containers: `kubeprop.model.kubelet.runtime`);
- `ProbeResult`: a readiness or liveness probe outcome that changes something;
- `RestartContainer` (a timer once in back-off), `ContainerExit` (a batch container ends);
- `SyncPodStatus`: the status manager writes the status the kubelet would report;
- graceful termination: `KillPod` (SIGTERM), `StopGracefully` | `SigKillPod` (at the deadline),
  `FinishTermination` (final status, then DELETE with grace 0);
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

import attrs

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.admission import admission_rejection, rejected_runtime, resource_rejection, visible_taints
from kubeprop.model.kubelet.deadline import ActiveDeadlineExceeded, deadline_timer, exceed, past_deadline
from kubeprop.model.kubelet.eviction import eviction_victims
from kubeprop.model.kubelet.runtime import (
    SIGKILL_EXIT_CODE,
    ContainerRuntime,
    KubeletState,
    PodRuntime,
    crash_container,
    crash_node,
    initial_kubelet,
    restart_at,
    restarted,
    sigkill_grace,
)
from kubeprop.model.kubelet.status import get_phase, node_status, pod_status
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, kubelet, reaches_apiserver, send, view
from kubeprop.model.state.informer import ObjectView

__all__ = [
    "HANDLERS", "ActiveDeadlineExceeded", "CleanupOrphan", "ContainerExit", "FinishTermination", "KillPod",
    "KubeletState", "MemoryPressure", "PodRuntime", "ProbeResult", "RestartContainer", "SigKillPod", "StartPod",
    "StopGracefully", "SyncPodStatus", "UpdateNodeStatus", "crash_container", "crash_node", "enabled",
    "initial_kubelet", "next_timer", "running_containers",
]


@attrs.frozen(order=True)
class StartPod(Action):
    """The kubelet admits a pod bound to its node and starts its containers, or its first
    regular init container (`pkg/kubelet/kubelet.go` HandlePodAdditions → canAdmitPod → SyncPod). Image pulls and
    sandbox set-up are one step. Admission (`pkg/kubelet/lifecycle/predicate.go` generalFilter)
    rejects a pod that does not tolerate one of its node's NoExecute taints: the pod is not
    started and the status manager reports it Failed, reason `TaintToleration`, message "Pod was
    rejected: Predicate TaintToleration failed: node(s) had taints that the pod didn't
    tolerate" (`rejectPod`). The other admission checks (resources, node name, ports, node
    affinity, OS) are left to the scheduler, which checks the same predicates."""

    node: str
    pod: str


@attrs.frozen(order=True)
class ProbeResult(Action):
    """A probe outcome that changes something (`pkg/kubelet/prober/worker.go`): readiness
    success/failure flips Ready; a liveness failure stands for failureThreshold consecutive
    failures and kills the container (exit 137), which then restarts per restartPolicy."""

    node: str
    pod: str
    container: str
    probe: str
    success: bool


@attrs.frozen(order=True)
class RestartContainer(Action):
    """An exited container restarts once its CrashLoopBackOff delay is over (`doBackOff`)."""

    node: str
    pod: str
    container: str


@attrs.frozen(order=True)
class ContainerExit(Action):
    """A container of a restartPolicy Never/OnFailure pod, or an init container of any pod, ends
    by itself (exit 0 or 1). For the containers of Always pods an exit is a crash fault
    (`crash_container`)."""

    node: str
    pod: str
    container: str
    success: bool


@attrs.frozen(order=True)
class SyncPodStatus(Action):
    """The status manager writes the pod status the kubelet would report
    (`pkg/kubelet/status/status_manager.go` syncPod), when the API's differs."""

    node: str
    pod: str


@attrs.frozen(order=True)
class KillPod(Action):
    """The kubelet sees the pod's deletionTimestamp and sends SIGTERM; SIGKILL follows after the
    grace period, at least 2 s (`pod_workers.go`, `kuberuntime_container.go` killContainer)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class StopGracefully(Action):
    """The terminating pod's containers exit cleanly on SIGTERM before the deadline (exit 0)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class SigKillPod(Action):
    """The grace period is over: the remaining containers are SIGKILLed (exit 137)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class FinishTermination(Action):
    """All containers stopped: the status manager writes the terminal status and deletes the pod
    with gracePeriodSeconds=0 and a UID precondition (`status_manager.go` canBeDeleted)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class CleanupOrphan(Action):
    """A pod the kubelet runs is gone from the API (or replaced by a new uid, or bound elsewhere):
    SIGTERM its containers, or forget it once none runs (`kubelet_pods.go` HandlePodCleanups)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class UpdateNodeStatus(Action):
    """The kubelet posts its node status (Ready=True) when the API's Ready is not True, e.g.
    Unknown after a partition (`kubelet_node_status.go` tryUpdateNodeStatus)."""

    node: str


@attrs.frozen(order=True)
class MemoryPressure(Action):
    """Memory runs short on the node and the eviction manager evicts `pod`, the top-ranked one
    (`pkg/kubelet/eviction/eviction_manager.go` synchronize, `helpers.go` rankMemoryPressure).
    `over_request` is the environment's choice of whether `pod`'s usage exceeds its request."""

    node: str
    pod: str
    over_request: bool


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
    """(pod key, container name) of every running container, in order (for `CrashContainer`)."""
    for key, runtime in k.pods.sorted_items():
        for c in runtime.containers:
            if c.running:
                yield key, c.name


def _same(pod: Pod | None, runtime: PodRuntime) -> bool:
    return pod is not None and pod.metadata.uid == runtime.uid


def _pod_ip(model: ClusterModel, k: KubeletState, node: str) -> str:
    """10.244.<node index>.<lowest free host ≥ 2> (.1 is the bridge); upstream IPAM is random."""
    index = model.nodes.index(node) if node in model.nodes else 0
    used = {r.pod_ip for r in k.pods.values()}
    host = 2
    while f"10.244.{index}.{host}" in used:
        host += 1
    return f"10.244.{index}.{host}"


def _admit(model: ClusterModel, k: KubeletState, node: str, pod: Pod, now: int) -> PodRuntime:
    containers = tuple(
        ContainerRuntime(c.name, has_readiness=c.readiness_probe is not None, has_liveness=c.liveness_probe is not None)
        for c in pod.spec.containers
    )
    inits = tuple(ContainerRuntime(c.name) for c in pod.spec.init_containers if c.restart_policy != "Always")
    return _admitted(model, k, node, pod, now, containers, inits).start_next(now)


def _admitted(model: ClusterModel, k: KubeletState, node: str, pod: Pod, now: int,
              containers: tuple[ContainerRuntime, ...], inits: tuple[ContainerRuntime, ...]) -> PodRuntime:
    """The pod as admitted, nothing started yet."""
    grace = pod.spec.termination_grace_period_seconds
    claims = tuple(sorted(
        f"{pod.metadata.namespace}/{v.persistent_volume_claim.claim_name}"
        for v in pod.spec.volumes if v.persistent_volume_claim is not None
    ))
    return PodRuntime(uid=pod.metadata.uid, containers=containers, pod_ip=_pod_ip(model, k, node), admitted_at=now,
                      restart_policy=pod.spec.restart_policy or "Always", grace_seconds=30 if grace is None else grace,
                      claims=claims, active_deadline_seconds=pod.spec.active_deadline_seconds, init_containers=inits)


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
        elif deleting and (runtime is None or (_same(pod, runtime) and not runtime.terminating)):
            yield KillPod(node, key)
    cached = cached_pods(model, state, node)
    for key, runtime in k.pods.sorted_items():
        if not _same(cached.get(key), runtime) and not (runtime.terminating and runtime.any_running):
            yield CleanupOrphan(node, key)


def _enabled_containers(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    max_backoff = int(model.parameter("crashLoopBackOffMaxSeconds"))
    for key, runtime in kubelet_state(state, node).pods.sorted_items():
        for c in (*runtime.init_containers, *runtime.containers):
            if c.running and c.has_readiness:
                yield ProbeResult(node, key, c.name, "readiness", not c.ready)
            if c.running and c.has_liveness and not runtime.terminating:
                yield ProbeResult(node, key, c.name, "liveness", False)
            if runtime.exits_by_itself(c):
                yield ContainerExit(node, key, c.name, False)
                yield ContainerExit(node, key, c.name, True)
            if runtime.should_restart(c) and restart_at(c, max_backoff) <= state.clock:
                yield RestartContainer(node, key, c.name)
        if runtime.terminating and runtime.any_running:
            assert runtime.kill_deadline is not None
            yield StopGracefully(node, key) if state.clock < runtime.kill_deadline else SigKillPod(node, key)


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
        if pod is None or not _same(pod, runtime):
            continue
        if _finishing(pod, runtime):
            yield FinishTermination(node, key)
        elif not _STATUS_IN_SYNC.get((pod, runtime), _in_sync, pod, runtime, state.clock, values=state.clock):
            yield SyncPodStatus(node, key)
    obj = state.store.get(ObjectKey("nodes", "", node))
    if isinstance(obj, Node):
        ready = find_condition(obj.status.conditions, "Ready")
        if ready is None or ready.status != "True":
            yield UpdateNodeStatus(node)


def _enabled_pressure(model: ClusterModel, state: ClusterState, node: str) -> Iterator[Action]:
    if pressure_spent(state) >= int(model.parameter("memoryPressureEvents")):
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


def pressure_spent(state: ClusterState) -> int:
    """Memory-pressure evictions taken so far, over every node (the scenario's budget)."""
    return pressure_spent_in(state.kubelets)


def pressure_spent_in(kubelets: FrozenMap[str, Any]) -> int:
    """`pressure_spent` of a cluster's kubelets."""
    return sum(k.pressure_events for k in kubelets.values() if isinstance(k, KubeletState))


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest future time a container's back-off ends, a SIGKILL deadline or a pod's
    active deadline falls."""
    max_backoff = int(model.parameter("crashLoopBackOffMaxSeconds"))
    times: list[int] = []
    for node in sorted(model.nodes):
        if not is_up(state, kubelet(node)):
            continue
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
    SyncPodStatus reports it Failed)."""
    pods = cached_pods(model, state, act.node)
    pod = pods[act.pod]
    k = kubelet_state(state, act.node)
    node = state.store.get(ObjectKey("nodes", "", act.node))
    admitted = [pods[key] for key, runtime in k.pods.sorted_items()  # GetActivePods
                if key != act.pod and key in pods and get_phase(runtime) not in ("Succeeded", "Failed")]
    rejection = resource_rejection(node, admitted, pod) if isinstance(node, Node) else None
    rejection = rejection or admission_rejection(visible_taints(state, act.node), pod)
    if rejection is not None:
        return _set_pod(state, act.node, act.pod, rejected_runtime(pod, state.clock, rejection))
    return _set_pod(state, act.node, act.pod, _admit(model, k, act.node, pod, state.clock))


def probe_result(model: ClusterModel, state: ClusterState, act: ProbeResult) -> ClusterState:
    """Readiness flips `ready`; a liveness failure kills the container."""
    runtime = _runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    c = evolve(c, ready=act.success) if act.probe == "readiness" else c.exit(state.clock, SIGKILL_EXIT_CODE, "Error")
    return _set_pod(state, act.node, act.pod, runtime.with_container(c))


def restart_container(model: ClusterModel, state: ClusterState, act: RestartContainer) -> ClusterState:
    """The container starts again; its back-off entry doubles (capped)."""
    runtime = _runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    c = restarted(c, state.clock, int(model.parameter("crashLoopBackOffMaxSeconds")))
    return _set_pod(state, act.node, act.pod, runtime.with_container(c))


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
    return _set_pod(state, act.node, act.pod, runtime)


def _write_status(model: ClusterModel, state: ClusterState, node: str, pod: Pod, runtime: PodRuntime) -> tuple[
        ClusterState, bool]:
    status = pod_status(pod, runtime, state.clock)
    if status == pod.status:
        return state, True
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
        runtime = evolve(_admitted(model, kubelet_state(state, act.node), act.node, pod, state.clock,
                                   tuple(ContainerRuntime(c.name) for c in pod.spec.containers), ()),
                         pod_ip=pod.status.pod_ip)
        if pod.status.start_time is not None:
            runtime = evolve(runtime, admitted_at=pod.status.start_time)
    grace = pod.metadata.deletion_grace_period_seconds
    deadline = state.clock + sigkill_grace(runtime.grace_seconds if grace is None else grace)
    return _set_pod(state, act.node, act.pod, evolve(runtime, kill_deadline=deadline))


def stop_gracefully(model: ClusterModel, state: ClusterState, act: StopGracefully) -> ClusterState:
    """Every running container exits 0 on SIGTERM."""
    runtime = _runtime(state, act.node, act.pod).kill_all(state.clock, 0, "Completed")
    return _set_pod(state, act.node, act.pod, runtime)


def sigkill_pod(model: ClusterModel, state: ClusterState, act: SigKillPod) -> ClusterState:
    """Every running container is killed (exit 137)."""
    runtime = _runtime(state, act.node, act.pod).kill_all(state.clock, SIGKILL_EXIT_CODE, "Error")
    return _set_pod(state, act.node, act.pod, runtime)


def finish_termination(model: ClusterModel, state: ClusterState, act: FinishTermination) -> ClusterState:
    """Terminal status, then DELETE with grace 0 and a UID precondition; forget the pod once gone."""
    pod = cached_pods(model, state, act.node)[act.pod]
    runtime = _runtime(state, act.node, act.pod)
    state, ok = _write_status(model, state, act.node, pod, runtime)
    if not ok:
        return state
    namespace, name = act.pod.split("/", 1)
    request = Request(verb="delete", user=user(act.node), resource="pods", namespace=namespace, name=name,
                      grace_period_seconds=0, precondition_uid=runtime.uid)
    state, response = send(model, state, user(act.node), request, kubelet(act.node))
    if response.ok or response.code == 404:
        state = _set_pod(state, act.node, act.pod, None)
    return state


def cleanup_orphan(model: ClusterModel, state: ClusterState, act: CleanupOrphan) -> ClusterState:
    """SIGTERM the orphan's containers (grace from its admitted spec), or forget it if none runs."""
    runtime = _runtime(state, act.node, act.pod)
    if not runtime.any_running:
        return _set_pod(state, act.node, act.pod, None)
    deadline = state.clock + sigkill_grace(runtime.grace_seconds)
    return _set_pod(state, act.node, act.pod, evolve(runtime, kill_deadline=deadline))


def update_node_status(model: ClusterModel, state: ClusterState, act: UpdateNodeStatus) -> ClusterState:
    """Post the node's conditions (Ready=True) with a fresh heartbeat. The kubelet GETs its Node
    from the API server first (not from a cache), so this reads the store."""
    node = state.store.get(ObjectKey("nodes", "", act.node))
    assert isinstance(node, Node)
    obj = evolve(node, metadata=evolve(node.metadata, resource_version=""),
                 status=node_status(node.status, state.clock))
    state, _ = send(model, state, user(act.node), Request(verb="update-status", user=user(act.node), obj=obj),
                    kubelet(act.node))
    return state


def memory_pressure(model: ClusterModel, state: ClusterState, act: MemoryPressure) -> ClusterState:
    """Evict the victim: its containers are killed and it turns Failed/Evicted locally (reported
    by the next SyncPodStatus)."""
    k = kubelet_state(state, act.node)
    runtime = k.pods[act.pod].kill_all(state.clock, SIGKILL_EXIT_CODE, "Error")
    k = evolve(k.with_pod(act.pod, evolve(runtime, evicted=True)), pressure_events=k.pressure_events + 1)
    return _store(state, act.node, k)


def active_deadline_exceeded(model: ClusterModel, state: ClusterState, act: ActiveDeadlineExceeded) -> ClusterState:
    """The pod turns Failed (DeadlineExceeded) locally and its containers get SIGTERM."""
    return _set_pod(state, act.node, act.pod, exceed(_runtime(state, act.node, act.pod), state.clock))


HANDLERS: dict[type, Any] = {
    StartPod: start_pod, ProbeResult: probe_result, RestartContainer: restart_container,
    ContainerExit: container_exit, SyncPodStatus: sync_pod_status, KillPod: kill_pod,
    StopGracefully: stop_gracefully, SigKillPod: sigkill_pod, FinishTermination: finish_termination,
    CleanupOrphan: cleanup_orphan, UpdateNodeStatus: update_node_status, MemoryPressure: memory_pressure,
    ActiveDeadlineExceeded: active_deadline_exceeded,
}
"""Action class → pure handler."""
