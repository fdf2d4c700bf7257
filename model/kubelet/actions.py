"""The kubelet's actions: what a node's agent can do next, one class each (upstream sources in
each docstring). `kubeprop.model.kubelet.component` decides when each is enabled and
`kubeprop.model.kubelet.handlers` applies it; `ActiveDeadlineExceeded` lives with its timer in
`kubeprop.model.kubelet.deadline`."""

from __future__ import annotations

import attrs

from kubeprop.model.state.actions import Action

MAX_EXIT_CODE = 255
"""A process's exit status is one byte (the runtime reports it as `terminated.exitCode` 0–255)."""

__all__ = [
    "MAX_EXIT_CODE", "CleanupOrphan", "ContainerExit", "DiskPressure", "DiskPressureReclaimed", "FinishTermination",
    "KillPod", "MemoryPressure", "MountVolumes", "PIDPressure",
    "PreStopOverrun", "ProbeResult", "RestartContainer", "SigKillPod", "StartPod", "StopGracefully", "SyncPodStatus",
    "UpdateNodeStatus",
]


@attrs.frozen(order=True)
class StartPod(Action):
    """The kubelet admits a pod bound to its node and starts its containers, or its first
    regular init container (`pkg/kubelet/kubelet.go` HandlePodAdditions → canAdmitPod → SyncPod). Image pulls and
    sandbox set-up are one step. Admission (`pkg/kubelet/lifecycle/predicate.go` Admit;
    `kubeprop.model.kubelet.admission`) rejects a pod whose OS is not the node's (PodOSNotSupported),
    that does not fit next to the pods the kubelet runs (OutOfcpu, …, node affinity, node name, host
    ports) or that does not tolerate one of its node's NoExecute taints (TaintToleration): the pod is
    not started and the status manager reports it Failed with "Pod was rejected: <message>" (`rejectPod`)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class MountVolumes(Action):
    """The volumes of an admitted pod that did not mount — a `configMap`, `secret` or `projected`
    volume whose object or key was missing (FailedMount) — mount on the volume manager's retry, and the
    pod worker starts what `StartPod` would have (`pkg/kubelet/volumemanager/volume_manager.go`
    WaitForAttachAndMount; `kubeprop.model.kubelet.volumes`): enabled once the kubelet's caches resolve
    them, from the first retry's back-off after the admission."""

    node: str
    pod: str


@attrs.frozen(order=True)
class ProbeResult(Action):
    """A probe outcome that changes something (`pkg/kubelet/prober/worker.go`): a readiness
    success turns the container Ready (from its first probe on), a readiness failure — standing for
    failureThreshold consecutive failures — NotReady; a liveness failure stands for failureThreshold consecutive
    failures and kills the container with its grace period (preStop, SIGTERM, then `ContainerExit` or
    `SigKillPod`: `kubeprop.model.kubelet.kill`), which then restarts unless the restartPolicy is Never. A `startup`
    probe, run while the container has not started (its readiness and liveness probes wait), marks
    it started on success — ready then unless it has a readiness probe; a sidecar's also lets the
    next init container start — and, standing for failureThreshold consecutive failures, kills it
    on failure (`kuberuntime_manager.go` computePodActions, `computeInitContainerActions`). The
    failures, and a startup success, are enabled no sooner than the prober can report them: from
    the container's start, initialDelaySeconds and failureThreshold - 1 periods
    (`kubeprop.model.kubelet.probes`)."""

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


def _exit_code(action: object, attribute: attrs.Attribute[int], value: object) -> None:
    """A process's exit status is one byte: `terminated.exitCode` 0–255 (not a bool, which `success` was)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EXIT_CODE:
        raise ValueError(f"{type(action).__name__}.{attribute.name} must be an int from 0 to {MAX_EXIT_CODE}, "
                         f"got {value!r}")


@attrs.frozen(order=True)
class ContainerExit(Action):
    """A container of a restartPolicy Never/OnFailure pod, or an init container of any pod, ends
    by itself with `exit_code`: 0 (reason Completed), or a non-zero code (reason Error) — one per class
    of codes the scenario tells apart (`kubeprop.model.kubelet.exit_codes`), or the codes of its
    `environment.exits` rule (`kubeprop.model.kubelet.exit_rules`). For the containers of Always pods an
    exit is a crash fault (`crash_container`). A container being killed for a failed probe exits on
    SIGTERM before its deadline: 143 (the signal ended it) or what it exits with having handled the
    signal — 0 or a code of its classes, or of its rule (`exit_rules.sigterm_choices`,
    `kubeprop.model.kubelet.kill`).

    Files of kubeprop before 0.2.0 wrote the field `success` (true: exit 0; false: the one non-zero
    exit the model had, 1 or the kill's 143); `kubeprop.counterexamples.format_forms` reads them."""

    node: str
    pod: str
    container: str
    exit_code: int = attrs.field(validator=_exit_code)

    @property
    def success(self) -> bool:
        """Whether the process exited 0 (reason Completed): the fair runs take only these, a failing
        exit being bad luck as a failing probe is (`kubeprop.model.cluster.drive`)."""
        return self.exit_code == 0


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
class PreStopOverrun(Action):
    """The environment's choice for a terminating pod with a `lifecycle.preStop` hook, made when
    its SIGKILL deadline comes (beside `SigKillPod`): the hook ran the whole grace period
    (`kuberuntime_container.go` executePreStopHook timed out), so SIGTERM came only then and SIGKILL
    comes 2 s later (killContainer's minimum grace). Not taken, the hooks ended in time and
    `SigKillPod` follows at the grace period. Either way the containers may exit before the deadline
    (`StopGracefully`: the hook ended and the process exited on SIGTERM). Choosing at the
    deadline, not before, gives the same behaviours with fewer states: until then nothing tells the
    two apart. The same choice for a container with a preStop hook killed for a failed probe, at the
    deadline of its kill (`kubeprop.model.kubelet.kill`)."""

    node: str
    pod: str


@attrs.frozen(order=True)
class StopGracefully(Action):
    """The terminating pod's containers exit on SIGTERM before the deadline, with `exit_code`: all at
    once, or, for a pod with running sidecars, in upstream's order, one step each — the regular
    containers, then each sidecar, the last declared first, once those after it exited
    (`kuberuntime_termination_order.go`; `runtime.PodRuntime.stop_in_turn`). The code is the
    process's (`kuberuntime_container.go` killContainer only sends the signal): 143 if SIGTERM ended
    it, else what it exits with having handled it — 0 (reason Completed), or a failing code of the
    classes its pod failure policies tell apart, or of its `environment.exits` rule
    (`exit_rules.stop_choices`). The containers stopping in one turn exit with the same code.

    Files of kubeprop before 0.2.0 wrote no `exit_code` (the stop was always an exit 0);
    `kubeprop.counterexamples.format_forms` reads them."""

    node: str
    pod: str
    exit_code: int = attrs.field(validator=_exit_code)

    @property
    def success(self) -> bool:
        """Whether the containers exited 0: the fair runs take only these, as for `ContainerExit`
        (`kubeprop.model.cluster.drive`); a failing exit on SIGTERM is the application's bad luck."""
        return self.exit_code == 0


@attrs.frozen(order=True)
class SigKillPod(Action):
    """The grace period is over: the remaining containers are SIGKILLed (exit 137) — the pod's, or
    those of its containers killed for a failed probe whose own deadline came (`kubeprop.model.kubelet.kill`)."""

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


@attrs.frozen(order=True)
class DiskPressure(Action):
    """Disk runs short on the node, garbage collection does not relieve it, and the eviction
    manager evicts `pod`, the top-ranked one for `resource` (`ephemeral-storage` for the
    `*.available` signals, `inodes` for `*.inodesFree`: `helpers.go` signalToResource,
    rankDiskPressureFunc). `over_request` is the environment's choice of whether `pod`'s usage
    exceeds its request (`kubeprop.model.kubelet.eviction`)."""

    LANE = "faults"  # bad luck of the environment, as `MemoryPressure` (counterexamples/steps.py)

    node: str
    pod: str
    resource: str
    over_request: bool


@attrs.frozen(order=True)
class DiskPressureReclaimed(Action):
    """Disk runs short on the node and the kubelet's node-level reclaim — deleting dead containers
    and unused images (`eviction_manager.go` reclaimNodeLevelResources) — meets the threshold
    again: no pod is evicted, the node still reports DiskPressure for the transition period."""

    LANE = "faults"  # bad luck of the environment, as `MemoryPressure` (counterexamples/steps.py)

    node: str


@attrs.frozen(order=True)
class PIDPressure(Action):
    """PIDs run short on the node (a `pid.available` threshold met) and the eviction manager evicts
    `pod`, the top-ranked one (`helpers.go` rankPIDPressure)."""

    LANE = "faults"  # bad luck of the environment, as `MemoryPressure` (counterexamples/steps.py)

    node: str
    pod: str
