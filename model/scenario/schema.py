"""The schema of a scenario file (`kind: Scenario`), decoded strictly by `kubeprop.model.api.codec`.

docs/scenario.md documents every field; this module is the single source of truth for names and
defaults. Resolution (loading manifests, building RBAC for users, importing admission plug-ins)
is in `kubeprop.model.scenario.load`. The workload steps' classes live in `schema_workload` (the
environment, descheduler and node-maintenance sections in `schema_addons`); they are imported here
too, their home before the split.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.core import Taint
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.storage import STORAGE_CLASS_CHOICES
from kubeprop.model.errors import describe_value
from kubeprop.model.fault_kinds import FaultCounts
from kubeprop.model.frozen import EMPTY, FrozenMap, frozen_map
from kubeprop.model.scenario.schema_addons import DeschedulerDecl, EnvironmentDecl
from kubeprop.model.scenario.schema_addons import DrainStep as DrainStep
from kubeprop.model.scenario.schema_addons import NodeStep as NodeStep
from kubeprop.model.scenario.schema_workload import ApplyStep as ApplyStep
from kubeprop.model.scenario.schema_workload import DeleteStep as DeleteStep
from kubeprop.model.scenario.schema_workload import RolloutRestartStep as RolloutRestartStep
from kubeprop.model.scenario.schema_workload import RolloutStatusStep as RolloutStatusStep
from kubeprop.model.scenario.schema_workload import ScaleStep as ScaleStep
from kubeprop.model.scenario.schema_workload import SetImageStep as SetImageStep
from kubeprop.model.scenario.schema_workload import WaitStep as WaitStep
from kubeprop.model.scenario.schema_workload import WorkloadStep as WorkloadStep
from kubeprop.model.scenario.schema_workload import parse_for as parse_for

SCENARIO_API_VERSION = "kubeprop.dev/v1alpha1"

PARAMETERS: dict[str, Any] = {
    "nodeMonitorGracePeriodSeconds": 50,
    "defaultTolerationSeconds": 300,
    "instantCaches": False,
    "schedulerInstances": 1,
    "leaderElection": True,
    "expectationsTimeoutSeconds": 300,
    "maxEndpointsPerSlice": 100,
    "endpointSliceMaxRetries": 15,
    "memoryPressureEvents": 0,
    "diskPressureEvents": 0,
    "pidPressureEvents": 0,
    "evictionPressureTransitionPeriodSeconds": 300,
    "crashLoopBackOffMaxSeconds": 300,
    "schedulerDisabledFilters": (),
    "podMaxInUnschedulablePodsSeconds": 300,
    "schedulerTaintReasonDetail": False,
    "schedulerDynamicResources": False,
    "schedulerBalancedSkipsBestEffort": True,
    "schedulerSidecarHostPorts": True,
    "schedulerAsyncPreemption": True,
    "schedulerPopFromBackoffQ": True,
    "markPodsNotReadyOnTransitionOnly": False,
    "replicaSetExpectations": True,
    "replicaSetRequeueAtNextAvailability": False,
    "daemonSetExpectations": True,
    "jobTrackingWithFinalizers": True,
    "cronJobNameLock": True,
    "rolloutUnavailableOneWhenBothZero": True,
    "statefulSetReplaceTerminatingPods": False,
    "maxUnavailableStatefulSet": False,
    "matchLabelKeysInPodAffinity": True,
    "statefulSetResyncSeconds": 0,
    "endpointsIncludeTerminating": False,
    "endpointsReadinessSource": "ready-condition",
    "endpointsStaleCacheTracking": True,
    "terminatedPodGCThreshold": 12500,
    "listFromWatchCache": False,
    "etcdQuorum": "majority",
    "userControllerCache": "shared",
    "hpaSyncPeriodSeconds": 15,
    "hpaDownscaleStabilizationSeconds": 300,
    "hpaTolerance": 0.1,
    "hpaCpuInitializationPeriodSeconds": 300,
    "hpaInitialReadinessDelaySeconds": 30,
    "hpaContainerNotFoundError": False,
    "metricsResolutionSeconds": 15,
    "drainRetrySeconds": 5,
    "disruptionDeletionTimeoutSeconds": 120,
    "orderedNamespaceDeletion": True,
    "etcdRestoreBumpRevision": 0,
    "etcdRestoreMarkCompacted": False,
    "etcdRestoreRestartsComponents": False,
    "apiPriorityAndFairness": True,
    "apfBorrowing": True,
    "apfPerLevelMaxSeats": True,
    "consistentListFromCache": True,
    "overloadClients": ("system:serviceaccount:default:batch",),
    "overloadRequest": "list pods",
    "defaultStorageClass": "zonal",
    "controllerManagerMaxOutageSeconds": 20,
    "schedulerMaxOutageSeconds": 20,
    "kubeletMaxOutageSeconds": 10,
    "etcdMemberMaxOutageSeconds": 5,
    "deschedulerTopologyPreferFitting": False,
}
"""Model parameters a scenario may set, with their defaults (upstream defaults; see
docs/scenario.md for the source of each, tests/docs/test_parameters_table.py keeps that table
whole). Later model components read them from here. The defaults follow Kubernetes v1.33 but
`schedulerTaintReasonDetail`, which follows v1.35's wording; docs/release.md lists every parameter whose upstream value
changed between releases, with the release it changed in."""


MAX_UNRANGED_INTEGER = 10**9
"""The largest value an integer parameter without a declared range accepts (they accept 0 and up)."""


@attrs.frozen
class ParameterRange:
    """The valid values of a model parameter beyond its type (which is its default's type: a
    boolean, an integer, a number, a string, or a list of strings). `minimum`/`maximum` bound a
number (`hpaTolerance`) or an integer;
    `choices` lists the valid strings (for a list parameter: the valid items)."""

    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    note: str = ""
    """Why the range is what it is, where upstream sets it: said after an integer out of range."""


DAY_SECONDS = 86_400
"""The longest duration a seconds parameter or a scenario's period accepts: a day of model time
(every timer of the model is shorter; a longer one only makes runs tick longer to reach it)."""


PARAMETER_RANGES: dict[str, ParameterRange] = {
    # the model's ticks are seconds; a node silent for 0 s would be lost at once
    "nodeMonitorGracePeriodSeconds": ParameterRange(1, 86_400),
    "defaultTolerationSeconds": ParameterRange(0, 86_400),
    # each instance is a process of the model: more than a few make every state space explode
    "schedulerInstances": ParameterRange(1, 8),
    "expectationsTimeoutSeconds": ParameterRange(0, 86_400),
    # 0: no resync (v1.15 and later); 30: statefulSetResyncPeriod of v1.14 and before
    "statefulSetResyncSeconds": ParameterRange(0, DAY_SECONDS),
    # cmd/kube-controller-manager/app/options/endpointslicecontroller.go: minMaxEndpointsPerSlice = 1,
    # maxMaxEndpointsPerSlice = 1000
    "maxEndpointsPerSlice": ParameterRange(1, 1000),
    # pkg/controller/endpointslice/endpointslice_controller.go maxRetries, a constant (15) upstream: a
    # scenario lowers it to reach the drop within its clock (15 take 6,023 s of back-off)
    "endpointSliceMaxRetries": ParameterRange(0, 15),
    "memoryPressureEvents": ParameterRange(0, 100),
    "diskPressureEvents": ParameterRange(0, 100),
    "pidPressureEvents": ParameterRange(0, 100),
    # the kubelet's --eviction-pressure-transition-period (5m): upstream's config defaulting turns 0
    # into the default (pkg/kubelet/apis/config/v1beta1/defaults.go), so no cluster runs without one
    "evictionPressureTransitionPeriodSeconds": ParameterRange(1, DAY_SECONDS),
    # the kubelet's crashLoopBackOff.maxContainerRestartPeriod (gate KubeletCrashLoopBackOffMax, v1.32+):
    # pkg/kubelet/apis/config/validation/validation.go ValidateKubeletConfiguration refuses a period
    # outside 1000..300000 ms ("must be set between 1s and 300s"); without the gate it is
    # MaxContainerBackOff, 300 s (pkg/kubelet/kubelet.go), and setting it is refused
    "crashLoopBackOffMaxSeconds": ParameterRange(1, 300, note=(
        "the kubelet's crashLoopBackOff.maxContainerRestartPeriod, which its configuration validation "
        "accepts from 1s to 300s")),
    "schedulerDisabledFilters": ParameterRange(choices=(
        "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit",
        "PodTopologySpread", "InterPodAffinity")),
    "endpointsReadinessSource": ParameterRange(choices=("ready-condition", "containers-running")),
    # pkg/controller/podgc: a threshold <= 0 disables the terminated-pod collection
    "terminatedPodGCThreshold": ParameterRange(0, 1_000_000),
    "etcdQuorum": ParameterRange(choices=("majority", "ceil")),
    # a user controller's process: the controller manager's shared cache, or an operator's own
    # (`kubeprop.model.controllers.processes`; per controller: the scenario's `controllerCaches`)
    "userControllerCache": ParameterRange(choices=("shared", "own")),
    # the cluster's default StorageClass (kubeprop.model.api.storage CLUSTER_CLASSES)
    "defaultStorageClass": ParameterRange(choices=STORAGE_CLASS_CHOICES),
    # periods: 0 would make the HPA sync, metrics-server scrape or a drain retry at every instant
    # (upstream's flags are durations without validation: cmd/kube-controller-manager/app/options/
    # hpacontroller.go Validate returns no errors)
    "hpaSyncPeriodSeconds": ParameterRange(1, DAY_SECONDS),
    "metricsResolutionSeconds": ParameterRange(1, DAY_SECONDS),
    "drainRetrySeconds": ParameterRange(1, DAY_SECONDS),
    # a crashed process's longest outage (`kubeprop.model.cluster.outages`): 0 brings it back before
    # the clock moves; a day is as good as no bound within the model's runs
    "controllerManagerMaxOutageSeconds": ParameterRange(0, DAY_SECONDS),
    "schedulerMaxOutageSeconds": ParameterRange(0, DAY_SECONDS),
    "kubeletMaxOutageSeconds": ParameterRange(0, DAY_SECONDS),
    "etcdMemberMaxOutageSeconds": ParameterRange(0, DAY_SECONDS),
    # windows and delays: 0 turns them off
    "hpaDownscaleStabilizationSeconds": ParameterRange(0, DAY_SECONDS),
    "hpaCpuInitializationPeriodSeconds": ParameterRange(0, DAY_SECONDS),
    "hpaInitialReadinessDelaySeconds": ParameterRange(0, DAY_SECONDS),
    "disruptionDeletionTimeoutSeconds": ParameterRange(0, DAY_SECONDS),
    "podMaxInUnschedulablePodsSeconds": ParameterRange(0, DAY_SECONDS),
    # the least change (from 1.0) of the desired-to-actual metrics ratio the HPA acts on
    # (pkg/controller/podautoscaler/replica_calculator.go); upstream's float flag is unchecked
    # (hpacontroller.go, above), but a negative tolerance scales at every sync and 1 already means
    # "never scale down"; a string or NaN crashed the model
    "hpaTolerance": ParameterRange(0, 1),
}
"""Declared ranges of the parameters (`parameter_problem` checks them). A parameter without an
entry here still has its type checked, and an integer one accepts 0..MAX_UNRANGED_INTEGER."""


SHOWN = 40
"""The most characters of a wrong value a message shows (`cut`)."""


def cut(value: object) -> str:
    """`value` as a message shows it: its text, cut to `SHOWN` characters."""
    text = str(value)
    return text if len(text) <= SHOWN else f"{text[:SHOWN - 3]}..."


def _number_problem(value: Any, rng: ParameterRange) -> str | None:
    """A float parameter: any finite number (an integer too) within the range."""
    low = 0 if rng.minimum is None else rng.minimum
    high = MAX_UNRANGED_INTEGER if rng.maximum is None else rng.maximum
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not number or not low <= value <= high:  # NaN compares false both ways, so it is refused too
        return f"must be a number from {low:g} to {high:g}, got {describe_value(value)}"
    return None


def _integer_problem(value: Any, rng: ParameterRange) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer, got {describe_value(value)}"
    low = 0 if rng.minimum is None else rng.minimum
    high = MAX_UNRANGED_INTEGER if rng.maximum is None else rng.maximum
    if not low <= value <= high:
        return f"must be between {low} and {high}, got {value}" + (f" ({rng.note})" if rng.note else "")
    return None


BOOLEAN_WORDS = ("true", "True", "TRUE", "false", "False", "FALSE")
"""How a boolean parameter may be written: YAML 1.2's booleans. YAML 1.1 (PyYAML, and Kubernetes'
yaml.v2 for manifests) also reads `yes`, `no`, `on`, `off`, `y`, `n` as booleans; a parameter
written so is refused (`boolean_word_problem`), since `instantCaches=yes` may not mean what it says."""


def boolean_word_problem(name: str, value: Any, written: str | None) -> str | None:
    """Why a boolean parameter `name` whose value YAML read as `value` from the text `written` is
    not valid: it was written as one of YAML 1.1's other boolean words. None otherwise (also when
    `written` is unknown or the value is not a boolean: `parameter_problem` judges those)."""
    if written is None or not isinstance(value, bool) or not isinstance(PARAMETERS.get(name), bool):
        return None
    if written.strip() in BOOLEAN_WORDS:
        return None
    return (f"must be true or false, got {written.strip()[:40]!r} (YAML 1.1 reads it as {str(value).lower()}; "
            "write true or false)")


def parameter_problem(name: str, value: Any) -> str | None:
    """Why `value` is not a valid value of model parameter `name`, or None if it is (an unknown
    name is a problem too). The message says what would be valid."""
    if name not in PARAMETERS:
        return f"unknown parameter; valid: {', '.join(PARAMETERS)}"
    default = PARAMETERS[name]
    rng = PARAMETER_RANGES.get(name, ParameterRange())
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"must be true or false, got {describe_value(value)}"
    if isinstance(default, int):
        return _integer_problem(value, rng)
    if isinstance(default, float):
        return _number_problem(value, rng)
    if isinstance(default, str):
        if not isinstance(value, str):
            return f"must be a string, got {describe_value(value)}"
        if rng.choices and value not in rng.choices:
            return f"must be one of: {', '.join(rng.choices)} (got {value!r})"
        return None
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return f"must be a list of strings, got {describe_value(value)}"
        bad = [v for v in value if rng.choices and v not in rng.choices]
        if bad:
            return f"unknown item {bad[0]!r}; valid items: {', '.join(rng.choices)}"
        return None
    return None


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


KUBECTL_WEEK_SECONDS = 7 * DAY_SECONDS
"""kubectl wait's "for ever" (a negative `--timeout`), and the longest timeout a step accepts."""


@attrs.frozen
class FaultBudget(FaultCounts):
    """How many faults of each kind exploration may inject before `Quiesce` (the kinds:
    `kubeprop.model.fault_kinds`)."""


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
    controller_caches: FrozenMap[str, str] = attrs.field(default=EMPTY, converter=frozen_map)
    """A user controller's name → `own` (it runs as a process of its own, with its own informer cache)
    or `shared` (in the controller manager, on its shared cache); a controller not named here takes
    the parameter `userControllerCache` (`kubeprop.model.controllers.processes`)."""
    properties: tuple[str, ...] = ()
    """Your own properties, `module` or `module:attribute` (loaded by `kubeprop.properties.modules`)."""
    environment: EnvironmentDecl = EnvironmentDecl()
    descheduler: DeschedulerDecl | None = None
