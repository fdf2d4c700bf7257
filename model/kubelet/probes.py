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

So a container started at `s` (and, with a startup probe, started — past it — at `p`) can be killed:
- for its startup probe no sooner than `s + initialDelaySeconds + (failureThreshold - 1) x periodSeconds`
  (the first probe can come at once after the initial delay, the worker's ticks having any phase);
- for its liveness probe no sooner than `max(p, s + initialDelaySeconds) + (failureThreshold - 1) x
  periodSeconds` (`p = s` without a startup probe);
and its startup probe can succeed no sooner than `s + initialDelaySeconds`.

In the model these are timers (`probe_timers`, part of the kubelet's `next_timer`, so `Tick` runs up
to them), and the `ProbeResult` that kills, or the startup success, is enabled from the time on: a
choice of the environment then and at any later time (the application may keep failing, or start
failing later; a run of failures can end at any of the worker's ticks). One timer at the threshold
gives the same behaviours as a step per probe period: a failure below the threshold changes nothing
the cluster or a property can see (the result is not published; `resultRun` is the worker's memory
alone), and a success in between only restarts the count, which the choice of a later kill time
covers. A step per period would add the count (0 … failureThreshold - 1) to every probed container's
state, and a state per period to every run; the timer adds one clock value per container start, and
the time of a startup success only where it can still matter (`startup_passed_at`).

Left out: upstream keeps `resultRun` across a container's restart unless the last result killed it
(doProbe resets it only after publishing a Failure), so a container that crashed after some failed
probes can be killed after fewer failures once it is back; the model counts afresh from each start
(it never kills sooner than upstream can). Readiness results keep their old rule (any time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from kubeprop.model.api.pod import Probe

if TYPE_CHECKING:
    from kubeprop.model.kubelet.runtime import ContainerRuntime

__all__ = ["DEFAULT_TIMING", "ProbeTiming", "liveness_failure_at", "probe_timers", "probe_timing",
           "startup_failure_at", "startup_success_at"]

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


def startup_failure_at(c: ContainerRuntime) -> int:
    """The earliest time the startup probe can report Failure (and the container be killed)."""
    return startup_success_at(c) + c.startup_timing.failing_span


def liveness_failure_at(c: ContainerRuntime) -> int:
    """The earliest time the liveness probe of the started container can report Failure."""
    probing = c.started_at + c.liveness_timing.initial_delay
    if c.startup_passed_at is not None:
        probing = max(probing, c.startup_passed_at)
    return probing + c.liveness_timing.failing_span


def startup_passed(c: ContainerRuntime, now: int) -> int | None:
    """What `startup_passed_at` records for a startup success at `now`: the time, where it moves the
    liveness probe's first failure later; None where it does not (no liveness probe, or a success
    within the liveness probe's initial delay), so that states that cannot differ stay one."""
    if c.has_liveness and now > c.started_at + c.liveness_timing.initial_delay:
        return now
    return None


def probe_timers(c: ContainerRuntime) -> tuple[int, ...]:
    """The probe times of a running container of a pod not terminating (`next_timer` keeps those
    in the future)."""
    if c.startup_pending:
        return startup_success_at(c), startup_failure_at(c)
    if c.started and c.has_liveness:
        return (liveness_failure_at(c),)
    return ()
