"""What really runs on each node: the kubelet's pods and containers, apart from what the API says.

A node's `KubeletState` is the container runtime plus the kubelet's in-memory pod workers: a pod
keeps running here while the API already shows it terminating (a partitioned node), and a pod can
be gone from the API (force-deleted) while its containers still run. The lead keeps one value per
node in `ClusterState.kubelets`; `kubeprop.model.kubelet.component` enables the actions that change it
(`kubeprop.model.kubelet.handlers` applies them).

Upstream sources of the rules below:
- container restart back-off: `kubeprop.model.kubelet.containers`, with `ContainerRuntime`;
- readiness at container start: `pkg/kubelet/prober/prober_manager.go` UpdatePodStatus (a
  container with a readinessProbe starts not ready, one without is ready as soon as it runs);
- startup probes, of containers and sidecars alike: `prober_manager.go` isContainerStarted /
  UpdatePodStatus (a running container with a startup worker and no Success result is not
  `started`, nor ready), `pkg/kubelet/prober/worker.go` doProbe (readiness and liveness probes
  wait until the container started; a restarted container's startup result is reset: a new
  container ID gets the initial Unknown), and `kuberuntime_manager.go` computePodActions (a startup
  failure — failureThreshold consecutive failed probes — kills the container, restarted unless the
  restartPolicy is Never, with back-off); when a probe can first fail or succeed:
  `kubeprop.model.kubelet.probes`;
- exit codes: a SIGKILLed container exits 137 (128 + 9), reason `Error`;
- sidecars (init containers with `restartPolicy: Always`, `pkg/api/v1/pod/util.go`
  IsRestartableInitContainer): `kuberuntime_container.go` computeInitContainerActions starts one,
  and the next init container once it runs and its startupProbe (if any) succeeded; an exited
  sidecar restarts whatever the pod's restartPolicy (with back-off), until the pod is finished:
  `kuberuntime_manager.go` computePodActions kills the pod — sidecars included, none restarted —
  once no regular container runs or is to restart and the last init container is started, and
  `computeInitContainerActions` once a regular init container failed under restartPolicy Never;
  while no regular container runs, the last sidecar not started holds back the regular
  containers' restart (`kubeprop.model.kubelet.init_sync`);
- termination order of a pod with sidecars: `kuberuntime_termination_order.go` newTerminationOrdering /
  waitForTurn and `kuberuntime_container.go` killContainer (`PodRuntime.stop_in_turn`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.kubelet.containers import _LATER
from kubeprop.model.kubelet.containers import BACKOFF_EXPIRY_SECONDS as BACKOFF_EXPIRY_SECONDS
from kubeprop.model.kubelet.containers import BACKOFF_INITIAL_SECONDS as BACKOFF_INITIAL_SECONDS
from kubeprop.model.kubelet.containers import ContainerRuntime as ContainerRuntime
from kubeprop.model.kubelet.containers import backoff_gone as backoff_gone
from kubeprop.model.kubelet.containers import container_runtime as container_runtime
from kubeprop.model.kubelet.containers import has_pre_stop as has_pre_stop
from kubeprop.model.kubelet.containers import init_runtime as init_runtime
from kubeprop.model.kubelet.containers import restart_at as restart_at
from kubeprop.model.kubelet.containers import restarted as restarted
from kubeprop.model.kubelet.init_sync import containers_done, sidecar_restarts, synced_initialized
from kubeprop.model.kubelet.probes import carried_failures

if TYPE_CHECKING:
    from kubeprop.model.kubelet.logs import PodLogs

SIGKILL_EXIT_CODE = 137
MINIMUM_GRACE_SECONDS = 2
"""`pkg/kubelet/kuberuntime/kuberuntime_container.go` minimumGracePeriodInSeconds."""


@attrs.frozen(cache_hash=True)
class PodRuntime:
    """A pod the kubelet admitted: its uid, containers (in spec order) and local lifecycle.

    - `kill_deadline`: set when the kubelet sent SIGTERM (the pod is terminating locally); the
      containers still running at that time are SIGKILLed;
    - `evicted`: killed by node-pressure eviction (terminal, never restarted); `evicted_resource`
      names the resource reclaimed (`memory`, `ephemeral-storage`, `inodes`, `pids`);
    - `rejected`: refused at admission, (reason, message) as `rejectPod` reports them; no
      container ever started and the pod is Failed;
    - `deadline_exceeded`: past its `activeDeadlineSeconds` and killed (terminal, never restarted);
    - `restart_policy` and `grace_seconds` are kept from the admitted spec so the pod worker can
      act after the pod left the API.
    """

    uid: str
    containers: tuple[ContainerRuntime, ...]
    pod_ip: str
    admitted_at: int
    restart_policy: str = "Always"
    grace_seconds: int = 30
    kill_deadline: int | None = None
    evicted: bool = False
    rejected: tuple[str, str] | None = None
    claims: tuple[str, ...] = ()
    """PersistentVolumeClaims the pod mounts (`namespace/claim`), as admitted."""
    active_deadline_seconds: int | None = attrs.field(default=None, metadata=_LATER)
    """The admitted spec's `activeDeadlineSeconds`: the kubelet's deadline timer
    (`kubeprop.model.kubelet.deadline`)."""
    deadline_exceeded: bool = attrs.field(default=False, metadata=_LATER)
    """Killed by the active deadline handler: terminal (Failed, DeadlineExceeded), never restarted."""
    evicted_resource: str = attrs.field(default="memory", metadata=_LATER)
    """The resource whose pressure evicted it (`helpers.go` nodeLowMessageFmt names it)."""
    init_containers: tuple[ContainerRuntime, ...] = attrs.field(default=(), metadata=_LATER)
    """The init containers, in spec order: the regular ones run one at a time, each once it exited
    0 the next; a sidecar (`restartable`) starts in its turn and keeps running, the next one
    starting once it is `started`; the containers start when the last is done
    (`kuberuntime_container.go` computeInitContainerActions)."""

    pre_stop: bool = attrs.field(default=False, metadata=_LATER)
    """A container of the admitted spec has a `lifecycle.preStop` hook."""
    hook_grace: int | None = attrs.field(default=None, metadata=_LATER)
    """Set with SIGTERM for a pod with a preStop hook and a positive grace period: the grace period
    the hook may use up (`PreStopOverrun`); None once chosen, or without a hook."""
    mount_pending: bool = attrs.field(default=False, metadata=_LATER)
    """Admitted while a `configMap`, `secret` or `projected` volume did not mount (its object, or a key,
    missing: FailedMount): nothing started until `MountVolumes` (`kubeprop.model.kubelet.volumes`)."""
    mount_from: int | None = attrs.field(default=None, metadata=_LATER)
    """When the volume manager's back-off for those volumes began, where that is not the admission: a
    kubelet restart while they were pending (its new volume manager starts afresh); None otherwise."""
    deleted: bool = attrs.field(default=False, metadata=_LATER)
    """The status manager wrote the terminal status and its DELETE (grace 0) was accepted, yet the
    pod is still in the API: finalizers keep it. Upstream the status manager then forgets the pod's
    status (`status_manager.go` syncPod → deletePodStatus) and the pod worker keeps the uid finished,
    ignoring every further update of it (`pod_workers.go` UpdatePod: "Pod is finished processing, no
    further updates") until housekeeping sees the pod gone (`SyncKnownPods` → removeTerminatedWorker):
    the kubelet neither kills, writes nor deletes it again (`CleanupOrphan` forgets it once gone)."""

    @property
    def terminating(self) -> bool:
        """True once SIGTERM was sent."""
        return self.kill_deadline is not None

    @property
    def any_running(self) -> bool:
        """True if a container (or init container) is running."""
        return any(c.running for c in self.containers) or any(c.running for c in self.init_containers)

    @property
    def initialized(self) -> bool:
        """Not Pending for its init containers (`kubelet_pods.go` getPhase): every regular init
        container exited 0, and every sidecar is started or a regular container has run in this
        sandbox (`any_container_started`). The Initialized condition reads the reported states:
        `status._initialized`."""
        if not all(c.exit_code == 0 and not c.running for c in self.init_containers if not c.restartable):
            return False
        return all(c.started for c in self.init_containers if c.restartable) or self.any_container_started

    @property
    def any_container_started(self) -> bool:
        """A regular container has run in this sandbox (`kubecontainer.HasAnyActiveRegularContainerStarted`,
        v1.33's getPhase: any container of the active sandbox, exited ones too)."""
        return any(c.running or c.exited_at is not None for c in self.containers)

    @property
    def sidecars(self) -> tuple[ContainerRuntime, ...]:
        """The restartable init containers, in spec order."""
        return tuple(c for c in self.init_containers if c.restartable)

    def finished(self) -> bool:
        """Nothing is left to run, so the kubelet kills the pod's sidecars and restarts none
        (`computePodActions` KillPod): a regular init container failed under restartPolicy Never,
        or every regular container exited and none is to restart (never under Always) — once the
        last init container is `started` again, if it is a sidecar (`init_sync`)."""
        return self.init_failed() or (containers_done(self) and synced_initialized(self))

    def stop_sidecars(self, now: int) -> PodRuntime:
        """When `finished`, the kubelet kills the pod (`computePodActions` KillPod → SyncPod
        killPodWithSyncResult, no grace period override): the running sidecars get the pod's
        `terminationGracePeriodSeconds` (`setTerminationGracePeriod`), their preStop hooks, SIGTERM in
        turn, the last declared first (`kuberuntime_termination_order.go`), SIGKILL at the deadline —
        the steps of a pod's stop (`sigterm`, then `stop_in_turn`). Their exit codes do not count for the
        phase (`getPhase`), which stays Running until they stopped. A pod already stopping is left to it.
        Left out: a preStop hook of any container of the pod (`pre_stop`) allows `PreStopOverrun`, where
        upstream only the running sidecars' hooks run; a deletion meanwhile does not shorten the grace."""
        if self.terminating or not any(c.running and c.restartable for c in self.init_containers) \
                or not self.finished():
            return self
        return sigterm(self, now, self.grace_seconds)

    def is_init(self, name: str) -> bool:
        """Whether `name` is one of the pod's (regular) init containers."""
        return any(c.name == name for c in self.init_containers)

    def container(self, name: str) -> ContainerRuntime | None:
        """The named container or init container (names are unique across both), or None."""
        for c in (*self.init_containers, *self.containers):
            if c.name == name:
                return c
        return None

    def with_container(self, new: ContainerRuntime) -> PodRuntime:
        """A copy with one container or init container replaced (by name)."""
        if self.is_init(new.name):
            return evolve(self, init_containers=tuple(new if c.name == new.name else c for c in self.init_containers))
        return evolve(self, containers=tuple(new if c.name == new.name else c for c in self.containers))

    def kill_all(self, now: int, code: int, reason: str) -> PodRuntime:
        """Every running container (and init container) exits with `code`."""
        done = evolve(self, containers=tuple(c.exit(now, code, reason) if c.running else c for c in self.containers))
        if any(c.running for c in self.init_containers):
            inits = tuple(c.exit(now, code, reason) if c.running else c for c in self.init_containers)
            done = evolve(done, init_containers=inits)
        return done

    def in_turn(self) -> tuple[ContainerRuntime, ...]:
        """The running containers whose turn it is to exit on SIGTERM (`StopGracefully`). Without a
        running sidecar, every one. With one, upstream orders the stop
        (`kuberuntime_termination_order.go` newTerminationOrdering, waitForTurn): a sidecar waits for
        every regular container and for the sidecar declared after it, nothing else, so the regular
        containers stop first, then the sidecars one at a time, the last declared first; a regular
        init container still running (the pod was initializing) waits on nothing and stops with the
        first turn the sidecars take."""
        sidecars = [i for i, c in enumerate(self.init_containers) if c.running and c.restartable]
        if not sidecars:
            return tuple(c for c in (*self.init_containers, *self.containers) if c.running)
        if any(c.running for c in self.containers):
            return tuple(c for c in self.containers if c.running)
        return tuple(c for i, c in enumerate(self.init_containers)
                     if c.running and (i == sidecars[-1] or not c.restartable))

    def stop_in_turn(self, now: int, code: int) -> PodRuntime:
        """`StopGracefully`: the containers of `in_turn` exit with `code` on SIGTERM (reason Completed
        for 0, else Error). The SIGKILL deadline stays the pod's (`SigKillPod`): upstream's
        killContainer gives a container whose turn comes late at least 2 s more
        (minimumGracePeriodInSeconds), which the model does not."""
        pod, reason = self, "Completed" if code == 0 else "Error"
        for c in self.in_turn():
            pod = pod.with_container(c.exit(now, code, reason))
        return pod

    def should_restart(self, c: ContainerRuntime) -> bool:
        """`pkg/kubelet/container/helpers.go` ShouldContainerBeRestarted: never while terminating
        or evicted; Always restarts, OnFailure only after a non-zero exit, Never never. A failed
        init container restarts unless the policy is Never (`computeInitContainerActions`); a
        sidecar as `init_sync.sidecar_restarts` says. The policy's word: whether the sync reaches a
        regular container now is `init_sync.holds_back` (its status waits to restart meanwhile)."""
        if c.running or c.exited_at is None or self.terminating or self.evicted or self.rejected:
            return False
        if c.restartable:
            return sidecar_restarts(self)
        if c.probe_killed:  # `computePodActions`: killed for a probe and to start again, unless Never
            return self.restart_policy != "Never"
        if self.restart_policy == "Always" and not self.is_init(c.name):
            return True
        return self.restart_policy != "Never" and c.exit_code != 0

    def exits_by_itself(self, c: ContainerRuntime) -> bool:
        """Whether a running container may end on its own (`ContainerExit`): an init container, or
        a container of a restartPolicy Never/OnFailure pod (for Always pods, and sidecars, an exit is a
        crash fault). Not one being killed for a failed probe: its exit on SIGTERM is `kill.py`'s."""
        if not c.running or self.terminating or self.evicted or c.restartable or c.kill_deadline is not None:
            return False
        return self.restart_policy != "Always" or self.is_init(c.name)

    def init_failed(self) -> bool:
        """An init container exited non-zero and will not restart (restartPolicy Never)."""
        return self.restart_policy == "Never" and any(c.exit_code not in (None, 0) for c in self.init_containers
                                                      if not c.restartable)

    def start_next(self, now: int, errors: Mapping[str, str] = EMPTY) -> PodRuntime:
        """After admission, an init container's success or a sidecar's start: start the init
        containers in order up to the first regular one not done or sidecar not started, or —
        every one done — the containers, once (`computeInitContainerActions`). A container whose
        configuration does not resolve (`errors`) is not started (`kubeprop.model.kubelet.config`)."""
        pod = self
        for c in self.init_containers:
            if c.restartable:
                if not c.running and c.exited_at is None:
                    c = c.try_start(now, errors)
                    pod = pod.with_container(c)
                if not c.started:
                    return pod
            elif c.running or c.exit_code != 0:
                return pod if c.running or c.exited_at is not None else pod.with_container(c.try_start(now, errors))
        if pod.any_container_started or any(c.config_error for c in pod.containers):
            return pod
        return evolve(pod, containers=tuple(c.try_start(now, errors) for c in pod.containers))


@attrs.frozen(cache_hash=True)
class KubeletState:
    """A node's actual pods (`"namespace/name"` → PodRuntime).

    `pressure_events`, `disk_pressure_events` and `pid_pressure_events` count the memory-, disk- and
    PID-pressure episodes injected on this node; they are part of the environment's budgets
    (`memoryPressureEvents`, `diskPressureEvents`, `pidPressureEvents`), not kubelet memory, so a
    crash keeps them. `memory_pressure_at`, `disk_pressure_at` and `pid_pressure_at` are when the
    eviction manager last observed a threshold of that condition met (`eviction_manager.go`
    nodeConditionsLastObservedAt; `kubeprop.model.kubelet.pressure`): the node reports the
    condition until the transition period has passed since. They are the eviction manager's
    memory, lost when the node loses power (`crash_node`).
    """

    pods: FrozenMap[str, PodRuntime] = EMPTY
    pressure_events: int = 0
    memory_pressure_at: int | None = attrs.field(default=None, metadata=_LATER)
    disk_pressure_events: int = attrs.field(default=0, metadata=_LATER)
    disk_pressure_at: int | None = attrs.field(default=None, metadata=_LATER)
    pid_pressure_events: int = attrs.field(default=0, metadata=_LATER)
    pid_pressure_at: int | None = attrs.field(default=None, metadata=_LATER)
    logs: FrozenMap[str, PodLogs] = attrs.field(default=EMPTY, metadata=_LATER)
    """The container log directories a node reboot left in /var/log/pods, by pod key (`logs.crash_node`):
    on disk, not kubelet memory. Each is read, and dropped, when the kubelet next admits (or, deleted,
    kills) a pod of that key (`admission.admitted`): the container GC removes the directory of a pod the
    kubelet no longer knows (`kuberuntime_gc.go` evictPodLogsDirectories)."""

    def with_pod(self, key: str, pod: PodRuntime | None) -> KubeletState:
        """A copy with one pod set (or forgotten when None)."""
        pods = self.pods.delete(key) if pod is None else self.pods.set(key, pod)
        return evolve(self, pods=pods)


def initial_kubelet() -> KubeletState:
    """A kubelet that has admitted nothing yet (it admits bound pods through `StartPod`)."""
    return KubeletState()


CRASH_EXIT_CODE = 1


def crash_container(k: KubeletState, pod_key: str, container: str, now: int = 0) -> KubeletState | None:
    """A running container's process crashes (exit 1, reason Error); None if there is no such
    running container. Whether and when it restarts follows the pod's restart policy and back-off."""
    pod = k.pods.get(pod_key)
    c = None if pod is None else pod.container(container)
    if pod is None or c is None or not c.running:
        return None
    return k.with_pod(pod_key, exit_carrying(pod, c, now, CRASH_EXIT_CODE, "Error").stop_sidecars(now))


def exit_carrying(pod: PodRuntime, c: ContainerRuntime, now: int, code: int, reason: str) -> PodRuntime:
    """The pod once its running container `c` ended by itself (a crash, or a batch container's exit):
    if it is to restart, with the probe failures its workers can carry into the next run
    (`probes.carried_failures`; upstream the same workers probe the new container)."""
    exited = c.exit(now, code, reason)
    pod = pod.with_container(exited)
    if not pod.should_restart(exited):
        return pod
    live, start = carried_failures(c, now)
    if (live, start) == (exited.liveness_carried, exited.startup_carried):
        return pod
    return pod.with_container(evolve(exited, liveness_carried=live, startup_carried=start))


def sigterm(runtime: PodRuntime, now: int, grace: int) -> PodRuntime:
    """The pod worker stops the pod with `grace` seconds (`killContainer`): the preStop hooks run,
    then SIGTERM; SIGKILL follows at the deadline, `grace` (at least 2 s) from now — or, the
    environment choosing a hook that runs the whole grace period (`PreStopOverrun`), 2 s later."""
    hook = grace if runtime.pre_stop and grace > 0 else None
    return evolve(runtime, kill_deadline=now + sigkill_grace(grace), hook_grace=hook)


def overrun(runtime: PodRuntime) -> PodRuntime:
    """A preStop hook ran out the grace period: `executePreStopHook` returns after `grace` seconds,
    and the container still gets the minimum 2 s after SIGTERM (`minimumGracePeriodInSeconds`)."""
    assert runtime.kill_deadline is not None and runtime.hook_grace is not None
    return evolve(runtime, kill_deadline=overrun_deadline(runtime.kill_deadline, runtime.hook_grace), hook_grace=None)


def overrun_deadline(deadline: int, hook_grace: int) -> int:
    """The SIGKILL deadline once a preStop hook given `hook_grace` seconds ran them out: the kill began
    `sigkill_grace(hook_grace)` before `deadline`; SIGTERM came `hook_grace` after that, SIGKILL 2 s later."""
    return deadline - sigkill_grace(hook_grace) + hook_grace + MINIMUM_GRACE_SECONDS


def sigkill_grace(grace: int) -> int:
    """Seconds between SIGTERM and SIGKILL: the grace period, at least 2 s (`killContainer`)."""
    return max(MINIMUM_GRACE_SECONDS, grace)
