"""The Service, policy, fault, release and descheduler parts of a generated scenario
(`scenario_strategy.draw_scenario` calls these; the module docstring there says what a draw is).

- Services: headless for StatefulSets; for Deployments to a port number or a named port the pods
  declare, sometimes publishing not-ready addresses;
- PodDisruptionBudgets (maxUnavailable or minAvailable, `unhealthyPodEvictionPolicy`) and
  HorizontalPodAutoscalers with the environment usage they read;
- a fault budget of at most one of each kind, with what an etcd restore and an API server flood
  need: a restore with the documented procedure (`--bump-revision`, `--mark-compacted`, the
  components restarted), with etcdutl's defaults, or with part of the procedure; a flood under
  API Priority and Fairness or the max-in-flight filter (docs/restore.md, docs/overload.md);
- a Kubernetes release (`RELEASES`: the model parameters that name release differences,
  docs/release.md) and the model switches users set (`markPodsNotReadyOnTransitionOnly`,
  `instantCaches`);
- a descheduler profile: one or two strategies with their arguments, the DefaultEvictor's
  arguments (always `nodeFit`: without it a strategy evicts pods that can only come back, the
  user's policy bug docs/descheduler.md shows), `maxPodsToEvictPerNode`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenario_strategy import Chooser, Workload

Doc = dict[str, Any]

GENERAL_FAULTS = ("nodeCrash", "partition", "containerCrash", "componentCrash", "watchDrop", "requestFailure")

RELEASES: tuple[tuple[str, Doc], ...] = (
    ("v1.33", {}),
    ("v1.33.0", {"schedulerTaintReasonDetail": True, "schedulerSidecarHostPorts": False}),
    ("v1.34", {"schedulerDynamicResources": True}),
    ("v1.32", {"schedulerBalancedSkipsBestEffort": False, "schedulerAsyncPreemption": False,
               "schedulerPopFromBackoffQ": False, "orderedNamespaceDeletion": False,
               "schedulerSidecarHostPorts": False}),
    ("v1.31", {"schedulerSidecarHostPorts": False, "nodeMonitorGracePeriodSeconds": 40,
               "schedulerBalancedSkipsBestEffort": False,
               "schedulerTaintReasonDetail": True, "schedulerAsyncPreemption": False,
               "schedulerPopFromBackoffQ": False, "orderedNamespaceDeletion": False}),
    ("v1.30", {"schedulerSidecarHostPorts": False, "nodeMonitorGracePeriodSeconds": 40,
               "schedulerBalancedSkipsBestEffort": False,
               "schedulerTaintReasonDetail": True, "endpointsStaleCacheTracking": False,
               "consistentListFromCache": False, "schedulerAsyncPreemption": False, "schedulerPopFromBackoffQ": False,
               "orderedNamespaceDeletion": False}),
    ("v1.27", {"schedulerSidecarHostPorts": False, "nodeMonitorGracePeriodSeconds": 40,
               "schedulerBalancedSkipsBestEffort": False,
               "schedulerTaintReasonDetail": True, "endpointsStaleCacheTracking": False,
               "consistentListFromCache": False, "apfPerLevelMaxSeats": False, "schedulerAsyncPreemption": False,
               "schedulerPopFromBackoffQ": False, "orderedNamespaceDeletion": False}),
    ("v1.25", {"schedulerSidecarHostPorts": False, "nodeMonitorGracePeriodSeconds": 40,
               "schedulerBalancedSkipsBestEffort": False,
               "schedulerTaintReasonDetail": True, "endpointsStaleCacheTracking": False,
               "consistentListFromCache": False, "apfPerLevelMaxSeats": False, "apfBorrowing": False,
               "schedulerAsyncPreemption": False, "schedulerPopFromBackoffQ": False,
               "orderedNamespaceDeletion": False}),
    ("v1.23", {"schedulerSidecarHostPorts": False, "nodeMonitorGracePeriodSeconds": 40,
               "schedulerBalancedSkipsBestEffort": False,
               "endpointsStaleCacheTracking": False, "consistentListFromCache": False,
               "apfPerLevelMaxSeats": False, "apfBorrowing": False, "podMaxInUnschedulablePodsSeconds": 60,
               "schedulerAsyncPreemption": False, "schedulerPopFromBackoffQ": False,
               "orderedNamespaceDeletion": False}),
)
"""Releases a user's cluster may run, each as the parameters of docs/release.md's table that differ
from v1.33 (the model's default): `schedulerTaintReasonDetail` from v1.25 until v1.35 (v1.33.0
prints the taint), `endpointsStaleCacheTracking` from v1.31, `consistentListFromCache` v1.31,
`apfPerLevelMaxSeats` v1.28, `apfBorrowing` v1.26, `podMaxInUnschedulablePodsSeconds` 300 from v1.24,
`nodeMonitorGracePeriodSeconds` 50 from v1.32, `schedulerBalancedSkipsBestEffort` v1.33,
`schedulerDynamicResources` on from v1.34, `schedulerAsyncPreemption`, `schedulerPopFromBackoffQ` and
`orderedNamespaceDeletion` on from v1.33,
`schedulerSidecarHostPorts` from v1.33.6 (v1.33.0 looks at the containers only)."""


def _choice(c: Chooser, options: Sequence[Any]) -> Any:
    return options[c.integer(0, len(options) - 1)]


def _meta(w: Workload) -> Doc:
    return {"name": w.name, "namespace": w.namespace}


def services(c: Chooser, workloads: Sequence[Workload], features: set[str]) -> list[Doc]:
    """A headless Service per StatefulSet, and a Service for most Deployments."""
    docs = []
    for w in workloads:
        if w.kind == "StatefulSet":
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(w),
                         "spec": {"clusterIP": "None", "selector": {"app": w.name}, "ports": [{"port": 8080}]}})
        elif w.kind == "Deployment" and c.flag(0.7):
            features.add("Service")
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(w),
                         "spec": _service_spec(c, w, features)})
    return docs


def _service_spec(c: Chooser, w: Workload, features: set[str]) -> Doc:
    """A Deployment's Service: port 80 to 8080, or to the named port `http` (which the pod's first
    container then declares: a user's Service names a port their pods have), sometimes publishing
    not-ready addresses."""
    spec: Doc = {"selector": {"app": w.name}, "ports": [{"port": 80, "targetPort": 8080}]}
    if c.flag(0.3):
        features.add("Service named targetPort")
        spec["ports"] = [{"name": "web", "port": 80, "targetPort": "http"}]
        w.pod["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    if c.flag(0.1):
        features.add("Service publishNotReadyAddresses")
        spec["publishNotReadyAddresses"] = True
    return spec


def _budget(c: Chooser, w: Workload, features: set[str]) -> Doc:
    """A PodDisruptionBudget over the workload's pods."""
    features.add("PodDisruptionBudget")
    spec: Doc = {"selector": {"matchLabels": {"app": w.name}}}
    if c.flag(0.3):
        features.add("PDB minAvailable")
        spec["minAvailable"] = _choice(c, (1, "50%", 0))
    else:
        spec["maxUnavailable"] = _choice(c, (1, "50%"))
    if c.flag(0.3):
        features.add("PDB unhealthyPodEvictionPolicy")
        spec["unhealthyPodEvictionPolicy"] = _choice(c, ("AlwaysAllow", "IfHealthyBudget"))
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(w), "spec": spec}


def _autoscaler(c: Chooser, w: Workload, features: set[str]) -> tuple[Doc, Doc]:
    """An HPA on the Deployment's CPU, and the usage it reads."""
    features.add("HorizontalPodAutoscaler")
    w.hpa_max = c.integer(2, 4)
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(w), "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.name},
        "minReplicas": 1, "maxReplicas": w.hpa_max, "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": _choice(c, (50, 80))}}}]}}
    usage: Doc = {"namespace": w.namespace, "pods": {"app": w.name}, "resource": "cpu"}
    if c.flag(0.5):
        usage["load"] = [f"{w.cpu_m * _choice(c, (1, 2))}m"]
    else:
        usage["levels"] = [f"{w.cpu_m // 2}m", f"{w.cpu_m * 2}m"]
    return hpa, usage


def policies(c: Chooser, workloads: Sequence[Workload], features: set[str]) -> tuple[list[Doc], list[Doc]]:
    """PodDisruptionBudgets and HPAs (with the environment usage an HPA reads)."""
    docs, usage = [], []
    for w in workloads:
        if w.kind == "Pod":
            continue
        if c.flag(0.25):
            docs.append(_budget(c, w, features))
        if w.kind == "Deployment" and c.flag(0.2):
            hpa, used = _autoscaler(c, w, features)
            docs.append(hpa)
            usage.append(used)
    return docs, usage


def _restore(c: Chooser, features: set[str]) -> Doc:
    """The parameters of an etcd restore: the documented procedure, etcdutl's defaults, or part of it."""
    way = c.integer(0, 2)
    if way == 0:
        features.add("etcdRestore procedure")
        return {"etcdRestoreBumpRevision": 1000, "etcdRestoreMarkCompacted": True,
                "etcdRestoreRestartsComponents": True}
    if way == 1:
        features.add("etcdRestore etcdutl defaults")
        return {}
    features.add("etcdRestore partial procedure")
    partial: Doc = _choice(c, ({"etcdRestoreBumpRevision": 1000, "etcdRestoreMarkCompacted": True},
                               {"etcdRestoreRestartsComponents": True}))
    return partial


def _overload(c: Chooser, features: set[str]) -> Doc:
    """The parameters of an API server flood: APF (the default) or max-in-flight."""
    params: Doc = {}
    if c.flag(0.3):
        features.add("overload max-in-flight")
        params["apiPriorityAndFairness"] = False
    if c.flag(0.3):
        params["overloadRequest"] = _choice(c, ("list pods", "list configmaps", "get pods"))
    return params


def faults(c: Chooser, usage: Sequence[Doc], features: set[str]) -> tuple[Doc, Doc]:
    """A fault budget (at most one of each kind) and the parameters it needs."""
    budget = {kind: 1 for kind in GENERAL_FAULTS if c.flag(0.35)}
    params: Doc = {}
    if c.flag(0.15):
        budget["maintenance"] = 1
    if any("levels" in u for u in usage) and c.flag(0.5):
        budget["usageChange"] = 1
    if c.flag(0.12):
        budget["etcdRestore"] = 1
        params.update(_restore(c, features))
    if c.flag(0.1):
        budget["overload"] = 1
        params.update(_overload(c, features))
    features.update(f"fault {k}" for k in budget)
    return budget, params


def release(c: Chooser, features: set[str]) -> Doc:
    """The parameters of a drawn release (v1.33, the default, half the time) and model switches."""
    name, params = RELEASES[0] if c.flag(0.5) else _choice(c, RELEASES)
    params = dict(params)
    features.add(f"release {name}")
    if c.flag(0.15):
        params["instantCaches"] = True
    if c.flag(0.15):
        params["markPodsNotReadyOnTransitionOnly"] = True
    return params


PLUGINS = ("removeDuplicates", "removePodsViolatingNodeTaints", "removePodsViolatingNodeAffinity",
           "removePodsViolatingTopologySpreadConstraint", "lowNodeUtilization")


def _plugin_args(c: Chooser, plugin: str) -> Doc:
    """A strategy's arguments as a user writes them (often none)."""
    if not c.flag(0.5):
        return {}
    if plugin == "removeDuplicates":
        return {"excludeOwnerKinds": ["StatefulSet"]}
    if plugin == "removePodsViolatingNodeTaints":
        return {"includePreferNoSchedule": True}
    if plugin == "removePodsViolatingTopologySpreadConstraint":
        return {"constraints": ["DoNotSchedule", "ScheduleAnyway"]}
    if plugin == "lowNodeUtilization":
        low = _choice(c, (20, 30))
        return {"thresholds": {"cpu": low, "memory": low, "pods": low},
                "targetThresholds": {"cpu": 2 * low + 10, "memory": 2 * low + 10, "pods": 2 * low + 10}}
    return {}


def descheduler(c: Chooser, features: set[str]) -> Doc:
    """A descheduler policy of one or two strategies (docs/descheduler.md)."""
    features.add("descheduler")
    plugins: Doc = {}
    for _ in range(c.integer(1, 2)):
        plugin = _choice(c, PLUGINS)
        features.add(f"descheduler {plugin}")
        plugins[plugin] = _plugin_args(c, plugin)
    if "lowNodeUtilization" in plugins and not plugins["lowNodeUtilization"]:
        plugins["lowNodeUtilization"] = {"thresholds": {"cpu": 20, "memory": 20, "pods": 20},
                                         "targetThresholds": {"cpu": 50, "memory": 50, "pods": 50}}
    evictor: Doc = {"nodeFit": True}
    if c.flag(0.2):
        evictor["evictLocalStoragePods"] = True
    if c.flag(0.2):
        evictor["priorityThreshold"] = 10000
    policy: Doc = {"intervalSeconds": _choice(c, (300, 60)), "evictor": evictor, "plugins": plugins}
    if c.flag(0.2):
        policy["maxPodsToEvictPerNode"] = _choice(c, (1, 2))
    return policy
