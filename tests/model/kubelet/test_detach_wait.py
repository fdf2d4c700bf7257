"""The attach/detach controller detaches a volume whose pod left a node only once the node reports it
unmounted, after 6 minutes on an unhealthy node, or at once with the out-of-service taint.

Upstream `pkg/controller/volume/attachdetach/reconciler/reconciler.go` reconcile (v1.33):
`attachedVolume.MountedByNode && !forceDetach && !hasOutOfServiceTaint` → no detach; `forceDetach` is
`!isHealthy && elapsed > maxWaitForUnmountDuration` (6 min). Round 21 detached as soon as the pod was
gone: after a node crash the other pod started at its next mount retry, where upstream it waits in
ContainerCreating for about 6 minutes (`kubeprop.model.controllers.attachdetach`)."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
from cluster_harness import api, settled
from commuting import assert_commute, independent_pairs

from kubeprop.model.api.core import Node, Taint
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.controllers.attachdetach import MAX_WAIT_FOR_UNMOUNT_SECONDS
from kubeprop.model.controllers.podgc import OUT_OF_SERVICE_TAINT
from kubeprop.model.kubelet.actions import MountVolumes
from kubeprop.model.kubelet.volumes import ATTACH_DETACH, AttachDetachMemory, multi_attach_error
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.actions import CrashNode, Deliver
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "volumes"
EXCLUSIVE = ('Multi-Attach error for volume "pv1" Volume is already exclusively attached to one node and '
             "can't be attached to another")


def _running(state: ClusterState) -> dict[str, str]:
    """pod key → node of each pod a live kubelet runs."""
    return {key: node for node, k in state.kubelets.sorted_items() for key, r in k.pods.sorted_items()
            if r.any_running}


def _crashed_holder() -> tuple[ClusterModel, ClusterState, str, str]:
    """rwo-csi settled (one pod runs, the other waits on another node), then the holder's node loses
    power: (model, state, the holder's name, the waiting pod's name)."""
    model, state = settled(DATA / "rwo-csi")
    ((holder, node),) = _running(state).items()
    names = [p.metadata.name for p in state.store.list("pods") if isinstance(p, Pod)]
    waiting = next(n for n in names if f"default/{n}" != holder)
    return model, step(model, state, CrashNode(node)), holder.partition("/")[2], waiting


def _run_from(model: ClusterModel, state: ClusterState) -> list[ClusterState]:
    run = fair_run(model, state, max_steps=3000)
    assert not run.exhausted and not run.interrupted
    states = [state]
    for act in run.trace:
        states.append(step(model, states[-1], act))
    return states


def _waits(state: ClusterState) -> dict[str, tuple[int, str]]:
    memory = state.controllers.get(ATTACH_DETACH)
    return dict(memory.waits) if isinstance(memory, AttachDetachMemory) else {}


def _started_at(states: list[ClusterState], name: str) -> int:
    """The clock of the first state where a kubelet runs the pod `name`."""
    return next(s.clock for s in states if f"default/{name}" in _running(s))


def test_the_volume_of_a_crashed_node_is_detached_only_after_six_minutes() -> None:
    """The holder force-deleted from the API server (its node dead): the other pod stays in
    ContainerCreating ("Multi-Attach error … exclusively attached") until more than 6 minutes passed
    since the controller saw the pod go and the node is NotReady. Round 21 started it at its next
    mount retry."""
    model, state, holder, waiting = _crashed_holder()
    gone = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=holder,
                                     grace_period_seconds=0))
    states = _run_from(model, gone)
    waits = [s for s in states if _waits(s)]
    assert waits, "the controller never recorded the detach request"
    ((requested, _),) = _waits(waits[0]).values()
    pod = waits[0].store.get(ObjectKey("pods", "default", waiting))
    assert isinstance(pod, Pod)
    assert multi_attach_error(waits[0], pod.spec.node_name, pod) == EXCLUSIVE
    assert _started_at(states, waiting) > requested + MAX_WAIT_FOR_UNMOUNT_SECONDS


def test_the_out_of_service_taint_detaches_at_once() -> None:
    """The same crash, the holder deleted gracefully (it stays Terminating: no kubelet finishes it),
    then the node tainted `node.kubernetes.io/out-of-service`: podgc's gcTerminating force-deletes
    the pod once the node is NotReady, and the controller detaches without the 6-minute wait."""
    model, state, holder, waiting = _crashed_holder()
    node_name = next(p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod)
                     and p.metadata.name == holder)
    terminating = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                            name=holder))
    node = terminating.store.get(ObjectKey("nodes", "", node_name))
    assert isinstance(node, Node)
    taint = Taint(key=OUT_OF_SERVICE_TAINT, value="nodeshutdown", effect="NoExecute")
    tainted = api(terminating, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        node, spec=attrs.evolve(node.spec, taints=(*node.spec.taints, taint)))))
    states = _run_from(model, tainted)
    deleted_at = next(s.clock for s in states if s.store.get(ObjectKey("pods", "default", holder)) is None)
    assert _started_at(states, waiting) < deleted_at + MAX_WAIT_FOR_UNMOUNT_SECONDS


def test_a_healthy_node_detaches_after_its_kubelet_reports_the_unmount() -> None:
    """The holder deleted on a live node: the volume stays attached (an entry, the other pod refused)
    while the kubelet still runs the pod, and is detached at the tick after the kubelet stopped it."""
    model, state = settled(DATA / "rwo-csi")
    ((holder, node),) = _running(state).items()
    deleted = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                        name=holder.partition("/")[2]))
    states = _run_from(model, deleted)
    entry = [i for i, s in enumerate(states) if _waits(s)]
    assert entry, "the controller never waited for the unmount"
    for i in entry:  # while the entry lasts, no other pod runs
        assert set(_running(states[i])) <= {holder}
    ended = states[entry[-1] + 1]
    assert ended.clock > states[entry[-1]].clock  # ended by a Tick (the status sync)
    assert holder not in _running(states[entry[-1]])  # after the kubelet stopped the pod
    assert [k for k, n in _running(states[-1]).items() if k != holder and n != node], "the other pod never ran"


def test_footprints_and_the_enabled_cache_hold_while_a_detach_waits() -> None:
    """Random runs from the crash with the holder gone (deliveries to the controller manager make the
    wait, a `Tick` ends it, mounts read it): actions the footprints call independent commute, and the
    incremental cache of enabled actions answers as the plain `actions`."""
    model, state, holder, _ = _crashed_holder()
    start = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=holder,
                                      grace_period_seconds=0))
    footprints, cache, rng = Footprints(model), EnabledCache(model), random.Random(11)
    checked, waited = 0, False
    for _ in range(4):
        state = start
        for _ in range(40):
            enabled = actions(model, state)
            assert cache.actions(state) == enabled
            pairs = independent_pairs(footprints, enabled)
            checked += assert_commute(model, state, rng.sample(pairs, min(4, len(pairs))))
            waited = waited or bool(_waits(state))
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
    assert waited and checked > 20


def test_no_step_frees_the_volume_between_the_deletion_and_the_controllers_wait() -> None:
    """The holder gone from the store, its DELETED not yet delivered to the controller manager, and the
    other pod's mount retry due: the controller's cache still has the pod (its desired state of the
    world), so the volume stays attached — the model of the previous commit let the mount in before
    the controller knew the pod was gone — and the delivery turns that into the detach wait. The
    mount reads what the delivery writes: the footprints must not call them independent."""
    model, state, holder, waiting = _crashed_holder()
    gone = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=holder,
                                     grace_period_seconds=0))
    node = next(n for n, k in gone.kubelets.sorted_items() if f"default/{waiting}" in k.pods)
    runtime = gone.kubelets[node].pods[f"default/{waiting}"]
    assert runtime.mount_pending
    due = attrs.evolve(gone, kubelets=gone.kubelets.set(node, gone.kubelets[node].with_pod(
        f"default/{waiting}", attrs.evolve(runtime, mount_from=gone.clock - 1))))  # the retry at 1 s: due now
    pod = due.store.get(ObjectKey("pods", "default", waiting))
    assert isinstance(pod, Pod)
    mount = MountVolumes(node, f"default/{waiting}")
    assert multi_attach_error(due, node, pod) == \
        f'Multi-Attach error for volume "pv1" Volume is already used by pod(s) {holder}'
    while not _waits(due):  # the controller manager's deliveries, in order, until the DELETED makes the wait
        enabled = actions(model, due)
        assert mount not in enabled
        delivery = next(a for a in enabled if isinstance(a, Deliver) and a.component == CONTROLLER_MANAGER)
        assert not Footprints(model).independent(mount, delivery)
        due = step(model, due, delivery)
    assert mount not in actions(model, due)
    assert multi_attach_error(due, node, pod) == EXCLUSIVE
