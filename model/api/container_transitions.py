"""A terminated container may not be reported non-terminated again unless it would restart.

The rule is upstream's twice over:

- the API server, on every update of `pods/status`: `pkg/apis/core/validation/validation.go`
  ValidatePodStatusUpdate → ValidateContainerStateTransition (containers) and its init-container
  twin (ValidateInitContainerStateTransition since sidecars, v1.28): for a pod whose
  `restartPolicy` is not Always, a container whose stored state is `terminated` — unless it failed
  (exit code not 0) under `restartPolicy: OnFailure`, or it is a sidecar (an init container with
  `restartPolicy: Always`) — may not be written back to `running` or `waiting`: `Forbidden`,
  "may not be transitioned to non-terminated state", at `status.containerStatuses[i].state`
  (`i` the index in the stored statuses). Read at a stored v1.11-era source; a port of
  release-1.35's ValidatePodStatusUpdate states the same rule (there through
  ContainerShouldRestart, which adds container restart rules, off before v1.34).
- the kubelet's status manager before it even queues a status: `pkg/kubelet/status/
  status_manager.go` updateStatusInternal → checkContainerStateTransition against its last
  status, or the pod's status from its cache when it has none ("terminated container %v attempted
  illegal transition to non-terminated state"; "Status update on pod aborted").

Neither has a rule on `status.phase` itself: the API server takes any phase a status update
carries (the pod status strategy, `pkg/registry/core/pod/strategy.go`, only resets the spec,
deletionTimestamp and ownerReferences). A terminal phase stays because of this rule (a terminal
pod of such a policy has only terminated containers) and because the kubelet keeps a terminal
phase it knows (`kubeprop.model.kubelet.status.pod_status`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kubeprop.model.api.pod import ContainerStatus, PodSpec, PodStatus

NON_TERMINATED_MESSAGE = "may not be transitioned to non-terminated state"
"""ValidateContainerStateTransition's detail (a `Forbidden` field error)."""


def terminated_exit_code(status: ContainerStatus) -> int | None:
    """The exit code of a container status whose state is `terminated` (None for any other state)."""
    state: Any = status.state
    if not isinstance(state, Mapping) or "terminated" not in state:
        return None
    terminated = state["terminated"]
    code = terminated.get("exitCode", 0) if isinstance(terminated, Mapping) else 0
    return int(code) if isinstance(code, int) else 0


def _may_leave_terminated(spec: PodSpec, name: str, exit_code: int, init: bool) -> bool:
    if spec.restart_policy in ("Always", ""):  # "" is defaulted to Always at creation
        return True
    if init and any(c.name == name and c.restart_policy == "Always" for c in spec.init_containers):
        return True  # a sidecar restarts whatever the pod's policy
    return spec.restart_policy == "OnFailure" and exit_code != 0


def illegal_transitions(new: PodStatus, old: PodStatus, spec: PodSpec) -> Iterator[tuple[str, int, str]]:
    """(`containerStatuses` or `initContainerStatuses`, index in `old`, container name) of every
    container `old` shows terminated that `new` shows otherwise, and that may not restart."""
    for field, init in (("containerStatuses", False), ("initContainerStatuses", True)):
        olds = old.init_container_statuses if init else old.container_statuses
        news = new.init_container_statuses if init else new.container_statuses
        for index, before in enumerate(olds):
            code = terminated_exit_code(before)
            if code is None or _may_leave_terminated(spec, before.name, code, init):
                continue
            if any(after.name == before.name and terminated_exit_code(after) is None for after in news):
                yield field, index, before.name
