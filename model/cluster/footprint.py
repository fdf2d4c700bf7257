"""Footprints: the parts of the cluster state each action reads and writes, and independence.

A footprint names parts of a `ClusterState` with short tokens:

| token | part of the state |
|---|---|
| `store` | the API store: objects, revision, event log (every write bumps the revision) |
| `etcd` | whether etcd has a quorum (members and their nodes up) |
| `cache:<component>` | a component's informer caches (an operator's own: `cache:operator/<name>`) |
| `ctl:<controller>` | one controller's work queue and memory (node lifecycle, the HPA: their memory) |
| `sched:<instance>` | one scheduler instance's queue memory and assume cache |
| `kubelet:<node>` | one node's actual pods and containers |
| `up:<component>`, `up:node/<node>` | whether a component (a node) is down |
| `net:<node>` | whether a node is partitioned |
| `heartbeat:<node>` | when a node's heartbeats stopped reaching the API server |
| `armed:<component>` | an injected failure waiting for the component's next request |
| `crashed:<component>` | when a crashed process went down (its restart deadline: `outages`) |
| `faults:<kind>` | the fault budget spent of one kind (`node_crash`, `partition`, …) |
| `ghost:<component>` | the checking-only history of one component's LISTs (`seen_revisions`, `time_travel`) |
| `clock`, `quiesced`, `workload` | the clock, whether faults are over, the next workload step |
| `tick_race` | what the last `Tick` left in flight (`prompt_work.TickRace`): `Tick` alone reads and sets it |

`ALL` stands for every token (a `Tick` wakes timers everywhere; an unknown action could touch
anything). Two actions are *independent* when neither writes a part the other reads or writes:
then in any state where both are enabled, taking one leaves the other enabled and both orders
reach the same state — what partial-order reduction (`kubeprop.properties.explore.por`) and the
search around the fair run (`around.py`) rely on. Every footprint includes what decides whether
the action is *enabled*, not only what its effect touches.

Two facts of the model make many footprints small: a watch delivery only consumes an event that
already exists (later writes append events, they never change it), and compaction only drops
events no live cache needs, so neither is a conflict between a delivery and a write. The store's
revision counter, on the other hand, makes every two writes dependent: etcd orders them.
`tests/model/cluster/test_footprint.py` checks the commutation and enabledness claims on random
runs of the catalogue scenarios. The universe of actions that persistent sets close over (one
representative per action kind and target) is `kubeprop.model.cluster.footprint_universe`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from kubeprop.model.cluster import exit_deadlines, maintenance, outages, prompt_work, workload_wait
from kubeprop.model.cluster.actors import KUBELET_LOCAL, KUBELET_WRITES, NODELIFECYCLE, SCHEDULER_WRITES
from kubeprop.model.cluster.actors import USER as USER  # (re-exported: the documented import paths)
from kubeprop.model.cluster.actors import actor as actor
from kubeprop.model.cluster.actors import component_of as component_of
from kubeprop.model.cluster.faults import crashable as crashable  # (re-exported for footprint_universe)
from kubeprop.model.cluster.informers import WATCH_CACHE, components
from kubeprop.model.controllers import attachdetach, hpa, nodelifecycle, queued_work
from kubeprop.model.controllers import base as controllers
from kubeprop.model.controllers.base import Reconcile, SyncInformer
from kubeprop.model.controllers.daemonset_order import ReconcileFrom
from kubeprop.model.controllers.persistentvolume_order import ReconcileModesFirst
from kubeprop.model.controllers.processes import controllers_in, is_operator, own_processes, process_of
from kubeprop.model.descheduler import component as descheduler
from kubeprop.model.kubelet import component as kubelet_mod
from kubeprop.model.kubelet.volumes import ATTACH_DETACH, can_attach
from kubeprop.model.scheduler import component as scheduler_mod
from kubeprop.model.scheduler.component import Schedule
from kubeprop.model.state import actions as act_mod
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import (
    CONTROLLER_MANAGER,
    ETCD_PREFIX,
    KUBELET_PREFIX,
    USER_COMPONENT,
    ClusterModel,
    kubelet,
)

ALL = "*"
"""The token that stands for every part of the state."""
CLASSES_KEPT = 20_000
"""Actions whose footprint class is remembered per model before that memo is cleared (bounded
memory: actions that differ only in a revision or a pod are distinct keys)."""
KNOWN_TIMERS = {controllers.next_timer, nodelifecycle.next_timer, kubelet_mod.next_timer, scheduler_mod.next_timer,
                hpa.next_timer, maintenance.next_timer, descheduler.next_timer, workload_wait.next_timer,
                attachdetach.next_timer}
"""The timers `Tick`'s footprint accounts for."""
KNOWN_TICK_HOOKS = {controllers.on_tick, scheduler_mod.on_tick, attachdetach.on_tick}
"""The hooks run on `Tick` that its footprint accounts for."""
KNOWN_TICK_GUARDS = {nodelifecycle.blocks_tick, queued_work.holds_clock, prompt_work.scheduler_holds_clock,
                     prompt_work.in_flight_holds_clock, outages.outage_holds_clock,
                     exit_deadlines.exit_holds_clock, maintenance.drain_holds_clock}
"""The tick guards `Tick`'s footprint accounts for."""


@attrs.frozen
class Footprint:
    """What an action reads and writes (tokens; `ALL` for everything)."""

    reads: frozenset[str]
    writes: frozenset[str]

    def conflicts(self, other: Footprint) -> bool:
        """True unless the two are independent (neither writes what the other touches)."""
        if ALL in self.writes or ALL in other.writes:
            return True
        if (ALL in self.reads and other.writes) or (ALL in other.reads and self.writes):
            return True
        mine = self.reads | self.writes
        theirs = other.reads | other.writes
        return not (self.writes.isdisjoint(theirs) and other.writes.isdisjoint(mine))


EVERYTHING = Footprint(frozenset({ALL}), frozenset({ALL}))


def _fp(reads: set[str], writes: set[str]) -> Footprint:
    return Footprint(frozenset(reads | writes), frozenset(writes))


class Footprints:
    """The footprint of every action of one model, computed once per action."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.instant = model.instant_caches
        self.controllers = tuple(c.name for c in model.controllers)
        self.attaches = can_attach(model)
        """Whether a pod's mount can wait for a volume attached to another node (the scenario can have
        an attachable volume that forbids multi-attach: `kubeprop.model.kubelet.volumes.can_attach`;
        `multi_attach_error` then reads the store, every kubelet and the attach/detach controller's
        memory)."""
        self.memories = (nodelifecycle.NAME, *((hpa.NAME,) if hpa.uses_hpa(model) else ()),
                         *((ATTACH_DETACH,) if self.attaches else ()))
        """The controller manager's memories kept beside the `Controller`s' (`state.controllers`): node
        lifecycle's, the HPA controller's (its due times, recommendations and scale events) when it
        runs, and the attach/detach controller's (`kubeprop.model.controllers.attachdetach`: its
        detach waits) where a volume can wait for it. Their watch handlers write them (`hpa.on_events`,
        `attachdetach.on_events`), a crash or restart resets them, and `Tick` reads them (their timers)
        and writes them (`attachdetach.on_tick`)."""
        self.memo: dict[Action, Footprint] = {}
        self.classes: dict[Action, int] = {}
        """Each action's footprint class: the number of its (interned) footprint."""
        self.footprints: list[Footprint] = []
        self.numbers: dict[Footprint, int] = {}
        self.rows: list[dict[int, bool]] = []
        """Whether two classes conflict, by class number: few footprints are distinct (one per
        kind and target), so every pair is computed once and looked up after."""
        self.etcd_hosts = frozenset(n for n in model.etcd_nodes if n)

    def of(self, act: Action) -> Footprint:
        """The footprint of `act` (`EVERYTHING` for an action kind this module does not know)."""
        found = self.memo.get(act)
        if found is None:
            rule = _RULES.get(type(act))
            found = EVERYTHING if rule is None else rule(self, act)
            self.memo[act] = found
        return found

    def of_kind(self, act: Action) -> Footprint:
        """The footprint of `act` without remembering it (for `representatives`' stand-ins)."""
        rule = _RULES.get(type(act))
        return EVERYTHING if rule is None else rule(self, act)

    def footprint_class(self, act: Action) -> int:
        """The number of `act`'s footprint among the distinct footprints seen (equal footprints,
        one number)."""
        found = self.classes.get(act)
        if found is None:
            footprint = self.of(act)
            found = self.numbers.get(footprint)
            if found is None:
                found = self.numbers[footprint] = len(self.footprints)
                self.footprints.append(footprint)
                self.rows.append({})
            if len(self.classes) >= CLASSES_KEPT:
                self.classes.clear()
            self.classes[act] = found
        return found

    def _conflict(self, i: int, j: int) -> bool:
        row = self.rows[i]
        found = row.get(j)
        if found is None:
            found = row[j] = self.footprints[i].conflicts(self.footprints[j])
        return found

    def independent(self, a: Action, b: Action) -> bool:
        """True if `a` and `b` commute and neither enables or disables the other."""
        return not self._conflict(self.footprint_class(a), self.footprint_class(b)) and a != b

    def independent_of(self, b: Action) -> Callable[[Action], bool]:
        """`independent(·, b)` as a function, for testing many actions against one."""
        j = self.footprint_class(b)
        mine = self.rows[j]
        classes, footprints = self.classes, self.footprints
        kind = type(b)

        def test(a: Action) -> bool:
            i = classes.get(a)
            if i is None:
                i = self.footprint_class(a)
            found = mine.get(i)
            if found is None:
                found = mine[i] = footprints[j].conflicts(footprints[i])
            # `a != b`, asked only of an action of `b`'s class (an action equals only one of its own class)
            return not found and (type(a) is not kind or (a is not b and a != b))

        return test

    # --- building blocks ------------------------------------------------------------------

    def all_controllers(self) -> set[str]:
        """Every controller's queue and memory, node lifecycle's and the HPA's included (`memories`)."""
        return {f"ctl:{c}" for c in (*self.controllers, *self.memories)}

    def hooks(self, component: str) -> set[str]:
        """What the event handlers of `component` write when events reach it."""
        if component == CONTROLLER_MANAGER:  # (node events: the taint eviction work; HPA events: its due times)
            return self.all_controllers()
        if is_operator(component):  # (an operator's own cache: its own controllers' queues alone)
            return {f"ctl:{c.name}" for c in controllers_in(self.model, component)}
        if component in self.model.scheduler_instances:
            return {f"sched:{component}"}
        return set()

    def api_write(self) -> set[str]:
        """What a write through the API server writes (with instant caches, every handler runs)."""
        out = {"store"}
        if self.instant:
            out |= self.hooks(CONTROLLER_MANAGER) | {f"sched:{i}" for i in self.model.scheduler_instances}
        return out

    def send(self, component: str) -> tuple[set[str], set[str]]:
        """(reads, writes) of sending one request as `component`."""
        return {"store", "etcd", f"armed:{component}", "clock"}, self.api_write() | {f"armed:{component}"}

    def cache(self, component: str) -> set[str]:
        """What reading `component`'s view reads (its cache, or the store with instant caches)."""
        if self.instant:
            return {f"cache:{component}", "store"}  # a partitioned kubelet keeps a snapshot
        return {f"cache:{component}"}

    def reaches(self, component: str) -> set[str]:
        """What `reaches_apiserver(component)` reads."""
        if component.startswith(KUBELET_PREFIX):
            node = component[len(KUBELET_PREFIX):]
            return {f"up:{component}", f"up:node/{node}", f"net:{node}"}
        return {f"up:{component}"}

    def etcd_of_node(self, node: str) -> set[str]:
        return {"etcd"} if node in self.etcd_hosts else set()


# --- rules per action kind --------------------------------------------------------------------

Rule = Callable[[Footprints, Any], Footprint]


def _deliver(f: Footprints, act: Any) -> Footprint:
    reads = f.reaches(act.component) | {f"cache:{act.component}"}
    if act.component == CONTROLLER_MANAGER:
        reads |= {f"cache:{CONTROLLER_MANAGER}"}
    return _fp(reads, {f"cache:{act.component}"} | f.hooks(act.component))


def _relist(f: Footprints, act: Any) -> Footprint:
    reads = f.reaches(act.component) | {f"cache:{act.component}", "store", "etcd", f"cache:{WATCH_CACHE}"}
    return _fp(reads, {f"cache:{act.component}", f"ghost:{act.component}"} | f.hooks(act.component))


def _schedule(f: Footprints, act: Any) -> Footprint:
    return _fp({f"up:{act.scheduler}"} | f.cache(act.scheduler), {f"sched:{act.scheduler}"})


def _scheduler_write(f: Footprints, act: Any) -> Footprint:
    reads, writes = f.send(act.scheduler)
    return _fp(reads | {f"up:{act.scheduler}"} | f.cache(act.scheduler), writes | {f"sched:{act.scheduler}"})


def _reconcile(f: Footprints, act: Any) -> Footprint:
    """Sent as the controller's process (the controller manager, or an operator's own), deciding from
    that process's cache, enabled while it is up."""
    process = process_of(f.model, act.controller)
    reads, writes = f.send(process)
    return _fp(reads | {f"up:{process}"} | f.cache(process), writes | {f"ctl:{act.controller}"})


def _sync_informer(f: Footprints, act: Any) -> Footprint:
    """Enabled while the LIST is allowed (the stored RBAC objects); enqueues the keys of the
    cached objects of that resource (its process's cache)."""
    process = process_of(f.model, act.controller)
    reads = {"store", f"up:{process}"} | f.cache(process)
    return _fp(reads, {f"ctl:{act.controller}"})


def _nodelifecycle(f: Footprints, act: Any) -> Footprint:
    reads, writes = f.send(CONTROLLER_MANAGER)
    heartbeats = {f"heartbeat:{n}" for n in f.model.nodes}
    return _fp(reads | heartbeats | {f"up:{CONTROLLER_MANAGER}"} | f.cache(CONTROLLER_MANAGER),
               writes | {f"ctl:{nodelifecycle.NAME}"})


_PRESSURE_EPISODES = (kubelet_mod.MemoryPressure, kubelet_mod.DiskPressure, kubelet_mod.DiskPressureReclaimed,
                      kubelet_mod.PIDPressure)


def _kubelet_local(f: Footprints, act: Any) -> Footprint:
    me = kubelet(act.node)
    reads = {f"up:{me}", f"up:node/{act.node}", "clock"} | f.cache(me)
    if isinstance(act, _PRESSURE_EPISODES):
        reads |= {f"kubelet:{n}" for n in f.model.nodes}  # the budget of pressure events is shared
    if f.attaches and isinstance(act, (kubelet_mod.StartPod, kubelet_mod.MountVolumes)):
        # Multi-Attach: who holds the volume (the pods in the store and the controller manager's cache,
        # the kubelets, the detach waits)
        reads |= {"store", f"ctl:{ATTACH_DETACH}", *f.cache(CONTROLLER_MANAGER)}
        reads |= {f"kubelet:{n}" for n in f.model.nodes}
    return _fp(reads, {f"kubelet:{act.node}"})


def _kubelet_write(f: Footprints, act: Any) -> Footprint:
    me = kubelet(act.node)
    reads, writes = f.send(me)
    return _fp(reads | f.reaches(me) | f.cache(me), writes | {f"kubelet:{act.node}"})


def _user_step(f: Footprints, act: Any) -> Footprint:
    reads, writes = f.send(USER_COMPONENT)
    return _fp(reads | {"workload"}, writes | {"workload"})


def _quiesce(f: Footprints, act: Any) -> Footprint:
    return _fp(set(), {"quiesced"})


def _node_down_up(f: Footprints, act: Any) -> Footprint:
    """`CrashNode`/`RestartNode`: a restarted node's kubelet lists what it watches afresh
    (`informers.fresh_informer`), from etcd or — with `listFromWatchCache` — from the watch cache,
    as `RestartComponent` and `Relist` do, so it reads them too."""
    me = kubelet(act.node)
    touched = {f"up:node/{act.node}", f"kubelet:{act.node}", f"heartbeat:{act.node}", f"cache:{me}", f"ghost:{me}",
               "faults:node_crash", f"net:{act.node}", f"up:{me}"} | f.etcd_of_node(act.node)
    return _fp({"store", "etcd", "clock", "quiesced", f"cache:{WATCH_CACHE}"}, touched | f.hooks(me))


def _partition_heal(f: Footprints, act: Any) -> Footprint:
    me = kubelet(act.node)
    touched = {f"net:{act.node}", f"cache:{me}", f"heartbeat:{act.node}", "faults:partition"}
    return _fp({"store", "clock", "quiesced", f"up:node/{act.node}"}, touched)


def _crash_container(f: Footprints, act: Any) -> Footprint:
    return _fp({"clock", "quiesced", f"up:node/{act.node}"}, {f"kubelet:{act.node}", "faults:container_crash"})


def _component(f: Footprints, act: Any) -> Footprint:
    c = act.component
    touched = {f"up:{c}", f"cache:{c}", f"armed:{c}", "faults:component_crash", f"ghost:{c}", f"crashed:{c}"}
    if c == CONTROLLER_MANAGER:
        touched |= f.all_controllers()
    elif is_operator(c):
        touched |= f.hooks(c)
    elif c in f.model.scheduler_instances:
        touched.add(f"sched:{c}")
    elif c.startswith(ETCD_PREFIX):
        touched.add("etcd")
    elif c.startswith(KUBELET_PREFIX):
        node = c[len(KUBELET_PREFIX):]
        touched |= {f"net:{node}", f"up:node/{node}"}
        if isinstance(act, act_mod.RestartComponent):  # its prober's counts start afresh (`kubelet.reset`)
            touched.add(f"kubelet:{node}")
    return _fp({"store", "etcd", "clock", "quiesced", f"cache:{WATCH_CACHE}"}, touched)


def _crash_during_reconcile(f: Footprints, act: Any) -> Footprint:
    """A reconcile's first requests, then its process's crash: both footprints."""
    sent, crash = _reconcile(f, act), _component(f, act_mod.CrashComponent(process_of(f.model, act.controller)))
    return Footprint(sent.reads | crash.reads, sent.writes | crash.writes)


def _tick(f: Footprints, act: Any) -> Footprint:
    """Whether a timer is pending reads every timer: the kubelets' back-offs, kill deadlines and
    active deadlines (as admitted: `kubeprop.model.kubelet.deadline`), the controllers' wake-ups
    (their cache) and node lifecycle's grace periods and evictions, the schedulers'
    unschedulable-queue flushes (their memory and cache), the HPA's due times, the attach/detach
    controller's detach waits (its memory, the kubelets, the controller manager's cache; its tick hook
    ends them: `attachdetach.on_tick`), and the add-ons'
    state (maintenance drains, the descheduler), and a waiting kubectl command's deadline (the
    workload's). Its guards: node lifecycle's health pass (its memory, the controller manager's
    cache) and a controller with work it can do now (`queued_work.holds_clock`), which runs a
    reconcile of each queued key: all the controllers' queues and memories, the controller
    manager's cache and what its requests read (`send`: the store, etcd's quorum, an armed failure
    of the controller manager, the clock); the schedulers' work (their memory, caches, whether they
    are up: read by their timers already); work in flight (`prompt_work.in_flight_holds_clock`):
    every informer cache and the event log (the store), whether each component is up and reaches
    the API server, etcd's quorum (a relist), the kubelets' runtime state; a crashed process's
    restart deadline (`outages.outage_holds_clock`, and the tick's length, `outages.tick_step`): every
    process's crash time and whether a kubelet's node is down; a bounded container's exit deadline
    (`exit_deadlines`, `environment.exits`, also in the tick's length): the kubelets' runtime state,
    their caches (the pods' labels) and whether they are up; a drain's due eviction
    (`maintenance.drain_holds_clock`): the add-ons' state and the clock. With any other timer,
    tick hook or tick guard in the model's `Hooks` (a component this module does not know),
    `EVERYTHING`. It reads and writes `tick_race` (`prompt_work.TickRace`: the in-flight guard reads
    it, `Tick` sets it). Every other action that changes it conflicts with `Tick` through another
    token: the work it lists (a delivery or relist: its cache; a kubelet's prompt work: its runtime
    state) and an environment action (`prompt_work.environment_kinds`: the workload, a node's or
    component's state, a kubelet's, the add-ons; the rest have no rule: `EVERYTHING`); and those
    changes commute (taking an action out of the set, noting the environment acted), so two such
    actions stay independent (`tests/model/cluster/test_tick_race.py`)."""
    hooks = f.model.hooks
    if (not set(hooks.timers) <= KNOWN_TIMERS or not set(hooks.tick_hooks) <= KNOWN_TICK_HOOKS
            or not set(hooks.tick_guards) <= KNOWN_TICK_GUARDS):
        return EVERYTHING
    nodes, schedulers = f.model.nodes, f.model.scheduler_instances
    reads = ({"clock", "addons", "workload", f"cache:{CONTROLLER_MANAGER}", f"up:{CONTROLLER_MANAGER}"}
             | f.all_controllers()
             | {f"kubelet:{n}" for n in nodes} | {f"heartbeat:{n}" for n in nodes}
             | {f"up:{kubelet(n)}" for n in nodes} | {f"up:node/{n}" for n in nodes}
             | {f"{part}:{s}" for s in schedulers for part in ("sched", "cache", "up")})
    for process in (CONTROLLER_MANAGER, *own_processes(f.model)):  # (`holds_clock`'s reconciles: the store,
        reads |= f.send(process)[0] | {f"up:{process}", f"cache:{process}"}  # etcd, the armed failure, up)
    for component in components(f.model):  # (`in_flight_holds_clock`: deliveries and relists)
        reads |= f.reaches(component) | {f"cache:{component}"}
    reads |= {f"crashed:{c}" for c in crashable(f.model)}  # (`outages`: restart deadlines)
    return _fp(reads | {"tick_race"}, {"clock", "tick_race"} | f.all_controllers() | {f"sched:{s}" for s in schedulers})


def _drop_watch(f: Footprints, act: Any) -> Footprint:
    return _fp({f"up:{act.component}", "quiesced"}, {f"cache:{act.component}", "faults:watch_drop"})


def _fail_next(f: Footprints, act: Any) -> Footprint:
    return _fp({f"up:{act.component}", "quiesced"}, {f"armed:{act.component}", "faults:request_failure"})


_RULES: dict[type[Any], Rule] = {
    act_mod.Deliver: _deliver,
    act_mod.Relist: _relist,
    Schedule: _schedule,
    **{kind: _scheduler_write for kind in SCHEDULER_WRITES},
    Reconcile: _reconcile,
    ReconcileFrom: _reconcile,
    ReconcileModesFirst: _reconcile,
    SyncInformer: _sync_informer,
    act_mod.UserStep: _user_step,
    act_mod.Quiesce: _quiesce,
    act_mod.Tick: _tick,
    act_mod.CrashNode: _node_down_up,
    act_mod.RestartNode: _node_down_up,
    act_mod.Partition: _partition_heal,
    act_mod.Heal: _partition_heal,
    act_mod.CrashContainer: _crash_container,
    act_mod.CrashComponent: _component,
    act_mod.CrashDuringReconcile: _crash_during_reconcile,
    act_mod.RestartComponent: _component,
    act_mod.DropWatch: _drop_watch,
    act_mod.FailNextRequest: _fail_next,
}
_RULES.update({kind: _kubelet_local for kind in KUBELET_LOCAL})
_RULES.update({kind: _kubelet_write for kind in KUBELET_WRITES})
_RULES.update({kind: _nodelifecycle for kind in NODELIFECYCLE})


def ruled_kinds() -> tuple[type[Any], ...]:
    """The action kinds with a footprint rule, in the rules' order (any other kind: `EVERYTHING`)."""
    return tuple(_RULES)


