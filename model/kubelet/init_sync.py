"""What a pod's init containers hold back once its regular containers ran: the kubelet's sync
(`pkg/kubelet/kuberuntime/kuberuntime_manager.go` computePodActions, v1.33) asks
`kuberuntime_container.go` computeInitContainerActions first, and reaches the regular containers —
their restarts, and the KillPod of a pod whose regular containers are all done — only when that
says the pod is initialized.

computeInitContainerActions counts the pod initialized when a regular container is Created or
Running ("If any of the main containers have status and are Running"; an Exited one does not count:
after a node reboot every container is exited). Otherwise it walks the init containers from the last
one back, and only the last decides: a sidecar (restartable) that runs and passed its startupProbe
(the startup manager's result is Success; without one, as soon as it runs), or a regular init
container that exited 0. So while no regular container runs — the app crashed and waits in back-off,
or the batch containers are done — a crashed last sidecar, or one restarted whose startupProbe has
not passed yet, holds back the app's restart until it is `started` again; the sidecars before it do
not (only the last decides). The model has no Created state: a regular container runs or it does not.

Meanwhile the crashed sidecars restart (ContainerStateExited → InitContainersToStart), even after
every regular container of a restartPolicy Never/OnFailure pod ended: KillPod waits until the last
sidecar is started, then stops them all, restarting none. Unless no sidecar runs: the pod's phase is
then terminal (`kubelet_pods.go` getPhase counts no terminated sidecar), and `kubelet.go` SyncPod
returns before the runtime's SyncPod, so nothing restarts (the pod worker terminates the pod).

Read in a text of computeInitContainerActions that resizes sidecars (`computePodResizeAction`,
v1.33) and predates kubernetes PR #138514, which reads only the active sandbox's containers there:
the model has one sandbox per admitted pod, so it reads the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeprop.model.kubelet.runtime import ContainerRuntime, PodRuntime

__all__ = ["containers_done", "holds_back", "sidecar_restarts", "synced_initialized"]


def synced_initialized(pod: PodRuntime) -> bool:
    """computeInitContainerActions' result for a pod past its first initialization: no init
    containers, a regular container running, or the last init container a `started` sidecar or a
    regular one that exited 0."""
    if not pod.init_containers or any(c.running for c in pod.containers):
        return True
    last = pod.init_containers[-1]
    if last.restartable:
        return last.started
    return not last.running and last.exited_at is not None and last.exit_code == 0


def containers_done(pod: PodRuntime) -> bool:
    """Every regular container ran, exited, and is not to restart (`ShouldContainerBeRestarted`;
    never under restartPolicy Always): computePodActions' keepCount 0 and no ContainersToStart."""
    if pod.restart_policy == "Always" or not pod.any_container_started:
        return False
    return all(not c.running and c.exited_at is not None and not pod.should_restart(c) for c in pod.containers)


def holds_back(pod: PodRuntime, c: ContainerRuntime) -> bool:
    """Whether the init containers hold back the restart of `c`, a regular container the restart
    policy would restart: computePodActions returns before the regular containers while
    computeInitContainerActions says the pod is not initialized (`synced_initialized`)."""
    return not c.restartable and not pod.is_init(c.name) and not synced_initialized(pod)


def sidecar_restarts(pod: PodRuntime) -> bool:
    """Whether an exited sidecar restarts (with back-off): while the regular containers run or are
    to restart; once they are all done (`containers_done`), only while the last init container is not
    `started` and some sidecar still runs (KillPod waits for the last; with none running the phase is
    terminal). Never after a regular init container failed under restartPolicy Never (KillPod)."""
    if pod.init_failed():
        return False
    if not containers_done(pod):
        return True
    return not synced_initialized(pod) and any(c.running for c in pod.sidecars)
