"""API server overload: a workload flow floods the API server, and what its limits let through.

The seed's §9 "Scenario 1: API Server Overloaded" ("Pods frequently talking to API Server … API
Server CPU maxed … Implement rate limiting"). Upstream the API server sheds load with one of two
filters (`staging/src/k8s.io/apiserver/pkg/server/config.go` DefaultBuildHandlerChain):

- **API Priority and Fairness** (`apiPriorityAndFairness`, the default: beta and on since v1.20,
  GA in v1.29; `filters/priority-and-fairness.go`, `util/flowcontrol`): each request is classified
  to a FlowSchema and priority level (`kubeprop.model.api.flowcontrol`); a level has its own seats
  and queues; a flow is shuffle-sharded onto a hand of queues and the queues are served fairly;
  a request whose hand has no queue with room, or a level without queues whose seats are busy,
  gets 429 with Retry-After (1–32 s, `dropped_requests_tracker.go`).
- **max-in-flight** (`--enable-priority-and-fairness=false`; `filters/maxinflight.go`): one pool of
  400 read-only and 200 mutating seats for every non-long-running request; when full, 429 —
  except for the `system:masters` group. Who gets a seat freed by the flood is a race.

The model's flood (`StartOverload`, a fault with budget `faults.overload`; `EndOverload`, its
recovery) is `overloadClients`' requests (`overloadRequest`, by default `list pods` in their
namespace) holding every seat of their priority level and filling their flows' queues — the worst
case for anyone sharing them.
With APF a request of another flow at that level is served if its hand has a queue the flood does
not fill (fair queuing gives each queue its turn), and refused with 429 otherwise; other levels
are untouched. With max-in-flight the race for seats is the explored choice: `Starve(client)`
(bad luck, one client at a time: a component, or a node's heartbeats) makes every request of that
client fail with 429 until the flood ends; clients not starved win seats on a retry. Watches are
long-running and unaffected; relists are LISTs and are refused like any request (a relist storm
after a watch failure cannot get through until the flood ends).

Node heartbeats (Lease renewals in `kube-node-lease` and Node status updates, flow schema
`system-node-high` → `node-high`) are abstract in the model (`heartbeat_lost`): a node whose
heartbeats are refused stops heartbeating until the flood ends. Clients retry a 429 (client-go's
REST client honours Retry-After, work queues back off from 5 ms): sub-tick delays, so in the model
a refused request is retried by a later action (a stutter step: the state does not change).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import attrs

from kubeprop.model.api.flowcontrol import Classification, classify, hand, level
from kubeprop.model.api.flowcontrol_seats import (
    QueueUse,
    admit,
    current_limits,
    level_limits,
    list_from_storage,
    list_seats,
    mutating_seats,
)
from kubeprop.model.api.impersonation import acting_as
from kubeprop.model.api.objects import kind_info, qualified_resource
from kubeprop.model.api.rbac_authn import UserInfo, service_account_groups, split_service_account_username
from kubeprop.model.api.server import Request, Response, Verb
from kubeprop.model.cluster.informers import WATCH_CACHE
from kubeprop.model.controllers.processes import controllers_in, is_operator, own_processes
from kubeprop.model.evolve import evolve
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, KUBELET_PREFIX, ClusterModel, ClusterState, kubelet

__all__ = [
    "HANDLERS", "EndOverload", "Overload", "StartOverload", "Starve", "enabled", "heartbeat_request", "heartbeats",
    "identity", "leader_election_request", "refusal",
]

RETRY_AFTER_SECONDS = 1
"""The first Retry-After APF answers (`dropped_requests_tracker.go`: 1 s, up to 32 s)."""


@attrs.frozen(cache_hash=True)
class Overload:
    """A flood in progress: its clients, when it began, and (max-in-flight) the clients that lose
    every race for a seat: components, or `heartbeats/<node>`."""

    clients: tuple[str, ...]
    since: int
    starved: frozenset[str] = frozenset()

    def __str__(self) -> str:
        starved = f"; starved: {', '.join(sorted(self.starved))}" if self.starved else ""
        return f"flood by {', '.join(self.clients)} since {self.since} s{starved}"

    def heartbeats_refused(self) -> frozenset[str]:
        """The nodes whose heartbeats are starved."""
        return frozenset(c[len(HEARTBEATS):] for c in self.starved if c.startswith(HEARTBEATS))


@attrs.frozen(order=True)
class StartOverload(Action):
    """`overloadClients` flood the API server (their priority level, or with max-in-flight every
    seat)."""

    LANE = "faults"


@attrs.frozen(order=True)
class EndOverload(Action):
    """The flood stops; heartbeats it stopped resume."""

    LANE = "faults"


@attrs.frozen(order=True)
class Starve(Action):
    """Max-in-flight: a client loses every race for a seat until the flood ends — a component
    (`scheduler`, `controller-manager`, `operator/<name>`, `kubelet/<node>`) or a node's heartbeats
    (`heartbeats/<node>`: the node lifecycle controller then sees a silent node)."""

    LANE = "faults"

    client: str


HEARTBEATS = "heartbeats/"


def heartbeats(node: str) -> str:
    """The client name of a node's heartbeats (its Lease renewals)."""
    return f"{HEARTBEATS}{node}"


def identity(model: ClusterModel, username: str) -> UserInfo:
    """Who the API server sees (groups included) for a user name: a declared or system user, a
    service account, or else an unauthenticated client."""
    declared = model.api.users.get(username)
    if username == "system:kube-controller-manager":
        # The model trusts the controller manager with system:masters for RBAC
        # (`kubeprop.model.scenario.load.internal_users`); upstream it is not in that group, and
        # APF classifies it by name (flow schema kube-controller-manager).
        return UserInfo(username, ("system:authenticated",))
    if declared is not None:
        groups = declared.groups if "system:authenticated" in declared.groups else (
            *declared.groups, "system:authenticated")
        return UserInfo(username, groups)
    parsed = split_service_account_username(username)
    if parsed is not None:
        return UserInfo(username, (*service_account_groups(parsed[0]), "system:authenticated"))
    return UserInfo(username, ("system:unauthenticated",))


def component_user(model: ClusterModel, component: str) -> str:
    """The identity a component's own requests (its relists) carry. An operator's own process
    (`operator/<name>`) lists with its controller's credentials (its `identity`): its reflectors
    use the same client as its reconciles, so APF classifies them alike (a service account outside
    kube-system: FlowSchema `service-accounts`, level `workload-low`, the flood's own level by
    default) — not as the API server's loopback client, which is exempt."""
    if component.startswith(KUBELET_PREFIX):
        return f"system:node:{component[len(KUBELET_PREFIX):]}"
    if component == CONTROLLER_MANAGER:
        return "system:kube-controller-manager"
    if is_operator(component):
        return str(controllers_in(model, component)[0].identity)
    if component.startswith("scheduler"):
        return "system:kube-scheduler"
    return "system:apiserver"


def heartbeat_request(node: str) -> Request:
    """A node's Lease renewal (`pkg/kubelet/nodelease`), the heartbeat the flood may starve."""
    return Request(verb="update", user=f"system:node:{node}", resource="leases.coordination.k8s.io",
                   namespace="kube-node-lease", name=node)


def leader_election_request(user: str) -> Request:
    """A leader-election Lease renewal of the controller manager or scheduler."""
    name = user.removeprefix("system:")
    return Request(verb="update", user=user, resource="leases.coordination.k8s.io", namespace="kube-system",
                   name=name)


def target(request: Request) -> tuple[str, str]:
    """The (qualified resource, namespace) a request addresses; writes that carry an object may
    leave them to the object."""
    obj = request.obj
    resource = request.resource or (qualified_resource(kind_info(obj)) if obj is not None else "")
    namespace = request.namespace or (obj.metadata.namespace if obj is not None else "")
    return resource, namespace


def _is_heartbeat(component: str, request: Request) -> bool:
    """A kubelet's Lease renewal or Node status update (`pkg/kubelet/nodelease`,
    `kubelet_node_status.go`): what the node lifecycle controller counts as its heartbeats."""
    return component.startswith(KUBELET_PREFIX) and target(request)[0] in ("nodes", "leases.coordination.k8s.io") \
        and request.verb in ("update", "update-status", "patch", "patch-status")


def _flood(model: ClusterModel, clients: tuple[str, ...]) -> list[Classification]:
    """How the flood's requests classify: `overloadRequest` ("VERB RESOURCE [NAMESPACE]", default
    `list pods` in the client's namespace) sent by each of `overloadClients`."""
    verb, resource, *rest = str(model.parameter("overloadRequest")).split()
    out = []
    for client in clients:
        parsed = split_service_account_username(client)
        namespace = rest[0] if rest else (parsed[0] if parsed is not None else "default")
        out.append(classify(identity(model, client), verb, resource, namespace))
    return out


def _too_many(where: str) -> Response:
    return Response(429, "TooManyRequests", f"the server has received too many requests and has asked us to try "
                    f"again later ({where}; Retry-After: {RETRY_AFTER_SECONDS})")


def refusal(model: ClusterModel, state: ClusterState, user: str, request: Request, component: str) -> Response | None:
    """The request gate (`Hooks.request_gates`): 429 when the flood leaves the request no seat."""
    flood = state.overload
    if not isinstance(flood, Overload) or component == WATCH_CACHE:  # the cacher lists etcd directly
        return None
    # APF runs after the impersonation filter upstream: it sees the impersonated user
    who = (acting_as(request.impersonate) if request.impersonate
           else identity(model, user or component_user(model, component)))
    if not model.parameter("apiPriorityAndFairness"):
        if "system:masters" in who.groups:
            return None
        client = heartbeats(component[len(KUBELET_PREFIX):]) if _is_heartbeat(component, request) else component
        return _too_many("max-in-flight limit reached") if client in flood.starved else None
    return _apf_refusal(model, state, flood, who, request, component)


def _apf_refusal(model: ClusterModel, state: ClusterState, flood: Overload, who: UserInfo, request: Request,
                 component: str) -> Response | None:
    """APF's decision for one request while `flood` holds its levels (`flowcontrol_seats.admit`):
    the flooded levels demanded every seat they may borrow over the last adjustment period, the
    others nothing; a flooded level's seats are all held and its flows' queues are full."""
    mine = classify(who, request.verb, *target(request))
    pl = level(mine.priority_level)
    if pl.exempt:
        return None
    borrowing = bool(model.parameter("apfBorrowing"))
    limits = level_limits(borrowing=borrowing, per_level_max_seats=bool(model.parameter("apfPerLevelMaxSeats")))
    flooding = _flood(model, flood.clients)
    demand = {c.priority_level: float(limits[c.priority_level].max) for c in flooding}
    current = current_limits(limits, demand, borrowing=borrowing)[pl.name]
    seats = request_seats(model, state, request, component, limits[pl.name].max_seats)
    queues: dict[int, QueueUse] = {}
    mine_flooding = [c for c in flooding if c.priority_level == pl.name]
    width = flood_seats(model, state, limits[pl.name].max_seats)
    for c in mine_flooding:
        for q in hand(c):
            queues[q] = QueueUse(pl.queue_length_limit, pl.queue_length_limit * width, 0)
    if mine_flooding:  # the flood's executing requests hold every seat (on its first queue)
        first = hand(mine_flooding[0])[0] if pl.queues else 0
        queues[first] = evolve(queues.get(first, QueueUse()), seats_in_use=current)
    if admit(pl, current, queues, hand(mine), seats) != "reject":
        return None
    return _too_many(f"priority level {pl.name} ({current} seats, all held by the flood's {width}-seat requests), "
                     f"flow schema {mine.flow_schema}: queues full")


def request_seats(model: ClusterModel, state: ClusterState, request: Request, component: str, max_seats: int) -> int:
    """The seats the work estimator gives a model request: a LIST by its object count (an
    informer's relist is served from the watch cache — the reflector lists without a limit
    from a resourceVersion; another LIST is a consistent read), a write by its watchers."""
    resource, _ = target(request)
    if request.verb == "list":
        from_storage = False if not request.user and component else list_from_storage(
            "", 500, consistent_list_from_cache=bool(model.parameter("consistentListFromCache")))
        return list_seats(sum(1 for _ in state.store.list(resource)), max_seats, name=request.name,
                          from_storage=from_storage)
    if request.verb in ("get", "get-scale", "watch"):
        return 1
    watchers = sum(1 for informer in state.informers.values() if resource in informer.resources)
    return max(mutating_seats(watchers, max_seats))


def flood_seats(model: ClusterModel, state: ClusterState, max_seats: int) -> int:
    """The seats of one of the flood's requests (`overloadRequest`, as a client's LIST or write)."""
    verb, resource, *_ = str(model.parameter("overloadRequest")).split()
    flood = Request(verb=cast(Verb, verb), user="flood", resource=resource)
    return request_seats(model, state, flood, "", max_seats)


def _clients(model: ClusterModel) -> tuple[str, ...]:
    """The clients that race for max-in-flight's seats one by one (`Starve`): each process — the
    schedulers, the controller manager (with the operators compiled into it), each operator that
    runs as a process of its own (`processes.own_processes`: its own connections, so it wins or
    loses its races apart from the controller manager), each kubelet — and each node's heartbeats."""
    return (*model.scheduler_instances, CONTROLLER_MANAGER, *own_processes(model), *(kubelet(n) for n in model.nodes),
            *(heartbeats(n) for n in model.nodes))


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """StartOverload within the budget before Quiesce; while flooded, EndOverload, and with
    max-in-flight a Starve for each client that has not lost yet."""
    flood = state.overload
    if not isinstance(flood, Overload):
        if not state.quiesced and state.faults.allows(model.budget, "overload"):
            yield StartOverload()
        return
    yield EndOverload()
    if model.parameter("apiPriorityAndFairness"):
        return
    for client in _clients(model):
        if client not in flood.starved:
            yield Starve(client)


def _start(model: ClusterModel, state: ClusterState, act: StartOverload) -> ClusterState:
    clients = tuple(model.parameter("overloadClients"))
    state = evolve(state, overload=Overload(clients, state.clock), faults=state.faults.spend("overload"))
    return _silence(model, state)


def _silence(model: ClusterModel, state: ClusterState) -> ClusterState:
    """Nodes whose heartbeats the flood refuses stop heartbeating (from now, if they still were)."""
    lost = state.heartbeat_lost
    for node in model.nodes:
        if node not in lost and refusal(model, state, "", heartbeat_request(node), kubelet(node)) is not None:
            lost = lost.set(node, state.clock)
    return evolve(state, heartbeat_lost=lost)


def _end(model: ClusterModel, state: ClusterState, act: EndOverload) -> ClusterState:
    lost = state.heartbeat_lost
    for node in model.nodes:
        if node in lost and f"node/{node}" not in state.down and node not in state.partitioned:
            lost = lost.delete(node)
    return evolve(state, overload=None, heartbeat_lost=lost)


def _starve(model: ClusterModel, state: ClusterState, act: Starve) -> ClusterState:
    flood: Overload = state.overload
    return _silence(model, evolve(state, overload=evolve(flood, starved=flood.starved | {act.client})))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    StartOverload: _start,
    EndOverload: _end,
    Starve: _starve,
}
