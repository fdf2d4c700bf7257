"""The kubelet's active deadline handler: a pod past `spec.activeDeadlineSeconds` is killed and Failed.

Upstream: `pkg/kubelet/active_deadline.go` pastActiveDeadline — a pod with
`activeDeadlineSeconds` whose `status.startTime` lies at least that many seconds back —
ShouldEvict answers reason `DeadlineExceeded`, message "Pod was active on the node longer than the
specified deadline"; `pkg/kubelet/kubelet_pods.go` generateAPIPodStatus then reports phase Failed
with that reason and message, `kubelet.go` SyncPod sees the terminal phase and the pod worker
(`pod_workers.go` completeSync → SyncTerminatingPod) kills the containers with the pod's
termination grace period (SIGTERM, SIGKILL at the deadline, as for a deletion). The pod stays in
the API, Failed: nothing deletes it but a controller, the pod GC or the user, and its containers
are never restarted whatever the restart policy.

The status manager (`pkg/kubelet/status/status_manager.go` mergePodStatus) delays the terminal
phase while the pod could have running containers: until they stopped the API shows the pod's old
phase, reason and message, with Ready and ContainersReady already False (reason PodFailed).

In the model this is one timed kubelet action, `ActiveDeadlineExceeded(node, pod)`, enabled once
the clock reaches the start time plus the deadline; it marks the pod's runtime `deadline_exceeded`
and sends SIGTERM (`kill_deadline`), so `StopGracefully` or `SigKillPod` follow; `SyncPodStatus`
writes Ready=False at once and Failed / DeadlineExceeded once the containers stopped. The kubelet
enforces it on its own, while its node is cut off too.

Model choices:
- the start time is when the kubelet admitted the pod (`PodRuntime.admitted_at`, what the model's
  kubelet reports as `status.startTime`); after a node reboot the model's kubelet re-admits the
  pod with a new start time, where upstream keeps the first one;
- the deadline read is the kubelet's cached pod's (a lowered deadline applies), but the timer that
  lets the clock advance (`deadline_timer`) is the one the pod was admitted with: a deadline lowered
  later is reached on the way to it, while a deadline *added* by an update to a pod admitted
  without one is enforced only if the clock moves on for another timer (the clock's timers read no
  informer cache);

While its containers are stopping, a pod Failed for its deadline still counts at the kubelet's
admission, as upstream's `kubelet_pods.go` filterOutInactivePods counts a terminal pod whose
termination was requested until the pod worker knows it terminated: a pod bound to the node in
those seconds may be rejected there (OutOfcpu …; `kubeprop.model.kubelet.handlers.holds_resources`).
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.pod import Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.runtime import PodRuntime, sigterm
from kubeprop.model.state.actions import Action

DEADLINE_REASON = "DeadlineExceeded"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
"""`pkg/kubelet/active_deadline.go` reason and message."""


@attrs.frozen(order=True)
class ActiveDeadlineExceeded(Action):
    """The pod has been active on the node for `spec.activeDeadlineSeconds`: the kubelet reports
    it Failed (reason DeadlineExceeded) and kills its containers with the pod's grace period
    (`pkg/kubelet/active_deadline.go` ShouldEvict, `kubelet.go` SyncPod)."""

    node: str
    pod: str


def _active(runtime: PodRuntime, phase: str) -> bool:
    """Whether the pod worker still syncs the pod: admitted, not terminating, not terminal
    (`phase`: what the kubelet reports for it, `status.get_phase`)."""
    if runtime.terminating or runtime.evicted or runtime.rejected or runtime.deadline_exceeded:
        return False
    return phase not in ("Succeeded", "Failed")


def past_deadline(pod: Pod | None, runtime: PodRuntime, phase: str, now: int) -> bool:
    """`pastActiveDeadline` for a pod the kubelet runs and still syncs, with its cached spec
    (`pod`, the same uid)."""
    if pod is None or pod.metadata.uid != runtime.uid or not _active(runtime, phase):
        return False
    seconds = pod.spec.active_deadline_seconds
    return seconds is not None and now >= runtime.admitted_at + seconds


def deadline_timer(runtime: PodRuntime, phase: str) -> int | None:
    """When the deadline the pod was admitted with falls (None without one, or once the pod is
    no longer synced)."""
    if runtime.active_deadline_seconds is None or not _active(runtime, phase):
        return None
    return runtime.admitted_at + runtime.active_deadline_seconds


def exceed(runtime: PodRuntime, now: int) -> PodRuntime:
    """Failed for its deadline, and SIGTERM: SIGKILL follows after the grace period (at least 2 s)."""
    return sigterm(evolve(runtime, deadline_exceeded=True), now, runtime.grace_seconds)
