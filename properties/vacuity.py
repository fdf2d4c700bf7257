"""Vacuity: when a property could not have failed, say so instead of reporting "held".

A property about Services holds trivially in a cluster that can never have a Service, and a variant
that changes what happens after a node is lost cannot show anything when the scenario's fault
budget never loses one. `vacuity(model, prop)` and `variant_vacuity(model)` answer with the reason
(None: the property or variant can show), judged statically on the model:

- the kinds of object that can ever exist: those in the manifests and the workload steps, closed
  under what the built-in controllers create (Deployment → ReplicaSet → Pod; StatefulSet → Pod,
  PersistentVolumeClaim; DaemonSet → Pod; Job → Pod; CronJob → Job; Service → Endpoints, EndpointSlice) and nodes. A
  model with a controller of your own could create anything, so then no resource requirement is judged vacuous;
- the fault kinds with a budget (`faults:`);
- whether the cluster can have a node at all (a scenario file without `topology.nodes` or Node
  manifests has none): the properties about pods on nodes need one (`Needs.nodes`);
- for the cycle properties `drains-complete` and `no-eviction-loop`: whether a drain can run and
  whether anything can evict a pod (`kubeprop.properties.vacuity_cycles`).

What a property needs is its `Needs` (`Property.needs`, or `BUILTIN_NEEDS` for the built-ins);
what a variant needs is `VARIANT_NEEDS` (docs/variants.md lists both).
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from pathlib import Path

from kubeprop.model.api.apps import Deployment, RollingUpdateDeployment
from kubeprop.model.api.ext import CustomResourceDefinition
from kubeprop.model.api.objects import ApiObject, Node, Pod, kind_info, known_kinds, qualified_resource
from kubeprop.model.controllers.deployment_util import resolve_fenceposts
from kubeprop.model.controllers.registry import builtin_controller_types
from kubeprop.model.fault_kinds import FAULT_KINDS
from kubeprop.model.kubelet.pressure import BUDGETS as PRESSURE_BUDGETS
from kubeprop.model.scenario.schema import WorkloadStep
from kubeprop.model.scenario.schema_addons import EnvironmentDecl
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.invariants import workload_steps_succeed
from kubeprop.properties.registry import Needs, Property, needs_problems
from kubeprop.properties.vacuity_capacity import can_overcommit
from kubeprop.properties.vacuity_cycles import cycle_vacuity
from kubeprop.properties.workload_finish import workload_steps_finish

__all__ = [
    "BUILTIN_NEEDS",
    "NO_NODE",
    "VARIANT_NEEDS",
    "VARIANT_TARGETS",
    "known_resources",
    "needs_of",
    "nodes_possible",
    "possible_resources",
    "scenario_needs",
    "unknown_needs",
    "vacuity",
    "vacuous_properties",
    "variant_vacuity",
]

NODE_LOSS = ("node_crash", "partition", "component_crash")
"""Fault kinds that take a node's kubelet away (a node crash, a partition, a kubelet crash)."""

HEARTBEAT_LOSS = (*NODE_LOSS, "overload")
"""Fault kinds that stop a node's heartbeats, so the node lifecycle controller marks it Unknown:
`NODE_LOSS`, and an overload that refuses them (`kubeprop.model.cluster.overload`: with
max-in-flight a starved node's Lease and status updates get 429 until the flood ends; the state's
`heartbeat_lost`, as for a crash or a partition)."""

TAINTING_FAULTS = (*HEARTBEAT_LOSS, "maintenance")
"""Fault kinds after which the node lifecycle controller may taint a node: those that stop its
heartbeats (`HEARTBEAT_LOSS`) give it `node.kubernetes.io/unreachable` or `not-ready`, a maintenance
cordons it (`unschedulable`)."""

BUILTIN_NEEDS: dict[str, Needs] = {
    "endpoints-ready-pods": Needs(("services",)),
    "node-not-overcommitted": Needs(("pods",), nodes=True),
    "bindings-respect-hard-constraints": Needs(("pods",), nodes=True),
    "one-running-pod-per-identity": Needs(("statefulsets.apps", "pods/reapplied"), nodes=True),
    "read-write-once-volume-on-one-node": Needs(("persistentvolumeclaims",), nodes=True),
    "replicaset-no-overcreation": Needs(("replicasets.apps",)),
    "rollout-surge-bound": Needs(("deployments.apps",)),
    "scheduler-decisions-sound": Needs(("pods",), nodes=True),
    "deployments-complete": Needs(("deployments.apps",)),
    "workloads-ready": Needs(("replicasets.apps", "statefulsets.apps")),
    "endpoints-match-ready-pods": Needs(("services",)),
    "schedulable-pods-bound": Needs(("pods",), nodes=True),
    "pods-on-unknown-nodes-not-ready": Needs(("pods",), (HEARTBEAT_LOSS,), nodes=True),
}
"""What each built-in property needs to be able to fail. `pods/reapplied`: a pod name that can come
back, i.e. a Pod in a workload `apply` step. `nodes=True`: the property judges pods bound to, running
on or fitting a node (the stored Nodes, the kubelets' pods), so a cluster without a node cannot fail it."""

VARIANT_NEEDS: dict[str, Needs] = {
    "rs-no-expectations": Needs(("replicasets.apps",)),
    "ds-no-expectations": Needs(("daemonsets.apps",), nodes=True),
    "job-legacy-tracking": Needs(("jobs.batch",), nodes=True),
    "cronjob-no-name-lock": Needs(("cronjobs.batch",)),
    "endpoints-terminating": Needs(("services",)),
    "endpoints-liveness": Needs(("services",)),
    "endpoints-stale-cache": Needs(("services",)),
    "nodelifecycle-crash": Needs(("pods",), (("component_crash",), ("node_crash", "partition", "overload")),
                                 nodes=True),
    "sts-split-brain": Needs(("statefulsets.apps",), (("node_crash", "partition"),), nodes=True),
    "rollout-fencepost": Needs(("deployments.apps",)),
    "scheduler-ignores-taints": Needs(("pods",), nodes=True),
    "dual-scheduler": Needs(("pods",), nodes=True),
    "watch-time-travel": Needs(("statefulsets.apps",), (("component_crash", "node_crash"),)),
}
"""What each catalogue variant needs for its changed mechanism to matter: the objects it acts on
and the faults that trigger it (one kind from each group)."""

VARIANT_TARGETS: dict[str, tuple[str, ...]] = {
    "rs-no-expectations": ("replicaset-no-overcreation",),
    "ds-no-expectations": ("daemonset-one-pod-per-node",),
    "job-legacy-tracking": ("job-pods-counted",),
    "cronjob-no-name-lock": ("cronjob-one-job-per-schedule",),
    "endpoints-terminating": ("endpoints-ready-pods",),
    "endpoints-liveness": ("endpoints-ready-pods",),
    "endpoints-stale-cache": ("endpoints-ready-pods", "endpoints-match-ready-pods"),
    "nodelifecycle-crash": ("pods-on-unknown-nodes-not-ready",),
    "sts-split-brain": ("one-running-pod-per-identity", "read-write-once-volume-on-one-node"),
    "rollout-fencepost": ("deployments-complete",),
    "scheduler-ignores-taints": ("bindings-respect-hard-constraints",),
    "dual-scheduler": ("node-not-overcommitted",),
    "watch-time-travel": ("resource-versions-monotonic", "one-running-pod-per-identity"),
}
"""The properties that catch each variant (docs/variants.md, "caught by"): when the variant cannot
show, their "held" says nothing about it, so they are reported vacuous with the variant's reason."""

CREATES: dict[str, tuple[str, ...]] = {
    "deployments.apps": ("replicasets.apps", "pods"),
    "replicasets.apps": ("pods",),
    "statefulsets.apps": ("pods", "persistentvolumeclaims"),
    "daemonsets.apps": ("pods",),
    "jobs.batch": ("pods",),
    "cronjobs.batch": ("jobs.batch",),
    "services": ("endpoints", "endpointslices.discovery.k8s.io"),
}
"""What the built-in controllers create from each kind (`pkg/controller/deployment`, `replicaset`,
`statefulset`, `daemon`, `job`, `cronjob`, `endpoint`, `endpointslice`)."""

FAULT_NAMES = {"node_crash": "nodeCrash", "partition": "partition", "container_crash": "containerCrash",
               "component_crash": "componentCrash", "watch_drop": "watchDrop", "request_failure": "requestFailure",
               "maintenance": "maintenance", "overload": "overload"}
"""FaultBudget field → its name in a scenario's `faults:`."""


def _resource(obj: ApiObject) -> str:
    return qualified_resource(kind_info(obj))


def own_controllers(model: ClusterModel) -> tuple[str, ...]:
    """Names of the model's controllers that are not the built-in ones: neither those always run
    (`default_controllers`) nor those added where the scenario needs them, as the disruption
    controller for a PodDisruptionBudget (`ADDON_CONTROLLERS`; `pkg/controller/disruption/
    disruption.go` only writes PDB status and pods' DisruptionTarget condition, it creates nothing).
    A user's controller that replaces a built-in one by name is a type of its own, so it counts."""
    builtin = builtin_controller_types(model.parameters)
    return tuple(c.name for c in model.controllers if type(c) not in builtin)


def possible_resources(model: ClusterModel) -> frozenset[str] | None:
    """Every qualified resource an object of which can exist in some run (None: unknown, because
    a controller of your own may create anything)."""
    if own_controllers(model):
        return None
    found = {"nodes"} | {_resource(m.obj) for m in model.scenario.objects}
    for objects in model.workload_objects:
        found |= {_resource(o) for o in objects}
        if any(isinstance(o, Pod) for o in objects):
            found.add("pods/reapplied")
    todo = list(found)
    while todo:
        for made in CREATES.get(todo.pop(), ()):
            if made not in found:
                found.add(made)
                todo.append(made)
    return frozenset(found)


def known_resources(model: ClusterModel) -> frozenset[str]:
    """Every qualified resource a `Needs` may name in `model`: the built-in kinds', the scenario's
    CRD-defined ones, whatever can exist in a run, and `pods/reapplied`."""
    crds = [o for o in (*(m.obj for m in model.scenario.objects), *(o for objs in model.workload_objects for o in objs))
            if isinstance(o, CustomResourceDefinition)]
    known = {qualified_resource(info) for info in known_kinds(crds).values()}
    return frozenset(known | (possible_resources(model) or set()) | {"pods/reapplied"})


def unknown_needs(model: ClusterModel, props: Iterable[Property]) -> list[str]:
    """Every problem of the properties' own `Needs`: one that is not a valid `Needs`
    (`registry.needs_problems`: not a `Needs`, resources that are not strings, fault kinds that are
    not `FaultBudget` field names, a `nodes` that is not a bool — a `Property` built by hand skips
    `as_property`'s check), and each resource that no kind of `model` has (a misspelt name would
    make the property read as vacuous — "no jobs can exist" — where it holds), with the qualified
    names it may have meant."""
    known = known_resources(model)
    problems = []
    for prop in props:
        needs: object = getattr(prop, "needs", None)
        shape = needs_problems(prop.name, needs)
        problems += shape
        if shape or not isinstance(needs, Needs):
            continue
        for resource in needs.resources:
            if resource in known:
                continue
            meant = _meant(resource.lower(), known) or get_close_matches(resource, sorted(known), n=3)
            hint = f"; did you mean {' or '.join(repr(m) for m in meant)}?" if meant else ""
            problems.append(f"property {prop.name}: Needs names resource {resource!r}, which no kind of this scenario "
                            f"has (resources are lowercase plurals qualified by their API group, e.g. 'pods', "
                            f"'jobs.batch', 'deployments.apps'){hint}")
    return problems


def scenario_needs(path: Path | None, props: Iterable[Property]) -> list[str]:
    """`unknown_needs` of `props` and of the scenario's own properties (its `properties:`) in the
    model of the scenario at `path` (None: the built-in one) at its defaults (what resources a
    `Needs` may name does not depend on parameters or variant): what `kubeprop check` refuses
    before it runs, for the gate's configuration check (`kubeprop.properties.cli.gate_config`), so
    that a misspelt `Needs` is not a vacuous case that passes. A scenario that does not load is the
    check's own error case: nothing here."""
    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.errors import InputError
    from kubeprop.properties.modules import load_own_scenario, scenario_properties

    try:
        scenario = load_own_scenario(path)
        checked = {p.name: p for p in (*props, *scenario_properties(scenario))}
        model = build_model(scenario)
    except (InputError, OSError):
        return []
    return unknown_needs(model, checked.values())


def _meant(resource: str, known: frozenset[str]) -> list[str]:
    """The known resources `resource` spells without its plural's "s" or its API group."""
    name, _, group = resource.partition(".")
    plural = f"{name}s.{group}" if group else f"{name}s"
    return sorted(r for r in known if r == plural or (not group and r.split(".")[0] in (name, plural)))


def _display(resource: str) -> str:
    return {"pods/reapplied": "re-applied Pod", "statefulsets.apps": "StatefulSet",
            "replicasets.apps": "ReplicaSet", "deployments.apps": "Deployment", "services": "Service",
            "persistentvolumeclaims": "PersistentVolumeClaim", "pods": "Pod",
            "daemonsets.apps": "DaemonSet"}.get(resource, resource)


def _missing(model: ClusterModel, needs: Needs) -> str | None:
    """Why `needs` cannot be met in `model` (None: it can)."""
    possible = possible_resources(model)
    if needs.resources and possible is not None and not possible & set(needs.resources):
        kinds = " or ".join(_display(r) for r in needs.resources)
        return f"no {kinds} can exist (not in the manifests or workload steps, nor made by a built-in controller)"
    if needs.nodes and not nodes_possible(model):
        return NO_NODE
    budget = model.budget
    for group in needs.faults:
        if not any(getattr(budget, kind, 0) > 0 for kind in group):
            names = " or ".join(FAULT_NAMES.get(k, k) for k in group)
            return f"no fault budget for {names} (scenario `faults:`)"
    return None


NO_NODE = ("the cluster has no node (no `topology.nodes`, no Node manifest or `apply` step): no pod is bound to, "
           "runs on or fits a node")
"""The vacuity reason of a property or variant that needs a node (`Needs.nodes`), in a cluster without one."""


def nodes_possible(model: ClusterModel) -> bool:
    """Whether some run can have a node: the topology's (a scenario's `topology.nodes`, the Node
    manifests, a manifest folder's default workers), a Node an `apply` step writes, or one that
    code of the user's (a controller, environment rules) may create."""
    if model.nodes or own_controllers(model) or model.scenario.environment_rules:
        return True
    return any(isinstance(o, Node) for objects in model.workload_objects for o in objects)


def needs_of(prop: Property) -> Needs:
    """What `prop` needs to be able to fail: its own declaration, else the built-in table's (a cycle
    property declares nothing: `drains-complete` and `no-eviction-loop` are judged by
    `vacuity_cycles.cycle_vacuity`, the others need nothing)."""
    declared: Needs | None = getattr(prop, "needs", None)
    return declared if declared is not None else BUILTIN_NEEDS.get(prop.name, Needs())


def vacuity(model: ClusterModel, prop: Property) -> str | None:
    """Why `prop` could not have failed in any run of `model` (None: it could)."""
    missing = _missing(model, needs_of(prop))
    workload = model.scenario.spec.workload
    if missing is None and prop == workload_steps_succeed and not workload:
        missing = "no workload step (the scenario's `workload:` is empty): there is no kubectl command to fail"
    if missing is None and prop == workload_steps_finish and not any(map(can_wait_for_ever, workload)):
        missing = ("no workload step can wait for ever (no drain or rolloutStatus without a timeout, no wait with "
                   "timeoutSeconds -1, no delete that waits for its object)")
    return missing if missing is not None else cycle_vacuity(model, prop)


def can_wait_for_ever(step: WorkloadStep) -> bool:
    """Whether a workload step is a kubectl command that may wait without a deadline: a drain or a
    rollout status without a timeout, a wait with timeout -1, a delete that waits (`--wait`)."""
    if step.drain is not None or step.rollout_status is not None:
        waiting = step.drain or step.rollout_status
        return waiting is not None and waiting.timeout_seconds == 0
    if step.wait is not None:
        return step.wait.timeout_seconds < 0
    return step.delete is not None and step.delete.wait


def variant_vacuity(model: ClusterModel) -> str | None:
    """Why the model's variant cannot show its bug in this scenario (None: it can, or the model is
    the correct one)."""
    needs = VARIANT_NEEDS.get(model.variant)
    if needs is None:
        return None
    missing = _missing(model, needs)
    if missing is None and model.variant == "scheduler-ignores-taints" and not _taint_can_appear(model):
        missing = ("no node can have a taint (none in the topology or manifests, no control-plane node, no cordon or "
                   "drain step, no fault budget for " + " or ".join(FAULT_NAMES[k] for k in TAINTING_FAULTS)
                   + ", no memory, disk or PID pressure)")
    if missing is None and model.variant == "endpoints-terminating" and not _pods_can_terminate(model):
        missing = ("nothing can delete a pod (no workload step but cordon/uncordon, no fault budget, no memory "
                   "pressure, descheduler, HPA, pod priorities, bare Pods or code of your own): no pod ever "
                   "terminates")
    if missing is None and model.variant == "dual-scheduler" and not can_overcommit(model):
        missing = ("no node can be given more than it has: the pods that can exist at once fit on any one node "
                   "(docs/variants.md: what each variant needs)")
    if missing is None and model.variant == "rollout-fencepost" and not _fenceposts_can_both_be_zero(model):
        missing = ("no rollout can resolve maxSurge and maxUnavailable both to 0 (a Deployment's maxSurge of 0 or 0% "
                   "and a maxUnavailable that rounds down to 0 for its replicas, then a step that changes its pod "
                   "template)")
    return None if missing is None else f"variant {model.variant} cannot show: {missing}"


def _pods_can_terminate(model: ClusterModel) -> bool:
    """Whether some run can give a pod a deletionTimestamp, over-approximated: anything that can
    delete a pod — a workload step (scale, rollout, apply, delete, drain; not cordon/uncordon), a
    fault or maintenance budget (node loss → taint eviction, restores, overloads…), node pressure,
    the descheduler, an HPA (scale-down), pod priorities or PriorityClasses (preemption), a bare Pod
    (a controller may adopt and delete it), your own controllers or environment rules — counts."""
    spec = model.scenario.spec
    if own_controllers(model) or model.scenario.environment_rules or spec.environment != EnvironmentDecl():
        return True
    if any(step.cordon is None and step.uncordon is None for step in spec.workload):
        return True
    if spec.descheduler is not None or any(model.parameter(b) for b in PRESSURE_BUDGETS.values()):
        return True
    if any(getattr(model.budget, kind, 0) for kind in FAULT_KINDS):
        return True
    possible = possible_resources(model)
    if possible is None or "horizontalpodautoscalers.autoscaling" in possible:
        return True
    return any(_may_preempt_or_be_adopted(m.obj) for m in model.scenario.objects)


def _may_preempt_or_be_adopted(obj: ApiObject) -> bool:
    """A PriorityClass, a bare Pod, or a workload whose pods name a priority."""
    if kind_info(obj).kind in ("PriorityClass", "Pod"):
        return True
    template = getattr(getattr(obj, "spec", None), "template", None)
    pod_spec = getattr(template, "spec", None)
    return pod_spec is not None and (bool(pod_spec.priority_class_name) or pod_spec.priority is not None)


def _fenceposts_can_both_be_zero(model: ClusterModel) -> bool:
    """Whether some rollout can resolve a Deployment's maxSurge and maxUnavailable both to 0, the case
    the `rollout-fencepost` variant changes (`pkg/controller/deployment/util/deployment_util.go`
    ResolveFenceposts: surge rounds up, unavailable down; unset values default to 25%,
    `pkg/apis/apps/v1/defaults.go`), over-approximated. It needs a Deployment whose strategy is
    RollingUpdate and whose values resolve to (0, 0) for one of the replica counts it can have (its
    own, a `scale` step's; any count at all with an HPA), and a rollout: a `setImage`, `rolloutRestart` or
    `apply` step.
    Code of your own or environment rules may do either, so they count."""
    spec = model.scenario.spec
    if own_controllers(model) or model.scenario.environment_rules:
        return True
    if not any(step.set_image is not None or step.rollout_restart is not None or step.apply_options is not None
               for step in spec.workload):
        return False
    applied = (o for objects in model.workload_objects for o in objects)
    deployments = [o for o in (*(m.obj for m in model.scenario.objects), *applied) if isinstance(o, Deployment)]
    scaled = {step.scale.replicas for step in spec.workload if step.scale is not None and step.scale.deployment}
    any_count = "horizontalpodautoscalers.autoscaling" in (possible_resources(model) or ())
    for d in deployments:
        if d.spec.strategy.type not in ("", "RollingUpdate"):
            continue
        rolling = d.spec.strategy.rolling_update or RollingUpdateDeployment()
        surge = "25%" if rolling.max_surge is None else rolling.max_surge
        unavailable = "25%" if rolling.max_unavailable is None else rolling.max_unavailable
        counts = {1} if any_count else {1 if d.spec.replicas is None else d.spec.replicas} | scaled
        if any(n > 0 and resolve_fenceposts(surge, unavailable, n, zero_unavailable_to_one=False) == (0, 0)
               for n in counts):
            return True
    return False


def _taint_can_appear(model: ClusterModel) -> bool:
    """Whether some run can give a node a taint, over-approximated. Taints written by the user: the
    topology's (and Node manifests'), a control-plane node's, a Node an `apply` step writes with
    taints or `unschedulable`. Taints the node lifecycle controller adds (`pkg/controller/nodelifecycle/
    node_lifecycle_controller.go` doNoScheduleTaintingPass and doNoExecuteTaintingPass, TaintNodesByCondition):
    `node.kubernetes.io/unschedulable:NoSchedule` on a cordoned node (an unschedulable node in the
    topology, a `cordon` or `drain` step, a `maintenance` fault), `not-ready`/`unreachable` NoSchedule and
    NoExecute once heartbeats stop (`TAINTING_FAULTS`: a node crash, a partition, a component crash, an
    overload that refuses them), and `memory-pressure`, `disk-pressure`, `pid-pressure` NoSchedule while
    the kubelet reports a pressure condition (`nodeConditionToTaintKeyStatusMap`,
    `kubeprop.model.controllers.nodelifecycle` CONDITION_TAINTS: an episode of the `memoryPressureEvents`,
    `diskPressureEvents` or `pidPressureEvents` budget). Code of your own or environment rules may taint
    anything, so they count."""
    spec = model.scenario.spec
    if own_controllers(model) or model.scenario.environment_rules or spec.environment != EnvironmentDecl():
        return True
    if any(n.taints or n.unschedulable or n.role == "control-plane" for n in spec.topology.nodes):
        return True
    if any(step.cordon is not None or step.drain is not None for step in spec.workload):
        return True
    if any(getattr(model.budget, kind, 0) for kind in TAINTING_FAULTS):
        return True
    if any(model.parameter(b) for b in PRESSURE_BUDGETS.values()):
        return True
    return any(isinstance(o, Node) and (o.spec.taints or o.spec.unschedulable)
               for objects in model.workload_objects for o in objects)


def vacuous_properties(model: ClusterModel, props: Iterable[Property]) -> dict[str, str]:
    """Property name → why it could not have failed, for the vacuous ones among `props`: by their
    own needs, or — for the properties that catch the model's variant — because the variant cannot
    show in this scenario."""
    out = {}
    variant = variant_vacuity(model)
    for prop in props:
        reason = vacuity(model, prop)
        if reason is None and variant is not None and prop.name in VARIANT_TARGETS.get(model.variant, ()):
            reason = variant
        if reason is not None:
            out[prop.name] = reason
    return out

