"""`scheduling.k8s.io/v1` PriorityClass (`staging/src/k8s.io/api/scheduling/v1/types.go`).

A PriorityClass maps a name to the integer priority the Priority admission plug-in writes into a
pod's `spec.priority` (and the preemption policy it writes into `spec.preemptionPolicy`); the
scheduler's queue and preemption read only the pod's fields (`kubeprop.model.api.admission`,
`kubeprop.model.scheduler.preemption`). The two system classes are constants here
(`pkg/apis/scheduling/types.go` SystemPriorityClasses); upstream the API server creates them as
objects at start-up (`pkg/registry/scheduling/rest/storage_scheduling.go`), the model keeps them
out of the store so that every state of a scenario without PriorityClasses stays as it was.
"""

from __future__ import annotations

from typing import ClassVar, Final

import attrs

from kubeprop.model.api.integers import Int32
from kubeprop.model.api.meta import KindInfo, ObjectMeta

HIGHEST_USER_DEFINABLE_PRIORITY: Final = 1_000_000_000
"""`scheduling.HighestUserDefinablePriority`: the largest value of a class a user may create."""
SYSTEM_CRITICAL_PRIORITY: Final = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
"""`scheduling.SystemCriticalPriority`."""
SYSTEM_PRIORITY_CLASS_PREFIX: Final = "system-"
"""`scheduling.SystemPriorityClassPrefix`: names with it are reserved for the system classes."""
PREEMPT_LOWER_PRIORITY: Final = "PreemptLowerPriority"
PREEMPT_NEVER: Final = "Never"
PREEMPTION_POLICIES: Final = (PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER)


@attrs.frozen(cache_hash=True)
class PriorityClass:
    """A cluster-scoped name → priority mapping; `preemptionPolicy` is defaulted to
    PreemptLowerPriority (`pkg/apis/scheduling/v1/defaults.go` SetDefaults_PriorityClass)."""

    INFO: ClassVar[KindInfo] = KindInfo("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses",
                                        namespaced=False, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    value: Int32 = 0
    global_default: bool = False
    description: str = ""
    preemption_policy: str | None = None


SYSTEM_PRIORITY_CLASSES: Final[tuple[PriorityClass, ...]] = (
    PriorityClass(metadata=ObjectMeta(name="system-node-critical"), value=SYSTEM_CRITICAL_PRIORITY + 1000,
                  description="Used for system critical pods that must not be moved from their current node.",
                  preemption_policy=PREEMPT_LOWER_PRIORITY),
    PriorityClass(metadata=ObjectMeta(name="system-cluster-critical"), value=SYSTEM_CRITICAL_PRIORITY,
                  description="Used for system critical pods that must run in the cluster, but can be moved to "
                              "another node if necessary.",
                  preemption_policy=PREEMPT_LOWER_PRIORITY),
)
"""`scheduling.SystemPriorityClasses()`, as the API server stores them (defaulted)."""


def system_priority_class(name: str) -> PriorityClass | None:
    """The system class called `name`, if any."""
    return next((pc for pc in SYSTEM_PRIORITY_CLASSES if pc.metadata.name == name), None)
