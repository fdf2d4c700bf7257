"""The kubelet's handlers: what each of its actions does to its runtime state and the API
(`kubeprop.model.kubelet.component` decides when each is enabled; upstream sources in each
docstring and in `kubeprop.model.kubelet.actions`)."""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import Request
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
from kubeprop.model.kubelet.admission import (
    admission_rejection,
    admit,
    admitted,
    kubelet_os,
    os_rejection,
    rejected_runtime,
    resource_rejection,
    sidecar_host_ports,
    visible_taints,
)
from kubeprop.model.kubelet.deadline import ActiveDeadlineExceeded, exceed
from kubeprop.model.kubelet.eviction import holds_resources
from kubeprop.model.kubelet.kill import exited_on_sigterm, kill_for_probe, overran, probe_kill_grace, sigkilled
from kubeprop.model.kubelet.local import (
    cached_pods,
    config_errors_of,
    kubelet_state,
    mounts,
    pod_runtime,
    same,
    set_pod,
    store,
    user,
)
from kubeprop.model.kubelet.pressure import pressure_rejection, pressures
from kubeprop.model.kubelet.probes import recount, turned_ready
from kubeprop.model.kubelet.runtime import (
    SIGKILL_EXIT_CODE,
    ContainerRuntime,
    KubeletState,
    PodRuntime,
    exit_carrying,
    overrun,
    restarted,
    sigterm,
)
from kubeprop.model.kubelet.status import merged_conditions, node_status, pod_status, transition_refused
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet, send

__all__ = ["HANDLERS", "holds_resources"]


def start_pod(model: ClusterModel, state: ClusterState, act: StartPod) -> ClusterState:
    """Admit the cached pod and start every container, or reject it (nothing starts; the next
    SyncPodStatus reports it Failed): the eviction manager under node pressure
    (`pressure.pressure_rejection`), then the OS checks, the resources and predicates, then the
    taints (`predicate.go` Admit's order)."""
    pods = cached_pods(model, state, act.node)
    pod = pods[act.pod]
    k = kubelet_state(state, act.node)
    node = state.store.get(ObjectKey("nodes", "", act.node))
    admitted = [pods[key] for key, runtime in k.pods.sorted_items()
                if key != act.pod and key in pods and holds_resources(runtime)]
    rejection = pressure_rejection(pod, pressures(model, state, act.node))
    rejection = rejection or os_rejection(kubelet_os(model, act.node), pod)
    if rejection is None and isinstance(node, Node):
        rejection = resource_rejection(node, admitted, pod, sidecars=sidecar_host_ports(model))
    rejection = rejection or admission_rejection(visible_taints(state, act.node), pod)
    if rejection is not None:
        return set_pod(state, act.node, act.pod, rejected_runtime(pod, state.clock, rejection))
    errors = config_errors_of(model, state, act.node, act.pod)
    runtime = admit(model, k, act.node, pod, state.clock, errors, mounted=mounts(model, state, act.node, act.pod))
    return set_pod(_logs_read(state, act.node, act.pod), act.node, act.pod, runtime)


def _logs_read(state: ClusterState, node: str, key: str) -> ClusterState:
    """The log directory a reboot left for the pod `key` read (`admission.admitted`) and dropped: the
    pod is known to the kubelet again, which from now on counts its restarts itself; a directory of
    another uid is the container GC's (`kuberuntime_gc.go` evictPodLogsDirectories)."""
    k = kubelet_state(state, node)
    return store(state, node, evolve(k, logs=k.logs.delete(key))) if key in k.logs else state


def mount_volumes(model: ClusterModel, state: ClusterState, act: MountVolumes) -> ClusterState:
    """The pod's volumes mounted: its first init container(s) or its containers start, as at admission
    (`start_next`; those whose configuration does not resolve wait: `kubeprop.model.kubelet.config`)."""
    runtime = evolve(pod_runtime(state, act.node, act.pod), mount_pending=False)
    runtime = runtime.start_next(state.clock, config_errors_of(model, state, act.node, act.pod))
    return set_pod(state, act.node, act.pod, runtime)


def probe_result(model: ClusterModel, state: ClusterState, act: ProbeResult) -> ClusterState:
    """Readiness flips `ready`; a startup success marks the container started (ready unless it has a
    readiness probe, whose probing begins: `prober/worker.go` doProbe), a sidecar's also starts the
    next init container (`computeInitContainerActions`); a liveness or startup failure — enabled
    once failureThreshold failed probes can have run, `kubeprop.model.kubelet.probes` — kills the
    container (`kuberuntime_manager.go` computePodActions: "failed liveness probe", "failed startup
    probe") with its grace period: preStop hook, SIGTERM, SIGKILL at the deadline (`kubeprop.model.kubelet.kill`).
    A sidecar started so may let a finished pod's sync reach its KillPod (`runtime.PodRuntime.stop_sidecars`)."""
    runtime = pod_runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    if act.probe == "readiness":
        return set_pod(state, act.node, act.pod, runtime.with_container(turned_ready(c, act.success, state.clock)))
    if act.probe == "startup" and act.success:  # published: the worker's resultRun is reset
        c = evolve(c, startup_pending=False, ready=not c.has_readiness, probes_from=None, startup_carried=0)
        c = recount(c, state.clock)  # its liveness probe begins now
        runtime = runtime.with_container(c)
        if c.restartable:  # the next init container starts; a finished pod's last sidecar: KillPod
            runtime = runtime.start_next(state.clock, config_errors_of(model, state, act.node, act.pod))
            runtime = runtime.stop_sidecars(state.clock)
        return set_pod(state, act.node, act.pod, runtime)
    c = evolve(c, liveness_carried=0) if act.probe == "liveness" else evolve(c, startup_carried=0)  # reset too
    cached = cached_pods(model, state, act.node).get(act.pod)
    grace, hook = probe_kill_grace(cached if same(cached, runtime) else None, runtime, c.name, act.probe)
    return set_pod(state, act.node, act.pod, runtime.with_container(kill_for_probe(c, state.clock, grace, hook)))


def restart_container(model: ClusterModel, state: ClusterState, act: RestartContainer) -> ClusterState:
    """The container starts again; its back-off entry doubles (capped). Or its configuration does not
    resolve: it stays exited, Waiting with CreateContainerConfigError, its restart count and back-off
    entry as they were (upstream `doBackOff` already renewed the entry: not modelled). A container whose
    last start failed so is retried (`kubeprop.model.kubelet.config`): started — restarted, if it had
    run before — or failed with the new message. A sidecar restarted `started` may let a finished pod's
    sync reach its KillPod (`runtime.PodRuntime.stop_sidecars`: every regular container done)."""
    runtime = pod_runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    errors = config_errors_of(model, state, act.node, act.pod)
    if c.name in errors:
        c = evolve(c, config_error=errors[c.name], config_failed_at=state.clock)
    elif c.exited_at is None:
        c = c.start(state.clock)
    else:
        c = restarted(c, state.clock, int(model.parameter("crashLoopBackOffMaxSeconds")))
    runtime = runtime.with_container(c)
    if c.restartable:  # a sidecar at the front of the init sequence: the next one may start
        runtime = runtime.start_next(state.clock, errors).stop_sidecars(state.clock)  # a finished pod's: KillPod
    return set_pod(state, act.node, act.pod, runtime)


def container_exit(model: ClusterModel, state: ClusterState, act: ContainerExit) -> ClusterState:
    """A batch container ends with `act.exit_code`: reason Completed for 0, Error otherwise (the
    runtime's reason, `kuberuntime/helpers.go` toKubeContainerStatus); one that restarts carries its
    probe failures (`runtime.exit_carrying`). An init container's exit 0 starts the next init container,
    or the containers after the last one. A container being killed for a failed probe exits on SIGTERM:
    0 (it handled the signal) or 143 (`kill.exited_on_sigterm`)."""
    runtime = pod_runtime(state, act.node, act.pod)
    c = runtime.container(act.container)
    assert c is not None
    if c.kill_deadline is not None:  # killed for a failed probe, it exits on SIGTERM: `kill.py`
        runtime = runtime.with_container(exited_on_sigterm(c, state.clock, act.exit_code))
        return set_pod(state, act.node, act.pod, runtime.stop_sidecars(state.clock))
    runtime = exit_carrying(runtime, c, state.clock, act.exit_code, "Completed" if act.exit_code == 0 else "Error")
    if act.exit_code == 0 and runtime.is_init(c.name):
        runtime = runtime.start_next(state.clock, config_errors_of(model, state, act.node, act.pod))
    return set_pod(state, act.node, act.pod, runtime.stop_sidecars(state.clock))


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
    state, _ = _write_status(model, state, act.node, pod, pod_runtime(state, act.node, act.pod))
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
        state = _logs_read(state, act.node, act.pod)
    grace = pod.metadata.deletion_grace_period_seconds
    return set_pod(state, act.node, act.pod, sigterm(runtime, state.clock, runtime.grace_seconds if grace is None
                                                      else grace))


def pre_stop_overrun(model: ClusterModel, state: ClusterState, act: PreStopOverrun) -> ClusterState:
    """The preStop hooks take the whole grace period: SIGKILL 2 s after it (`runtime.overrun`) — the
    pod's, at its deadline, and those of its containers being killed for a failed probe at theirs
    (`kill.overran`)."""
    runtime = pod_runtime(state, act.node, act.pod)
    if runtime.hook_grace is not None and runtime.kill_deadline is not None and state.clock >= runtime.kill_deadline:
        runtime = overrun(runtime)
    return set_pod(state, act.node, act.pod, overran(runtime, state.clock))


def stop_gracefully(model: ClusterModel, state: ClusterState, act: StopGracefully) -> ClusterState:
    """The running containers whose turn it is exit on SIGTERM with the action's code: all of them,
    or — the pod has sidecars — its regular containers first, then its sidecars one at a time, the
    last declared first (`PodRuntime.stop_in_turn`)."""
    runtime = pod_runtime(state, act.node, act.pod).stop_in_turn(state.clock, act.exit_code)
    return set_pod(state, act.node, act.pod, runtime)


def sigkill_pod(model: ClusterModel, state: ClusterState, act: SigKillPod) -> ClusterState:
    """At the pod's deadline every running container is killed (exit 137); at the deadline of a
    container's kill for a failed probe, that container (`kill.sigkilled`)."""
    runtime = pod_runtime(state, act.node, act.pod)
    if runtime.kill_deadline is not None and state.clock >= runtime.kill_deadline:
        return set_pod(state, act.node, act.pod, runtime.kill_all(state.clock, SIGKILL_EXIT_CODE, "Error"))
    return set_pod(state, act.node, act.pod, sigkilled(runtime, state.clock).stop_sidecars(state.clock))


def finish_termination(model: ClusterModel, state: ClusterState, act: FinishTermination) -> ClusterState:
    """Terminal status, then DELETE with grace 0 and a UID precondition (`status_manager.go` syncPod,
    canBeDeleted); forget the pod once gone. A DELETE accepted while finalizers keep the pod (upstream
    202 Accepted: `endpoints/handlers/delete.go`) leaves it `deleted`: the pod worker keeps the uid
    finished and neither kills, writes nor deletes it again (`PodRuntime.deleted`)."""
    pod = cached_pods(model, state, act.node)[act.pod]
    runtime = pod_runtime(state, act.node, act.pod)
    state, ok = _write_status(model, state, act.node, pod, runtime)
    if not ok:
        return state
    namespace, name = act.pod.split("/", 1)
    request = Request(verb="delete", user=user(act.node), resource="pods", namespace=namespace, name=name,
                      grace_period_seconds=0, precondition_uid=runtime.uid)
    state, response = send(model, state, user(act.node), request, kubelet(act.node))
    kept = state.store.get(ObjectKey("pods", namespace, name))  # still there: answered 202 Accepted, not 200
    if response.ok and isinstance(kept, Pod) and same(kept, runtime):
        state = set_pod(state, act.node, act.pod, evolve(runtime, deleted=True))
    elif response.ok or response.code == 404:
        state = set_pod(state, act.node, act.pod, None)
    return state


def cleanup_orphan(model: ClusterModel, state: ClusterState, act: CleanupOrphan) -> ClusterState:
    """SIGTERM the orphan's containers (grace from its admitted spec), or forget it if none runs."""
    runtime = pod_runtime(state, act.node, act.pod)
    if not runtime.any_running:
        return set_pod(state, act.node, act.pod, None)
    return set_pod(state, act.node, act.pod, sigterm(runtime, state.clock, runtime.grace_seconds))


def update_node_status(model: ClusterModel, state: ClusterState, act: UpdateNodeStatus) -> ClusterState:
    """Post the node's conditions (Ready=True, the pressure conditions as the eviction manager says) with a
    fresh heartbeat. The kubelet GETs its Node from the API server first (not from a cache), so
    this reads the store."""
    node = state.store.get(ObjectKey("nodes", "", act.node))
    assert isinstance(node, Node)
    obj = evolve(node, metadata=evolve(node.metadata, resource_version=""),
                 status=node_status(node.status, state.clock, pressures(model, state, act.node)))
    state, _ = send(model, state, user(act.node), Request(verb="update-status", user=user(act.node), obj=obj),
                    kubelet(act.node))
    return state


def _evict(state: ClusterState, node: str, pod: str, resource: str) -> KubeletState:
    """The victim's containers killed, and it turned Failed/Evicted locally for `resource`
    (reported by the next SyncPodStatus). A victim already terminating (deleted, say) is killed the
    same way: the eviction's 1 s grace period override cuts its own short (`eviction.py`)."""
    k = kubelet_state(state, node)
    runtime = k.pods[pod].kill_all(state.clock, SIGKILL_EXIT_CODE, "Error")
    return k.with_pod(pod, evolve(runtime, evicted=True, evicted_resource=resource))


def memory_pressure(model: ClusterModel, state: ClusterState, act: MemoryPressure) -> ClusterState:
    """The memory threshold is observed met now (the node condition: `kubeprop.model.kubelet.pressure`)
    and the victim evicted (`_evict`)."""
    k = _evict(state, act.node, act.pod, "memory")
    return store(state, act.node, evolve(k, pressure_events=k.pressure_events + 1, memory_pressure_at=state.clock))


def disk_pressure(model: ClusterModel, state: ClusterState, act: DiskPressure) -> ClusterState:
    """A disk threshold is observed met now (DiskPressure) and the victim evicted for `act.resource`."""
    k = _evict(state, act.node, act.pod, act.resource)
    return store(state, act.node, evolve(k, disk_pressure_events=k.disk_pressure_events + 1,
                                         disk_pressure_at=state.clock))


def disk_pressure_reclaimed(model: ClusterModel, state: ClusterState, act: DiskPressureReclaimed) -> ClusterState:
    """A disk threshold is observed met now (DiskPressure) and the garbage collection of dead
    containers and unused images relieves it: nothing the model tracks changes but the condition
    (it has neither images nor the runtime's dead containers)."""
    k = kubelet_state(state, act.node)
    return store(state, act.node, evolve(k, disk_pressure_events=k.disk_pressure_events + 1,
                                         disk_pressure_at=state.clock))


def pid_pressure(model: ClusterModel, state: ClusterState, act: PIDPressure) -> ClusterState:
    """The `pid.available` threshold is observed met now (PIDPressure) and the victim evicted."""
    k = _evict(state, act.node, act.pod, "pids")
    return store(state, act.node, evolve(k, pid_pressure_events=k.pid_pressure_events + 1,
                                         pid_pressure_at=state.clock))


def active_deadline_exceeded(model: ClusterModel, state: ClusterState, act: ActiveDeadlineExceeded) -> ClusterState:
    """The pod turns Failed (DeadlineExceeded) locally and its containers get SIGTERM."""
    return set_pod(state, act.node, act.pod, exceed(pod_runtime(state, act.node, act.pod), state.clock))


HANDLERS: dict[type, Any] = {
    StartPod: start_pod, ProbeResult: probe_result, RestartContainer: restart_container,
    ContainerExit: container_exit, SyncPodStatus: sync_pod_status, KillPod: kill_pod,
    StopGracefully: stop_gracefully, SigKillPod: sigkill_pod, FinishTermination: finish_termination,
    CleanupOrphan: cleanup_orphan, UpdateNodeStatus: update_node_status, MemoryPressure: memory_pressure,
    DiskPressure: disk_pressure, DiskPressureReclaimed: disk_pressure_reclaimed, PIDPressure: pid_pressure,
    ActiveDeadlineExceeded: active_deadline_exceeded, PreStopOverrun: pre_stop_overrun, MountVolumes: mount_volumes,
}
"""Action class → pure handler."""
