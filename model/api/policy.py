"""`policy/v1` PodDisruptionBudget (`staging/src/k8s.io/api/policy/v1/types.go`).

The Eviction a client POSTs to `pods/<name>/eviction` is not stored; in the model it is a
request with verb `evict` (`kubeprop.model.api.eviction`).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kubeprop.model.api.integers import Int32, Int64, IntOrString
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map


@attrs.frozen(cache_hash=True)
class PodDisruptionBudgetSpec:
    """minAvailable or maxUnavailable (a number or a percentage) of the selected pods."""

    min_available: IntOrString | None = None
    selector: LabelSelector | None = None
    max_unavailable: IntOrString | None = None
    unhealthy_pod_eviction_policy: str | None = None


@attrs.frozen
class PodDisruptionBudgetStatus:
    """Written by the disruption controller; `disruptedPods` by the eviction subresource."""

    observed_generation: Int64 = 0
    disrupted_pods: FrozenMap[str, Int64] = attrs.field(default=EMPTY, converter=frozen_map)
    disruptions_allowed: Int32 = 0
    current_healthy: Int32 = 0
    desired_healthy: Int32 = 0
    expected_pods: Int32 = 0
    conditions: tuple[Condition, ...] = ()


@attrs.frozen(cache_hash=True)
class PodDisruptionBudget:
    """A PodDisruptionBudget: how many of a set of pods voluntary disruptions may take at once."""

    INFO: ClassVar[KindInfo] = KindInfo("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets",
                                        namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: PodDisruptionBudgetSpec = PodDisruptionBudgetSpec()
    status: PodDisruptionBudgetStatus = PodDisruptionBudgetStatus()
