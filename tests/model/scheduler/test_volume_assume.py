"""VolumeBinding's Reserve and PreBind as upstream (`binder.go` AssumePodVolumes, BindPodVolumes →
bindAPIUpdate, checkBindings; `assume_cache.go`; `kubeprop.model.scheduler.volumeassume`).

Before, the PreBind recomputed the claims to bind from the cache it read at the time: a pod
scheduled before another pod's selected-node landed sent nothing once the claim was bound, and
checkBindings skipped a fully bound claim before looking at its node, so the pod was bound to a
node outside its volume's zone (audit14 finding 6, scenario tests/model/data/volumes/rwx-shared-claim:
scheduler-decisions-sound VIOLATED on the correct model). Upstream the second pod's cycle sees the
first pod's assumed claim (held to its selected node), the claim update carries the cycle's
resourceVersion (409 when it went stale), and checkBindings checks the selected node and the
volume's node affinity before "fully bound"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectMeta, ObjectReference, find_condition
from kubeprop.model.api.objects import ApiObject, Node, ObjectKey, Pod
from kubeprop.model.api.volume import ANN_BIND_COMPLETED, ANN_SELECTED_NODE
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.binding import Bind
from kubeprop.model.scheduler.component import MarkUnschedulable, Preempt, Schedule
from kubeprop.model.scheduler.queue import SchedulerState
from kubeprop.model.scheduler.volumeassume import VolumeDecisions, check
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, view
from kubeprop.model.state.informer import ObjectView

DATA = Path(__file__).parents[1] / "data" / "volumes" / "rwx-shared-claim"
CLAIM = ObjectKey("persistentvolumeclaims", "default", "data")
SCHEDULING = (Schedule, Bind, MarkUnschedulable, Preempt)


def _memory(state: ClusterState, instance: str = "scheduler") -> SchedulerState:
    memory: SchedulerState = state.schedulers[instance]
    return memory


def _others(model: ClusterModel, state: ClusterState, until: Callable[[ClusterState], bool]) -> ClusterState:
    """Take the first enabled action that is no scheduler's cycle or binding until `until` holds."""
    for _ in range(300):
        if until(state):
            return state
        state = step(model, state, next(a for a in actions(model, state) if not isinstance(a, SCHEDULING)))
    raise AssertionError("never reached")


def _schedules(model: ClusterModel, state: ClusterState, instance: str = "scheduler") -> list[Schedule]:
    return sorted(a for a in actions(model, state) if isinstance(a, Schedule) and a.scheduler == instance)


def _claim(state: ClusterState) -> PersistentVolumeClaim:
    claim = state.store.get(CLAIM)
    assert isinstance(claim, PersistentVolumeClaim)
    return claim


def _queued(model: ClusterModel, instances: tuple[str, ...] = ("scheduler",)) -> ClusterState:
    """Both replicas in every instance's queue, nothing scheduled yet."""
    def ready(state: ClusterState) -> bool:
        return all(len(list(view(model, state, i).list("pods"))) == 2 and _schedules(model, state, i)
                   for i in instances)
    return _others(model, initial_state(model), ready)


def _take(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
    assert act in actions(model, state), act
    return step(model, state, act)


def test_the_second_pod_of_a_shared_claim_is_held_to_the_first_pods_selected_node() -> None:
    """Reserve assumes the claim with the selected node in the assume cache; the next cycle reads
    it there (FindPodVolumes' fast path), before any write: only that node is offered."""
    model = build_model(load_scenario(DATA))
    state = _queued(model)
    first = _schedules(model, state)[-1]
    assert len({a.node for a in _schedules(model, state) if a.pod == first.pod}) > 1  # any node, at first
    state = _take(model, state, first)
    cached = _memory(state).volume_cache
    assert [c.metadata.annotations.get(ANN_SELECTED_NODE) for c in cached.values()] == [first.node]
    assert ANN_SELECTED_NODE not in _claim(state).metadata.annotations  # not written yet
    assert {(a.pod, a.node) for a in _schedules(model, state)} == {
        (p, first.node) for p in {a.pod for a in _schedules(model, state)}} and _schedules(model, state)


def test_a_claim_update_from_a_stale_cycle_is_a_conflict_that_fails_the_binding() -> None:
    """Both pods assumed onto the selected node with the claim as read (one resourceVersion): the
    first PreBind's update lands, the second's carries the stale resourceVersion, gets 409, and the
    binding fails (PodScheduled=False, SchedulerError); Unreserve restores the assume cache."""
    model = build_model(load_scenario(DATA))
    state = _queued(model)
    a = _schedules(model, state)[0]
    state = _take(model, state, a)
    b = _schedules(model, state)[0]
    state = _take(model, state, b)
    state = _take(model, state, Bind("scheduler", a.pod))
    assert _claim(state).metadata.annotations[ANN_SELECTED_NODE] == a.node
    state = _take(model, state, Bind("scheduler", b.pod))
    assert b.pod not in _memory(state).assumed and not _memory(state).volume_cache
    pod = state.store.get(ObjectKey("pods", "default", b.pod.partition("/")[2]))
    assert isinstance(pod, Pod)
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None and cond.reason == "SchedulerError"
    assert cond.message == ('running PreBind plugin "VolumeBinding": Operation cannot be fulfilled on '
                            'persistentvolumeclaims "data": the object has been modified; please apply your '
                            "changes to the latest version and try again")


def test_two_instances_never_bind_a_pod_outside_its_claims_volume() -> None:
    """Two scheduler instances (no leader election), each with its own assume cache: the first
    assumes pod x onto a node of one zone; the second assumes x onto a node of another zone, then y
    there too (its own cache holds y to its selected node). The first binds x: its claim is written,
    provisioned and bound in the first zone. The second's PreBind for y writes the claim as its
    cycle read it: 409, the binding fails. Before, it sent nothing (the claim was bound by then),
    found the claim fully bound and bound y outside the volume's zone."""
    model = build_model(load_scenario(DATA), parameters={
        "schedulerInstances": 2, "leaderElection": False, "instantCaches": False})
    state = _queued(model, ("scheduler", "scheduler-2"))

    def zone(name: str) -> str:
        node = state.store.get(ObjectKey("nodes", "", name))
        assert isinstance(node, Node)
        return node.metadata.labels["topology.kubernetes.io/zone"]
    x = _schedules(model, state)[0]
    state = _take(model, state, x)
    other = next(s for s in _schedules(model, state, "scheduler-2") if zone(s.node) != zone(x.node))
    state = _take(model, state, other)
    y = next(s for s in _schedules(model, state, "scheduler-2") if zone(s.node) != zone(x.node))
    assert y.pod != x.pod
    state = _take(model, state, y)
    state = _take(model, state, Bind("scheduler", x.pod))
    state = _others(model, state, lambda s: ANN_BIND_COMPLETED in _claim(s).metadata.annotations
                    and "persistentvolumeclaims" not in _behind(s, "scheduler-2"))
    state = _take(model, state, Bind("scheduler-2", y.pod))
    pod = state.store.get(ObjectKey("pods", "default", y.pod.partition("/")[2]))
    assert isinstance(pod, Pod) and pod.spec.node_name == ""
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None and "the object has been modified" in cond.message


def _behind(state: ClusterState, component: str) -> set[str]:
    """The resources whose events `component`'s informer has not all delivered."""
    informer = state.informers[component]
    return {r for r, cache in informer.resources.items() if cache.revision < state.store.revision
            and any(e.key.resource == r and e.revision > cache.revision for e in state.store.events)}


class _View:
    """The informer look-ups checkBindings makes: nodes, pods, claims, volumes."""

    def __init__(self, *objs: ApiObject) -> None:
        self.objs = objs

    def get(self, key: ObjectKey) -> ApiObject | None:
        return next((o for o in self.objs if _resource(o) == key.resource
                     and (o.metadata.namespace, o.metadata.name) == (key.namespace, key.name)), None)


def _resource(obj: ApiObject) -> str:
    return {PersistentVolumeClaim: "persistentvolumeclaims", PersistentVolume: "persistentvolumes",
            Node: "nodes", Pod: "pods"}[type(obj)]


def _zonal_volume(zone: str, rv: str = "5") -> PersistentVolume:
    volume = PersistentVolume(metadata=ObjectMeta(name="pv1", resource_version=rv))
    affinity = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "zone", "operator": "In", "values": [zone]}]}]}}
    ref = ObjectReference(kind="PersistentVolumeClaim", namespace="default", name="data", uid="u1")
    return attrs.evolve(volume, spec=attrs.evolve(volume.spec, node_affinity=FrozenMap(affinity), claim_ref=ref))


def _check(*objs: ApiObject, decisions: VolumeDecisions) -> tuple[str, str | None]:
    node = Node(metadata=ObjectMeta(name="n1", labels=FrozenMap({"zone": "a"})))
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default"))
    view: ObjectView = _View(node, pod, *objs)  # type: ignore[assignment]
    return check(view, "default/p", "n1", decisions)


def test_check_bindings_checks_the_node_and_the_volume_before_fully_bound() -> None:
    """checkBindings' order for a claim to provision: the selected node, then (once it names a
    volume) the volume's node affinity, and only then fully bound. Before, a fully bound claim was
    skipped before any check."""
    written = PersistentVolumeClaim(metadata=ObjectMeta(name="data", namespace="default", resource_version="3",
                                                        annotations=FrozenMap({ANN_SELECTED_NODE: "n1"})))
    bound = attrs.evolve(written, metadata=attrs.evolve(written.metadata, resource_version="4", annotations=FrozenMap({
        ANN_SELECTED_NODE: "n1", ANN_BIND_COMPLETED: "yes"})), spec=attrs.evolve(written.spec, volume_name="pv1"))
    provisioning = VolumeDecisions(provisions=(written,), sent=True)
    assert _check(bound, _zonal_volume("a"), decisions=provisioning) == ("ready", None)
    assert _check(bound, _zonal_volume("b"), decisions=provisioning) == ("failed", (
        'binding volumes: pv "pv1" node affinity doesn\'t match node "n1": no matching NodeSelectorTerms'))
    elsewhere = attrs.evolve(bound, metadata=attrs.evolve(bound.metadata, annotations=bound.metadata.annotations.set(
        ANN_SELECTED_NODE, "n2")))
    assert _check(elsewhere, _zonal_volume("a"), decisions=provisioning) == (
        "failed", 'binding volumes: provisioning failed for PVC "data"')
    reset = attrs.evolve(bound, metadata=attrs.evolve(bound.metadata, annotations=FrozenMap()))
    assert _check(reset, decisions=provisioning) == (
        "failed", 'binding volumes: selectedNode annotation reset for PVC "data"')
    assert _check(bound, decisions=provisioning) == ("wait", None)  # the volume not cached yet
    stale = attrs.evolve(written, metadata=attrs.evolve(written.metadata, resource_version="2",
                                                        annotations=FrozenMap()))
    assert _check(stale, decisions=provisioning) == ("wait", None)  # the cache has not seen the write yet
    gone = 'could not find v1.PersistentVolumeClaim "default/data"'
    assert _check(decisions=provisioning) == ("failed", f"binding volumes: failed to check provisioning pvc: {gone}")


def test_check_bindings_of_a_static_binding_and_of_the_node_and_pod() -> None:
    """A static binding: the volume and claim must be cached, the volume's node affinity match, its
    claimRef stay; the node and the pod are looked up first."""
    volume = _zonal_volume("a")
    claim = PersistentVolumeClaim(metadata=ObjectMeta(name="data", namespace="default", annotations=FrozenMap({
        ANN_BIND_COMPLETED: "yes"})))
    claim = attrs.evolve(claim, spec=attrs.evolve(claim.spec, volume_name="pv1"))
    static = VolumeDecisions(bindings=(volume,), sent=True)
    assert _check(volume, claim, decisions=static) == ("ready", None)
    assert _check(_zonal_volume("b"), claim, decisions=static)[0] == "failed"
    dropped = attrs.evolve(volume, spec=attrs.evolve(volume.spec, claim_ref=None))
    assert _check(dropped, claim, decisions=static) == ("failed", 'binding volumes: ClaimRef got reset for pv "pv1"')
    assert _check(claim, decisions=static) == (
        "failed", 'binding volumes: failed to check binding: could not find v1.PersistentVolume "pv1"')
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default"))
    view: ObjectView = _View(pod)  # type: ignore[assignment]
    assert check(view, "default/p", "n1", static) == (
        "failed", 'binding volumes: failed to get node "n1": node "n1" not found')
