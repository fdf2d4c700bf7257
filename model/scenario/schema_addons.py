"""Scenario file sections for the environment, the descheduler and node maintenance.

- `environment:` what the pods' resource usage is (the metrics the HPA and LowNodeUtilization
  read), how the selected containers end (`exits`: `kubeprop.model.kubelet.exit_rules`) and which
  user environment rules run (`kubeprop.model.cluster.environment`);
- `descheduler:` the descheduler's policy (`kubeprop.model.descheduler`), following the
  descheduler's `DeschedulerPolicy` (v1alpha2) with one profile;
- workload steps `cordon`, `drain`, `uncordon` (`kubectl cordon|drain|uncordon`).

docs/scenario.md, docs/hpa.md and docs/descheduler.md describe every field.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map


@attrs.frozen
class UsageDecl:
    """Resource usage of the pods a label selector picks (in one namespace).

    Exactly one of `levels` (each pod's usage of `container` is one of these; every pod starts
    at the first and the environment may move it to any other before `Quiesce`) and `load` (a
    total demand, shared equally by the selected pods that are Ready and not terminating; the
    environment may switch levels before `Quiesce`). `container` "" means the pod's first
    container."""

    namespace: str = "default"
    pods: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    container: str = ""
    resource: str = "cpu"
    levels: tuple[Quantity, ...] = ()
    load: tuple[Quantity, ...] = ()


@attrs.frozen
class ExitDecl:
    """How the containers of the pods a label selector picks (in one namespace) end by themselves
    (`kubeprop.model.kubelet.exit_rules`): with one of `codes` (None: 0 or non-zero, as without a
    rule), and at most `within_seconds` after they started (None: they may run for ever).
    `container` "" means every container of the pod (its init containers included)."""

    namespace: str = "default"
    pods: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    container: str = ""
    codes: tuple[int, ...] | None = None
    within_seconds: int | None = None


@attrs.frozen
class EnvironmentDecl:
    """The environment: declared usage, how containers end, and user environment rules
    (`module:attribute`)."""

    usage: tuple[UsageDecl, ...] = ()
    rules: tuple[str, ...] = ()
    exits: tuple[ExitDecl, ...] = ()


@attrs.frozen
class EvictorDecl:
    """The DefaultEvictor's arguments (`pkg/framework/plugins/defaultevictor/types.go`)."""

    evict_system_critical_pods: bool = False
    evict_local_storage_pods: bool = False
    evict_failed_bare_pods: bool = False
    ignore_pvc_pods: bool = False
    node_fit: bool = False
    priority_threshold: int | None = None


@attrs.frozen
class RemoveDuplicatesDecl:
    """RemoveDuplicates: owner kinds whose pods are never treated as duplicates."""

    exclude_owner_kinds: tuple[str, ...] = ()


@attrs.frozen
class TopologySpreadDecl:
    """RemovePodsViolatingTopologySpreadConstraint: which constraints to balance
    (`DoNotSchedule`, and `ScheduleAnyway` when soft constraints are enabled)."""

    constraints: tuple[str, ...] = ("DoNotSchedule",)


@attrs.frozen
class NodeTaintsDecl:
    """RemovePodsViolatingNodeTaints: PreferNoSchedule taints too, and taints to ignore."""

    include_prefer_no_schedule: bool = False
    excluded_taints: tuple[str, ...] = ()


@attrs.frozen
class NodeAffinityDecl:
    """RemovePodsViolatingNodeAffinity: which affinity types to enforce."""

    node_affinity_type: tuple[str, ...] = ("requiredDuringSchedulingIgnoredDuringExecution",)


@attrs.frozen
class LowNodeUtilizationDecl:
    """LowNodeUtilization: percentages of allocatable (by requests) below which a node is
    underutilized (`thresholds`) and above which it is overutilized (`targetThresholds`)."""

    thresholds: FrozenMap[str, int] = attrs.field(default=EMPTY, converter=frozen_map)
    target_thresholds: FrozenMap[str, int] = attrs.field(default=EMPTY, converter=frozen_map)
    number_of_nodes: int = 0
    use_deviation_thresholds: bool = False


@attrs.frozen
class DeschedulerPlugins:
    """The strategies to run; a strategy is enabled by giving its section (even empty)."""

    remove_duplicates: RemoveDuplicatesDecl | None = None
    remove_pods_violating_topology_spread_constraint: TopologySpreadDecl | None = None
    remove_pods_violating_node_taints: NodeTaintsDecl | None = None
    remove_pods_violating_node_affinity: NodeAffinityDecl | None = None
    low_node_utilization: LowNodeUtilizationDecl | None = None


@attrs.frozen
class DeschedulerDecl:
    """The descheduler: its run interval (`--descheduling-interval`) and policy."""

    interval_seconds: int = 300
    evictor: EvictorDecl = EvictorDecl()
    plugins: DeschedulerPlugins = DeschedulerPlugins()
    max_pods_to_evict_per_node: int | None = None


@attrs.frozen
class NodeStep:
    """`kubectl cordon|uncordon <node>`."""

    node: str = ""


@attrs.frozen
class DrainStep:
    """`kubectl drain <node> --ignore-daemonsets [--delete-emptydir-data] [--force]
    [--disable-eviction] [--timeout=Ns]`: `timeoutSeconds` 0 (kubectl's default) waits for ever
    (`kubeprop.model.cluster.maintenance`)."""

    node: str = ""
    delete_emptydir_data: bool = False
    force: bool = False
    disable_eviction: bool = False
    timeout_seconds: int = 0


def is_set(value: Any) -> bool:
    """Whether an optional section was given."""
    return value is not None and value != ()
