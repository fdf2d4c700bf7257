"""One container of a pod the kubelet runs (`ContainerRuntime`) and its restart back-off; the pod
holding it, and the node's kubelet, are `kubeprop.model.kubelet.runtime` (which re-exports every
name here, their home before the split).

Upstream sources of the rules below:
- container restart back-off: `pkg/kubelet/kuberuntime/kuberuntime_manager.go` doBackOff and
  `staging/src/k8s.io/client-go/util/flowcontrol/backoff.go` (initial 10 s, doubling, capped at
  `crashLoopBackOffMaxSeconds` (upstream MaxContainerBackOff, 300 s)). An entry expires 600 s after
  its last update (`BACKOFF_EXPIRY_SECONDS`), whether that is seen at the exit time (`Next` and
  `IsInBackOffSince` check `hasExpired(FinishedAt, lastUpdate)`) or by the clock: the kubelet's
  housekeeping (`pkg/kubelet/kubelet_pods.go` HandlePodCleanups, every 2 s) ends with
  `backOff.GC()`, which deletes every entry not updated for that long (`backoff_gone`). The first
  restart of a container has no back-off entry yet, so it is immediate; so is the first after the
  kubelet process restarted, whose back-off (`klet.backOff`, made in NewMainKubelet) is in memory
  only (`component.forget_backoffs`), while the restart count, the runtime's, goes on.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from kubeprop.model.api.pod import Container
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.probes import DEFAULT_TIMING, ProbeTiming, probe_timing

BACKOFF_INITIAL_SECONDS = 10
"""`pkg/kubelet/kubelet.go` containerBackOffPeriod (backOffPeriod before v1.32)."""

BACKOFF_EXPIRY_SECONDS = 600
"""How long a back-off entry lives after its last update. `pkg/kubelet/kubelet.go` NewMainKubelet
sets `klet.backOff.HasExpiredFunc` to `eventTime.Sub(lastUpdate) > 600*time.Second` (v1.32+, with the
KubeletCrashLoopBackOffMax gate), whatever the cap; before v1.32 client-go's default `hasExpired`,
`> 2 * maxDuration` with the fixed 300 s MaxContainerBackOff, was the same 600 s."""

_LATER = {"fingerprint": "omit-if-default"}
"""Metadata of a field added after states were recorded: left out of a fingerprint while it holds
its default, so recorded traces and pinned state counts stay valid."""


@attrs.frozen(cache_hash=True)
class ContainerRuntime:
    """One container of a running pod.

    `exit_code`/`exit_reason`/`exited_at` describe the last exit (None while it never exited);
    `backoff`/`backoff_updated` are the kubelet's back-off entry for it (0 = no entry).
    """

    name: str
    has_readiness: bool = False
    has_liveness: bool = False
    running: bool = False
    ready: bool = False
    restart_count: int = 0
    started_at: int = 0
    exit_code: int | None = None
    exit_reason: str = ""
    exited_at: int | None = None
    backoff: int = 0
    backoff_updated: int = 0
    restartable: bool = attrs.field(default=False, metadata=_LATER)
    """A sidecar: an init container with `restartPolicy: Always`."""
    has_startup: bool = attrs.field(default=False, metadata=_LATER)
    """The container (regular, or a sidecar) has a startupProbe."""
    startup_pending: bool = attrs.field(default=False, metadata=_LATER)
    """Running, its startupProbe not yet succeeded: not `started`, not ready, no readiness or liveness
    probe run yet (`pkg/kubelet/prober/worker.go` doProbe; `prober_manager.go` UpdatePodStatus), and,
    for a sidecar, the next init container waits."""
    liveness_timing: ProbeTiming = attrs.field(default=DEFAULT_TIMING, metadata=_LATER)
    """The livenessProbe's initial delay, period and failure threshold (`kubeprop.model.kubelet.probes`)."""
    startup_timing: ProbeTiming = attrs.field(default=DEFAULT_TIMING, metadata=_LATER)
    """The startupProbe's initial delay, period and failure threshold."""
    config_error: str = attrs.field(default="", metadata=_LATER)
    """Not running: its last start failed to resolve its ConfigMaps or Secrets, the message of that
    `CreateContainerConfigError` (`kubeprop.model.kubelet.config`); "" otherwise."""
    config_failed_at: int = attrs.field(default=0, metadata=_LATER)
    """When that start failed (the pod worker syncs again `config.RETRY_SECONDS` later)."""
    probes_from: int | None = attrs.field(default=None, metadata=_LATER)
    """When the prober began counting the running container's current probe afresh — its startupProbe
    passed, or the kubelet restarted —, where that puts off the probe's first failure (`probes.recount`);
    None otherwise."""
    readiness_timing: ProbeTiming = attrs.field(default=DEFAULT_TIMING, metadata=_LATER)
    """The readinessProbe's initial delay, period and failure threshold (`kubeprop.model.kubelet.probes`)."""
    readiness_from: int | None = attrs.field(default=None, metadata=_LATER)
    """When the running container's readiness probe last turned it Ready: its failures count from
    then (`probes.readiness_turns_at`); None while not Ready, or where it is its first probe's time."""
    liveness_carried: int = attrs.field(default=0, metadata=_LATER)
    """The most failed liveness probes in a row the container's worker can carry into its next run
    (`probes.carried_failures`: upstream keeps `resultRun` across a restart)."""
    startup_carried: int = attrs.field(default=0, metadata=_LATER)
    """Likewise for its startup probe."""
    logged: bool = attrs.field(default=False, metadata=_LATER)
    """Not started since the node rebooted, and a log file of an earlier container of it is left in
    /var/log/pods (`restart_count` is that container's): its next start counts as a restart
    (`kuberuntime_container.go` startContainer → calcRestartCountByLogDir; `kubeprop.model.kubelet.logs`)."""
    kill_deadline: int | None = attrs.field(default=None, metadata=_LATER)
    """Running, and being killed for a failed liveness or startup probe: its preStop hook ran and it got
    SIGTERM; SIGKILL at this time (`kuberuntime_container.go` killContainer; `kill.py`). None otherwise."""
    hook_grace: int | None = attrs.field(default=None, metadata=_LATER)
    """Being killed so, with a preStop hook and a positive grace period: the grace period the hook may
    use up (`PreStopOverrun`), as `PodRuntime.hook_grace`; None once chosen, or without a hook."""
    probe_killed: bool = attrs.field(default=False, metadata=_LATER)
    """Its last exit ended a kill for a failed probe: `computePodActions` put it in ContainersToStart
    with the kill, so it restarts unless the restartPolicy is Never, whatever its exit code."""

    def start(self, now: int) -> ContainerRuntime:
        """The container (re)starts: ready at once unless it has a readiness or startup probe. The
        first start after a node reboot counts on from the log left by the last one (`logged`)."""
        return evolve(self, running=True, ready=not self.has_readiness and not self.has_startup, started_at=now,
                      startup_pending=self.has_startup, probes_from=None, config_error="", config_failed_at=0,
                      readiness_from=None, restart_count=self.restart_count + 1 if self.logged else self.restart_count,
                      logged=False, probe_killed=False)

    def try_start(self, now: int, errors: Mapping[str, str]) -> ContainerRuntime:
        """`start`, unless its configuration does not resolve (`errors`, by container name): then it
        stays as it is, not created, Waiting with CreateContainerConfigError."""
        error = errors.get(self.name)
        return self.start(now) if error is None else evolve(self, config_error=error, config_failed_at=now)

    def exit(self, now: int, code: int, reason: str) -> ContainerRuntime:
        """The container's process ends with `code`."""
        return evolve(self, running=False, ready=False, exit_code=code, exit_reason=reason, exited_at=now,
                      startup_pending=False, probes_from=None, readiness_from=None, kill_deadline=None,
                      hook_grace=None)

    @property
    def started(self) -> bool:
        """`ContainerStatus.started`: running, and past its startupProbe."""
        return self.running and not self.startup_pending


def container_runtime(c: Container, restartable: bool = False) -> ContainerRuntime:
    """An admitted pod's container (or sidecar, `restartable`) with its probes: the kubelet's prober
    manager makes a worker for each probe it has (`pkg/kubelet/prober/prober_manager.go` AddPod)."""
    return ContainerRuntime(c.name, has_readiness=c.readiness_probe is not None,
                            has_liveness=c.liveness_probe is not None, restartable=restartable,
                            has_startup=c.startup_probe is not None, liveness_timing=probe_timing(c.liveness_probe),
                            startup_timing=probe_timing(c.startup_probe),
                            readiness_timing=probe_timing(c.readiness_probe))


def init_runtime(c: Container) -> ContainerRuntime:
    """An admitted pod's init container: a regular one (no probes: validation refuses them), or a
    sidecar (`restartPolicy: Always`) with its probes."""
    if c.restart_policy != "Always":
        return ContainerRuntime(c.name)
    return container_runtime(c, restartable=True)


def has_pre_stop(c: Container) -> bool:
    """The container has a `lifecycle.preStop` hook (kept as data: any handler)."""
    return isinstance(c.lifecycle, Mapping) and c.lifecycle.get("preStop") is not None


def backoff_gone(c: ContainerRuntime, now: int) -> bool:
    """The kubelet has no live back-off entry for the container at `now`: it never had one (`backoff`
    0), or housekeeping's `backOff.GC()` deleted it once `now - lastUpdate > BACKOFF_EXPIRY_SECONDS`
    (`backoff.go` GC, called from `kubelet_pods.go` HandlePodCleanups every 2 s: the model takes the
    collection at the first whole second past the expiry, within its tick). This also covers
    `hasExpired(FinishedAt, lastUpdate)`, which `Next` and `IsInBackOffSince` check (the container
    ran longer than the expiry since its last restart), as `now` is never before the exit."""
    return c.backoff == 0 or now - c.backoff_updated > BACKOFF_EXPIRY_SECONDS


def restart_at(c: ContainerRuntime) -> int:
    """When an exited container may restart. `doBackOff` holds it back while `IsInBackOffSince`: an
    entry exists, it had not expired at the exit time, and `now - finishedAt < backoff`. So with an
    entry the restart is due at the end of the back-off or once housekeeping collected the entry
    (`backoff_gone`), whichever comes first, and never before the exit; without one, at once."""
    assert c.exited_at is not None
    if c.backoff == 0:
        return c.exited_at
    return max(c.exited_at, min(c.exited_at + c.backoff, c.backoff_updated + BACKOFF_EXPIRY_SECONDS + 1))


def restarted(c: ContainerRuntime, now: int, max_backoff: int) -> ContainerRuntime:
    """The container restarts after its back-off: `backoff.Next` doubles the entry (capped at
    `max_backoff`), or makes a fresh one where there is none left (`backoff_gone`): 10 s, or the cap
    if that is less (`kubelet.go` NewMainKubelet: `if boMax < containerBackOffPeriod { base = boMax }`)."""
    backoff = min(BACKOFF_INITIAL_SECONDS if backoff_gone(c, now) else 2 * c.backoff, max_backoff)
    c = evolve(c, restart_count=c.restart_count + 1, backoff=backoff, backoff_updated=now)
    return c.start(now)
