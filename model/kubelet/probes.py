"""The prober's clock: when a liveness or startup probe can first report Failure — so that the
kubelet kills the container — and when a startup probe can first succeed.

Upstream (v1.33): each probe of a container has a worker (`pkg/kubelet/prober/worker.go`) that calls
doProbe once when it starts and then every `periodSeconds`. doProbe does not probe a container that
has run for less than `initialDelaySeconds` (counted from its `State.Running.StartedAt`), nor run a
liveness or readiness probe until the container is `started` (its startup probe succeeded), nor the
startup probe once it is. It counts equal outcomes in a row (`resultRun`) and publishes a Failure only
once `failureThreshold` probes in a row failed (a Success once `successThreshold` did; that must be 1
for liveness and startup probes: `pkg/apis/core/validation`). The kubelet's sync then kills a container
whose liveness or startup result is Failure (`pkg/kubelet/kuberuntime/kuberuntime_manager.go`
computePodActions: "failed liveness probe", "failed startup probe"); it restarts per its restart
policy with back-off. The fields' defaults are `pkg/apis/core/v1/defaults.go` SetDefaults_Probe:
`periodSeconds` 10, `failureThreshold` 3, `initialDelaySeconds` 0 (`kubeprop.model.api.defaults`).

So a container started at `s` can be killed:
- for its startup probe no sooner than `f + (failureThreshold - 1) x periodSeconds`, with `f = s +
  initialDelaySeconds` the first probe (the worker's ticks can have any phase, so it can come at once);
- for its liveness probe likewise, its first probe `f = max(s + initialDelaySeconds, p)`, where `p` is
  when the startup probe passed (`p = s` without one);
and its startup probe can succeed no sooner than `s + initialDelaySeconds`. A kubelet that restarts
(`RestartComponent` of `kubelet/<node>`) makes new workers whose counts start at zero, their first
probe after a random part of a period (`worker.go` run; `prober_manager.go` AddPod for each pod the
new kubelet syncs): `f` is then at least the restart's time. The container's `probes_from` records
that later `f` (a startup success or a kubelet restart), only where it moves the threshold later, so
that states that cannot differ stay one (`recount`).

In the model these are timers (`probe_timers`, part of the kubelet's `next_timer`, so `Tick` runs up
to them), and the `ProbeResult` that kills, or the startup success, is enabled from the time on: a
choice of the environment then and at any later time (the application may keep failing, or start
failing later; a run of failures can end at any of the worker's ticks). One timer at the threshold
gives the same behaviours as a step per probe period: a failure below the threshold changes nothing
the cluster or a property can see (the result is not published; `resultRun` is the worker's memory
alone), and a success in between only restarts the count, which the choice of a later kill time
covers. A step per period would add the count (0 … failureThreshold - 1) to every probed container's
state, and a state per period to every run; the timer adds one clock value per container start, and
the time the count restarted only where it can still matter (`probes_from`).

Left out: upstream keeps `resultRun` across a container's restart unless the last result killed it
(doProbe resets it only after publishing a Failure), so a container that crashed after some failed
probes can be killed after fewer failures once it is back; the model counts afresh from each start
(it never kills sooner than upstream can). Readiness results keep their old rule (any time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from kubeprop.model.api.pod import Probe
from kubeprop.model.evolve import evolve

if TYPE_CHECKING:
    from kubeprop.model.kubelet.runtime import ContainerRuntime, KubeletState, PodRuntime

__all__ = ["DEFAULT_TIMING", "ProbeTiming", "liveness_failure_at", "probe_timers", "probe_timing", "recount",
           "restart_prober", "startup_failure_at", "startup_success_at"]

DEFAULT_PERIOD_SECONDS = 10
DEFAULT_FAILURE_THRESHOLD = 3
"""`pkg/apis/core/v1/defaults.go` SetDefaults_Probe."""


@attrs.frozen(cache_hash=True)
class ProbeTiming:
    """A probe's timing fields as admitted (the defaults: `SetDefaults_Probe`)."""

    initial_delay: int = 0
    period: int = DEFAULT_PERIOD_SECONDS
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD

    @property
    def failing_span(self) -> int:
        """Seconds from the first probe of a run of failures to the one that reaches the threshold."""
        return (self.failure_threshold - 1) * self.period


DEFAULT_TIMING = ProbeTiming()


def probe_timing(probe: Probe | None) -> ProbeTiming:
    """The timing of a container's probe (the defaults without one: it is then never read)."""
    if probe is None:
        return DEFAULT_TIMING
    return ProbeTiming(initial_delay=probe.initial_delay_seconds or 0,
                       period=probe.period_seconds or DEFAULT_PERIOD_SECONDS,
                       failure_threshold=probe.failure_threshold or DEFAULT_FAILURE_THRESHOLD)


def startup_success_at(c: ContainerRuntime) -> int:
    """The earliest time the startup probe of the running container can succeed."""
    return c.started_at + c.startup_timing.initial_delay


def _first_probe(c: ContainerRuntime, timing: ProbeTiming) -> int:
    """When the current probe's run of failures can begin: after the initial delay, and not before
    the count last restarted (`probes_from`)."""
    first = c.started_at + timing.initial_delay
    return first if c.probes_from is None else max(first, c.probes_from)


def startup_failure_at(c: ContainerRuntime) -> int:
    """The earliest time the startup probe can report Failure (and the container be killed)."""
    return _first_probe(c, c.startup_timing) + c.startup_timing.failing_span


def liveness_failure_at(c: ContainerRuntime) -> int:
    """The earliest time the liveness probe of the started container can report Failure."""
    return _first_probe(c, c.liveness_timing) + c.liveness_timing.failing_span


def recount(c: ContainerRuntime, now: int) -> ContainerRuntime:
    """The running container once its current probe — the startup probe while pending, else the
    liveness probe — counts afresh from `now` (its startup probe passed, or the kubelet restarted):
    `probes_from` is `now` where that is later than the run's first probe could be, and unchanged
    where it is not (no such probe, or a `now` within the initial delay)."""
    if not c.running or not (c.startup_pending or c.has_liveness):
        return c
    timing = c.startup_timing if c.startup_pending else c.liveness_timing
    return evolve(c, probes_from=now) if now > _first_probe(c, timing) else c


def restart_prober(k: KubeletState, now: int) -> KubeletState:
    """A kubelet process that (re)starts at `now`: every running container's probes count afresh."""
    pods = {key: _recount_pod(pod, now) for key, pod in k.pods.sorted_items()}
    changed = {key: pod for key, pod in pods.items() if pod is not k.pods[key]}
    for key, pod in changed.items():
        k = k.with_pod(key, pod)
    return k


def _recount_pod(pod: PodRuntime, now: int) -> PodRuntime:
    if pod.terminating:
        return pod
    for c in (*pod.init_containers, *pod.containers):
        fresh = recount(c, now)
        if fresh is not c:
            pod = pod.with_container(fresh)
    return pod


def probe_timers(c: ContainerRuntime) -> tuple[int, ...]:
    """The probe times of a running container of a pod not terminating (`next_timer` keeps those
    in the future)."""
    if c.startup_pending:
        return startup_success_at(c), startup_failure_at(c)
    if c.started and c.has_liveness:
        return (liveness_failure_at(c),)
    return ()
