"""The descheduler as a component: a run every `descheduler.intervalSeconds`.

Upstream (kubernetes-sigs/descheduler `pkg/descheduler/descheduler.go`): the descheduler runs at
start and then every `--descheduling-interval` (wait.NonSlidingUntil); a cycle lists the ready
nodes (`nodeutil.ReadyNodes`; fewer than two: nothing to do), runs the profile's Deschedule
plugins, then its Balance plugins, and evicts through the Eviction API (`pkg/descheduler/
evictions/evictions.go` EvictPod), honouring `maxNoOfPodsToEvictPerNode`. A refused eviction
(429: a disruption budget; anything else) is logged and the strategy goes on.

In the model a run is one action (`DeschedulerRun`): each strategy sees the cluster as the API
server has it after the evictions before it (upstream reads its informers, which may lag); it
writes as the descheduler's service account. Its state is the time of the next run, in
`state.addons["descheduler"]`; it runs only in scenarios with a `descheduler:` section. The
strategies follow descheduler v0.33.0 (the release paired with Kubernetes v1.33); the model
parameter `deschedulerTopologyPreferFitting` selects v0.34's topology-spread order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import attrs

from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.descheduler import strategies
from kubeprop.model.descheduler.evictor import is_ready
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import DESCHEDULER_USER
from kubeprop.model.scenario.schema_addons import DeschedulerDecl
from kubeprop.model.scheduler.nodeinfo import build_node_infos
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

KEY = "descheduler"
COMPONENT = "descheduler"


@attrs.frozen(cache_hash=True)
class DeschedulerState:
    """When the descheduler runs next."""

    next_run: int = 0


@attrs.frozen(order=True)
class DeschedulerRun(Action):
    """The descheduler runs its strategies once."""

    LANE = "descheduler"


def policy(model: ClusterModel) -> DeschedulerDecl | None:
    """The scenario's descheduler policy (None: no descheduler)."""
    found: DeschedulerDecl | None = model.scenario.spec.descheduler
    return found


def _next_run(state: ClusterState) -> int:
    found = state.addons.get(KEY)
    return found.next_run if isinstance(found, DeschedulerState) else 0


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """A run, when one is due."""
    if policy(model) is not None and _next_run(state) <= state.clock:
        yield DeschedulerRun()


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The next run."""
    if policy(model) is None:
        return None
    at = _next_run(state)
    return at if at > state.clock else None


@attrs.define
class _Evictor:
    """Sends evictions for one run, counting them per node."""

    model: ClusterModel
    state: ClusterState
    per_node_limit: int | None
    counts: dict[str, int] = attrs.field(factory=dict)
    evicted: list[str] = attrs.field(factory=list)

    def __call__(self, pod: Pod) -> str:
        node = pod.spec.node_name
        if self.per_node_limit is not None and self.counts.get(node, 0) >= self.per_node_limit:
            return "limit"
        request = Request(verb="evict", user=DESCHEDULER_USER, resource="pods", namespace=pod.metadata.namespace,
                          name=pod.metadata.name)
        self.state, response = send(self.model, self.state, DESCHEDULER_USER, request, COMPONENT)
        if not response.ok:
            return "failed"
        self.counts[node] = self.counts.get(node, 0) + 1
        self.evicted.append(f"{pod.metadata.namespace}/{pod.metadata.name}")
        return "ok"


def _snapshot(state: ClusterState, decl: DeschedulerDecl) -> strategies.Snapshot:
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node) and is_ready(n)]
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    return strategies.Snapshot.of(build_node_infos(nodes, pods), decl.evictor)


def _prefer_fitting(model: ClusterModel) -> bool:
    """The descheduler release's topology-spread order (`deschedulerTopologyPreferFitting`: false
    for v0.33, the release paired with Kubernetes v1.33; true from v0.34)."""
    return bool(model.parameter("deschedulerTopologyPreferFitting"))


def run(model: ClusterModel, state: ClusterState, act: DeschedulerRun) -> ClusterState:
    """One descheduling cycle (see the module docstring), then the next run is due an interval later."""
    decl = policy(model)
    assert decl is not None, "DeschedulerRun is not enabled"
    evictor = _Evictor(model, state, decl.max_pods_to_evict_per_node)
    if len(_snapshot(state, decl).infos) > 1:
        plugins = decl.plugins
        steps: list[tuple[Any, Callable[..., None]]] = [
            (plugins.remove_pods_violating_node_taints, strategies.node_taints),
            (plugins.remove_pods_violating_node_affinity, strategies.node_affinity),
            (plugins.remove_duplicates, strategies.duplicates),
            (plugins.remove_pods_violating_topology_spread_constraint,
             partial(strategies.topology_spread, prefer_fitting=_prefer_fitting(model))),
            (plugins.low_node_utilization, strategies.low_node_utilization),
        ]
        for args, strategy in steps:
            if args is not None:
                strategy(_snapshot(evictor.state, decl), args, evictor)
    state = evictor.state
    return evolve(state, addons=state.addons.set(KEY, DeschedulerState(state.clock + decl.interval_seconds)))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {DeschedulerRun: run}
