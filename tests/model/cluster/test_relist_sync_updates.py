"""A relist's updates of objects the cache held unchanged are sync updates (client-go
`staging/src/k8s.io/client-go/tools/cache/shared_informer.go` OnUpdate, isSync): they reach the
controller manager's handlers, but those that return on equal resourceVersions do nothing with them
(`pkg/controller/replicaset/replica_set.go` updatePod) while others enqueue (updateRS). Before, every
controller enqueued its key for every unchanged object. The deletions of a relist come before the
listed objects (v1.33's RealFIFO Replace, `tools/cache/the_real_fifo.go`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.store import WatchEvent
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import hand_relist, mark_stale
from kubeprop.model.controllers.replicaset import ReplicaSetController
from kubeprop.model.controllers.sync_updates import ignores_sync_update
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Relist
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.model.state.component import Hooks
from kubeprop.model.state.informer import ResourceCache

TIGHT = Path(__file__).parents[1] / "data" / "variants" / "tight.yaml"
CM = CONTROLLER_MANAGER


def _settled() -> tuple[ClusterModel, ClusterState]:
    model = build_model(load_scenario(TIGHT))
    state = settle(model, initial_state(model)).state
    assert not state.controllers["replicaset"].queue
    return model, state


def test_relisting_unchanged_pods_enqueues_no_replicaset() -> None:
    model, state = _settled()
    state = step(model, mark_stale(state, CM, ["pods"]), Relist(CM, "pods"))
    assert not state.controllers["replicaset"].queue


def test_relisting_unchanged_replicasets_still_enqueues_them() -> None:
    """updateRS enqueues on any update, so that a resync retries a ReplicaSet whose creations failed."""
    model, state = _settled()
    state = step(model, mark_stale(state, CM, ["replicasets.apps"]), Relist(CM, "replicasets.apps"))
    assert state.controllers["replicaset"].queue == ("default/app",)


def test_a_scenario_controller_named_as_a_built_in_acts_on_sync_updates() -> None:
    @attrs.frozen
    class Own:
        name: str = "replicaset"

    assert ignores_sync_update(ReplicaSetController(), "pods")
    assert not ignores_sync_update(ReplicaSetController(), "replicasets.apps")
    assert not ignores_sync_update(Own(), "pods")


def test_a_relist_hands_deletions_before_the_listed_objects_and_sync_updates_apart() -> None:
    model, state = _settled()
    seen: list[tuple[str, tuple[tuple[str, str], ...]]] = []

    def record(kind: str) -> Any:
        def hook(_m: ClusterModel, s: ClusterState, _c: str, events: tuple[WatchEvent, ...]) -> ClusterState:
            seen.append((kind, tuple((e.type, e.key.name) for e in events)))
            return s
        return hook

    model = attrs.evolve(model, hooks=evolve(Hooks(), on_events=(record("events"),),
                                             on_sync_updates=(record("sync"),)))
    pods = state.informers[CM].resources["pods"]
    (first, kept), (gone, _) = pods.objects.sorted_items()[:2]
    added = attrs.evolve(first, name="zz-new")
    fresh = evolve(kept, metadata=evolve(kept.metadata, name="zz-new", resource_version="999"))
    objects = pods.objects.delete(gone).set(added, fresh)
    hand_relist(model, state, CM, pods, ResourceCache(objects, pods.revision + 1))
    assert seen == [("events", (("DELETED", gone.name), ("ADDED", "zz-new"))), ("sync", (("MODIFIED", first.name),))]


def test_the_ignored_table_agrees_with_each_built_in_handler() -> None:
    """`sync_updates.IGNORED` (a relist's unchanged objects reach no such handler) says what the
    handlers' own update branches decide (`keys_for_change` with old == new): on db.yaml's and
    tight.yaml's settled objects, an ignored pair's handler enqueues nothing for a sync update."""
    from kubeprop.model.controllers.sync_updates import IGNORED
    from kubeprop.model.state.component import Change, keys_for_change

    checked = set()
    for path in (TIGHT, TIGHT.parent / "db.yaml"):
        model = build_model(load_scenario(path))
        state = settle(model, initial_state(model)).state
        for controller in model.controllers:
            if not hasattr(controller, "keys_for_change"):
                continue
            for resource in controller.watches:
                if (controller.name, resource) not in IGNORED:
                    continue
                for obj in state.store.list(resource):
                    assert not tuple(keys_for_change(controller, Change("update", obj, obj), state.store)), (
                        controller.name, resource, obj.metadata.name)
                    checked.add((controller.name, resource))
    assert {("replicaset", "pods"), ("deployment", "pods"), ("deployment", "replicasets.apps"),
            ("statefulset", "pods"), ("endpoints", "pods"), ("endpointslice", "pods")} <= checked
