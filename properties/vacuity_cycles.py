"""Vacuity of the cycle properties about drains and evictions (`kubeprop.properties.oscillation`).

`drains-complete` judges the drains in progress (`state.addons["maintenance"]`) and
`no-eviction-loop` the pods a step marks `DisruptionTarget=True`. Both can fail only where the
scenario can produce what they judge; `cycle_vacuity` says why it cannot (None: it can), judged
statically and over-approximated, so that `vacuous` is never said of a property that could fail:

- a drain is started only by `kubeprop.model.cluster.maintenance.start_drain`, which a `drain`
  workload step (kubectl drain) and a maintenance (`faults.maintenance`) call, nothing else;
- a pod is marked `DisruptionTarget=True` only by the model's writers of that condition, each
  an upstream one: the Eviction API (`pkg/registry/core/pod/storage/eviction.go`, called by kubectl
  drain and the descheduler), the taint eviction controller on a `NoExecute` taint
  (`pkg/controller/tainteviction/taint_eviction.go`), the pod garbage collector on a pod whose node
  is gone (`pkg/controller/podgc/gc_controller.go` gcOrphaned), the kubelet's eviction manager
  under node pressure (`pkg/kubelet/eviction/eviction_manager.go`), and the scheduler's preemption
  (`pkg/scheduler/framework/preemption/preemption.go`, which needs pods of different priorities).
  `_can_evict` counts every scenario input that may lead to one of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubeprop.model.api.objects import ApiObject, Node, Pod, kind_info
from kubeprop.model.api.pod import PodSpec
from kubeprop.model.fault_kinds import FAULT_KINDS
from kubeprop.model.kubelet.pressure import BUDGETS as PRESSURE_BUDGETS
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.oscillation import drains_complete, no_eviction_loop

__all__ = ["NO_DRAIN", "NO_EVICTION", "can_drain", "can_evict", "cycle_vacuity"]

NO_DRAIN = "no drain can run (no `drain` workload step, no fault budget for maintenance, no code of your own)"
"""Why `drains-complete` cannot fail."""

NO_EVICTION = ("nothing can evict a pod (no drain step, maintenance or descheduler, no fault budget, no memory, "
               "disk or PID pressure, no NoExecute taint, no Node deleted or applied, no pod bound by "
               "spec.nodeName, no pod priorities or PriorityClass, no code of your own)")
"""Why `no-eviction-loop` cannot fail."""


def cycle_vacuity(model: ClusterModel, prop: object) -> str | None:
    """Why the cycle property `prop` could not have failed in any run of `model` (None: it could,
    or it is not one this module judges)."""
    if prop == drains_complete and not can_drain(model):
        return NO_DRAIN
    if prop == no_eviction_loop and not can_evict(model):
        return NO_EVICTION
    return None


def _user_code(model: ClusterModel) -> bool:
    """Code of the user's that runs in the model: controllers, environment rules, admission plugins."""
    from kubeprop.properties.vacuity import own_controllers

    return bool(own_controllers(model) or model.scenario.environment_rules or model.scenario.spec.admission)


def can_drain(model: ClusterModel) -> bool:
    """Whether some run can have a drain in progress: a `drain` workload step or a maintenance
    budget (the only callers of `start_drain`); code of the user's counts too."""
    spec = model.scenario.spec
    return (any(step.drain is not None for step in spec.workload) or model.budget.maintenance > 0
            or _user_code(model))


def _pod_specs(obj: ApiObject) -> Iterator[PodSpec]:
    """The pod spec of a Pod, and the pod template's of a workload (a CronJob's through its job template)."""
    if isinstance(obj, Pod):
        yield obj.spec
    spec = getattr(obj, "spec", None)
    template = getattr(spec, "template", None) or getattr(getattr(getattr(spec, "job_template", None), "spec", None),
                                                          "template", None)
    found = getattr(template, "spec", None)
    if isinstance(found, PodSpec):
        yield found


def _may_lead_to_eviction(obj: ApiObject, applied: bool) -> bool:
    """An object that may make a pod evicted: a Node with a NoExecute taint, or any Node an `apply`
    step writes (`applied`: a node without a kubelet never heartbeats, so it is tainted
    unreachable:NoExecute; a Node manifest is a topology node, with a kubelet), a PriorityClass, a
    pod (or template) that names a priority (preemption) or a node (`spec.nodeName` of a node that
    may not exist: the pod garbage collector's orphans)."""
    if isinstance(obj, Node):
        return applied or any(t.effect == "NoExecute" for t in obj.spec.taints)
    if kind_info(obj).kind == "PriorityClass":
        return True
    return any(p.node_name or p.priority_class_name or p.priority is not None for p in _pod_specs(obj))


def can_evict(model: ClusterModel) -> bool:
    """Whether some run can mark a pod `DisruptionTarget=True` (the module docstring lists who can),
    over-approximated: a drain (step or maintenance), the descheduler, any fault budget (a lost node
    is tainted NoExecute; a restore or a failed request may lose a heartbeat), a pressure budget, a
    NoExecute taint of the topology, a `delete` of a Node, an object `_may_lead_to_eviction`, or
    code of the user's."""
    spec = model.scenario.spec
    if can_drain(model) or spec.descheduler is not None:
        return True
    if any(getattr(model.budget, kind, 0) for kind in FAULT_KINDS):
        return True
    if any(model.parameter(budget) for budget in PRESSURE_BUDGETS.values()):
        return True
    if any(t.effect == "NoExecute" for n in spec.topology.nodes for t in n.taints):
        return True
    if any(step.delete is not None and step.delete.kind.lower() in ("node", "nodes") for step in spec.workload):
        return True
    applied = (o for objects in model.workload_objects for o in objects)
    return (any(_may_lead_to_eviction(m.obj, False) for m in model.scenario.objects)
            or any(_may_lead_to_eviction(obj, True) for obj in applied))
