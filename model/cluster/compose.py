"""The cluster as one pure transition system: `initial_state`, `actions`, `step`.

This module composes the components — the user's workload, informers, the scheduler,
controllers, the node lifecycle controller, kubelets, time and faults — each of which lives in
its own module and exposes `enabled` (its actions) and `HANDLERS` (their effects). Engines use
only these three functions and `build_model`:

    model = build_model(load_scenario())
    state = initial_state(model)
    for act in actions(model, state): ...
    state = step(model, state, act)

`step` never mutates its input. With instant caches, every write's watch events reach every
component's handlers within the same step; otherwise delivering them is an action of its own.
After each step the event log is compacted to what some cache still needs, so two clusters that
differ only in already-consumed history are equal states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubeprop.model.api.store import WatchEvent
from kubeprop.model.cluster import (
    environment,
    exit_deadlines,
    faults,
    informers,
    maintenance,
    outages,
    overload,
    prompt_work,
    provisioner,
    restore,
    workload,
    workload_wait,
)
from kubeprop.model.controllers import (
    attachdetach,
    clusterrole_aggregation,
    cronjob,
    daemonset,
    daemonset_order,
    disruption,
    hpa,
    job,
    namespace,
    nodelifecycle,
    nodelifecycle_events,
    persistentvolume,
    persistentvolume_order,
    processes,
    queued_work,
    ttlafterfinished,
    volume_protection,
)
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers.gc import collected_resources
from kubeprop.model.controllers.registry import default_controllers, with_controllers
from kubeprop.model.descheduler import component as descheduler
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.scenario.apply_steps import apply_step_manifests
from kubeprop.model.scenario.bootstrap import api_config, bootstrap, rejection_problem
from kubeprop.model.scenario.load import Scenario, ScenarioError
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scenario.variants import variant_parameters
from kubeprop.model.scheduler import component as scheduler
from kubeprop.model.scheduler import namespaces as scheduler_namespaces
from kubeprop.model.scheduler import pdbs as scheduler_pdbs
from kubeprop.model.scheduler import volumebinding
from kubeprop.model.state.actions import Action, Tick
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, compact, view
from kubeprop.model.state.component import Hooks

COMPONENTS: tuple[Any, ...] = (workload, informers, scheduler, controllers, daemonset_order, persistentvolume_order,
                                nodelifecycle, kubelet, faults, hpa, environment, maintenance, descheduler, restore,
                                overload, provisioner)
"""Every component module, in the order their actions are listed."""

HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    cls: handler for component in COMPONENTS for cls, handler in component.HANDLERS.items()
}
"""Action class → its component's pure handler."""


def _controller_events(model: ClusterModel, state: ClusterState, component: str,
                       events: tuple[WatchEvent, ...]) -> ClusterState:
    """Events that reached the controller manager or an operator's own cache: its controllers' handlers."""
    if component != CONTROLLER_MANAGER and not processes.is_operator(component):
        return state
    return controllers.notify(model, state, events, process=component)


def _controller_sync_updates(model: ClusterModel, state: ClusterState, component: str,
                             events: tuple[WatchEvent, ...]) -> ClusterState:
    if component != CONTROLLER_MANAGER and not processes.is_operator(component):
        return state
    return controllers.notify(model, state, events, sync=True, process=component)


def _reset_controllers(model: ClusterModel, state: ClusterState, component: str) -> ClusterState:
    """The controller manager (or an operator with its own cache) starts: its controllers' memories
    and queues afresh from its own cache; an operator's own controller keeps its state through a
    restart of the controller manager, and the other way round."""
    if processes.is_operator(component):
        fresh_one = controllers.initial_controllers(model, view(model, state, component), state.store, component)
        return evolve(state, controllers=FrozenMap({**state.controllers, **fresh_one}))
    if component != CONTROLLER_MANAGER:
        return state
    own = processes.own_processes(model)
    kept = {n: c for n, c in state.controllers.items() if own and processes.process_of(model, n) != CONTROLLER_MANAGER}
    fresh: dict[str, Any] = dict(kept)
    fresh.update(controllers.initial_controllers(model, view(model, state, CONTROLLER_MANAGER), state.store,
                                                 CONTROLLER_MANAGER))
    fresh[nodelifecycle.NAME] = nodelifecycle.initial_nodelifecycle_memory(
        started_at=state.clock, nodes=view(model, state, CONTROLLER_MANAGER).list("nodes"))
    fresh.update(hpa.initial_memory(model, view(model, state, CONTROLLER_MANAGER), state.clock))
    fresh.update(attachdetach.initial_memory(model, state))
    return evolve(state, controllers=FrozenMap(fresh))


HOOKS = Hooks(
    on_events=(_controller_events, scheduler.on_events, hpa.on_events, nodelifecycle_events.on_events,
               attachdetach.on_events),
    on_sync_updates=(_controller_sync_updates, hpa.on_events),
    resetters=(_reset_controllers, scheduler.reset, kubelet.reset),
    tick_hooks=(controllers.on_tick, scheduler.on_tick, attachdetach.on_tick),
    timers=(scheduler.next_timer, controllers.next_timer, nodelifecycle.next_timer, kubelet.next_timer,
            hpa.next_timer, maintenance.next_timer, descheduler.next_timer, workload_wait.next_timer,
            attachdetach.next_timer),
    tick_guards=(nodelifecycle.blocks_tick, queued_work.holds_clock, prompt_work.scheduler_holds_clock,
                 prompt_work.in_flight_holds_clock, outages.outage_holds_clock, exit_deadlines.exit_holds_clock,
                 maintenance.drain_holds_clock),
    watches=(hpa.watches, scheduler_pdbs.watches, volumebinding.watches, scheduler_namespaces.watches),
    request_gates=(overload.refusal,),
    memo_safe_gates=(overload.refusal,),
)
"""What the shared mechanisms run for the components; every model built here carries it."""


def build_model(scenario: Scenario, parameters: dict[str, Any] | None = None,
                variant: str | None = None, controllers: tuple[Any, ...] = ()) -> ClusterModel:
    """The model of a scenario: its parameters (upstream defaults, then the scenario's values, then
    the variant's overrides, then `parameters`), its controllers (built-ins, then the scenario's
    `controllers:`, then `controllers`; a user controller replaces a built-in of the same name),
    nodes and the workload's manifests."""
    chosen = variant or scenario.spec.variant
    values = dict(PARAMETERS)
    values.update(scenario.spec.parameters)
    values.update(variant_parameters(chosen))
    values.update(parameters or {})
    frozen = FrozenMap(values)
    instances = ("scheduler",) if values["leaderElection"] else tuple(
        "scheduler" if i == 0 else f"scheduler-{i + 1}" for i in range(int(values["schedulerInstances"]))
    )
    workload_objects = _workload_objects(scenario)
    objects = _objects(scenario, workload_objects)
    own = bool(scenario.controllers or controllers)
    gc_resources = tuple(sorted({*collected_resources(objects, own_controllers=own),
                                 *cronjob.created_resources(objects)}))
    return ClusterModel(
        scenario=scenario,
        api=api_config(scenario, frozen),
        nodes=tuple(n.name for n in scenario.spec.topology.nodes),
        controllers=with_controllers(
            default_controllers(frozen, gc_resources),
            (*_addon_controllers(scenario, frozen, workload_objects, controllers, gc_resources),
             *scenario.controllers, *controllers)),
        scheduler_instances=instances,
        scheduler_profile=scheduler.profile_for(frozen),
        parameters=frozen,
        variant=chosen,
        workload_objects=workload_objects,
        etcd_members=tuple(m.name for m in scenario.spec.topology.etcd),
        etcd_nodes=tuple(m.node for m in scenario.spec.topology.etcd),
        hooks=HOOKS,
        added_controllers=tuple(controllers),
    )


def _addon_controllers(scenario: Scenario, parameters: FrozenMap[str, Any],
                       workload_objects: tuple[tuple[Any, ...], ...], extra: tuple[Any, ...],
                       gc_resources: tuple[str, ...]) -> tuple[Any, ...]:
    """Controllers that run only when the scenario needs them: the DaemonSet controller when it
    creates a DaemonSet, the Job controller when it creates a Job or a CronJob, the CronJob controller
    when it creates a CronJob, the disruption controller when it
    creates a PodDisruptionBudget, the PersistentVolume controller and the PVC and PV protection
    controllers when it can have claims or volumes (`persistentvolume.uses_volumes`: a user's
    controller may create them), the clusterrole-aggregation controller when it creates a
    ClusterRole or a user's controller runs (it may create one), the namespace
    controller when a namespace can be deleted (it watches what the garbage collector watches,
    `gc_resources`, and namespaces)."""
    objects = _objects(scenario, workload_objects)
    out: list[Any] = []
    if clusterrole_aggregation.uses_cluster_roles(objects, (*scenario.controllers, *extra)):
        out.append(clusterrole_aggregation.ClusterRoleAggregationController())
    if daemonset.uses_daemon_sets(objects):
        out.append(daemonset.DaemonSetController(
            expectations_timeout_seconds=int(parameters["expectationsTimeoutSeconds"]),
            use_expectations=bool(parameters["daemonSetExpectations"])))
    if job.uses_jobs(objects) or cronjob.uses_cron_jobs(objects):
        out.append(job.JobController(expectations_timeout_seconds=int(parameters["expectationsTimeoutSeconds"]),
                                     tracking_finalizers=bool(parameters["jobTrackingWithFinalizers"])))
    if ttlafterfinished.uses_ttl(objects):
        out.append(ttlafterfinished.TTLAfterFinishedController())
    if cronjob.uses_cron_jobs(objects):
        out.append(cronjob.CronJobController(name_lock=bool(parameters["cronJobNameLock"])))
    if disruption.uses_pdbs(objects):
        out.append(disruption.DisruptionController(int(parameters["disruptionDeletionTimeoutSeconds"])))
    if persistentvolume.uses_volumes(objects, (*scenario.controllers, *extra)):
        out += [persistentvolume.PersistentVolumeController(str(parameters["defaultStorageClass"])),
                volume_protection.PVCProtectionController(), volume_protection.PVProtectionController()]
    if namespace.may_delete_namespaces(scenario, objects, (*scenario.controllers, *extra)):
        out.append(namespace.NamespaceController.of(namespace.namespaced_custom_resources(objects), gc_resources,
                                                    bool(parameters["orderedNamespaceDeletion"])))
    return tuple(out)


def _objects(scenario: Scenario, workload_objects: tuple[tuple[Any, ...], ...]) -> list[Any]:
    """The objects of the scenario's manifests and of its workload steps, in that order."""
    return [m.obj for m in scenario.objects] + [o for step in workload_objects for o in step]


def _workload_objects(scenario: Scenario) -> tuple[tuple[Any, ...], ...]:
    """Each workload step's objects (`apply_steps`: with the CRDs of the manifests and earlier steps)."""
    steps = apply_step_manifests(scenario.spec.workload, Path(scenario.path).parent, (m.obj for m in scenario.objects))
    return tuple(tuple(m.obj for m in loaded) for loaded in steps)


def initial_state(model: ClusterModel) -> ClusterState:
    """The cluster right after the scenario's objects were applied: every component up, caches
    freshly listed, every controller's keys queued, kubelets with no containers yet."""
    boot = bootstrap(model.scenario, config=model.api)
    if boot.rejected:
        raise ScenarioError([rejection_problem(model.scenario, boot.rejected[0])])
    state = ClusterState(store=boot.store, kubelets=FrozenMap({n: kubelet.initial_kubelet() for n in model.nodes}))
    state = evolve(state, informers=informers.initial_informers(model, state))
    for process in (CONTROLLER_MANAGER, *processes.own_processes(model)):
        state = _reset_controllers(model, state, process)
    for instance in model.scheduler_instances:
        state = scheduler.reset(model, state, instance)
    return compact(model, state)


CACHES: list[Any] = []
"""Active `incremental.EnabledCache`s (innermost last), pushed by `incremental.memoised`: a cache
for the model at hand answers `actions` (the same answer, computed less often)."""


def actions(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    """Every enabled action, every nondeterministic choice included, in a deterministic order."""
    if CACHES and CACHES[-1].model is model:
        return CACHES[-1].actions(state)  # type: ignore[no-any-return]
    out: list[Action] = []
    for component in COMPONENTS:
        out.extend(component.enabled(model, state))
    return tuple(out)


def actions_but_tick(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    """`actions` without `Tick` (same order otherwise): what the fair driver looks at first, since
    it takes `Tick` only when nothing else is left, and whether a timer is pending is costly."""
    if CACHES and CACHES[-1].model is model:
        return CACHES[-1].actions(state, tick=False)  # type: ignore[no-any-return]
    out: list[Action] = []
    for component in COMPONENTS:
        out.extend(faults.fault_enabled(model, state) if component is faults else component.enabled(model, state))
    return tuple(out)


def enabled_groups(model: ClusterModel, state: ClusterState) -> Iterator[tuple[Action, ...]]:
    """`actions_but_tick` component by component (part by part with a cache), each computed only
    when the caller asks for it: the fair driver stops at the first move never taken."""
    if CACHES and CACHES[-1].model is model:
        yield from CACHES[-1].groups(state, tick=False)
        return
    for component in COMPONENTS:
        yield tuple(faults.fault_enabled(model, state) if component is faults else component.enabled(model, state))


def iter_actions(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """`actions` lazily (engines that stop at the first enabled action of some kind)."""
    for component in COMPONENTS:
        yield from component.enabled(model, state)


def step(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
    """The state after `act`. Pure: `state` is not changed."""
    handler = HANDLERS.get(type(act))
    if handler is None:
        raise KeyError(f"no handler for action {type(act).__name__}")
    before = state.store.revision
    new = handler(model, state, act)
    if model.instant_caches and new.store.revision != before:
        events = tuple(e for e in new.store.events if e.revision > before)
        new = informers.deliver_instantly(model, new, events, state.store.objects)
    if new.addons:
        new = environment.forget_pods(new)
    if new.tick_race is not None and type(act) is not Tick:  # (what the last tick left in flight)
        new = prompt_work.after_action(new, act)
    return compact(model, new)
