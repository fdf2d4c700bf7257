"""Container logs across a node reboot: the restart counts the kubelet reads back from /var/log/pods.

Upstream (v1.33): each container instance writes `/var/log/pods/<namespace>_<name>_<uid>/<container>/<N>.log`,
N its restart count (`kuberuntime_container.go` generateContainerConfig → buildContainerLogsPath). When
the runtime has no status of a container to count on — after a node reboot the runtime's state is gone —
startContainer takes the highest N found there plus one (`calcRestartCountByLogDir`: "When nodes are
rebooted some container runtimes clear their state which causes the restartCount to be reset to 0 ...
find the latest restartCount by checking the log name"). The directory is on disk, so the reboot leaves
it; the container GC removes it once the kubelet no longer knows the pod (`kuberuntime_gc.go`
evictPodLogsDirectories). A kubelet *process* restart keeps the containers, whose statuses carry the
count on (`component.reset` changes nothing of it).

In the model `crash_node` records the pods' directories (`KubeletState.logs`), `admission.admitted`
reads the one of the pod's uid when the kubelet admits the pod again (each container that has a log
is `logged`: its first start is a restart) and `StartPod` (or `KillPod` of a pod deleted meanwhile)
drops it. Left out: the status of a container not started yet after the reboot shows the last
instance's count where upstream shows the API's (`convertToAPIContainerStatuses` keeps the old status's
restartCount and lastTerminationState, and a terminated old state whole), usually the same; a record of
a pod deleted while the node was down stays until a pod of that name is admitted again.
"""

from __future__ import annotations

import attrs

from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.kubelet.runtime import ContainerRuntime, KubeletState, PodRuntime

__all__ = ["PodLogs", "crash_node", "pod_logs"]


@attrs.frozen(cache_hash=True)
class PodLogs:
    """A pod's log directory in /var/log/pods (`<namespace>_<name>_<uid>/<container>/<N>.log`, one file
    per container instance, N its restart count: `kuberuntime_container.go` generateContainerConfig →
    buildContainerLogsPath): the uid, and for each container (or init container) that ever started, the
    restart count of its last instance — the highest N."""

    uid: str
    counts: FrozenMap[str, int] = EMPTY

    def logged(self, c: ContainerRuntime) -> ContainerRuntime:
        """`c` as the re-admitted pod has it: with a log file left, its restart count is the last
        instance's, and its next start counts one more (`ContainerRuntime.logged`)."""
        count = self.counts.get(c.name)
        return c if count is None else evolve(c, restart_count=count, logged=True)


def pod_logs(pod: PodRuntime) -> PodLogs | None:
    """What the pod's log directory holds once its containers died: a file for each container that
    ever started (not one whose configuration never resolved), or that an earlier reboot left and
    no container of it has rewritten since (`ContainerRuntime.logged`); None if there is none."""
    counts = {c.name: c.restart_count for c in (*pod.init_containers, *pod.containers)
              if c.running or c.exited_at is not None or c.logged}
    return PodLogs(pod.uid, FrozenMap(counts)) if counts else None


def crash_node(k: KubeletState) -> KubeletState:
    """The node loses power: every container dies and the kubelet forgets its pods; after the
    restart it re-admits the pods bound to it from the API, new containers whose restart counts go on
    from the log directories the reboot left (`KubeletState.logs`; `kuberuntime_container.go`
    startContainer: "When nodes are rebooted some container runtimes clear their state which causes
    the restartCount to be reset to 0 ... find the latest restartCount by checking the log name").
    A kubelet *process* restart keeps the containers and their counts (`component.reset`)."""
    logs = dict(k.logs)
    for key, pod in k.pods.items():
        record = pod_logs(pod)
        if record is not None:
            logs[key] = record
    return KubeletState(pressure_events=k.pressure_events, disk_pressure_events=k.disk_pressure_events,
                        pid_pressure_events=k.pid_pressure_events, logs=FrozenMap(logs) if logs else EMPTY)
