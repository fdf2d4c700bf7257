"""Known upstream behaviour (issue 12): the Deployment controller's stale ReplicaSet lister breaks
`rollout-surge-bound`, a pod create that times out after it was written makes the ReplicaSet
controller create another, and a node cordoned between the scheduler's decision and its binding
breaks the binding properties (so does a node tainted before the decision whose update the
scheduler's cache has not seen), on the correct model exactly as on a real cluster; each is recognized as
such, and nothing else is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from restore_traces import SETTLES_AFTER_RESTORE

from kubeprop.model.cluster.compose import actions, build_model
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.nodelifecycle import SyncNoScheduleTaints
from kubeprop.model.kubelet.actions import CleanupOrphan, StopGracefully
from kubeprop.model.kubelet.component import StartPod
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashDuringReconcile,
    Deliver,
    FailNextRequest,
    UserStep,
)
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel
from kubeprop.properties.explore.discoveries import SETTLES
from kubeprop.properties.registry import OPT_IN, PROPERTIES, Violation, first_violation, select
from kubeprop.properties.upstream_behaviour import KNOWN, UpstreamBehaviour, explanation, match, states_of

RESTORE = Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "restore.yaml"
SYNC = Reconcile(controller="deployment", key="default/web")
DEPLOYMENTS = Deliver(component=CONTROLLER_MANAGER, resource="deployments.apps", revision=11)
RACE: tuple[Action, ...] = (UserStep(0), SYNC, DEPLOYMENTS, SYNC)
"""`kubectl set image` before the controller's first sync; the first sync (on the cached, older
template) creates a ReplicaSet; the Deployment's update reaches the cache, the ReplicaSet's does
not; the second sync rolls out."""


def _model(variant: str | None = None) -> ClusterModel:
    return build_model(load_scenario(RESTORE), parameters={"instantCaches": False}, variant=variant)


def _surge_violation(model: ClusterModel, trace: tuple[Action, ...]) -> Violation | None:
    return first_violation(model, states_of(model, trace)[-1], select(["rollout-surge-bound"]))


def test_stale_replicaset_lister_creates_the_new_replicaset_at_full_size_and_is_upstream() -> None:
    model = _model()
    violation = _surge_violation(model, RACE)
    assert violation is not None and violation.message == (
        "Deployment default/web's ReplicaSets hold 2+2 = 4, more than replicas 2 + maxSurge 1: web-685c7fd66b "
        "spec.replicas 2, web-9b8d4d75 spec.replicas 2 (a ReplicaSet the ReplicaSet controller has not caught up with "
        "counts its spec.replicas, not its pods)")  # trial 8: it said "holds 4 pods" where no pod existed
    found = match(model, violation, RACE)
    assert found is not None and found.name == "deployment-stale-replicaset-lister"


def test_with_the_replicaset_in_the_cache_the_rollout_keeps_the_surge_bound() -> None:
    model = _model()
    states = states_of(model, RACE[:3])
    created = max(e.revision for e in states[-1].store.events if e.key.resource == "replicasets.apps")
    fresh = (*RACE[:3], Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=created), SYNC)
    assert _surge_violation(model, fresh) is None
    # a violation of the same property on a trace without a stale sync is not recognized
    made_up = Violation("rollout-surge-bound", "made up", ("Deployment default/web",))
    assert match(model, made_up, fresh) is None


def test_under_a_variant_that_plays_no_part_the_race_is_still_upstream_behaviour() -> None:
    """Issue 11: the race involves no ReplicaSet sync, so rs-no-expectations plays no part in it;
    the trace replays on the correct twin to the same violation (tests/properties/test_upstream_twin.py
    has the cases where it does not)."""
    model = _model("rs-no-expectations")
    violation = _surge_violation(model, RACE)
    assert violation is not None
    found = match(model, violation, RACE)
    assert found is not None and found.name == "deployment-stale-replicaset-lister"
    assert any("without the variant" in line for line in explanation(found, variant="rs-no-expectations"))
    assert not any("without the variant" in line for line in explanation(found))


def test_every_entry_names_a_registered_property_and_cites_upstream() -> None:
    select()  # registers the built-ins
    for entry in KNOWN:
        assert entry.property in PROPERTIES or entry.property in OPT_IN or entry.property == SETTLES
        assert entry.citations and all(c.strip() for c in entry.citations)
        lines = explanation(entry)
        assert lines[0].startswith(entry.name) and any(line.startswith("upstream: ") for line in lines)


def test_an_entry_without_a_citation_is_refused() -> None:
    with pytest.raises(ValueError, match="no citation"):
        UpstreamBehaviour("made-up", "rollout-surge-bound", "made up", (), lambda *_: True)


DRAINED = RESTORE.parents[1] / "maintenance" / "drained.yaml"
POD = "default/web-5f56c79647-cm7j4"
DECIDED: tuple[Action, ...] = (Reconcile(controller="deployment", key="default/web"),
                               Reconcile(controller="replicaset", key="default/web-5f56c79647"),
                               Schedule(scheduler="scheduler", pod=POD, node="worker-1"))
"""The scheduler assumes the first replica onto worker-1 (its scheduling cycle)."""


@pytest.mark.parametrize("prop", ["scheduler-decisions-sound", "bindings-respect-hard-constraints"])
def test_a_node_cordoned_between_decision_and_binding_still_gets_the_pod_upstream(prop: str) -> None:
    model = build_model(load_scenario(DRAINED))
    # kubectl drain cordons first; the node lifecycle controller adds the unschedulable taint
    cordoned = (*DECIDED, UserStep(0), SyncNoScheduleTaints(node="worker-1"), Bind(scheduler="scheduler", pod=POD))
    violation = first_violation(model, states_of(model, cordoned)[-1], select([prop]))
    assert violation is not None and ("unschedulable" in violation.message or "taint" in violation.message)
    found = match(model, violation, cordoned)
    assert found is not None and found.name == "scheduler-binds-after-node-change"
    # bound before the cordon: nothing to report, and a made-up violation there is not recognized
    in_order = (*DECIDED, Bind(scheduler="scheduler", pod=POD), UserStep(0))
    assert first_violation(model, states_of(model, in_order)[-1], select([prop])) is None
    made_up = Violation(prop, "made up", (f"Pod {POD}", "Node worker-1"))
    assert match(model, made_up, in_order) is None


STALE_NODE: tuple[Action, ...] = (
    Reconcile(controller="deployment", key="default/web"),
    Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=11),
    Reconcile(controller="replicaset", key="default/web-5f56c79647"),
    Deliver(component="scheduler", resource="pods", revision=13),
    Deliver(component="scheduler", resource="pods", revision=14),
    UserStep(0), Deliver(component=CONTROLLER_MANAGER, resource="nodes", revision=16),
    SyncNoScheduleTaints(node="worker-1"))
"""Both replicas reach the scheduler's cache; kubectl drain cordons worker-1 and the node lifecycle
controller taints it, and neither node update has reached the scheduler's node cache yet."""


@pytest.mark.parametrize("prop", ["scheduler-decisions-sound", "bindings-respect-hard-constraints"])
def test_a_node_tainted_before_the_decision_but_not_in_the_schedulers_cache_gets_the_pod_upstream(prop: str) -> None:
    """The campaign's finding (seed 1, hypothesis, variants/disruption.yaml: an unreachable taint)."""
    model = build_model(load_scenario(DRAINED), parameters={"instantCaches": False})
    stale = (*STALE_NODE, Schedule(scheduler="scheduler", pod=POD, node="worker-1"),
             Bind(scheduler="scheduler", pod=POD))
    violation = first_violation(model, states_of(model, stale)[-1], select([prop]))
    assert violation is not None and "taint" in violation.message
    found = match(model, violation, stale)
    assert found is not None and found.name == "scheduler-decides-on-stale-node-cache"
    # once the cache has the taint the scheduler no longer picks worker-1; a made-up violation of
    # its binding to worker-2 (a node whose cache is current) is not recognized
    seen = (*STALE_NODE, Deliver(component="scheduler", resource="nodes", revision=16),
            Deliver(component="scheduler", resource="nodes", revision=17))
    assert Schedule(scheduler="scheduler", pod=POD, node="worker-1") not in actions(model, states_of(model, seen)[-1])
    elsewhere = (*seen, Schedule(scheduler="scheduler", pod=POD, node="worker-2"), Bind(scheduler="scheduler", pod=POD))
    assert match(model, Violation(prop, "made up", (f"Pod {POD}", "Node worker-2")), elsewhere) is None


NODE_LOSS = RESTORE.parent / "node-loss.yaml"
RS_SYNC = Reconcile(controller="replicaset", key="default/web-9b8d4d75")


@pytest.mark.parametrize("code", [504, 500])
def test_a_timed_out_pod_create_that_was_written_makes_a_second_pod_upstream(code: int) -> None:
    """A 504 applies the create and reports a failure: the ReplicaSet controller lowers its
    expectations, and its next sync (the pod not yet in its cache) creates another pod. A 500
    writes nothing: the retry creates the only pod."""
    loaded = load_scenario(NODE_LOSS)
    faults = attrs.evolve(loaded.spec.faults, request_failure=1)
    model = build_model(attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=faults)),
                        parameters={"instantCaches": False})
    trace: tuple[Action, ...] = (SYNC, FailNextRequest(component=CONTROLLER_MANAGER, code=code),
                                 Deliver(component=CONTROLLER_MANAGER, resource="replicasets.apps", revision=10),
                                 RS_SYNC, RS_SYNC)
    violation = first_violation(model, states_of(model, trace)[-1], select(["replicaset-no-overcreation"]))
    if code == 500:
        assert violation is None
        made_up = Violation("replicaset-no-overcreation", "made up", ("ReplicaSet default/web-9b8d4d75",))
        assert match(model, made_up, trace) is None
        return
    assert violation is not None and "owns 2 active pods, spec.replicas is 1" in violation.message
    found = match(model, violation, trace)
    assert found is not None and found.name == "replicaset-create-timeout"


TIGHT = RESTORE.parent / "tight.yaml"
TIMED_OUT: tuple[Action, ...] = (
    FailNextRequest(component="scheduler", code=504), Reconcile(controller="replicaset", key="default/app"),
    Deliver(component="scheduler", resource="pods", revision=9),
    Schedule(scheduler="scheduler", pod="default/app-tpl4p", node="worker-1"),
    Bind(scheduler="scheduler", pod="default/app-tpl4p"),  # written, but the scheduler sees a timeout
    Deliver(component="scheduler", resource="pods", revision=10),
    Schedule(scheduler="scheduler", pod="default/app-cm7j4", node="worker-1"))
"""One 100m pod fits worker-1; the first binding times out after it was written, the scheduler
forgets the pod and, its cache not showing the binding yet, assumes the second pod there."""


def test_a_binding_that_timed_out_after_it_was_written_frees_the_node_for_the_scheduler_upstream() -> None:
    loaded = load_scenario(TIGHT)
    faults = attrs.evolve(loaded.spec.faults, request_failure=1)
    model = build_model(attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=faults)),
                        parameters={"instantCaches": False})
    props = select(["scheduler-decisions-sound", "node-not-overcommitted"])
    states = states_of(model, TIMED_OUT)
    # the first binding was sound when made: the second assumption does not make it wrong
    assert all(first_violation(model, s, props) is None for s in states)
    trace = (*TIMED_OUT, Bind(scheduler="scheduler", pod="default/app-cm7j4"))
    violation = first_violation(model, states_of(model, trace)[-1], select(["node-not-overcommitted"]))
    assert violation is not None and "node worker-1" in violation.message
    found = match(model, violation, trace)
    assert found is not None and found.name == "scheduler-bind-timeout"
    # the same violation without a timed-out binding in the trace is not recognized
    made_up = Violation("node-not-overcommitted", "made up", ("Node worker-1",))
    assert match(model, made_up, TIMED_OUT[1:5]) is None


def test_a_crash_between_a_node_and_its_pods_with_upstreams_rule_is_upstream() -> None:
    """With `markPodsNotReadyOnTransitionOnly: true` (upstream's rule, docs/release.md) the correct
    model loses the transition in a controller-manager crash, as kubernetes#50067 describes."""
    from kubeprop.model.api.core import Node
    from kubeprop.model.api.objects import ObjectKey
    from kubeprop.model.cluster.compose import initial_state, step
    from kubeprop.model.cluster.drive import settle
    from kubeprop.properties.explore.engine import EngineConfig
    from kubeprop.properties.explore.perturb import run_perturb

    web = Path(__file__).resolve().parents[1] / "model" / "data" / "catalogue" / "web.yaml"
    model = build_model(load_scenario(web), parameters={"markPodsNotReadyOnTransitionOnly": True})
    found = run_perturb(model, initial_state(model), EngineConfig(budget_seconds=60.0, shrink=False))
    assert found.violation is not None and found.violation.property == "pods-on-unknown-nodes-not-ready"
    known = match(model, found.violation, found.trace)
    assert known is not None and known.name == "nodelifecycle-transition-lost-in-crash"
    before_crash = found.trace[:found.trace.index(CrashComponent(CONTROLLER_MANAGER))]
    assert match(model, found.violation, before_crash) is None  # the same claim without the crash: not this
    # the partition heals in the fair run on and the node is Ready again: its next loss is a transition
    # the controller sees, so the same claim there is not the lost one's (recog18)
    node = ObjectKey("nodes", "", str(found.violation.named("Node")))
    later, state = list(found.trace), states_of(model, found.trace)[-1]
    for act in settle(model, state, max_steps=500).trace:
        later.append(act)
        state = step(model, state, act)
        stored = state.store.get(node)
        if isinstance(stored, Node) and any(c.type == "Ready" and c.status == "True" for c in stored.status.conditions):
            break
    else:
        pytest.fail("the node is never Ready again in the fair run on")
    assert match(model, found.violation, later) is None


PROCEDURE = RESTORE.parent / "restore-procedure.yaml"


def _step_where(model: ClusterModel, trace: list[Action], wanted: Callable[[Action], bool]) -> None:
    """Append the first enabled action `wanted` accepts to `trace` (taken from where it ends)."""
    trace.append(next(a for a in actions(model, states_of(model, trace)[-1]) if wanted(a)))


def _deliver_all(model: ClusterModel, trace: list[Action]) -> None:
    while any(isinstance(a, Deliver) for a in actions(model, states_of(model, trace)[-1])):
        _step_where(model, trace, lambda a: isinstance(a, Deliver))


def test_a_restore_that_unbinds_a_running_pod_runs_it_on_two_nodes_upstream() -> None:
    """The campaign's finding (seed 1, PCT, restore-procedure.yaml): even with the documented
    procedure, a pod bound and started after the snapshot is unbound by the restore, bound again
    to the other node and started there while worker-1's kubelet still runs it."""
    model = build_model(load_scenario(PROCEDURE))
    trace: list[Action] = [Reconcile(controller="deployment", key="default/web")]
    _deliver_all(model, trace)
    trace.append(Reconcile(controller="replicaset", key="default/web-9b8d4d75"))
    _deliver_all(model, trace)
    pod = "default/web-9b8d4d75-cm7j4"
    trace += [SnapshotEtcd(), Schedule(scheduler="scheduler", pod=pod, node="worker-1"),
              Bind(scheduler="scheduler", pod=pod)]
    _deliver_all(model, trace)
    trace += [StartPod(node="worker-1", pod=pod), RestoreEtcd(),
              Schedule(scheduler="scheduler", pod=pod, node="worker-2"), Bind(scheduler="scheduler", pod=pod)]
    _step_where(model, trace, lambda a: isinstance(a, Deliver) and a.component == "kubelet/worker-2")
    trace.append(StartPod(node="worker-2", pod=pod))
    states = states_of(model, trace)
    assert all(act in actions(model, state) for act, state in zip(trace, states, strict=False))
    violation = first_violation(model, states[-1], select(["one-running-pod-per-identity"]))
    assert violation is not None and "runs on 2 nodes at once: worker-1, worker-2" in violation.message
    found = match(model, violation, trace)
    assert found is not None and found.name == "etcd-restore-rewinds-binding"
    # the same violation on a trace without the restore is not recognized
    without = [act for act in trace if not isinstance(act, RestoreEtcd)]
    assert match(model, violation, without) is None
    # worker-1's kubelet sees the pod gone from its node and stops the first copy: the race is over,
    # and a violation claimed after that is not the race's (recog18)
    _step_where(model, trace, lambda a: isinstance(a, Deliver) and a.component == "kubelet/worker-1")
    trace += [CleanupOrphan(node="worker-1", pod=pod), StopGracefully(node="worker-1", pod=pod, exit_code=0)]
    assert first_violation(model, states_of(model, trace)[-1], select(["one-running-pod-per-identity"])) is None
    assert match(model, violation, trace) is None


def test_resource_versions_going_back_after_a_restore_without_bump_are_upstream() -> None:
    """No --bump-revision (etcdutl's default), the components restarted: the controller manager saw
    the rollout's revisions, the restore takes the revision back, and the restarted controller
    manager lists at an older one. (Without the restart its caches, ahead of the restored
    revision, resume their watches: the restarted API server accepts them, `restore._rewatch`.)"""
    model = build_model(load_scenario(RESTORE), parameters={"etcdRestoreRestartsComponents": True})
    trace: list[Action] = [SnapshotEtcd(), UserStep(0)]
    _deliver_all(model, trace)
    trace.append(RestoreEtcd())
    states = states_of(model, trace)
    assert all(act in actions(model, state) for act, state in zip(trace, states, strict=False))
    violation = first_violation(model, states[-1], select(["resource-versions-monotonic"]))
    assert violation is not None
    found = match(model, violation, trace)
    assert found is not None and found.name == "etcd-restore-rewinds-resource-versions"
    assert match(model, violation, [act for act in trace if not isinstance(act, RestoreEtcd)]) is None




def test_the_endpoints_controller_looping_after_a_restore_without_bump_is_upstream() -> None:
    model = build_model(load_scenario(RESTORE))
    states = states_of(model, SETTLES_AFTER_RESTORE)
    assert all(act in actions(model, state) for act, state in zip(SETTLES_AFTER_RESTORE, states, strict=False))
    violation = Violation(SETTLES, "the cluster did not settle within 5000 steps")
    found = match(model, violation, SETTLES_AFTER_RESTORE)
    assert found is not None and found.name == "etcd-restore-reissues-endpoints-version"
    # the same trace without the restore settles: nothing of the kind to recognize
    without = tuple(act for act in SETTLES_AFTER_RESTORE if not isinstance(act, RestoreEtcd))
    assert match(model, violation, without) is None


def test_stale_replicaset_lister_is_upstream_when_the_controller_crashes_after_the_create() -> None:
    """Trial 6's false alarm: the sync that creates the new ReplicaSet at full size is cut by a
    controller-manager crash after its first request (`CrashDuringReconcile`); what it wrote is the
    same stale-lister create, so the violation is the same upstream race."""
    model = _model()
    crashed = (*RACE[:3], CrashDuringReconcile(controller="deployment", key="default/web", sent=1))
    violation = _surge_violation(model, crashed)
    assert violation is not None and "ReplicaSets hold 2+2 = 4, more than replicas 2 + maxSurge 1" in violation.message
    found = match(model, violation, crashed)
    assert found is not None and found.name == "deployment-stale-replicaset-lister"
    # under a variant the trace must replay on the correct twin action by action, and restore.yaml
    # budgets no componentCrash: the crash is not enabled there, so the violation stays the variant's
    assert match(_model("rs-no-expectations"), violation, crashed) is None
