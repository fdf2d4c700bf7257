"""The taint eviction controller's work is keyed by the pod's namespace/name, as upstream's
(`pkg/controller/tainteviction/taint_eviction.go`, `timed_workers.go`): it can delete a pod recreated
under the name, and a pod already terminating gets the DisruptionTarget condition. (The model keyed
its timers to the pod's uid, skipped terminating pods and deleted with a UID precondition.)"""

from __future__ import annotations

import attrs
from cluster_harness import api, make_model
from nodelifecycle_harness import NODE, POD, at, node, partition, pod, running_pod, step

from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import Container, Pod, PodSpec, Taint, Toleration
from kubeprop.model.api.server import Request
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.controllers import nodelifecycle_health as health
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.cluster import ClusterModel, ClusterState

OTHER = "worker-2"


def scheduled_eviction(model: ClusterModel) -> ClusterState:
    """web on worker-1, which is cut off, marked Unknown and tainted; web's 300 s toleration runs."""
    state = partition(running_pod(model))
    state = step(model, at(state, 60), nlc.MonitorNodeHealth())
    state = step(model, state, nlc.TaintNode(NODE))
    return step(model, state, nlc.ScheduleTaintEviction(POD))


def recreate_elsewhere(model: ClusterModel, state: ClusterState) -> tuple[ClusterState, str]:
    """web is force-deleted and created again under its name, bound to the healthy worker-2 (a
    StatefulSet's replacement), before the controller handles the delete: the uid of the new pod."""
    old = pod(state).metadata.uid
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web",
                                      grace_period_seconds=0))
    fresh = Pod(metadata=ObjectMeta(name="web", namespace="default"),
                spec=PodSpec(containers=(Container(name="app", image="web:1"),)))
    state = api(state, model, Request(verb="create", user=ADMIN, obj=fresh))
    state = api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                      namespace="default", name="web", node_name=OTHER))
    assert pod(state).metadata.uid != old
    return state, pod(state).metadata.uid


def test_the_old_pods_timer_deletes_a_replacement_of_the_same_name() -> None:
    """handlePodUpdate returns without cancelling when the pod under the name is on another node than
    the event's, and addConditionAndDeletePod GETs and deletes by name: the timer set for the old web
    deletes the new one, running on a healthy node (kubernetes#29522)."""
    model = make_model()
    state, uid = recreate_elsewhere(model, scheduled_eviction(model))
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 350)))
    assert nlc.next_timer(model, state) == 360
    state = step(model, at(state, 360), nlc.TaintEvictPod(POD))
    victim = pod(state)
    assert victim.metadata.uid == uid and victim.spec.node_name == OTHER
    assert victim.metadata.deletion_timestamp is not None
    cond = find_condition(victim.status.conditions, "DisruptionTarget")
    assert cond is not None and cond.reason == "DeletionByTaintManager"


def test_the_timer_is_cancelled_when_the_controller_sees_the_name_free() -> None:
    """A delete event handled while no pod has the name (handlePodUpdate: NotFound) cancels the work: a
    controller step between the delete and the re-creation leaves the replacement alone."""
    model = make_model()
    state = scheduled_eviction(model)
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web",
                                      grace_period_seconds=0))
    state = step(model, state, nlc.SyncNoScheduleTaints(NODE))  # any step of the controller
    assert POD not in nlc.memory(state).evictions
    state, _ = recreate(model, state)
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 400)))
    assert nlc.next_timer(model, at(state, 400)) is None


def recreate(model: ClusterModel, state: ClusterState) -> tuple[ClusterState, str]:
    fresh = Pod(metadata=ObjectMeta(name="web", namespace="default"),
                spec=PodSpec(containers=(Container(name="app", image="web:1"),)))
    state = api(state, model, Request(verb="create", user=ADMIN, obj=fresh))
    state = api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                      namespace="default", name="web", node_name=OTHER))
    return state, pod(state).metadata.uid


def taint(model: ClusterModel, state: ClusterState, taints: tuple[Taint, ...]) -> ClusterState:
    n = node(state)
    return api(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(n, spec=attrs.evolve(n.spec,
                                                                                                     taints=taints))))


def test_a_terminating_pod_is_evicted_once_with_the_disruption_condition() -> None:
    """getPodsAssignedToNode returns every pod on the node and nothing checks deletionTimestamp: a pod
    already terminating (deleted by a user, a drain) on a node tainted NoExecute gets DisruptionTarget
    (DeletionByTaintManager) and a DELETE; then it is left alone until its node's taints go."""
    model = make_model()
    state = running_pod(model)
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web"))
    assert pod(state).metadata.deletion_timestamp is not None
    state = taint(model, state, (Taint(key="dedicated", effect="NoExecute"),))
    assert list(nlc.enabled(model, state)) == [nlc.TaintEvictPod(POD)]
    state = step(model, state, nlc.TaintEvictPod(POD))
    cond = find_condition(pod(state).status.conditions, "DisruptionTarget")
    assert cond is not None and cond.reason == "DeletionByTaintManager"
    assert nlc.memory(state).evictions[POD].evicted == pod(state).metadata.uid
    assert list(nlc.enabled(model, at(state, state.clock + 10))) == []
    state = taint(model, state, ())
    assert POD not in health.gc_memory(model, state, nlc.memory(state)).evictions


def test_untainting_cancels_only_the_work_of_pods_on_that_node() -> None:
    """handleNodeUpdate cancels the work of the pods on a node whose NoExecute taints are gone; the
    replacement of a pod on another, untainted node keeps the old pod's work."""
    model = make_model()
    state = scheduled_eviction(model)
    entry = nlc.memory(state).evictions[POD]
    assert (entry.node, entry.fire_at, entry.evicted) == (NODE, 360, "")
    untainted = taint(model, state, tuple(t for t in node(state).spec.taints if t.effect != "NoExecute"))
    assert POD not in health.gc_memory(model, untainted, nlc.memory(untainted)).evictions
    state, _ = recreate_elsewhere(model, state)
    state = taint(model, state, tuple(t for t in node(state).spec.taints if t.effect != "NoExecute"))
    assert health.gc_memory(model, state, nlc.memory(state)).evictions[POD] == entry


def test_a_toleration_forever_cancels_the_work() -> None:
    """processPodOnNode: a pod on a NoExecute-tainted node tolerating every taint forever has its work
    cancelled."""
    model = make_model()
    state = scheduled_eviction(model)
    forever = Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute")
    live = pod(state)
    entry = nlc.memory(state).evictions[POD]
    nodes = {NODE: node(state)}
    tolerant = attrs.evolve(live, spec=attrs.evolve(live.spec, tolerations=(forever,)))
    assert health.eviction_queued(live, entry, nodes)
    assert not health.eviction_queued(tolerant, entry, nodes)
    assert not health.eviction_queued(None, entry, nodes)
