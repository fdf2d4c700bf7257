"""The pods/eviction subresource: a pod deletion that honours PodDisruptionBudgets.

Upstream: `pkg/registry/core/pod/storage/eviction.go` (EvictionREST.Create, checkAndDecrement,
canIgnorePDB, addConditionAndDeletePod), v1.33:

- a pod that is Pending, Succeeded, Failed or already terminating is deleted without looking at
  budgets (with a resourceVersion precondition unless it is terminal or terminating);
- more than one matching budget is 500; none, the pod is deleted;
- a pod that is not Ready is deleted without spending the budget when the budget's
  `unhealthyPodEvictionPolicy` is AlwaysAllow, or when the budget is already met
  (currentHealthy ≥ desiredHealthy > 0) — with a resourceVersion precondition, and a 409 on that
  precondition is answered with 429;
- otherwise `checkAndDecrement`: 429 while the budget controller has not observed the budget's
  generation or when `disruptionsAllowed` is 0 (every 429's message is "Cannot evict pod as it
  would violate the pod's disruption budget."; what the budget lacks is a StatusCause of type
  DisruptionBudget, "The disruption budget NAME needs D healthy pods and has C currently" or
  "... is still being processed by the server.", which kubectl does not print); 403 when it is
  negative or `disruptedPods` is over 2000; else `disruptionsAllowed` − 1 and the pod is
  recorded in `disruptedPods` (a status write of the budget), then the pod gets the `DisruptionTarget` condition
  (PodDisruptionConditions, GA) and is deleted gracefully.

Before any of this, the create of the Eviction passes the mutating admission plug-ins
(`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go`: Admit runs before the REST
Create): NamespaceLifecycle (`staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/
lifecycle/admission.go` Admit, when the scenario's API server runs it) refuses a create in a
missing namespace (404, `namespaces "x" not found`) and in a Terminating one (403,
`pods "NAME" is forbidden: unable to create new content in namespace NS because it is being
terminated`, `admission.NewForbidden` naming the Eviction's name, the pod's, with the
NamespaceTerminating cause, which `kubeprop.model.api.admission.namespace_terminating` reads) —
whatever the pod and the budgets say, so an eviction never deletes a pod of a namespace being
deleted (the namespace controller does). kubectl drain answers that 403 specially
(`kubeprop.model.cluster.maintenance`).

Every step happens within the one request (upstream's retries on conflict cannot be needed:
nothing interleaves with a request in the model). Success is 201 with status Success.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.admission import NAMESPACE_LIFECYCLE, NAMESPACE_TERMINATING_MESSAGE
from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ObjectKey, Pod, PodDisruptionBudget
from kubeprop.model.api.pod import is_pod_ready
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Context, Request, Response, Result, StatusCause, status
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.evolve import evolve

MAX_DISRUPTED_POD_SIZE = 2000
TOO_MANY_REQUESTS = "Cannot evict pod as it would violate the pod's disruption budget."
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"  # policy/v1 DisruptionBudgetCause
PROCESSING = "is still being processed by the server."


def _can_ignore_pdb(pod: Pod) -> bool:
    return pod.status.phase in ("Succeeded", "Failed", "Pending") or pod.metadata.deletion_timestamp is not None


def _enforce_resource_version(pod: Pod) -> bool:
    return pod.status.phase not in ("Succeeded", "Failed") and pod.metadata.deletion_timestamp is None


def matching_budgets(store: Store, pod: Pod) -> list[PodDisruptionBudget]:
    """getPodDisruptionBudgets: the budgets in the pod's namespace whose selector matches it
    (a nil selector matches nothing, an empty one everything)."""
    return [b for b in store.list("poddisruptionbudgets.policy", pod.metadata.namespace)
            if isinstance(b, PodDisruptionBudget) and selector_matches(b.spec.selector, pod.metadata.labels)]


def _too_many(pdb: PodDisruptionBudget, why: str) -> Response:
    """errors.NewTooManyRequests with the budget's StatusCause (createTooManyRequestsError and
    checkAndDecrement): the message is the same for every budget, the cause says why."""
    cause = StatusCause(DISRUPTION_BUDGET_CAUSE, f"The disruption budget {pdb.metadata.name} {why}")
    return status(429, "TooManyRequests", TOO_MANY_REQUESTS, causes=(cause,))


def _needs(pdb: PodDisruptionBudget) -> Response:
    s = pdb.status
    return _too_many(pdb, f"needs {s.desired_healthy} healthy pods and has {s.current_healthy} currently")


def budget_cause(response: Response) -> str:
    """The DisruptionBudget cause's message of a 429 from eviction ("" if it has none)."""
    return next((c.message for c in response.causes if c.type == DISRUPTION_BUDGET_CAUSE), "")


def check_and_decrement(pdb: PodDisruptionBudget, pod_name: str, now: int) -> PodDisruptionBudget | Response:
    """The budget with one disruption spent and the pod recorded, or the error response."""
    name = pdb.metadata.name
    s = pdb.status
    if s.observed_generation < pdb.metadata.generation:
        return _too_many(pdb, PROCESSING)
    if s.disruptions_allowed < 0:
        return status(403, "Forbidden", f'poddisruptionbudget.policy "{name}" is forbidden: '
                      "pdb disruptions allowed is negative")
    if len(s.disrupted_pods) > MAX_DISRUPTED_POD_SIZE:
        return status(403, "Forbidden", f'poddisruptionbudget.policy "{name}" is forbidden: DisruptedPods map too '
                      "big - too many evictions not confirmed by PDB controller")
    if s.disruptions_allowed == 0:
        return _needs(pdb)
    allowed = s.disruptions_allowed - 1
    conditions = s.conditions
    if allowed == 0:  # pdbhelper.UpdateDisruptionAllowedCondition
        conditions = set_condition(conditions, Condition(
            type="DisruptionAllowed", status="False", reason="InsufficientPods", last_transition_time=now,
            observed_generation=s.observed_generation))
    new_status = evolve(s, disruptions_allowed=allowed, conditions=conditions,
                        disrupted_pods=s.disrupted_pods.set(pod_name, now))
    return evolve(pdb, status=new_status)


def _sub_request(ctx: Context, **changes: Any) -> Context:
    return evolve(ctx, request=evolve(ctx.request, **changes))


def _delete_pod(store: Store, ctx: Context, pod: Pod, resource_version: str | None) -> Result:
    """addConditionAndDeletePod: DisruptionTarget=True on the pod's status, then a delete
    (its resourceVersion precondition, if any, moved past the condition write)."""
    from kubeprop.model.api.server_delete import delete
    from kubeprop.model.api.server_write import update_status

    if resource_version is not None and resource_version != pod.metadata.resource_version:
        return Result(store, status(409, "Conflict", f'Operation cannot be fulfilled on Pod "{pod.metadata.name}": '
                                    f"the ResourceVersion in the precondition ({resource_version}) does not match "
                                    f"the ResourceVersion in record ({pod.metadata.resource_version}). The object "
                                    "might have been modified"))
    events: tuple[WatchEvent, ...] = ()
    if not ctx.request.dry_run:
        target = Condition(type="DisruptionTarget", status="True", reason="EvictionByEvictionAPI",
                           message="Eviction API: evicting", last_transition_time=ctx.now)
        marked = evolve(pod, status=evolve(pod.status, conditions=set_condition(
            pod.status.conditions, target)))
        marked = evolve(marked, metadata=evolve(marked.metadata, resource_version=""))
        written = update_status(store, _sub_request(ctx, verb="update-status", obj=marked), pod.metadata.namespace,
                                pod.metadata.name)
        if not written.response.ok:
            return written
        store, events = written.store, written.events
        if resource_version is not None and written.response.obj is not None:
            resource_version = written.response.obj.metadata.resource_version
    deleted = delete(store, _sub_request(ctx, verb="delete", obj=None, precondition_resource_version=resource_version),
                     pod.metadata.namespace, pod.metadata.name)
    if not deleted.response.ok:
        return deleted
    return Result(deleted.store, status(201, "Created", "Success"), (*events, *deleted.events))


def namespace_lifecycle(store: Store, ctx: Context, namespace: str, name: str) -> Response | None:
    """NamespaceLifecycle's Admit of the Eviction create (module docstring), None when it admits."""
    if not any(plugin.name == NAMESPACE_LIFECYCLE.name for plugin in ctx.config.admission):
        return None
    ns = store.get(ObjectKey("namespaces", "", namespace))
    if ns is None:
        return status(404, "NotFound", f'namespaces "{namespace}" not found')
    if ns.metadata.deletion_timestamp is None:
        return None
    return status(403, "Forbidden", f'pods "{name}" is forbidden: unable to create new content in namespace '
                  f"{namespace} {NAMESPACE_TERMINATING_MESSAGE}")


def evict(store: Store, ctx: Context, namespace: str, name: str) -> Result:
    """POST pods/<name>/eviction (see the module docstring)."""
    if ctx.info.resource != "pods":
        return Result(store, status(404, "NotFound", "the server could not find the requested resource (eviction)"))
    refused = namespace_lifecycle(store, ctx, namespace, name)
    if refused is not None:
        return Result(store, refused)
    pod = store.get(ObjectKey("pods", namespace, name))
    if not isinstance(pod, Pod):
        return Result(store, status(404, "NotFound", f'pods "{name}" not found'))
    if _can_ignore_pdb(pod):
        return _delete_pod(store, ctx, pod, pod.metadata.resource_version if _enforce_resource_version(pod) else None)
    budgets = matching_budgets(store, pod)
    if len(budgets) > 1:
        return Result(store, status(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the "
                                    "eviction subresource does not support."))
    if not budgets:
        return _delete_pod(store, ctx, pod, None)
    pdb = budgets[0]
    if not is_pod_ready(pod):
        s = pdb.status
        if pdb.spec.unhealthy_pod_eviction_policy == "AlwaysAllow" or (
                s.current_healthy >= s.desired_healthy and s.desired_healthy > 0):
            result = _delete_pod(store, ctx, pod, pod.metadata.resource_version)
            if result.response.code == 409:
                return Result(store, _too_many(pdb, PROCESSING))
            return result
    decided = check_and_decrement(pdb, name, ctx.now)
    if isinstance(decided, Response):
        return Result(store, decided)
    events: tuple[WatchEvent, ...] = ()
    if not ctx.request.dry_run:
        from kubeprop.model.api.server_write import update_status

        budget_ctx = evolve(ctx, request=Request(verb="update-status", user=ctx.request.user, obj=decided),
                            info=PodDisruptionBudget.INFO)
        written = update_status(store, budget_ctx, namespace, pdb.metadata.name)
        if not written.response.ok:
            return written
        store, events = written.store, written.events
    result = _delete_pod(store, ctx, pod, None)
    return Result(result.store, result.response, (*events, *result.events))
