"""The memos kept by object identity (scheduler `NodeInfo.of`, the kubelet's `cached_pods` and
status-in-sync verdicts, the Deployment template hash, the StatefulSet revision name, the
controllers' decisions, remembered with the caches they read) answer what a fresh computation
answers, state after state along runs that revisit, change and drop the objects they remember."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest
from random_runs import random_run_states

from kubeprop.model.api import revisions
from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import Deployment
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers import base as controllers_base
from kubeprop.model.controllers import deployment_util, resync
from kubeprop.model.controllers.work_queue import ControllerState
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kubelet
from kubeprop.model.kubelet import local as kubelet_local
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler import nodeinfo
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view
from kubeprop.model.state.informer import InformerState, ResourceCache

DATA = Path(__file__).parent / "data" / "variants"


def _fresh_infos(nodes: list[Node], pods: list[Pod]) -> tuple[nodeinfo.NodeInfo, ...]:
    nodeinfo._BUILT.clear()
    return nodeinfo.build_node_infos(nodes, pods)


def _check(model: ClusterModel, state: ClusterState) -> None:
    nodes = [o for o in state.store.objects.values() if isinstance(o, Node)]
    pods = [o for o in state.store.objects.values() if isinstance(o, Pod)]
    remembered = nodeinfo.build_node_infos(nodes, pods)
    assert remembered == _fresh_infos(nodes, pods)
    for node in model.nodes:
        remembered_pods = kubelet.cached_pods(model, state, node)
        kubelet_local._CACHED.clear()
        assert remembered_pods == kubelet.cached_pods(model, state, node)
        remembered_actions = list(kubelet.node_enabled(model, state, node))  # (pod statuses in sync)
        kubelet._STATUS_IN_SYNC.clear()
        assert remembered_actions == list(kubelet.node_enabled(model, state, node))
    for d in (o for o in state.store.objects.values() if isinstance(o, Deployment)):
        for collisions in (None, 1):
            remembered_hash = deployment_util.compute_hash(d.spec.template, collisions)
            deployment_util._HASHED.clear()
            assert remembered_hash == deployment_util.compute_hash(d.spec.template, collisions)
    for sts in (o for o in state.store.objects.values() if isinstance(o, StatefulSet)):
        assert revisions.revision_name(sts) == revisions._revision_name(sts.metadata.name, sts.spec.template)
    if is_up(state, CONTROLLER_MANAGER):
        for now in (state.clock, state.clock + 10_000):  # (later: past every deadline)
            assert list(controllers_base._wakeups(model, state, now)) == _fresh_wakeups(model, state, now)
        for controller, key in controllers_base.queued(model, state):
            remembered_decision = controllers_base.decide(model, state, controller, key)  # the memo kept
            fresh = controllers_base._controller(model, controller).reconcile(  # across states
                view(model, state, CONTROLLER_MANAGER), key, state.controllers[controller].memory, state.clock)
            assert remembered_decision == fresh


def _fresh_wakeups(model: ClusterModel, state: ClusterState, now: int) -> list[tuple[str, str, int]]:
    """`base._wakeups` without its memos (`decisions.WakeupMemo`, the decisions' `DecisionMemo`),
    as it was written before: a resync's (`resync.due`) from a fresh reconcile."""
    view_ = view(model, state, CONTROLLER_MANAGER)
    out = []
    for controller in model.controllers:
        period, ctl_state = resync.period(controller), state.controllers.get(controller.name)
        if period is not None and isinstance(ctl_state, ControllerState):
            for obj in view_.list(controller.watches[0]):
                key = controllers_base._key(obj)
                fresh = controller.reconcile(view_, key, ctl_state.memory, now)
                if key not in ctl_state.queue and (fresh.requests or fresh.requeue):
                    out.append((controller.name, key, (now // period + 1) * period))
        wakeup_at = getattr(controller, "wakeup_at", None)
        if wakeup_at is not None and controller.watches:
            for obj in view_.list(controller.watches[0]):
                key = controllers_base._key(obj)
                at = wakeup_at(view_, key, now)
                if at is not None:
                    out.append((controller.name, key, at))
    return out


@pytest.mark.parametrize("path", [None, DATA / "web.yaml", DATA / "node-loss.yaml"])
def test_remembered_answers_equal_fresh_ones_on_random_runs(path: Path | None) -> None:
    model = build_model(load_scenario(path))
    for state in random_run_states(model, random.Random(7), runs=3, length=60):
        _check(model, state)


def test_a_built_in_controller_running_a_users_strategy_is_remembered_by_identity_only() -> None:
    """Reads are recorded (and a decision reused on equal caches) only for built-in code: a user's
    rollout strategy might look at its view in other ways than the recording view sees."""
    from kubeprop.model.controllers.decisions import DecisionMemo
    from kubeprop.model.controllers.deployment import STRATEGIES, DeploymentController

    def users_rollout(*args: object, **kwargs: object) -> object:
        return STRATEGIES["RollingUpdate"](*args, **kwargs)

    assert DecisionMemo._records(DeploymentController())
    assert not DecisionMemo._records(DeploymentController().with_strategy("RollingUpdate", users_rollout))


def _rebuilt(cache: ResourceCache, replace_first: bool = False) -> ResourceCache:
    """Another `ResourceCache` with the very same keys and objects (the first object, with
    `replace_first`, an equal copy that is not the same object)."""
    items = list(cache.objects.sorted_items())
    if replace_first and items:
        key, obj = items[0]
        items[0] = key, attrs.evolve(obj)
    return ResourceCache(FrozenMap(items), cache.revision, cache.stale)


def test_a_decision_is_reused_on_caches_rebuilt_with_the_very_same_objects() -> None:
    """A reconcile reading caches that hold the very same objects as the caches it read before
    (other `ResourceCache` objects: another path of the search built them again) is not decided
    again; a cache holding an equal object that is not the same object is no match."""
    from kubeprop.model.cluster.compose import initial_state
    from kubeprop.model.controllers.decisions import DecisionMemo, _same_contents

    assert [f.name for f in attrs.fields(ResourceCache)] == ["objects", "revision", "stale"]  # what it compares
    model = build_model(load_scenario(DATA / "web.yaml"))
    state = initial_state(model)
    informer = state.informers[CONTROLLER_MANAGER]
    controller, key = next(iter(controllers_base.queued(model, state)))
    ctl, memory = controllers_base._controller(model, controller), state.controllers[controller].memory
    memo = DecisionMemo()
    first = memo.decide(ctl, informer, key, memory, state.clock)
    again = InformerState(FrozenMap({r: _rebuilt(c) for r, c in informer.resources.items()}))
    assert again.resources is not informer.resources
    assert memo.decide(ctl, again, key, memory, state.clock) is first
    copied = InformerState(FrozenMap({r: _rebuilt(c, replace_first=True) for r, c in informer.resources.items()}))
    fresh = memo.decide(ctl, copied, key, memory, state.clock)
    assert fresh == first and fresh is not first
    cache = next(iter(informer.resources.values()))
    assert _same_contents(cache, _rebuilt(cache)) and not _same_contents(cache, None)
    assert not _same_contents(cache, attrs.evolve(cache, revision=cache.revision + 1))
    assert not _same_contents(cache, attrs.evolve(cache, stale=not cache.stale))


def test_the_stores_index_by_resource_lists_what_a_scan_lists() -> None:
    """`Store.list` reads the stored objects' index by resource (`store.by_resource`, remembered by
    the map's identity): every resource and namespace lists what a scan of every stored object in
    key order lists, state after state along random runs that create, update and delete objects."""
    from kubeprop.model.api.store import by_resource

    model = build_model(load_scenario(DATA / "web.yaml"))
    for state in random_run_states(model, random.Random(11), runs=2, length=60):
        store = state.store
        resources = {key.resource for key in store.objects} | {"no-such-resource"}
        namespaces = {key.namespace for key in store.objects} | {"", "elsewhere"}
        for resource in resources:
            for namespace in namespaces:
                scanned = [obj for key, obj in store.objects.sorted_items()
                           if key.resource == resource and (not namespace or key.namespace == namespace)]
                assert list(store.list(resource, namespace)) == scanned
                assert all(a is b for a, b in zip(store.list(resource, namespace), scanned, strict=True))
        assert sum(map(len, by_resource(store.objects).values())) == len(store.objects)
