"""The attach/detach controller keeps a ReadWriteOnce CSI volume on one node (user trial 12, fa2).

Upstream `pkg/controller/volume/attachdetach/reconciler/reconciler.go` refuses to attach a volume
whose PV forbids multi-attach (isMultiAttachForbidden) to a second node ("Multi-Attach error"), so
the second pod waits in ContainerCreating until the first is gone. The model mounted both and
reported `read-write-once-volume-on-one-node`. A hostPath volume has no attacher: two nodes do mount
it, and the violation is upstream behaviour (tests/model/data/volumes/rwo-hostpath)."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import api, fair_states, settled

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.server import Request, handle
from kubeprop.model.api.storage import CSI_DRIVERS, CSIDriver
from kubeprop.model.cluster.compose import actions, build_model, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.kubelet.component import StartPod
from kubeprop.model.kubelet.volumes import multi_attach_error
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import CrashNode
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.registry import first_violation, select
from kubeprop.properties.upstream_behaviour import match

DATA = Path(__file__).parents[1] / "data" / "volumes"
RWO = "read-write-once-volume-on-one-node"


def _running(state: ClusterState) -> dict[str, str]:
    """pod key → node of each pod a live kubelet runs."""
    return {key: node for node, k in state.kubelets.sorted_items() for key, r in k.pods.sorted_items()
            if r.any_running}


def _bound(state: ClusterState) -> dict[str, str]:
    return {p.metadata.name: p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod)}


def test_a_read_write_once_csi_volume_is_not_attached_to_a_second_node() -> None:
    model, state = settled(DATA / "rwo-csi")
    bound = _bound(state)
    assert len(set(bound.values())) == 2, bound  # the two pods on two nodes: the case that matters
    running = _running(state)
    assert len(running) == 1, running
    (holder,) = running
    waiting = next(name for name in bound if f"default/{name}" != holder)
    pod = state.store.get(ObjectKey("pods", "default", waiting))
    assert isinstance(pod, Pod)
    assert multi_attach_error(state, bound[waiting], pod) == \
        f'Multi-Attach error for volume "pv1" Volume is already used by pod(s) {holder.partition("/")[2]}'
    assert first_violation(model, state, select([RWO])) is None
    # the holder deleted (its containers stopped, the pod gone): the volume moves to the other node
    deleted = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                        name=holder.partition("/")[2]))
    after = settle(model, deleted, max_steps=3000).state
    assert list(_running(after)) == [f"default/{waiting}"]


def test_a_read_write_once_host_path_volume_on_two_nodes_is_upstream_behaviour() -> None:
    model = build_model(load_scenario(DATA / "rwo-hostpath"))
    states, actions = fair_states(model)
    assert len(set(_running(states[-1]).values())) == 2
    found = first_violation(model, states[-1], select([RWO]))
    assert found is not None and "mounted on 2 nodes" in found.message
    known = match(model, found, actions)
    assert known is not None and known.name == "read-write-once-volume-not-attached"


def test_two_first_mounts_on_two_nodes_do_not_commute() -> None:
    """Whichever pod mounts first holds the volume: the footprints (partial-order reduction) must not
    call the two StartPods independent, and indeed the two orders end in different states."""
    model = build_model(load_scenario(DATA / "rwo-csi"))
    states, _ = fair_states(model)
    footprints = Footprints(model)
    for state in states:
        starts = [a for a in actions(model, state) if isinstance(a, StartPod)]
        if len({a.node for a in starts}) == 2:
            first, second = starts
            assert not footprints.independent(first, second)
            assert step(model, step(model, state, first), second) != step(model, step(model, state, second), first)
            return
    raise AssertionError("no state with both pods' StartPod enabled on two nodes")


def test_a_csi_driver_that_does_not_attach_mounts_on_two_nodes_as_upstream() -> None:
    """A CSIDriver with `attachRequired: false` (NFS-like drivers): no attach, so no Multi-Attach
    refusal; both pods run on two nodes, and the violation is upstream behaviour. Round 20 attached
    every CSI volume: the second pod waited for ever (a false `pods-eventually-running`-style verdict)."""
    model = build_model(load_scenario(DATA / "csi-no-attach"))
    states, actions = fair_states(model)
    assert len(set(_running(states[-1]).values())) == 2
    found = first_violation(model, states[-1], select([RWO]))
    assert found is not None and "mounted on 2 nodes" in found.message
    known = match(model, found, actions)
    assert known is not None and known.name == "read-write-once-volume-not-attached"


def test_a_csi_driver_object_is_defaulted_and_its_attach_required_is_immutable() -> None:
    """SetDefaults_CSIDriver (attachRequired true) and ValidateCSIDriverUpdate (immutable)."""
    model, state = settled(DATA / "rwo-csi")
    driver = CSIDriver(metadata=ObjectMeta(name="ebs.csi.aws.com"))
    state = api(state, model, Request(verb="create", user=ADMIN, resource=CSI_DRIVERS, obj=driver))
    stored = state.store.get(ObjectKey(CSI_DRIVERS, "", "ebs.csi.aws.com"))
    assert isinstance(stored, CSIDriver) and stored.spec.attach_required is True
    changed = attrs.evolve(stored, spec=attrs.evolve(stored.spec, attach_required=False))
    result = handle(state.store, Request(verb="update", user=ADMIN, resource=CSI_DRIVERS, name="ebs.csi.aws.com",
                                         obj=changed), model.api, state.clock)
    assert result.response.code == 422, result.response
    assert "spec.attachedRequired: Invalid value" in result.response.message, result.response.message


def test_a_volume_stays_attached_to_a_crashed_node_while_its_pod_is_not_terminated() -> None:
    """The holder's node loses power: its kubelet forgets the pod, but the pod is still in the API
    server, not terminated (its status still says running), so the attach/detach controller's
    desired state keeps the volume attached there (`reconciler.go`: detach only for a volume no pod
    there wants). Round 20 took the kubelet's memory for the attachment: the crash detached the
    volume at once and the other pod started. Once the pod is gone from the store it is still in the
    controller's cache until delivered, and then the detach waits (tests/model/kubelet/test_detach_wait.py)."""
    model, state = settled(DATA / "rwo-csi")
    (holder,) = _running(state)
    holder_node = _running(state)[holder]
    waiting = next(name for name in _bound(state) if f"default/{name}" != holder)
    crashed = step(model, state, CrashNode(holder_node))
    assert not crashed.kubelets[holder_node].pods
    pod = crashed.store.get(ObjectKey("pods", "default", waiting))
    assert isinstance(pod, Pod)
    waiting_node = pod.spec.node_name
    assert multi_attach_error(crashed, waiting_node, pod) is not None
    gone = api(crashed, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                       name=holder.partition("/")[2], grace_period_seconds=0))
    assert multi_attach_error(gone, waiting_node, pod) is not None
