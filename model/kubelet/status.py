"""The pod and node status a kubelet reports, computed from its actual state.

Upstream: `pkg/kubelet/kubelet_pods.go` generateAPIPodStatus and getPhase,
`pkg/kubelet/status/generate.go` (ContainersReady, Ready and Initialized conditions),
`pkg/kubelet/status/status_manager.go` (transition times are kept while a condition's status is
unchanged; conditions the kubelet does not own are kept), `pkg/kubelet/kubelet_node_status.go`
and `pkg/kubelet/nodestatus/setters.go` (the node conditions).

Model choices: container state timestamps other than a running state's `startedAt` and a
terminated state's `finishedAt` (the model clock at the exit) are left out; containerID and
imageID are empty; the kubelet owns the conditions PodScheduled, Initialized, ContainersReady,
Ready (and DisruptionTarget on an evicted pod); `PodReadyToStartContainers` is not modelled.

Readiness gates (`spec.readinessGates`): Ready is ContainersReady, except that with every container
ready it stays False, reason ReadinessGatesNotReady, until each gate's condition is in
`status.conditions` with status True (`generate.go` GeneratePodReadyCondition, reading the conditions
`kubelet_pods.go` generateAPIPodStatus kept from the kubelet's copy of the pod: the ones it does not
own, and the Initialized it just generated). Those conditions are someone else's to set, by a status
update or patch of the pod (a load-balancer controller upstream; a controller of the scenario's in
the model: no built-in one sets any). The status manager writes the kubelet's conditions onto the
pod as it GETs it from the API server, keeping every other condition there (`status_manager.go`
syncPod, mergePodStatus: `merged_conditions`), so a condition set while the kubelet's cache was
behind survives its write; a change of one reaches the kubelet as a pod update, and the next
`SyncPodStatus` writes Ready anew.

Init containers (`kubeprop.model.kubelet.runtime.PodRuntime.init_containers`):
the regular ones run one by one before the containers, sidecars (restartPolicy Always) start in
their turn and keep running; all are reported in `initContainerStatuses`, a sidecar with `started`
and `ready` as a container. The sidecars count for the phase while running (`getPhase`: terminated
ones are ignored), for Initialized once started — until a regular container is reported running or
terminated (`reported_started`) —, and for ContainersReady and Ready (listed before the containers,
as `GenerateContainersReadyCondition`).
"""

from __future__ import annotations

import json
from typing import Any

from kubeprop.model.api.container_transitions import illegal_transitions
from kubeprop.model.api.core import NodeStatus
from kubeprop.model.api.meta import Condition, find_condition, set_condition
from kubeprop.model.api.pod import ContainerStatus, Pod, PodReadinessGate, PodStatus
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.config import CONFIG_ERROR_REASON
from kubeprop.model.kubelet.deadline import DEADLINE_MESSAGE, DEADLINE_REASON
from kubeprop.model.kubelet.runtime import ContainerRuntime, PodRuntime
from kubeprop.model.scenario.bootstrap import KUBELET_NODE_CONDITIONS

EVICTION_MESSAGE = "The node was low on resource: memory. "
"""`pkg/kubelet/eviction/helpers.go` nodeLowMessageFmt for memory."""


def eviction_message(runtime: PodRuntime) -> str:
    """`helpers.go` nodeLowMessageFmt for the resource whose pressure evicted the pod."""
    return f"The node was low on resource: {runtime.evicted_resource}. "

KUBELET_CONDITIONS = ("PodScheduled", "Ready", "Initialized", "ContainersReady")
"""`pkg/kubelet/types/pod_status.go` PodConditionsByKubelet."""

TERMINAL_REASONS = {"Succeeded": "PodCompleted", "Failed": "PodFailed"}
"""`generate.go` generateContainersReadyConditionForTerminalPhase / generatePodReadyConditionForTerminalPhase:
ContainersReady and Ready of a terminal pod are False with this reason and no message, whatever its
containers (a pod Failed for its deadline may still run a ready one). PodFailed arrived with kubernetes
PR #110256 (v1.25, back-ported to v1.22-v1.24 patch releases), PodCompleted long before."""


def get_phase(runtime: PodRuntime) -> str:
    """`getPhase`: Pending while init containers are still to complete (Failed if one failed
    under restartPolicy Never) or a container never started, Running while one runs, else by
    restart policy; a pod the kubelet has finished (terminated after deletion, or evicted) is
    terminal: Succeeded if every container exited 0, else Failed. A pod past its active deadline
    is Failed at once, its containers still stopping (`generateAPIPodStatus`, ShouldEvict).

    A sidecar not started makes the pod Pending only until a regular container has run in this
    sandbox (`PodRuntime.initialized`): v1.33's generateAPIPodStatus passes getPhase
    `kubecontainer.HasAnyActiveRegularContainerStarted` (kubernetes PR #128516), true for any
    container of the active sandbox, an exited one too — so an app in CrashLoopBackOff beside a
    restarted sidecar keeps the pod Running (before v1.33 getPhase read HasAnyRegularContainerStarted
    over the API statuses, and such a pod was Pending)."""
    if runtime.evicted or runtime.rejected or runtime.deadline_exceeded:
        return "Failed"
    if runtime.terminating and not runtime.any_running:
        # The pod worker finished terminating it: the phase must be terminal (`generateAPIPodStatus`).
        return "Succeeded" if all(c.exit_code == 0 for c in runtime.containers) else "Failed"
    if not runtime.initialized:
        # Init containers still to run: Pending, or Failed when one failed under restartPolicy Never.
        return "Failed" if runtime.init_failed() else "Pending"
    running = sum(1 for c in runtime.containers if c.running)
    stopped = sum(1 for c in runtime.containers if not c.running and c.exited_at is not None)
    succeeded = sum(1 for c in runtime.containers if not c.running and c.exit_code == 0)
    if stopped < len(runtime.containers) - running:
        return "Pending"
    running += sum(1 for c in runtime.init_containers if c.running and c.restartable)
    if running > 0:
        return "Running"
    if stopped == 0:
        return "Pending"
    if runtime.restart_policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    if runtime.restart_policy == "Never":
        return "Failed"
    return "Running"


def _terminated(c: ContainerRuntime) -> FrozenMap[str, Any]:
    """A terminated state (`convertToAPIContainerStatuses`): the last exit's code, reason and
    `finishedAt` (the model time it exited, `exited_at`; the Job controller dates a failed pod by it,
    `job_util.finish_time`)."""
    terminated: dict[str, Any] = {"exitCode": c.exit_code, "reason": c.exit_reason}
    if c.exited_at is not None:
        terminated["finishedAt"] = c.exited_at
    return FrozenMap({"terminated": FrozenMap(terminated)})


def container_status(runtime: PodRuntime, c: ContainerRuntime, image: str) -> ContainerStatus:
    """`convertToAPIContainerStatuses`: running, terminated, or waiting to restart (with the
    last termination as lastState); a container not started yet waits with reason
    ContainerCreating, or PodInitializing in a pod with init containers. `started` is the prober's
    (`prober_manager.go` UpdatePodStatus): running and past its startupProbe, if it has one."""
    last: Any = None
    if c.running:
        state: Any = FrozenMap({"running": FrozenMap({"startedAt": c.started_at})})
        if c.restart_count > 0 and c.exited_at is not None:
            last = _terminated(c)
    elif c.config_error:  # not created: its ConfigMaps or Secrets did not resolve (`kubelet.config`)
        state = FrozenMap({"waiting": FrozenMap({"reason": CONFIG_ERROR_REASON, "message": c.config_error})})
        last = None if c.exited_at is None else _terminated(c)
    elif c.exited_at is None:
        waiting = "PodInitializing" if runtime.init_containers else "ContainerCreating"
        state = FrozenMap({"waiting": FrozenMap({"reason": waiting})})
    elif runtime.should_restart(c):
        reason = "CrashLoopBackOff" if c.backoff > 0 else "ContainerCreating"
        state = FrozenMap({"waiting": FrozenMap({"reason": reason})})
        last = _terminated(c)
    else:
        state = _terminated(c)
    return ContainerStatus(name=c.name, ready=c.ready and c.running, restart_count=c.restart_count,
                           started=c.started, state=state, last_state=last, image=image)


def _unready(runtime: PodRuntime) -> list[str]:
    """The sidecars, then the containers, that are not ready (`GenerateContainersReadyCondition`)."""
    return [c.name for c in (*runtime.sidecars, *runtime.containers) if not (c.running and c.ready)]


def pod_conditions(old: tuple[Condition, ...], runtime: PodRuntime, phase: str, now: int,
                   gates: tuple[PodReadinessGate, ...] = ()) -> tuple[Condition, ...]:
    """The kubelet-owned conditions set onto the API's (`generate.go`): transition times move only
    when a condition's status changes. Ready also waits for the readiness `gates` (`ready_condition`)."""
    unready = _unready(runtime)
    if phase in TERMINAL_REASONS:
        status, reason, message = "False", TERMINAL_REASONS[phase], ""
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        status, reason = "False", "ContainersNotReady"
    else:
        status, reason, message = "True", "", ""
    containers_ready = Condition(type="ContainersReady", status=status, reason=reason, message=message)
    initialized = _initialized(runtime, phase)
    visible = (*(c for c in old if c.type not in KUBELET_CONDITIONS), initialized)
    conditions = old
    for cond in (
        Condition(type="PodScheduled", status="True"),
        initialized,
        containers_ready,
        ready_condition(containers_ready, gates, visible),
    ):
        conditions = _set(conditions, cond, now)
    if runtime.evicted:
        disruption = Condition(type="DisruptionTarget", status="True", reason="TerminationByKubelet",
                               message=eviction_message(runtime))
        conditions = _set(conditions, disruption, now)
    return conditions


READINESS_GATES_NOT_READY = "ReadinessGatesNotReady"
"""`generate.go` ReadinessGatesNotReady: the reason of Ready=False while a readiness gate is not True."""


def ready_condition(containers_ready: Condition, gates: tuple[PodReadinessGate, ...],
                    conditions: tuple[Condition, ...]) -> Condition:
    """`GeneratePodReadyCondition`: ContainersReady's status, reason and message while it is not
    True; else False, reason ReadinessGatesNotReady, while a gate's condition is missing from
    `conditions` or not True (one message per such gate, joined by ", "); else True."""
    if containers_ready.status != "True":
        return evolve(containers_ready, type="Ready")
    unmet = unmet_readiness_gates(gates, conditions)
    if unmet:
        return Condition(type="Ready", status="False", reason=READINESS_GATES_NOT_READY, message=", ".join(unmet))
    return Condition(type="Ready", status="True")


def unmet_readiness_gates(gates: tuple[PodReadinessGate, ...], conditions: tuple[Condition, ...]) -> list[str]:
    """`GeneratePodReadyCondition`'s message for each gate whose condition (the first of its type,
    `GetPodConditionFromList`) is missing or not True. `%q` of a qualified name (what validation
    admits as a gate's conditionType) is its JSON string."""
    unmet = []
    for gate in gates:
        quoted = json.dumps(gate.condition_type)
        cond = find_condition(conditions, gate.condition_type)
        if cond is None:
            unmet.append(f"corresponding condition of pod readiness gate {quoted} does not exist.")
        elif cond.status != "True":
            unmet.append(f'the status of pod readiness gate {quoted} is not "True", but {cond.status}')
    return unmet


def _init_status(runtime: PodRuntime, c: ContainerRuntime, image: str) -> ContainerStatus:
    """An init container's status: a regular one is ready once it exited 0; a sidecar is ready
    and started as a container is (`convertToAPIContainerStatuses`)."""
    status = container_status(runtime, c, image)
    if c.restartable:
        return status
    return evolve(status, ready=c.exit_code == 0 and not c.running)


def reported_started(runtime: PodRuntime) -> bool:
    """`kubecontainer.HasAnyRegularContainerStarted` over the reported statuses: a regular container
    whose `container_status` state is running or terminated. One waiting to restart (CrashLoopBackOff,
    or held back by a sidecar: `init_sync`) does not count, nor one whose configuration did not resolve."""
    return any(c.running or (c.exited_at is not None and not c.config_error and not runtime.should_restart(c))
               for c in runtime.containers)


def _initialized(runtime: PodRuntime, phase: str) -> Condition:
    """`GeneratePodInitializedCondition`: True with reason PodCompleted once the pod Succeeded; False,
    reason ContainersNotInitialized, naming the regular init containers that have not exited 0 and
    the sidecars not started (`isInitContainerInitialized`); True while a regular container is
    reported running or terminated (`reported_started`), so a sidecar restarting beside a running app
    does not undo it — but beside an app waiting in CrashLoopBackOff it does, while the phase, which
    counts the sandbox's exited containers (`get_phase`), stays Running. Upstream reads the API
    statuses there, not the runtime's (v1.33, and still the newest text read)."""
    if phase == "Succeeded":
        return Condition(type="Initialized", status="True", reason="PodCompleted")
    incomplete = [c.name for c in runtime.init_containers
                  if (not c.started if c.restartable else c.running or c.exit_code != 0)]
    if not incomplete or reported_started(runtime):
        return Condition(type="Initialized", status="True")
    return Condition(type="Initialized", status="False", reason="ContainersNotInitialized",
                     message=f"containers with incomplete status: [{' '.join(incomplete)}]")


def _set(conditions: tuple[Condition, ...], new: Condition, now: int) -> tuple[Condition, ...]:
    for cond in conditions:
        if cond.type == new.type and cond.status == new.status and cond.reason == new.reason \
                and cond.message == new.message:
            return conditions
    return set_condition(conditions, evolve(new, last_transition_time=now))


def merged_conditions(fresh: tuple[Condition, ...], generated: tuple[Condition, ...],
                      evicted: bool) -> tuple[Condition, ...]:
    """`status_manager.go` mergePodStatus: the conditions the kubelet writes onto the pod it just
    GOT from the API server (`fresh`) — its own (`KUBELET_CONDITIONS`, and DisruptionTarget on a pod
    it evicted) as it generated them, every other one as the API server has it now: one set
    meanwhile is kept, one removed meanwhile stays removed. In the order of `generated`, those only
    `fresh` has after them, so a merge onto the copy the status was generated from changes nothing."""
    own = (*KUBELET_CONDITIONS, "DisruptionTarget") if evicted else KUBELET_CONDITIONS
    out = []
    for cond in generated:
        if cond.type in own:
            out.append(cond)
        elif (kept := find_condition(fresh, cond.type)) is not None:
            out.append(kept)
    out.extend(c for c in fresh if c.type not in own and find_condition(generated, c.type) is None)
    return tuple(out)


REJECTED_PREFIX = "Pod was rejected: "
"""`pkg/kubelet/kubelet.go` rejectPod: the message of a pod refused at admission."""


def rejected_status(pod: Pod, runtime: PodRuntime) -> PodStatus:
    """`rejectPod` → status manager: Phase Failed with the admission reason and message; the
    kubelet-owned conditions of the old status are dropped (`mergePodStatus` keeps only the
    others), no container statuses, no IP; startTime is set (`updateStatusInternal`)."""
    assert runtime.rejected is not None
    reason, message = runtime.rejected
    conditions = tuple(c for c in pod.status.conditions if c.type not in KUBELET_CONDITIONS)
    return evolve(pod.status, phase="Failed", reason=reason, message=REJECTED_PREFIX + message,
                  conditions=conditions, container_statuses=(), pod_ip="",
                  start_time=pod.status.start_time if pod.status.start_time is not None else runtime.admitted_at)


_TERMINAL = ("Succeeded", "Failed")


def pod_status(pod: Pod, runtime: PodRuntime, now: int) -> PodStatus:
    """The status the kubelet would report for `pod` (the API's copy) given its runtime.

    `status_manager.go` mergePodStatus delays a transition to a terminal phase while the pod could
    have running containers (the pod worker has not finished terminating it): the phase, reason and
    message stay the API's until the containers stopped, while the conditions, generated with the
    kubelet's terminal phase, already say PodFailed / PodCompleted. Only a pod Failed for its active
    deadline reaches a terminal phase with containers still running in the model.

    A terminal phase of the pod as the kubelet's cache has it is kept, with its reason and message,
    whatever the containers do (`kubelet_pods.go` generateAPIPodStatus: the three-way merge —
    "API phase was terminal, updating phase to match" — and "pods are not allowed to transition
    out of terminal phases ... Force back to phase from the API server"); the conditions are
    generated with it, as upstream generates them with the merged phase."""
    if runtime.rejected is not None:
        return rejected_status(pod, runtime)
    kept = pod.status.phase in _TERMINAL
    phase = pod.status.phase if kept else get_phase(runtime)
    written = phase
    if phase in _TERMINAL and runtime.any_running and not kept:
        written = pod.status.phase
    images = {c.name: c.image for c in (*pod.spec.init_containers, *pod.spec.containers)}
    statuses = tuple(container_status(runtime, c, images.get(c.name, "")) for c in runtime.containers)
    inits = tuple(_init_status(runtime, c, images.get(c.name, "")) for c in runtime.init_containers) \
        or pod.status.init_container_statuses
    reason, message = pod.status.reason, pod.status.message  # a kept phase keeps them too
    if not kept and written == phase and runtime.evicted:  # a delayed terminal phase keeps the reason and message
        reason, message = "Evicted", eviction_message(runtime)
    elif not kept and written == phase and runtime.deadline_exceeded:
        reason, message = DEADLINE_REASON, DEADLINE_MESSAGE
    return evolve(
        pod.status, phase=written, conditions=pod_conditions(pod.status.conditions, runtime, phase, now,
                                                             pod.spec.readiness_gates),
        reason=reason, message=message, pod_ip=runtime.pod_ip, start_time=runtime.admitted_at,
        container_statuses=statuses, init_container_statuses=inits,
    )


def transition_refused(pod: Pod, status: PodStatus) -> bool:
    """Whether the status manager drops `status` ("Status update on pod aborted"): a container the
    pod's status shows terminated is in it non-terminated and may not restart
    (`status_manager.go` updateStatusInternal → checkContainerStateTransition, against its last
    status or, without one, the pod's status from the kubelet's cache: in the model, the cache's;
    `kubeprop.model.api.container_transitions`). The API server refuses the same write against the
    stored status, so a cache behind the store is caught there."""
    return next(illegal_transitions(status, pod.status, pod.spec), None) is not None


def stops_terminal(pod: Pod, runtime: PodRuntime) -> bool:
    """Whether the pod worker stops a pod it runs because its cached phase is terminal
    (`kubelet.go` SyncPod: a terminal phase from generateAPIPodStatus ends the sync as terminal,
    and the pod worker kills the containers, `pod_workers.go` SyncTerminatingPod): containers
    running, no kill requested yet."""
    return pod.status.phase in _TERMINAL and runtime.any_running and not runtime.terminating


NODE_CONDITIONS = KUBELET_NODE_CONDITIONS
"""`nodestatus/setters.go`: what a healthy kubelet posts with no pressure; the nodes a scenario
declares are registered with them (`kubeprop.model.scenario.bootstrap`)."""

PRESSURE_TRUE = {
    "MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure"),
    "PIDPressure": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
}
"""`setters.go` MemoryPressureCondition, DiskPressureCondition, PIDPressureCondition: reason and
message while the eviction manager reports the condition (`kubeprop.model.kubelet.pressure`)."""


def node_status(old: NodeStatus, now: int, pressures: tuple[str, ...] = ()) -> NodeStatus:
    """The node status a healthy kubelet posts: its conditions with a fresh heartbeat, the
    transition time moved only for a condition whose status changed; each pressure condition True
    while the eviction manager reports it (`pressures`)."""
    conditions = old.conditions
    for type_, status, reason, message in NODE_CONDITIONS:
        if type_ in pressures:
            status, (reason, message) = "True", PRESSURE_TRUE[type_]
        cond = Condition(type=type_, status=status, reason=reason, message=message,
                         last_heartbeat_time=now, last_transition_time=now)
        conditions = set_condition(conditions, cond)
    return evolve(old, conditions=conditions)


def node_status_stale(status: NodeStatus, pressures: tuple[str, ...]) -> bool:
    """Whether the kubelet has a node status to post (`kubelet_node_status.go` tryUpdateNodeStatus
    posts when it changed): Ready is not True (e.g. Unknown after a partition), or a pressure
    condition is not what the eviction manager says: not True under pressure, still True after it."""
    ready = find_condition(status.conditions, "Ready")
    if ready is None or ready.status != "True":
        return True
    for type_ in PRESSURE_TRUE:
        cond = find_condition(status.conditions, type_)
        held = cond is not None and cond.status == "True"
        if held != (type_ in pressures):
            return True
    return False
