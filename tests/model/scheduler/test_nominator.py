"""The scheduler's nominator (`pkg/scheduler/backend/queue/nominator.go`) and handleSchedulingFailure's
status patch (`pkg/scheduler/schedule_one.go` updatePod, `pkg/scheduler/util/utils.go` PatchPodStatus):
the nomination the scheduler's own preemption makes reserves the node at once, before (or without)
its write coming back through the informer; a restart rebuilds it from the informer's list; a
failure with no preemption candidate clears the nomination; the failure's status is a patch, which
a stale cache cannot make conflict; a nomination changing or going away moves the parked pods of
lower or equal priority. Scenarios: tests/model/data/preemption/nominator/."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from cluster_harness import api, api_seen

from kubeprop.model.api.core import Node, NodeStatus
from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.pod import PodSchedulingGate
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import WatchEvent
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.faults import reset_component
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.scheduler.component import MarkUnschedulable, Preempt, Schedule, decide
from kubeprop.model.scheduler.nodeinfo import build_node_infos
from kubeprop.model.scheduler.nominator import on_pod_event, rebuild
from kubeprop.model.scheduler.queue import Parked, SchedulerState
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, pod_key

DATA = Path(__file__).parents[1] / "data" / "preemption" / "nominator"
NOMINATOR = DATA / "scenario.yaml"
CLEARED = DATA / "cleared.yaml"
P, Q = "default/p-high", "default/q-mid"


def _model(path: Path, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(path), parameters=parameters or None)


def _pod(state: ClusterState, name: str) -> Pod:
    pod = state.store.get(ObjectKey("pods", "default", name))
    assert isinstance(pod, Pod), name
    return pod


def _memory(state: ClusterState) -> SchedulerState:
    memory: SchedulerState = state.schedulers["scheduler"]
    return memory


def _take(model: ClusterModel, state: ClusterState, act: Action) -> ClusterState:
    assert act in actions(model, state), (act, actions(model, state))
    return step(model, state, act)


def _preempted(model: ClusterModel) -> ClusterState:
    """p-high's preempting cycle, nothing else (no informer delivery, no goroutine call)."""
    return _take(model, initial_state(model), Preempt("scheduler", P, "n1"))


@pytest.mark.parametrize("asynchronous", [True, False])
def test_the_nomination_reserves_the_node_before_the_informer_delivers_it(asynchronous: bool) -> None:
    """With lagging caches q-mid's cycle right after p-high's sees no nominatedNodeName on p-high
    in the cache, yet counts it on n1 (handleSchedulingFailure's AddNominatedPod): q-mid no longer
    fits the 500m left free. Before, the model read nominations from the cache and bound q-mid there."""
    model = _model(NOMINATOR, schedulerAsyncPreemption=asynchronous)
    state = _preempted(model)
    cached = state.informers["scheduler"].get(ObjectKey("pods", "default", "p-high"))
    assert isinstance(cached, Pod) and cached.status.nominated_node_name == ""  # not delivered yet
    assert _memory(state).nominated == {P: "n1"}
    assert Schedule("scheduler", Q, "n1") not in actions(model, state)
    assert MarkUnschedulable("scheduler", Q) in actions(model, state)


def test_a_nomination_whose_patch_failed_still_reserves_the_node_until_a_restart() -> None:
    """The failure's status patch fails (only logged upstream): the store never names the node,
    but the nominator does, so q-mid does not fit; a restarted scheduler rebuilds its nominator from
    the informer's list and has forgotten it, while one restarted after the write keeps it."""
    model = _model(NOMINATOR, instantCaches=True)
    state = initial_state(model)
    state = attrs.evolve(state, armed_failures=state.armed_failures.set("scheduler", 500))
    state = _take(model, state, Preempt("scheduler", P, "n1"))
    assert _pod(state, "p-high").status.nominated_node_name == ""
    assert find_condition(_pod(state, "p-high").status.conditions, "PodScheduled") is None
    assert _memory(state).nominated == {P: "n1"}
    decision = decide(model, state, "scheduler")
    assert decision is not None and decision[0].metadata.name == "q-mid" and not decision[1].best
    assert _memory(reset_component(model, state, "scheduler")).nominated == {}
    written = _take(model, initial_state(model), Preempt("scheduler", P, "n1"))
    assert _pod(written, "p-high").status.nominated_node_name == "n1"
    assert _memory(reset_component(model, written, "scheduler")).nominated == {P: "n1"}


def _nominated_p(model: ClusterModel) -> ClusterState:
    """cleared.yaml with p-high nominated to n1 (as an earlier preemption left it), the scheduler's
    informer having delivered it."""
    state = initial_state(model)
    stored = _pod(state, "p-high")
    state = api_seen(state, model, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        stored, status=attrs.evolve(stored.status, nominated_node_name="n1"))))
    assert _memory(state).nominated == {P: "n1"}
    return state


def test_no_preemption_candidate_clears_the_nomination() -> None:
    """t-top fills n1 and p-high may evict nothing there: Preempt returns
    NewPostFilterResultWithNominatedNode(""), so handleSchedulingFailure drops p-high from the
    nominator and its patch clears nominatedNodeName with the Unschedulable condition. Before, the
    model kept the nomination."""
    model = _model(CLEARED, instantCaches=True)
    state = _take(model, _nominated_p(model), MarkUnschedulable("scheduler", P))
    pod = _pod(state, "p-high")
    assert pod.status.nominated_node_name == ""
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None and (cond.status, cond.reason) == ("False", "Unschedulable")
    assert "preemption: 0/1 nodes are available" in cond.message
    assert _memory(state).nominated == {}
    # p-high's own cleared nomination moved it too (its priority is <= its own); the retry on the
    # same inputs parks it again and writes nothing
    assert P not in _memory(state).unschedulable
    revision = state.store.revision
    state = _take(model, state, MarkUnschedulable("scheduler", P))
    assert state.store.revision == revision and P in _memory(state).unschedulable


def test_a_pod_not_eligible_to_preempt_keeps_its_nomination() -> None:
    """preemptionPolicy Never: Preempt returns no result (ModeNoop), the nomination stays."""
    model = _model(CLEARED, instantCaches=True)
    state = _nominated_p(model)
    stored = _pod(state, "p-high")
    never = attrs.evolve(stored, spec=attrs.evolve(stored.spec, preemption_policy="Never"))
    state = attrs.evolve(state, store=attrs.evolve(state.store, objects=state.store.objects.set(
        ObjectKey("pods", "default", "p-high"), never)))
    state = _take(model, state, MarkUnschedulable("scheduler", P))
    assert _pod(state, "p-high").status.nominated_node_name == "n1"
    assert _memory(state).nominated == {P: "n1"}


def test_the_failure_is_a_status_patch_a_stale_cache_cannot_make_conflict() -> None:
    """Lagging caches: p-high was relabelled after the scheduler's cache last saw it. The failure's
    write is a strategic merge patch without a resourceVersion (PatchPodStatus), so it lands; the
    model's former update-status answered 409 and wrote nothing."""
    model = _model(CLEARED)
    state = initial_state(model)
    stored = _pod(state, "p-high")
    state = api(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        stored, metadata=attrs.evolve(stored.metadata, labels=stored.metadata.labels.set("x", "y")))))
    state = _take(model, state, MarkUnschedulable("scheduler", P))
    pod = _pod(state, "p-high")
    cond = find_condition(pod.status.conditions, "PodScheduled")
    assert cond is not None and (cond.status, cond.reason) == ("False", "Unschedulable")
    assert pod.metadata.labels.get("x") == "y"


def test_a_cleared_nomination_moves_the_parked_pods_of_lower_or_equal_priority() -> None:
    """updatePodInSchedulingQueue: hasNominatedNodeNameChanged moves the parked pods with
    priority <= the pod's (getLEPriorityPreCheck). q-mid, parked because p-high's nomination fills
    n1, is tried again once that nomination is cleared."""
    model = _model(NOMINATOR, instantCaches=True)
    state = _take(model, initial_state(model), Preempt("scheduler", P, "n1"))
    state = _take(model, state, MarkUnschedulable("scheduler", Q))
    assert Q in _memory(state).unschedulable and P in _memory(state).unschedulable
    stored = _pod(state, "p-high")
    state = api_seen(state, model, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(
        stored, status=attrs.evolve(stored.status, nominated_node_name=""))))
    assert Q not in _memory(state).unschedulable and _memory(state).nominated == {}
    assert P in _memory(state).unschedulable  # held while its preemption runs (PreEnqueue)


def _event(kind: str, nominated: str, node: str = "", priority: int = 10_000) -> WatchEvent:
    template = _pod(initial_state(_model(NOMINATOR, instantCaches=True)), "p-high")
    pod = attrs.evolve(template, spec=attrs.evolve(template.spec, node_name=node, priority=priority),
                       status=attrs.evolve(template.status, nominated_node_name=nominated))
    return WatchEvent(kind, ObjectKey("pods", "default", "p-high"), pod, 1)  # type: ignore[arg-type]


def test_update_nominated_pod_keeps_the_memory_only_while_neither_object_names_a_node() -> None:
    """UpdateNominatedPod: an update whose old and new objects name no node keeps the in-memory
    nomination; one naming a node takes it; one removing it drops it and frees room; binding drops it."""
    memory = SchedulerState(nominated=SchedulerState().nominated.set(P, "n1"))
    kept, moved = on_pod_event(memory, _event("MODIFIED", ""))
    assert kept.nominated == {P: "n1"} and moved is None
    named, moved = on_pod_event(kept, _event("MODIFIED", "n2"))
    assert named.nominated == {P: "n2"} and named.seen == {P: "n2"} and moved is None
    cleared, moved = on_pod_event(named, _event("MODIFIED", ""))
    assert cleared.nominated == {} and cleared.seen == {} and moved == 10_000
    bound, moved = on_pod_event(named, _event("MODIFIED", "n2", node="n2"))
    assert bound.nominated == {} and moved == 10_000
    empty = SchedulerState()
    parked = SchedulerState(unschedulable=empty.unschedulable.set(Q, Parked(0, ((), empty.assumed))))
    assert on_pod_event(parked, _event("MODIFIED", ""))[0] == parked


def _gated(event: WatchEvent) -> WatchEvent:
    pod = event.object
    assert isinstance(pod, Pod)
    gated = attrs.evolve(pod, spec=attrs.evolve(pod.spec, scheduling_gates=(PodSchedulingGate(name="wait"),)))
    return attrs.evolve(event, object=gated)


def test_a_gated_pod_added_with_a_nomination_is_not_nominated_but_updated_it_is() -> None:
    """moveToActiveQ runs PreEnqueue before addNominatedPod: a scheduling-gated pod added (or listed
    by a restarted scheduler) naming a node is parked un-nominated; an update naming one goes
    through UpdateNominatedPod, gated or not (`scheduling_queue.go` Update). Before, the model
    nominated the added gated pod."""
    added, _ = on_pod_event(SchedulerState(), _gated(_event("ADDED", "n1")))
    assert added.nominated == {} and added.seen == {P: "n1"}
    updated, _ = on_pod_event(added, _gated(_event("MODIFIED", "n1")))
    assert updated.nominated == {P: "n1"}
    assert on_pod_event(SchedulerState(), _event("ADDED", "n1"))[0].nominated == {P: "n1"}
    rebuilt = rebuild(SchedulerState(), [_gated(_event("ADDED", "n1")).object])
    assert rebuilt.nominated == {} and rebuilt.seen == {P: "n1"}
    assert rebuild(SchedulerState(), [_event("ADDED", "n1").object]).nominated == {P: "n1"}


def test_a_nominated_pod_being_deleted_still_reserves_its_node() -> None:
    """addGENominatedPods counts every pod the nominator holds on the node, and nothing drops a
    pod being deleted from it before its deletion event (an unbound pod kept by a finalizer, or
    whose deletion event has not arrived): the cycle's snapshot counts it on its node. Before, the
    model left out a nominated pod with a deletionTimestamp."""
    template = _event("MODIFIED", "n1").object
    assert isinstance(template, Pod)
    deleting = attrs.evolve(template, metadata=attrs.evolve(template.metadata, deletion_timestamp=5))
    node = Node(metadata=ObjectMeta(name="n1"), status=NodeStatus(capacity=FrozenMap(
        {"cpu": Quantity.parse("1"), "memory": Quantity.parse("1Gi"), "pods": Quantity.parse("10")})))
    infos = build_node_infos([node], [deleting], nominations={P: "n1"})
    assert [pod_key(p) for p in infos[0].nominated] == [P]
    assert build_node_infos([node], [deleting])[0].nominated == ()  # the status-only view, as before
