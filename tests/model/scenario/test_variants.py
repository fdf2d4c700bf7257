"""Each bug-catalogue variant shows its violation; the correct model, driven the same way, does not.

The traces are driven deterministically (`settle` takes the first progress action) or found by a
small breadth-first search over a restricted action set; either way the same procedure runs on
the variant and on the correct model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from catalogue_searches import dual_search, rs_search

from kubeprop.model.api.objects import Deployment, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.kubelet.component import ProbeResult
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.scheduler.component import Schedule
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    Deliver,
    Heal,
    Partition,
    Quiesce,
    RestartComponent,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.explore.bfs import Bounds, bfs
from kubeprop.properties.registry import Property, Violation, first_violation, select

DATA = Path(__file__).parents[1] / "data" / "variants"


def make(scenario: str, variant: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)


def variant_and_correct(variant: str) -> pytest.MarkDecorator:
    """Run the test on `variant` (violated=True) and, driven the same way, on the correct model."""
    return pytest.mark.parametrize(("variant", "violated"), [(variant, True), ("correct", False)])


def settling(model: ClusterModel, state: ClusterState, names: list[str], **settle_options: Any) -> Violation | None:
    """The first violation of the named properties on the states a `settle` run from `state` passes."""
    props = select(names)
    for act in settle(model, state, **settle_options).trace:
        state = step(model, state, act)
        found = first_violation(model, state, props)
        if found is not None:
            return found
    return None


def settled(model: ClusterModel, **kw: object) -> ClusterState:
    return settle(model, initial_state(model), **kw).state  # type: ignore[arg-type]


def first_pods_node(state: ClusterState) -> str:
    return next(p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod))


def partitioned(model: ClusterModel) -> ClusterState:
    """The settled cluster, then the node of its first pod cut off and the cluster quiesced."""
    state = settled(model)
    return step(model, step(model, state, Partition(first_pods_node(state))), Quiesce())


def test_every_catalogue_controller_variant_is_registered() -> None:
    for name in ("rs-no-expectations", "endpoints-terminating", "endpoints-liveness", "nodelifecycle-crash",
                 "sts-split-brain", "rollout-fencepost", "scheduler-ignores-taints", "dual-scheduler"):
        assert name in VARIANTS


# --- rs-no-expectations: a stale pod cache without expectations over-creates ----------------------

@variant_and_correct("rs-no-expectations")
def test_rs_no_expectations(variant: str, violated: bool) -> None:
    model = make("web", variant, instantCaches=False)
    report = rs_search(model)
    assert (report.violation is not None) is violated
    if violated:
        assert len(report.trace) == 5
        assert "owns 3 active pods, spec.replicas is 2" in report.violation.message  # type: ignore[union-attr]
    else:
        assert report.complete


# --- endpoints-terminating: a terminating but Ready pod stays in the ready addresses --------------

@variant_and_correct("endpoints-terminating")
def test_endpoints_terminating(variant: str, violated: bool) -> None:
    model = make("web", variant, instantCaches=True)
    state = step(model, settled(model), UserStep(0))  # scale 2 → 1: one pod is deleted gracefully
    assert (settling(model, state, ["endpoints-ready-pods"]) is not None) is violated


# --- endpoints-liveness: endpoints follow liveness (containers running) instead of readiness ------

@variant_and_correct("endpoints-liveness")
def test_endpoints_liveness(variant: str, violated: bool) -> None:
    model = make("web", variant, instantCaches=True)
    state = settled(model)
    pod = next(p for p in state.store.list("pods") if isinstance(p, Pod))
    fail = ProbeResult(pod.spec.node_name, f"default/{pod.metadata.name}", "web", "readiness", False)
    assert fail in actions(model, state)
    state = step(model, state, fail)
    found = settling(model, state, ["endpoints-ready-pods"], avoid=(ProbeResult,))  # the probe keeps failing
    assert (found is not None) is violated


# --- nodelifecycle-crash: a crash between marking the node and its pods loses the pod marking -----

def _until(model: ClusterModel, state: ClusterState, done: Callable[[Action], bool]) -> ClusterState:
    """Drive like `settle` (no Heal) until an action satisfying `done` has been taken."""
    for _ in range(500):
        run = settle(model, state, max_steps=1, avoid=(Heal,))
        if not run.trace:
            raise AssertionError("stuck")
        state = run.state
        if done(run.trace[0]):
            return state
    raise AssertionError("not reached")


@variant_and_correct("nodelifecycle-crash")
def test_nodelifecycle_crash(variant: str, violated: bool) -> None:
    model = make("web", variant, instantCaches=True)
    state = partitioned(model)
    state = _until(model, state, lambda a: type(a).__name__ == "MonitorNodeHealth")
    state = step(model, state, CrashComponent("controller-manager"))
    state = step(model, state, RestartComponent("controller-manager"))
    found = settled_violation(model, state, select(["pods-on-unknown-nodes-not-ready"]), avoid=(Heal,))
    assert (found is not None) is violated


# --- sts-split-brain: a pod on an unreachable node is replaced before its kill is confirmed -------

@variant_and_correct("sts-split-brain")
def test_sts_split_brain(variant: str, violated: bool) -> None:
    model = make("db", variant, instantCaches=True)
    state = partitioned(model)
    found = settling(model, state, ["one-running-pod-per-identity", "read-write-once-volume-on-one-node"],
                     avoid=(Heal,), max_ticks=100)
    assert (found is not None) is violated
    if violated:
        assert found is not None and found.property == "one-running-pod-per-identity"


# --- rollout-fencepost: maxSurge and maxUnavailable both 0 — the rollout never finishes -----------

@variant_and_correct("rollout-fencepost")
def test_rollout_fencepost(variant: str, violated: bool) -> None:
    import attrs

    from kubeprop.model.api.objects import RollingUpdateDeployment
    from kubeprop.model.frozen import FrozenMap

    model = make("web", variant, instantCaches=True)
    state = settled(model)
    # maxSurge 0 and maxUnavailable 1% of 2 replicas: both resolve to 0 (validation only rejects literal zeros).
    d = next(x for x in state.store.list("deployments.apps") if isinstance(x, Deployment))
    rolling = RollingUpdateDeployment(max_surge=0, max_unavailable="1%")
    patched = attrs.evolve(d, spec=attrs.evolve(d.spec, strategy=attrs.evolve(d.spec.strategy, rolling_update=rolling)))
    from kubeprop.model.api.server import Request, handle

    result = handle(state.store, Request(verb="update", user="admin", obj=patched), model.api, state.clock)
    assert result.response.code == 200, result.response
    state = settle(model, attrs.evolve(state, store=result.store)).state
    state = step(model, state, UserStep(1))  # set image → a rollout
    found = settled_violation(model, state, select(["deployments-complete"]))
    assert (found is not None) is violated
    assert FrozenMap  # imported for readability of the patched objects above


# --- scheduler-ignores-taints: the scheduler binds onto a node whose taint the pod does not tolerate

@variant_and_correct("scheduler-ignores-taints")
def test_scheduler_ignores_taints(variant: str, violated: bool) -> None:
    model = make("tainted", variant, instantCaches=True)
    state = initial_state(model)
    assert (settling(model, state, ["bindings-respect-hard-constraints"]) is not None) is violated


# --- dual-scheduler: two schedulers without leader election over-commit a node --------------------

@variant_and_correct("dual-scheduler")
def test_dual_scheduler(variant: str, violated: bool) -> None:
    model = make("tight", variant, instantCaches=False)
    report = dual_search(model)
    assert (report.violation is not None) is violated
    if not violated:
        assert report.complete


def test_ticks_only_when_timers_pending() -> None:
    model = make("web", "correct", instantCaches=True)
    assert not any(isinstance(a, Tick) for a in actions(model, settled(model)))


# --- watch-time-travel: a restarted kubelet relists from a lagging watch cache and runs a deleted pod

def _drive_preferring(model: ClusterModel, state: ClusterState, away_from: str, props: tuple[Property, ...]
                      ) -> tuple[ClusterState, Violation | None]:
    """Progress actions, never delivering to the lagging watch cache; the scheduler places pods away
    from `away_from` and a kubelet starts pods before it reads further events (both legal orders)."""
    from kubeprop.model.cluster.drive import is_progress

    for _ in range(400):
        acts = [a for a in actions(model, state) if is_progress(a) and not isinstance(a, Tick)
                and not (isinstance(a, Deliver) and a.component == "watchcache")]
        acts = acts or [a for a in actions(model, state) if isinstance(a, Tick)]
        if not acts:
            return state, None
        preferred = [a for a in acts if isinstance(a, Schedule) and a.node != away_from] or [
            a for a in acts if type(a).__name__ == "StartPod"] or acts
        state = step(model, state, preferred[0])
        found = first_violation(model, state, props)
        if found is not None:
            return state, found
    return state, None


@variant_and_correct("watch-time-travel")
def test_watch_time_travel(variant: str, violated: bool) -> None:
    # a hostPath volume (`immediate`): the zonal default is a CSI volume, which the attach/detach controller keeps
    # off the restarted node while the new db-0 holds it (Multi-Attach), so the stale pod could not start there
    model = make("db-restart", variant, instantCaches=False, defaultStorageClass="immediate")
    state = settled(model)
    node = first_pods_node(state)
    identity = select(["one-running-pod-per-identity"])
    state, found = _drive_preferring(model, step(model, state, UserStep(0)), node, identity)  # delete db-0
    assert found is None
    state = step(model, state, CrashComponent(f"kubelet/{node}"))
    state = step(model, state, RestartComponent(f"kubelet/{node}"))
    assert (first_violation(model, state, select(["resource-versions-monotonic"])) is not None) is violated
    _, found = _drive_preferring(model, state, node, identity)
    assert (found is not None) is violated


# --- endpoints-stale-cache: a readiness flap compared against the controller's own stale write -----

def _probe(node: str, success: bool) -> Callable[[Action], bool]:
    return lambda a: isinstance(a, ProbeResult) and a.node == node and a.success is success


def _named(name: str, node: str) -> Callable[[Action], bool]:
    return lambda a: type(a).__name__ == name and getattr(a, "node", None) == node


def _deliver(component: str, resource: str) -> Callable[[Action], bool]:
    return lambda a: isinstance(a, Deliver) and a.component == component and a.resource == resource


def _endpoints_sync(a: Action) -> bool:
    return isinstance(a, Reconcile) and a.controller == "endpoints"


def _flap(model: ClusterModel, state: ClusterState, node: str, ready_first: bool
          ) -> tuple[ClusterState, Violation | None]:
    """Two readiness flips of the pod on `node`, each written by the kubelet and seen by the
    Endpoints controller, while the controller's Endpoints cache lags its own first write; then the
    Endpoints event arrives. Returns the state and the first `endpoints-ready-pods` violation."""
    props = select(["endpoints-ready-pods"])
    steps: list[Callable[[Action], bool]] = []
    for success in (ready_first, not ready_first):
        steps += [_probe(node, success), _named("SyncPodStatus", node), _deliver("controller-manager", "pods"),
                  _endpoints_sync, _deliver(f"kubelet/{node}", "pods")]
    steps.append(_deliver("controller-manager", "endpoints"))
    found = None
    for pred in steps:
        state = step(model, state, next(a for a in actions(model, state) if pred(a)))
        found = found or first_violation(model, state, props)
    return state, found


@variant_and_correct("endpoints-stale-cache")
def test_endpoints_stale_cache_ready_then_not_ready(variant: str, violated: bool) -> None:
    """kubernetes#125638: the pod turns Ready (written), then NotReady again before the
    controller's cache has its write: compared with the stale Endpoints (pod not ready) the
    desired state looks written, the update is skipped, and the pod stays in ready addresses.
    On `web-flaky` (failureThreshold 1): with 3 the NotReady comes 20 s after the Ready at the soonest."""
    model = make("web-flaky", variant, instantCaches=False)
    state = settled(model)
    node = "worker-1"
    pod = next(p for p in state.store.list("pods") if isinstance(p, Pod) and p.spec.node_name == node)
    unready = ProbeResult(node, f"default/{pod.metadata.name}", "web", "readiness", False)
    state = settle(model, step(model, state, unready), avoid=(ProbeResult,)).state
    state, found = _flap(model, state, node, ready_first=True)
    assert (found is not None) is violated
    if violated:
        assert "lists" in found.message and "is not Ready" in found.message  # type: ignore[union-attr]
    # the correct controller retries until its cache has its own write, then converges
    assert (settled_violation(model, state, select(["endpoints-match-ready-pods"]), avoid=(ProbeResult,))
            is not None) is violated


@variant_and_correct("endpoints-stale-cache")
def test_endpoints_stale_cache_not_ready_then_ready(variant: str, violated: bool) -> None:
    """The other direction: NotReady (written), Ready again before the cache caught up; the pod
    stays out of the ready addresses forever (`endpoints-match-ready-pods`)."""
    model = make("web", variant, instantCaches=False)
    state, _ = _flap(model, settled(model), "worker-1", ready_first=False)
    found = settled_violation(model, state, select(["endpoints-match-ready-pods"]), avoid=(ProbeResult,))
    assert (found is not None) is violated


def _endpoints_flap_actions(a: Action) -> bool:
    """The Endpoints controller, its pod/endpoints deliveries, and worker-1's readiness and status."""
    if isinstance(a, Reconcile):
        return a.controller == "endpoints"
    if isinstance(a, Deliver):
        return (a.component == "controller-manager" and a.resource in ("pods", "endpoints")) or (
            a.component == "kubelet/worker-1" and a.resource == "pods")
    if isinstance(a, ProbeResult):
        return a.node == "worker-1"
    return type(a).__name__ == "SyncPodStatus" and getattr(a, "node", "") == "worker-1"


@variant_and_correct("endpoints-stale-cache")
def test_endpoints_stale_cache_bfs(variant: str, violated: bool) -> None:
    """Every interleaving of readiness flaps, status writes, deliveries and syncs to depth 16 from
    the settled cluster: the variant lists a NotReady pod as ready (16 steps), the correct model
    never does."""
    model = make("web-flaky", variant, instantCaches=False)
    report = bfs(model, settled(model), select(["endpoints-ready-pods"]), Bounds(max_depth=16),
                 action_filter=_endpoints_flap_actions)
    assert (report.violation is not None) is violated
    if violated:
        assert len(report.trace) == 16
