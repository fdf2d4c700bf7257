"""Node-pressure conditions: what the eviction manager reports after it saw a threshold met, and
what its admission refuses meanwhile (which pod it evicts: `kubeprop.model.kubelet.eviction`).

Each episode of pressure (`MemoryPressure`, `DiskPressure`, `DiskPressureReclaimed`, `PIDPressure`
actions, each bounded by its budget: `memoryPressureEvents`, `diskPressureEvents`,
`pidPressureEvents`) is one synchronize of the eviction manager (`eviction_manager.go`) that sees a
threshold met: it records the time for the threshold's node condition (`nodeConditionsLastObservedAt`;
`helpers.go` signalToNodeCondition: `memory.available` → MemoryPressure; `nodefs.available`,
`nodefs.inodesFree`, `imagefs.available`, `imagefs.inodesFree`, `containerfs.*` → DiskPressure;
`pid.available` → PIDPressure) before it reclaims, and reports the condition while less than
`--eviction-pressure-transition-period` (parameter `evictionPressureTransitionPeriodSeconds`, 5 min:
`pkg/kubelet/apis/config/v1beta1/defaults.go`) has passed since (`nodeConditionsObservedSince`:
`now - at < period`), each condition on its own clock. The reclaim (an eviction, or for disk the
image and container garbage collection) brings the signal back, so the next synchronize no longer
sees it met and the episode's time is the last observation: the condition ends by the clock (a
timer, `pressure_ends`: `Tick` runs up to it), not by a choice of the environment. Pressure that
outlasts the reclaim is another episode, which moves the observation forward.

The kubelet posts the conditions (`nodestatus/setters.go` MemoryPressureCondition,
DiskPressureCondition, PIDPressureCondition: `kubeprop.model.kubelet.status`), the node lifecycle
controller taints the node `node.kubernetes.io/memory-pressure`, `disk-pressure`, `pid-pressure`
(NoSchedule; TaintNodesByCondition: `kubeprop.model.controllers.nodelifecycle` CONDITION_TAINTS), and
while a condition holds the eviction manager's `Admit` refuses pods (`pressure_rejection`).
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.core import TAINT_NODE_MEMORY_PRESSURE, Taint
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet.runtime import KubeletState
from kubeprop.model.state.cluster import ClusterModel, ClusterState

CRITICAL_PRIORITY = 2000000000
"""`pkg/apis/scheduling` SystemCriticalPriority."""

MEMORY, DISK, PID = "MemoryPressure", "DiskPressure", "PIDPressure"
PRESSURE_CONDITIONS = (MEMORY, DISK, PID)
"""The eviction manager's node conditions, in the order the model reports them (upstream's order in
the admission message is a Go map's, `nodeConditionsObservedSince`: any; the model fixes this one)."""

BUDGETS = {MEMORY: "memoryPressureEvents", DISK: "diskPressureEvents", PID: "pidPressureEvents"}
"""Each condition's budget of episodes (scenario parameters)."""

PRESSURE_REJECTION = ("Evicted", "The node had condition: [MemoryPressure]. ")
"""`eviction_manager.go` Admit under memory pressure alone: `Reason` and `nodeConditionMessageFmt`."""

_MEMORY_TAINT = Taint(key=TAINT_NODE_MEMORY_PRESSURE, effect="NoSchedule")

_QOS_RESOURCES = ("cpu", "memory")
"""`pkg/apis/core/v1/helper/qos/qos.go` supportedQoSComputeResources."""


def observed_at(k: KubeletState, condition: str) -> int | None:
    """When the eviction manager last saw a threshold of `condition` met (None: never, or forgotten)."""
    if condition == MEMORY:
        return k.memory_pressure_at
    return k.disk_pressure_at if condition == DISK else k.pid_pressure_at


def episodes(k: KubeletState, condition: str) -> int:
    """The episodes of `condition` injected on this node (its share of the budget)."""
    if condition == MEMORY:
        return k.pressure_events
    return k.disk_pressure_events if condition == DISK else k.pid_pressure_events


def conditions_held(k: KubeletState, now: int, period: int) -> tuple[str, ...]:
    """`nodeConditionsObservedSince`: the conditions last seen less than `period` seconds ago."""
    return tuple(c for c in PRESSURE_CONDITIONS if (at := observed_at(k, c)) is not None and now - at < period)


def transition_period(model: ClusterModel) -> int:
    """`--eviction-pressure-transition-period` in seconds (`evictionPressureTransitionPeriodSeconds`)."""
    return int(model.parameter("evictionPressureTransitionPeriodSeconds"))


def pressures(model: ClusterModel, state: ClusterState, node: str) -> tuple[str, ...]:
    """The pressure conditions the node's eviction manager reports now (`conditions_held`)."""
    k = state.kubelets.get(node)
    if not isinstance(k, KubeletState):
        return ()
    return conditions_held(k, state.clock, transition_period(model))


def pressure_ends(model: ClusterModel, k: KubeletState) -> list[int]:
    """When each condition's last episode ends (the kubelet's timers; past ones included)."""
    period = transition_period(model)
    return [at + period for c in PRESSURE_CONDITIONS if (at := observed_at(k, c)) is not None]


def spent_in(kubelets: FrozenMap[str, Any], condition: str) -> int:
    """The episodes of `condition` taken so far on a cluster's kubelets (the budget is cluster-wide)."""
    return sum(episodes(k, condition) for k in kubelets.values() if isinstance(k, KubeletState))


def pressure_left(model: ClusterModel, kubelets: FrozenMap[str, Any], condition: str) -> bool:
    """Whether the budget of `condition` (`BUDGETS`) has an episode left."""
    return spent_in(kubelets, condition) < int(model.parameter(BUDGETS[condition]))


def best_effort(pod: Pod) -> bool:
    """`qos.go` GetPodQOS is BestEffort: no container or init container requests or limits a
    positive amount of cpu or memory."""
    zero = Quantity.zero()
    for c in (*pod.spec.containers, *pod.spec.init_containers):
        for amounts in (c.resources.requests, c.resources.limits):
            if any((q := amounts.get(name)) is not None and q > zero for name in _QOS_RESOURCES):
                return False
    return True


def rejection_message(conditions: tuple[str, ...]) -> str:
    """`helpers.go` nodeConditionMessageFmt with Go's `%v` of the condition list."""
    return f"The node had condition: [{' '.join(conditions)}]. "


def pressure_rejection(pod: Pod, conditions: tuple[str, ...]) -> tuple[str, str] | None:
    """The eviction manager's `Admit` (`eviction_manager.go`), the kubelet's first admit handler
    (`kubelet.go` NewMainKubelet adds it before the predicate handler, and canAdmitPod stops at the
    first refusal): with no condition, and for a critical pod (`IsCriticalPod`: priority from
    2000000000; the model has no static or mirror pods), admitted. Under memory pressure alone a pod
    that is not BestEffort is admitted, and so is a BestEffort pod tolerating
    `node.kubernetes.io/memory-pressure:NoSchedule`; under any other condition ("Conditions other
    than memory pressure reject all pods") every other pod is refused, reason Evicted."""
    if not conditions or (pod.spec.priority or 0) >= CRITICAL_PRIORITY:
        return None
    if conditions == (MEMORY,) and (
            not best_effort(pod) or any(t.tolerates(_MEMORY_TAINT) for t in pod.spec.tolerations)):
        return None
    return "Evicted", rejection_message(conditions)
