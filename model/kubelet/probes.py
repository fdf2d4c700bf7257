"""The prober's clock: when a probe can first report the result that changes something — a liveness
or startup Failure (the kubelet then kills the container), a startup Success, a readiness Success
(Ready) or Failure (NotReady).

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
- for its startup probe no sooner than `f + (failureThreshold - 1 - k) x periodSeconds`, with `f = s +
  initialDelaySeconds` the first probe (the worker's ticks can have any phase, so it can come at once)
  and `k` the failures it carries from the container's earlier runs (below);
- for its liveness probe likewise, its first probe `f = max(s + initialDelaySeconds, p)`, where `p` is
  when the startup probe passed (`p = s` without one);
and its startup probe can succeed no sooner than `s + initialDelaySeconds`. A kubelet that restarts
(`RestartComponent` of `kubelet/<node>`) makes new workers whose counts start at zero, their first
probe after a random part of a period (`worker.go` run; `prober_manager.go` AddPod for each pod the
new kubelet syncs): `f` is then at least the restart's time. The container's `probes_from` records
that later `f` (a startup success or a kubelet restart), only where it moves the threshold later, so
that states that cannot differ stay one (`recount`).

Readiness (`readiness_turns_at`): the worker's initial result is Failure, so a container with a
readiness probe starts NotReady. While its result is not Success every pod sync triggers a readiness
probe at once (`prober_manager.go` UpdatePodStatus: "Trigger an immediate run of the readinessProbe",
through `manualTriggerCh`), and the kubelet syncs the pod at once when a probe result changes
(`kubelet.go` syncLoopIteration → handleProbeSync → HandlePodSyncs): so a NotReady container can be
probed any number of times, at any moments after its initial delay, and turn Ready from its first
probe on, `max(s + initialDelaySeconds, p)`, whatever its `successThreshold` (the successes need not
be a period apart). Once Ready no probe is triggered: only the ticker probes it, every period. Its
failures count from the success that turned it Ready, at `r`; the next tick can follow at once (the
ticker's phase is its own), so it turns NotReady no sooner than `r + (failureThreshold - 1) x
periodSeconds`. `readiness_from` records that `r`, only where it is later than the first probe could be
(`turned_ready`).

A kubelet that restarts starts its readiness workers afresh too (`prober_manager.go` AddPod from
SyncPod; `worker.go` newWorker: a readiness worker's `initialValue` is Failure, set for the container
ID it first finds, doProbe). Until the new worker probes, the readiness results hold no Success for the
container, and `prober_manager.go` UpdatePodStatus reports it not ready (a worker exists: "ready =
!exists") and triggers a probe: so a Ready container reads NotReady — the pod's ContainersReady and Ready
conditions False, reason ContainersNotReady, `containers with unready status: [...]`
(`pkg/kubelet/status/generate.go`) — until the first probe after the restart succeeds, which can come
at once (the new worker waits a random part of a period first, `worker.go` run: "If kubelet restarted
the probes could be started in rapid succession") or never, if the application fails it. Whether the
NotReady status reaches the API server depends on the status manager's write coming before that probe
(`SyncPodStatus`, an interleaving). This is kubernetes#100277 / #113646 / #133770, open in v1.33.
`restart_prober` therefore turns every started, Ready container with a readiness probe NotReady.

In the model these are timers (`probe_timers`, part of the kubelet's `next_timer`, so `Tick` runs up
to them), and the `ProbeResult` that kills, or the startup success, is enabled from the time on: a
choice of the environment then and at any later time (the application may keep failing, or start
failing later; a run of failures can end at any of the worker's ticks). One timer at the threshold
gives the same behaviours as a step per probe period: a failure below the threshold changes nothing
the cluster or a property can see (the result is not published; `resultRun` is the worker's memory
alone), and a success in between only restarts the count, which the choice of a later kill time
covers. A step per period would add the count (0 … failureThreshold - 1) to every probed container's
state, and a state per period to every run; the timer adds one clock value per container start, and
the time the count restarted only where it can still matter (`probes_from`, `readiness_from`). The
argument carries over to readiness: a failure below the threshold publishes nothing, and the
environment's choice of when the failures begin covers every later NotReady.

Failures carried across a container's restart (`carried_failures`): the workers live as long as the
pod (`prober_manager.go` AddPod once per pod, RemovePod), keyed by the container's name, so a
restarted container — a new container ID — is probed by the same worker. doProbe then resets the
result to its initial value and lifts `onHold`, but not `lastResult` nor `resultRun`
(`worker.go` doProbe: "We've got a new container; resume probing"): only a published liveness or
startup Failure (the kill) and a published startup Success set `resultRun = 0` (v1.33, kubernetes PR
#121206). So a container that crashed, or exited and restarts (OnFailure), after `j` failed liveness
probes in a row below the threshold can be killed at its `failureThreshold - j`-th failing probe once
back. The model keeps the most failures each of its liveness and startup probes can carry —
`liveness_carried`, `startup_carried`: the carried count plus the probes the worker can have run in
the run that ended (one at its first probe, then one a period; `ticks`), at most `failureThreshold -
1` — and takes them off the next run's threshold; fewer carried failures (a success in between)
only kill later, which the choice of a later time covers. It is set only for a container that will
restart, zeroed by the kill that resets it upstream and by a kubelet restart (new workers). A
readiness count carried over changes nothing the model sees: a restarted container starts NotReady
and may turn Ready from its first probe anyway, and its failures count from that success.

Left out: right after a restart the kubelet may build a pod's status before its workers exist and so
report a NotReady container Ready for a moment (kubernetes#135795, #133770: UpdatePodStatus's `ready =
!exists` with no worker yet); the model keeps a NotReady container NotReady. Containers of a terminating
pod keep their readiness (the restarted kubelet adds no workers for a pod it only terminates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from kubeprop.model.api.pod import Probe
from kubeprop.model.evolve import evolve

if TYPE_CHECKING:
    from kubeprop.model.kubelet.runtime import ContainerRuntime, KubeletState, PodRuntime

__all__ = ["DEFAULT_TIMING", "ProbeTiming", "carried_failures", "liveness_failure_at", "probe_timers", "probe_timing",
           "readiness_turns_at", "recount", "restart_prober", "startup_failure_at", "startup_success_at", "ticks",
           "turned_ready"]

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

    def span_after(self, carried: int) -> int:
        """`failing_span` for a run that begins with `carried` failures already counted."""
        return max(0, self.failure_threshold - 1 - carried) * self.period


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
    return _first_probe(c, c.startup_timing) + c.startup_timing.span_after(c.startup_carried)


def liveness_failure_at(c: ContainerRuntime) -> int:
    """The earliest time the liveness probe of the started container can report Failure."""
    return _first_probe(c, c.liveness_timing) + c.liveness_timing.span_after(c.liveness_carried)


def readiness_turns_at(c: ContainerRuntime) -> int:
    """The earliest time the readiness probe of the started container can flip its readiness: Ready
    from its first probe on; NotReady once failureThreshold - 1 periods passed since it turned Ready
    (`readiness_from`; the first probe without it)."""
    first = c.started_at + c.readiness_timing.initial_delay
    if not c.ready:
        return first
    return max(first, c.readiness_from or first) + c.readiness_timing.failing_span


def turned_ready(c: ContainerRuntime, ready: bool, now: int) -> ContainerRuntime:
    """The container once its readiness result flipped to `ready` at `now`: Ready records when
    (`readiness_from`), where that is later than its first probe could be."""
    first = c.started_at + c.readiness_timing.initial_delay
    return evolve(c, ready=ready, readiness_from=now if ready and now > first else None)


def ticks(first: int, until: int, period: int) -> int:
    """The most probes a worker ticking every `period` can run from `first` to `until` (its phase is
    free, so the first one can fall at `first`)."""
    return 0 if until < first else (until - first) // period + 1


def carried_failures(c: ContainerRuntime, now: int) -> tuple[int, int]:
    """The most failures in a row the liveness and startup workers of the running container `c` can
    carry into its next run once it exits at `now` (`resultRun` is kept across a restart): those it
    carried in plus the probes of this run, at most failureThreshold - 1 each."""
    live, start = c.liveness_carried, c.startup_carried
    if c.has_startup and c.startup_pending:
        timing = c.startup_timing
        start = min(timing.failure_threshold - 1, start + ticks(_first_probe(c, timing), now, timing.period))
    elif c.has_liveness and c.running:
        timing = c.liveness_timing
        live = min(timing.failure_threshold - 1, live + ticks(_first_probe(c, timing), now, timing.period))
    return live, start


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
    """A kubelet process that (re)starts at `now`: every container's probes count afresh (new
    workers: no failures carried, the running ones' counts from `now`, those with a readiness probe
    NotReady until probed)."""
    pods = {key: _recount_pod(pod, now) for key, pod in k.pods.sorted_items()}
    changed = {key: pod for key, pod in pods.items() if pod is not k.pods[key]}
    for key, pod in changed.items():
        k = k.with_pod(key, pod)
    return k


def _fresh_workers(c: ContainerRuntime, now: int) -> ContainerRuntime:
    """The container under a new prober: no failures carried, the current probe counted from `now`,
    and NotReady if it has a readiness probe (the new worker's initial Failure) until it is probed."""
    if c.liveness_carried or c.startup_carried:
        c = evolve(c, liveness_carried=0, startup_carried=0)
    if c.started and c.ready and c.has_readiness:
        c = turned_ready(c, False, now)
    return recount(c, now)


def _recount_pod(pod: PodRuntime, now: int) -> PodRuntime:
    if pod.terminating:
        return pod
    for c in (*pod.init_containers, *pod.containers):
        fresh = _fresh_workers(c, now)
        if fresh is not c:
            pod = pod.with_container(fresh)
    return pod


def probe_timers(c: ContainerRuntime) -> tuple[int, ...]:
    """The probe times of a running container of a pod not terminating (`next_timer` keeps those
    in the future)."""
    if c.startup_pending:
        return startup_success_at(c), startup_failure_at(c)
    times = (liveness_failure_at(c),) if c.started and c.has_liveness else ()
    if c.started and c.has_readiness:
        times = (*times, readiness_turns_at(c))
    return times
