"""What a mount's Multi-Attach verdict reads, and no more (round 21, vol13).

`kubeprop.model.kubelet.volumes.multi_attach_error` reads the store and every kubelet, but only for a
pod whose claim's volume the attach/detach controller keeps on one node. Round 20 made every
StartPod/MountVolumes read them wherever claims could exist (partial-order reduction lost the
independence of two nodes' starts), and the enabled-actions cache recompute a kubelet's actions on
every write to the store. Now the footprints read them only where such a volume can exist
(`can_attach`), and the cache keys on the verdicts of the mounts that wait (`_mounts_attach`)."""

from __future__ import annotations

import random
from pathlib import Path

from cluster_harness import api, fair_states, settled

from kubeprop.model.api.core import ConfigMap
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.api.storage import cluster_storage_class, makes_csi_volumes
from kubeprop.model.cluster import compose
from kubeprop.model.cluster.compose import actions, build_model, step
from kubeprop.model.cluster.enabled_reads import _kubelet_node
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.cluster.provisioner import volume_for
from kubeprop.model.kubelet.component import StartPod
from kubeprop.model.kubelet.volumes import can_attach
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.por import reduced_bfs_steps

DATA = Path(__file__).parents[1] / "data" / "volumes"
DB = Path(__file__).parents[1] / "data" / "catalogue" / "db" / "db.yaml"


def _model(name: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / name), parameters=parameters or None)


def _contest(model: ClusterModel) -> ClusterState:
    """The first state of the fair run where both pods' StartPods are enabled on two nodes."""
    states, _ = fair_states(model)
    for state in states:
        if len({a.node for a in actions(model, state) if isinstance(a, StartPod)}) == 2:
            return state
    raise AssertionError("no state with both pods' StartPod enabled on two nodes")


def _full_states(model: ClusterModel, start: ClusterState, depth: int) -> set[ClusterState]:
    """Every state within `depth` actions of `start` (a plain breadth-first search)."""
    seen, layer = {start}, [start]
    for _ in range(depth):
        layer = [n for s in layer for n in (step(model, s, a) for a in actions(model, s)) if n not in seen
                 and not seen.add(n)]  # type: ignore[func-returns-value]
    return seen


def _reduced_states(model: ClusterModel, start: ClusterState, depth: int) -> set[ClusterState]:
    """Every state the breadth-first search with sleep sets visits within `depth` actions of `start`."""
    seen: set[ClusterState] = set()
    gen = reduced_bfs_steps(model, start, (), Bounds(max_depth=depth), None, visit=seen.add, ample_sets=False)
    next(gen)
    try:
        gen.send(None)
    except StopIteration:
        return seen
    raise AssertionError("the reduced search asked for more than one turn")


def test_can_attach_only_where_an_attached_read_write_once_volume_can_exist() -> None:
    assert can_attach(_model("rwo-csi"))  # a static CSI ReadWriteOnce PV
    assert not can_attach(_model("rwo-hostpath"))  # hostPath: nothing attaches it
    assert not can_attach(_model("rwop"))
    assert can_attach(build_model(load_scenario(DB)))  # StatefulSet claims of the default CSI class
    assert not can_attach(build_model(load_scenario(DB), parameters={"defaultStorageClass": "node-local"}))


def test_the_provisioner_makes_csi_volumes_exactly_where_can_attach_expects() -> None:
    """`makes_csi_volumes` is `provisioner.volume_for`'s test: the `zonal` class's volumes are CSI, the
    `node-local` class's are not."""
    model, state = settled(DB)
    claim = next(c for c in state.store.list("persistentvolumeclaims"))
    for choice in ("zonal", "node-local"):
        cls = cluster_storage_class(choice)
        assert cls is not None
        volume = volume_for(model, state, claim, cls)  # type: ignore[arg-type]
        assert (volume.spec.csi is not None) == makes_csi_volumes(cls.provisioner, "zonal"), choice


def test_two_nodes_starting_pods_of_a_host_path_claim_are_independent() -> None:
    """Nothing attaches a hostPath volume: the two StartPods commute (round 20 made them dependent)."""
    model = _model("rwo-hostpath")
    state, footprints = _contest(model), Footprints(model)
    first, second = (a for a in actions(model, state) if isinstance(a, StartPod))
    assert footprints.independent(first, second)
    assert step(model, step(model, state, first), second) == step(model, step(model, state, second), first)
    assert "store" not in footprints.of(first).reads


def test_sleep_sets_reach_every_state_of_the_attach_contest() -> None:
    """From the contest for one volume, full and reduced searches reach the same states, for a volume
    that is attached (dependent starts) and one that is not (independent starts)."""
    for name in ("rwo-csi", "rwo-hostpath"):
        model = _model(name)
        start = _contest(model)
        assert _reduced_states(model, start, 2) == _full_states(model, start, 2), name


def test_a_write_a_kubelet_does_not_read_keeps_its_enabled_key() -> None:
    """A ConfigMap written to the store (not yet in any cache) leaves each kubelet's key as it was:
    round 20 keyed every kubelet on the whole store where claims could exist."""
    model, state = settled(DATA / "rwo-csi")
    config = ConfigMap(metadata=ObjectMeta(name="unrelated", namespace="default"))
    written = api(state, model, Request(verb="create", user=ADMIN, resource="configmaps", namespace="default",
                                        obj=config))
    for node in model.nodes:
        key = ObjectKey("nodes", "", node)
        assert _kubelet_node(model, written, node, key) == _kubelet_node(model, state, node, key), node


def test_the_enabled_cache_answers_like_actions_from_the_contest() -> None:
    """Random runs from the contest for the volume (faults included): the cached answer is the plain one."""
    model = _model("rwo-csi")
    cache, rng, contest = EnabledCache(model), random.Random(7), _contest(model)
    for _ in range(3):
        state = contest
        for _ in range(30):
            enabled: tuple[Action, ...] = tuple(a for c in compose.COMPONENTS for a in c.enabled(model, state))
            assert cache.actions(state) == enabled
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
