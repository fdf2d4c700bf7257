"""The taint eviction controller's node events (`kubeprop.model.controllers.nodelifecycle_events`),
against upstream `pkg/controller/tainteviction/taint_eviction.go` (v1.33) NodeUpdated, handleNodeUpdate
and processPodOnNode: a node's NoExecute taints going cancel the work of its pods, finished work
included, and new taints process them again. The model cleaned this memory only when a node lifecycle
action saved it: a node untainted and tainted again with no such action in between kept a finished
work's marker (the pod was never evicted again) and a running timer its old time (the pod went early).

Each trace is driven by hand: a user's `kubectl taint` steps are updates whose events reach the
controller manager's hooks (instant caches), with no node lifecycle action between them."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
from cluster_harness import api_seen, make_model
from nodelifecycle_harness import POD, at, node, pod, running_pod, step

from kubeprop.counterexamples.fingerprint import digest
from kubeprop.model.api.objects import Taint, Toleration
from kubeprop.model.api.server import Request
from kubeprop.model.cluster import compose
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.controllers import nodelifecycle_health as health
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up, view

DEDICATED = (Taint(key="dedicated", effect="NoExecute"),)
OTHER = (Taint(key="other", effect="NoExecute"),)
DATA = Path(__file__).resolve().parents[1] / "data"


def hooked() -> ClusterModel:
    """The hand-driving model with the composition's hooks (the node event handler among them)."""
    return make_model(hooks=compose.HOOKS)


def user_taints(model: ClusterModel, state: ClusterState, taints: tuple[Taint, ...]) -> ClusterState:
    """`kubectl taint` on worker-1: its NoExecute taints become `taints`; the event reaches the hooks."""
    n = node(state)
    kept = tuple(t for t in n.spec.taints if t.effect != "NoExecute")
    obj = attrs.evolve(n, spec=attrs.evolve(n.spec, taints=kept + taints))
    return api_seen(state, model, Request(verb="update", user=ADMIN, obj=obj))


def evicted(model: ClusterModel, tolerations: tuple[Toleration, ...] = ()) -> ClusterState:
    """web on worker-1, which a user taints NoExecute; the controller deletes web (it now terminates)."""
    state = user_taints(model, running_pod(model, tolerations), DEDICATED)
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp is not None
    assert nlc.memory(state).evictions[POD].evicted == pod(state).metadata.uid
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, state))
    return state


def test_taints_gone_and_back_evict_a_terminating_pod_again() -> None:
    """taint, evict, untaint, retaint: handleNodeUpdate cancels the finished work when the taints go
    (nothing to cancel upstream: it left the queue), and processPodOnNode adds new work when they come
    back; the second DELETE of the terminating pod is accepted."""
    model = hooked()
    state = user_taints(model, evicted(model), ())
    assert POD not in nlc.memory(state).evictions
    state = user_taints(model, state, DEDICATED)
    assert list(nlc.enabled(model, state)) == [nlc.TaintEvictPod(POD)]
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert nlc.memory(state).evictions[POD].evicted == pod(state).metadata.uid


def test_taints_gone_and_back_try_a_dropped_eviction_again() -> None:
    """taint, five failed tries (the work is dropped), untaint, retaint: the pod is evicted."""
    model = hooked()
    state = user_taints(model, running_pod(model), DEDICATED)
    for _ in range(health.EVICTION_TRIES):
        failing = attrs.evolve(state, armed_failures=state.armed_failures.set(CONTROLLER_MANAGER, 500))
        state = step(model, failing, nlc.TaintEvictPod(POD))
    assert nlc.memory(state).evictions[POD].evicted
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, state))
    state = user_taints(model, user_taints(model, state, ()), DEDICATED)
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp is not None


def test_taints_gone_and_back_restart_a_running_timer() -> None:
    """web tolerates `dedicated` for 300 s: tainted at 0 its timer fires at 300; untainted and
    tainted again at 100, the old work is cancelled and the new one fires at 400."""
    model = hooked()
    tolerate = Toleration(key="dedicated", operator="Exists", effect="NoExecute", toleration_seconds=300)
    state = user_taints(model, running_pod(model, (tolerate,)), DEDICATED)
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    assert nlc.memory(state).evictions[POD].fire_at == 300
    state = user_taints(model, user_taints(model, at(state, 100), ()), DEDICATED)
    assert POD not in nlc.memory(state).evictions
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    assert nlc.memory(state).evictions[POD].fire_at == 400
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, 300)))


def test_changed_taints_process_a_terminating_pod_again() -> None:
    """not-ready ↔ unreachable, or any change of the NoExecute taints: processPodOnNode runs for every
    pod on the node, and a pod whose work finished gets a new one (a second DELETE)."""
    model = hooked()
    state = user_taints(model, evicted(model), OTHER)
    assert list(nlc.enabled(model, state)) == [nlc.TaintEvictPod(POD)]


def test_an_update_that_leaves_the_noexecute_taints_alone_changes_nothing() -> None:
    """NodeUpdated compares the NoExecute taints only: a NoSchedule taint added (or a heartbeat, a
    condition) queues nothing, and the finished work's marker stays."""
    model = hooked()
    state = evicted(model)
    n = node(state)
    noschedule = Taint(key="maintenance", effect="NoSchedule")
    after = api_seen(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        n, spec=attrs.evolve(n.spec, taints=(*n.spec.taints, noschedule)))))
    assert nlc.memory(after) is nlc.memory(state)
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, after))


def test_a_change_keeps_an_earlier_timer_and_cancels_for_a_toleration_for_ever() -> None:
    """processPodOnNode on new taints: a work created earlier stays when the pod still tolerates them
    for a while; it is cancelled when the pod tolerates them for ever."""
    model = hooked()
    for_a_while = Toleration(operator="Exists", effect="NoExecute", toleration_seconds=300)
    state = user_taints(model, running_pod(model, (for_a_while,)), DEDICATED)
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    work = nlc.memory(state).evictions[POD]
    assert nlc.memory(user_taints(model, at(state, 100), OTHER)).evictions[POD] == work
    forever = Toleration(key="other", operator="Exists", effect="NoExecute")
    state = user_taints(model, running_pod(model, (forever, for_a_while)), DEDICATED)
    state = step(model, state, nlc.ScheduleTaintEviction(POD))
    state = user_taints(model, state, OTHER)
    assert POD not in nlc.memory(state).evictions
    assert list(nlc.enabled(model, state)) == []


PUSHED = {"Tick", "Partition", "TaintNode", "MonitorNodeHealth"}
"""What the runs below take half the time when enabled, so that nodes get tainted."""
HELD_BACK = {"Heal", "Quiesce", "ProbeResult"}


def test_the_known_taints_follow_the_controller_managers_cache() -> None:
    """`tainted` (upstream's taintedNodes) is what the controller manager's cache shows whenever it is
    up and started, along seeded random runs of web.yaml with lagging caches (deliveries, relists, a
    partition that taints the node, a crash and restart of the controller manager)."""
    model = compose.build_model(load_scenario(DATA / "variants" / "web.yaml"), parameters={"instantCaches": False})
    seen_tainted = 0
    for seed in range(6):
        rng = random.Random(seed)
        state = compose.initial_state(model)
        for _ in range(400):
            acts = [a for a in compose.actions(model, state) if type(a).__name__ not in HELD_BACK]
            if not acts:
                break
            pushed = [a for a in acts if type(a).__name__ in PUSHED]
            state = compose.step(model, state, rng.choice(pushed if pushed and rng.random() < 0.5 else acts))
            mem = nlc.memory(state)
            if is_up(state, CONTROLLER_MANAGER) and mem.started_at is not None:
                cached = health.known_taints(view(model, state, CONTROLLER_MANAGER).list("nodes"))
                assert mem.tainted == cached, (seed, state.clock)
                seen_tainted += bool(cached)
    assert seen_tainted > 100, "few states had a tainted node: the check was nearly vacuous"


def test_the_known_taints_are_left_out_of_equality_and_fingerprints() -> None:
    """`tainted` is a function of the cache (above): states that differ only there are one state, and a
    recorded trace keeps its fingerprints."""
    n = node(running_pod(hooked()))
    plain = health.initial_nodelifecycle_memory(0)
    known = health.initial_nodelifecycle_memory(0, [attrs.evolve(n, spec=attrs.evolve(n.spec, taints=DEDICATED))])
    assert known.tainted == {n.metadata.name: DEDICATED}
    assert known == plain and hash(known) == hash(plain) and digest(known) == digest(plain)
