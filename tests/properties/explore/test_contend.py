"""Two instances contending for one object (`contend.py`) and the holds placed there (`hold.py`):
the lasting holds of the held policy, where contention is, the dual-scheduler race on FeastFlow
as written (by hand, action by action, and found by the perturbation engine)."""

from __future__ import annotations

from pathlib import Path

import attrs
from policy_runs import until_violation

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import expected_policy, run
from kubeprop.model.cluster.footprint import actor
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.component import Bind, Schedule
from kubeprop.model.state.actions import Deliver, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.contend import contended, kind_of
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.explore.hold import Delay, HeldPolicy, Hold, object_of, step_key
from kubeprop.properties.explore.perturb import run_perturb
from kubeprop.properties.registry import select

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"
P, Q = "default/web-1", "default/web-2"


def _lasting(*keys: str) -> HeldPolicy:
    fresh = frozenset(keys)
    return HeldPolicy(**attrs.asdict(expected_policy(), recurse=False), lasting=fresh, fresh=fresh)


def test_a_delay_holds_one_kind_of_step_on_one_object_whoever_takes_it() -> None:
    delay = Delay("Bind", P)
    assert step_key(Bind("scheduler", P)) == step_key(Bind("scheduler-2", P)) == delay.key
    assert step_key(Bind("scheduler", Q)) != delay.key and step_key(Schedule("scheduler", P, "w")) != delay.key
    assert object_of(Schedule("scheduler", P, "worker-1")) == ("pods", P)
    assert object_of(Reconcile("replicaset", "default/web")) is None and step_key(Tick(10)) is None


def test_a_lasting_hold_stays_across_the_users_steps_until_nothing_else_is_left() -> None:
    policy = _lasting(Delay("Bind", P).key)
    first, second, other = Bind("scheduler", P), Bind("scheduler-2", P), Bind("scheduler", Q)
    assert policy.choose([first, other]) == other  # the fair policy would bind P first
    assert policy.diverged
    policy.taken(other)
    assert policy.choose([first, second, UserStep(0)]) == UserStep(0)  # the user goes on; P still in flight
    policy.taken(UserStep(0))
    assert policy.choose([first, second]) == first  # released: nothing else is left
    assert not policy.lasting and not policy.void


def test_a_lasting_hold_released_before_it_changed_anything_is_void() -> None:
    informer = Hold.informer("scheduler", "pods", lasting=True).actor
    policy = _lasting(informer)
    step_ = Reconcile("replicaset", "default/web")
    assert policy.choose([step_]) == step_ and not policy.diverged
    delivery = Deliver("scheduler", "pods", 3)
    assert policy.choose([delivery]) == delivery
    assert policy.void


def test_kept_holds_are_compared_with_the_run_that_held_only_those() -> None:
    slow = "scheduler/scheduler"
    delay = Delay("Bind", P).key
    policy = HeldPolicy(**attrs.asdict(expected_policy(), recurse=False), held=frozenset({slow}),
                        lasting=frozenset({delay}), fresh=frozenset({delay}))
    schedule = Schedule("scheduler", Q, "worker-1")
    assert policy.choose([schedule, Bind("scheduler-2", Q)]) == Bind("scheduler-2", Q)
    assert not policy.diverged  # the scheduler slow alone chooses the same
    assert policy.choose([schedule, Bind("scheduler-2", P), Reconcile("replicaset", "a/b")]) == \
        Reconcile("replicaset", "a/b")
    assert policy.diverged  # that run would have bound P
    assert policy.choose([schedule, Bind("scheduler-2", P), UserStep(0)]) == schedule  # the slow one released
    assert policy.lasting and not policy.held


def test_contention_is_two_instances_of_one_kind_with_steps_on_one_object() -> None:
    mine = Schedule("scheduler", P, "worker-1")
    assert kind_of(actor(mine)) == "scheduler"
    assert contended(mine, [Schedule("scheduler-2", P, "worker-3")])
    assert contended(mine, [Bind("scheduler-2", P)])  # the other assumed it already
    assert not contended(mine, [Schedule("scheduler-2", Q, "worker-3"), Bind("scheduler", P)])
    assert not contended(Reconcile("replicaset", "default/web"), [Reconcile("deployment", "default/web")])


def test_one_scheduler_never_contends_on_the_expected_run() -> None:
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    state, policy = initial_state(model), expected_policy()
    for _ in range(400):
        enabled = actions(model, state)
        act = policy.choose(enabled)
        if act is None:
            break
        assert not contended(act, enabled), act
        policy.taken(act)
        state = step(model, state, act)


def _until(model: ClusterModel, state: ClusterState, policy: HeldPolicy, stop: str
           ) -> tuple[ClusterState, list[object]]:
    """Follow `policy` up to (not including) the first step of the actor `stop`."""
    taken: list[object] = []
    while True:
        act = policy.choose(actions(model, state))
        assert act is not None, f"the run ended before {stop} acted"
        if actor(act) == stop:
            return state, taken
        policy.taken(act)
        state = step(model, state, act)
        taken.append(act)


def test_dual_scheduler_on_feastflow_by_hand() -> None:
    """The race the engine finds, action by action: where both instances have the first backend at
    the head of their queues, scheduler-2 assumes it onto worker-3 (the scheduler slow) and its
    binding stays in flight; the first rollout goes on with scheduler-2 alone; once the control
    plane is quiet the scheduler assumes the same pod onto worker-1 (it sees worker-3 fuller), its
    binding in flight too, and its pod watch stays behind; the user scales the backend to 5 and
    scheduler-2, which still counts the pod on worker-3, puts both new backends on worker-1; at the
    end the scheduler's binding lands: worker-1 holds 450m of 400m."""
    model = build_model(load_scenario(None), variant="dual-scheduler")
    state, trace = initial_state(model), []
    policy = HeldPolicy(**attrs.asdict(expected_policy(), recurse=False))
    state, taken = _until(model, state, policy, "scheduler/scheduler")
    trace += taken
    pod = next(a.pod for a in actions(model, state) if isinstance(a, Schedule) and a.scheduler == "scheduler")
    assert Schedule("scheduler-2", pod, "worker-3") in actions(model, state)  # both have it at the head
    policy.held, policy.lasting = frozenset({"scheduler/scheduler"}), frozenset({Delay("Bind", pod).key})
    state, taken = _until(model, state, policy, "scheduler/scheduler")
    trace += taken
    assert dict(state.schedulers["scheduler-2"].assumed) == {pod: "worker-3"}
    assert any(isinstance(a, UserStep) for a in actions(model, state))  # quiet: the scale step is due
    act = policy.choose(actions(model, state))
    assert act == Schedule("scheduler", pod, "worker-1")
    policy.taken(act)
    state = step(model, state, act)
    trace.append(act)
    policy.lasting |= {Hold.informer("scheduler", "pods").actor}
    broken = until_violation(model, state, policy, select(["node-not-overcommitted"]), limit=600)
    assert broken.last == Bind("scheduler", pod)
    assert broken.violation.message == "node worker-1: pods request 450 cpu, allocatable is 400"
    assert run(model, initial_state(model), (*trace, *broken.trace)) == broken.state  # a trace of the model


def test_perturb_finds_dual_scheduler_on_feastflow_where_the_schedulers_contend() -> None:
    model = build_model(load_scenario(None), variant="dual-scheduler")
    config = EngineConfig(seed=0, budget_seconds=None, shrink=False)
    result = run_perturb(model, initial_state(model), config)
    assert result.violation is not None and result.violation.property in (
        "node-not-overcommitted", "scheduler-decisions-sound")
    assert "scheduler/scheduler slow" in result.stats.note and "delayed" in result.stats.note
    run(model, initial_state(model), result.trace)  # replays
    again = run_perturb(model, initial_state(model), config)
    assert again.trace == result.trace  # the same seed, the same trace


def test_the_state_bound_stops_the_search_before_the_contended_run() -> None:
    model = build_model(load_scenario(None), variant="dual-scheduler")
    config = EngineConfig(seed=0, budget_seconds=None, shrink=False, max_states=800)
    result = run_perturb(model, initial_state(model), config)
    assert result.violation is None and result.exit_reason == ExitReason.STATE_BOUND
    assert result.stats.distinct <= 800 + 1
