"""Regression: the node lifecycle controller's taint writes retry a 409 Conflict from a fresh read
(`pkg/controller/controller_utils.go` AddOrUpdateTaintOnNode: RetryOnConflict(UpdateTaintBackoff),
the first GET from the cache, a retry from etcd). Before, a TaintNode from a stale cache failed and
its zone token was spent, so the NoExecute taint — and every eviction after it — came one rate
limiter token (10 s) late: the seed's "replaced within 6 minutes" took 370 s with informer lag."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashNode, Deliver, RestartNode
from kubeprop.properties.metrics_run import observe

DATA = Path(__file__).parents[1] / "data" / "variants" / "node-loss.yaml"


def test_taint_from_a_stale_cache_is_retried_and_written() -> None:
    model = build_model(load_scenario(DATA))
    state = step(model, settle(model, initial_state(model)).state, CrashNode("worker-1"))
    # run fairly until the no-schedule taint is written but not yet delivered to the controller manager
    while nlc.SyncNoScheduleTaints("worker-1") not in actions(model, state):
        state = step(model, state, settle(model, state, max_steps=1, avoid=(RestartNode,)).trace[0])
    state = step(model, state, nlc.SyncNoScheduleTaints("worker-1"))
    assert any(isinstance(a, Deliver) and a.component == "controller-manager" for a in actions(model, state))
    run = observe(model, state, [nlc.TaintNode("worker-1")])
    assert [c.code for c in run.calls[0]] == [409, 200], "the stale write conflicts, the fresh retry succeeds"
    node = run.states[-1].store.get(ObjectKey("nodes", "", "worker-1"))
    assert isinstance(node, Node)
    assert {(t.key, t.effect) for t in node.spec.taints} >= {
        ("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/unreachable", "NoSchedule")}
