"""A kubelet's enabled actions are keyed on the Multi-Attach verdicts of its pods whose mount waits
and that name a claim (`enabled_reads._mounts_attach`; perf11 and vol13 built the same idea, the
merge kept vol13's narrower key), not on every kubelet and every stored object: the cache still
answers what `actions` answers where one node's mount makes another's pod wait."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
from cluster_harness import settled
from random_runs import mostly_fair_run, plain_actions

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.cluster.enabled_reads import _mounts_attach
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.cluster.informers import fresh_informer
from kubeprop.model.kubelet.actions import MountVolumes
from kubeprop.model.kubelet.local import cached_pods, set_pod
from kubeprop.model.kubelet.volumes import multi_attach_error
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

RWO_CSI = Path(__file__).parents[1] / "data" / "volumes" / "rwo-csi"


def _runs(model: ClusterModel, seed: int, runs: int, length: int) -> list[list[ClusterState]]:
    """Runs that follow the fair policy mostly (both pods reach their first mount) with random steps."""
    rng = random.Random(seed)
    return [list(mostly_fair_run(model, rng, length, 0.7)) for _ in range(runs)]


def test_the_verdicts_are_multi_attach_error_for_each_waiting_pod_naming_a_claim() -> None:
    model = build_model(load_scenario(RWO_CSI))
    refused = 0
    for run in _runs(model, seed=1, runs=4, length=120):
        for state in run:
            for node in sorted(model.nodes):
                pods, runtimes = cached_pods(model, state, node), state.kubelets.get(node)
                waiting = [] if runtimes is None else [k for k, r in runtimes.pods.sorted_items() if r.mount_pending]
                expected = tuple(multi_attach_error(state, node, pods[key]) is None for key in waiting
                                 if key in pods and any(v.persistent_volume_claim is not None
                                                        for v in pods[key].spec.volumes))
                assert _mounts_attach(model, state, node) == expected
                refused += expected.count(False)
    assert refused  # the runs reach a pod that must wait for the other node's attachment


def test_the_cache_answers_like_actions_where_one_mount_makes_the_other_wait() -> None:
    """The cache answers what `actions` does along random runs, and where the pod that waits for the
    other node's attachment may mount once that node's kubelet let its pod go — a change of another
    kubelet, nothing else the waiting kubelet reads."""
    model = build_model(load_scenario(RWO_CSI))
    cache = EnabledCache(model)
    for run in _runs(model, seed=2, runs=4, length=120):
        for state in run:
            assert cache.actions(state) == plain_actions(model, state)
    # The settled state: one pod runs, the other's mount waits. Later (its retry due), the holder's
    # kubelet has let the pod go and the pod is gone from the API server and from the controller
    # manager's cache, with no detach wait (vol13: the volume stays attached while
    # the pod is there and not terminated; volumes14: while the attach/detach controller's cache shows
    # it, or waits for the unmount report): the waiting kubelet's answer depends on those through the
    # verdict alone.
    model, state = settled(RWO_CSI)
    holder, node = next((key, node) for node in sorted(model.nodes)
                        for key, r in state.kubelets[node].pods.sorted_items() if r.any_running)
    later = freed = state
    for clock in range(state.clock, state.clock + 3_600, model.tick_seconds):  # the first tick a retry is due
        later = attrs.evolve(state, clock=clock)
        gone = later.store.remove(ObjectKey("pods", *holder.split("/")))[0]  # and its pod gone from the API
        freed = attrs.evolve(set_pod(later, node, holder, None), store=gone)
        freed = attrs.evolve(freed, informers=freed.informers.set(
            CONTROLLER_MANAGER, fresh_informer(model, freed, CONTROLLER_MANAGER)))
        if any(isinstance(a, MountVolumes) for a in plain_actions(model, freed)):
            break
    before, after = cache.actions(later), cache.actions(freed)
    assert before == plain_actions(model, later) and after == plain_actions(model, freed)
    assert [a for a in after if isinstance(a, MountVolumes)] != [a for a in before if isinstance(a, MountVolumes)]
