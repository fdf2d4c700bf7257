"""Model-time metrics (docs/metrics.md): each metric on hand-made runs with known values, the
response observer, the table, the worst case over several traces, and `within` bounds."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from kubeprop.model.api.apps import Deployment, DeploymentSpec, DeploymentStatus, ReplicaSet, ReplicaSetSpec
from kubeprop.model.api.core import Node, NodeStatus
from kubeprop.model.api.meta import Condition, ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod, PodSpec, PodStatus
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import ControllerState, Reconcile
from kubeprop.model.errors import UsageError
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, CrashNode, FailNextRequest, RestartNode, Tick, UserStep
from kubeprop.model.state.cluster import ClusterState
from kubeprop.model.state.informer import InformerState, ResourceCache
from kubeprop.properties.metrics import metrics, metrics_of_run, table_lines, worst_case
from kubeprop.properties.metrics_gauges import gauge_peaks
from kubeprop.properties.metrics_intervals import (
    eviction_latency,
    queue_duration,
    replacement_time,
    rollout_duration,
    scheduling_latency,
    startup_latency,
)
from kubeprop.properties.metrics_run import ApiCall, Run, observe
from kubeprop.properties.metrics_within import open_intervals, violations, within

DATA = Path(__file__).parents[1] / "model" / "data" / "variants"
READY = Condition(type="Ready", status="True")


def pod(name: str, uid: str, created: int = 0, node: str = "", ready: bool = False, owner: str = "",
        deleting: int | None = None) -> Pod:
    refs = (OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="rs", uid=owner, controller=True),
            ) if owner else ()
    meta = ObjectMeta(name=name, namespace="default", uid=uid, creation_timestamp=created, owner_references=refs,
                      deletion_timestamp=deleting)
    return Pod(metadata=meta, spec=PodSpec(node_name=node), status=PodStatus(conditions=(READY,) if ready else ()))


def node(name: str, ready: str = "True", since: int = 0) -> Node:
    cond = Condition(type="Ready", status=ready, last_transition_time=since)
    return Node(metadata=ObjectMeta(name=name, uid=f"node-{name}"), status=NodeStatus(conditions=(cond,)))


def store(*objects: object) -> Store:
    s = Store()
    for obj in objects:
        s, _, _ = s.put(obj, "ADDED")  # type: ignore[arg-type]
    return s


def run(*states: ClusterState, actions: tuple[Action, ...] | None = None) -> Run:
    acts = actions if actions is not None else tuple(Tick(10) for _ in states[1:])
    return Run(None, tuple(states), acts, tuple(() for _ in acts))  # type: ignore[arg-type]


def at(clock: int, *objects: object, **fields: object) -> ClusterState:
    return attrs.evolve(ClusterState(store=store(*objects), clock=clock), **fields)


def test_scheduling_latency_from_creation_to_binding() -> None:
    r = run(at(0, pod("a", "u1", created=0)),
            at(10, pod("a", "u1", created=0), pod("b", "u2", created=10), pod("c", "u3", created=10)),
            at(30, pod("a", "u1", created=0, node="w1"), pod("b", "u2", created=10)))
    samples = {s.subject: s for s in scheduling_latency(r)}
    assert samples["Pod default/a"].seconds == 30 and samples["Pod default/a"].steps == 2
    assert not samples["Pod default/a"].open
    assert samples["Pod default/b"].open and samples["Pod default/b"].seconds == 20
    assert "Pod default/c" not in samples, "deleted before it was bound: dropped"


def test_startup_latency_from_binding_to_first_ready() -> None:
    r = run(at(0, pod("a", "u1", node="w1")), at(10, pod("a", "u1", node="w1")),
            at(40, pod("a", "u1", node="w1", ready=True)), at(50, pod("a", "u1", node="w1")),
            at(60, pod("a", "u1", node="w1", ready=True)))
    [sample] = startup_latency(r)
    assert (sample.seconds, sample.steps, sample.open) == (40, 2, False), "only the first Ready counts"


def _rs(replicas: int) -> ReplicaSet:
    return ReplicaSet(metadata=ObjectMeta(name="rs", namespace="default", uid="rs-uid"),
                      spec=ReplicaSetSpec(replicas=replicas))


def test_replacement_time_from_node_lost_to_desired_ready_count_elsewhere() -> None:
    lost = FrozenMap({"w1": 5})
    old = pod("a", "u1", node="w1", ready=True, owner="rs-uid")
    r = run(at(0, _rs(1), old),
            at(10, _rs(1), old, heartbeat_lost=lost),
            at(360, _rs(1), old, pod("b", "u2", node="w2", owner="rs-uid"), heartbeat_lost=lost),
            at(370, _rs(1), old, pod("b", "u2", node="w2", ready=True, owner="rs-uid"), heartbeat_lost=lost))
    [sample] = replacement_time(r)
    assert sample.subject == "w1 lost: ReplicaSet default/rs"
    assert (sample.seconds, sample.steps, sample.open) == (365, 2, False), "from the last heartbeat (5 s)"


def test_replacement_still_open_and_a_ready_pod_on_a_lost_node_does_not_count() -> None:
    lost = FrozenMap({"w1": 0, "w2": 0})
    r = run(at(0, _rs(1), pod("a", "u1", node="w1", ready=True, owner="rs-uid"), heartbeat_lost=lost),
            at(400, _rs(1), pod("a", "u1", node="w1", ready=True, owner="rs-uid"),
               pod("b", "u2", node="w2", ready=True, owner="rs-uid"), heartbeat_lost=lost))
    [sample] = replacement_time(r)
    assert sample.open and sample.seconds == 400


def _deployment(generation: int, observed: int, updated: int) -> Deployment:
    status = DeploymentStatus(observed_generation=observed, replicas=2, updated_replicas=updated,
                              available_replicas=2)
    return Deployment(metadata=ObjectMeta(name="web", namespace="default", uid="d", generation=generation),
                      spec=DeploymentSpec(replicas=2), status=status)


def test_rollout_duration_from_generation_change_to_complete() -> None:
    r = run(at(0, _deployment(1, 1, 2)), at(10, _deployment(2, 1, 2)), at(20, _deployment(2, 2, 1)),
            at(50, _deployment(2, 2, 2)))
    [sample] = rollout_duration(r)
    assert (sample.seconds, sample.steps) == (40, 2)


def test_eviction_latency_from_not_ready_to_deletion() -> None:
    p = pod("a", "u1", node="w1")
    r = run(at(0, node("w1"), p), at(50, node("w1", "Unknown", 50), p), at(350, node("w1", "Unknown", 50), p),
            at(360, node("w1", "Unknown", 50), pod("a", "u1", node="w1", deleting=390)))
    [sample] = eviction_latency(r)
    assert (sample.subject, sample.seconds, sample.steps) == ("Pod default/a on w1", 310, 2)


def test_eviction_wait_is_cancelled_when_the_node_is_ready_again() -> None:
    p = pod("a", "u1", node="w1")
    r = run(at(0, node("w1"), p), at(50, node("w1", "Unknown", 50), p), at(60, node("w1"), p))
    assert eviction_latency(r) == []


def test_workqueue_duration_and_depth() -> None:
    def queued(*keys: str) -> FrozenMap[str, ControllerState]:
        return FrozenMap({"replicaset": ControllerState(queue=tuple(keys))})

    r = run(at(0), at(0, controllers=queued("default/a", "default/b")), at(10, controllers=queued("default/b")),
            at(10, controllers=queued("default/b")),
            actions=(Tick(10), Reconcile("replicaset", "default/a"), Reconcile("replicaset", "default/b")))
    samples = [(s.subject, s.seconds, s.open) for s in queue_duration(r)]
    assert samples == [("replicaset default/a", 10, False), ("replicaset default/b", 10, False),
                       ("replicaset default/b", 0, True)], "requeued by its reconcile: a new interval opens"
    peaks = {(p.metric, p.subject): p for p in gauge_peaks(r)}
    assert peaks[("workqueue-depth", "replicaset")].value == 2 and peaks[("workqueue-depth", "replicaset")].step == 1


def test_watch_lag_counts_undelivered_events_and_their_age() -> None:
    s0 = at(0, node("w1"))
    s1 = attrs.evolve(s0, clock=20, store=s0.store.put(node("w2"), "ADDED")[0])
    cache = ResourceCache(revision=s0.store.revision)
    informers = FrozenMap({"scheduler": InformerState(FrozenMap({"nodes": cache}))})
    r = run(attrs.evolve(s0, informers=informers), attrs.evolve(s1, clock=20, informers=informers),
            attrs.evolve(s1, clock=30, informers=informers))
    peaks = {(p.metric, p.subject): p.value for p in gauge_peaks(r)}
    assert peaks[("watch-lag-events", "scheduler nodes")] == 1
    assert peaks[("watch-lag-seconds", "scheduler nodes")] == 10, "written at 20 s, still pending at 30 s"


def test_request_counts_by_verb_and_code() -> None:
    r = attrs.evolve(run(at(0), at(0)), calls=((ApiCall("user", "create", "pods", 201),
                                                ApiCall("controller-manager", "update", "pods", 409),
                                                ApiCall("scheduler", "bind", "pods", 429)),))
    table = metrics_of_run(r)
    assert table.requests == (("bind", 429, 1), ("create", 201, 1), ("update", 409, 1))
    assert (table.requests_with("429"), table.requests_with("409"), table.requests_with("5xx")) == (1, 1, 0)
    assert table.requests_with("2xx") == 1


def _web() -> tuple[object, ClusterState, tuple[Action, ...]]:
    model = build_model(load_scenario(DATA / "web.yaml"))
    start = initial_state(model)
    return model, start, settle(model, start).trace


def test_observe_records_every_response_and_changes_no_state() -> None:
    model, start, _ = _web()
    failed = step(model, step(model, start, FailNextRequest("user", 500)), UserStep(0))  # type: ignore[arg-type]
    trace = (FailNextRequest("user", 500), UserStep(0), *settle(model, failed).trace)
    observed = observe(model, start, trace)  # type: ignore[arg-type]
    plain = [start]
    for act in trace:
        plain.append(step(model, plain[-1], act))  # type: ignore[arg-type]
    assert list(observed.states) == plain
    assert observed.calls[1] == (ApiCall("user", "patch-scale", "deployments.apps", 500),)  # kubectl scale
    assert sum(len(c) for c in observed.calls) == sum(n for *_, n in metrics_of_run(observed).requests)


def test_table_of_a_node_loss_on_the_web_scenario() -> None:
    """worker-1 crashes (default timeouts, 10 s ticks): NotReady at 60 s (the first 10 s tick after
    the 50 s grace), evicted 300 s later, replaced at 360 s."""
    model, start, trace = _web()
    end = settle(model, start).state  # type: ignore[arg-type]
    crashed = step(model, end, CrashNode("worker-1"))  # type: ignore[arg-type]
    rest = settle(model, crashed, avoid=(RestartNode,)).trace  # type: ignore[arg-type]
    table = metrics(model, start, (*trace, CrashNode("worker-1"), *rest))  # type: ignore[arg-type]
    assert table.worst("pod-replacement-time").seconds == 360  # type: ignore[union-attr]
    assert table.worst("eviction-latency").seconds == 300  # type: ignore[union-attr]
    assert table.worst("pod-scheduling-latency").seconds == 0  # type: ignore[union-attr]
    lines = table_lines(table)
    assert any(line.startswith("pod-replacement-time") and "360 s" in line for line in lines)


def test_worst_case_picks_the_worse_trace() -> None:
    model, start, trace = _web()
    end = settle(model, start).state  # type: ignore[arg-type]
    crashed = step(model, end, CrashNode("worker-1"))  # type: ignore[arg-type]
    rest = settle(model, crashed, avoid=(RestartNode,)).trace  # type: ignore[arg-type]
    longer = (*trace, CrashNode("worker-1"), *rest)
    found = {w.row.metric: w for w in worst_case(model, start, [trace, longer])}  # type: ignore[arg-type]
    assert found["pod-replacement-time"].trace_index == 1 and found["pod-replacement-time"].row.worst == 360
    assert found["pod-scheduling-latency"].trace_index == 0, "equal worst values: the shorter trace"


def test_within_checks_the_open_intervals_of_a_state() -> None:
    state = at(400, _rs(1), pod("a", "u1", node="w1", ready=True, owner="rs-uid"), pod("b", "u2", created=300),
               heartbeat_lost=FrozenMap({"w1": 20}))
    assert open_intervals("pod-replacement-time", state) == [
        ("ReplicaSet default/rs (a pod on w1, lost at 20 s, not replaced)", 380)]
    bound = within("pod-replacement-time", 360)
    found = bound(None, state)  # type: ignore[arg-type]
    assert found is not None and found.property == "pod-replacement-time-within-360s"
    assert "for 380 s" in found.message
    assert within("pod-replacement-time", 380)(None, state) is None  # type: ignore[arg-type]
    assert within("pod-scheduling-latency", 100)(None, state) is None  # type: ignore[arg-type]
    assert within("pod-scheduling-latency", 50)(None, state) is not None  # type: ignore[arg-type]


def test_within_rejects_history_metrics_and_unknown_names() -> None:
    with pytest.raises(UsageError, match="needs a run's history"):
        within("rollout-duration", 60)
    with pytest.raises(UsageError, match="unknown metric"):
        within("pod-latency", 60)


def test_violations_on_a_table() -> None:
    r = run(at(0, pod("a", "u1")), at(30, pod("a", "u1", node="w1")))
    table = metrics_of_run(r)
    assert [s.subject for s in violations(table, "pod-scheduling-latency", 20)] == ["Pod default/a"]
    assert violations(table, "pod-scheduling-latency", 30) == ()


def test_objects_are_matched_by_uid() -> None:
    """A pod deleted and recreated under the same name is a new subject."""
    r = run(at(0, pod("a", "u1")), at(10, pod("a", "u2", created=10)), at(20, pod("a", "u2", created=10, node="w")))
    [sample] = scheduling_latency(r)
    assert sample.seconds == 10
    assert ObjectKey("pods", "default", "a") in at(0, pod("a", "u1")).store.objects


def test_series_has_one_value_per_state() -> None:
    from kubeprop.properties.metrics import series

    model, start, _ = _web()
    failed = step(model, step(model, start, FailNextRequest("user", 500)), UserStep(0))  # type: ignore[arg-type]
    trace = (FailNextRequest("user", 500), UserStep(0), *settle(model, failed).trace)
    plot = series(model, start, trace)  # type: ignore[arg-type]
    assert {len(v) for v in plot.values()} == {len(trace) + 1}
    assert plot["apiserver-requests 5xx"][-1] == 1 and plot["apiserver-requests 5xx"][1] == 0
    assert max(plot["workqueue-depth"]) > 0


def test_check_report_includes_the_fair_run_and_given_traces() -> None:
    from kubeprop.properties.metrics import check_report

    model, start, _ = _web()
    scaled = step(model, start, UserStep(0))  # type: ignore[arg-type]
    lines = check_report(model, [(UserStep(0), *settle(model, scaled).trace)])  # type: ignore[arg-type]
    assert lines[0].startswith("metrics: worst over 2 trace(s)")
    assert any(line.startswith("apiserver-requests 429") for line in lines)
    assert any(line.startswith("apiserver-requests patch-scale 200") and "trace 1" in line for line in lines)
