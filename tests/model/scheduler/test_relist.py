"""A relist as the scheduler's handlers see it (`staging/src/k8s.io/client-go/tools/cache/delta_fifo.go`
Replace, `shared_informer.go` HandleDeltas: an object the cache already held is an update, OnUpdate;
`pkg/scheduler/eventhandlers.go` does nothing with an unchanged one). Before, the model handed every
listed object to every component as an add, so relisting the scheduler's nodes moved every parked
pod (any Node event does) and a relisted pod retook its nomination."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Node, ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import mark_stale, relisted
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import SchedulerState
from kubeprop.model.state.actions import Relist
from kubeprop.model.state.cluster import ClusterState
from kubeprop.model.state.informer import ResourceCache

TIGHT = Path(__file__).parents[1] / "data" / "variants" / "tight.yaml"


def _memory(state: ClusterState) -> SchedulerState:
    memory = state.schedulers["scheduler"]
    assert isinstance(memory, SchedulerState)
    return memory


def _node(name: str, version: str) -> Node:
    return Node(metadata=ObjectMeta(name=name, resource_version=version))


def test_relisted_objects_are_adds_updates_or_left_out_when_unchanged() -> None:
    same, changed, new = _node("same", "1"), _node("changed", "2"), _node("new", "3")
    key = {n.metadata.name: ObjectKey("nodes", "", n.metadata.name) for n in (same, changed, new)}
    old = ResourceCache(FrozenMap({key["same"]: same, key["changed"]: _node("changed", "1")}), 1)
    now = ResourceCache(FrozenMap({key["same"]: same, key["changed"]: changed, key["new"]: new}), 3)
    assert [(e.type, e.key.name) for e in relisted(old, now, skip_unchanged=True)] == [
        ("MODIFIED", "changed"), ("ADDED", "new")]
    assert [(e.type, e.key.name) for e in relisted(old, now, skip_unchanged=False)] == [
        ("MODIFIED", "changed"), ("ADDED", "new"), ("MODIFIED", "same")]


def test_relisting_unchanged_nodes_leaves_the_parked_pod_parked() -> None:
    """The second replica is parked for want of room; the scheduler's node watch drops and it lists
    again, nothing having changed: no Node event reaches its handlers, so the pod stays parked."""
    model = build_model(load_scenario(TIGHT))
    state = settle(model, initial_state(model)).state
    parked = set(_memory(state).unschedulable)
    assert len(parked) == 1
    state = step(model, mark_stale(state, "scheduler", ["nodes"]), Relist("scheduler", "nodes"))
    assert set(_memory(state).unschedulable) == parked


def test_relisting_a_changed_node_still_moves_the_parked_pod() -> None:
    model = build_model(load_scenario(TIGHT))
    state = settle(model, initial_state(model)).state
    key = ObjectKey("nodes", "", "worker-1")
    informer = state.informers["scheduler"]
    nodes = informer.resources["nodes"]
    stale_node = state.store.get(key)
    assert isinstance(stale_node, Node)
    older = evolve(stale_node, metadata=evolve(stale_node.metadata, resource_version="0"))
    cache = evolve(nodes, objects=nodes.objects.set(key, older), stale=True)
    state = evolve(state, informers=state.informers.set("scheduler", evolve(
        informer, resources=informer.resources.set("nodes", cache))))
    state = step(model, state, Relist("scheduler", "nodes"))
    assert not _memory(state).unschedulable

