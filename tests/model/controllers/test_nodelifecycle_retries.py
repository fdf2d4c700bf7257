"""The taint eviction work's tries, against upstream `pkg/controller/tainteviction/taint_eviction.go`
(v1.33) deletePodHandler — `for i := 0; i < retries; i++` over addConditionAndDeletePod, 10 ms apart,
`retries` = 5 — and `timed_workers.go` getWrappedWorkerFunc, which deletes the work's key when the work
returns, error or not: a pod whose eviction fails five times stays on its tainted node until a new event
(its node's NoExecute taints change, another pod under its name). The model retried such a work for
ever while the pod stayed on a tainted node."""

from __future__ import annotations

import attrs
from cluster_harness import api, make_model
from nodelifecycle_harness import NODE, POD, at, node, pod, running_pod, step

from kubeprop.counterexamples.fingerprint import digest
from kubeprop.model.api.objects import Taint
from kubeprop.model.api.server import Request
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.controllers import nodelifecycle_health as health
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState


def tainted(model: ClusterModel, taints: tuple[Taint, ...] = (Taint(key="dedicated", effect="NoExecute"),)
            ) -> ClusterState:
    """web runs on worker-1, which a user taints NoExecute: web tolerates nothing, its work fires now."""
    state = running_pod(model)
    n = node(state)
    return api(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(n, spec=attrs.evolve(n.spec,
                                                                                                     taints=taints))))


def failing(state: ClusterState) -> ClusterState:
    """The controller manager's next request fails (500)."""
    return attrs.evolve(state, armed_failures=state.armed_failures.set(CONTROLLER_MANAGER, 500))


def test_five_failed_tries_drop_the_work_and_the_pod_stays() -> None:
    model = make_model()
    state = tainted(model)
    uid = pod(state).metadata.uid
    for tries in range(1, health.EVICTION_TRIES):
        state = step(model, failing(state), nlc.TaintEvictPod(POD))
        entry = nlc.memory(state).evictions[POD]
        assert (entry.tries, entry.evicted) == (tries, "")
        assert health.blocks_tick(model, state), "the next try comes before the clock moves"
    state = step(model, failing(state), nlc.TaintEvictPod(POD))
    assert nlc.memory(state).evictions[POD] == health.ScheduledEviction(NODE, state.clock, evicted=uid)
    assert pod(state).metadata.deletion_timestamp is None
    assert nlc.TaintEvictPod(POD) not in list(nlc.enabled(model, at(state, state.clock + 600)))
    assert not health.blocks_tick(model, state)


def test_a_try_that_succeeds_after_failures_deletes_the_pod() -> None:
    model = make_model()
    state = tainted(model)
    for _ in range(health.EVICTION_TRIES - 1):
        state = step(model, failing(state), nlc.TaintEvictPod(POD))
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp is not None
    entry = nlc.memory(state).evictions[POD]
    assert (entry.tries, entry.evicted) == (0, pod(state).metadata.uid)
    assert not health.blocks_tick(model, state)


def test_a_new_taint_after_the_drop_is_a_new_event() -> None:
    """handleNodeUpdate: the node's NoExecute taints change (here they go, then come back): the
    dropped work's marker goes once the controller has seen the first change, and the pod is processed
    again."""
    model = make_model()
    state = tainted(model)
    for _ in range(health.EVICTION_TRIES):
        state = step(model, failing(state), nlc.TaintEvictPod(POD))
    n = node(state)
    state = api(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(n, spec=attrs.evolve(n.spec,
                                                                                                       taints=()))))
    seen = health.gc_memory(model, state, nlc.memory(state))  # what any step of the controller keeps
    assert POD not in seen.evictions
    state = attrs.evolve(state, controllers=state.controllers.set(nlc.NAME, seen))
    n = node(state)
    again = (Taint(key="dedicated", effect="NoExecute"),)
    state = api(state, model, Request(verb="update", user=ADMIN, obj=attrs.evolve(n, spec=attrs.evolve(n.spec,
                                                                                                       taints=again))))
    state = step(model, state, nlc.TaintEvictPod(POD))
    assert pod(state).metadata.deletion_timestamp is not None


def test_a_pod_gone_ends_the_work_without_counting_a_try() -> None:
    model = make_model()
    state = tainted(model)
    state = step(model, failing(state), nlc.TaintEvictPod(POD))
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web",
                                      grace_period_seconds=0))
    assert POD not in health.gc_memory(model, state, nlc.memory(state)).evictions


def test_the_tries_field_is_left_out_of_fingerprints_while_zero() -> None:
    plain = health.ScheduledEviction(NODE, 30)
    assert digest(plain) == digest(attrs.evolve(plain, tries=0))
    assert digest(plain) != digest(attrs.evolve(plain, tries=1))
