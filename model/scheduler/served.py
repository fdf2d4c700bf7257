"""Which pods a scheduler of the model takes: those for the `default-scheduler` profile.

Upstream a kube-scheduler queues only the pods one of its profiles serves (`pkg/scheduler/
eventhandlers.go` responsibleForPod: `profiles.HandlesSchedulerName(pod.Spec.SchedulerName)`);
the API server defaults an empty `spec.schedulerName` to `default-scheduler`
(`pkg/apis/core/v1/defaults.go`). Every scheduler instance of the model (`schedulerInstances`,
the dual-scheduler variant included) runs that one profile, so a pod naming any other scheduler
(`volcano`, `my-scheduler`) stays Pending unless that scheduler runs — and kubeprop models none.
The scheduler's queue, `schedulable-pods-bound`, `scheduler-decisions-sound` and `kubeprop
schedule` leave such pods out; `kubeprop validate` and `check` name their pod templates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubeprop.model.api.defaults import DEFAULT_SCHEDULER_NAME
from kubeprop.model.api.objects import ApiObject, Pod, kind_info

__all__ = ["SERVED_SCHEDULER_NAMES", "served", "unserved_note", "unserved_scheduler_name", "unserved_templates",
           "unserved_templates_note"]

SERVED_SCHEDULER_NAMES = ("", DEFAULT_SCHEDULER_NAME)
"""The `spec.schedulerName` values the model's schedulers serve (empty: defaulted by the API server)."""


def served(pod: Pod) -> bool:
    """Whether a scheduler of the model takes the pod (`responsibleForPod`)."""
    return pod.spec.scheduler_name in SERVED_SCHEDULER_NAMES


def unserved_scheduler_name(obj: Any) -> str | None:
    """The `schedulerName` of a Pod's spec or of a workload's pod template when no scheduler of
    the model serves it, else None."""
    spec = getattr(obj, "spec", None)
    template = getattr(spec, "template", None)
    pod_spec = getattr(template, "spec", None) if template is not None else spec
    name = getattr(pod_spec, "scheduler_name", None)
    return name if isinstance(name, str) and name not in SERVED_SCHEDULER_NAMES else None


def unserved_note(scheduler_name: str) -> str:
    """What a pod naming an unserved scheduler comes to, in words (notes and violation hints)."""
    return (f'schedulerName "{scheduler_name}" is served by no scheduler in the scenario: a pod naming it stays '
            "Pending unless that scheduler runs; kubeprop does not model it")


def _label(obj: ApiObject) -> str:
    info = kind_info(obj)
    where = f"{obj.metadata.namespace or 'default'}/" if info.namespaced else ""
    return f"{info.kind} {where}{obj.metadata.name or obj.metadata.generate_name + '*'}"


def unserved_templates(objects: Iterable[ApiObject]) -> tuple[tuple[str, str], ...]:
    """(`Kind namespace/name`, schedulerName) of every Pod or workload among `objects` whose pods
    no scheduler of the model serves, in input order, each once (a step may apply it again)."""
    found = {(_label(o), name): None for o in objects if (name := unserved_scheduler_name(o)) is not None}
    return tuple(found)


def unserved_templates_note(templates: tuple[tuple[str, str], ...]) -> str | None:
    """The one line `kubeprop check` prints about them (None when there are none)."""
    if not templates:
        return None
    names = ", ".join(f"{label} ({name})" for label, name in templates)
    return (f"note: pods for a scheduler the scenario does not run: {names}. They stay Pending unless that "
            "scheduler runs; kubeprop does not model it: schedulable-pods-bound leaves them out, and "
            "deployments-complete / workloads-ready report their workloads incomplete, as they are in a cluster "
            "without that scheduler (docs/properties.md)")
