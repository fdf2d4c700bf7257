"""`workload-steps-finish`: every kubectl command of the user's workload that waits returns.

A maintenance script runs `kubectl drain worker-1` and hangs: a PodDisruptionBudget refuses
every eviction (429), and kubectl retries a refused eviction every 5 s for ever unless the
command has a `--timeout` (`staging/src/k8s.io/kubectl/pkg/drain/drain.go` evictPods: kubectl's
default timeout is 0, "infinite", `math.MaxInt64`). No other property says so: the budget holds,
the Deployment is complete, nothing is written. Only the lasso's cycle property `drains-complete`
saw it. This convergence property judges it where the convergence properties are judged — where
a fair, fault-free continuation settles (`kubeprop.properties.convergence.settled_violation`) —
so every engine reports it, and the message names the step, what it waits on and why.

A command waits for ever when, where the cluster settled, it has not returned and nothing left can
make it return:

- a user's `drain` without a timeout, with a pod whose eviction the API server refuses now with
  the disruption budget's 429 (the eviction is asked again, as kubectl's next retry would: the
  answer, the budget and its status are in the message), or a pod it evicted that its finalizers
  keep. A drain held only until a replacement pod is Ready elsewhere has returned by then: the
  continuation goes on until nothing is left to do;
- a `rolloutStatus` without a timeout whose status viewer is not done: a StatefulSet, or a
  Deployment that has no progress deadline or is paused (one with a deadline returns once it
  passes: `exceeded its progress deadline`);
- a `wait` for a condition with `timeoutSeconds: -1` that is not met, or for the deletion of an
  object its finalizers keep or that nothing deletes (not being deleted where the cluster settled:
  a pod orphaned by `propagationPolicy: Orphan`; `_stays`);
- a `delete` waiting (`--wait`, the default) for an object its finalizers keep;
- a `rolloutStatus` without a timeout, or a `wait` with -1, whose watch's LIST the API server
  refuses (the user may GET the object but not LIST it): kubectl never sees the object, and its
  reflector retries the LIST for ever (`workload_wait.list_refusal`).

And nothing is judged while a timer is still ahead that is not periodic work or the drain's own
retry (`_time_may_tell`: a budget's disrupted pod expiring, a progress deadline, a kubelet's
back-off or kill deadline): the continuation's tick bound then ended it before the world did.

A command with a timeout returns — with kubectl's failure, which `workload-steps-succeed`
reports. A command waiting to see an object a controller may still make (the model's user does
not run it before; `kubeprop.model.cluster.workload`) is not judged: kubectl itself would answer
NotFound at once. The property needs the environment to recover (`needs_recovery`, the default):
a pod evicted from a node that stays down is never confirmed gone, by design.
"""

from __future__ import annotations

from kubeprop.model.api.apps import Deployment
from kubeprop.model.api.batch import Job
from kubeprop.model.api.eviction import budget_cause, matching_budgets
from kubeprop.model.api.objects import ApiObject, ObjectKey, Pod, encode_object, kind_info
from kubeprop.model.api.server import Request, handle
from kubeprop.model.cluster import maintenance, workload, workload_wait
from kubeprop.model.cluster.maintenance import Drain, maintenance_state, pod_gone
from kubeprop.model.cluster.workload import delete_wait, named_key
from kubeprop.model.cluster.workload_commands import describe as describe_step
from kubeprop.model.cluster.workload_wait import command_wait, is_wait_step, list_refusal, rollout_verdict, timed
from kubeprop.model.controllers import hpa
from kubeprop.model.controllers.deployment_util import has_progress_deadline
from kubeprop.model.descheduler import component as descheduler
from kubeprop.model.scenario.schema import parse_for
from kubeprop.model.scenario.wait_for import jsonpath_now
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult as Result
from kubeprop.properties.registry import convergence

BUDGET_REFUSAL = "disruption budget"
"""In the message of an eviction's 429 that a PodDisruptionBudget answered (`eviction.go`)."""


@convergence("workload-steps-finish",
             "Every waiting kubectl command of the scenario's workload returns: a drain, a rollout status or wait "
             "without a timeout, or a delete waiting for its object does not wait for ever once the cluster settles.",
             "staging/src/k8s.io/kubectl/pkg/drain/drain.go evictPods (a 429 retried every 5 s, for ever without "
             "--timeout); pkg/cmd/rollout/rollout_status.go, pkg/cmd/wait/wait.go, pkg/cmd/delete/delete.go "
             "(staging/src/k8s.io/kubectl)")
def workload_steps_finish(model: ClusterModel, state: ClusterState) -> Result:
    found = _never_returns(model, state)
    return None if found is None or _time_may_tell(model, state) else found


def _never_returns(model: ClusterModel, state: ClusterState) -> Result:
    for node, drain in maintenance_state(state).draining.sorted_items():
        if drain.by == "user" and drain.deadline is None:
            found = _blocked_drain(model, state, node, drain)
            if found is not None:
                return found
    deleting = delete_wait(state)
    if deleting is not None:
        key = ObjectKey(deleting.resource, deleting.namespace, deleting.name)
        return _stays(model, deleting.step, state.store.get(key), key)
    return _waiting_command(model, state)


UNTELLING = frozenset({hpa.next_timer, descheduler.next_timer, maintenance.next_timer, workload_wait.next_timer})
"""Timers that say nothing of whether a command returns: periodic work (the HPA's syncs, the
descheduler's runs), the drains' own retries, and a command's own deadline (one that has a deadline
is not judged)."""


def _time_may_tell(model: ClusterModel, state: ClusterState) -> bool:
    """Whether any other timer is still ahead — a controller's wake-up (a budget's disrupted pod
    expiring, a progress deadline), a kubelet's back-off or kill deadline, a grace period, the
    scheduler's flush: the continuation ran out of ticks before it came, so what it brings is not
    known, and the command is not judged (no false alarm for a drain that a replacement too slow for
    the continuation's bound would unblock)."""
    return any((at := timer(model, state)) is not None and at > state.clock
               for timer in model.hooks.timers if timer not in UNTELLING)


def _step_words(model: ClusterModel, index: int) -> str:
    steps = model.scenario.spec.workload
    return f"workload step {index + 1} of {len(steps)} ({describe_step(steps[index])}) never returns"


def _blocked_drain(model: ClusterModel, state: ClusterState, node: str, drain: Drain) -> Result:
    """A user's drain without a timeout that nothing left can finish: the pods whose eviction a
    budget refuses now, and the evicted pods that stay (None when there is neither: it returns)."""
    reasons: list[str] = []
    objects: list[str] = [f"Node {node}"]
    for pod in sorted(drain.pending):
        refusal = _refusal(model, state, pod)
        if refusal is not None:
            reasons.append(refusal[0])
            objects += [f"Pod {pod}", *refusal[1]]
    for pod, uid in sorted(drain.waiting.items()):
        namespace, _, name = pod.partition("/")
        current = state.store.get(ObjectKey("pods", namespace, name))
        if not pod_gone(state, pod, uid) and current is not None and current.metadata.finalizers:
            reasons.append(f"pod {pod} it evicted is never gone: {_held(current)}")
            objects.append(f"Pod {pod}")
    if not reasons:
        return None
    retry = int(model.parameter("drainRetrySeconds"))
    how = (f"kubectl retries a refused eviction every {retry} s" if len(objects) > 1 and drain.pending
           else "kubectl waits for its evicted pods to go")
    return (f"{_step_words(model, state.workload_next - 1)}: {'; '.join(reasons)}; {how}, for ever without "
            f"--timeout", tuple(dict.fromkeys(objects)))


def _refusal(model: ClusterModel, state: ClusterState, pod: str) -> tuple[str, list[str]] | None:
    """Why the eviction of `pod` is refused now by a disruption budget (its 429, and the budget's
    spec and status), with the budgets' names; None when it is not (it would succeed, or fail
    otherwise: either way the drain goes on or ends)."""
    namespace, _, name = pod.partition("/")
    request = Request(verb="evict", user=model.scenario.apply_as, resource="pods", namespace=namespace, name=name)
    response = handle(state.store, request, model.api, state.clock).response
    if response.code != 429 or BUDGET_REFUSAL not in response.message:
        return None
    current = state.store.get(ObjectKey("pods", namespace, name))
    budgets = matching_budgets(state.store, current) if isinstance(current, Pod) else []
    shown = [f"PodDisruptionBudget {b.metadata.namespace}/{b.metadata.name}" for b in budgets]
    states = "; ".join(
        f"{s}: {_budget_spec(b.spec)}; expectedPods {b.status.expected_pods}, currentHealthy "
        f"{b.status.current_healthy}, desiredHealthy {b.status.desired_healthy}, disruptionsAllowed "
        f"{b.status.disruptions_allowed}" for s, b in zip(shown, budgets, strict=True))
    cause = budget_cause(response)  # the Status's DisruptionBudget cause: what the budget lacks
    notes = "; ".join(n for n in (cause, states) if n)
    return f"evicting pod {pod} is refused for good: 429 {response.message}" + (f" ({notes})" if notes else ""), shown


def _budget_spec(spec: object) -> str:
    min_available, max_unavailable = getattr(spec, "min_available", None), getattr(spec, "max_unavailable", None)
    return f"minAvailable {min_available}" if min_available is not None else f"maxUnavailable {max_unavailable}"


def _held(obj: ApiObject | None) -> str:
    """What keeps an object that is being deleted there, in words."""
    if obj is None:
        return "it is gone"
    meta = obj.metadata
    if meta.deletion_timestamp is None:
        return "nothing deletes it: it is not being deleted, and nothing left in the cluster would delete it"
    if meta.finalizers:
        return f"it is being deleted and keeps its finalizers {', '.join(meta.finalizers)}, which nothing removes"
    if isinstance(obj, Pod):
        return f"it is still terminating on node {obj.spec.node_name or '(none)'}"
    return "it is being deleted but stays"


def _stays(model: ClusterModel, index: int, obj: ApiObject | None, key: ObjectKey) -> Result:
    """A command waiting for an object to go that stays: its finalizers keep it, or nothing is
    deleting it at all (None for one being deleted without finalizers: a pod terminating gracefully
    goes by itself, on a node that is up).

    An object not being deleted where the cluster settled is deleted by nothing: whatever would
    delete it — the garbage collector for an owner that is gone or deleted in the foreground, a
    controller scaling down, the pod garbage collector, the namespace controller — reacts to the
    state it settled in and would have acted, or has a timer ahead (a quarantine, a toleration,
    which `_time_may_tell` waits for). `kubectl wait --for=delete --timeout=-1` then waits a week
    (`staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go`: a negative timeout is 168 h), as does
    `kubectl delete`'s own wait (its default timeout)."""
    if obj is None or (obj.metadata.deletion_timestamp is not None and not obj.metadata.finalizers):
        return None
    kind = kind_info(obj).kind
    name = f"{kind} {key.namespace}/{key.name}" if key.namespace else f"{kind} {key.name}"
    return f"{_step_words(model, index)}: it waits for {name} to be deleted, and {_held(obj)}", (name,)


def _waiting_command(model: ClusterModel, state: ClusterState) -> Result:
    """A `rollout status` or `wait` without a deadline that the user is in and that cannot return."""
    steps = model.scenario.spec.workload
    index = state.workload_next
    if index >= len(steps) or not is_wait_step(steps[index]) or UserStep(index) in workload.enabled(model, state):
        return None
    step = steps[index]
    waiting = command_wait(state)
    if waiting is not None:  # a `wait --for=delete`: for ever with timeoutSeconds -1
        if waiting.deadline is not None:
            return None
        unseen = _unlisted(model, state, index, waiting.key, waiting.same_object(state.store))
        return unseen or _stays(model, index, waiting.same_object(state.store), waiting.key)
    if timed(step):
        return None
    key = named_key(state.store, step)
    obj = state.store.get(key) if isinstance(key, ObjectKey) else None
    if obj is None or not isinstance(key, ObjectKey):
        return None  # the user waits to see it (kubectl would answer NotFound: not a hang)
    unseen = _unlisted(model, state, index, key, obj)
    if unseen is not None:
        return unseen
    name = f"{kind_info(obj).kind} {key.namespace}/{key.name}"
    if step.rollout_status is not None:
        if isinstance(obj, Deployment) and has_progress_deadline(obj) and not obj.spec.paused:
            return None  # it returns once the deadline passes: "exceeded its progress deadline"
        return f"{_step_words(model, index)}: {rollout_verdict(obj).status}", (name,)
    assert step.wait is not None
    return f"{_step_words(model, index)}: {_unmet(step.wait.for_, obj, name)}", (name,)


def _unmet(wait_for: str, obj: ApiObject, name: str) -> str:
    """`condition NAME=VALUE of <name> is never met (what the object has)`, or the jsonpath's; a
    Job that finished the other way (Failed while waited for Complete) says so."""
    parsed = parse_for(wait_for)
    assert parsed is not None
    if parsed[0] == "jsonpath":
        want = f"{parsed[1]}={parsed[2]}" if parsed[2] else parsed[1]
        return f"jsonpath {want} of {name} is never met ({jsonpath_now(encode_object(obj), parsed[1])})"
    want = f"{parsed[1]}={parsed[2]}"
    conditions = getattr(getattr(obj, "status", None), "conditions", ())
    found = [c for c in conditions if c.type.lower() == parsed[1].lower()]
    have = f"{found[0].type}={found[0].status}" if found else "no such condition"
    finished = [c for c in conditions if isinstance(obj, Job) and c.type in ("Complete", "Failed")
                and c.status == "True" and c.type.lower() != parsed[1].lower()]
    if finished:  # a finished Job never changes its terminal condition (`pkg/controller/job`)
        why = ": ".join(part for part in (finished[0].reason, finished[0].message) if part)
        have += f": the Job is {finished[0].type}{f' ({why})' if why else ''} and stays so"
    return f"condition {want} of {name} is never met ({have})"


def _unlisted(model: ClusterModel, state: ClusterState, index: int, key: ObjectKey, obj: ApiObject | None) -> Result:
    """A command whose watch's LIST the API server refuses (`workload_wait.list_refusal`): it never
    sees the object, and its reflector retries the LIST for as long as the command runs."""
    refused = list_refusal(model, state, model.scenario.spec.workload[index], key)
    if not refused:
        return None
    kind = kind_info(obj).kind if obj is not None else key.resource
    name = f"{kind} {key.namespace}/{key.name}" if key.namespace else f"{kind} {key.name}"
    return (f"{_step_words(model, index)}: kubectl's watch never sees {name}: {refused}, and its reflector "
            "retries the LIST for ever", (name,))
