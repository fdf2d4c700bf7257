"""The kill of one container for a failed liveness or startup probe, with its grace period.

Upstream (v1.33): `pkg/kubelet/kuberuntime/kuberuntime_manager.go` computePodActions puts a running
container whose liveness (or startup) result is Failure in ContainersToKill ("Container app failed
liveness probe"), and in ContainersToStart too unless the restartPolicy is Never ("will be
restarted"): SyncPod kills it, then starts it again, subject to the back-off (`doBackOff`). The kill is
`kuberuntime_container.go` killContainer, as for a pod's stop: the grace period is
`setTerminationGracePeriod` — the pod's `metadata.deletionGracePeriodSeconds` if it has one, else the
probe's own `terminationGracePeriodSeconds` (KEP-2238, GA in v1.27), else the pod's
`spec.terminationGracePeriodSeconds` (30 by default); the container's preStop hook runs first (for at
most the grace period, `executePreStopHook`), then the runtime sends SIGTERM and SIGKILLs after what is
left of the grace period, at least 2 s (`minimumGracePeriodInSeconds`). SyncPod waits for it: the pod
worker syncs nothing else of the pod meanwhile, so no other container of it restarts until the kill is
over. The prober holds the failed worker (`pkg/kubelet/prober/worker.go` doProbe: `onHold` until the
container ID changes), so no further liveness or startup result comes for that container; its readiness
probe goes on, and the container is reported running — Ready as its readiness says — until it exits.

In the model (`ContainerRuntime.kill_deadline`, `hook_grace`, `probe_killed`) the failing `ProbeResult`
sends SIGTERM and sets the SIGKILL deadline, with the steps a pod's graceful stop uses: before the
deadline the container may exit on SIGTERM (`ContainerExit`, the environment's choice: exit 143 — killed
by the signal — or, having handled it, 0 or a failing code of each class its pod failure policies tell
apart, or its `environment.exits` rule's codes: `exit_rules.sigterm_choices`), at the deadline
`SigKillPod` kills it (exit 137) or, with a preStop hook, `PreStopOverrun` says the hook took the whole
grace period and SIGKILL comes 2 s later. Whatever its exit code it then restarts unless the
restartPolicy is Never (`probe_killed`).

Left out: a start in the same SyncPod refused by the back-off is retried upstream only if the exit
code asks for a restart (an OnFailure container that exited 0 on SIGTERM then stays down); the model
restarts it once the back-off is over. A kubelet restart during the kill keeps the SIGKILL deadline
(upstream the new kubelet has forgotten it, and the container may run on).
"""

from __future__ import annotations

from collections.abc import Iterator

from kubeprop.model.api.pod import Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.runtime import (
    SIGKILL_EXIT_CODE,
    ContainerRuntime,
    PodRuntime,
    has_pre_stop,
    overrun_deadline,
    sigkill_grace,
)

SIGTERM_EXIT_CODE = 143
"""A process ended by SIGTERM (128 + 15)."""


def probe_kill_grace(pod: Pod | None, runtime: PodRuntime, container: str, probe: str) -> tuple[int, bool]:
    """The grace period of the kill of `container` for its failed `probe` ("liveness" or "startup";
    `setTerminationGracePeriod`), and whether its preStop hook runs, from the kubelet's cached pod
    (`pod`, None if it no longer holds the one it runs: then the admitted spec's grace period and hooks)."""
    if pod is None:
        return runtime.grace_seconds, runtime.pre_stop
    spec = next((c for c in (*pod.spec.init_containers, *pod.spec.containers) if c.name == container), None)
    if pod.metadata.deletion_grace_period_seconds is not None:
        return pod.metadata.deletion_grace_period_seconds, spec is not None and has_pre_stop(spec)
    if spec is None:
        return runtime.grace_seconds, runtime.pre_stop
    own = (spec.liveness_probe if probe == "liveness" else spec.startup_probe)
    if own is not None and own.termination_grace_period_seconds is not None:
        return own.termination_grace_period_seconds, has_pre_stop(spec)
    return runtime.grace_seconds, has_pre_stop(spec)


def kill_for_probe(c: ContainerRuntime, now: int, grace: int, pre_stop: bool) -> ContainerRuntime:
    """The container's preStop hook runs (if it has one and `grace` > 0), then SIGTERM; SIGKILL at the
    deadline, `grace` (at least 2 s) from now — or 2 s after the hook, if it runs out the grace period."""
    return evolve(c, kill_deadline=now + sigkill_grace(grace), hook_grace=grace if pre_stop and grace > 0 else None)


def killing(runtime: PodRuntime) -> bool:
    """A container of the pod is being killed for a failed probe: the pod worker waits for it."""
    return any(c.kill_deadline is not None for c in (*runtime.init_containers, *runtime.containers))


def exited_on_sigterm(c: ContainerRuntime, now: int, code: int) -> ContainerRuntime:
    """The container being killed exits on SIGTERM before its deadline with `code`: 143
    (`SIGTERM_EXIT_CODE`) if the signal ended it, else the code it chose having handled it."""
    return evolve(c.exit(now, code, "Completed" if code == 0 else "Error"), probe_killed=True)


def sigkilled(runtime: PodRuntime, now: int) -> PodRuntime:
    """The containers whose kill for a failed probe reached its deadline are SIGKILLed (exit 137)."""
    for c in (*runtime.init_containers, *runtime.containers):
        if c.running and c.kill_deadline is not None and now >= c.kill_deadline:
            runtime = runtime.with_container(evolve(c.exit(now, SIGKILL_EXIT_CODE, "Error"), probe_killed=True))
    return runtime


def overran(runtime: PodRuntime, now: int) -> PodRuntime:
    """The preStop hooks of the containers being killed whose deadline came ran the whole grace period:
    SIGKILL 2 s later (`runtime.overrun_deadline`)."""
    for c in (*runtime.init_containers, *runtime.containers):
        if c.running and c.kill_deadline is not None and c.hook_grace is not None and now >= c.kill_deadline:
            runtime = runtime.with_container(evolve(c, kill_deadline=overrun_deadline(c.kill_deadline, c.hook_grace),
                                                    hook_grace=None))
    return runtime


def due(runtime: PodRuntime, now: int) -> tuple[bool, bool]:
    """Whether a container's kill reached its SIGKILL deadline, and whether one of those has a preStop
    hook that may have run out the grace period instead."""
    sigkill = overrun = False
    for c in (*runtime.init_containers, *runtime.containers):
        if c.running and c.kill_deadline is not None and now >= c.kill_deadline:
            sigkill, overrun = True, overrun or c.hook_grace is not None
    return sigkill, overrun


def kill_deadlines(runtime: PodRuntime) -> Iterator[int]:
    """The SIGKILL deadlines of the pod's containers being killed (for `next_timer`)."""
    for c in (*runtime.init_containers, *runtime.containers):
        if c.running and c.kill_deadline is not None:
            yield c.kill_deadline
