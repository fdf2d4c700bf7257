"""The composed cluster state, the model configuration, and the helpers components share.

`ClusterState` is one immutable value: the API store, every component's informer caches, each
node's *actual* kubelet state (separate from what the API says), the scheduler instances' and
controllers' in-memory state, the clock, the network, which components are down, and the fault
budget spent. `ClusterModel` is the fixed configuration (scenario, parameters, controllers) that
`actions` and `step` read; it is not part of the state.

Components (scheduler, controllers, kubelets, node lifecycle, faults) live in their own packages
and follow the `Component` contract of `kubeprop.model.state.component`;
`kubeprop.model.cluster.compose` composes them and puts the `Hooks` they need into the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs

from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.server import ApiServerConfig, Request, Response, handle
from kubeprop.model.api.store import Store
from kubeprop.model.evolve import evolve
from kubeprop.model.fault_kinds import FaultCounts
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.memo import LastValues
from kubeprop.model.state.component import Hooks
from kubeprop.model.state.informer import InformerState, ObjectView

if TYPE_CHECKING:
    from kubeprop.model.scenario.load import Scenario
    from kubeprop.model.scenario.schema import FaultBudget

SCHEDULER = "scheduler"
CONTROLLER_MANAGER = "controller-manager"
KUBELET_PREFIX = "kubelet/"
USER_COMPONENT = "user"
"""The component the user's requests (kubectl apply, scale, delete, drain) are sent as."""


def kubelet(node: str) -> str:
    """The component name of a node's kubelet."""
    return f"{KUBELET_PREFIX}{node}"


@attrs.frozen(cache_hash=True)
class FaultsSpent(FaultCounts):
    """How many faults of each kind have been injected (compared against the scenario's budget;
    the kinds: `kubeprop.model.fault_kinds`)."""

    def allows(self, budget: FaultBudget, kind: str) -> bool:
        """True if one more fault of `kind` fits the budget."""
        return bool(getattr(self, kind) < getattr(budget, kind))

    def spend(self, kind: str) -> FaultsSpent:
        """One more fault of `kind`."""
        return evolve(self, **{kind: getattr(self, kind) + 1})


@attrs.frozen(cache_hash=True)
class ClusterState:
    """Everything that changes. Equal states compare and hash equal; nothing is shared mutably.

    - `informers`: component → caches (empty when the scenario uses instant caches);
    - `kubelets`: node → that node's actual pods and containers (`kubeprop.model.kubelet.component`);
    - `schedulers`: scheduler instance → its in-memory state (queue, assume cache);
    - `controllers`: controller name → its work queue and memory (expectations, …);
    - `heartbeat_lost`: node → model time its kubelet last reached the API server; a node that is
      up and reachable is absent (its heartbeats are continuous: see docs/adr/0002);
    - `armed_failures`: component → HTTP status its next API request fails with.
    """

    store: Store
    informers: FrozenMap[str, InformerState] = EMPTY
    kubelets: FrozenMap[str, Any] = EMPTY
    schedulers: FrozenMap[str, Any] = EMPTY
    controllers: FrozenMap[str, Any] = EMPTY
    clock: int = 0
    partitioned: frozenset[str] = frozenset()
    down: frozenset[str] = frozenset()
    heartbeat_lost: FrozenMap[str, int] = EMPTY
    armed_failures: FrozenMap[str, int] = EMPTY
    faults: FaultsSpent = FaultsSpent()
    quiesced: bool = False
    workload_next: int = 0
    seen_revisions: FrozenMap[str, int] = EMPTY
    """Ghost state for checking only: `component|resource` → the highest revision that component
    saw before it last lost its caches (written at crashes and relists)."""
    time_travel: frozenset[str] = frozenset()
    """Ghost state: `component|resource` pairs whose LIST returned an older revision than one
    they had already seen (resourceVersion went backwards for that client)."""
    workload_errors: FrozenMap[int, str] = EMPTY
    """Ghost state: workload step index → the errors its kubectl command got (a scenario error,
    reported by the `workload-steps-succeed` property; `kubeprop.model.cluster.workload`)."""
    addons: FrozenMap[str, Any] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """State of the add-on components and of the environment, by owner: `descheduler` (its
    timer), `environment` (usage levels the environment chose), `maintenance` (a drain in
    progress), and each user environment rule's own entry. Empty in scenarios that use none of
    them; an empty map is left out of fingerprints, so adding it changed no recorded trace."""
    etcd_backup: Any = attrs.field(default=None, metadata={"fingerprint": "omit-if-default"})
    """The etcd snapshot an operator saved and what its restores did
    (`kubeprop.model.cluster.restore.Backup`); None until one is taken."""
    overload: Any = attrs.field(default=None, metadata={"fingerprint": "omit-if-default"})
    """The API server's flood in progress (`kubeprop.model.cluster.overload.Overload`), or None."""
    crashed_at: FrozenMap[str, int] = attrs.field(default=EMPTY, metadata={"fingerprint": "omit-if-default"})
    """Process (`CrashComponent`) → the model time it crashed, while it is down: its supervisor
    brings it back within its bounded outage (`kubeprop.model.cluster.outages`). Empty when nothing
    crashed; left out of fingerprints then, so adding it changed no recorded trace."""
    tick_race: Any = attrs.field(default=None, metadata={"fingerprint": "omit-if-default"})
    """What the last `Tick` left in flight, for the clock's guard on work in flight
    (`kubeprop.model.cluster.prompt_work.TickRace`): the work in flight when it was taken that is
    still untaken, and whether an action of the environment (a user step, a fault) came since. None
    before the first tick, and once an environment action came with nothing of it left."""


@attrs.frozen
class ClusterModel:
    """The fixed configuration of one exploration: scenario, parameters and components."""

    scenario: Scenario
    api: ApiServerConfig
    nodes: tuple[str, ...]
    controllers: tuple[Any, ...] = ()
    scheduler_instances: tuple[str, ...] = (SCHEDULER,)
    scheduler_profile: Any = None
    parameters: FrozenMap[str, Any] = EMPTY
    variant: str = "correct"
    workload_objects: tuple[tuple[ApiObject, ...], ...] = ()
    """For each workload step, the objects an `apply` step sends (empty for other steps)."""
    etcd_members: tuple[str, ...] = ()
    """The scenario's etcd members (`topology.etcd`); each can crash as component `etcd/<name>`."""
    etcd_nodes: tuple[str, ...] = ()
    """The node each etcd member runs on ("" if none): a node crash takes its member down too."""
    hooks: Hooks = Hooks()
    """What informer delivery, restarts and `Tick` run for the components (set by `build_model`)."""
    added_controllers: tuple[Any, ...] = ()
    """The controllers `build_model` was given in code (its `controllers`, beyond the scenario's), so
    that a model built again from this one (`kubeprop.model.cluster.twin`) runs them too."""

    @cached_property
    def instant_caches(self) -> bool:
        """True when components read the store directly (no informer lag); computed once."""
        return bool(self.parameters["instantCaches"])

    @cached_property
    def created_types(self) -> frozenset[type]:
        """The types of the objects the scenario creates, in its manifests and its workload steps
        (computed once): what decides whether a controller or watch that only such objects need runs."""
        return frozenset(type(m.obj) for m in self.scenario.objects) \
            | frozenset(type(o) for step in self.workload_objects for o in step)

    @cached_property
    def derived(self) -> dict[str, Any]:
        """Values derived from this model alone, each computed once by the module that owns it, under
        its name (`kubeprop.model.kubelet.exit_codes`): the model is fixed, so they never change."""
        return {}

    @property
    def tick_seconds(self) -> int:
        """The clock granularity."""
        return int(self.scenario.spec.bounds.tick_seconds)

    @property
    def budget(self) -> FaultBudget:
        """The scenario's fault budget."""
        return self.scenario.spec.faults

    def parameter(self, name: str) -> Any:
        """A model parameter's value."""
        return self.parameters[name]


def view(model: ClusterModel, state: ClusterState, component: str) -> ObjectView:
    """What `component` reads: its informer cache, or the store itself with instant caches (except
    for a partitioned kubelet, which keeps the snapshot it had when it was cut off)."""
    informer = state.informers.get(component)
    if informer is not None:
        return informer
    return state.store if model.instant_caches else InformerState()


def is_up(state: ClusterState, component: str) -> bool:
    """True unless the component (or, for a kubelet, its node) is down."""
    down = state.down
    if not down:  # (the common case: nothing is down)
        return True
    if component in down:
        return False
    if component.startswith(KUBELET_PREFIX):
        return f"node/{component[len(KUBELET_PREFIX):]}" not in state.down
    return True


def reaches_apiserver(state: ClusterState, component: str) -> bool:
    """True if the component is up and not cut off by a partition (kubelets only can be)."""
    if not is_up(state, component):
        return False
    return not (component.startswith(KUBELET_PREFIX) and component[len(KUBELET_PREFIX):] in state.partitioned)


ETCD_PREFIX = "etcd/"


def etcd_quorum(model: ClusterModel) -> int:
    """Members needed to commit: ⌊n/2⌋+1 (`etcd-io/raft quorum/majority.go`), or the seed's
    ⌈n/2⌉ with `etcdQuorum: ceil`."""
    n = len(model.etcd_members)
    return -(-n // 2) if model.parameter("etcdQuorum") == "ceil" else n // 2 + 1


def etcd_available(model: ClusterModel, state: ClusterState) -> bool:
    """True when enough etcd members are up to commit a write or serve a consistent read.

    The cluster model treats etcd as a linearizable store that is available exactly when a
    quorum is up — the guarantee `kubeprop.model.raft.system` checks on the replication protocol itself
    (assume-guarantee composition; docs/raft.md). Scenarios without etcd members: always."""
    if not model.etcd_members:
        return True
    hosts = model.etcd_nodes or ("",) * len(model.etcd_members)
    up = sum(
        1 for member, host in zip(model.etcd_members, hosts, strict=True)
        if f"{ETCD_PREFIX}{member}" not in state.down and not (host and f"node/{host}" in state.down)
    )
    return up >= etcd_quorum(model)


def send(model: ClusterModel, state: ClusterState, user: str, request: Request,
         component: str) -> tuple[ClusterState, Response]:
    """Send one API request on behalf of `component` (authenticating as `user`); the model's
    response observers (`Hooks.on_response`, measurement only) see the response."""
    state, response = _send(model, state, user, request, component)
    observed(model, component, request, response)
    return state, response


def send_unobserved(model: ClusterModel, state: ClusterState, user: str, request: Request,
                    component: str) -> tuple[ClusterState, Response]:
    """What `send` would do, shown to no response observer: for a guard that asks what a request
    would do without it being sent (`kubeprop.model.controllers.queued_work`)."""
    return _send(model, state, user, request, component)


def refusal(model: ClusterModel, state: ClusterState, user: str, request: Request, component: str
            ) -> Response | None:
    """The first refusal of the model's request gates (`Hooks.request_gates`: API server overload),
    or None when the request gets through to authentication and the rest."""
    for gate in model.hooks.request_gates:
        response = gate(model, state, user, request, component)
        if response is not None:
            return response
    return None


def observed(model: ClusterModel, component: str, request: Request, response: Response) -> None:
    """Show a response that did not come from `send` to the model's response observers."""
    for observe in model.hooks.on_response:
        observe(component, request, response)


def _send(model: ClusterModel, state: ClusterState, user: str, request: Request,
          component: str) -> tuple[ClusterState, Response]:
    """Send one API request on behalf of `component` (authenticating as `user`).

    Without an etcd quorum every request fails with 500 and writes nothing; a request a gate
    refuses (an overloaded API server's 429) writes nothing either. An armed request
    failure (`FailNextRequest`) is consumed here: 500 and 429 fail without
    writing; 504 (a client timeout) applies the write but the client sees a failure, as a
    request that times out after reaching etcd does.
    """
    if not etcd_available(model, state):
        # The API server's etcd client times out; upstream maps it to 500 "etcdserver: request timed out".
        return state, Response(500, "InternalError", "etcdserver: request timed out (no etcd quorum)")
    refused = refusal(model, state, user, request, component)
    if refused is not None:
        return state, refused
    code = state.armed_failures.get(component)
    if code is not None:
        state = evolve(state, armed_failures=state.armed_failures.delete(component))
        if code != 504:
            reason = {500: "InternalError", 429: "TooManyRequests"}.get(code, "InternalError")
            return state, Response(code, reason, "injected failure")
    result = handle(state.store, request, model.api, state.clock)
    state = evolve(state, store=result.store)
    response = result.response
    if code == 504:
        response = Response(504, "Timeout", "the request timed out (the write may have been applied)")
    return state, response


def compact(model: ClusterModel, state: ClusterState) -> ClusterState:
    """Drop watch events that no live cache still needs, so equal clusters have equal logs."""
    if model.instant_caches:
        needed = state.store.revision
    else:
        if _held_back(state):
            return state
        lowest, holder = _LOWEST.get((state.informers, state.down), _lowest_needed, state)
        needed = state.store.revision if lowest is None else lowest
        if holder is not None:
            _HOLDER[0] = holder
    store = state.store.compact(needed)
    return state if store is state.store else evolve(state, store=store)


def _held_back(state: ClusterState) -> bool:
    """Whether compacting `state` drops nothing, told from one cache: the one that needed the
    lowest revision at the last compaction worked out (`_HOLDER`), if in `state` it is live, not
    stale, and at or below the revision the log is compacted to — then so is the lowest revision a
    live cache needs, and `Store.compact` would keep the store. Only a shortcut: the answer is read
    from `state` alone (any state, of any model), and False sends `compact` the long way."""
    component, resource = _HOLDER[0]
    informer = state.informers.get(component)
    cache = None if informer is None else informer.resources.get(resource)
    return (cache is not None and not cache.stale and cache.revision <= state.store.compacted
            and (not state.down or is_up(state, component)))


def _lowest_needed(state: ClusterState) -> tuple[int | None, tuple[str, str] | None]:
    """The lowest revision a live, non-stale cache still needs events after (None: no such cache),
    and the (component, resource) of a cache at that revision: it reads the caches and what is
    down only."""
    down = state.down  # (nothing down: every component is up, no need to ask each)
    lowest: int | None = None
    holder: tuple[str, str] | None = None
    for c, informer in state.informers.items():
        if down and not is_up(state, c):
            continue
        for resource, cache in informer.resources.items():
            if not cache.stale and (lowest is None or cache.revision < lowest):
                lowest, holder = cache.revision, (c, resource)
    return lowest, holder


_LOWEST: LastValues[tuple[int | None, tuple[str, str] | None]] = LastValues()
"""`_lowest_needed` for the last few (caches, what is down), by identity: every step compacts the
log, and most steps (a reconcile, a kubelet's local step, a scheduling cycle) leave every cache as
it was."""
_HOLDER: list[tuple[str, str]] = [("", "")]
"""The (component, resource) of the cache that needed the lowest revision at the last compaction
worked out (`_held_back`): a cache of a resource nobody writes (FeastFlow's ConfigMaps) stays at the
revision of its LIST, and holds every later log back until it is listed again."""


def pod_key(obj: ApiObject) -> str:
    """`namespace/name`, how actions and work queues name a namespaced object."""
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def evolve_map(mapping: FrozenMap[str, Any], key: str, value: Any) -> FrozenMap[str, Any]:
    """`mapping` with `key` set (a small readability helper for nested state updates)."""
    return mapping.set(key, value)


def merged(*maps: Mapping[str, Any]) -> FrozenMap[str, Any]:
    """One FrozenMap from several mappings, later ones winning."""
    out: dict[str, Any] = {}
    for m in maps:
        out.update(m)
    return FrozenMap(out)
