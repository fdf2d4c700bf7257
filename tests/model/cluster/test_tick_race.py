"""The clock's guard on work in flight remembers what the last tick left in flight (`TickRace`).

trial19 found a false alarm on the correct model (tests/model/data/inflight/fa1b.yaml): a pod's
readiness probe passed at 10 s, its status write (`SyncPodStatus`) and the watch events before it
stayed in flight while two ticks passed — each reached a timer (the probe's 5 s period, then the
kubectl deadline), which the old rule let pass — and `kubectl rollout status --timeout=30s` timed
out. Upstream the status manager writes at once and watch events arrive in milliseconds. The rule
now: after a tick, work in flight holds the clock until the environment acts (a user step, a fault:
work it starts may be in flight when a timer fires a millisecond later), and the work in flight at
the last tick holds it even then (`prompt_work.holds`).
"""

from __future__ import annotations

import json
from pathlib import Path

from kubeprop.model.cluster import prompt_work
from kubeprop.model.cluster.clock_guards import in_flight
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.footprint import Footprints
from kubeprop.model.cluster.footprint_universe import representatives
from kubeprop.model.cluster.informers import components
from kubeprop.model.cluster.prompt_work import TickRace, after_action, holds
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.actions import ProbeResult, SyncPodStatus
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import (
    Action,
    CrashComponent,
    Deliver,
    DropWatch,
    Relist,
    Tick,
    UserStep,
    action_from_json,
)
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, bfs
from kubeprop.properties.registry import select

DATA = Path(__file__).parents[1] / "data" / "inflight"
SYNC = SyncPodStatus("worker-1", "default/web-1")
EVENT = Deliver("controller-manager", "pods", 20)


def _trial_trace() -> tuple[ClusterModel, list[Action]]:
    model = build_model(load_scenario(DATA / "fa1b.yaml"))
    written = json.loads((DATA / "fa1b-trial19-actions.json").read_text(encoding="utf-8"))["actions"]
    return model, [action_from_json(a) for a in written]


def _states(model: ClusterModel, trace: list[Action]) -> list[ClusterState]:
    states = [initial_state(model)]
    for act in trace:
        assert act in actions(model, states[-1]), (len(states), act)
        states.append(step(model, states[-1], act))
    return states


def test_the_guard_holds_work_in_flight_since_the_last_tick() -> None:
    """No work in flight: never held. Before any tick (None) the old rule: held only where the tick
    reaches no timer. After a tick with no environment action since: held whatever the timers. After
    one: held while work in flight at the tick is still in flight, else as before any tick."""
    def reaches() -> bool:
        return True

    def reaches_none() -> bool:
        return False

    assert not holds(TickRace(), (), reaches_none)
    assert not holds(None, (SYNC,), reaches) and holds(None, (SYNC,), reaches_none)
    assert holds(TickRace(), (SYNC,), reaches)
    assert holds(TickRace(frozenset({SYNC}), True), (EVENT, SYNC), reaches)
    assert not holds(TickRace(frozenset({SYNC}), True), (EVENT,), reaches)
    assert holds(TickRace(frozenset({SYNC}), True), (EVENT,), reaches_none)


def test_an_action_taken_leaves_the_remembered_work_and_the_environment_frees_the_clock() -> None:
    """Taking remembered work drops it (a `SyncPodStatus` for the same pod later is new work); an
    environment action notes it; with nothing left and the environment acted, back to None. The
    order of two such actions does not matter (POR: they stay independent of each other)."""
    model = build_model(load_scenario(DATA / "fa1b.yaml"))
    state = initial_state(model)
    start = evolve(state, tick_race=TickRace(frozenset({SYNC, EVENT})))
    assert after_action(start, ProbeResult("worker-1", "default/web-1", "web", "readiness", True)) is start
    one = after_action(start, SYNC)
    assert one.tick_race == TickRace(frozenset({EVENT}))
    user = after_action(after_action(start, UserStep(1)), SYNC)
    assert user == after_action(after_action(start, SYNC), UserStep(1))
    assert user.tick_race == TickRace(frozenset({EVENT}), True)
    assert after_action(user, EVENT).tick_race is None
    assert after_action(start, Relist("scheduler", "pods")) is start


def test_the_trial_trace_is_refused_where_the_status_write_waits_a_second_tick() -> None:
    """fa1b's 44 steps: the first 41 still replay (the tick at step 40 follows the user's step); the
    second tick with the status write and the events in flight (step 42) is refused. On the old
    rule it was enabled: it reached the probe's next period."""
    model, trace = _trial_trace()
    states = _states(model, trace[:41])
    assert isinstance(trace[39], Tick) and isinstance(trace[40], ProbeResult) and isinstance(trace[41], Tick)
    last = states[-1]
    assert any(isinstance(a, SyncPodStatus) for a in actions(model, last))
    assert prompt_work.tick_reaches_timer(model, last)
    assert not [a for a in actions(model, last) if isinstance(a, Tick)]
    assert prompt_work.in_flight_holds_clock(model, last)


def _drained(model: ClusterModel, state: ClusterState) -> ClusterState:
    """`state` after the system's own work (no tick, probe, user step or environment action) is done,
    taking the first such action each time."""
    def own(act: Action) -> bool:
        return not isinstance(act, Tick | ProbeResult | UserStep) and type(act) not in prompt_work.environment_kinds()

    for _ in range(200):
        work = [a for a in actions(model, state) if own(a)]
        if not work:
            return state
        state = step(model, state, work[0])
    raise AssertionError("the system's work never drained")


def test_work_a_timer_caused_after_a_quiet_tick_holds_the_next_one() -> None:
    """The chain the narrower rule (hold only the work in flight at the last tick) leaves open: the
    trace's first 38 steps, every piece of the system's work done, a tick with nothing in flight
    (0 → 10 s), the readiness probe passing: its status write is in flight, but was not at that tick.
    The next tick reaches the probe's next period, and no environment action came: refused (the
    narrower rule took it, then one more with the pod's watch event in flight, and `rollout status`
    timed out at 30 s)."""
    model, trace = _trial_trace()
    state = _drained(model, _states(model, trace[:38])[-1])
    assert not list(in_flight(model, state)) and Tick(10) in actions(model, state)
    state = step(model, state, Tick(10))
    assert state.tick_race == TickRace()
    probe = next(a for a in actions(model, state) if isinstance(a, ProbeResult) and a.success)
    state = step(model, state, probe)
    assert [a for a in actions(model, state) if isinstance(a, SyncPodStatus)]
    assert prompt_work.tick_reaches_timer(model, state)
    assert Tick(10) not in actions(model, state)


def test_a_search_from_the_tick_finds_the_rollout_in_time() -> None:
    """A breadth-first search from the trace's state after its first tick (clock 10, the new pod
    started, its readiness probe due) never sees `kubectl rollout status` time out within its
    bounds: the old rule found the timeout at depth 4 (probe, tick, tick, the user's step)."""
    model, trace = _trial_trace()
    start = _states(model, trace[:40])[-1]
    assert start.clock == 10
    report = bfs(model, start, select(["workload-steps-succeed"]), Bounds(max_depth=6, max_states=1500))
    assert report.violation is None, report.violation


def test_every_action_that_changes_the_race_conflicts_with_tick() -> None:
    """POR: `Tick` reads and sets `tick_race`; every other action that changes it (the work in
    flight it lists, an environment action) must conflict with `Tick` through some token."""
    kinds = (*prompt_work.environment_kinds(), Deliver, Relist, *prompt_work.PROMPT_KUBELET_WORK)
    for path in (DATA / "fa1b.yaml", DATA.parent / "variants" / "web.yaml", DATA.parent / "variants" / "restore.yaml"):
        model = build_model(load_scenario(path))
        f = Footprints(model)
        tick = f.of(Tick(10))
        watchers = set(components(model))
        for rep in representatives(f):
            component = rep.key[2]
            if rep.kind in (Deliver, Relist, DropWatch) and component not in watchers:
                continue  # (a representative of no action: a component that watches nothing)
            if rep.kind in kinds:
                assert rep.footprint.conflicts(tick), (path.name, rep.key)
        assert f.of(CrashComponent("scheduler")).conflicts(tick)


def test_a_commands_own_deadline_is_not_a_timer_work_in_flight_may_race() -> None:
    """`kubectl set image` then `kubectl rollout status --timeout=10s` (tests/model/data/outages/
    rollout-10s.yaml, the default 10 s tick, no fault): right after the two steps the Deployment's
    event is in flight and the only timer within a tick is the command's deadline. The old rule let
    that tick pass (the user's steps are the environment's, which may race a timer), and the rollout
    timed out at 7 steps with the event never delivered."""
    model = build_model(load_scenario(Path(__file__).parents[1] / "data" / "outages" / "rollout-10s.yaml"))
    state = initial_state(model)
    for _ in range(2):
        while not any(isinstance(a, UserStep) for a in actions(model, state)):  # the cluster settles first
            state = step(model, state, next(a for a in actions(model, state) if not isinstance(a, Tick)))
        state = step(model, state, next(a for a in actions(model, state) if isinstance(a, UserStep)))
    assert any(isinstance(a, Deliver) and a.resource == "deployments.apps" for a in actions(model, state))
    assert prompt_work.tick_reaches_timer(model, state)  # the deadline, 10 s on
    assert not prompt_work.tick_reaches_race_timer(model, state)
    assert prompt_work.in_flight_holds_clock(model, state)
    assert not any(isinstance(a, Tick) for a in actions(model, state))
