"""The attach/detach controller detaches a volume whose pod left a node only once the node reports it
unmounted, after 6 minutes on an unhealthy node, or at once with the out-of-service taint.

Upstream `pkg/controller/volume/attachdetach/reconciler/reconciler.go` reconcile (v1.33):
`attachedVolume.MountedByNode && !forceDetach && !hasOutOfServiceTaint` → no detach; `forceDetach` is
`!isHealthy && elapsed > maxWaitForUnmountDuration` (6 min). Round 21 detached as soon as the pod was
gone: after a node crash the other pod started at its next mount retry, where upstream it waits in
ContainerCreating for about 6 minutes (`kubeprop.model.controllers.attachdetach`)."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import api, settled

from kubeprop.model.api.core import Node, Taint
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.attachdetach import MAX_WAIT_FOR_UNMOUNT_SECONDS
from kubeprop.model.controllers.podgc import OUT_OF_SERVICE_TAINT
from kubeprop.model.kubelet.volumes import ATTACH_DETACH, AttachDetachMemory, multi_attach_error
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.actions import CrashNode
from kubeprop.model.state.cluster import ClusterModel, ClusterState

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
