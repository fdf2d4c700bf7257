"""The schema of a scenario file (`kind: Scenario`), decoded strictly by `kubeprop.model.api.codec`.

docs/scenario.md documents every field; this module is the single source of truth for names and
defaults. Resolution (loading manifests, building RBAC for users, importing admission plug-ins)
is in `kubeprop.model.scenario.load`.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.core import Taint
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map

SCENARIO_API_VERSION = "kubeprop.dev/v1alpha1"

PARAMETERS: dict[str, Any] = {
    "nodeMonitorGracePeriodSeconds": 50,
    "defaultTolerationSeconds": 300,
    "instantCaches": False,
    "schedulerInstances": 1,
    "leaderElection": True,
    "expectationsTimeoutSeconds": 300,
    "maxEndpointsPerSlice": 100,
    "memoryPressureEvents": 0,
    "crashLoopBackOffMaxSeconds": 300,
    "schedulerDisabledFilters": (),
    "podMaxInUnschedulablePodsSeconds": 300,
    "schedulerTaintReasonDetail": False,
    "schedulerDynamicResources": False,
    "schedulerBalancedSkipsBestEffort": True,
    "markPodsNotReadyOnTransitionOnly": False,
    "replicaSetExpectations": True,
    "rolloutUnavailableOneWhenBothZero": True,
    "statefulSetReplaceTerminatingPods": False,
    "endpointsIncludeTerminating": False,
    "endpointsReadinessSource": "ready-condition",
    "endpointsStaleCacheTracking": True,
    "terminatedPodGCThreshold": 12500,
    "listFromWatchCache": False,
    "etcdQuorum": "majority",
    "etcdRestoreBumpRevision": 0,
    "etcdRestoreMarkCompacted": False,
    "etcdRestoreRestartsComponents": False,
    "apiPriorityAndFairness": True,
    "overloadClients": ("system:serviceaccount:default:batch",),
    "overloadRequest": "list pods",
}
"""Model parameters a scenario may set, with their defaults (upstream defaults; see
docs/scenario.md for the source of each). Later model components read them from here. The
defaults follow Kubernetes v1.33; docs/release.md lists every parameter whose upstream value
changed between releases, with the release it changed in."""


@attrs.frozen
class ScenarioMeta:
    """The scenario's name and a free-text description."""

    name: str = ""
    description: str = ""


@attrs.frozen
class NodeDecl:
    """A node of the topology. `allocatable` defaults to `capacity` and vice versa."""

    name: str = ""
    role: str = "worker"
    capacity: FrozenMap[str, Quantity] = attrs.field(default=EMPTY, converter=frozen_map)
    allocatable: FrozenMap[str, Quantity] = attrs.field(default=EMPTY, converter=frozen_map)
    labels: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False


@attrs.frozen
class EtcdMemberDecl:
    """An etcd member and the control-plane node it runs on."""

    name: str = ""
    node: str = ""


@attrs.frozen
class TopologyDecl:
    """Nodes (workers and control-plane) and etcd members."""

    nodes: tuple[NodeDecl, ...] = ()
    etcd: tuple[EtcdMemberDecl, ...] = ()


@attrs.frozen
class RoleGrant:
    """A RoleBinding in `namespace` to a Role (`role`) or a ClusterRole (`clusterRole`)."""

    namespace: str = ""
    role: str = ""
    cluster_role: str = ""


@attrs.frozen
class UserDecl:
    """A user the API server authenticates, and the roles bound to it."""

    name: str = ""
    groups: tuple[str, ...] = ()
    cluster_roles: tuple[str, ...] = ()
    roles: tuple[RoleGrant, ...] = ()


@attrs.frozen
class ScaleStep:
    """`kubectl scale <kind>/<namespace>/<name> --replicas=N`: exactly one of the three targets."""

    deployment: str = ""
    statefulset: str = ""
    replicaset: str = ""
    replicas: int = 0


@attrs.frozen
class SetImageStep:
    """`kubectl set image`: a workload's container gets a new image."""

    deployment: str = ""
    statefulset: str = ""
    container: str = ""
    image: str = ""


@attrs.frozen
class DeleteStep:
    """`kubectl delete <kind> <name>` with an optional propagation policy."""

    kind: str = ""
    name: str = ""
    namespace: str = "default"
    propagation_policy: str = ""


@attrs.frozen
class WorkloadStep:
    """One user action of the workload: exactly one field is set."""

    apply: str = ""
    scale: ScaleStep | None = None
    set_image: SetImageStep | None = None
    delete: DeleteStep | None = None


@attrs.frozen
class FaultBudget:
    """How many faults of each kind exploration may inject before `Quiesce`."""

    node_crash: int = 0
    partition: int = 0
    container_crash: int = 0
    component_crash: int = 0
    watch_drop: int = 0
    request_failure: int = 0
    etcd_restore: int = 0
    overload: int = 0


@attrs.frozen
class Bounds:
    """Exploration bounds (engines may be given tighter ones on the command line)."""

    max_depth: int | None = None
    max_states: int | None = None
    tick_seconds: int = 10
    time_limit_seconds: int | None = None


@attrs.frozen
class ScenarioFile:
    """A whole scenario file as written."""

    api_version: str = ""
    kind: str = ""
    metadata: ScenarioMeta = ScenarioMeta()
    manifests: tuple[str, ...] = ()
    topology: TopologyDecl = TopologyDecl()
    users: tuple[UserDecl, ...] = ()
    apply_as: str = ""
    workload: tuple[WorkloadStep, ...] = ()
    faults: FaultBudget = FaultBudget()
    bounds: Bounds = Bounds()
    parameters: FrozenMap[str, Any] = attrs.field(default=EMPTY, converter=frozen_map)
    variant: str = "correct"
    admission: tuple[str, ...] = ()
    controllers: tuple[str, ...] = ()
