"""A crashed process comes back within its bounded outage (`kubeprop.model.cluster.outages`): the
ninth user trial's false alarm (F1), the bound of each kind of process, a kubelet whose node is down,
and the enabled-actions cache and the footprints along runs that reach the bounds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from commuting import assert_commute, independent_pairs

from kubeprop.counterexamples.api import check
from kubeprop.model.cluster import compose
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.cluster.outages import max_outage, outage_holds_clock, restart_deadline
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    CrashNode,
    Quiesce,
    RestartComponent,
    RestartNode,
    Tick,
    UserStep,
)
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import EngineConfig

DATA = Path(__file__).parents[1] / "data" / "outages"
DAY = 86_400


def _ticks(model: ClusterModel, state: ClusterState) -> tuple[ClusterState, list[int]]:
    """Take `Tick` while it is enabled (nothing else): the state where the clock stops, and each tick's length."""
    lengths: list[int] = []
    while (tick := next((a for a in actions(model, state) if isinstance(a, Tick)), None)) is not None:
        assert len(lengths) < 100, "the clock ran away"
        lengths.append(tick.seconds)
        state = step(model, state, tick)
    return state, lengths


def _crashed_and_waiting(model: ClusterModel) -> ClusterState:
    """The trial's start: the controller manager crashes first, then the user sets the image and
    waits (`rollout status --timeout=300s`: a timer)."""
    state = step(model, initial_state(model), CrashComponent(CONTROLLER_MANAGER))
    for index in (0, 1):
        assert UserStep(index) in actions(model, state)
        state = step(model, state, UserStep(index))
    return state


def test_the_trials_outage_ends_at_the_controller_managers_bound() -> None:
    """F1 of trial 9: crashed at 0 s, the controller manager stayed down for 30 ticks and the
    rollout's 300 s timeout passed. Now the clock stops at its bound (20 s: the leader lease and a
    retry); past it the only move left is its restart, after which the rollout completes in time."""
    model = build_model(load_scenario(DATA / "shop-rollout.yaml"))
    state, lengths = _ticks(model, _crashed_and_waiting(model))
    assert lengths == [10, 10] and state.clock == 20 == max_outage(model, CONTROLLER_MANAGER)
    assert outage_holds_clock(model, state)
    assert set(actions(model, state)) == {RestartComponent(CONTROLLER_MANAGER), Quiesce()}
    done = settle(model, step(model, state, RestartComponent(CONTROLLER_MANAGER)), avoid=(UserStep,)).state
    done = settle(model, step(model, done, UserStep(1)) if UserStep(1) in actions(model, done) else done).state
    assert done.workload_next == 2 and not done.workload_errors and not done.down


def test_the_trials_scenario_is_clean() -> None:
    """The trimmed trial scenario through the whole `check` of its workload's properties: the correct
    model, the default strategy from the initial state, bounded in states and runs, one lane: nothing
    found but known upstream behaviour (`kubeprop check` prints that apart and exits 0)."""
    report = check(DATA / "shop-rollout.yaml", properties=["workload-steps-succeed", "deployments-complete"],
                   bounds=Bounds(max_states=1000), budget=None, config=EngineConfig(runs=40, workers=1))
    assert [d.violation for d in report.found if d.upstream is None] == []
    assert report.stats is not None and report.stats.steps > 0


def _kinds_model(**parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / "kinds.yaml"), parameters={
        "controllerManagerMaxOutageSeconds": DAY, **parameters})  # (the controller manager down keeps it quiet)


@pytest.mark.parametrize(("component", "parameter"), [
    ("scheduler", "schedulerMaxOutageSeconds"), ("kubelet/worker-1", "kubeletMaxOutageSeconds"),
    ("etcd/etcd-1", "etcdMemberMaxOutageSeconds"),
])
@pytest.mark.parametrize("bound", [None, 15])
def test_each_kind_of_process_is_back_by_its_bound(component: str, parameter: str, bound: int | None) -> None:
    """Crashed 10 s into an outage of the controller manager (bounded by a day here), each kind of
    process holds the clock at its crash time + its bound (its default, then 15 s: a tick shortened
    to land on it), and only there; restarted, the clock moves on."""
    model = _kinds_model(**({parameter: bound} if bound is not None else {}))
    expected = bound if bound is not None else int(PARAMETERS[parameter])
    state = _crashed_and_waiting(model)
    state = step(model, state, Tick(10))
    crashed = step(model, state, CrashComponent(component))
    assert crashed.crashed_at[component] == 10 and max_outage(model, component) == expected
    stopped, lengths = _ticks(model, crashed)
    assert stopped.clock == 10 + expected and sum(lengths) == expected and all(0 < n <= 10 for n in lengths)
    assert restart_deadline(model, stopped) == stopped.clock and outage_holds_clock(model, stopped)
    restarted = step(model, stopped, RestartComponent(component))
    assert component not in restarted.crashed_at and Tick(10) in actions(model, restarted)


def test_a_kubelet_whose_node_is_down_waits_for_the_node() -> None:
    """A kubelet crashed, then its node: the kubelet cannot restart before its node, whose recovery
    is the environment's choice (no bound), so time passes; the node back, the kubelet's bound
    (passed already) holds the clock until it is restarted."""
    model = _kinds_model()
    state = step(model, _crashed_and_waiting(model), CrashComponent("kubelet/worker-1"))
    state = step(model, state, CrashNode("worker-1"))
    assert RestartComponent("kubelet/worker-1") not in actions(model, state)
    later, _ = _ticks(model, step(model, state, Tick(10)))  # (the rollout's timeout ends the ticks)
    assert later.clock > int(PARAMETERS["kubeletMaxOutageSeconds"])
    assert restart_deadline(model, later) == DAY  # (the controller manager's only)
    booted = step(model, later, RestartNode("worker-1"))
    assert outage_holds_clock(model, booted) and not any(isinstance(a, Tick) for a in actions(model, booted))
    assert RestartComponent("kubelet/worker-1") in actions(model, booted)


def _bound_holds(model: ClusterModel, state: ClusterState) -> None:
    due = restart_deadline(model, state)
    assert due is None or state.clock <= due, (state.clock, dict(state.crashed_at))
    assert set(state.crashed_at) <= state.down


def _plain(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    return tuple(a for component in compose.COMPONENTS for a in component.enabled(model, state))


@pytest.mark.parametrize("parameters", [{}, {"controllerManagerMaxOutageSeconds": 15, "kubeletMaxOutageSeconds": 7}])
def test_runs_to_the_bounds_keep_the_cache_and_the_footprints_sound(parameters: dict[str, object]) -> None:
    """Random runs that crash processes and tick often (so they reach the bounds, shortened ticks
    included): the bound holds at every state, the enabled-actions cache answers what `actions`
    answers, and the actions the footprints call independent commute."""
    model = build_model(load_scenario(DATA / "kinds.yaml"), parameters=parameters or None)
    cache, footprints, rng = EnabledCache(model), Footprints(model), random.Random(9)
    held = checked = 0
    for _ in range(6):
        state = initial_state(model)
        for _ in range(60):
            enabled = _plain(model, state)
            assert cache.actions(state) == enabled
            _bound_holds(model, state)
            held += outage_holds_clock(model, state)
            pairs = independent_pairs(footprints, enabled)
            checked += assert_commute(model, state, rng.sample(pairs, min(3, len(pairs))))
            if not enabled:
                break
            ticks = [a for a in enabled if isinstance(a, Tick | CrashComponent)]
            pick = ticks if ticks and rng.random() < 0.5 else list(enabled)
            state = step(model, state, pick[rng.randrange(len(pick))])
    assert held > 0 and checked > 20


def test_tick_reads_the_crash_times() -> None:
    """`Tick`'s guard and length read every process's crash time (and whether a kubelet's node is
    down), which a crash or restart of any process writes: never independent of `Tick`."""
    model = build_model(load_scenario(DATA / "kinds.yaml"))
    footprints = Footprints(model)
    reads = footprints.of(Tick(10)).reads
    for component in ("controller-manager", "scheduler", "kubelet/worker-1", "etcd/etcd-1"):
        assert f"crashed:{component}" in reads and f"crashed:{component}" in footprints.of(
            CrashComponent(component)).writes
        assert not footprints.independent(Tick(10), RestartComponent(component))
    assert {"up:node/worker-1", "up:node/worker-2"} <= reads
