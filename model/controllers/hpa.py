"""The HorizontalPodAutoscaler controller (kube-controller-manager), as a component.

Upstream: `pkg/controller/podautoscaler/horizontal.go` (v1.33): reconcileAutoscaler,
computeReplicasForMetrics, computeStatusForResourceMetricGeneric, validateAndParseSelector,
normalizeDesiredReplicas[WithBehaviors], storeScaleEvent, setStatus, updateStatusIfNeeded,
setConditionInList; the arithmetic is in `kubeprop.model.controllers.hpa_calc`.

Each HPA is reconciled once per `hpaSyncPeriodSeconds` (15 s; the work queue's fixed-interval
rate limiter re-adds every key after each reconcile): `SyncHPA` is enabled when the key is due,
and the clock's `Tick` takes the next due time as a timer. A reconcile reads the HPA and the pods
from the controller manager's cache, the scale target with a live GET of its scale subresource
and the metrics from the environment (`kubeprop.model.cluster.environment`: the metrics API is
live too), writes the new replica count through the scale subresource, and the status when it
changed. Its memory — due times, recommendations, scale events — is lost when the controller
manager crashes (upstream keeps them in memory too).

Modelled: Resource and ContainerResource metrics (Utilization and AverageValue targets); Pods,
Object and External metrics fail as metrics that cannot be fetched (no custom or external
metrics API in the model). The AmbiguousSelector check compares the target's selector with the
live selectors of the namespace's other HPAs' targets (upstream remembers the selectors of the
HPAs it has reconciled).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.autoscaling import (
    ContainerResourceMetricSource,
    ContainerResourceMetricStatus,
    HorizontalPodAutoscaler,
    MetricSpec,
    MetricStatus,
    MetricValueStatus,
    ResourceMetricSource,
    ResourceMetricStatus,
)
from kubeprop.model.api.meta import Condition, find_condition, set_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.scale import Scale, get_scale
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.controllers import hpa_calc as calc
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, pod_key, send, view
from kubeprop.model.state.informer import ObjectView
from kubeprop.model.state.metrics import has_metrics, metric_containers, pod_metric, rules, selects

NAME = "horizontal-pod-autoscaler"
"""The key of this controller's memory in `state.controllers`."""
RESOURCE = "horizontalpodautoscalers.autoscaling"
IDENTITY = CONTROLLER_MANAGER_USER


@attrs.frozen(cache_hash=True)
class HPAMemory:
    """In memory, per HPA key: when it is next due, its recommendations and scale events."""

    due: FrozenMap[str, int] = EMPTY
    recommendations: FrozenMap[str, calc.Samples] = EMPTY
    scale_up_events: FrozenMap[str, calc.Samples] = EMPTY
    scale_down_events: FrozenMap[str, calc.Samples] = EMPTY

    def forget(self, key: str) -> HPAMemory:
        """The HPA was deleted."""
        return HPAMemory(self.due.delete(key), self.recommendations.delete(key),
                         self.scale_up_events.delete(key), self.scale_down_events.delete(key))


@attrs.frozen(order=True)
class SyncHPA(Action):
    """The HPA controller reconciles one HPA (its resync period has passed)."""

    LANE = "controller horizontal-pod-autoscaler"

    hpa: str


def uses_hpa(model: ClusterModel) -> bool:
    """Whether the scenario creates any HPA (the controller then runs and its kind is watched)."""
    return HorizontalPodAutoscaler in model.created_types


def watches(model: ClusterModel, component: str) -> tuple[str, ...]:
    """The controller manager watches HPAs when the scenario has any."""
    return (RESOURCE,) if component == CONTROLLER_MANAGER and uses_hpa(model) else ()


def memory(state: ClusterState) -> HPAMemory:
    """The controller's memory (empty before it started or after a crash)."""
    found = state.controllers.get(NAME)
    return found if isinstance(found, HPAMemory) else HPAMemory()


def _with_memory(state: ClusterState, mem: HPAMemory) -> ClusterState:
    return evolve(state, controllers=state.controllers.set(NAME, mem))


def initial_memory(model: ClusterModel, view_: ObjectView, now: int) -> dict[str, HPAMemory]:
    """At (re)start every HPA in the cache is queued, due one sync period later."""
    if not uses_hpa(model):
        return {}
    period = int(model.parameter("hpaSyncPeriodSeconds"))
    return {NAME: HPAMemory(due=FrozenMap({pod_key(h): now + period for h in view_.list(RESOURCE)}))}


def on_events(model: ClusterModel, state: ClusterState, component: str, events: tuple[WatchEvent, ...]
              ) -> ClusterState:
    """enqueueHPA / deleteHPA: a new HPA is due one period later; a deleted one is forgotten."""
    if component != CONTROLLER_MANAGER or not any(e.key.resource == RESOURCE for e in events):
        return state
    if not is_up(state, CONTROLLER_MANAGER):
        return state
    mem = memory(state)
    period = int(model.parameter("hpaSyncPeriodSeconds"))
    for event in events:
        if event.key.resource != RESOURCE:
            continue
        key = f"{event.key.namespace}/{event.key.name}"
        if event.type == "DELETED":
            mem = mem.forget(key)
        elif key not in mem.due:
            mem = evolve(mem, due=mem.due.set(key, state.clock + period))
    return _with_memory(state, mem)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """A SyncHPA for every due HPA, while the controller manager is up."""
    if not uses_hpa(model) or not is_up(state, CONTROLLER_MANAGER):
        return
    for key, at in memory(state).due.sorted_items():
        if at <= state.clock:
            yield SyncHPA(key)


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The next HPA to become due."""
    if not uses_hpa(model) or not is_up(state, CONTROLLER_MANAGER):
        return None
    future = [at for at in memory(state).due.values() if at > state.clock]
    return min(future) if future else None


# --- one reconcile ---------------------------------------------------------------------------------

@attrs.frozen
class _Run:
    """What one reconcile is working on: the HPA being rewritten, the memory, the time."""

    hpa: HorizontalPodAutoscaler
    mem: HPAMemory
    key: str
    now: int

    def condition(self, type_: str, status: str, reason: str, message: str) -> _Run:
        conditions = set_condition(self.hpa.status.conditions, Condition(
            type=type_, status=status, reason=reason, message=message, last_transition_time=self.now))
        return evolve(self, hpa=evolve(self.hpa, status=evolve(self.hpa.status,
                                                                                 conditions=conditions)))

    def status(self, **changes: Any) -> _Run:
        return evolve(self, hpa=evolve(self.hpa, status=evolve(self.hpa.status, **changes)))


def sync_hpa(model: ClusterModel, state: ClusterState, act: SyncHPA) -> ClusterState:
    """reconcileKey + reconcileAutoscaler for one HPA, then the key is due again a period later."""
    mem = memory(state)
    namespace, _, name = act.hpa.partition("/")
    found = view(model, state, CONTROLLER_MANAGER).get(ObjectKey(RESOURCE, namespace, name))
    if not isinstance(found, HorizontalPodAutoscaler):
        return _with_memory(state, mem.forget(act.hpa))
    run = _Run(found, mem, act.hpa, state.clock)
    state, run = _reconcile(model, state, run)
    due = run.mem.due.set(act.hpa, state.clock + int(model.parameter("hpaSyncPeriodSeconds")))
    return _with_memory(state, evolve(run.mem, due=due))


def _update_status_if_needed(model: ClusterModel, state: ClusterState, original: Any, run: _Run) -> ClusterState:
    if run.hpa.status == original:
        return state
    state, _ = send(model, state, IDENTITY, Request(verb="update-status", user=IDENTITY, obj=run.hpa),
                    CONTROLLER_MANAGER)
    return state


def _reconcile(model: ClusterModel, state: ClusterState, run: _Run) -> tuple[ClusterState, _Run]:
    original = run.hpa.status
    spec = run.hpa.spec
    ref = spec.scale_target_ref
    state, scale = _get_scale(model, state, run.hpa)
    if isinstance(scale, str):
        run = run.condition("AbleToScale", "False", "FailedGetScale",
                            f"the HPA controller was unable to get the target's current scale: {scale}")
        return _update_status_if_needed(model, state, original, run), run
    run = run.condition("AbleToScale", "True", "SucceededGetScale",
                        "the HPA controller was able to get the target's current scale")
    current = scale.spec_replicas
    if run.key not in run.mem.recommendations:  # recordInitialRecommendation
        run = evolve(run, mem=evolve(run.mem, recommendations=run.mem.recommendations.set(
            run.key, ((run.now, current),))))
    minimum = 1 if spec.min_replicas is None else spec.min_replicas
    statuses: tuple[MetricStatus, ...] = ()
    if current == 0 and minimum != 0:
        desired, rescale = 0, False
        run = run.condition("ScalingActive", "False", "ScalingDisabled",
                            "scaling is disabled since the replica count of the target is zero")
    elif current > spec.max_replicas:
        desired, rescale = spec.max_replicas, True
    elif current < minimum:
        desired, rescale = minimum, True
    else:
        proposal, statuses, run = _compute_replicas(model, state, run, scale)
        if proposal is None:
            run = run.status(current_replicas=current, current_metrics=statuses)
            return _update_status_if_needed(model, state, original, run), run
        desired, run = _normalize(model, run, current, max(0, proposal), minimum)
        rescale = desired != current
    if rescale:
        body = {"spec": {"replicas": desired}, "metadata": {"resourceVersion": scale.resource_version}}
        state, response = send(model, state, IDENTITY, Request(
            verb="update-scale", user=IDENTITY, resource=_resource_of(ref.kind), namespace=scale.namespace,
            name=scale.name, patch=body), CONTROLLER_MANAGER)
        if not response.ok:
            run = run.condition("AbleToScale", "False", "FailedUpdateScale",
                                f"the HPA controller was unable to update the target scale: {response.message}")
            run = run.status(current_replicas=current, current_metrics=statuses)
            return _update_status_if_needed(model, state, original, run), run
        run = run.condition("AbleToScale", "True", "SucceededRescale",
                            f"the HPA controller was able to update the target scale to {desired}")
        run = _store_scale_event(run, current, desired)
    else:
        desired = current
    run = run.status(current_replicas=current, desired_replicas=desired, current_metrics=statuses,
                     last_scale_time=run.now if rescale else run.hpa.status.last_scale_time)
    return _update_status_if_needed(model, state, original, run), run


def _get_scale(model: ClusterModel, state: ClusterState, hpa: HorizontalPodAutoscaler
               ) -> tuple[ClusterState, Scale | str]:
    """scaleForResourceMappings: a live GET of the target's scale subresource (`get-scale`), or the
    error: the RESTMapper's for a kind without one (no request), else the response's message."""
    ref = hpa.spec.scale_target_ref
    resource = _resource_of(ref.kind)
    if not resource:
        return state, f'no matches for kind "{ref.kind}" in group "{ref.api_version.partition("/")[0]}"'
    state, response = send(model, state, IDENTITY, Request(verb="get-scale", user=IDENTITY, resource=resource,
                                                           namespace=hpa.metadata.namespace, name=ref.name),
                           CONTROLLER_MANAGER)
    return state, response.scale if response.ok and response.scale is not None else response.message


def _resource_of(kind: str) -> str:
    return {"Deployment": "deployments.apps", "ReplicaSet": "replicasets.apps",
            "StatefulSet": "statefulsets.apps"}.get(kind, "")


def _compute_replicas(model: ClusterModel, state: ClusterState, run: _Run, scale: Scale
                      ) -> tuple[int | None, tuple[MetricStatus, ...], _Run]:
    """computeReplicasForMetrics: the highest proposal over the metrics (None when every metric
    failed, or some failed and the rest would scale down)."""
    if scale.label_selector is None or not scale.selector:
        run = run.condition("ScalingActive", "False", "InvalidSelector", "the HPA target's scale is missing a selector")
        return None, (), run
    view_ = view(model, state, CONTROLLER_MANAGER)
    namespace = run.hpa.metadata.namespace
    pods = [p for p in view_.list("pods", namespace)
            if isinstance(p, Pod) and selector_matches(scale.label_selector, p.metadata.labels)]
    others = _other_hpas(state, view_, run.hpa, pods)
    if others:
        message = f"pods by selector {scale.selector} are controlled by multiple HPAs: {others}"
        return None, (), run.condition("ScalingActive", "False", "AmbiguousSelector", message)
    replicas, metric_name, invalid = 0, "", 0
    first_error: Condition | None = None
    statuses: list[MetricStatus] = []
    for spec in run.hpa.spec.metrics:
        outcome = _metric_proposal(model, state, run, spec, pods, scale.spec_replicas)
        if isinstance(outcome, Condition):
            first_error = first_error or outcome
            invalid += 1
            statuses.append(MetricStatus())
            continue
        proposal, status, name = outcome
        statuses.append(status)
        if replicas == 0 or proposal > replicas:
            replicas, metric_name = proposal, name
    metrics = run.hpa.spec.metrics
    if first_error is not None and (invalid >= len(metrics) or replicas < scale.spec_replicas):
        run = run.condition(first_error.type, first_error.status, first_error.reason, first_error.message)
        return None, tuple(statuses), run
    run = run.condition("ScalingActive", "True", "ValidMetricFound",
                        f"the HPA was able to successfully calculate a replica count from {metric_name}")
    return replicas, tuple(statuses), run


def _other_hpas(state: ClusterState, view_: ObjectView, hpa: HorizontalPodAutoscaler, pods: list[Pod]) -> list[str]:
    """hpasControllingPodsUnderSelector: other HPAs of the namespace whose targets select these pods."""
    if not pods:
        return []
    found = [pod_key(hpa)]
    for other in view_.list(RESOURCE, hpa.metadata.namespace):
        if not isinstance(other, HorizontalPodAutoscaler) or other.metadata.name == hpa.metadata.name:
            continue
        ref = other.spec.scale_target_ref
        target = get_scale(state.store, ref.kind, other.metadata.namespace, ref.name)
        if target is not None and target.label_selector is not None and any(
                selector_matches(target.label_selector, p.metadata.labels) for p in pods):
            found.append(pod_key(other))
    return sorted(found) if len(found) > 1 else []


def _metric_proposal(model: ClusterModel, state: ClusterState, run: _Run, spec: MetricSpec, pods: list[Pod],
                     current: int) -> tuple[int, MetricStatus, str] | Condition:
    """computeReplicasForMetric for one metric: (proposal, status, metric name) or the failure condition."""
    source: ResourceMetricSource | ContainerResourceMetricSource
    if spec.type == "Resource" and spec.resource is not None:
        source, container, reason = spec.resource, "", "FailedGetResourceMetric"
    elif spec.type == "ContainerResource" and spec.container_resource is not None:
        source, container = spec.container_resource, spec.container_resource.container
        reason = "FailedGetContainerResourceMetric"
    else:
        kind = {"Pods": "pods", "Object": "object", "External": "external"}.get(spec.type, spec.type.lower())
        return _unable(f"FailedGet{spec.type}Metric", f"failed to get {kind} metric value: unable to get "
                       f"metric: the model has no custom or external metrics API")
    resource, target = source.name, source.target
    try:
        samples = _samples(model, state, pods, resource, container)
        grouping = calc.group_pods(samples, resource, state.clock, int(model.parameter("metricsResolutionSeconds")),
                                   int(model.parameter("hpaCpuInitializationPeriodSeconds")),
                                   int(model.parameter("hpaInitialReadinessDelaySeconds")))
        tolerance = float(model.parameter("hpaTolerance"))
        if target.average_value is not None:
            proposal = calc.plain_replicas(current, target.average_value.milli_value(), samples, grouping, tolerance)
            name = f"{resource} resource"
        elif target.average_utilization is not None:
            proposal = calc.resource_replicas(current, target.average_utilization, samples, grouping, tolerance)
            name = (f"{resource} container resource utilization (percentage of request)" if container
                    else f"{resource} resource utilization (percentage of request)")
        else:
            raise calc.MetricsError("invalid resource metric source: neither an average utilization target nor an "
                                    "average value (usage) target was set")
    except calc.MetricsError as err:
        what = "usage" if target.average_value is not None else "utilization"
        return _unable(reason, f"failed to get {resource} {what}: {err}")
    value = MetricValueStatus(average_value=Quantity.from_milli(proposal.average),
                              average_utilization=proposal.utilization)
    if container:
        status = MetricStatus(type="ContainerResource", container_resource=ContainerResourceMetricStatus(
            name=resource, current=value, container=container))
    else:
        status = MetricStatus(type="Resource", resource=ResourceMetricStatus(name=resource, current=value))
    return proposal.replicas, status, name


def _unable(reason: str, message: str) -> Condition:
    """getUnableComputeReplicaCountCondition."""
    return Condition(type="ScalingActive", status="False", reason=reason,
                     message=f"the HPA was unable to compute the replica count: {message}")


def pod_request(pod: Pod, resource: str, container: str, not_found_error: bool = False) -> tuple[int | None, str]:
    """calculatePodRequests for one pod (`replica_calculator.go`, v1.33): the requests of
    `resource` summed over the containers and the restartable init containers (kubernetes PR
    #120001, v1.29), or over the one named `container`; (None, upstream's error) when a counted
    container has no request. A `container` the pod does not have sums 0 (v1.33, v1.34); from
    v1.35 (calculatePodRequestsFromContainers, kubernetes PR #133415) it is an error,
    `not_found_error` (parameter `hpaContainerNotFoundError`)."""
    name = pod.metadata.name
    counted = (*pod.spec.containers, *(c for c in pod.spec.init_containers if c.restart_policy == "Always"))
    total = 0
    for c in counted:
        if container and c.name != container:
            continue
        request = c.resources.requests.get(resource)
        if request is None:
            return None, f"missing request for {resource} in container {c.name} of Pod {name}"
        total += request.milli_value()
    if not_found_error and container and all(c.name != container for c in counted):
        return None, f"container {container} not found in Pod {name}"
    return total, ""


def _samples(model: ClusterModel, state: ClusterState, pods: Iterable[Pod], resource: str, container: str
             ) -> list[calc.PodSample]:
    """The pods as the calculator sees them: lister state, requests, metrics (MetricsError when
    the metrics API returns nothing for the selector, or, for a ContainerResource metric, a pod
    whose metrics lack the container: `metrics/client.go` getContainerMetrics)."""
    out, listed = [], list(pods)
    strict = bool(model.parameter("hpaContainerNotFoundError"))
    known = {pod.metadata.name for pod in listed if usage_known(model, state, pod, resource, container)}
    for pod in listed:
        request, error = pod_request(pod, resource, container, strict)
        metric = pod_metric(model, state, pod, resource, container) if pod.metadata.name in known else None
        out.append(calc.PodSample(pod.metadata.name, pod.status.phase, find_condition(pod.status.conditions, "Ready"),
                                  pod.status.start_time, pod.metadata.deletion_timestamp is not None, request,
                                  metric, error))
    failed = f"unable to get metrics for resource {resource}"
    running = [pod for pod in listed if has_metrics(model, state, pod)]
    if not running:
        raise calc.MetricsError(f"{failed}: no metrics returned from resource metrics API")
    for pod in running:
        if container and container not in metric_containers(pod):
            raise calc.MetricsError(f"{failed}: failed to get container metrics: container {container} not present "
                                    f"in metrics for pod {pod.metadata.namespace}/{pod.metadata.name}")
    if not any(pod.metadata.name in known for pod in running):  # undeclared usage: the load note explains it
        raise calc.MetricsError(f"{failed}: no metrics returned from resource metrics API")
    return out


def usage_known(model: ClusterModel, state: ClusterState, pod: Pod, resource: str, container: str) -> bool:
    """Whether the model knows the pod's usage of `resource`: a user environment rule answers for
    one of its metric containers, or an `environment.usage` entry selects the pod for that resource
    (for the one `container` of a ContainerResource metric). A pod whose usage the scenario does not
    declare has no metrics here: the model does not know its values, and a cluster whose values are
    unknown looks like one whose metrics API returns nothing for the pod. Upstream the HPA then gets
    an error (`pkg/controller/podautoscaler/horizontal.go` computeReplicasForMetrics: every metric
    invalid, or a scale-down with one invalid) and sets ScalingActive False
    (FailedGetResourceMetric) without rescaling — rather than reading usage 0 and scaling the target
    down to minReplicas, undoing a user's `scale` (trial 9). A known pod among unknown ones: the
    unknown count as pods without metrics (`replica_calculator.go` missingPods)."""
    names = [c for c in metric_containers(pod) if not container or c == container]
    for rule in rules(model):
        usage = getattr(rule, "usage", None)
        if usage is not None and any(usage(model, state, pod, name, resource) is not None for name in names):
            return True
    first = pod.spec.containers[0].name if pod.spec.containers else ""
    return any(entry.resource == resource and (entry.container or first) in names and selects(entry, pod)
               for entry in model.scenario.spec.environment.usage)


def _normalize(model: ClusterModel, run: _Run, current: int, desired: int, minimum: int) -> tuple[int, _Run]:
    """normalizeDesiredReplicas (no behavior) or normalizeDesiredReplicasWithBehaviors."""
    spec, mem, key = run.hpa.spec, run.mem, run.key
    history = mem.recommendations.get(key, ())
    default_window = int(model.parameter("hpaDownscaleStabilizationSeconds"))
    behavior = spec.behavior
    if behavior is None or behavior.scale_up is None or behavior.scale_down is None:
        stabilized, history = calc.stabilize(history, desired, run.now, default_window)
        if stabilized != desired:
            run = run.condition("AbleToScale", "True", "ScaleDownStabilized", "recent recommendations were higher than "
                                "current one, applying the highest recent recommendation")
        else:
            run = run.condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        result, reason, message = calc.limit_without_behavior(current, stabilized, minimum, spec.max_replicas)
    else:
        up, down = behavior.scale_up, behavior.scale_down
        down_window = default_window if down.stabilization_window_seconds is None else down.stabilization_window_seconds
        stabilized, reason, message, history = calc.stabilize_with_behaviors(
            history, current, desired, run.now, up.stabilization_window_seconds or 0, down_window)
        if stabilized != desired:
            run = run.condition("AbleToScale", "True", reason, message)
        else:
            run = run.condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        result, reason, message = calc.limit_with_behavior(
            current, stabilized, minimum, spec.max_replicas, mem.scale_up_events.get(key, ()),
            mem.scale_down_events.get(key, ()), up, down, run.now)
    run = run.condition("ScalingLimited", "False" if result == stabilized else "True", reason, message)
    return result, evolve(run, mem=evolve(run.mem, recommendations=mem.recommendations.set(key, history)))


def _store_scale_event(run: _Run, before: int, after: int) -> _Run:
    """storeScaleEvent (only with a behavior)."""
    behavior = run.hpa.spec.behavior
    if behavior is None:
        return run
    mem, key = run.mem, run.key
    if after > before:
        events = calc.record_event(mem.scale_up_events.get(key, ()), after - before, run.now,
                                   calc.longest_period(behavior.scale_up))
        return evolve(run, mem=evolve(mem, scale_up_events=mem.scale_up_events.set(key, events)))
    events = calc.record_event(mem.scale_down_events.get(key, ()), before - after, run.now,
                               calc.longest_period(behavior.scale_down))
    return evolve(run, mem=evolve(mem, scale_down_events=mem.scale_down_events.set(key, events)))


HANDLERS: dict[type[Any], Any] = {SyncHPA: sync_hpa}
